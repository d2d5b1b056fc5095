package mce

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/msdrg-cdi/drg/tables"
)

// sharedFile returns the path of rel inside ../shared (beside the repository root, the
// directory holding go.mod), skipping the test when it is absent.
func sharedFile(tb testing.TB, rel string) string {
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
			tb.Skip("go.mod not found above the working directory: cannot locate ../shared")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("reference data %s not available (../shared beside the repository): %v", p, err)
	}
	return p
}

var (
	dataOnce sync.Once
	data     *tables.MCEData
	dataErr  error
)

// mceData loads ../shared/cms/mce/mce.bin once per test binary.
func mceData(tb testing.TB) *tables.MCEData {
	tb.Helper()
	p := sharedFile(tb, "cms/mce/mce.bin")
	dataOnce.Do(func() { data, dataErr = tables.LoadMCE(p) })
	if dataErr != nil {
		tb.Fatal(dataErr)
	}
	return data
}
