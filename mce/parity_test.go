package mce

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
)

// readGzipLines returns the lines of a gzip-compressed text file.
func readGzipLines(tb testing.TB, path string) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return lines
}

// oracleClaims parses every claim of public_claims.tsv.gz.
func oracleClaims(tb testing.TB) []*claim.Claim {
	tb.Helper()
	lines := readGzipLines(tb, sharedFile(tb, "oracle/public_claims.tsv.gz"))
	out := make([]*claim.Claim, len(lines))
	for i, l := range lines {
		c, err := claim.ParseTSV(l)
		if err != nil {
			tb.Fatalf("public_claims.tsv.gz line %d: %v", i+1, err)
		}
		out[i] = c
	}
	return out
}

// TestParity runs every public oracle claim through the MCE and compares the result with the
// CMS MCE output record by record.
func TestParity(t *testing.T) {
	d := mceData(t)
	claims := oracleClaims(t)
	want := readGzipLines(t, sharedFile(t, "oracle/public_mce.jsonl.gz"))
	if len(want) != len(claims) {
		t.Fatalf("%d claims but %d MCE records", len(claims), len(want))
	}
	var typeOK, countsOK, codesOK, codesTotal, exact int
	var failures []string
	for i, c := range claims {
		res := Edit(d, c, Options{})
		if err := checkListsMatchCounts(res); err != nil {
			t.Errorf("claim %s: %v", c.ID, err)
		}
		got := res.Record(c.ID)
		gotLine, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if string(gotLine) == want[i] {
			exact++
		}
		var exp OracleRecord
		if err := json.Unmarshal([]byte(want[i]), &exp); err != nil {
			t.Fatalf("public_mce.jsonl.gz line %d: %v", i+1, err)
		}
		if exp.ID != c.ID {
			t.Fatalf("line %d: oracle id %s, claim id %s", i+1, exp.ID, c.ID)
		}
		var diffs []string
		if got.EditType == exp.EditType {
			typeOK++
		} else {
			diffs = append(diffs, fmt.Sprintf("edit_type %s, want %s", got.EditType, exp.EditType))
		}
		if reflect.DeepEqual(got.Edits, exp.Edits) {
			countsOK++
		} else {
			g, _ := json.Marshal(got.Edits)
			w, _ := json.Marshal(exp.Edits)
			diffs = append(diffs, fmt.Sprintf("edits %s, want %s", g, w))
		}
		diffs = append(diffs, compareCodes("dx", got.Dx, exp.Dx, &codesOK, &codesTotal)...)
		diffs = append(diffs, compareCodes("pr", got.Pr, exp.Pr, &codesOK, &codesTotal)...)
		if len(diffs) > 0 && len(failures) < 20 {
			failures = append(failures, fmt.Sprintf("claim %s (line %d): %s\n    claim: %s",
				c.ID, i+1, strings.Join(diffs, "; "), claim.TSVLine(c)))
		}
	}
	n := len(claims)
	pct := func(k, n int) float64 { return 100 * float64(k) / float64(n) }
	t.Logf("claims %d: edit type %.3f%%, edit counts %.3f%%, per-code edit lists %.3f%% (%d/%d codes), identical JSON lines %.3f%%",
		n, pct(typeOK, n), pct(countsOK, n), pct(codesOK, codesTotal), codesOK, codesTotal, pct(exact, n))
	for _, f := range failures {
		t.Log(f)
	}
	if typeOK != n || countsOK != n {
		t.Errorf("edit type or counts differ from the CMS MCE (need 100%%)")
	}
	if codesOK*1000 < codesTotal*999 {
		t.Errorf("per-code edit lists agree on %.3f%% of codes (need ≥ 99.9%%)", pct(codesOK, codesTotal))
	}
}

// checkListsMatchCounts checks that every counted code edit is on exactly as many code edit
// lists as its counter says. The CMS record prints procedure edit lists empty, so this is
// what ties the procedure lists to the oracle's counters.
func checkListsMatchCounts(r *Result) error {
	var listed [NumEdits]int
	for _, cs := range [][]CodeEdits{r.Dx, r.Pr} {
		for i := range cs {
			for _, e := range cs[i].Edits() {
				listed[e]++
			}
		}
	}
	if r.AdmitDx != nil && r.AdmitDx.Has(InvalidAdmitDx) {
		listed[InvalidAdmitDx]++
	}
	for x := EditID(1); x < NumEdits; x++ {
		switch x {
		case InvalidSex, InvalidAge, InvalidDischargeStatus, Bilateral:
			continue
		}
		if listed[x] != r.Counts[x] {
			return fmt.Errorf("%s counted %d times but on %d code edit lists", x, r.Counts[x], listed[x])
		}
	}
	return nil
}

// compareCodes compares the per-code edit lists of a record, counting agreeing codes.
func compareCodes(kind string, got, want []OracleCode, ok, total *int) []string {
	var diffs []string
	if len(got) != len(want) {
		diffs = append(diffs, fmt.Sprintf("%s: %d codes, want %d", kind, len(got), len(want)))
	}
	for j := range want {
		*total++
		if j < len(got) && got[j] == want[j] {
			*ok++
			continue
		}
		g := "(missing)"
		if j < len(got) {
			g = got[j].Code + " " + got[j].Edits
		}
		diffs = append(diffs, fmt.Sprintf("%s[%d] %s, want %s %s", kind, j, g, want[j].Code, want[j].Edits))
	}
	return diffs
}
