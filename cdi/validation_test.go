package cdi

import (
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// TestClinicalValidationOfUnspecifiedCandidate: a coded N17.9 (the AKI rule's own candidate)
// without KDIGO support is a clinical validation opportunity whose impact regroups without
// it; a coded R09.02 (hypoxemia, only an "unspecified" hint of respiratory failure) is not
// validated against the acute respiratory failure criteria.
func TestClinicalValidationOfUnspecifiedCandidate(t *testing.T) {
	e := testEngine(t)
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	enc := &claim.Encounter{
		Claim: claim.Claim{PDX: &claim.Dx{Code: "J189", POA: "Y"}, SDX: []claim.Dx{{Code: "N179", POA: "Y"}, {Code: "R0902", POA: "Y"}},
			Age: ptr(70), Sex: "F"},
		Account: "CV-N179", AdmitDate: claim.Date{Year: 2026, Month: 5, Day: 4},
		Evidence: []claim.Evidence{
			{Kind: "lab", Name: "Creatinine", Value: claim.Number(1.0), Unit: "mg/dL", Time: at, Source: "LAB"},
			{Kind: "lab", Name: "Creatinine", Value: claim.Number(1.1), Unit: "mg/dL", Time: at.Add(24 * time.Hour), Source: "LAB"},
			{Kind: "vital", Name: "SpO2", Value: claim.Number(95), Unit: "%", Context: "room air", Time: at, Source: "ED triage"},
		},
	}
	rev, err := e.Review(enc, ReviewOptions{Now: at.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var cv *Opportunity
	for i, o := range rev.Opportunities {
		if o.Kind == KindClinicalValidation {
			if o.ID != "cv:acute_kidney_injury" {
				t.Errorf("unexpected clinical validation %s", o.ID)
				continue
			}
			cv = &rev.Opportunities[i]
		}
	}
	if cv == nil {
		t.Fatalf("no cv:acute_kidney_injury in %+v", rev.Opportunities)
	}
	if len(cv.Replaces) != 1 || cv.Replaces[0] != "N179" || cv.Impact.DRGBefore != 194 || cv.Impact.DRGAfter != 195 {
		t.Errorf("cv %v: DRG %d → %d", cv.Replaces, cv.Impact.DRGBefore, cv.Impact.DRGAfter)
	}
	q, err := GenerateQuery(cv, GenerateOptions{ID: "q1", EncounterID: "E1", Author: &Provider{ID: "S1"}, Now: at.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if q.Purpose != PurposeClinicalValidation {
		t.Errorf("purpose %s", q.Purpose)
	}
}
