package casemix

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"
)

// distPopulation is the hand-made population of the distribution tests (fixture families:
// 291 MCC/CC/NONE, 469 MCC/NONE; DRG 003 has none). n is the CC/MCC count (-1: unknown).
//
//	            291 family                          469 family
//	2025-Q4     291(n=2) 292(n=1) 293 293           470 470
//	2026-Q1     291(n=1) 293 293 293                —
//	2026-Q2     291(1) 291(1) 292(1) 292(?) 293     469(1) 470
//
// plus DRG 003 in 2026-Q2 (no family) and two discharges outside the span (2025-09-30,
// 2026-07-01).
func distPopulation() []Discharge {
	var ds []Discharge
	add := func(day string, drg, n int) {
		d := Discharge{ID: day, DischargeDate: date(day), Version: 431, Final: Assignment{DRG: drg}}
		if n >= 0 {
			d.CCMCCCount = &n
		}
		ds = append(ds, d)
	}
	add("2025-10-05", 291, 2)
	add("2025-11-05", 292, 1)
	add("2025-11-06", 293, 0)
	add("2025-12-06", 293, 0)
	add("2025-12-07", 470, 0)
	add("2025-12-08", 470, 0)
	add("2026-01-05", 291, 1)
	add("2026-02-05", 293, 0)
	add("2026-03-05", 293, 0)
	add("2026-03-31", 293, 0)
	add("2026-04-01", 291, 1)
	add("2026-05-01", 291, 1)
	add("2026-05-02", 292, 1)
	add("2026-05-03", 292, -1)
	add("2026-06-30", 293, 0)
	add("2026-06-01", 469, 1)
	add("2026-06-02", 470, 0)
	add("2026-06-03", 3, 0)
	add("2025-09-30", 291, 1)
	add("2026-07-01", 291, 1)
	return ds
}

func distOptions() DistributionOptions {
	return DistributionOptions{Filter: Filter{Period: Period{To: date("2026-06-30")}}, Families: DeriveFamilies(fixtureMSDRG()),
		Period: ByQuarter, History: 2, MinDischarges: 3}
}

func comparison(t *testing.T, row DistributionRow, metric string) MetricComparison {
	t.Helper()
	for _, m := range row.Comparisons {
		if m.Metric == metric {
			return m
		}
	}
	t.Fatalf("family %d: no %s comparison", row.BaseDRG, metric)
	return MetricComparison{}
}

func fp(x float64) *float64 { return &x }

// TestDistribution checks every number against the hand count of distPopulation.
func TestDistribution(t *testing.T) {
	r, err := Distribution(distPopulation(), distOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r.Current != "2026-Q2" || !reflect.DeepEqual(r.History, []string{"2025-Q4", "2026-Q1"}) || r.Filter.From != date("2025-10-01") {
		t.Errorf("periods: current %s, history %v, from %s", r.Current, r.History, r.Filter.From)
	}
	if r.NotInFamily != 1 || r.OutsideFilter != 2 || len(r.Families) != 2 {
		t.Fatalf("not in family %d, outside %d, families %d; want 1, 2, 2", r.NotInFamily, r.OutsideFilter, len(r.Families))
	}
	hf := r.Families[0]
	if hf.BaseDRG != 291 || hf.Title != "Heart Failure and Shock" {
		t.Fatalf("first family %d %q", hf.BaseDRG, hf.Title)
	}
	// 2026-Q2 of 291: 5 discharges, MCC 2, CC 2, NONE 1; 4 with CC/MCC, of which 3 singles
	// and 1 unknown count → 3/3.
	q2 := hf.Periods[2]
	want := PeriodShares{Period: "2026-Q2", From: date("2026-04-01"), To: date("2026-06-30"), Discharges: 5,
		Levels:    []LevelCount{{Level: LevelMCC, Discharges: 2, Share: 0.4}, {Level: LevelCC, Discharges: 2, Share: 0.4}, {Level: LevelNone, Discharges: 1, Share: 0.2}},
		WithCCMCC: 4, CCMCCShare: 0.8, SingleCCMCC: 3, SingleCCMCCShare: 1, UnknownCount: 1}
	if !reflect.DeepEqual(q2, want) {
		t.Errorf("291 in 2026-Q2\n got %+v\nwant %+v", q2, want)
	}
	// 2025-Q4 of 291: 291(n=2), 292(n=1), 293 ×2: 2 with CC/MCC, 1 single.
	if q4 := hf.Periods[0]; q4.Discharges != 4 || q4.WithCCMCC != 2 || q4.SingleCCMCC != 1 || q4.SingleCCMCCShare != 0.5 || q4.CCMCCShare != 0.5 {
		t.Errorf("291 in 2025-Q4: %+v", q4)
	}
	// History of 291 (8 discharges): MCC 2 (0.25), CC 1 (0.125), NONE 5 (0.625), with CC/MCC
	// 3 (0.375), singles 2 of 3 (0.6667).
	for _, c := range []struct {
		metric        string
		cur, base     float64
		n, d, hd      int
		diff          float64
		flagged       bool
		reasonPrefix  string
		historyPeriod int
	}{
		{"MCC", 0.4, 0.25, 2, 5, 8, 0.15, true, "share at MCC 40.0% in 2026-Q2 (2 of 5) vs 25.0% over 2025-Q4..2026-Q1: +15.0 points, above the 5.0-point threshold", 2},
		{"CC", 0.4, 0.125, 2, 5, 8, 0.275, true, "share at CC 40.0%", 2},
		{"NONE", 0.2, 0.625, 1, 5, 8, -0.425, false, "", 2},
		{MetricCCOrMCC, 0.8, 0.375, 4, 5, 8, 0.425, true, "share with CC or MCC 80.0%", 2},
		{MetricSingleCCMCC, 1, 0.6667, 3, 3, 3, 0.3333, true, "share resting on a single CC/MCC 100.0% in 2026-Q2 (3 of 3) vs 66.7%", 2},
	} {
		m := comparison(t, hf, c.metric)
		if m.Current != c.cur || m.Baseline == nil || *m.Baseline != c.base || *m.Difference != c.diff || m.CurrentCount != c.n ||
			m.CurrentDenominator != c.d || m.HistoryDenominator != c.hd || m.Flagged != c.flagged || m.HistoryPeriods != c.historyPeriod ||
			!strings.HasPrefix(m.Reason, c.reasonPrefix) {
			t.Errorf("291 %s: %+v (baseline %v, diff %v); want current %v of %d/%d, baseline %v, diff %v, flagged %v, reason %q",
				c.metric, m, deref(m.Baseline), deref(m.Difference), c.cur, c.n, c.d, c.base, c.diff, c.flagged, c.reasonPrefix)
		}
	}
	// 469: two discharges in 2026-Q2, fewer than min_discharges 3: shown, not compared.
	hip := r.Families[1]
	if hip.BaseDRG != 469 || len(hip.Periods[2].Levels) != 2 || hip.Periods[2].Discharges != 2 {
		t.Errorf("469: %+v", hip)
	}
	for _, m := range hip.Comparisons {
		if m.Baseline != nil || m.Flagged || !strings.HasPrefix(m.Reason, "not compared: denominator ") || !strings.HasSuffix(m.Reason, " in 2026-Q2 is below 3") {
			t.Errorf("469 %s: %+v", m.Metric, m)
		}
	}
	// Overall: 2026-Q2 7 family discharges (MCC 3, CC 2, NONE 2), history 10 (MCC 2, CC 1,
	// NONE 7); CC/MCC 5/7 vs 3/10; singles 4/4 vs 2/3.
	for _, c := range []struct {
		metric    string
		cur, base float64
		flagged   bool
	}{{"MCC", 0.4286, 0.2, true}, {"CC", 0.2857, 0.1, true}, {"NONE", 0.2857, 0.7, false},
		{MetricCCOrMCC, 0.7143, 0.3, true}, {MetricSingleCCMCC, 1, 0.6667, true}} {
		m := comparison(t, r.Overall, c.metric)
		if m.Current != c.cur || m.Baseline == nil || *m.Baseline != c.base || m.Flagged != c.flagged {
			t.Errorf("overall %s: current %v baseline %v flagged %v; want %v %v %v", c.metric, m.Current, deref(m.Baseline), m.Flagged, c.cur, c.base, c.flagged)
		}
	}
	// Flags: overall MCC, CC, CC_OR_MCC, SINGLE; 291 the same four.
	var flags []string
	for _, f := range r.Flags {
		flags = append(flags, f.Metric+"@"+itoa(f.BaseDRG))
	}
	wantFlags := []string{"MCC@0", "CC@0", "CC_OR_MCC@0", "SINGLE_CC_MCC@0", "MCC@291", "CC@291", "CC_OR_MCC@291", "SINGLE_CC_MCC@291"}
	if !reflect.DeepEqual(flags, wantFlags) {
		t.Errorf("flags %v, want %v", flags, wantFlags)
	}

	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// overall 5 metrics × 3 periods, 291 5 × 3, 469 4 × 3.
	if len(recs) != 1+15+15+12 {
		t.Fatalf("%d CSV records", len(recs))
	}
	wantRec := []string{"291", "Heart Failure and Shock", "2026-Q2", "2026-04-01", "2026-06-30", "5", "MCC", "2", "5", "0.4000", "0.2500", "0.1500", "true",
		"share at MCC 40.0% in 2026-Q2 (2 of 5) vs 25.0% over 2025-Q4..2026-Q1: +15.0 points, above the 5.0-point threshold"}
	if !reflect.DeepEqual(recs[1+15+10], wantRec) {
		t.Errorf("CSV record\n got %q\nwant %q", recs[1+15+10], wantRec)
	}
	if got := recs[1+15]; got[2] != "2025-Q4" || got[6] != "MCC" || got[10] != "" {
		t.Errorf("history CSV record %q", got)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "8 flags; 1 discharges outside severity families") {
		t.Errorf("text (%v):\n%s", err, text.String())
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestDistributionBaselineOptions: the percentile baseline and a higher threshold.
func TestDistributionBaselineOptions(t *testing.T) {
	opt := distOptions()
	opt.Percentile = 100 // the highest history period
	r, err := Distribution(distPopulation(), opt)
	if err != nil {
		t.Fatal(err)
	}
	// 291 history shares per period: MCC 0.25, 0.25; CC 0.25, 0; with CC/MCC 0.5, 0.25;
	// singles 0.5, 1.
	for _, c := range []struct {
		metric     string
		base, diff float64
		flagged    bool
	}{{"MCC", 0.25, 0.15, true}, {"CC", 0.25, 0.15, true}, {MetricCCOrMCC, 0.5, 0.3, true}, {MetricSingleCCMCC, 1, 0, false}} {
		m := comparison(t, r.Families[0], c.metric)
		if *m.Baseline != c.base || *m.Difference != c.diff || m.Flagged != c.flagged {
			t.Errorf("100th percentile, 291 %s: baseline %v diff %v flagged %v", c.metric, *m.Baseline, *m.Difference, m.Flagged)
		}
	}
	if r.Baseline != "100th percentile of the history periods' shares" {
		t.Errorf("baseline %q", r.Baseline)
	}
	if m := comparison(t, r.Families[0], "MCC"); !strings.Contains(m.Reason, "vs 25.0% the 100th percentile of 2025-Q4..2026-Q1") {
		t.Errorf("reason %q", m.Reason)
	}
	opt = distOptions()
	opt.Percentile = 50
	r, _ = Distribution(distPopulation(), opt)
	if m := comparison(t, r.Families[0], "CC"); *m.Baseline != 0.125 {
		t.Errorf("median CC baseline %v, want 0.125", *m.Baseline)
	}

	opt = distOptions()
	opt.Threshold = 0.3
	r, _ = Distribution(distPopulation(), opt)
	var flagged []string
	for _, m := range r.Families[0].Comparisons {
		if m.Flagged {
			flagged = append(flagged, m.Metric)
		}
	}
	if !reflect.DeepEqual(flagged, []string{MetricCCOrMCC, MetricSingleCCMCC}) {
		t.Errorf("threshold 0.3: flagged %v", flagged)
	}

	// Merge of two builders equals one pass.
	ds := distPopulation()
	b1, _ := NewDistributionBuilder(distOptions())
	b2, _ := NewDistributionBuilder(distOptions())
	for i := range ds {
		if i%2 == 0 {
			b1.Add(&ds[i])
		} else {
			b2.Add(&ds[i])
		}
	}
	b1.Merge(b2)
	one, _ := Distribution(ds, distOptions())
	if !reflect.DeepEqual(b1.Report(), one) {
		t.Error("merged report differs from the single pass")
	}
}

func TestDistributionOptionsAndPeriods(t *testing.T) {
	fs := DeriveFamilies(fixtureMSDRG())
	for _, bad := range []DistributionOptions{
		{Families: fs},
		{Families: fs, Filter: Filter{Period: Period{To: date("2026-06-30")}}, Period: ByMDC},
		{Families: fs, Filter: Filter{Period: Period{To: date("2026-06-30")}}, History: 41},
		{Families: fs, Filter: Filter{Period: Period{To: date("2026-06-30")}}, Threshold: 1.5},
		{Families: fs, Filter: Filter{Period: Period{To: date("2026-06-30")}}, Percentile: 101},
		{Filter: Filter{Period: Period{To: date("2026-06-30")}}},
	} {
		if _, err := NewDistributionBuilder(bad); err == nil {
			t.Errorf("options %+v accepted", bad)
		}
	}
	for _, c := range []struct {
		dim     Dimension
		to      string
		history int
		keys    []string
		first   Period
	}{
		{ByMonth, "2026-03-15", 2, []string{"2026-01", "2026-02", "2026-03"}, Period{date("2026-01-01"), date("2026-01-31")}},
		{ByQuarter, "2026-01-31", 1, []string{"2025-Q4", "2026-Q1"}, Period{date("2025-10-01"), date("2025-12-31")}},
		{ByFiscalYear, "2026-06-30", 1, []string{"FY2025", "FY2026"}, Period{date("2024-10-01"), date("2025-09-30")}},
		{ByFiscalYear, "2025-10-01", 1, []string{"FY2025", "FY2026"}, Period{date("2024-10-01"), date("2025-09-30")}},
	} {
		ps, ks := periodSpans(c.dim, date(c.to), c.history)
		if !reflect.DeepEqual(ks, c.keys) || ps[0] != c.first || ps[len(ps)-1].To != date(c.to) {
			t.Errorf("%s to %s: %v %v", c.dim, c.to, ks, ps)
		}
	}
}
