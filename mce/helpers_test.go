package mce

import (
	"sync"
	"testing"

	"github.com/msdrg-cdi/drg/internal/shared"
	"github.com/msdrg-cdi/drg/tables"
)

// sharedFile returns the path of rel inside ../shared, skipping the test when it is absent.
func sharedFile(tb testing.TB, rel string) string { return shared.Path(tb, rel) }

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
