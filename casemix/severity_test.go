package casemix

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"
)

func TestFamiliesFromFixtureFormulas(t *testing.T) {
	fs := DeriveFamilies(fixtureMSDRG())
	var got []Family
	for _, f := range fs.Version(431) {
		got = append(got, *f)
	}
	want := []Family{
		{BaseDRG: 16, Members: []Member{{16, LevelCCMCC}, {17, LevelNone}}},
		{BaseDRG: 291, Title: "Heart Failure and Shock", Members: []Member{{291, LevelMCC}, {292, LevelCC}, {293, LevelNone}}},
		{BaseDRG: 469, Members: []Member{{469, LevelMCC}, {470, LevelNone}}},
		{BaseDRG: 871, Members: []Member{{871, LevelMCC}, {872, LevelNone}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("families\n got %+v\nwant %+v", got, want)
	}
	// Version 42.1 is not loaded: the newest loaded version answers.
	if _, lv, ok := fs.Lookup(421, date("2025-09-20"), 292); !ok || lv != LevelCC {
		t.Errorf("fallback lookup of 292: %v %v", lv, ok)
	}
	if _, _, ok := fs.Lookup(431, date("2026-05-01"), 3); ok {
		t.Error("DRG 003 has no family")
	}
}

// TestSeverityCapture: families of the fixture formulas over the population. 291 family:
// d01, d08, d12 (MCC), d02, d13 (CC), d03 (none); 469: d04 (MCC), d05 (none); 871: d06
// (MCC), d07 (none); d09 (003), d10 (999), d11 (998) are in no family.
func TestSeverityCapture(t *testing.T) {
	ds, _ := readFixture(t, "population.jsonl")
	fs := DeriveFamilies(fixtureMSDRG())
	r, err := SeverityCapture(ds, SeverityOptions{Families: fs})
	if err != nil {
		t.Fatal(err)
	}
	if r.Discharges != 10 || r.NotInFamily != 3 || r.CCMCCCaptureRate != 0.7 || r.MCCCaptureRate != 0.5 || r.MCCFamilyDischarges != 10 {
		t.Errorf("totals: %d in families, %d not, CC/MCC %v, MCC %v over %d; want 10, 3, 0.7, 0.5 over 10",
			r.Discharges, r.NotInFamily, r.CCMCCCaptureRate, r.MCCCaptureRate, r.MCCFamilyDischarges)
	}
	wantLevels := []LevelCount{{Level: LevelMCC, Discharges: 5, Share: 0.5}, {Level: LevelCCMCC}, {Level: LevelCC, Discharges: 2, Share: 0.2}, {Level: LevelNone, Discharges: 3, Share: 0.3}}
	if !reflect.DeepEqual(r.Levels, wantLevels) {
		t.Errorf("levels %+v, want %+v", r.Levels, wantLevels)
	}
	wantFamilies := []FamilyRow{
		{BaseDRG: 291, Title: "Heart Failure and Shock", Discharges: 6, Levels: []LevelCount{
			{LevelMCC, 291, 3, 0.5}, {LevelCC, 292, 2, 0.3333}, {LevelNone, 293, 1, 0.1667}}},
		{BaseDRG: 469, Discharges: 2, Levels: []LevelCount{{LevelMCC, 469, 1, 0.5}, {LevelNone, 470, 1, 0.5}}},
		{BaseDRG: 871, Discharges: 2, Levels: []LevelCount{{LevelMCC, 871, 1, 0.5}, {LevelNone, 872, 1, 0.5}}},
	}
	if !reflect.DeepEqual(r.Families, wantFamilies) {
		t.Errorf("families\n got %+v\nwant %+v", r.Families, wantFamilies)
	}

	// Medicare cardiology only: 291 ×3 (d01, d08, d12), 292 ×2 (d02, d13).
	r, _ = SeverityCapture(ds, SeverityOptions{Families: fs, Filter: Filter{Payers: []string{"MEDICARE"}, ServiceLines: []string{"CARDIOLOGY"}}})
	if r.Discharges != 5 || r.CCMCCCaptureRate != 1 || r.MCCCaptureRate != 0.6 || r.OutsideFilter != 8 {
		t.Errorf("Medicare cardiology: %d, CC/MCC %v, MCC %v, outside %d; want 5, 1, 0.6, 8", r.Discharges, r.CCMCCCaptureRate, r.MCCCaptureRate, r.OutsideFilter)
	}

	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(&buf).ReadAll()
	if len(recs) != 1+4+3 || !reflect.DeepEqual(recs[5], []string{"291", "Heart Failure and Shock", "5", "MCC", "291", "3", "0.6000"}) {
		t.Errorf("CSV %q", recs)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "CC/MCC capture 100.0% over 5 discharges") {
		t.Errorf("text (%v):\n%s", err, text.String())
	}
}

func TestSeverityNeedsFamilies(t *testing.T) {
	if _, err := NewSeverityBuilder(SeverityOptions{}); err == nil {
		t.Error("no error without families")
	}
}
