package cdi

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/tables"
)

// TestDefaultRulesCodes: every code the default rules propose exists in the newest grouper
// version (levels come from the tables, so a retired code would silently mismeasure).
func TestDefaultRulesCodes(t *testing.T) {
	e := testEngine(t)
	r := DefaultRules()
	v := e.cat.MSDRG.Versions[len(e.cat.MSDRG.Versions)-1]
	check := func(where string, codes []string) {
		for _, c := range codes {
			if _, ok := tables.Pick(e.cat.MSDRG.Dx[c], v); !ok {
				t.Errorf("%s: %s is not a diagnosis code of version %s", where, c, v)
			}
		}
	}
	for _, id := range r.RuleIDs() {
		rule := r.Rules[id]
		for _, c := range append(slices.Clone(rule.Candidates), rule.Companions...) {
			check(id+" candidate", c.Codes)
		}
		for _, o := range rule.Query.Options {
			check(id+" option", o.Codes)
		}
		if len(rule.Terms) == 0 {
			t.Errorf("%s: no terms (Q7 cannot be checked)", id)
		}
	}
	if len(r.RuleIDs()) < 15 {
		t.Errorf("%d rules", len(r.RuleIDs()))
	}
}

func TestParseRulesErrors(t *testing.T) {
	base := func(patch string) string {
		// A minimal valid document, then the patch merged into it.
		doc := `{"version":"t","settings":{},"selectors":{"na":{"kind":"lab","names":["sodium"],"unit":"mmol/L"}},
		"indicators":{"na_low":{"label":"Na < 130","of":"na","op":"<","value":130}},
		"criteria":{},
		"rules":{"hypo":{"condition":"Hyponatremia","terms":["hyponatremia"],"criteria":"na_low","documented":["E871"],
		  "candidates":[{"codes":["E871"],"label":"hyponatremia"}],
		  "query":{"format":"multiple_choice","question":"q","options":[{"text":"Hyponatremia","codes":["E871"],"support":"na_low"}]}}}}`
		r, err := ParseRules([]byte(doc))
		if err != nil {
			t.Fatalf("base document: %v", err)
		}
		if patch == "" {
			return ""
		}
		_, err = r.Override([]byte(patch))
		if err == nil {
			return ""
		}
		return err.Error()
	}
	base("")
	for _, c := range []struct{ patch, want string }{
		{`{"rules":{"hypo":{"criteria":"na_lowx"}}}`, `unknown indicator or criterion "na_lowx"`},
		{`{"indicators":{"na_low":{"of":"nax"}}}`, `unknown selector "nax"`},
		{`{"indicators":{"na_low":{"op":"~"}}}`, `op: unknown "~"`},
		{`{"rules":{"hypo":{"query":{"format":"yes_no"}}}}`, "yes_no cannot introduce a new diagnosis"},
		{`{"rules":{"hypo":{"candidate":[]}}}`, `unknown field "candidate"`},
		{`{"selectors":{"na":{"kind":"labs"}}}`, `kind: unknown "labs"`},
		{`{"criteria":{"a":"b","b":"a"}}`, "nest too deep"},
		{`{"rules":{"hypo":{"criteria":{"at_least":3,"of":["na_low"]}}}}`, "at_least 3 of 1"},
		{`{"rules":{"hypo":{"criteria":{"all":["na_low"],"any":["na_low"]}}}}`, "exactly one of"},
		{`{"selectors":{"d":{"derive":{"op":"pow","a":"na","b":"na","name":"x"}}}}`, `derive.op: unknown "pow"`},
		{`[1]`, "must be a JSON object"},
		{`{"rules":{"hypo":{"query":{"options":[{"text":"Hyponatremia","codes":["E871"]}]}}}}`, "every option names the indicators that support it"},
		{`{"rules":{"hypo":{"query":{"options":[{"text":"Not significant","kind":"not_significant","codes":["E871"],"support":"na_low"}]}}}}`, "names no codes"},
		{`{"indicators":{"na_low":{"near":{"of":"nax","before_hours":1,"after_hours":1}}}}`, `unknown selector "nax"`},
		{`{"indicators":{"na_low":{"score":"sofa"}}}`, `unknown score "sofa"`},
		{`{"selectors":{"na":{"specimens":["plasma?"]}}}`, `unknown specimen "plasma?"`},
		{`{"selectors":{"na":{"plausible":[150,100]}}}`, "plausible: want [min, max]"},
		{`{"synonyms":{"sodium":["Na"],"nitrogen":["na"]}}`, "already a synonym"},
	} {
		if got := base(c.patch); !strings.Contains(got, c.want) {
			t.Errorf("patch %s: error %q, want it to contain %q", c.patch, got, c.want)
		}
	}
	if _, err := ParseRules([]byte(`{"rules":`)); err == nil {
		t.Error("truncated document accepted")
	}
}

// TestRulesOverride: a facility lowers the SpO2 threshold; fixture 03's SpO2 91 % then fires.
// The same patch placed under "facilities" applies to that facility only.
func TestRulesOverride(t *testing.T) {
	e := testEngine(t)
	f := loadFixtures(t)["03_arf_spo2_91_boundary_negative"]
	patch := `{"indicators": {"spo2_lt_91": {"value": 92, "label": "SpO2 < 92 % on room air"}}}`
	r, err := DefaultRules().Override([]byte(patch))
	if err != nil {
		t.Fatal(err)
	}
	if *r.Indicators["spo2_lt_91"].Value != 92 || *DefaultRules().Indicators["spo2_lt_91"].Value != 91 {
		t.Fatal("override did not apply, or changed the defaults")
	}
	rev, err := e.Review(&f.Encounter, ReviewOptions{Now: f.Now, Rules: r})
	if err != nil {
		t.Fatal(err)
	}
	if len(rev.Opportunities) != 1 || rev.Opportunities[0].ID != "rule:acute_respiratory_failure" {
		t.Fatalf("opportunities %+v", rev.Opportunities)
	}

	var doc map[string]any
	if err := json.Unmarshal(DefaultRulesJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	doc["facilities"] = map[string]json.RawMessage{"NORTH": json.RawMessage(patch)}
	b, _ := json.Marshal(doc)
	withFac, err := ParseRules(b)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := NewEngine(e.cat, e.g, withFac)
	if err != nil {
		t.Fatal(err)
	}
	enc := f.Encounter
	for fac, want := range map[string]int{"MAIN": 0, "NORTH": 1} {
		enc.Facility = fac
		rev, err := eng.Review(&enc, ReviewOptions{Now: f.Now})
		if err != nil {
			t.Fatal(err)
		}
		if len(rev.Opportunities) != want {
			t.Errorf("facility %s: %d opportunities, want %d", fac, len(rev.Opportunities), want)
		}
	}
	// null deletes: a facility without the obesity rule.
	r2, err := DefaultRules().Override([]byte(`{"rules": {"obesity_bmi": null}}`))
	if err != nil || slices.Contains(r2.RuleIDs(), "obesity_bmi") || !slices.Contains(DefaultRules().RuleIDs(), "obesity_bmi") {
		t.Errorf("delete by null: %v %v", err, r2.RuleIDs())
	}
}

func TestNegationAndClauses(t *testing.T) {
	cl := splitClauses("Temp 38.6, HR 112. No accessory muscle use; denies confusion. Patient is confused: CAM positive.")
	for _, c := range []struct {
		phrase string
		want   string
		ok     bool
	}{
		{"accessory muscle", "", false},
		{"confusion", "", false},
		{"confused", "Patient is confused", true},
		{"cam positive", "CAM positive", true},
		{"temp 38 6", "Temp 38.6", true},
	} {
		got, ok := findPhrase(cl, []string{norm(c.phrase)}, DefaultRules())
		if ok != c.ok || got != c.want {
			t.Errorf("%q: %q %v, want %q %v", c.phrase, got, ok, c.want, c.ok)
		}
	}
	// Five words of negation scope; a clause boundary ends it.
	cl = splitClauses("Does not meet criteria for severe malnutrition. No fever, severe muscle wasting.")
	if _, ok := findPhrase(cl, []string{norm("severe malnutrition")}, DefaultRules()); ok {
		t.Error("negated severe malnutrition matched")
	}
	if _, ok := findPhrase(cl, []string{norm("muscle wasting")}, DefaultRules()); !ok {
		t.Error("muscle wasting after a negated clause not matched")
	}
}

func TestIndicatorKinds(t *testing.T) {
	at := func(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }
	pts := func(vs ...float64) []point { // value, hour pairs
		var out []point
		for i := 0; i+1 < len(vs); i += 2 {
			out = append(out, point{v: vs[i], hasV: true, t: at(vs[i+1]), ev: []int{i / 2}, display: claim.Number(vs[i]), name: "x", source: "LAB"})
		}
		return out
	}
	sel := &Selector{Unit: "mg/dL"}
	val := func(f float64) *float64 { return &f }
	for _, c := range []struct {
		name string
		ind  Indicator
		pts  []point
		age  *int
		met  bool
	}{
		{"rise 0.3 in 24 h", Indicator{Change: &ChangeSpec{Direction: "rise", Amount: 0.3, Hours: 48}}, pts(1.1, 0, 1.4, 24), nil, true},
		{"rise 0.29", Indicator{Change: &ChangeSpec{Direction: "rise", Amount: 0.3, Hours: 48}}, pts(1.0, 0, 1.29, 24), nil, false},
		{"rise at 48 h exactly", Indicator{Change: &ChangeSpec{Direction: "rise", Amount: 0.3, Hours: 48}}, pts(1.0, 0, 1.3, 48), nil, true},
		{"rise at 49 h", Indicator{Change: &ChangeSpec{Direction: "rise", Amount: 0.3, Hours: 48}}, pts(1.0, 0, 1.3, 49), nil, false},
		{"fall is not a rise", Indicator{Change: &ChangeSpec{Direction: "rise", Amount: 0.3, Hours: 48}}, pts(1.5, 0, 1.0, 24), nil, false},
		{"drop 2.0", Indicator{Change: &ChangeSpec{Direction: "drop", Amount: 2, Hours: 72}}, pts(13, 0, 12, 10, 11, 20), nil, true},
		{"ratio 1.5", Indicator{Ratio: &RatioSpec{Min: 1.5, Hours: 168}}, pts(0.8, 0, 1.2, 100), nil, true},
		{"ratio outside 7 days", Indicator{Ratio: &RatioSpec{Min: 1.5, Hours: 168}}, pts(0.8, 0, 1.2, 200), nil, false},
		{"rise of one reporting step from an implausible baseline", Indicator{Change: &ChangeSpec{Direction: "rise", Amount: 0.3, Hours: 48, Resolution: 0.1, BaselineFloor: 0.5}}, pts(0.2, 0, 0.5, 24), nil, false},
		{"rise of 0.3 from a plausible baseline", Indicator{Change: &ChangeSpec{Direction: "rise", Amount: 0.3, Hours: 48, Resolution: 0.1, BaselineFloor: 0.5}}, pts(0.6, 0, 0.9, 24), nil, true},
		{"0.2 to 0.3 is 1.5 x but one reporting step", Indicator{Ratio: &RatioSpec{Min: 1.5, Hours: 168, Resolution: 0.1}}, pts(0.2, 0, 0.3, 24), nil, false},
		{"0.3 to 0.6 from below the floor", Indicator{Ratio: &RatioSpec{Min: 1.5, Hours: 168, Resolution: 0.1, BaselineFloor: 0.5}}, pts(0.3, 0, 0.6, 24), nil, false},
		{"0.4 to 0.8 counts from the floor", Indicator{Ratio: &RatioSpec{Min: 1.5, Hours: 168, Resolution: 0.1, BaselineFloor: 0.5}}, pts(0.4, 0, 0.8, 24), nil, true},
		{"steady fall from a normal value", Indicator{Ratio: &RatioSpec{Min: 1.5, Hours: 168, Recovery: true, Resolution: 0.1, BaselineFloor: 0.5, RecoveryPeakMin: 1.3}}, pts(1.0, 0, 0.8, 24, 0.6, 48, 0.4, 72, 0.3, 96), nil, false},
		{"fall from an abnormal peak", Indicator{Ratio: &RatioSpec{Min: 1.5, Hours: 168, Recovery: true, Resolution: 0.1, BaselineFloor: 0.5, RecoveryPeakMin: 1.3}}, pts(2.8, 0, 1.9, 24, 1.0, 72), nil, true},
		{"count 2", Indicator{Op: ">", Value: val(180), Count: 2}, pts(200, 0, 150, 5, 190, 9), nil, true},
		{"count 2 not met", Indicator{Op: ">", Value: val(180), Count: 2}, pts(200, 0, 150, 5), nil, false},
		{"latest only", Indicator{Op: "<", Value: val(30), Latest: true}, pts(25, 0, 35, 9), nil, false},
		{"span 90 days", Indicator{Op: "<", Value: val(60), SpanDays: 90}, pts(50, 0, 45, 24*91), nil, true},
		{"span 30 days", Indicator{Op: "<", Value: val(60), SpanDays: 90}, pts(50, 0, 45, 24*30), nil, false},
		{"persistent span broken by a normal value", Indicator{Op: "<", Value: val(60), SpanDays: 90, Persistent: true}, pts(45, 0, 72, 24*60, 50, 24*100), nil, false},
		{"persistent span", Indicator{Op: "<", Value: val(60), SpanDays: 90, Persistent: true}, pts(72, 0, 45, 24*60, 50, 24*100, 48, 24*160), nil, true},
		{"age unknown", Indicator{Op: "<", Value: val(20), AgeMin: 70}, pts(19, 0), nil, false},
		{"age 70", Indicator{Op: "<", Value: val(20), AgeMin: 70}, pts(19, 0), ptr(70), true},
		{"presence", Indicator{}, pts(1, 0), nil, true},
		{"presence of nothing", Indicator{}, nil, nil, false},
	} {
		ind := c.ind
		ind.id, ind.Label, ind.sel = "x", c.name, sel
		r := ind.evaluate(c.pts, c.age)
		if r.Met != c.met {
			t.Errorf("%s: met %v, want %v (%s)", c.name, r.Met, c.met, r.Explain)
		}
		if r.Explain == "" {
			t.Errorf("%s: no explanation", c.name)
		}
	}
}

// TestUnitsAndDerivedValues reviews evidence in other units and derived values: °F, µmol/L,
// FiO2 in percent, MAP from systolic and diastolic pressure, BMI from weight and height in
// pounds and inches; a value in an unknown unit is reported, not used.
func TestUnitsAndDerivedValues(t *testing.T) {
	e := testEngine(t)
	ev := func(kind, name string, v float64, unit string, h int) claim.Evidence {
		return claim.Evidence{Kind: kind, Name: name, Value: claim.Number(v), Unit: unit, Time: t0.Add(time.Duration(h) * time.Hour), Source: "test"}
	}
	enc := &claim.Encounter{Claim: claim.Claim{PDX: &claim.Dx{Code: "J189", POA: "Y"}}, Account: "U1", AdmitDate: claim.Date{Year: 2026, Month: 5, Day: 4},
		Evidence: []claim.Evidence{
			ev("vital", "Temperature", 101.3, "[degF]", 0),
			ev("lab", "Creatinine", 133, "umol/L", 0),
			ev("lab", "PaO2", 70, "mmHg", 1),
			ev("vital", "FiO2", 40, "", 1),
			ev("vital", "SBP", 84, "mmHg", 2),
			ev("vital", "DBP", 48, "mmHg", 2),
			ev("measurement", "Weight", 300, "lb", 3),
			ev("measurement", "Height", 66, "in", 3),
			ev("lab", "Sodium", 3000, "mg/dL", 4),
		}}
	sepsis2, err := DefaultRules().Override([]byte(`{"settings": {"sepsis_definition": "sepsis-2"}}`))
	if err != nil {
		t.Fatal(err)
	}
	rev, err := e.Review(enc, ReviewOptions{Rules: sepsis2})
	if err != nil {
		t.Fatal(err)
	}
	find := func(id string) IndicatorResult {
		for _, r := range rev.Rules {
			for _, i := range r.Indicators {
				if i.ID == id {
					return i
				}
			}
		}
		t.Fatalf("indicator %s not evaluated", id)
		return IndicatorResult{}
	}
	for id, want := range map[string]bool{"temp_gt_38": true, "pf_lt_300": true, "map_lt_65": true, "bmi_ge_45": true, "bmi_ge_50": false} {
		if r := find(id); r.Met != want {
			t.Errorf("%s: met %v, want %v (%s)", id, r.Met, want, r.Explain)
		}
	}
	if r := find("pf_lt_300"); r.Cited[0].Value.Num != 175 || len(r.Cited[0].Evidence) != 2 {
		t.Errorf("P/F ratio cited %+v", r.Cited[0])
	}
	if r := find("map_lt_65"); r.Cited[0].Value.Num != 60 {
		t.Errorf("MAP cited %+v", r.Cited[0])
	}
	if r := find("bmi_ge_45"); r.Cited[0].Value.Num != 48.4 {
		t.Errorf("BMI cited %+v", r.Cited[0])
	}
	if !slices.ContainsFunc(rev.Warnings, func(w string) bool { return strings.Contains(w, `unit "mg/dL"`) && strings.Contains(w, "Sodium") }) {
		t.Errorf("no warning for the sodium in mg/dL: %v", rev.Warnings)
	}
}

// TestSelectorFilters: author role, note type, route and context filters, names matched
// exactly or as words.
func TestSelectorFilters(t *testing.T) {
	rules := DefaultRules()
	mk := func(doc string) *Selector {
		s := &Selector{}
		if err := json.Unmarshal([]byte(doc), s); err != nil {
			t.Fatal(err)
		}
		if err := s.compile(rules); err != nil {
			t.Fatal(err)
		}
		return s
	}
	view := func(e claim.Evidence) *fact {
		fs := readFacts(&claim.Encounter{Evidence: []claim.Evidence{e}}, &claim.Claim{}, rules, func(c string) string { return c })
		return &fs.items[0]
	}
	np := mk(`{"kind": "note", "author_roles": ["advanced_practice", "physician"], "note_types": ["progress"], "text_any": ["confused"]}`)
	for _, c := range []struct {
		e    claim.Evidence
		want bool
	}{
		{claim.Evidence{Kind: "note", AuthorRole: "Advanced_Practice", NoteType: "Progress Note", Text: "Confused overnight."}, true},
		{claim.Evidence{Kind: "note", AuthorRole: "nurse", NoteType: "progress note", Text: "Confused overnight."}, false},
		{claim.Evidence{Kind: "note", AuthorRole: "physician", NoteType: "H&P", Text: "Confused overnight."}, false},
		{claim.Evidence{Kind: "note", AuthorRole: "physician", NoteType: "progress note", Text: "Not confused."}, false},
	} {
		if _, got := np.matches(view(c.e), rules); got != c.want {
			t.Errorf("notes %+v: %v, want %v", c.e, got, c.want)
		}
	}
	med := mk(`{"kind": "med", "names": ["furosemide"], "routes": ["IV", "intravenous"]}`)
	for _, c := range []struct {
		e    claim.Evidence
		want bool
	}{
		{claim.Evidence{Kind: "med", Name: "Furosemide 40 mg/4 mL injection", Route: "IV push"}, true},
		{claim.Evidence{Kind: "med", Name: "furosemide", Route: "PO"}, false},
		{claim.Evidence{Kind: "med", Name: "Furosemidex", Route: "IV"}, false},
	} {
		if _, got := med.matches(view(c.e), rules); got != c.want {
			t.Errorf("meds %+v: %v, want %v", c.e, got, c.want)
		}
	}
	lab := mk(`{"kind": "lab", "names": ["sodium"], "loinc": ["2951-2"], "context_none": ["urine"]}`)
	for _, c := range []struct {
		e    claim.Evidence
		want bool
	}{
		{claim.Evidence{Kind: "lab", Name: "Sodium"}, true},
		{claim.Evidence{Kind: "lab", Name: "Na, serum", LOINC: "2951-2"}, true},
		{claim.Evidence{Kind: "lab", Name: "Sodium, urine"}, false},
		{claim.Evidence{Kind: "lab", Name: "Sodium", Context: "random urine"}, false},
		{claim.Evidence{Kind: "vital", Name: "Sodium"}, false},
	} {
		if _, got := lab.matches(view(c.e), rules); got != c.want {
			t.Errorf("labs %+v: %v, want %v", c.e, got, c.want)
		}
	}
}

// TestRulesWordingPassesLint: every label, question and option text of the default rules is
// wording a provider may read (the linter's vocabulary and leading-phrase checks, Q3 and Q8).
func TestRulesWordingPassesLint(t *testing.T) {
	r := DefaultRules()
	check := func(where, text string) {
		q := compliantQuery()
		q.Indicators[0].Label, q.Indicators[0].Detail = text, ""
		for _, v := range Lint(&q, LintOptions{}).Violations {
			if v.Rule == "Q3" || v.Rule == "Q8" {
				t.Errorf("%s %q: %s %s", where, text, v.Rule, v.Message)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(r.Indicators)) {
		check("indicators."+id+".label", r.Indicators[id].Label)
	}
	for _, id := range r.RuleIDs() {
		rule := r.Rules[id]
		check("rules."+id+".question", rule.Query.Question)
		if rule.Query.OpenQuestion != "" {
			check("rules."+id+".open_question", rule.Query.OpenQuestion)
		}
		for _, o := range rule.Query.Options {
			check("rules."+id+".option", o.Text)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(r.Scores)) {
		for _, c := range r.Scores[id].Components {
			check("scores."+id+"."+c.ID, r.Scores[id].Label+" "+c.Label)
		}
	}
}
