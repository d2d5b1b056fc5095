package cdi

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
		21: "content[0] is application/pdf (only text/plain is read)",
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

// TestParseFHIRBundleSpecimens loads fixtures/cdi/fhir_bundle_specimens.json: lab results
// take the type of the Specimen they reference (by id, fullUrl, versioned absolute URL or
// contained "#id"; a bare v2-0487 code as the specimen it stands for) or the reference's
// display, and their method; infusion rates are the dose; ServiceRequests are orders.
func TestParseFHIRBundleSpecimens(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "fixtures", "cdi", "fhir_bundle_specimens.json"))
	if err != nil {
		t.Fatal(err)
	}
	enc, errs, err := ParseFHIRBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	if enc.ID != "enc-14" || enc.Account != "ACCT-1400" || enc.Unit != "MICU" || enc.AdmitDate.String() != "2026-05-04" {
		t.Errorf("encounter fields: %+v", enc)
	}
	type item struct {
		kind, name, value, specimen, method, dose, context, route, source, time string
	}
	tests := []struct {
		why  string
		want item
	}{
		{"arterial blood gas: Specimen.type a bare v2-0487 code ABLD, method point of care",
			item{"lab", "pO2", "52", "Arterial blood", "Point of care", "", "", "", "", "2026-05-04T10:12:00Z"}},
		{"venous pO2: Specimen without id found by its fullUrl, coding display",
			item{"lab", "pO2", "35", "Blood venous", "", "", "", "", "", "2026-05-04T11:30:00Z"}},
		{"urine pH: Specimen.type text",
			item{"lab", "pH", "5.5", "Urine", "", "", "", "", "", "2026-05-04T12:00:00Z"}},
		{"specimen not in the bundle: the reference's display",
			item{"lab", "pH", "7.31", "Arterial blood", "", "", "", "", "", "2026-05-04T10:12:00Z"}},
		{"components inherit a contained specimen and the method (pCO2)",
			item{"lab", "pCO2", "48", "Capillary blood", "Calculated", "", "", "", "", "2026-05-04T13:00:00Z"}},
		{"components inherit a contained specimen and the method (pH)",
			item{"lab", "pH", "7.3", "Capillary blood", "Calculated", "", "", "", "", "2026-05-04T13:00:00Z"}},
		{"Specimen found by a versioned absolute URL, without type, no display: loaded without specimen (reported)",
			item{"lab", "Potassium", "4.1", "", "", "", "", "", "", "2026-05-04T10:12:00Z"}},
		{"Specimen not in the bundle, no display: loaded without specimen (reported)",
			item{"lab", "Sodium", "128", "", "", "", "", "", "", "2026-05-04T10:12:00Z"}},
		{"BMI in the vital-signs category without LOINC is a vital sign",
			item{"vital", "BMI", "41.2", "", "", "", "", "", "", "2026-05-04T09:00:00Z"}},
		{"BMI by LOINC is a measurement, vital-signs category or not",
			item{"measurement", "Body mass index", "41.2", "", "", "", "", "", "", "2026-05-04T09:00:00Z"}},
		{"norepinephrine infusion: rateQuantity is the dose",
			item{"med", "Norepinephrine", "", "", "", "0.08 mcg/kg/min", "", "IV", "MAR", "2026-05-04T14:00:00Z"}},
		{"epinephrine: a rateRatio per 1 min is the dose, the dose amount the context",
			item{"med", "Epinephrine", "", "", "", "0.05 mcg/kg/min", "dose 4 mg", "IV", "MAR", "2026-05-04T15:00:00Z"}},
		{"antibiotic run over 30 min: the rate as given",
			item{"med", "Piperacillin-tazobactam", "", "", "", "100 mL/30 min", "dose 3.375 g", "IV", "MAR", "2026-05-04T16:00:00Z"}},
		{"ServiceRequest: an order at its occurrence, its specimen list ignored",
			item{"order", "Hemodialysis", "", "", "", "", "", "", "EHR orders", "2026-05-05T07:00:00Z"}},
		{"ServiceRequest without occurrence: authoredOn",
			item{"order", "BiPAP", "", "", "", "", "", "", "EHR orders", "2026-05-04T10:40:00Z"}},
		{"contained Specimen unreadable: loaded without specimen (reported)",
			item{"lab", "Hemoglobin", "9.1", "", "", "", "", "", "", "2026-05-04T10:12:00Z"}},
	}
	if len(enc.Evidence) != len(tests) {
		t.Errorf("%d evidence items, want %d: %+v", len(enc.Evidence), len(tests), enc.Evidence)
	}
	for i, tt := range tests {
		if i >= len(enc.Evidence) {
			t.Errorf("%s: missing", tt.why)
			continue
		}
		e := enc.Evidence[i]
		got := item{e.Kind, e.Name, e.Value.String(), e.Specimen, e.Method, e.Dose, e.Context, e.Route, e.Source,
			e.Time.Format(time.RFC3339)}
		if got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.why, got, tt.want)
		}
	}
	wantErrs := map[int]string{
		11: "specimen http://lab.example.org/fhir/Specimen/spec-untyped/_history/2 has no type (loaded without specimen)",
		12: "specimen Specimen/gone is not in the bundle (loaded without specimen)",
		20: "status revoked (ignored)",
		21: "doNotPerform",
		22: "service request has no code or text",
		23: `invalid dateTime "tomorrow"`,
		24: "specimen is not a Reference",
		25: "malformed resource",
		26: "specimen #s2: no readable contained Specimen (loaded without specimen)",
	}
	if len(errs) != len(wantErrs) {
		t.Errorf("%d errors, want %d: %v", len(errs), len(wantErrs), errs)
	}
	for _, e := range errs {
		if w, ok := wantErrs[e.Entry]; !ok || !strings.Contains(e.Message, w) {
			t.Errorf("error %v, want entry %d: %q", e, e.Entry, w)
		}
	}
}

// TestParseFHIRBundleEngineFacts reads fixtures/cdi/fhir_bundle_specimens.json as the
// engine does and checks what its selectors make of the parsed specimens, BMI, infusion
// rates and orders.
func TestParseFHIRBundleEngineFacts(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "fixtures", "cdi", "fhir_bundle_specimens.json"))
	if err != nil {
		t.Fatal(err)
	}
	enc, _, err := ParseFHIRBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	rules := DefaultRules()
	fs := readFacts(enc, &enc.Claim, rules, func(string) string { return "" })
	tests := []struct {
		why       string
		evidence  int // index in enc.Evidence
		selector  string
		match     bool
		value     float64 // compared when the selector gives a value
		valueSeen bool
	}{
		{"ABLD pO2 is PaO2", 0, "pao2", true, 52, true},
		{"venous pO2 is not PaO2", 1, "pao2", false, 0, false},
		{"urine pH is not arterial pH", 2, "ph_arterial", false, 0, false},
		{"pH whose reference display says arterial blood is arterial pH", 3, "ph_arterial", true, 7.31, true},
		{"capillary pCO2 is not PaCO2", 4, "paco2", false, 0, false},
		{"capillary pH is not arterial pH", 5, "ph_arterial", false, 0, false},
		{"BMI as a vital sign is a BMI", 8, "bmi", true, 41.2, true},
		{"BMI as a measurement is a BMI", 9, "bmi", true, 41.2, true},
		{"norepinephrine rate is the vasopressor dose", 10, "vasopressor_dose", true, 0.08, true},
		{"epinephrine rate ratio is the vasopressor dose", 11, "vasopressor_dose", true, 0.05, true},
		{"hemodialysis ServiceRequest is a dialysis order", 13, "dialysis_order", true, 0, false},
		{"BiPAP ServiceRequest is respiratory support", 14, "resp_support_order", true, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			if tt.evidence >= len(fs.items) {
				t.Fatalf("evidence %d missing (%d items)", tt.evidence, len(fs.items))
			}
			f := &fs.items[tt.evidence]
			s := rules.Selectors[tt.selector]
			if s == nil {
				t.Fatalf("no selector %s", tt.selector)
			}
			if _, ok := s.matches(f, rules); ok != tt.match {
				t.Fatalf("%s %v (specimen %q → %q): match %v, want %v", f.ev.Name, f.ev.Value, f.ev.Specimen, f.specimen, ok, tt.match)
			}
			if !tt.match {
				return
			}
			x, ok, why := s.value(f)
			if ok != tt.valueSeen || ok && x != tt.value {
				t.Errorf("%s: value %v %v (%s), want %v %v", f.ev.Name, x, ok, why, tt.value, tt.valueSeen)
			}
		})
	}
}

// TestParseFHIRBundleSpecimenReview reviews the same FHIR encounter with the pO2 of 35 mmHg
// on different specimens: with respiratory rate 30 and BiPAP, acute respiratory failure
// fires on an arterial pO2 (a bare ABLD code, a Specimen text, a reference display) and not
// on a venous one, nor on a pO2 whose specimen is unknown. SpO2 is 93 %, so the pO2 alone
// decides hypoxemia.
func TestParseFHIRBundleSpecimenReview(t *testing.T) {
	const bundle = `{"resourceType": "Bundle", "entry": [
	{"resource": {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1955-03-01"}},
	{"resource": {"resourceType": "Encounter", "id": "e", "identifier": [{"value": "A1"}],
		"period": {"start": "2026-05-04T08:00:00Z"}, "serviceProvider": {"display": "MAIN"}}},
	{"resource": {"resourceType": "Specimen", "id": "s", "type": SPECIMEN_TYPE}},
	{"resource": {"resourceType": "Observation", "id": "po2", "status": "final", "code": {"text": "pO2"},
		"specimen": REFERENCE, "effectiveDateTime": "2026-05-04T10:12:00Z", "valueQuantity": {"value": 35, "unit": "mm[Hg]"}}},
	{"resource": {"resourceType": "Observation", "id": "spo2", "status": "final",
		"category": [{"coding": [{"code": "vital-signs"}]}], "code": {"text": "SpO2"},
		"effectiveDateTime": "2026-05-04T10:00:00Z", "valueQuantity": {"value": 93, "unit": "%"}}},
	{"resource": {"resourceType": "Observation", "id": "rr", "status": "final",
		"category": [{"coding": [{"code": "vital-signs"}]}], "code": {"text": "Respiratory rate"},
		"effectiveDateTime": "2026-05-04T10:00:00Z", "valueQuantity": {"value": 30, "unit": "/min"}}},
	{"resource": {"resourceType": "ServiceRequest", "id": "bipap", "status": "active", "intent": "order",
		"code": {"text": "BiPAP"}, "authoredOn": "2026-05-04T10:40:00Z"}}]}`
	const v20487 = `"http://terminology.hl7.org/CodeSystem/v2-0487"`
	tests := []struct {
		name, specimenType, reference, want string
	}{
		{"ABLD code", `{"coding": [{"system": ` + v20487 + `, "code": "ABLD"}]}`, `{"reference": "Specimen/s"}`, StatusFired},
		{"BLDV code", `{"coding": [{"system": ` + v20487 + `, "code": "BLDV"}]}`, `{"reference": "Specimen/s"}`, StatusNotFired},
		{"arterial text", `{"text": "Arterial blood"}`, `{"reference": "Specimen/s"}`, StatusFired},
		{"venous text", `{"text": "Venous blood"}`, `{"reference": "Specimen/s"}`, StatusNotFired},
		{"arterial display", `null`, `{"reference": "Specimen/elsewhere", "display": "Arterial blood"}`, StatusFired},
		{"venous display", `null`, `{"reference": "Specimen/elsewhere", "display": "Venous blood"}`, StatusNotFired},
		{"no specimen", `null`, `null`, StatusNotFired},
	}
	e := testEngine(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.NewReplacer("SPECIMEN_TYPE", tt.specimenType, "REFERENCE", tt.reference).Replace(bundle)
			enc, errs, err := ParseFHIRBundle([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			for _, fe := range errs {
				if !strings.Contains(fe.Message, "not in the bundle") {
					t.Errorf("unexpected error %v", fe)
				}
			}
			enc.PDX = &claim.Dx{Code: "J189", POA: "Y"}
			rev, err := e.Review(enc, ReviewOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r := ruleResult(rev, "acute_respiratory_failure")
			if r == nil || r.Status != tt.want {
				t.Errorf("acute_respiratory_failure %+v, want %s", r, tt.want)
			}
		})
	}
}

// FuzzParseFHIRBundle: no input makes the parser panic, and a Bundle always yields an
// encounter.
func FuzzParseFHIRBundle(f *testing.F) {
	for _, name := range []string{"fhir_bundle_arf.json", "fhir_bundle_specimens.json"} {
		b, err := os.ReadFile(filepath.Join("..", "fixtures", "cdi", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"resourceType": "Bundle", "entry": [null, {}, {"resource": null}, {"resource": 1}]}`,
		`{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation", "code": {}, "specimen": {"reference": "#"},
			"contained": [null, 1, {"resourceType": "Specimen"}], "component": [{"valueQuantity": null}]}}]}`,
		`{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "MedicationAdministration", "medicationCodeableConcept": {"text": "x"},
			"dosage": {"rateRatio": {"numerator": {"value": 1}, "denominator": null}, "rateQuantity": {}}}}]}`,
		`{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "MedicationAdministration", "medicationCodeableConcept": {"text": "x"},
			"dosage": {"rateRatio": {"numerator": null, "denominator": {"value": 0, "unit": "h"}}}}}]}`,
		`{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "ServiceRequest", "code": null, "occurrencePeriod": null}},
			{"resource": {"resourceType": "Specimen", "type": []}}, {"fullUrl": "x", "resource": {"resourceType": "Specimen", "type": [null]}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		enc, _, err := ParseFHIRBundle(b)
		if err == nil && enc == nil {
			t.Error("no encounter and no error")
		}
	})
}

// TestFHIRSpecimenTypeAndRate: how a Specimen.type and a dosage rate are rendered.
func TestFHIRSpecimenTypeAndRate(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	const v20487 = "http://terminology.hl7.org/CodeSystem/v2-0487"
	types := []struct {
		why  string
		in   *fhirConcept
		want string
	}{
		{"none", nil, ""},
		{"text first", &fhirConcept{Text: "Arterial blood gas syringe", Coding: []fhirCoding{{System: v20487, Code: "BLDV", Display: "Blood venous"}}}, "Arterial blood gas syringe"},
		{"display before code", &fhirConcept{Coding: []fhirCoding{{System: v20487, Code: "BLDA"}, {Code: "x", Display: "Blood arterial"}}}, "Blood arterial"},
		{"bare ABLD spelled out", &fhirConcept{Coding: []fhirCoding{{System: v20487, Code: "ABLD"}}}, "Arterial blood"},
		{"bare BLDC spelled out, any case", &fhirConcept{Coding: []fhirCoding{{Code: "bldc"}}}, "Capillary blood"},
		{"text that is a code spelled out", &fhirConcept{Text: "BLDV"}, "Venous blood"},
		{"unknown code kept", &fhirConcept{Coding: []fhirCoding{{Code: "122555007"}}}, "122555007"},
	}
	for _, tt := range types {
		if got := specimenType(tt.in); got != tt.want {
			t.Errorf("specimen type, %s: %q, want %q", tt.why, got, tt.want)
		}
	}
	rates := []struct {
		why   string
		q     *fhirQuantity
		ratio *fhirRatio
		want  string
	}{
		{"none", nil, nil, ""},
		{"rateQuantity unit", &fhirQuantity{Value: v(0.08), Unit: "mcg/kg/min", Code: "ug/kg/min"}, nil, "0.08 mcg/kg/min"},
		{"rateQuantity UCUM code only", &fhirQuantity{Value: v(0.1), Code: "ug/kg/min"}, nil, "0.1 ug/kg/min"},
		{"rateQuantity without value: the ratio", &fhirQuantity{Unit: "mL/h"},
			&fhirRatio{&fhirQuantity{Value: v(5), Unit: "mL"}, &fhirQuantity{Value: v(1), Unit: "h"}}, "5 mL/h"},
		{"ratio per implicit 1", nil, &fhirRatio{&fhirQuantity{Value: v(0.04), Unit: "units"}, &fhirQuantity{Unit: "min"}}, "0.04 units/min"},
		{"ratio per 30 min", nil, &fhirRatio{&fhirQuantity{Value: v(100), Unit: "mL"}, &fhirQuantity{Value: v(30), Unit: "min"}}, "100 mL/30 min"},
		{"ratio without denominator unit", nil, &fhirRatio{&fhirQuantity{Value: v(2), Unit: "g"}, &fhirQuantity{Value: v(1)}}, ""},
		{"ratio without denominator", nil, &fhirRatio{Numerator: &fhirQuantity{Value: v(2), Unit: "g"}}, ""},
		{"ratio without numerator value", nil, &fhirRatio{&fhirQuantity{Unit: "mg"}, &fhirQuantity{Value: v(1), Unit: "h"}}, ""},
	}
	for _, tt := range rates {
		if got := dosageRate(tt.q, tt.ratio); got != tt.want {
			t.Errorf("rate, %s: %q, want %q", tt.why, got, tt.want)
		}
	}
}

// TestParseFHIRNotes: a DocumentReference is read only from a text/plain attachment with
// inline data (any other content is reported naming the resource and what was skipped, never
// guessed), and a Composition's section narratives become one note whose sections keep their
// titles, the XHTML read as text.
func TestParseFHIRNotes(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, resource string
		text, noteType string // the note loaded ("" none)
		err            string // the entry's error ("" none)
	}{
		{"text/plain with charset", `{"resourceType": "DocumentReference", "id": "d1", "type": {"text": "progress note"},
			"content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "data": "` + b64("A/P: Sepsis due to UTI.") + `"}}]}`,
			"A/P: Sepsis due to UTI.", "progress note", ""},
		{"pdf then text: the text is read", `{"resourceType": "DocumentReference", "id": "d2",
			"content": [{"attachment": {"contentType": "application/pdf", "data": "JVBERi0xLjQ="}},
			 {"attachment": {"contentType": "text/plain", "data": "` + b64("Pneumonia.") + `"}}]}`, "Pneumonia.", "", ""},
		{"pdf only", `{"resourceType": "DocumentReference", "id": "d3", "content": [{"attachment": {"contentType": "application/pdf", "data": "JVBERi0xLjQ="}}]}`,
			"", "", "content[0] is application/pdf (only text/plain is read)"},
		{"html is not guessed", `{"resourceType": "DocumentReference", "id": "d4", "content": [{"attachment": {"contentType": "text/html", "data": "` + b64("<p>Sepsis</p>") + `"}}]}`,
			"", "", "content[0] is text/html"},
		{"no content type", `{"resourceType": "DocumentReference", "id": "d5", "content": [{"attachment": {"data": "` + b64("Sepsis") + `"}}]}`,
			"", "", "content[0] has no contentType"},
		{"url only", `{"resourceType": "DocumentReference", "id": "d6", "content": [{"attachment": {"contentType": "text/plain", "url": "http://x/y"}}]}`,
			"", "", "no inline data"},
		{"latin-1", `{"resourceType": "DocumentReference", "id": "d7", "content": [{"attachment": {"contentType": "text/plain; charset=iso-8859-1", "data": "` + b64("Sepsis") + `"}}]}`,
			"", "", "charset iso-8859-1"},
		{"not base64", `{"resourceType": "DocumentReference", "id": "d8", "content": [{"attachment": {"contentType": "text/plain", "data": "%%%"}}]}`,
			"", "", "not base64"},
		{"not UTF-8", `{"resourceType": "DocumentReference", "id": "d9", "content": [{"attachment": {"contentType": "text/plain", "data": "` + b64("Sepsis \xff") + `"}}]}`,
			"", "", "not UTF-8"},
		{"composition", `{"resourceType": "Composition", "id": "c1", "status": "final", "type": {"text": "discharge summary"}, "date": "2026-05-08T11:00:00Z",
			"title": "Discharge Summary",
			"section": [{"title": "Discharge Diagnoses", "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><ol><li>Acute on chronic diastolic heart failure</li><li>Hypertension &amp; CKD&nbsp;stage 3</li></ol></div>"}},
			 {"title": "Hospital Course", "section": [{"title": "Labs", "text": {"div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><table><tr><td>BNP</td><td>1850</td></tr></table><p>Troponin <b>flat</b>.<br/>ACS excluded.</p></div>"}}]},
			 {"title": "Empty", "text": {"div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"></div>"}}]}`,
			"Discharge Diagnoses:\nAcute on chronic diastolic heart failure\nHypertension & CKD stage 3\n\nHospital Course:\n\nLabs:\nBNP | 1850\nTroponin flat.\nACS excluded.",
			"discharge summary", ""},
		{"composition without narrative", `{"resourceType": "Composition", "id": "c2", "section": [{"title": "Plan"}]}`, "", "", "no section narrative"},
		{"composition with broken XHTML", `{"resourceType": "Composition", "id": "c3", "section": [{"title": "Plan", "text": {"div": "<div><p>Sepsis</div"}}]}`,
			"", "", "section[0].text.div"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, errs, err := ParseFHIRBundle([]byte(`{"resourceType": "Bundle", "entry": [{"resource": ` + tt.resource + `}]}`))
			if err != nil {
				t.Fatal(err)
			}
			var got, gotType string
			if len(enc.Evidence) == 1 {
				got, gotType = enc.Evidence[0].Text, enc.Evidence[0].NoteType
			}
			if got != tt.text || gotType != tt.noteType {
				t.Errorf("note %q (%q), want %q (%q)", got, gotType, tt.text, tt.noteType)
			}
			switch {
			case tt.err == "" && len(errs) > 0:
				t.Errorf("errors %v", errs)
			case tt.err != "" && (len(errs) != 1 || !strings.Contains(errs[0].Message, tt.err) || errs[0].ID == ""):
				t.Errorf("errors %v, want one naming the resource with %q", errs, tt.err)
			}
		})
	}
}
