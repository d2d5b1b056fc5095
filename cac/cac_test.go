package cac

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/msdrg-cdi/drg/notes"
)

// A small vocabulary of its own keeps these tests about the engine, not the shipped files.
const testDiagnoses = `{"concepts": [
 {"id": "hf", "terms": ["heart failure", "chf"], "code": "I50.9", "class": "condition", "chronic": true, "meds": ["furosemide"],
  "integral": ["R06.0", "R60"],
  "refine": [{"if": [["acute on chronic"], ["diastolic", "preserved ejection fraction"]], "code": "I50.33"}]},
 {"id": "htn", "terms": ["hypertension", "htn"], "code": "I10", "class": "condition", "chronic": true, "meds": ["amlodipine", "lisinopril"]},
 {"id": "pe", "terms": ["pulmonary embolism"], "code": "I26.99", "class": "condition"},
 {"id": "pna", "terms": ["pneumonia"], "code": "J18.9", "class": "condition"},
 {"id": "pu", "terms": ["pressure injury", "pressure ulcer"], "code": "L89.90", "class": "condition"},
 {"id": "dyspnea", "terms": ["dyspnea", "shortness of breath"], "code": "R06.00", "class": "symptom"},
 {"id": "obesity", "terms": ["obesity"], "code": "E66.9", "class": "condition"},
 {"id": "dnr", "terms": ["dnr"], "code": "Z66", "class": "status"},
 {"id": "hypothyroid", "terms": ["hypothyroidism"], "code": "E03.9", "class": "condition", "chronic": true, "meds": ["levothyroxine"]},
 {"id": "dvt", "terms": ["dvt"], "code": "I82.409", "class": "condition", "history": "Z86.718"}
]}`

const testProcedures = `{"procedures": [
 {"id": "chole", "terms": ["laparoscopic cholecystectomy"], "code": "0FT44ZZ", "why": "Resection of gallbladder, percutaneous endoscopic"},
 {"id": "vent", "terms": ["mechanical ventilation"], "code": "5A1935Z", "refine": [{"min_hours": 96, "code": "5A1955Z"}, {"min_hours": 24, "code": "5A1945Z"}]}
]}`

var testTitles = map[string]string{"I509": "Heart failure, unspecified", "I5033": "Acute on chronic diastolic heart failure", "I10": "Essential hypertension",
	"I110": "Hypertensive heart disease with heart failure", "I2699": "Other pulmonary embolism", "J189": "Pneumonia", "L8990": "Pressure ulcer",
	"R0600": "Dyspnea", "B353": "Tinea pedis", "E669": "Obesity", "Z66": "DNR", "E039": "Hypothyroidism", "I82409": "DVT", "Z86718": "History of DVT",
	"Z7901": "Long term anticoagulants", "Z794": "Long term insulin", "Z6836": "BMI 36", "0FT44ZZ": "Resection of gallbladder", "5A1935Z": "vent <24",
	"5A1945Z": "vent 24-96", "5A1955Z": "vent >96", "Z6830": "BMI 30"}

func testEngine(t testing.TB) *Engine {
	t.Helper()
	fsys := fstest.MapFS{
		"r/diagnoses_test.json": {Data: []byte(testDiagnoses)},
		"r/procedures.json":     {Data: []byte(testProcedures)},
	}
	r, err := LoadRules(withFiles(fsys), "r")
	if err != nil {
		t.Fatal(err)
	}
	rd, err := notes.DefaultReader()
	if err != nil {
		t.Fatal(err)
	}
	look := func(c string) (string, bool, bool) { s, ok := testTitles[c]; return s, ok, ok }
	index := func(words string) (string, string, bool) {
		if words == "tinea pedis" {
			return "B353", "Tinea, pedis", true
		}
		return "", "", false
	}
	e, err := NewEngineWithIndex(rd, r, look, look, index)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// withFiles adds the shipped conventions and medications to a test file system.
func withFiles(fsys fstest.MapFS) fstest.MapFS {
	for _, n := range []string{"conventions.json", "medications.json"} {
		b, err := ruleFiles.ReadFile("rules/" + n)
		if err != nil {
			panic(err)
		}
		fsys["r/"+n] = &fstest.MapFile{Data: b}
	}
	return fsys
}

func codesOf(r Result) (pdx string, sdx, pr []string) {
	if r.PDX != nil {
		pdx = r.PDX.Code
	}
	for _, s := range r.SDX {
		sdx = append(sdx, s.Code)
	}
	for _, s := range r.Procedures {
		pr = append(pr, s.Code)
	}
	return
}

var day = time.Date(2026, 5, 3, 9, 0, 0, 0, time.UTC)

func note(id, typ, role string, h int, text string) notes.Note {
	return notes.Note{ID: id, Type: typ, AuthorRole: role, Time: day.Add(time.Duration(h) * time.Hour), Text: text}
}

func TestCodingPolicy(t *testing.T) {
	e := testEngine(t)
	tests := []struct {
		name     string
		notes    []notes.Note
		pdx      string
		sdx, pr  []string
		notCoded map[string]string // words → reason
	}{
		{name: "hypertension with heart failure: I11.0 first, the HF type from the later attending note",
			notes: []notes.Note{
				note("n1", "H&P", "resident", 0, "HPI: 78F w/ h/o HTN p/w dyspnea.\nA/P:\n1. CHF exacerbation - IV furosemide\n2. HTN - cont amlodipine\n3. r/o pulmonary embolism"),
				note("n2", "nursing note", "nurse", 10, "Stage 2 pressure injury sacrum, foam dressing."),
				note("n3", "discharge summary", "physician", 48, "Final Diagnoses:\n1. Acute on chronic diastolic heart failure\n2. Hypertension\nHospital Course: CT negative for pulmonary embolism. No pressure injury on my exam.")},
			pdx: "I110", sdx: []string{"I5033"},
			notCoded: map[string]string{"pulmonary embolism": "negated", "pressure injury": "negated", "dyspnea": "not_a_diagnosis"}},
		{name: "uncertain at discharge is coded; uncertain only early is not",
			notes: []notes.Note{
				note("n1", "H&P", "physician", 0, "Assessment: possible pulmonary embolism, probable pneumonia."),
				note("n2", "discharge summary", "physician", 30, "Discharge Diagnoses:\n1. Probable pneumonia")},
			pdx: "J189", notCoded: map[string]string{"pulmonary embolism": "uncertain"}},
		{name: "a later note that rules a diagnosis out wins",
			notes: []notes.Note{
				note("n1", "H&P", "physician", 0, "A/P: pneumonia, start ceftriaxone. Heart failure - furosemide."),
				note("n2", "discharge summary", "physician", 30, "Diagnoses:\n1. Heart failure\nPneumonia was ruled out.")},
			pdx: "I509", notCoded: map[string]string{"Pneumonia": "ruled_out"}},
		{name: "chronic condition in the history coded when treated; history of resolved DVT gives the Z code",
			notes: []notes.Note{note("n1", "discharge summary", "physician", 0,
				"DISCHARGE DIAGNOSES: Pneumonia.\nPAST MEDICAL HISTORY: Hypothyroidism. History of DVT in 2019.\nDISCHARGE MEDICATIONS: levothyroxine 50 mcg daily, warfarin 5 mg daily.\nCODE STATUS: DNR.")},
			pdx: "J189", sdx: []string{"E039", "Z86718", "Z66", "Z7901"}},
		{name: "chronic condition in the history without treatment is not coded",
			notes: []notes.Note{note("n1", "discharge summary", "physician", 0, "DISCHARGE DIAGNOSES: Pneumonia.\nPAST MEDICAL HISTORY: Hypothyroidism.")},
			pdx:   "J189", notCoded: map[string]string{"Hypothyroidism": "not_a_diagnosis"}},
		{name: "BMI with a provider-documented obesity; procedure from the operative note, not the past surgical history",
			notes: []notes.Note{note("n1", "discharge summary", "physician", 0,
				"DISCHARGE DIAGNOSES:\n1. Pneumonia\n2. Obesity, BMI 36.2\nPAST SURGICAL HISTORY: laparoscopic cholecystectomy 2010.\nPROCEDURES: mechanical ventilation for 5 days.")},
			pdx: "J189", sdx: []string{"E669", "Z6836"}, pr: []string{"5A1955Z"},
			notCoded: map[string]string{"laparoscopic cholecystectomy": "historical"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Code(tt.notes)
			pdx, sdx, pr := codesOf(r)
			if pdx != tt.pdx || !sameSet(sdx, tt.sdx) || !sameSet(pr, tt.pr) {
				t.Errorf("got pdx %s sdx %v pr %v; want %s %v %v\nnot coded: %+v", pdx, sdx, pr, tt.pdx, tt.sdx, tt.pr, r.NotCoded)
			}
			for words, reason := range tt.notCoded {
				if !slices.ContainsFunc(r.NotCoded, func(n NotCoded) bool { return n.Text == words && n.Reason == reason }) {
					t.Errorf("not_coded lacks %q (%s): %+v", words, reason, r.NotCoded)
				}
			}
			checkSpans(t, tt.notes, r)
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func checkSpans(t *testing.T, ns []notes.Note, r Result) {
	t.Helper()
	text := map[string]string{}
	for _, n := range ns {
		text[n.ID] = n.Text
	}
	var all []Suggestion
	if r.PDX != nil {
		all = append(all, *r.PDX)
	}
	for _, s := range append(append(all, r.SDX...), r.Procedures...) {
		if len(s.Evidence) == 0 {
			t.Errorf("%s has no evidence", s.Code)
		}
		for _, ev := range s.Evidence {
			if text[ev.Note][ev.Start:ev.End] != ev.Text {
				t.Errorf("%s: span %s[%d:%d] is not %q", s.Code, ev.Note, ev.Start, ev.End, ev.Text)
			}
		}
		if strings.TrimSpace(s.Why) == "" {
			t.Errorf("%s has no why", s.Code)
		}
	}
}

func TestEngineLeavesOutCodesTheYearLacks(t *testing.T) {
	r, err := LoadRules(withFiles(fstest.MapFS{"r/diagnoses_x.json": {Data: []byte(`{"concepts":[{"id":"x","terms":["foo"],"code":"Q99.99","class":"condition"}]}`)},
		"r/procedures.json": {Data: []byte(`{"procedures":[]}`)}}), "r")
	if err != nil {
		t.Fatal(err)
	}
	rd, _ := notes.DefaultReader()
	e, err := NewEngine(rd, r, func(string) (string, bool, bool) { return "", false, false }, func(string) (string, bool, bool) { return "", false, false })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(e.Warnings, func(w string) bool { return strings.Contains(w, "Q99.99") && strings.Contains(w, "diagnoses_x.json") }) {
		t.Errorf("warnings %v: want one naming Q99.99 and its file", e.Warnings)
	}
	if res := e.Code([]notes.Note{{ID: "n", Text: "Diagnoses: foo"}}); res.PDX != nil {
		t.Errorf("suggested %s, a code the year does not hold", res.PDX.Code)
	}
}

func TestLoadRulesRejectsDuplicateConcepts(t *testing.T) {
	c := `{"concepts":[{"id":"x","terms":["foo"],"code":"I10"}]}`
	twice := `{"concepts":[{"id":"x","terms":["foo"],"code":"I10"},{"id":"x","terms":["bar"],"code":"I10"}]}`
	_, err := LoadRules(withFiles(fstest.MapFS{"r/diagnoses_a.json": {Data: []byte(twice)}, "r/diagnoses_b.json": {Data: []byte(c)},
		"r/procedures.json": {Data: []byte(`{"procedures":[]}`)}}), "r")
	if err == nil || !strings.Contains(err.Error(), "diagnoses_a.json") {
		t.Errorf("err %v: want the duplicate named with its file", err)
	}
}

func TestIndexFallback(t *testing.T) {
	e := testEngine(t)
	ns := []notes.Note{note("n1", "discharge summary", "physician", 0,
		"DISCHARGE DIAGNOSES:\n1. Pneumonia\n2. Tinea pedis, treated with clotrimazole\n3. No tinea pedis")}
	r := e.Code(ns)
	_, sdx, _ := codesOf(r)
	if !slices.Equal(sdx, []string{"B353"}) {
		t.Errorf("sdx %v, want [B353] from the Alphabetic Index", sdx)
	}
	checkSpans(t, ns, r)
}

// FuzzCode: any text codes without a panic and every span is the note's bytes.
func FuzzCode(f *testing.F) {
	e := testEngine(f)
	f.Add("DISCHARGE DIAGNOSES:\n1. CHF w/ HTN\n2. Tinea pedis, s/p chole\nPROCEDURES: mechanical ventilation for 5 days")
	f.Add("A/P: r/o PE; h/o DVT -- on warfarin x 5 days, intubated 6/11 04:05, extubated 6/15 10:30")
	f.Fuzz(func(t *testing.T, text string) {
		ns := []notes.Note{note("n1", "discharge summary", "physician", 0, text), note("n2", "H&P", "physician", -5, text)}
		checkSpans(t, ns, e.Code(ns))
	})
}
