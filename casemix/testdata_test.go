package casemix

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/tables"
)

// fixtureDir holds the hand-written populations and the made-up Table 5 of the tests.
var fixtureDir = filepath.Join("..", "fixtures", "casemix")

// fixtureWeights returns the fixture Table 5 (FY2026: 003 10.0, 291 1.5, 292 1.0, 293 0.5,
// 469 3.0, 470 2.0, 871 2.0, 872 1.0; no 998/999).
func fixtureWeights(t testing.TB) map[int]*tables.Weights {
	t.Helper()
	w, err := tables.LoadWeights(filepath.Join(fixtureDir, "fixture_fy2026_weights.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if w.FiscalYear != 2026 {
		t.Fatalf("fixture weights are FY%d, want 2026", w.FiscalYear)
	}
	return map[int]*tables.Weights{2026: w}
}

// readFixture reads a fixture population with ReadDischarges (two workers) and returns it in
// file order, with the read statistics.
func readFixture(t testing.TB, name string) ([]Discharge, ReadStats) {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var mu sync.Mutex
	var ds []Discharge
	st, err := ReadDischarges(f, 2, func(_ int, d *Discharge) {
		mu.Lock()
		ds = append(ds, *d)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	// Workers may interleave; restore file order (ids are d01…, e1… in file order).
	sortByID(ds)
	return ds, st
}

func sortByID(ds []Discharge) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j].ID < ds[j-1].ID; j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

// fixtureMSDRG is a hand-made grouper table set of version 43.1 with four families: 291
// (MCC/CC/none), 469 and 871 (MCC/none), 16 (CC/MCC/none); and 003 without family.
func fixtureMSDRG() *tables.MSDRG {
	r := func(rank int) []tables.VersionRank { return []tables.VersionRank{{Rank: rank, Version: 431}} }
	return &tables.MSDRG{
		Versions: []tables.Version{431},
		Formulas: map[int][]tables.Formula{
			0: {
				{DRG: 3, BaseDRG: 3, Expr: "ecmo | trach", Ranks: r(1)},
				{DRG: 16, BaseDRG: 16, Expr: "(MCC | CC) & autobmt", Ranks: r(2)},
				{DRG: 17, BaseDRG: 16, Expr: "autobmt", Ranks: r(3)},
			},
			5: {
				{DRG: 291, BaseDRG: 291, Expr: "PDX:hf & MCC", Ranks: r(1)},
				{DRG: 292, BaseDRG: 291, Expr: "PDX:hf & CC", Ranks: r(2)},
				{DRG: 293, BaseDRG: 291, Expr: "PDX:hf", Ranks: r(3)},
			},
			8: {
				{DRG: 469, BaseDRG: 469, Expr: "majjoint & MCC | tankle", Ranks: r(1)},
				{DRG: 470, BaseDRG: 469, Expr: "majjoint", Ranks: r(2)},
			},
			18: {
				{DRG: 871, BaseDRG: 871, Expr: "~NORmvge96h & MCC", Ranks: r(1)},
				{DRG: 872, BaseDRG: 871, Expr: "~NORmvge96h", Ranks: r(2)},
			},
		},
		BaseDRGTitles: map[int][]tables.Description{
			291: {{Versioned: tables.Versioned{Versions: tables.VersionSet(0).Add(431)}, Text: "Heart Failure and Shock"}},
		},
	}
}

func date(s string) claim.Date {
	d, err := claim.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}
