package main

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestClaimOneValidationPerLine: drg group and drg mce report every invalid field of a line
// at once, in every input format, and neither group nor edit it; the other lines are
// processed (issue 21 item 6).
func TestClaimOneValidationPerLine(t *testing.T) {
	want := []string{"discharge_status", "length_of_stay", "sdx[0].poa", "sex"}
	inputs := []struct{ format, in string }{
		{"tsv", "GOOD\t431\t70\tM\t1\tNON_EXEMPT\tI5023:Y\t\tJ9601:Y\t\t20260501\t3\n" +
			"BAD\t431\t70\tQ\t999\tNON_EXEMPT\tI5023:Y\t\tJ9601:Q,E119:Y\t\t20260501\t-5\n"},
		{"jsonl", `{"id":"GOOD","version":431,"sex":"M","discharge_status":1,"pdx":{"code":"I5023","poa":"Y"},"sdx":[{"code":"J9601","poa":"Y"}]}` + "\n" +
			`{"id":"BAD","version":431,"sex":"Q","discharge_status":999,"length_of_stay":-5,"pdx":{"code":"I5023","poa":"Y"},"sdx":[{"code":"J9601","poa":"Q"}]}` + "\n"},
		{"csv", "id,version,sex,discharge_status,length_of_stay,pdx,pdx_poa,sdx\n" +
			"GOOD,431,M,1,3,I5023,Y,J9601:Y\nBAD,431,Q,999,-5,I5023,Y,J9601:Q;E119:Y\n"},
	}
	for _, in := range inputs {
		for _, cmd := range []string{"group", "mce"} {
			t.Run(cmd+" "+in.format, func(t *testing.T) {
				st, out, errs := drg(t, in.in, cmd, "--data", dataDir(t), "--format", in.format)
				if st != 0 {
					t.Fatalf("exit %d: %s", st, errs)
				}
				recs := strings.Split(strings.TrimSpace(out), "\n")
				if len(recs) != 2 {
					t.Fatalf("%d records: %s", len(recs), out)
				}
				var good, bad struct {
					ID       string
					EditType string `json:"edit_type"`
					Final    *struct{ DRG int }
					Errors   []struct{ Field string }
				}
				json.Unmarshal([]byte(recs[0]), &good)
				json.Unmarshal([]byte(recs[1]), &bad)
				if good.ID != "GOOD" || (cmd == "group" && (good.Final == nil || good.Final.DRG != 291)) || (cmd == "mce" && good.EditType == "") {
					t.Errorf("good line: %s", recs[0])
				}
				var got []string
				for _, e := range bad.Errors {
					got = append(got, e.Field)
				}
				sort.Strings(got)
				if bad.Final != nil || bad.EditType != "" || !slices.Equal(got, want) {
					t.Errorf("bad line: fields %v, want %v: %s", got, want, recs[1])
				}
			})
		}
	}
}
