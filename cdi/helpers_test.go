package cdi

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/msdrg-cdi/drg/internal/shared"
	"github.com/msdrg-cdi/drg/tables"
)

var (
	engineOnce sync.Once
	sharedEng  *Engine
	engineErr  error
)

// testEngine returns the engine over the CMS tables of ../shared with the default rules
// (loaded once for all tests), skipping the test when the tables are absent.
func testEngine(tb testing.TB) *Engine {
	tb.Helper()
	dir := filepath.Dir(filepath.Dir(shared.Path(tb, "cms/msdrg/msdrg_combined.bin")))
	engineOnce.Do(func() {
		var cat *tables.Catalog
		if cat, engineErr = tables.Load(dir); engineErr == nil {
			sharedEng, engineErr = NewEngine(cat, nil, nil)
		}
	})
	if engineErr != nil {
		tb.Fatal(engineErr)
	}
	return sharedEng
}
