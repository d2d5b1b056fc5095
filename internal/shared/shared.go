// Package shared locates the reference data directory ../shared that sits beside the
// repository on developer machines and in CI. Only tests and benchmarks use it.
package shared

import (
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Root returns the absolute path of ../shared (relative to the module root), or "" when absent.
func Root() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			s := filepath.Join(dir, "..", "shared")
			if fi, err := os.Stat(s); err == nil && fi.IsDir() {
				return s
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Path returns the path of rel inside ../shared, skipping the test when ../shared or the file
// is absent.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	root := Root()
	if root == "" {
		tb.Skip("../shared (CMS reference data) is not beside the repository: skipping")
	}
	p := filepath.Join(root, rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("%s is absent: skipping", p)
	}
	return p
}

// DataDir returns ../shared/cms, laid out as a data directory, skipping the test when the
// grouper data is absent.
func DataDir(tb testing.TB) string {
	tb.Helper()
	return filepath.Dir(filepath.Dir(Path(tb, "cms/msdrg/msdrg_combined.bin")))
}

// Lines returns the lines of a (gzip-compressed when named .gz) file inside ../shared,
// skipping the test when it is absent.
func Lines(tb testing.TB, rel string) []string {
	tb.Helper()
	f, err := os.Open(Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(rel, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			tb.Fatalf("%s: %v", rel, err)
		}
		r = zr
	}
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	return lines
}
