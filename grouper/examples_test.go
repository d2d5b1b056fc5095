package grouper_test

import (
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
)

func intp(n int) *int { return &n }

// mk builds a v43.1 claim: sdx as CODE:POA.
func mk(pdx string, sdx []string, procs []string, sex string, status int, hosp string) *claim.Claim {
	c := &claim.Claim{Version: 431, Sex: sex, DischargeStatus: intp(status), HospitalStatus: hosp, PDX: &claim.Dx{Code: pdx, POA: "Y"}}
	for _, s := range sdx {
		code, poa, _ := strings.Cut(s, ":")
		c.SDX = append(c.SDX, claim.Dx{Code: code, POA: poa})
	}
	for _, p := range procs {
		c.Procedures = append(c.Procedures, claim.Proc{Code: p})
	}
	return c
}

// TestWorkedExamples checks the worked examples of the algorithm specification (§14).
func TestWorkedExamples(t *testing.T) {
	e := testEngine(t)
	type dxWant struct {
		i              int // index in result Dx (0 = PDX)
		affects        string
		initial, final string
		poaErr, hacs   string
	}
	tests := []struct {
		name     string
		c        *claim.Claim
		opt      grouper.Options
		initial  int
		final    int
		mdc      int
		grc      string
		finalSev string
		hacStat  string
		dx       []dxWant
		prAff    []string
	}{
		{"heart failure with MCC", mk("I5023", []string{"J9601:Y", "E119:Y"}, nil, "M", 1, ""), grouper.Options{}, 291, 291, 5, "OK", "MCC", "NOT_APPLICABLE",
			[]dxWant{{1, "BOTH", "MCC", "MCC", "POA_NOT_CHECKED", "[]"}, {2, "NONE", "NEITHER", "NEITHER", "POA_NOT_CHECKED", "[]"}}, nil},
		{"unrelated OR procedure", mk("J9601", []string{"I5023:Y", "J9602:Y"}, []string{"02703DZ"}, "M", 1, ""), grouper.Options{}, 981, 981, 4, "OK", "MCC", "NOT_APPLICABLE",
			[]dxWant{{1, "BOTH", "MCC", "MCC", "POA_NOT_CHECKED", "[]"}, {2, "NONE", "MCC_EXCLUDED", "MCC_EXCLUDED", "POA_NOT_CHECKED", "[]"}}, []string{"BOTH"}},
		{"multiple significant trauma", mk("S065X0A", []string{"S272XXA:Y", "S3600XA:Y"}, nil, "M", 1, ""), grouper.Options{}, 965, 965, 24, "OK", "NON_CC", "NOT_APPLICABLE",
			[]dxWant{{0, "BOTH", "NEITHER", "NEITHER", "POA_NOT_CHECKED", "[]"}, {1, "BOTH", "MCC_EXCLUDED_BY_DRG_LOGIC", "MCC_EXCLUDED_BY_DRG_LOGIC", "", ""}, {2, "NONE", "CC_EXCLUDED_BY_DRG_LOGIC", "CC_EXCLUDED_BY_DRG_LOGIC", "", ""}}, nil},
		{"CAUTI not POA", mk("I10", []string{"T83511A:N", "N390:N"}, nil, "M", 1, ""), grouper.Options{}, 305, 305, 5, "OK", "NON_CC", "FINAL_DRG_NO_CHANGE",
			[]dxWant{{1, "", "CC", "NEITHER", "POA_RECOGNIZED_NOT_POA", "[HAC 06 HAC_CRITERIA_MET hac06_sdx]"}, {2, "", "CC", "NEITHER", "POA_RECOGNIZED_NOT_POA", "[HAC 06 HAC_CRITERIA_MET hac06_show]"}}, nil},
		{"CAUTI, hospital status unknown", mk("I10", []string{"T83511A:N", "N390:N"}, nil, "M", 1, "UNKNOWN"), grouper.Options{}, 305, 999, 0, "HAC_STATUS_INVALID_MULT_HACS_POA_NOT_Y_W", "NONE", "FINAL_DRG_UNGROUPABLE", nil, nil},
		{"CAUTI, POA blank", mk("I10", []string{"T83511A:", "N390:Y"}, nil, "M", 1, ""), grouper.Options{}, 305, 999, 0, "HAC_MISSING_ONE_POA", "NONE", "FINAL_DRG_UNGROUPABLE",
			[]dxWant{{2, "", "", "", "", "[HAC 00 HAC_CRITERIA_NOT_MET hac06_show]"}}, nil},
		{"sex-dependent MDC, unknown sex", mk("A5400", nil, nil, "U", 1, ""), grouper.Options{}, 999, 999, 0, "INVALID_SEX", "NONE", "NOT_APPLICABLE", nil, nil},
		{"sex-dependent MDC, male", mk("A5400", nil, nil, "M", 1, ""), grouper.Options{}, 728, 728, 12, "OK", "NON_CC", "NOT_APPLICABLE", nil, nil},
		{"sex-dependent MDC, female", mk("A5400", nil, nil, "F", 1, ""), grouper.Options{}, 759, 759, 13, "OK", "NON_CC", "NOT_APPLICABLE", nil, nil},
		{"external cause as PDX", mk("W891XXA", nil, nil, "M", 1, ""), grouper.Options{}, 999, 999, 0, "DX_CANNOT_BE_PDX", "NONE", "NOT_APPLICABLE",
			[]dxWant{{0, "NONE", "NEITHER", "NEITHER", "POA_NOT_CHECKED", "[]"}}, nil},
		{"AMI died", mk("I214", []string{"J9601:Y", "I5023:Y"}, nil, "M", 20, ""), grouper.Options{}, 283, 283, 5, "OK", "MCC", "NOT_APPLICABLE", nil, nil},
		{"AMI alive, clinical significance", mk("I214", []string{"J9601:Y", "I5023:Y"}, nil, "M", 1, ""), grouper.Options{}, 280, 280, 5, "OK", "MCC", "NOT_APPLICABLE",
			[]dxWant{{1, "NONE", "", "", "", ""}, {2, "BOTH", "", "", "", ""}}, nil},
		{"AMI alive, code order", mk("I214", []string{"J9601:Y", "I5023:Y"}, nil, "M", 1, ""), grouper.Options{TieBreaker: grouper.CodeOrder}, 280, 280, 5, "OK", "MCC", "NOT_APPLICABLE",
			[]dxWant{{1, "BOTH", "", "", "", ""}, {2, "NONE", "", "", "", ""}}, nil},
		{"invalid PDX", mk("I50.23", nil, nil, "M", 1, ""), grouper.Options{}, 999, 999, 0, "INVALID_PDX", "NONE", "NOT_APPLICABLE", nil, nil},
		{"lower-case PDX is looked up upper-cased", mk("i5023", nil, nil, "M", 1, ""), grouper.Options{}, 293, 293, 5, "OK", "NON_CC", "NOT_APPLICABLE", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := e.Group(tc.c, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if r.Initial.DRG != tc.initial || r.Final.DRG != tc.final || r.Final.MDC != tc.mdc || r.Final.GRC.String() != tc.grc {
				t.Fatalf("got initial %d final %d MDC %d GRC %s; want %d %d %d %s", r.Initial.DRG, r.Final.DRG, r.Final.MDC, r.Final.GRC, tc.initial, tc.final, tc.mdc, tc.grc)
			}
			if r.Final.Severity.String() != tc.finalSev || r.HACStatus.String() != tc.hacStat {
				t.Errorf("final severity %s HAC status %s; want %s %s", r.Final.Severity, r.HACStatus, tc.finalSev, tc.hacStat)
			}
			for _, w := range tc.dx {
				d := r.Dx[w.i]
				check := func(field, got, want string) {
					if want != "" && got != want {
						t.Errorf("dx %s %s = %s, want %s", d.Code, field, got, want)
					}
				}
				check("affects", d.AffectsDRG.String(), w.affects)
				check("initial", d.InitialSeverity.String(), w.initial)
				check("final", d.FinalSeverity.String(), w.final)
				check("poa_error", d.POAError.String(), w.poaErr)
				check("hacs", d.HACs.String(), w.hacs)
			}
			for i, a := range tc.prAff {
				if got := r.Pr[i].AffectsDRG.String(); got != a {
					t.Errorf("procedure %s affects %s, want %s", r.Pr[i].Code, got, a)
				}
			}
		})
	}
}

// TestExplain checks that the explanation names the path, the rule and the SDX reasons.
func TestExplain(t *testing.T) {
	e := testEngine(t)
	r, err := e.Group(mk("J9601", []string{"I5023:Y", "J9602:Y"}, []string{"02703DZ"}, "M", 1, ""), grouper.Options{Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Principal diagnosis J9601: MDC 04",
		"Pre-MDC:", "none matched",
		"reroute to MDC 29",
		"DRG 981",
		"procedure 02703DZ",
		"J9602 (POA Y): is an MCC but excluded as CC/MCC because the principal diagnosis J9601",
		"I5023 (POA Y): is an MCC",
	} {
		if !strings.Contains(r.Explanation, want) {
			t.Errorf("explanation lacks %q:\n%s", want, r.Explanation)
		}
	}
	r2, _ := e.Group(mk("J9601", nil, nil, "M", 1, ""), grouper.Options{})
	if r2.Explanation != "" {
		t.Errorf("explanation without Explain option: %q", r2.Explanation)
	}
}
