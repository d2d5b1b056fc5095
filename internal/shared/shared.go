// Package shared locates the reference data directory ../shared that sits beside the
// repository on developer machines and in CI. Only tests and benchmarks use it.
package shared

import (
	"os"
	"path/filepath"
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
