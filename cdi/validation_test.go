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

// TestImpactBeyond24SDX: an encounter holds more secondary diagnoses than a claim carries;
// the impact of a new diagnosis is measured with the candidate among the first 24 (where a
// coder sequences it), not silently dropped at the end of the list.
func TestImpactBeyond24SDX(t *testing.T) {
	e := testEngine(t)
	at := time.Date(2026, 5, 4, 7, 0, 0, 0, time.UTC)
	filler := []string{"I10", "E785", "K219", "M1990", "F329", "G4733", "E039", "Z7901", "Z794", "Z87891", "M810", "H2510",
		"K5900", "N400", "R5383", "Z9181", "Z8673", "Z951", "Z955", "I252", "E669", "Z6830", "M549", "R32", "L989", "Z7982"}
	var sdx []claim.Dx
	for _, c := range filler {
		sdx = append(sdx, claim.Dx{Code: c, POA: "Y"})
	}
	enc := &claim.Encounter{Claim: claim.Claim{PDX: &claim.Dx{Code: "J189", POA: "Y"}, SDX: sdx, Age: ptr(80), Sex: "M"},
		Account: "SDX26", AdmitDate: claim.Date{Year: 2026, Month: 5, Day: 4},
		Evidence: []claim.Evidence{
			{Kind: "lab", Name: "Creatinine", Value: claim.Number(1.0), Unit: "mg/dL", Time: at, Source: "LAB"},
			{Kind: "lab", Name: "Creatinine", Value: claim.Number(1.6), Unit: "mg/dL", Time: at.Add(24 * time.Hour), Source: "LAB"},
		}}
	rev, err := e.Review(enc, ReviewOptions{Now: at.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var aki *Opportunity
	for i := range rev.Opportunities {
		if rev.Opportunities[i].ID == "rule:acute_kidney_injury" {
			aki = &rev.Opportunities[i]
		}
	}
	if len(enc.SDX) <= claim.MaxSDX || aki == nil || aki.Impact.DRGBefore != 195 || aki.Impact.DRGAfter != 194 {
		t.Fatalf("%d SDX; AKI opportunity %+v", len(enc.SDX), aki)
	}
}
