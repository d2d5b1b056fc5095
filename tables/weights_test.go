package tables

import (
	"math"
	"path/filepath"
	"slices"
	"testing"
)

func TestLoadWeightsReal(t *testing.T) {
	cms := sharedCMS(t)
	w, err := LoadWeights(filepath.Join(cms, "table5", "msdrg_fy2026_weights_los.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if w.FiscalYear != 2026 || w.Len() != 770 {
		t.Fatalf("FY%d with %d DRGs, want FY2026 with 770", w.FiscalYear, w.Len())
	}
	tests := []struct {
		drg  int
		want DRGWeight
		ok   bool
	}{
		{1, DRGWeight{DRG: 1, Weight: 28.0239, GMLOS: 25.8, AMLOS: 36.2}, true},
		{989, DRGWeight{DRG: 989, Weight: 1.1992, GMLOS: 2.3, AMLOS: 3.0}, true},
		{998, DRGWeight{}, false},
		{999, DRGWeight{}, false},
		{0, DRGWeight{}, false},
		{1000, DRGWeight{}, false},
		{-5, DRGWeight{}, false},
	}
	for _, tt := range tests {
		got, ok := w.Get(tt.drg)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Get(%d) = %+v, %v; want %+v, %v", tt.drg, got, ok, tt.want, tt.ok)
		}
	}
	all := w.All()
	for i := 1; i < len(all); i++ {
		if all[i-1].DRG >= all[i].DRG {
			t.Fatalf("All() not ascending at %d", i)
		}
	}
}

func TestParseWeights(t *testing.T) {
	const good = "# FY2025 Table 5\nmsdrg,weight,gmlos,amlos\n001,28.0239,25.8,36.2\n3,21.2252,22.9,33.0\n002,11.3318,8.5,14.0\n"
	tests := []struct {
		name    string
		file    string
		content string
		wantFY  int
		wantN   int
		wantErr string // substring; "" = success
	}{
		{name: "fy from name", file: "msdrg_fy2026_weights_los.csv", content: "msdrg,weight,gmlos,amlos\n001,1,2,3\n", wantFY: 2026, wantN: 1},
		{name: "fy from comment", file: "weights.csv", content: good, wantFY: 2025, wantN: 3},
		{name: "name and comment agree", file: "table5_fy2025.csv", content: good, wantFY: 2025, wantN: 3},
		{name: "BOM and spaces", file: "FY2026.csv", content: "\ufeffMSDRG, Weight, GMLOS, AMLOS\r\n001, 1.5, 2, 3\r\n", wantFY: 2026, wantN: 1},
		{name: "name and comment disagree", file: "msdrg_fy2026.csv", content: good, wantErr: "msdrg_fy2026.csv: file name says FY2026 but its comment says FY2025"},
		{name: "no year", file: "weights.csv", content: "msdrg,weight,gmlos,amlos\n001,1,2,3\n", wantErr: "weights.csv: cannot tell the fiscal year"},
		{name: "bad header", file: "fy2026.csv", content: "drg,weight,gmlos,amlos\n001,1,2,3\n", wantErr: `fy2026.csv:1: header "drg,weight,gmlos,amlos"`},
		{name: "bad weight", file: "fy2026.csv", content: "# c\nmsdrg,weight,gmlos,amlos\n001,1,2,3\n002,abc,2,3\n", wantErr: `fy2026.csv:4: weight "abc"`},
		{name: "negative los", file: "fy2026.csv", content: "msdrg,weight,gmlos,amlos\n001,1,-2,3\n", wantErr: `fy2026.csv:2: gmlos "-2"`},
		{name: "bad drg", file: "fy2026.csv", content: "msdrg,weight,gmlos,amlos\n1000,1,2,3\n", wantErr: `fy2026.csv:2: msdrg "1000"`},
		{name: "field count", file: "fy2026.csv", content: "msdrg,weight,gmlos,amlos\n001,1,2\n", wantErr: "fy2026.csv:2: 3 fields, want 4"},
		{name: "duplicate", file: "fy2026.csv", content: "msdrg,weight,gmlos,amlos\n001,1,2,3\n1,1,2,3\n", wantErr: "fy2026.csv:3: MS-DRG 001 listed twice"},
		{name: "zero weight", file: "fy2026.csv", content: "msdrg,weight,gmlos,amlos\n001,0,2,3\n", wantErr: "fy2026.csv:2: weight of MS-DRG 001 is 0"},
		{name: "no rows", file: "fy2026.csv", content: "msdrg,weight,gmlos,amlos\n", wantErr: "fy2026.csv: no MS-DRG rows"},
		{name: "empty", file: "fy2026.csv", content: "", wantErr: "fy2026.csv: no header line"},
		{name: "bad quoting", file: "fy2026.csv", content: "msdrg,weight,gmlos,amlos\n001,\"1,2,3\n", wantErr: "fy2026.csv: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := ParseWeights(tt.file, []byte(tt.content))
			if tt.wantErr != "" {
				wantError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.FiscalYear != tt.wantFY || w.Len() != tt.wantN {
				t.Fatalf("FY%d %d rows, want FY%d %d rows", w.FiscalYear, w.Len(), tt.wantFY, tt.wantN)
			}
			for _, r := range w.All() {
				if g, ok := w.Get(r.DRG); !ok || g != r {
					t.Errorf("Get(%d) = %+v, %v; want %+v", r.DRG, g, ok, r)
				}
			}
			if !slices.IsSortedFunc(w.All(), func(a, b DRGWeight) int { return a.DRG - b.DRG }) {
				t.Errorf("All() not sorted: %+v", w.All())
			}
		})
	}
}

// TestPaymentWeightsCapped: the weight column of FY2024 onwards is the payment weight, with
// the 10 % cap on a decrease from the previous year applied: no DRG of a year weighs less than
// 0.9 × its previous-year payment weight (rounded to 4 places). DRG 010 in FY2026 is one of
// the capped DRGs: 7.1757 = 0.9 × FY2025's 7.9730 (its weight before the cap was 3.0699).
func TestPaymentWeightsCapped(t *testing.T) {
	cms := sharedCMS(t)
	c, err := Load(cms)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := c.Weights[2026].Get(10); !ok || r.Weight != 7.1757 {
		t.Errorf("FY2026 DRG 010 = %+v, %v; want the payment weight 7.1757", r, ok)
	}
	for _, fy := range []int{2024, 2025, 2026, 2027} {
		cur, prev := c.Weights[fy], c.Weights[fy-1]
		if cur == nil || prev == nil {
			t.Errorf("FY%d or FY%d weights not loaded", fy, fy-1)
			continue
		}
		for _, r := range cur.All() {
			p, ok := prev.Get(r.DRG)
			if !ok {
				continue
			}
			if floor := math.Round(0.9*p.Weight*1e4) / 1e4; r.Weight < floor {
				t.Errorf("FY%d DRG %03d weight %.4f < 0.9 × FY%d %.4f = %.4f: not a payment weight", fy, r.DRG, r.Weight, fy-1, p.Weight, floor)
			}
		}
	}
}

func TestParseTransferFlags(t *testing.T) {
	f, err := ParseTransferFlags("msdrg_fy2026_transfer_flags.csv", []byte("# c\nmsdrg,post_acute,special_pay\n023,Y,Y\n291,Y,N\n010,N,N\n"))
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := f.Get(23); !ok || !g.PostAcute || !g.SpecialPay || f.FiscalYear != 2026 || f.Len() != 3 {
		t.Errorf("023: %+v %v FY%d", g, ok, f.FiscalYear)
	}
	if g, ok := f.Get(10); !ok || g.PostAcute {
		t.Errorf("010: %+v %v", g, ok)
	}
	if _, ok := f.Get(11); ok {
		t.Error("011 listed")
	}
	for _, tt := range []struct{ content, err string }{
		{"msdrg,post_acute,special_pay\n023,X,N\n", `fy2026.csv:2: post_acute "X": want Y or N`},
		{"msdrg,post_acute,special_pay\n023,N,Y\n", "fy2026.csv:2: MS-DRG 023 is special pay but not post-acute"},
		{"msdrg,post_acute,special_pay\n023,Y,Y\n23,Y,Y\n", "fy2026.csv:3: MS-DRG 023 listed twice"},
		{"msdrg,post_acute\n023,Y\n", `fy2026.csv:1: header "msdrg,post_acute"`},
		{"msdrg,post_acute,special_pay\n", "fy2026.csv: no MS-DRG rows"},
	} {
		_, err := ParseTransferFlags("fy2026.csv", []byte(tt.content))
		wantError(t, err, tt.err)
	}
}
