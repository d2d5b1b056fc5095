package casemix

import (
	"bytes"
	"encoding/csv"
	"maps"
	"reflect"
	"strings"
	"testing"
)

// The CDI fixture (fixtures/casemix/cdi.jsonl), DRG weights of the fixture table:
//
//	e1 baseline 293 (0.5) working 291 (1.5) final 291 (1.5)  Δ +1.0  q1 293→292 (+0.5), q2 292→291 (+0.5), q3 unanswered
//	e2 baseline 872 (1.0) working 871 (2.0) final 872 (1.0)  Δ  0    q4 (no DRG recorded)
//	e3 baseline 470 (2.0) working 469 (3.0) final 469 (3.0)  Δ +1.0  q5 470→469 (+1.0), q6 469→470 (−1.0), q7 (none, no provider)
//	e4 baseline 292 (1.0) working 292 (1.0) final 291 (1.5)  Δ +0.5  no query
//	e5 baseline 293 (0.5) working 293 (0.5) final 871 (2.0)  Δ +1.5  q8 293→293 (0)
//	e6 baseline 470 (2.0) working 470 (2.0) final 003 (10.0) Δ +8.0  no query
//	e7 baseline 291 working 291 final 999: no weight, excluded
//	e8 no baseline: not reviewed

func TestCDIImpact(t *testing.T) {
	ds, st := readFixture(t, "cdi.jsonl")
	if st.Records != 8 || ds[0].Baseline == nil || len(ds[0].Queries) != 3 || ds[1].WorkingCoding == nil || ds[5].FinalCoding.Procedures[0].Code != "0B110F4" {
		t.Fatalf("fixture read wrong: %+v, %+v", st, ds[0])
	}
	r, err := CDIImpact(ds, CDIOptions{Weights: Weights{Tables: fixtureWeights(t)}, BaseRate: 6000})
	if err != nil {
		t.Fatal(err)
	}
	type totals struct {
		enc, withAns, queries, answered, changed, notReviewed int
		base, work, fin                                       float64
		total, cdi, coding, attr, unattr, mean, pay           float64
	}
	got := totals{r.Encounters, r.WithAnsweredQueries, r.Queries, r.AnsweredQueries, r.DRGChanged, r.NotReviewed,
		r.BaselineCMI, r.WorkingCMI, r.FinalCMI, r.TotalImpact, r.CDIImpact, r.CodingImpact, r.AttributedImpact,
		r.UnattributedImpact, r.MeanImpactPerQuery, r.EstimatedPaymentImpact}
	want := totals{6, 4, 8, 7, 5, 1,
		1.1667, 1.6667, 3.1667, // 7.0, 10.0, 19.0 over 6
		12, 3, 9, 3.5, 8.5, 0.5, 72000}
	if got != want {
		t.Errorf("totals\n got %+v\nwant %+v", got, want)
	}
	if !maps.Equal(r.Excluded.NoWeight, map[int]int{999: 1}) {
		t.Errorf("excluded %+v, want 999: 1", r.Excluded)
	}
	p := func(x float64) *float64 { return &x }
	wantQ := []QueryImpact{
		{"q1", "e1", "S1", "P1", p(0.5), 0.5, 0.5, 3000},
		{"q2", "e1", "S1", "P1", p(0.5), 0.5, 0.5, 3000},
		{"q4", "e2", "S2", "P2", nil, 1, 0, 0},
		{"q5", "e3", "S1", "P3", p(1), 1, 1, 6000},
		{"q6", "e3", "S2", "P3", p(-1), 0, 0, 0},
		{"q7", "e3", "S2", "P3", nil, 0, 0, 0}, // no provider on the query: the attending
		{"q8", "e5", "S1", "P2", p(0), 1, 1.5, 9000},
	}
	if !reflect.DeepEqual(r.PerQuery, wantQ) {
		t.Errorf("per query\n got %+v\nwant %+v", r.PerQuery, wantQ)
	}
	var sum float64
	for _, q := range r.PerQuery {
		sum += q.WeightImpact
	}
	if sum != r.AttributedImpact {
		t.Errorf("per-query impacts add up to %v, attributed %v", sum, r.AttributedImpact)
	}
	wantSpec := []ImpactGroup{{"S1", 3, 4, 3.5, 21000}, {"S2", 2, 3, 0, 0}}
	if !reflect.DeepEqual(r.BySpecialist, wantSpec) {
		t.Errorf("by specialist %+v, want %+v", r.BySpecialist, wantSpec)
	}
	wantProv := []ImpactGroup{{"P2", 2, 2, 1.5, 9000}, {"P1", 1, 2, 1, 6000}, {"P3", 1, 3, 1, 6000}}
	if !reflect.DeepEqual(r.ByProvider, wantProv) {
		t.Errorf("by provider %+v, want %+v", r.ByProvider, wantProv)
	}

	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(&buf).ReadAll()
	if len(recs) != 1+7+2+3+1 || !reflect.DeepEqual(recs[len(recs)-1], []string{"total", "", "", "", "", "6", "7", "", "", "12.0000", "72000.00"}) {
		t.Errorf("CSV %q", recs)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil || !strings.HasSuffix(text.String(), "CDI impact +12.0000 over 6 encounters\n") {
		t.Errorf("text (%v):\n%s", err, text.String())
	}
}

// TestCDIAttributionRule checks the rule on single encounters.
func TestCDIAttributionRule(t *testing.T) {
	w := Weights{Tables: fixtureWeights(t)}
	a := func(drg int) *Assignment { return &Assignment{DRG: drg} }
	q := func(id string, before, after int) Query {
		return Query{ID: id, Specialist: "S", Answered: true, DRGBefore: before, DRGAfter: after}
	}
	tests := []struct {
		name    string
		d       Discharge
		shares  []float64
		impacts []float64
	}{
		{"equal split without own deltas", Discharge{Baseline: a(293), Final: Assignment{DRG: 291}, Queries: []Query{q("a", 0, 0), q("b", 0, 0), q("c", 0, 0), q("d", 0, 0)}},
			[]float64{0.25, 0.25, 0.25, 0.25}, []float64{0.25, 0.25, 0.25, 0.25}},
		{"in proportion to own deltas", Discharge{Baseline: a(293), Final: Assignment{DRG: 469}, Queries: []Query{q("a", 293, 291), q("b", 291, 469)}},
			[]float64{0.4, 0.6}, []float64{1, 1.5}}, // own +1.0 and +1.5 of Δ +2.5
		{"a decrease shared by the queries that decreased", Discharge{Baseline: a(291), Final: Assignment{DRG: 293}, Queries: []Query{q("a", 291, 293), q("b", 293, 292)}},
			[]float64{1, 0}, []float64{-1, 0}},
		{"thirds", Discharge{Baseline: a(293), Final: Assignment{DRG: 291}, Queries: []Query{q("a", 0, 0), q("b", 0, 0), q("c", 0, 0)}},
			[]float64{0.3333, 0.3333, 0.3333}, []float64{0.3333, 0.3333, 0.3333}},
		{"an unknown own delta gets nothing when others are known", Discharge{Baseline: a(470), Final: Assignment{DRG: 469}, Queries: []Query{q("a", 470, 469), q("b", 0, 0)}},
			[]float64{1, 0}, []float64{1, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.d.DischargeDate = date("2026-05-01")
			r, err := CDIImpact([]Discharge{tc.d}, CDIOptions{Weights: w})
			if err != nil {
				t.Fatal(err)
			}
			var shares, impacts []float64
			for _, x := range r.PerQuery {
				shares = append(shares, x.Share)
				impacts = append(impacts, x.WeightImpact)
			}
			if !reflect.DeepEqual(shares, tc.shares) || !reflect.DeepEqual(impacts, tc.impacts) {
				t.Errorf("shares %v impacts %v, want %v %v", shares, impacts, tc.shares, tc.impacts)
			}
			if r.AttributedImpact != r.TotalImpact || r.UnattributedImpact != 0 {
				t.Errorf("attributed %v of %v (unattributed %v): want all", r.AttributedImpact, r.TotalImpact, r.UnattributedImpact)
			}
		})
	}
}
