package casemix

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"testing"
)

// TestMismatches over the CDI fixture: e1, e3 agree; e2 (871→872) lost its MCC; e4
// (292→291) gained one; e5 (293→871) changed PDX and gained an MCC; e6 (470→003) changed
// procedures and a POA; e7 (291→999) has no final coding: OTHER, no weight delta.
func TestMismatches(t *testing.T) {
	ds, _ := readFixture(t, "cdi.jsonl")
	r, err := Mismatches(ds, MismatchOptions{Weights: Weights{Tables: fixtureWeights(t)}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Compared != 7 || r.Mismatched != 5 || r.AgreementRate != 0.2857 || r.NoCDI != 1 || r.WeightDelta != 9 {
		t.Errorf("compared %d, mismatched %d, agreement %v, no CDI %d, Δ %v; want 7, 5, 0.2857, 1, 9",
			r.Compared, r.Mismatched, r.AgreementRate, r.NoCDI, r.WeightDelta)
	}
	wantCat := []CategoryTotal{{CatPDXChange, 1, 1.5}, {CatCCMCCGained, 2, 2}, {CatCCMCCLost, 1, -1},
		{CatProcedureChange, 1, 8}, {CatPOAChange, 1, 8}, {CatOther, 1, 0}}
	if !reflect.DeepEqual(r.Categories, wantCat) {
		t.Errorf("categories\n got %+v\nwant %+v", r.Categories, wantCat)
	}
	p := func(x float64) *float64 { return &x }
	wantRows := []MismatchRow{
		{"e2", date("2026-05-02"), "P2", 871, 872, p(-1), []Category{CatCCMCCLost}},
		{"e4", date("2026-05-04"), "P1", 292, 291, p(0.5), []Category{CatCCMCCGained}},
		{"e5", date("2026-05-05"), "P2", 293, 871, p(1.5), []Category{CatPDXChange, CatCCMCCGained}},
		{"e6", date("2026-05-06"), "P3", 470, 3, p(8), []Category{CatProcedureChange, CatPOAChange}},
		{"e7", date("2026-05-07"), "P1", 291, 999, nil, []Category{CatOther}},
	}
	if !reflect.DeepEqual(r.Encounters, wantRows) {
		t.Errorf("rows\n got %+v\nwant %+v", r.Encounters, wantRows)
	}
	if r.Excluded.Total() != 1 || r.Excluded.NoWeight[999] != 1 {
		t.Errorf("excluded %+v, want 999: 1", r.Excluded)
	}
	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(&buf).ReadAll()
	if len(recs) != 6 || !reflect.DeepEqual(recs[3], []string{"e5", "2026-05-05", "P2", "293", "871", "1.5000", "PDX_CHANGE;CC_MCC_GAINED"}) {
		t.Errorf("CSV %q", recs)
	}
	// Filtered to attending P3: only e3 (agrees) and e6.
	r, _ = Mismatches(ds, MismatchOptions{Weights: Weights{Tables: fixtureWeights(t)}, Filter: Filter{Providers: []string{"P3"}}})
	if r.Compared != 2 || r.Mismatched != 1 || r.OutsideFilter != 6 {
		t.Errorf("P3: compared %d, mismatched %d, outside %d", r.Compared, r.Mismatched, r.OutsideFilter)
	}
}
