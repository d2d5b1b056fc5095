package cdi

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/hl7"
)

// hl7Msg joins segments with CR, fields given as a map from position to value (the rest empty).
func hl7Seg(name string, fields map[int]string) string {
	n := 0
	for k := range fields {
		n = max(n, k)
	}
	parts := make([]string, n+1)
	parts[0] = name
	for k, v := range fields {
		parts[k] = v
	}
	return strings.Join(parts, "|")
}

const hl7MSH = "MSH|^~\\&|LAB|GENHOSP|DRG|CDI|20261201110000||%s|%s|P|2.5.1"

func parseHL7(t *testing.T, segs ...string) *hl7.Message {
	t.Helper()
	m, err := hl7.Parse([]byte(strings.Join(segs, "\r")))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEvidenceSamePathsJSONFHIRHL7: the same results sent as JSON evidence, as a FHIR Bundle
// and as an HL7 ORU^R01 give the same evidence: names, LOINC codes, values, units, reference
// ranges, times and specimens (a venous blood gas named by the v2-0487 code BLDV, a urine
// culture by OBR-15 UR, a serum creatinine by its text).
func TestEvidenceSamePathsJSONFHIRHL7(t *testing.T) {
	type result struct {
		name, loinc  string
		num          *float64
		text         string
		unit, rng    string
		specCode     string // v2-0487 code (FHIR Specimen.type, HL7 SPM-4 or OBR-15)
		specText     string // or a text
		specimen     string // as the JSON path is sent it, and as all three must read it
		viaOBR15     bool
		time         string // RFC 3339 UTC
		hl7Time      string
		abnormalFlag string
	}
	f := func(x float64) *float64 { return &x }
	results := []result{
		{name: "pH venous", loinc: "2746-6", num: f(7.29), rng: "7.31-7.41", specCode: "BLDV", specimen: "Venous blood", time: "2026-12-01T10:12:00Z", hl7Time: "20261201101200+0000", abnormalFlag: "L"},
		{name: "pCO2 venous", loinc: "2021-4", num: f(58), unit: "mm[Hg]", rng: "41-51", specCode: "BLDV", specimen: "Venous blood", time: "2026-12-01T10:12:00Z", hl7Time: "20261201101200+0000", abnormalFlag: "H"},
		{name: "Lactate", loinc: "2524-7", num: f(3.4), unit: "mmol/L", rng: "0.5-2.2", specCode: "PLAS", specimen: "Plasma", time: "2026-12-01T10:15:00Z", hl7Time: "20261201101500+0000"},
		{name: "Creatinine", loinc: "2160-0", num: f(2.3), unit: "mg/dL", rng: "0.6-1.2", specText: "Serum", specimen: "Serum", time: "2026-12-01T06:00:00Z", hl7Time: "20261201060000+0000"},
		{name: "Urine culture", loinc: "630-4", text: ">100,000 CFU/mL Escherichia coli", specCode: "UR", specimen: "Urine", viaOBR15: true, time: "2026-12-02T09:00:00Z", hl7Time: "20261202090000+0000"},
		{name: "WBC", loinc: "6690-2", num: f(14.2), unit: "10*3/uL", rng: "4.0-11.0", time: "2026-12-01T06:00:00Z", hl7Time: "20261201060000+0000"},
	}
	// JSON: evidence items as a client sends them to POST /v1/encounters/{id}/evidence.
	var items []string
	for _, r := range results {
		v := fmt.Sprintf("%q", r.text)
		if r.num != nil {
			v = fmt.Sprint(*r.num)
		}
		items = append(items, fmt.Sprintf(`{"kind":"lab","name":%q,"loinc":%q,"value":%s,"unit":%q,"reference_range":%q,"specimen":%q,"time":%q}`,
			r.name, r.loinc, v, r.unit, r.rng, r.specimen, r.time))
	}
	var fromJSON []claim.Evidence
	if err := json.Unmarshal([]byte("["+strings.Join(items, ",")+"]"), &fromJSON); err != nil {
		t.Fatal(err)
	}
	// FHIR: Observations with contained Specimens.
	var entries []string
	for i, r := range results {
		val := fmt.Sprintf(`"valueString": %q`, r.text)
		if r.num != nil {
			val = fmt.Sprintf(`"valueQuantity": {"value": %v, "unit": %q}`, *r.num, r.unit)
		}
		spec := ""
		if r.specCode != "" || r.specText != "" {
			typ := fmt.Sprintf(`{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0487", "code": %q}]}`, r.specCode)
			if r.specText != "" {
				typ = fmt.Sprintf(`{"text": %q}`, r.specText)
			}
			spec = fmt.Sprintf(`"contained": [{"resourceType": "Specimen", "id": "s", "type": %s}], "specimen": {"reference": "#s"},`, typ)
		}
		entries = append(entries, fmt.Sprintf(`{"resource": {"resourceType": "Observation", "id": "o%d", "status": "final",
			"code": {"coding": [{"system": "http://loinc.org", "code": %q, "display": %q}]}, %s
			"effectiveDateTime": %q, %s, "referenceRange": [{"text": %q}]}}`, i, r.loinc, r.name, spec, r.time, val, r.rng))
	}
	enc, ferrs, err := ParseFHIRBundle([]byte(`{"resourceType": "Bundle", "entry": [` + strings.Join(entries, ",") + `]}`))
	if err != nil || len(ferrs) > 0 {
		t.Fatal(err, ferrs)
	}
	fromFHIR := enc.Evidence
	// HL7: one order group per result, the specimen in SPM-4 or OBR-15.
	segs := []string{fmt.Sprintf(hl7MSH, "ORU^R01^ORU_R01", "L1"), hl7Seg("PID", map[int]string{1: "1", 3: "MRN1", 7: "19500315", 8: "M", 18: "ACC1"})}
	for i, r := range results {
		obr := map[int]string{1: fmt.Sprint(i + 1), 4: "PANEL" + fmt.Sprint(i)}
		if r.viaOBR15 {
			obr[15] = r.specCode + "&&HL70070"
		}
		segs = append(segs, hl7Seg("OBR", obr))
		obx := map[int]string{1: "1", 2: "NM", 3: r.loinc + "^" + r.name + "^LN", 6: r.unit, 7: r.rng, 8: r.abnormalFlag, 11: "F", 14: r.hl7Time}
		if r.num != nil {
			obx[5] = fmt.Sprint(*r.num)
		} else {
			obx[2], obx[5] = "ST", strings.ReplaceAll(r.text, "^", "\\S\\")
		}
		segs = append(segs, hl7Seg("OBX", obx))
		switch {
		case r.viaOBR15:
		case r.specText != "":
			segs = append(segs, hl7Seg("SPM", map[int]string{1: "1", 4: "^" + r.specText}))
		case r.specCode != "":
			segs = append(segs, hl7Seg("SPM", map[int]string{1: "1", 4: r.specCode + "^^HL70487"}))
		}
	}
	ev, err := ParseHL7(parseHL7(t, segs...), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	fromHL7 := ev.Encounter.Evidence
	paths := map[string][]claim.Evidence{"FHIR": fromFHIR, "HL7": fromHL7}
	for name, got := range paths {
		if len(got) != len(fromJSON) {
			t.Fatalf("%s: %d items, JSON %d", name, len(got), len(fromJSON))
		}
		for i := range fromJSON {
			want, g := fromJSON[i], got[i]
			want.Time, g.Time = want.Time.UTC(), g.Time.UTC()
			if !reflect.DeepEqual(g, want) {
				t.Errorf("%s result %d:\n got %+v\nwant %+v", name, i, g, want)
			}
		}
	}
}

// TestParseHL7ADT: admission, update and discharge messages give the encounter's account,
// facility, age at admission, sex, unit, attending, dates and UB-04 discharge status.
func TestParseHL7ADT(t *testing.T) {
	pid := hl7Seg("PID", map[int]string{1: "1", 3: "MRN1", 7: "19500315", 8: "F", 18: "ACC9"})
	pv1 := func(f map[int]string) string {
		base := map[int]string{1: "1", 2: "I", 3: "4W^401", 7: "D1^House^Greg^^^^MD", 44: "20261201083000"}
		for k, v := range f {
			base[k] = v
		}
		return hl7Seg("PV1", base)
	}
	msh := func(trig string) string { return fmt.Sprintf(hl7MSH, "ADT^"+trig, "C-"+trig) }
	i := func(n int) *int { return &n }
	tests := []struct {
		name     string
		segs     []string
		create   bool
		age      *int
		status   *int
		disch    claim.Date
		errLoc   string
		errCode  int
		accountF string
	}{
		{name: "A01", segs: []string{msh("A01"), pid, pv1(nil)}, create: true, age: i(76)},
		{name: "A04 account in PV1-19", segs: []string{msh("A04"), hl7Seg("PID", map[int]string{7: "19500315"}), pv1(map[int]string{19: "V77"})}, create: true, age: i(76), accountF: "V77"},
		{name: "A08", segs: []string{msh("A08"), pid, pv1(nil)}, age: i(76)},
		{name: "A03 home", segs: []string{msh("A03"), pid, pv1(map[int]string{36: "01", 45: "20261205120000"})}, age: i(76), status: i(1), disch: claim.Date{Year: 2026, Month: 12, Day: 5}},
		{name: "A03 SNF", segs: []string{msh("A03"), pid, pv1(map[int]string{36: "03", 45: "20261205"})}, age: i(76), status: i(3), disch: claim.Date{Year: 2026, Month: 12, Day: 5}},
		{name: "A03 without discharge date", segs: []string{msh("A03"), pid, pv1(map[int]string{36: "01"})}, errLoc: "PV1-45", errCode: hl7.ErrRequiredMissing},
		{name: "A03 unknown disposition", segs: []string{msh("A03"), pid, pv1(map[int]string{36: "HOME", 45: "20261205"})}, errLoc: "PV1-36", errCode: hl7.ErrTableValue},
		{name: "no account", segs: []string{msh("A01"), hl7Seg("PID", map[int]string{7: "19500315"}), pv1(nil)}, errLoc: "PID-18", errCode: hl7.ErrRequiredMissing},
		{name: "bad birth date", segs: []string{msh("A01"), hl7Seg("PID", map[int]string{7: "1950-03-15", 18: "A"}), pv1(nil)}, errLoc: "PID-7", errCode: hl7.ErrDataType},
		{name: "unsupported trigger", segs: []string{msh("A02"), pid, pv1(nil)}, errLoc: "MSH-9.2", errCode: hl7.ErrUnsupportedEvent},
		{name: "unsupported type", segs: []string{fmt.Sprintf(hl7MSH, "SIU^S12", "X"), pid}, errLoc: "MSH-9.1", errCode: hl7.ErrUnsupportedType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseHL7(parseHL7(t, tt.segs...), time.UTC)
			if tt.errLoc != "" {
				var he *hl7.Error
				if !errors.As(err, &he) || he.Loc.String() != tt.errLoc || he.Code != tt.errCode {
					t.Fatalf("error %v, want %s code %d", err, tt.errLoc, tt.errCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e := ev.Encounter
			acc := tt.accountF
			if acc == "" {
				acc = "ACC9"
			}
			if ev.Account != acc || ev.Facility != "GENHOSP" || ev.Create != tt.create {
				t.Errorf("account %q facility %q create %v", ev.Account, ev.Facility, ev.Create)
			}
			if !reflect.DeepEqual(e.Age, tt.age) || !reflect.DeepEqual(e.DischargeStatus, tt.status) || e.DischargeDate != tt.disch {
				t.Errorf("age %v status %v discharge %v", e.Age, e.DischargeStatus, e.DischargeDate)
			}
			if e.AdmitDate != (claim.Date{Year: 2026, Month: 12, Day: 1}) || e.Unit != "4W" ||
				e.AttendingProvider == nil || e.AttendingProvider.ID != "D1" || e.AttendingProvider.Name != "Greg House" {
				t.Errorf("admit %v unit %q attending %+v", e.AdmitDate, e.Unit, e.AttendingProvider)
			}
		})
	}
}

// TestParseHL7Notes: an MDM^T02 and an ORU^R01 with FT lines become notes with their type,
// author and role, time and decoded text; DG1 segments become documented diagnoses.
func TestParseHL7Notes(t *testing.T) {
	pid := hl7Seg("PID", map[int]string{18: "ACC9"})
	mdm := parseHL7(t, fmt.Sprintf(hl7MSH, "MDM^T02^MDM_T02", "D1"), pid,
		hl7Seg("TXA", map[int]string{1: "1", 2: "PN^Progress note", 4: "20261202093000+0000", 9: "D7^Grey^Meredith^^^^MD", 12: "DOC55", 17: "AU"}),
		hl7Seg("OBX", map[int]string{1: "1", 2: "TX", 5: "Assessment: acute on chronic systolic heart failure\\.br\\Plan: IV furosemide", 11: "F"}),
		hl7Seg("OBX", map[int]string{1: "2", 2: "TX", 5: "Creatinine 2.3 \\T\\ rising", 11: "F"}),
		hl7Seg("DG1", map[int]string{1: "1", 3: "I50.23^Acute on chronic systolic heart failure^I10", 6: "W", 16: "D7^Grey^Meredith^^^^MD", 26: "Y"}),
		hl7Seg("DG1", map[int]string{1: "2", 3: "428.23^CHF^I9"}))
	ev, err := ParseHL7(mdm, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	want := []claim.Evidence{
		{Kind: claim.KindDocumentedDx, Code: "I5023", Name: "Acute on chronic systolic heart failure", AuthorRole: claim.RolePhysician,
			Author: &claim.Provider{ID: "D7", Name: "Meredith Grey"}, Source: "HL7 DG1", POA: "Y"},
		{Kind: claim.KindNote, NoteType: "Progress note", Time: time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC), Source: "HL7 MDM document DOC55",
			Author: &claim.Provider{ID: "D7", Name: "Meredith Grey"}, AuthorRole: claim.RolePhysician,
			Text: "Assessment: acute on chronic systolic heart failure\nPlan: IV furosemide\nCreatinine 2.3 & rising"},
	}
	for i := range ev.Encounter.Evidence {
		ev.Encounter.Evidence[i].Time = ev.Encounter.Evidence[i].Time.UTC()
	}
	if !reflect.DeepEqual(ev.Encounter.Evidence, want) {
		t.Errorf("MDM evidence\n got %+v\nwant %+v", ev.Encounter.Evidence, want)
	}
	if len(ev.Warnings) != 1 || ev.Warnings[0].Loc.String() != "DG1-3" {
		t.Errorf("warnings %v, want the ICD-9 DG1-3", ev.Warnings)
	}
	oru := parseHL7(t, fmt.Sprintf(hl7MSH, "ORU^R01", "R9"), pid,
		hl7Seg("OBR", map[int]string{1: "1", 4: "71045^XR chest 1 view", 7: "20261202080000+0000", 32: "R3&Yang&Cristina"}),
		hl7Seg("OBX", map[int]string{1: "1", 2: "FT", 3: "18748-4^Diagnostic imaging study^LN", 5: "FINDINGS: bilateral infiltrates.", 11: "F"}),
		hl7Seg("OBX", map[int]string{1: "2", 2: "FT", 3: "18748-4^Diagnostic imaging study^LN", 5: "IMPRESSION: pneumonia.", 11: "F"}))
	ev, err = ParseHL7(oru, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Encounter.Evidence) != 1 {
		t.Fatalf("ORU report evidence %+v", ev.Encounter.Evidence)
	}
	n := ev.Encounter.Evidence[0]
	if n.Kind != claim.KindNote || n.NoteType != "XR chest 1 view" || n.Text != "FINDINGS: bilateral infiltrates.\nIMPRESSION: pneumonia." ||
		n.Author == nil || n.Author.Name != "Cristina Yang" || !n.Time.Equal(time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("ORU report note %+v", n)
	}
	// A result that cannot be read is refused naming its field.
	bad := parseHL7(t, fmt.Sprintf(hl7MSH, "ORU^R01", "R10"), pid,
		hl7Seg("OBR", map[int]string{1: "1"}), hl7Seg("OBX", map[int]string{1: "1", 2: "NM", 3: "2160-0^Creatinine^LN", 5: "2,3", 11: "F"}),
		hl7Seg("OBX", map[int]string{1: "2", 2: "NM", 3: "2160-0^Creatinine^LN", 5: "2.3", 14: "2026-12-01", 11: "F"}))
	_, err = ParseHL7(bad, time.UTC)
	var he *hl7.Error
	if !errors.As(err, &he) || he.Loc.String() != "OBX-5" || he.Loc.Sequence != 1 {
		t.Errorf("bad NM: %v, want OBX-5 of OBX 1", err)
	}
}
