package cdi

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestApplyAnswer answers the generated query of fixture opportunities and checks the codes
// and DRG the answer leads to (the query's impact), for each kind of option action.
func TestApplyAnswer(t *testing.T) {
	e := testEngine(t)
	fx := loadFixtures(t)
	for _, c := range []struct {
		fixture, opp, option string // option: text prefix of the option chosen
		codes                []string
		outcome              string
		wantPDX              string
		wantSDX              []string
		drgBefore, drgAfter  int
	}{
		{"07_sepsis3_positive_no_shock_without_pressor", "rule:sepsis_sofa", "Severe sepsis", nil, OutcomeAgree, "A419", []string{"J189", "R6520"}, 195, 871},
		{"33_pneumonia_pseudomonas_principal", "rule:pneumonia_organism", "Pneumonia due to Pseudomonas", nil, OutcomeAgree, "J151", nil, 195, 179},
		{"10_sepsis_clinical_validation", "cv:sepsis_sofa", "Sepsis, unspecified organism was ruled out", nil, OutcomeAgree, "N390", nil, 872, 690},
		{"38_pressure_injury_missing_poa", "poa:L89154", "Yes", nil, OutcomeAgree, "J189", []string{"L89154"}, 999, 193},
		{"42_conflict_dietitian_only", "conflict:non_provider:E440", "Yes", nil, OutcomeAgree, "J189", []string{"E440"}, 195, 194},
		{"20_ckd_stage_specificity", "rule:chronic_kidney_disease_stage", "Chronic kidney disease stage 4", nil, OutcomeAgree, "J189", []string{"N184"}, 195, 194},
		{"39_obesity_bmi_calculated_positive", "rule:obesity_bmi", "Morbid", nil, OutcomeAgree, "J189", []string{"E6601", "Z6841"}, 195, 194},
		{"01_arf_hypoxic_positive", "rule:acute_respiratory_failure", "Other", []string{"J96.02"}, OutcomeOther, "J189", []string{"J9602"}, 195, 193},
		{"01_arf_hypoxic_positive", "rule:acute_respiratory_failure", "Clinically undetermined", nil, OutcomeUndetermined, "J189", nil, 195, 195},
	} {
		t.Run(c.fixture+"/"+c.option, func(t *testing.T) {
			f := fx[c.fixture]
			rev := f.review(t, e)
			var opp *Opportunity
			for i := range rev.Opportunities {
				if rev.Opportunities[i].ID == c.opp {
					opp = &rev.Opportunities[i]
				}
			}
			if opp == nil {
				t.Fatalf("no opportunity %s", c.opp)
			}
			q, err := generate(t, f, rev, opp)
			if err != nil {
				t.Fatal(err)
			}
			idx := slices.IndexFunc(q.Options, func(o Option) bool { return strings.HasPrefix(o.Text, c.option) })
			if idx < 0 {
				t.Fatalf("no option %q in %+v", c.option, q.Options)
			}
			q, err = Send(q, specialist.ID, f.Now, nil, LintOptions{})
			if err != nil {
				t.Fatal(err)
			}
			q, err = AnswerQuery(q, Answer{Outcome: c.outcome, Option: &idx, Codes: c.codes, Text: "answered in the progress note",
				AuthenticatedBy: "P100", At: f.Now.Add(6 * time.Hour)}, "P100")
			if err != nil {
				t.Fatal(err)
			}
			enc, eff, err := e.ApplyAnswer(&f.Encounter, &q)
			if err != nil {
				t.Fatal(err)
			}
			var sdx []string
			for _, d := range enc.SDX {
				sdx = append(sdx, d.Code)
			}
			if enc.PDX.Code != c.wantPDX || !slices.Equal(sdx, c.wantSDX) {
				t.Errorf("codes %s %v, want %s %v", enc.PDX.Code, sdx, c.wantPDX, c.wantSDX)
			}
			if eff.DRGBefore != c.drgBefore || eff.DRGAfter != c.drgAfter {
				t.Errorf("effect %+v, want DRG %d → %d", eff, c.drgBefore, c.drgAfter)
			}
			if c.fixture == "38_pressure_injury_missing_poa" && (enc.SDX[0].POA != "Y" || !slices.Equal(eff.POAChanged, []string{"L89154:Y"})) {
				t.Errorf("POA not set: %+v %+v", enc.SDX, eff)
			}
			if c.drgBefore == c.drgAfter && eff.Note == "" {
				t.Errorf("no note for an answer without change: %+v", eff)
			}
			if _, err := Close(q, &eff, "answered", specialist.ID, f.Now.Add(7*time.Hour)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestReviewJSONRoundTrip: the API persists reviews as JSON and generates queries later from
// the stored opportunity; the round trip must not change the query.
func TestReviewJSONRoundTrip(t *testing.T) {
	e := testEngine(t)
	for name, f := range loadFixtures(t) {
		rev := f.review(t, e)
		b, err := json.Marshal(rev)
		if err != nil {
			t.Fatal(err)
		}
		var back Review
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := range rev.Opportunities {
			q1, err1 := generate(t, f, rev, &rev.Opportunities[i])
			q2, err2 := generate(t, f, &back, &back.Opportunities[i])
			if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(q1.QueryContent, q2.QueryContent) {
				t.Errorf("%s %s: query differs after a JSON round trip", name, rev.Opportunities[i].ID)
			}
		}
	}
}

// TestReviewConcurrent reviews every fixture from several goroutines at once (run with
// -race): the engine and the rules are shared, read-only state.
func TestReviewConcurrent(t *testing.T) {
	e := testEngine(t)
	fx := loadFixtures(t)
	want := map[string][]byte{}
	for name, f := range fx {
		b, err := json.Marshal(f.review(t, e))
		if err != nil {
			t.Fatal(err)
		}
		want[name] = b
	}
	errs := make(chan string, 4*len(fx))
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for name, f := range fx {
				opt := ReviewOptions{Now: f.Now}
				if len(f.RulesOverride) > 0 {
					r, err := DefaultRules().Override(f.RulesOverride)
					if err != nil {
						errs <- err.Error()
						return
					}
					opt.Rules = r
				}
				rev, err := e.Review(&f.Encounter, opt)
				if err != nil {
					errs <- err.Error()
					return
				}
				if b, _ := json.Marshal(rev); string(b) != string(want[name]) {
					errs <- name + ": review differs under concurrency"
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
