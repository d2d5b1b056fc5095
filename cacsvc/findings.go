package cacsvc

import (
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/notes"
)

// noteFindingEvidence maps the numeric findings of notes to the evidence the CDI rules read:
// the name they know it by, the kind and the unit.
var noteFindingEvidence = map[string]struct{ kind, name, unit string }{
	"lvef":       {claim.KindMeasurement, "ejection fraction", "%"},
	"egfr":       {claim.KindLab, "eGFR", "mL/min/1.73m2"},
	"creatinine": {claim.KindLab, "creatinine", "mg/dL"},
	"bmi":        {claim.KindMeasurement, "BMI", "kg/m2"},
}

// period finds "over the last year", "for the past 6 months" after a finding: the value then
// stands for that span.
var period = regexp.MustCompile(`(?i)^[^.;\n]{0,40}?\b(?:over|for|during|in|throughout)\s+the\s+(?:last|past|prior|preceding)\s+(year|(\d{1,2})\s+months?|(\d)\s+years?)`)

var (
	readerOnce sync.Once
	sharedRd   *notes.Reader
	readerErr  error
)

// defaultReader is the note reader of the embedded rules, compiled once for the process.
func defaultReader() (*notes.Reader, error) {
	readerOnce.Do(func() { sharedRd, readerErr = notes.DefaultReader() })
	return sharedRd, readerErr
}

// NoteEvidence reads the notes of an encounter (evidence of kind note) and returns their
// numeric findings — an echo's ejection fraction, eGFR or creatinine written in a progress
// note, a BMI — as evidence the CDI rules can cite. Each item's source names the note, its
// author role and the words, with their byte offsets ("note evidence[2], echo report by
// physician [118:133]: \"LVEF 25-30 %\""), so a query quotes the record. A range gives its
// upper value (the conservative reading); a value said to hold "over the last year" is also
// placed at the start of that span. Notes without a time give none: a finding needs one.
func NoteEvidence(enc *claim.Encounter) []claim.Evidence {
	reader, err := defaultReader()
	if err != nil {
		return nil
	}
	var out []claim.Evidence
	for i, ev := range enc.Evidence {
		if ev.Kind != claim.KindNote || ev.Text == "" || ev.Time.IsZero() {
			continue
		}
		d := reader.Read(notes.Note{ID: fmt.Sprintf("evidence[%d]", i), Type: ev.NoteType, AuthorRole: ev.AuthorRole, Time: ev.Time, Text: ev.Text})
		for _, f := range d.Findings {
			m, ok := noteFindingEvidence[f.Name]
			if !ok {
				continue
			}
			who := ev.NoteType
			if who == "" {
				who = "note"
			}
			if ev.AuthorRole != "" {
				who += " by " + ev.AuthorRole
			}
			src := fmt.Sprintf("note evidence[%d], %s [%d:%d]: %q", i, who, f.Start, f.End, f.Text)
			item := claim.Evidence{Kind: m.kind, Name: m.name, Value: claim.Number(f.High), Unit: m.unit, Time: ev.Time,
				Source: src, AuthorRole: ev.AuthorRole, NoteType: ev.NoteType}
			out = append(out, item)
			if p := period.FindStringSubmatch(ev.Text[f.End:]); p != nil {
				months := 12
				switch {
				case p[2] != "":
					months, _ = strconv.Atoi(p[2])
				case p[3] != "":
					y, _ := strconv.Atoi(p[3])
					months = 12 * y
				}
				earlier := item
				earlier.Time = ev.Time.AddDate(0, -months, 0).Add(24 * time.Hour)
				earlier.Source = src + ` — stated for the period "` + trimPeriod(p[0]) + `"`
				out = append(out, earlier)
			}
		}
	}
	return out
}

func trimPeriod(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == ',') {
		s = s[1:]
	}
	return s
}
