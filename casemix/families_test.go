package casemix

import (
	"slices"
	"sync"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/internal/shared"
	"github.com/msdrg-cdi/drg/tables"
)

var (
	catOnce sync.Once
	cat     *tables.Catalog
	catErr  error
)

// realCatalog loads ../shared/cms (skipping the test when it is absent).
func realCatalog(t testing.TB) *tables.Catalog {
	t.Helper()
	shared.Path(t, "cms/msdrg/msdrg_combined.bin")
	catOnce.Do(func() { cat, catErr = tables.Load(shared.Root() + "/cms") })
	if catErr != nil {
		t.Fatal(catErr)
	}
	return cat
}

// TestFamiliesFromCMSFormulas checks the derivation on the real grouper tables of every
// version: known families, and that the catch-all DRG found by evaluation order is always the
// family's highest DRG number (CMS numbers MCC, CC, without in that order).
func TestFamiliesFromCMSFormulas(t *testing.T) {
	c := realCatalog(t)
	fs := DeriveFamilies(c.MSDRG)
	want := map[int][]Member{
		291: {{291, LevelMCC}, {292, LevelCC}, {293, LevelNone}},
		1:   {{1, LevelMCC}, {2, LevelNone}},
		16:  {{16, LevelCCMCC}, {17, LevelNone}},
		28:  {{28, LevelMCC}, {29, LevelCC}, {30, LevelNone}}, // 29: "with CC or spinal neurostimulators"
		5:   {{5, LevelMCC}, {6, LevelNone}},                  // 5: "with MCC or intestinal transplant"
		981: {{981, LevelMCC}, {982, LevelCC}, {983, LevelNone}},
	}
	for _, v := range c.MSDRG.Versions {
		fams := fs.Version(v)
		if len(fams) < 250 {
			t.Errorf("v%s: %d families, want ≈265", v, len(fams))
		}
		for _, f := range fams {
			last := f.Members[len(f.Members)-1]
			if last.Level != LevelNone {
				t.Errorf("v%s family %d: highest DRG %d has level %s, want NONE", v, f.BaseDRG, last.DRG, last.Level)
			}
			for _, m := range f.Members[:len(f.Members)-1] {
				if m.Level == LevelNone {
					t.Errorf("v%s family %d: DRG %d is NONE but not the highest", v, f.BaseDRG, m.DRG)
				}
			}
		}
		for base, members := range want {
			f, lv, ok := fs.Lookup(int(v), claim.Date{}, base)
			if !ok || !slices.Equal(f.Members, members) || lv != members[0].Level {
				t.Errorf("v%s family of %d = %+v, want %+v", v, base, f, members)
			}
		}
		if _, _, ok := fs.Lookup(int(v), claim.Date{}, 275); ok && v == 431 {
			t.Errorf("v43.1 DRG 275 (no sibling) is in a family")
		}
	}
	// v40.0 DRG 267 "without MCC" has a row testing CC and one testing nothing: lowest.
	if f, lv, ok := fs.Lookup(400, claim.Date{}, 267); !ok || lv != LevelNone || f.BaseDRG != 266 {
		t.Errorf("v40.0 DRG 267: %v %v %v, want NONE of family 266", f, lv, ok)
	}
}
