package main

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/internal/shared"
)

// fixtureFile is a file of ../../fixtures/casemix.
func fixtureFile(name string) string { return filepath.Join("..", "..", "fixtures", "casemix", name) }

// fixtureDataDir is a data directory with the real grouper tables and the fixture Table 5
// (made-up round FY2026 weights: 003 10.0, 291 1.5, 292 1.0, 293 0.5, 469 3.0, 470 2.0, 871
// 2.0, 872 1.0).
func fixtureDataDir(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(shared.Path(t, "cms/msdrg/msdrg_combined.bin"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range []string{"msdrg", "table5"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(bin, filepath.Join(dir, "msdrg", "msdrg_combined.bin")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(fixtureFile("fixture_fy2026_weights.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "table5", "fixture_fy2026_weights.csv"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestReportCMIFixture: the hand-checked numbers of casemix's TestCMI through the CLI.
func TestReportCMIFixture(t *testing.T) {
	data := fixtureDataDir(t)
	pop := fixtureFile("population.jsonl")
	tests := []struct {
		args     []string
		last     string
		contains []string
	}{
		{[]string{"--by", "month"}, "CMI 2.3500 over 10 discharges", []string{
			"2 excluded: DRG without Table 5 weight (998: 1, 999: 1)",
			"1 excluded: discharged in FY2025, whose Table 5 weights are not loaded",
			"1 error records of the input skipped",
			"  2026-05           3        7.0000  2.3333",
		}},
		{[]string{"--weights-year", "2026", "--by", "fy"}, "CMI 2.2727 over 11 discharges", []string{"FY2025           1        1.5000"}},
		{[]string{"--facility", "EAST", "--base-rate", "6000"}, "CMI 1.6667 over 3 discharges", []string{"30,000.00", "9 discharges outside the filter"}},
		{[]string{"--from", "2026-04-01", "--to", "2026-06-30", "--by", "provider"}, "CMI 2.5000 over 9 discharges", []string{"P5  "}},
	}
	for _, tc := range tests {
		args := append([]string{"report", "cmi", "--data", data, "--in", pop}, tc.args...)
		st, out, errs := drg(t, "", args...)
		if st != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, st, errs)
		}
		if got := lastLine(out); got != tc.last {
			t.Errorf("%v: last line %q, want %q", tc.args, got, tc.last)
		}
		for _, c := range tc.contains {
			if !strings.Contains(out, c) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, c, out)
			}
		}
	}
	// The missing year is also a warning on stderr.
	_, _, errs := drg(t, "", "report", "cmi", "--data", data, "--in", pop)
	if !strings.Contains(errs, "1 discharges of FY2025 excluded") || !strings.Contains(errs, "13 records read, 1 error records skipped") {
		t.Errorf("stderr: %s", errs)
	}
}

func TestReportFormats(t *testing.T) {
	data := fixtureDataDir(t)
	pop := fixtureFile("population.jsonl")
	st, out, errs := drg(t, "", "report", "cmi", "--data", data, "--in", pop, "--by", "quarter", "--format", "csv")
	if st != 0 {
		t.Fatalf("exit %d: %s", st, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 5 || recs[1][0] != "overall" || recs[1][4] != "2.3500" || recs[4][1] != "2026-Q2" {
		t.Errorf("CSV (%v): %q", err, recs)
	}
	st, out, errs = drg(t, "", "report", "cmi", "--data", data, "--in", pop, "--format", "json")
	if st != 0 {
		t.Fatalf("exit %d: %s", st, errs)
	}
	var r struct {
		Overall struct {
			Discharges int
			CMI        float64
		}
		Excluded struct {
			MissingYears map[string]int `json:"missing_weight_years"`
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Overall.Discharges != 10 || r.Overall.CMI != 2.35 || r.Excluded.MissingYears["2025"] != 1 {
		t.Errorf("JSON (%v): %+v\n%s", err, r, out)
	}
	// The input may come on stdin, gzip-compressed.
	raw, _ := os.ReadFile(pop)
	var gz strings.Builder
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	st, out, errs = drg(t, gz.String(), "report", "cmi", "--data", data)
	if st != 0 || lastLine(out) != "CMI 2.3500 over 10 discharges" {
		t.Errorf("gzip stdin: exit %d, %q, %s", st, lastLine(out), errs)
	}
}

// TestReportKinds runs every discharge report on the fixtures (real severity families of
// the CMS tables: 291/292/293, 469/470 and 871/872 split as in the fixture formulas).
func TestReportKinds(t *testing.T) {
	data := fixtureDataDir(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"drg-mix", "--in", fixtureFile("population.jsonl"), "--from", "2026-04-01", "--to", "2026-06-30", "--top", "3"},
			[]string{"Prior period 2026-01-01 to 2026-03-31: 1 discharges", "291 Heart Failure and Shock with MCC", "11 discharges, 10 DRGs, total weight 22.5000"}},
		{[]string{"severity", "--in", fixtureFile("population.jsonl")},
			[]string{"MCC capture 50.0% (of 10 discharges in families with an MCC level)", "CC/MCC capture 70.0% over 10 discharges"}},
		{[]string{"cdi-impact", "--in", fixtureFile("cdi.jsonl"), "--base-rate", "6000"},
			[]string{"CMI baseline 1.1667 → working 1.6667 → final 3.1667", "Estimated payment impact 72,000.00", "CDI impact +12.0000 over 6 encounters"}},
		{[]string{"mismatches", "--in", fixtureFile("cdi.jsonl")},
			[]string{"e5         2026-05-05      293    871   +1.5000  PDX_CHANGE CC_MCC_GAINED", "5 mismatches of 7 compared encounters (agreement 28.6%), Δ weight +9.0000"}},
	}
	for _, tc := range tests {
		args := append([]string{"report"}, tc.args...)
		args = append(args, "--data", data)
		st, out, errs := drg(t, "", args...)
		if st != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, st, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.args[0], w, out)
			}
		}
	}
}

func TestReportUsageErrors(t *testing.T) {
	data := fixtureDataDir(t)
	pop := fixtureFile("population.jsonl")
	tests := []struct {
		args []string
		st   int
		msg  string
	}{
		{[]string{"report"}, 2, "usage: drg report"},
		{[]string{"report", "cmx"}, 2, `unknown report "cmx"`},
		{[]string{"report", "cmi", "--data", data, "--in", pop, "--by", "week"}, 2, `unknown grouping "week"`},
		{[]string{"report", "cmi", "--data", data, "--in", pop, "--from", "2026-13-01"}, 2, "--from"},
		{[]string{"report", "cmi", "--data", data, "--in", pop, "--from", "2026-06-01", "--to", "2026-05-01"}, 2, "ends before it starts"},
		{[]string{"report", "cmi", "--data", data, "--in", pop, "--weights-year", "2025"}, 2, "Table 5 weights for FY2025 are not loaded (loaded: FY2026)"},
		{[]string{"report", "cmi", "--data", data, "--in", pop, "--format", "xml"}, 2, "--format"},
		{[]string{"report", "cmi", "--data", data, "--in", "nonexistent.jsonl"}, 1, "nonexistent.jsonl"},
		{[]string{"report", "cmi", "--data", data, "--in", fixtureFile("fixture_fy2026_weights.csv")}, 1, "line 1: not a JSON object"},
		{[]string{"report", "version-impact", "--data", data, "--in", pop, "--from-version", "42.1"}, 2, "--to-version"},
		{[]string{"report", "version-impact", "--data", data, "--in", pop, "--from-version", "42.1", "--to-version", "43.0", "--weights-year", "2024"}, 2, "FY2024 are not loaded"},
	}
	for _, tc := range tests {
		st, _, errs := drg(t, "", tc.args...)
		if st != tc.st || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, st, errs, tc.st, tc.msg)
		}
	}
}

// TestReportCMIOracle is the acceptance test of the CMI: the public oracle claims of version
// 43.1 grouped by `drg group`, reported with FY2026 weights, give a CMI equal to the sum of
// the FY2026 weights of the oracle's final DRGs over the claims whose DRG has a weight,
// computed here independently from public_expected.jsonl.gz and the Table 5 CSV.
func TestReportCMIOracle(t *testing.T) {
	data := dataDir(t)
	weights := readTable5(t, shared.Path(t, "cms/table5/msdrg_fy2026_weights_los.csv"))

	// Expected: Σ weight(oracle final DRG) / count, DRGs without weight counted apart.
	f, err := os.Open(shared.Path(t, "oracle/public_expected.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var sum float64
	var n, claims int
	noWeight := map[int]int{}
	for sc.Scan() {
		var rec struct {
			Version int
			Final   struct{ DRG int }
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Version != 431 {
			continue
		}
		claims++
		if w, ok := weights[rec.Final.DRG]; ok {
			sum += w
			n++
		} else {
			noWeight[rec.Final.DRG]++
		}
	}
	if claims != 20000 || len(noWeight) == 0 {
		t.Fatalf("%d v43.1 oracle claims, no-weight DRGs %v: want 20000 and some 998/999", claims, noWeight)
	}
	want := fmt.Sprintf("CMI %.4f over %d discharges", sum/float64(n), n)

	// Actual: drg group in-process, then drg report cmi.
	var tsv strings.Builder
	for line := range strings.SplitSeq(oracleTSV(t, 0), "\n") {
		if cols := strings.SplitN(line, "\t", 3); len(cols) == 3 && cols[1] == "431" {
			tsv.WriteString(line + "\n")
		}
	}
	results := filepath.Join(t.TempDir(), "results.jsonl")
	if st, _, errs := drg(t, tsv.String(), "group", "--data", data, "--format", "tsv", "--out", results, "--quiet"); st != 0 {
		t.Fatalf("drg group: exit %d: %s", st, errs)
	}
	for _, extra := range [][]string{{"--weights-year", "2026"}, nil} { // every v43.1 discharge is in FY2026
		args := append([]string{"report", "cmi", "--data", data, "--in", results}, extra...)
		st, out, errs := drg(t, "", args...)
		if st != 0 {
			t.Fatalf("%v: exit %d: %s", extra, st, errs)
		}
		if got := lastLine(out); got != want {
			t.Errorf("%v: %q, want %q", extra, got, want)
		}
		for drg, c := range noWeight {
			if note := fmt.Sprintf("%03d: %d", drg, c); !strings.Contains(out, note) {
				t.Errorf("%v: output does not count DRG %03d without weight (%q):\n%s", extra, drg, note, out)
			}
		}
	}
	t.Logf("oracle v43.1, FY2026 weights: %s (%d claims, without weight: %v)", want, claims, noWeight)
}

// readTable5 parses a Table 5 CSV (msdrg,weight,gmlos,amlos; # comments) on its own.
func readTable5(t *testing.T, path string) map[int]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]float64{}
	for _, rec := range recs[1:] {
		drg, err1 := strconv.Atoi(rec[0])
		w, err2 := strconv.ParseFloat(rec[1], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad Table 5 row %q", rec)
		}
		out[drg] = w
	}
	return out
}

// TestReportVersionImpactOracle regroups v43.1 oracle claims under 43.0 and 43.1 with FY2026
// weights: the 43.1 side's CMI is the oracle CMI of TestReportCMIOracle for the same claims.
func TestReportVersionImpactOracle(t *testing.T) {
	data := dataDir(t)
	var tsv strings.Builder
	for line := range strings.SplitSeq(oracleTSV(t, 0), "\n") {
		if cols := strings.SplitN(line, "\t", 3); len(cols) == 3 && cols[1] == "431" {
			tsv.WriteString(line + "\n")
		}
	}
	results := filepath.Join(t.TempDir(), "results.jsonl")
	if st, _, errs := drg(t, tsv.String(), "group", "--data", data, "--format", "tsv", "--out", results, "--quiet"); st != 0 {
		t.Fatalf("drg group: exit %d: %s", st, errs)
	}
	_, cmiOut, _ := drg(t, "", "report", "cmi", "--data", data, "--in", results, "--weights-year", "2026")
	wantTo := strings.TrimPrefix(lastLine(cmiOut), "CMI ")

	st, out, errs := drg(t, tsv.String(), "report", "version-impact", "--data", data, "--in-format", "tsv",
		"--from-version", "43.0", "--to-version", "43.1", "--format", "text")
	if st != 0 {
		t.Fatalf("exit %d: %s", st, errs)
	}
	if !strings.Contains(out, "v43.1: CMI "+wantTo) || !strings.Contains(out, "Version impact v43.0 → v43.1, both weighed with Table 5 FY2026") {
		t.Errorf("want the 43.1 side to be %q:\n%s", wantTo, out)
	}
	if !strings.Contains(errs, "20000 claims regrouped, 0 error records skipped") {
		t.Errorf("stderr: %s", errs)
	}
}
