package cdi

import (
	"errors"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// FuzzDraft reviews encounters built from fuzzed codes, values, units, times and note text and
// drafts every opportunity in the plan's format and open-ended: a draft is either compliant
// (Lint passes) or refused with an error wrapping ErrNoCompliantDraft — never a panic, never a
// non-compliant draft.
func FuzzDraft(f *testing.F) {
	f.Add(uint8(0), 95.0, 18.0, "%", "", int16(0), true)
	f.Add(uint8(1), 1.0, 3.2, "mg/dL", "poor oral intake, muscle wasting", int16(24), false)
	f.Add(uint8(2), 1e308, -1e308, "", "acute respiratory failure", int16(-30000), true)
	f.Add(uint8(3), 0.0, 0.0, "furlongs", "no accessory muscle use; confused", int16(1), true)
	f.Add(uint8(4), 130.0, 7.1, "mmol/L", "blood loss 800 mL; transfused", int16(48), false)
	f.Add(uint8(5), 88.0, 32.0, "%", "sepsis; e coli in urine", int16(6), true)
	e := testEngine(f)
	codes := []string{"J9601", "N179", "E43", "D62", "A419", "G9341", "I509", "N189", "E871", "J189", "L89154", "ZZZ999", "J9601"}
	f.Fuzz(func(t *testing.T, ci uint8, v1, v2 float64, unit, text string, hours int16, documented bool) {
		at := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
		later := at.Add(time.Duration(hours) * time.Hour)
		code := codes[int(ci)%len(codes)]
		enc := &claim.Encounter{Claim: claim.Claim{PDX: &claim.Dx{Code: "J189", POA: "Y"}, SDX: []claim.Dx{{Code: code, POA: "Y"}}, Age: ptr(70), Sex: "F"},
			Account: "FUZZ", AdmitDate: claim.Date{Year: 2026, Month: 5, Day: 4},
			Evidence: []claim.Evidence{
				{Kind: "lab", Name: "Creatinine", Value: claim.Number(v1), Unit: unit, Time: at, Source: "LAB"},
				{Kind: "lab", Name: "Creatinine", Value: claim.Number(v2), Unit: unit, Time: later, Source: "LAB"},
				{Kind: "vital", Name: "SpO2", Value: claim.Number(v1), Unit: unit, Context: text, Time: later, Source: "ED triage"},
				{Kind: "lab", Name: "Sodium", Value: claim.Number(v2), Unit: unit, Time: at, Source: "LAB"},
				{Kind: "note", Text: text, Value: claim.Text(text), AuthorRole: "physician", Time: later, Source: "progress note"},
			}}
		if documented {
			enc.Evidence = append(enc.Evidence, claim.Evidence{Kind: "documented_dx", Code: code, AuthorRole: "physician", Time: later, Source: "progress note"})
		}
		rev, err := e.Review(enc, ReviewOptions{Now: at.Add(72 * time.Hour)})
		if err != nil {
			return // refused input: not a draft
		}
		for i := range rev.Opportunities {
			o := &rev.Opportunities[i]
			for _, format := range []string{"", FormatOpenEnded} {
				q, err := GenerateQuery(o, GenerateOptions{ID: "q", EncounterID: "E", Author: &Provider{ID: "s"}, Now: at, Format: format})
				if err != nil {
					if !errors.Is(err, ErrNoCompliantDraft) {
						t.Errorf("%s (%q): error not a draft refusal: %v", o.ID, format, err)
					}
					continue
				}
				if res := Lint(&q, LintOptions{}); !res.OK {
					t.Errorf("%s (%q): draft not compliant: %+v", o.ID, format, res.Violations)
				}
			}
		}
	})
}
