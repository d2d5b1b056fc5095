package cdi

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/msdrg-cdi/drg/internal/shared"
	"github.com/msdrg-cdi/drg/tables"
)

var (
	catOnce sync.Once
	testCat *tables.Catalog
	catErr  error
)

// testEngine returns an engine over the CMS tables of ../shared (loaded once), skipping the
// test when they are absent.
func testEngine(tb testing.TB) *Engine {
	tb.Helper()
	dir := filepath.Dir(filepath.Dir(shared.Path(tb, "cms/msdrg/msdrg_combined.bin")))
	catOnce.Do(func() { testCat, catErr = tables.Load(dir) })
	if catErr != nil {
		tb.Fatal(catErr)
	}
	e, err := NewEngine(testCat, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}
