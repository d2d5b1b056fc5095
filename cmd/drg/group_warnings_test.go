package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestGroupWarnings: drg group keeps grouping claims with more codes than a claim carries or
// with codes the version does not know, and says so in each record's warnings.
func TestGroupWarnings(t *testing.T) {
	sdx := strings.Repeat(`{"code":"E119","poa":"Y"},`, 24) + `{"code":"N179","poa":"Y"}`
	in := `{"id":"w1","discharge_date":"2026-05-01","sex":"M","discharge_status":1,"pdx":{"code":"I5023","poa":"Y"},"sdx":[` + sdx + `]}` + "\n" +
		`{"id":"w2","discharge_date":"2026-05-01","sex":"M","discharge_status":1,"pdx":{"code":"S301XXA","poa":"Y"}}` + "\n"
	st, out, errs := drg(t, in, "group", "--data", dataDir(t), "--format", "jsonl")
	if st != 0 {
		t.Fatalf("exit %d: %s", st, errs)
	}
	type record struct {
		ID       string
		Warnings []struct {
			Kind, Field, Code, Level, Message string
			PossibleReplacements              []string `json:"possible_replacements"`
		}
	}
	var recs []record
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		recs = append(recs, rec)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records: %s", len(recs), out)
	}
	if w := recs[0].Warnings; len(w) != 1 || w[0].Kind != "not_grouped" || w[0].Field != "sdx[24]" || w[0].Code != "N179" || w[0].Level != "CC" {
		t.Errorf("w1 warnings %+v", w)
	}
	if w := recs[1].Warnings; len(w) != 1 || w[0].Kind != "invalid_code" || w[0].Field != "pdx" || strings.Join(w[0].PossibleReplacements, " ") != "S3011XA S3012XA S3013XA" {
		t.Errorf("w2 warnings %+v", w)
	}
}
