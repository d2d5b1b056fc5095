package casemix

import (
	"bytes"
	"encoding/csv"
	"maps"
	"reflect"
	"strings"
	"testing"
)

// The population fixture (fixtures/casemix/population.jsonl), weights of the fixture table:
//
//	d01 2026-04-03 MAIN MEDICARE   CARDIOLOGY  P1 291 MED 1.5
//	d02 2026-04-10 MAIN MEDICARE   CARDIOLOGY  P1 292 MED 1.0
//	d03 2026-04-20 MAIN COMMERCIAL CARDIOLOGY  P2 293 MED 0.5
//	d04 2026-05-02 MAIN MEDICARE   ORTHOPEDICS P3 469 SURG 3.0
//	d05 2026-05-15 EAST MEDICARE   ORTHOPEDICS P3 470 SURG 2.0
//	d06 2026-05-20 EAST COMMERCIAL MEDICINE    P4 871 MED 2.0
//	d07 2026-06-01 EAST MEDICAID   MEDICINE    P4 872 MED 1.0
//	d08 2026-06-11 MAIN MEDICARE   CARDIOLOGY  P2 291 MED 1.5
//	d09 2026-06-30 MAIN MEDICARE   SURGERY     P5 003 SURG 10.0
//	d10 2026-05-05 MAIN MEDICARE   MEDICINE    P4 999 —   no weight
//	d11 2026-04-25 EAST MEDICARE   MEDICINE    P4 998 —   no weight
//	d12 2025-09-20 MAIN MEDICARE   CARDIOLOGY  P1 291 MED FY2025: not loaded (1.5 if forced to FY2026)
//	d13 2026-03-15 MAIN MEDICARE   CARDIOLOGY  P1 292 MED 1.0
//
// plus one error record and one blank line. Weighted with each discharge's fiscal year: 10
// discharges, total 23.5, CMI 2.35; medical 7 / 8.5, surgical 3 / 15.0.

func TestReadFixture(t *testing.T) {
	ds, st := readFixture(t, "population.jsonl")
	if st != (ReadStats{Records: 13, ErrorRecords: 1, Blank: 1}) || len(ds) != 13 {
		t.Fatalf("stats %+v, %d discharges; want 13 records, 1 error record, 1 blank", st, len(ds))
	}
	d := ds[0]
	if d.ID != "d01" || d.DischargeDate != date("2026-04-03") || d.Version != 431 || d.Facility != "MAIN" ||
		d.Payer != "MEDICARE" || d.ServiceLine != "CARDIOLOGY" || d.Provider != "P1" ||
		d.Final != (Assignment{DRG: 291, MDC: 5, Type: "MEDICAL", Severity: "MCC"}) {
		t.Errorf("d01 = %+v", d)
	}
	if ds[6].Provider != "P4" { // attending_provider given as a plain string
		t.Errorf("d07 provider %q, want P4", ds[6].Provider)
	}
}

func TestCMI(t *testing.T) {
	ds, _ := readFixture(t, "population.jsonl")
	w := fixtureWeights(t)
	type row struct {
		key      string
		n        int
		total    float64
		cmi      float64
		excluded int
	}
	tests := []struct {
		name     string
		opt      CMIOptions
		overall  CMIRow
		by       []row
		excluded Exclusions
		outside  int
	}{
		{
			name: "by month, weights of the discharge year",
			opt:  CMIOptions{Weights: Weights{Tables: w}, By: []Dimension{ByMonth}},
			overall: CMIRow{Discharges: 10, TotalWeight: 23.5, CMI: 2.35, Excluded: 3,
				Medical: CMISplit{7, 8.5, 1.2143}, Surgical: CMISplit{3, 15, 5}},
			by: []row{
				{"2025-09", 0, 0, 0, 1},
				{"2026-03", 1, 1, 1, 0},
				{"2026-04", 3, 3, 1, 1},
				{"2026-05", 3, 7, 2.3333, 1},
				{"2026-06", 3, 12.5, 4.1667, 0},
			},
			excluded: Exclusions{NoWeight: map[int]int{998: 1, 999: 1}, MissingYears: map[int]int{2025: 1}},
		},
		{
			name: "forced FY2026 weights include the FY2025 discharge",
			opt:  CMIOptions{Weights: Weights{Tables: w, Year: 2026}, By: []Dimension{ByFiscalYear}},
			overall: CMIRow{Discharges: 11, TotalWeight: 25, CMI: 2.2727, Excluded: 2,
				Medical: CMISplit{8, 10, 1.25}, Surgical: CMISplit{3, 15, 5}},
			by:       []row{{"FY2025", 1, 1.5, 1.5, 0}, {"FY2026", 10, 23.5, 2.35, 2}},
			excluded: Exclusions{NoWeight: map[int]int{998: 1, 999: 1}},
		},
		{
			name: "by quarter and payer",
			opt:  CMIOptions{Weights: Weights{Tables: w}, By: []Dimension{ByQuarter, ByPayer}},
			overall: CMIRow{Discharges: 10, TotalWeight: 23.5, CMI: 2.35, Excluded: 3,
				Medical: CMISplit{7, 8.5, 1.2143}, Surgical: CMISplit{3, 15, 5}},
			by: []row{
				{"2025-Q3", 0, 0, 0, 1}, {"2026-Q1", 1, 1, 1, 0}, {"2026-Q2", 9, 22.5, 2.5, 2},
				{"COMMERCIAL", 2, 2.5, 1.25, 0}, {"MEDICAID", 1, 1, 1, 0}, {"MEDICARE", 7, 20, 2.8571, 3},
			},
			excluded: Exclusions{NoWeight: map[int]int{998: 1, 999: 1}, MissingYears: map[int]int{2025: 1}},
		},
		{
			name: "by MDC",
			opt:  CMIOptions{Weights: Weights{Tables: w}, By: []Dimension{ByMDC}},
			overall: CMIRow{Discharges: 10, TotalWeight: 23.5, CMI: 2.35, Excluded: 3,
				Medical: CMISplit{7, 8.5, 1.2143}, Surgical: CMISplit{3, 15, 5}},
			by:       []row{{"00", 1, 10, 10, 2}, {"05", 5, 5.5, 1.1, 1}, {"08", 2, 5, 2.5, 0}, {"18", 2, 3, 1.5, 0}},
			excluded: Exclusions{NoWeight: map[int]int{998: 1, 999: 1}, MissingYears: map[int]int{2025: 1}},
		},
		{
			name: "facility EAST by service line, with a base rate",
			opt: CMIOptions{Weights: Weights{Tables: w}, By: []Dimension{ByServiceLine}, BaseRate: 6000,
				Filter: Filter{Facilities: []string{"EAST"}}},
			overall: CMIRow{Discharges: 3, TotalWeight: 5, CMI: 1.6667, Excluded: 1, EstimatedPayment: 30000,
				Medical: CMISplit{2, 3, 1.5}, Surgical: CMISplit{1, 2, 2}},
			by:       []row{{"MEDICINE", 2, 3, 1.5, 1}, {"ORTHOPEDICS", 1, 2, 2, 0}},
			excluded: Exclusions{NoWeight: map[int]int{998: 1}},
			outside:  9, // EAST: d05, d06, d07, d11
		},
		{
			name: "second quarter by provider",
			opt: CMIOptions{Weights: Weights{Tables: w}, By: []Dimension{ByProvider},
				Filter: Filter{Period: Period{date("2026-04-01"), date("2026-06-30")}}},
			overall: CMIRow{Discharges: 9, TotalWeight: 22.5, CMI: 2.5, Excluded: 2,
				Medical: CMISplit{6, 7.5, 1.25}, Surgical: CMISplit{3, 15, 5}},
			by: []row{{"P1", 2, 2.5, 1.25, 0}, {"P2", 2, 2, 1, 0}, {"P3", 2, 5, 2.5, 0}, {"P4", 2, 3, 1.5, 2},
				{"P5", 1, 10, 10, 0}},
			excluded: Exclusions{NoWeight: map[int]int{998: 1, 999: 1}},
			outside:  2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := CMI(ds, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			// No discharge of the fixture is a transfer: the transfer-adjusted figures equal the
			// plain ones.
			tc.overall.TransferAdjustedCases, tc.overall.TransferAdjustedWeight, tc.overall.TransferAdjustedCMI =
				float64(tc.overall.Discharges), tc.overall.TotalWeight, tc.overall.CMI
			if r.Overall != tc.overall {
				t.Errorf("overall\n got %+v\nwant %+v", r.Overall, tc.overall)
			}
			var got []row
			for _, g := range r.Groups {
				for _, x := range g.Rows {
					got = append(got, row{x.Key, x.Discharges, x.TotalWeight, x.CMI, x.Excluded})
				}
			}
			if !reflect.DeepEqual(got, tc.by) {
				t.Errorf("groups\n got %+v\nwant %+v", got, tc.by)
			}
			if !maps.Equal(r.Excluded.NoWeight, tc.excluded.NoWeight) || !maps.Equal(r.Excluded.MissingYears, tc.excluded.MissingYears) {
				t.Errorf("excluded %+v, want %+v", r.Excluded, tc.excluded)
			}
			if r.OutsideFilter != tc.outside {
				t.Errorf("outside filter %d, want %d", r.OutsideFilter, tc.outside)
			}
		})
	}
}

// TestCMIMergeEqualsSequential: builders merged from any split give the same report.
func TestCMIMergeEqualsSequential(t *testing.T) {
	ds, _ := readFixture(t, "population.jsonl")
	opt := CMIOptions{Weights: Weights{Tables: fixtureWeights(t)}, By: []Dimension{ByMonth, ByMDC, ByPayer}}
	want, _ := CMI(ds, opt)
	a, _ := NewCMIBuilder(opt)
	b, _ := NewCMIBuilder(opt)
	for i := range ds {
		if i%3 == 0 {
			a.Add(&ds[i])
		} else {
			b.Add(&ds[i])
		}
	}
	b.Merge(a)
	if got := b.Report(); !reflect.DeepEqual(got, want) {
		t.Errorf("merged report differs:\n got %+v\nwant %+v", got, want)
	}
}

func TestCMIOptionErrors(t *testing.T) {
	w := fixtureWeights(t)
	for _, opt := range []CMIOptions{
		{Weights: Weights{Tables: w, Year: 2025}},
		{Weights: Weights{Tables: w}, Filter: Filter{Period: Period{date("2026-05-01"), date("2026-04-01")}}},
		{Weights: Weights{Tables: w}, BaseRate: -1},
	} {
		if _, err := NewCMIBuilder(opt); err == nil {
			t.Errorf("NewCMIBuilder(%+v): no error", opt)
		}
	}
	_, err := NewCMIBuilder(CMIOptions{Weights: Weights{Tables: w, Year: 2025}})
	if err == nil || !strings.Contains(err.Error(), "FY2025") || !strings.Contains(err.Error(), "FY2026") {
		t.Errorf("missing-year error %v: want the missing and the loaded years named", err)
	}
}

func TestCMIOutputs(t *testing.T) {
	ds, _ := readFixture(t, "population.jsonl")
	r, err := CMI(ds, CMIOptions{Weights: Weights{Tables: fixtureWeights(t)}, By: []Dimension{ByQuarter}, BaseRate: 6000})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(text.String()), "\n")
	if last := lines[len(lines)-1]; last != "CMI 2.3500 over 10 discharges" {
		t.Errorf("last line %q", last)
	}
	for _, want := range []string{
		"2 excluded: DRG without Table 5 weight (998: 1, 999: 1)",
		"1 excluded: discharged in FY2025, whose Table 5 weights are not loaded",
		"141,000.00",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		cmiCSVHeader,
		{"overall", "", "10", "23.5000", "2.3500", "0", "10.0000", "23.5000", "2.3500", "7", "8.5000", "1.2143", "3", "15.0000", "5.0000", "3", "141000.00"},
		{"quarter", "2025-Q3", "0", "0.0000", "0.0000", "0", "0.0000", "0.0000", "0.0000", "0", "0.0000", "0.0000", "0", "0.0000", "0.0000", "1", "0.00"},
		{"quarter", "2026-Q1", "1", "1.0000", "1.0000", "0", "1.0000", "1.0000", "1.0000", "1", "1.0000", "1.0000", "0", "0.0000", "0.0000", "0", "6000.00"},
		{"quarter", "2026-Q2", "9", "22.5000", "2.5000", "0", "9.0000", "22.5000", "2.5000", "6", "7.5000", "1.2500", "3", "15.0000", "5.0000", "2", "135000.00"},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("CSV\n got %q\nwant %q", recs, want)
	}
}
