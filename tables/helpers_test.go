package tables

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/internal/shared"
)

// sharedCMS returns ../shared/cms, skipping the test when it is absent.
func sharedCMS(tb testing.TB) string { return shared.DataDir(tb) }

// writeFile writes content to dir/rel, creating directories.
func writeFile(tb testing.TB, dir, rel string, content []byte) string {
	tb.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func date(tb testing.TB, s string) claim.Date {
	tb.Helper()
	d, err := claim.ParseDate(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// oneLine fails when an error message spans several lines.
// wantError fails unless err is a one-line error containing want and naming each of names.
func wantError(tb testing.TB, err error, want string, names ...string) {
	tb.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		tb.Fatalf("err = %v, want it to contain %q", err, want)
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n) {
			tb.Errorf("error %q does not name %s", err, n)
		}
	}
	oneLine(tb, err)
}

func oneLine(tb testing.TB, err error) {
	tb.Helper()
	if strings.ContainsAny(err.Error(), "\r\n") {
		tb.Errorf("error message is not one line: %q", err)
	}
}

// realWeights parses every Table 5 file of the data directory dir on its own and returns the
// number of DRGs by fiscal year: what a Catalog of dir must hold, whatever years the data
// holds.
func realWeights(tb testing.TB, dir string) map[int]int {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, Table5Dir, "*.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[int]int{}
	for _, f := range files {
		w, err := LoadWeights(f)
		if err != nil {
			tb.Fatal(err)
		}
		out[w.FiscalYear] = w.Len()
	}
	return out
}

// realDataFiles lists the files of the data directory dir that a Catalog reads (the layout
// of data_sources.md), found by their names alone.
func realDataFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	for _, pattern := range []string{GrouperFile, MCEFile, Table5Dir + "/*.csv", TransferDir + "/*.csv", ICD10CMDir + "/*.zip", ICD10CMDir + "/index_*/ICD10CM_*.csv*",
		ICD10PCSDir + "/*.zip", POADir + "/*.zip", HCCDir + "/ra_*.csv"} {
		m, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern)))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, m...)
	}
	return out
}
