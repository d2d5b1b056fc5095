package cdi

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
)

// TestParseFHIRBundle loads fixtures/cdi/fhir_bundle_arf.json: the valid resources become
// the encounter and its evidence, each unusable entry is reported with its index, type and
// reason, and the encounter reviews like the JSON fixture of the same patient.
func TestParseFHIRBundle(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "fixtures", "cdi", "fhir_bundle_arf.json"))
	if err != nil {
		t.Fatal(err)
	}
	enc, errs, err := ParseFHIRBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	if enc.ID != "enc-77" || enc.Account != "ACCT-7700" || enc.Facility != "MAIN" || enc.Unit != "4W" ||
		enc.AdmitDate.String() != "2026-05-04" || !enc.DischargeDate.IsZero() || enc.Sex != "F" || enc.Age == nil || *enc.Age != 72 {
		t.Errorf("encounter fields: %+v", enc)
	}
	if enc.AttendingProvider == nil || enc.AttendingProvider.ID != "p100" || enc.AttendingProvider.Name != "Ada Adams" {
		t.Errorf("attending %+v", enc.AttendingProvider)
	}
	if len(enc.Procedures) != 1 || enc.Procedures[0].Code != "5A09357" || enc.Procedures[0].Date.String() != "2026-05-04" {
		t.Errorf("procedures %+v", enc.Procedures)
	}
	type item struct{ kind, name, code, role string }
	var got []item
	for _, e := range enc.Evidence {
		got = append(got, item{e.Kind, e.Name, e.Code, e.AuthorRole})
	}
	want := []item{
		{"documented_dx", "Pneumonia, unspecified organism", "J189", "physician"},
		{"documented_dx", "E44.0", "E440", "dietitian"},
		{"vital", "SpO2", "", ""},
		{"vital", "Systolic blood pressure", "", ""},
		{"vital", "Diastolic blood pressure", "", ""},
		{"lab", "Sodium [Moles/volume] in Serum or Plasma", "", ""},
		{"measurement", "Body mass index", "", ""},
		{"lab", "Sputum culture", "", ""},
		{"med", "Ceftriaxone 1 g", "", ""},
		{"order", "BiPAP", "", ""},
		{"note", "", "", "physician"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("evidence:\n got %v\nwant %v", got, want)
	}
	ev := enc.Evidence
	if ev[0].POA != "Y" || ev[2].Value.Num != 86 || ev[2].LOINC != "59408-5" || ev[5].ReferenceRange != "135-145" ||
		ev[7].Value.Text != "Normal respiratory flora" || ev[8].Route != "IV" || ev[8].Dose != "1 g" ||
		!strings.Contains(ev[10].Text, "accessory muscle use") || ev[10].NoteType != "progress note" {
		t.Errorf("evidence values: %+v", ev)
	}
	wantErrs := map[int]string{
		15: "unsupported resource type Flag",
		16: "observation has no value",
		17: "no ICD-10-CM coding",
		18: `invalid dateTime "yesterday"`,
		19: "malformed resource",
		20: "entry has no resource",
		21: "no inline text attachment",
		22: "refuted",
	}
	if len(errs) != len(wantErrs) {
		t.Errorf("%d errors, want %d: %v", len(errs), len(wantErrs), errs)
	}
	for _, e := range errs {
		if w, ok := wantErrs[e.Entry]; !ok || !strings.Contains(e.Message, w) {
			t.Errorf("error %v, want entry %d: %q", e, e.Entry, w)
		}
	}
	// The coder's working principal diagnosis comes with the claim; the review then finds
	// acute respiratory failure and the dietitian-only malnutrition.
	enc.PDX = &claim.Dx{Code: "J189", POA: "Y"}
	rev, err := testEngine(t).Review(enc, ReviewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range rev.Opportunities {
		ids = append(ids, o.ID)
	}
	slices.Sort(ids)
	if want := []string{"conflict:non_provider:E440", "rule:acute_respiratory_failure"}; !slices.Equal(ids, want) {
		t.Errorf("opportunities %v, want %v", ids, want)
	}
}

func TestParseFHIRBundleRejects(t *testing.T) {
	for _, in := range []string{`not json`, `{"resourceType": "Patient"}`, `[]`} {
		if _, _, err := ParseFHIRBundle([]byte(in)); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
	enc, errs, err := ParseFHIRBundle([]byte(`{"resourceType": "Bundle"}`))
	if err != nil || enc == nil || len(errs) != 0 {
		t.Errorf("empty bundle: %v %v %v", enc, errs, err)
	}
}

// TestParseFHIRBundleCardinality: resources share element names with different
// cardinalities (Encounter.type is a list, Procedure.category one concept, Procedure.location
// one Reference); each resource loads with its own.
func TestParseFHIRBundleCardinality(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		check    func(*claim.Encounter) bool
	}{
		{"Encounter.type list", `{"resourceType": "Encounter", "id": "e1", "type": [{"text": "inpatient"}],
			"location": [{"location": {"display": "ICU"}}]}`,
			func(e *claim.Encounter) bool { return e.ID == "e1" && e.Unit == "ICU" }},
		{"Procedure.category and location single", `{"resourceType": "Procedure", "id": "p1", "status": "completed",
			"code": {"text": "Arterial line placement"}, "category": {"text": "bedside"}, "location": {"display": "ICU"}}`,
			func(e *claim.Encounter) bool {
				return len(e.Evidence) == 1 && e.Evidence[0].Name == "Arterial line placement"
			}},
		{"MedicationAdministration.category single", `{"resourceType": "MedicationAdministration", "id": "m1", "status": "completed",
			"category": {"text": "inpatient"}, "medicationCodeableConcept": {"text": "Furosemide"}}`,
			func(e *claim.Encounter) bool { return len(e.Evidence) == 1 && e.Evidence[0].Name == "Furosemide" }},
		{"DocumentReference.type single", `{"resourceType": "DocumentReference", "id": "d1", "type": {"text": "discharge summary"},
			"content": [{"attachment": {"contentType": "text/plain", "data": "YWN1dGUgcmVzcGlyYXRvcnkgZmFpbHVyZQ=="}}]}`,
			func(e *claim.Encounter) bool {
				return len(e.Evidence) == 1 && e.Evidence[0].NoteType == "discharge summary"
			}},
		{"Observation.category null", `{"resourceType": "Observation", "id": "o1", "status": "final", "category": null,
			"code": {"text": "Sodium"}, "valueQuantity": {"value": 131, "unit": "mmol/L"}}`,
			func(e *claim.Encounter) bool { return len(e.Evidence) == 1 && e.Evidence[0].Kind == claim.KindLab }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, errs, err := ParseFHIRBundle([]byte(`{"resourceType": "Bundle", "entry": [{"resource": ` + tt.resource + `}]}`))
			if err != nil || len(errs) != 0 {
				t.Fatalf("errors %v %v", err, errs)
			}
			if !tt.check(enc) {
				t.Errorf("encounter %+v", enc)
			}
		})
	}
}
