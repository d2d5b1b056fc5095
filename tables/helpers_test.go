package tables

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
)

// sharedCMS returns ../shared/cms relative to the repository root (the directory holding
// go.mod), skipping the test when it is absent.
func sharedCMS(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("go.mod not found above the working directory; cannot locate ../shared/cms")
		}
		dir = parent
	}
	cms := filepath.Join(dir, "..", "shared", "cms")
	if _, err := os.Stat(filepath.Join(cms, GrouperFile)); err != nil {
		tb.Skipf("CMS reference data not available at %s (needs ../shared/cms next to the repository): %v", cms, err)
	}
	return cms
}

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
func oneLine(tb testing.TB, err error) {
	tb.Helper()
	if strings.ContainsAny(err.Error(), "\r\n") {
		tb.Errorf("error message is not one line: %q", err)
	}
}
