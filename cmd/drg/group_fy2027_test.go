package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestGroupFY2027Weights: a FY2027 discharge is refused without an explicit version (v44.0
// is not loaded); with --version 43.1 each record is weighed with the FY2027 Table 5 (the
// fiscal year of its discharge date, not the version's FY2026), and a DRG that FY2027 no
// longer has (259, deleted in v44.0) gets a no_weight warning and no weight — never 0 taken
// for real. A FY2026 discharge to DRG 010 carries the capped FY2026 payment weight 7.1757.
func TestGroupFY2027Weights(t *testing.T) {
	in := `{"id":"pacer","discharge_date":"2026-11-15","age":80,"sex":"M","discharge_status":1,"pdx":{"code":"I495","poa":"Y"},"procedures":[{"code":"0JH606Z"}]}` + "\n" +
		`{"id":"hf","discharge_date":"2026-11-15","age":70,"sex":"M","discharge_status":1,"pdx":{"code":"I5023","poa":"Y"},"sdx":[{"code":"E119","poa":"Y"}]}` + "\n"
	type record struct {
		ID         string
		Error      string
		Final      struct{ DRG int }
		Weight     *float64
		GMLOS      float64
		WeightYear int `json:"weight_year"`
		Warnings   []struct{ Kind, Field, Message string }
	}
	run := func(args ...string) map[string]record {
		t.Helper()
		_, out, errs := drg(t, in, append([]string{"group", "--data", dataDir(t), "--format", "jsonl"}, args...)...)
		recs := map[string]record{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r record
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%v: %s (stderr %s)", err, line, errs)
			}
			recs[r.ID] = r
		}
		return recs
	}
	for id, r := range run() {
		if !strings.Contains(r.Error, "needs MS-DRG v44.0, which is not loaded") || !strings.Contains(r.Error, "pass an explicit version") {
			t.Errorf("%s without --version: %+v, want the v44.0 refusal", id, r)
		}
	}
	recs := run("--version", "43.1")
	// FY2027 Table 5 (../shared/cms/table5/msdrg_fy2027_weights_los.csv): 293,0.5462,2.1,2.5
	// (FY2026 has 293 at 0.5660).
	if hf := recs["hf"]; hf.Final.DRG != 293 || hf.Weight == nil || *hf.Weight != 0.5462 || hf.GMLOS != 2.1 || hf.WeightYear != 2027 || len(hf.Warnings) != 0 {
		t.Errorf("hf: %+v, want DRG 293 with the FY2027 weight 0.5462, GMLOS 2.1", hf)
	}
	p := recs["pacer"]
	if p.Final.DRG != 259 || p.Weight != nil || p.WeightYear != 0 || len(p.Warnings) != 1 || p.Warnings[0].Kind != "no_weight" ||
		p.Warnings[0].Field != "final.drg" || !strings.Contains(p.Warnings[0].Message, "MS-DRG 259 has no FY2027 payment weight") {
		t.Errorf("pacer: %+v, want DRG 259 without weight and a no_weight warning", p)
	}

	in = `{"id":"pancreas","discharge_date":"2026-05-01","age":50,"sex":"M","discharge_status":1,"pdx":{"code":"E1010","poa":"Y"},"procedures":[{"code":"0FYG0Z0"}]}` + "\n"
	if r := run()["pancreas"]; r.Final.DRG != 10 || r.Weight == nil || *r.Weight != 7.1757 || r.WeightYear != 2026 {
		t.Errorf("pancreas: %+v, want DRG 010 with the capped FY2026 payment weight 7.1757 (3.0699 before the cap)", r)
	}
}
