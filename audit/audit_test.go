package audit

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/internal/shared"
	"github.com/msdrg-cdi/drg/tables"
)

func dx(code, poa string) claim.Dx { return claim.Dx{Code: code, POA: poa} }

func TestCompare(t *testing.T) {
	coder := Coding{PDX: dx("J18.9", "Y"), SDX: []claim.Dx{dx("E119", "Y"), dx("N179", "N"), dx("I10", "Y")},
		Procedures: []claim.Proc{{Code: "5A1955Z"}}, DRG: 194, Weight: 0.9}
	auditor := Coding{PDX: dx("J189", "Y"), SDX: []claim.Dx{dx("E119", "Y"), dx("N179", "Y"), dx("J9601", "Y")},
		Procedures: []claim.Proc{{Code: "5A1955Z"}, {Code: "0BH17EZ"}}, DRG: 193, Weight: 1.3}
	c := Compare(coder, auditor)
	if !c.PDXAgree || c.SDXBoth != 2 || c.SDXCoderOnly != 1 || c.SDXAuditorOnly != 1 || c.ProcBoth != 1 || c.ProcAuditorOnly != 1 ||
		c.POACompared != 2 || c.POAAgree != 1 || c.DRGAgree || c.WeightDiff > -0.39 || c.WeightDiff < -0.41 {
		t.Fatalf("comparison %+v", c)
	}
	var kinds []string
	for _, f := range c.Findings {
		kinds = append(kinds, f.Kind+":"+f.Code)
	}
	if got := strings.Join(kinds, " "); got != "sdx_missing:J9601 poa:N179 sdx_extra:I10 proc_missing:0BH17EZ drg:" {
		t.Errorf("findings %s", got)
	}
}

// TestSummarize checks the aggregation on three audited cases computed by hand.
func TestSummarize(t *testing.T) {
	cases := []Case{
		{"e1", "alice", "MDC04", Comparison{PDXAgree: true, SDXBoth: 3, SDXCoderOnly: 1, POACompared: 3, POAAgree: 3, ProcBoth: 1, DRGAgree: true}},
		{"e2", "alice", "MDC05", Comparison{PDXAgree: false, SDXBoth: 1, SDXAuditorOnly: 2, POACompared: 1, POAAgree: 0, ProcAuditorOnly: 1, WeightDiff: -0.5}},
		{"e3", "bob", "MDC05", Comparison{PDXAgree: true, SDXBoth: 2, POACompared: 2, POAAgree: 2, DRGAgree: false, WeightDiff: 0.25}},
	}
	r := Summarize(cases)
	o := r.Overall
	// PDX 2/3; SDX recall 6/(6+2)=0.75, precision 6/(6+1)=0.857…; procedures 1/2; POA 5/6; DRG 1/3.
	if o.Cases != 3 || o.PDXAccuracy != 2.0/3 || o.SDXRecall != 0.75 || o.SDXPrecision != 6.0/7 || o.ProcedureAgreement != 0.5 ||
		o.POAAgreement != 5.0/6 || o.DRGAccuracy != 1.0/3 || o.OverCoded != 1 || o.UnderCoded != 1 || o.WeightOver != 0.25 ||
		o.WeightUnder != -0.5 || o.NetWeight != -0.25 || o.MeetsBenchmark {
		t.Fatalf("overall %+v", o)
	}
	if len(r.ByCoder) != 2 || r.ByCoder[0].Key != "alice" || r.ByCoder[0].Cases != 2 || r.ByCoder[0].DRGAccuracy != 0.5 ||
		r.ByCoder[1].Key != "bob" || r.ByCoder[1].SDXRecall != 1 || r.ByCoder[1].MeetsBenchmark {
		t.Errorf("by coder %+v", r.ByCoder)
	}
	if len(r.ByCategory) != 2 || r.ByCategory[1].Key != "MDC05" || r.ByCategory[1].Cases != 2 || r.ByCategory[0].MeetsBenchmark != true {
		t.Errorf("by category %+v", r.ByCategory)
	}
	var b bytes.Buffer
	if err := r.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 6 || lines[1] != "overall,,3,0.6667,0.7500,0.8571,0.5000,0.8333,0.3333,1,1,0.2500,-0.5000,-0.2500,false" {
		t.Errorf("csv:\n%s", b.String())
	}
}

func TestSample(t *testing.T) {
	var pop []Candidate
	for i := range 100 {
		pop = append(pop, Candidate{EncounterID: string(rune('A'+i/26)) + string(rune('a'+i%26)), Coder: []string{"alice", "bob"}[i%2],
			DRG: []int{291, 292, 193}[i%3], RiskFlags: map[bool][]string{true: {RiskSingleCCMCC}}[i%5 == 0]})
	}
	a := Sample(pop, SampleSpec{Size: 10, Seed: 7})
	b := Sample(reversed(pop), SampleSpec{Size: 10, Seed: 7})
	if len(a) != 10 || !sameIDs(a, b) {
		t.Fatalf("same population and seed gave different samples: %v vs %v", ids(a), ids(b))
	}
	if c := Sample(pop, SampleSpec{Size: 10, Seed: 8}); sameIDs(a, c) {
		t.Error("another seed gave the same sample")
	}
	for _, c := range Sample(pop, SampleSpec{Size: 50, Seed: 1, DRGs: []int{291}, Coders: []string{"alice"}}) {
		if c.DRG != 291 || c.Coder != "alice" {
			t.Errorf("targeted sample holds %+v", c)
		}
	}
	if got := Sample(pop, SampleSpec{Size: 100, Seed: 1, RiskFlag: RiskSingleCCMCC}); len(got) != 20 {
		t.Errorf("risk-flag sample has %d, want the 20 flagged", len(got))
	}
}

func reversed(p []Candidate) []Candidate {
	out := make([]Candidate, len(p))
	for i, c := range p {
		out[len(p)-1-i] = c
	}
	return out
}

func ids(cs []Candidate) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.EncounterID)
	}
	return strings.Join(s, ",")
}

func sameIDs(a, b []Candidate) bool { return ids(a) == ids(b) }

var (
	catOnce sync.Once
	cat     *tables.Catalog
	eng     *grouper.Engine
	catErr  error
)

func engine(t *testing.T) (*grouper.Engine, *tables.Catalog) {
	t.Helper()
	dir := shared.DataDir(t)
	catOnce.Do(func() {
		cat, catErr = tables.Load(dir)
		if catErr == nil {
			eng = grouper.New(cat.MSDRG)
		}
	})
	if catErr != nil {
		t.Fatal(catErr)
	}
	return eng, cat
}

// TestRiskFlags groups claims with the real grouper and checks each flag, including the
// single CC/MCC dependency found by regrouping without each code.
func TestRiskFlags(t *testing.T) {
	e, c := engine(t)
	w, ok := c.WeightsFor(431)
	if !ok {
		t.Skip("no FY2026 weights")
	}
	weight := func(drg int) (float64, bool) {
		r, ok := w.Get(drg)
		return r.Weight, ok
	}
	regroup := func(cl *claim.Claim) (*grouper.Result, error) { return e.Group(cl, grouper.Options{}) }
	los := func(n int) *int { return &n }
	mk := func(pdx string, sdx []string, procs []string, stay int) *claim.Claim {
		cl := &claim.Claim{Version: 431, Sex: "M", DischargeStatus: los(1), PDX: &claim.Dx{Code: pdx, POA: "Y"}, LengthOfStay: los(stay)}
		for _, s := range sdx {
			cl.SDX = append(cl.SDX, claim.Dx{Code: s, POA: "Y"})
		}
		for _, p := range procs {
			cl.Procedures = append(cl.Procedures, claim.Proc{Code: p})
		}
		return cl
	}
	rules := DefaultRiskRules()
	tests := []struct {
		name  string
		c     *claim.Claim
		post  []string
		want  string // kinds with codes, space separated
		drgWo int
	}{
		{"one MCC carries the DRG", mk("I5023", []string{"J9601", "E119"}, nil, 4), nil, "single_cc_mcc:J9601", 293},
		{"two MCCs: neither alone", mk("I5023", []string{"J9601", "J9602", "E119"}, nil, 4), nil, "", 0},
		{"one CC carries the DRG", mk("I5023", []string{"N179", "E119"}, nil, 4), nil, "single_cc_mcc:N179", 293},
		{"sepsis PDX", mk("A419", nil, nil, 5), nil, "audited_pdx:A419", 0},
		{"sepsis PDX with a lone MCC", mk("A419", []string{"J9601"}, nil, 5), nil, "single_cc_mcc:J9601 audited_pdx:A419", 872},
		{"short stay, surgical DRG 321 (weight 2.72)", mk("I214", []string{"J9601", "J9602"}, []string{"02703DZ"}, 1), nil, "short_stay_surgical:", 0},
		{"same DRG, three days", mk("I214", []string{"J9601", "J9602"}, []string{"02703DZ"}, 3), nil, "", 0},
		{"short stay, DRG 322 (weight 1.76 < 2.0)", mk("I214", nil, []string{"02703DZ"}, 1), nil, "", 0},
		{"post-payment MCE edit", mk("I10", nil, nil, 3), []string{"NONSPECIFIC_OR"}, "mce_postpayment:NONSPECIFIC_OR", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := e.Group(tc.c, grouper.Options{})
			if err != nil {
				t.Fatal(err)
			}
			flags, err := rules.Flags(RiskInput{Claim: tc.c, Result: r, Regroup: regroup, Weight: weight, MCEPostPayment: tc.post})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range flags {
				got = append(got, f.Kind+":"+strings.Join(f.Codes, ","))
				if f.Kind == RiskSingleCCMCC && f.DRGWithout != tc.drgWo {
					t.Errorf("DRG without %v = %d, want %d", f.Codes, f.DRGWithout, tc.drgWo)
				}
				if f.Reason == "" {
					t.Errorf("flag %s without reason", f.Kind)
				}
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("DRG %d flags %q, want %q", r.Final.DRG, g, tc.want)
			}
		})
	}
}

func TestParseRiskRules(t *testing.T) {
	if _, err := ParseRiskRules([]byte(`{"short_stay":{"max_los":1}}`)); err == nil || !strings.Contains(err.Error(), "max_los") {
		t.Errorf("unknown field accepted: %v", err)
	}
	r := DefaultRiskRules()
	if !r.SingleCCMCC || len(r.AuditedPDX) < 5 || r.ShortStay.MaxLOSDays != 1 {
		t.Errorf("defaults %+v", r)
	}
}
