package cdi

import (
	"slices"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// TestLintClinicalValidation: the linter knows clinical validation queries. One citing what the
// record shows and offering to confirm or rule out the documented diagnosis passes; one citing
// only the documentation of the diagnosis (or a note stating it) breaks Q1; one offering only
// to confirm, or only to rule out, leads (Q8).
func TestLintClinicalValidation(t *testing.T) {
	t0 := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	docdx := Cite{Kind: claim.KindDocumentedDx, Name: "Acute respiratory failure with hypoxia", Code: "J9601", Time: t0.Add(24 * time.Hour), Source: "progress note"}
	spo2 := Cite{Kind: claim.KindVital, Name: "SpO2", Value: claim.Number(95), Unit: "%", Context: "room air", Time: t0, Source: "ED triage"}
	note := Cite{Kind: claim.KindNote, Name: "progress note", Value: claim.Text("Acute respiratory failure, improving."), Time: t0, Source: "progress note"}
	confirm := Option{Text: "Acute respiratory failure with hypoxia is confirmed; the supporting clinical findings are described in the record", Kind: OptionDiagnosis, Documented: true}
	ruleOut := Option{Text: "Acute respiratory failure with hypoxia was ruled out", Kind: OptionDiagnosis, Documented: true, Action: ActionRemove}
	base := func() Query {
		return Query{ID: "q", Version: 1, EncounterID: "E", Replaces: []string{"J9601"}, Author: &Provider{ID: "s"}, State: StateDraft, CreatedAt: t0,
			Audit: []AuditEvent{{At: t0, Actor: "s", Action: "created", Version: 1}},
			QueryContent: QueryContent{Format: FormatMultipleChoice, Purpose: PurposeClinicalValidation, Reason: QueryReasonClinicalValidation,
				ReasonText: reasonTextValidation, Indicators: []Cite{docdx, spo2}, Channel: ChannelWritten,
				Question: "Based on your clinical judgment, please clarify the status of the documented acute respiratory failure with hypoxia.",
				Options:  []Option{confirm, ruleOut, {Text: "Other (please specify)", Kind: OptionOther}, {Text: "Clinically undetermined", Kind: OptionUndetermined}}}}
	}
	for _, c := range []struct {
		name string
		edit func(q *Query)
		want []string
	}{
		{"cites the values and offers both answers", func(q *Query) {}, nil},
		{"open-ended, citing the values", func(q *Query) { q.Format, q.Options = FormatOpenEnded, nil }, nil},
		{"cites only the documentation", func(q *Query) { q.Indicators = []Cite{docdx} }, []string{"Q1"}},
		{"cites only a note stating the diagnosis", func(q *Query) { q.Indicators = []Cite{docdx, note} }, []string{"Q1"}},
		{"offers only to confirm", func(q *Query) { q.Options = slices.Delete(q.Options, 1, 2) }, []string{"Q8"}},
		{"offers only to rule out", func(q *Query) { q.Options = q.Options[1:] }, []string{"Q8"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := base()
			c.edit(&q)
			if got := Lint(&q, LintOptions{}).Rules(); !slices.Equal(got, c.want) {
				t.Errorf("rules %v, want %v: %+v", got, c.want, Lint(&q, LintOptions{}).Violations)
			}
		})
	}
}
