package casemix

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"testing"
)

func TestPeriodPrior(t *testing.T) {
	tests := []struct{ from, to, pFrom, pTo string }{
		{"2026-04-01", "2026-06-30", "2026-01-01", "2026-03-31"}, // a quarter
		{"2026-03-01", "2026-03-31", "2026-02-01", "2026-02-28"}, // a month
		{"2025-10-01", "2026-09-30", "2024-10-01", "2025-09-30"}, // a fiscal year
		{"2026-04-10", "2026-04-19", "2026-03-31", "2026-04-09"}, // 10 days
	}
	for _, tc := range tests {
		p, ok := Period{date(tc.from), date(tc.to)}.Prior()
		if !ok || p != (Period{date(tc.pFrom), date(tc.pTo)}) {
			t.Errorf("prior of %s..%s = %v %v, want %s..%s", tc.from, tc.to, p, ok, tc.pFrom, tc.pTo)
		}
	}
	if _, ok := (Period{From: date("2026-04-01")}).Prior(); ok {
		t.Error("an open period has a prior")
	}
}

// TestDRGMix: second quarter 2026 against the first (whole months: 2026-01-01..03-31, which
// holds only d13, DRG 292). Current: 291 ×2 (3.0), 003 (10.0), 469 (3.0), 470, 871 (2.0),
// 292, 872 (1.0), 293 (0.5), 998, 999 (no weight): 11 discharges, 10 DRGs, total 22.5.
func TestDRGMix(t *testing.T) {
	ds, _ := readFixture(t, "population.jsonl")
	titles := func(drg int) string {
		if drg == 291 {
			return "Heart Failure and Shock with MCC"
		}
		return ""
	}
	r, err := DRGMix(ds, DRGMixOptions{Weights: Weights{Tables: fixtureWeights(t)}, Top: 3, Titles: titles, BaseRate: 1000,
		Filter: Filter{Period: Period{date("2026-04-01"), date("2026-06-30")}}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Prior == nil || *r.Prior != (Period{date("2026-01-01"), date("2026-03-31")}) {
		t.Fatalf("prior %v", r.Prior)
	}
	if r.Discharges != 11 || r.DRGs != 10 || r.TotalWeight != 22.5 || r.PriorDischarges != 1 || r.PriorTotalWeight != 1 || r.OutsideFilter != 1 {
		t.Errorf("totals: %d discharges, %d DRGs, weight %v, prior %d / %v, outside %d; want 11, 10, 22.5, 1 / 1, 1",
			r.Discharges, r.DRGs, r.TotalWeight, r.PriorDischarges, r.PriorTotalWeight, r.OutsideFilter)
	}
	p := func(x float64) *float64 { return &x }
	row291 := DRGMixRow{DRG: 291, Title: "Heart Failure and Shock with MCC", Discharges: 2, Share: 0.1818, TotalWeight: 3,
		DischargeChange: 2, WeightChange: 3, EstimatedPayment: 3000}
	row003 := DRGMixRow{DRG: 3, Discharges: 1, Share: 0.0909, TotalWeight: 10, DischargeChange: 1, WeightChange: 10, EstimatedPayment: 10000}
	row469 := DRGMixRow{DRG: 469, Discharges: 1, Share: 0.0909, TotalWeight: 3, DischargeChange: 1, WeightChange: 3, EstimatedPayment: 3000}
	// Volume: 291 first; ties at 1 discharge by total weight (003, then 469).
	if want := []DRGMixRow{row291, row003, row469}; !reflect.DeepEqual(r.ByVolume, want) {
		t.Errorf("by volume\n got %+v\nwant %+v", r.ByVolume, want)
	}
	// Weight: 003; 291 and 469 tie at 3.0, 291 has more discharges.
	if want := []DRGMixRow{row003, row291, row469}; !reflect.DeepEqual(r.ByWeight, want) {
		t.Errorf("by weight\n got %+v\nwant %+v", r.ByWeight, want)
	}

	// All DRGs: 292 is unchanged against the prior quarter (0 %), 998/999 carry no weight.
	r, _ = DRGMix(ds, DRGMixOptions{Weights: Weights{Tables: fixtureWeights(t)}, Top: 50,
		Filter: Filter{Period: Period{date("2026-04-01"), date("2026-06-30")}}})
	var row292, row999 *DRGMixRow
	for i := range r.ByVolume {
		switch r.ByVolume[i].DRG {
		case 292:
			row292 = &r.ByVolume[i]
		case 999:
			row999 = &r.ByVolume[i]
		}
	}
	if want := (DRGMixRow{DRG: 292, Discharges: 1, Share: 0.0909, TotalWeight: 1, PriorDischarges: 1, PriorTotalWeight: 1, DischargeChangeP: p(0)}); row292 == nil || !reflect.DeepEqual(*row292, want) {
		t.Errorf("292 row %+v, want %+v", row292, want)
	}
	if row999 == nil || row999.TotalWeight != 0 || row999.Discharges != 1 || r.Excluded.NoWeight[999] != 1 {
		t.Errorf("999 row %+v, excluded %+v", row999, r.Excluded)
	}
	if len(r.ByVolume) != 10 || len(r.ByWeight) != 10 {
		t.Errorf("%d/%d rows, want the 10 current DRGs", len(r.ByVolume), len(r.ByWeight))
	}

	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 21 || recs[1][2] != "291" || recs[1][9] != "2" || recs[1][10] != "" {
		t.Errorf("CSV: %v, %d records, first %q", err, len(recs), recs[1])
	}
}

// TestDRGMixWithoutPeriod: no date range, no comparison; everything is current.
func TestDRGMixWithoutPeriod(t *testing.T) {
	ds, _ := readFixture(t, "population.jsonl")
	r, err := DRGMix(ds, DRGMixOptions{Weights: Weights{Tables: fixtureWeights(t)}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Prior != nil || r.Discharges != 13 || r.PriorDischarges != 0 || r.TotalWeight != 23.5 || len(r.ByVolume) != 10 {
		t.Errorf("prior %v, %d discharges, %d prior, weight %v, %d rows", r.Prior, r.Discharges, r.PriorDischarges, r.TotalWeight, len(r.ByVolume))
	}
	if r.ByVolume[0].DRG != 291 || r.ByVolume[0].Discharges != 3 || r.ByVolume[0].DischargeChangeP != nil {
		t.Errorf("first row %+v, want 291 with 3 discharges (d12's FY2025 weight is missing)", r.ByVolume[0])
	}
}
