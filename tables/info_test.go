package tables

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestInfoReal(t *testing.T) {
	c, err := Load(sharedCMS(t))
	if err != nil {
		t.Fatal(err)
	}
	r := Info(c)
	if len(r.Grouper) != 8 {
		t.Fatalf("%d grouper versions, want 8", len(r.Grouper))
	}
	tests := []struct {
		i        int
		v        Version
		from, to string
		dx, pr   int
	}{
		{0, 400, "2022-10-01", "2023-03-31", 73639, 82393},
		{7, 431, "2026-04-01", "2026-09-30", 74719, 83276},
	}
	for _, tt := range tests {
		g := r.Grouper[tt.i]
		if g.Version != tt.v || g.From.String() != tt.from || g.To.String() != tt.to || g.DxCodes != tt.dx || g.PrCodes != tt.pr {
			t.Errorf("Grouper[%d] = %+v, want v%s %s..%s dx %d pr %d", tt.i, g, tt.v, tt.from, tt.to, tt.dx, tt.pr)
		}
	}
	// Valid ICD-10-CM codes of a fiscal year equal the diagnosis codes of the year's April
	// version (x.1; the order files include April updates): two CMS sources agree.
	for _, ti := range r.Titles {
		if ti.Kind != ICD10CM {
			continue
		}
		for _, g := range r.Grouper {
			if VersionFiscalYear(g.Version) == ti.FiscalYear && g.Version%10 == 1 && ti.Valid != g.DxCodes {
				t.Errorf("FY%d: %d valid CM codes, v%s has %d diagnosis codes", ti.FiscalYear, ti.Valid, g.Version, g.DxCodes)
			}
		}
	}
	var wantWeights []WeightsInfo
	for fy, n := range realWeights(t, c.Dir) {
		wantWeights = append(wantWeights, WeightsInfo{FiscalYear: fy, DRGs: n})
	}
	slices.SortFunc(wantWeights, func(a, b WeightsInfo) int { return a.FiscalYear - b.FiscalYear })
	// Transfer flags of FY2026 and FY2027 (counts from the files' first lines).
	flags := map[int][2]int{2026: {285, 49}, 2027: {294, 63}}
	for i := range wantWeights {
		if f, ok := flags[wantWeights[i].FiscalYear]; ok {
			wantWeights[i].TransferFlags, wantWeights[i].PostAcute, wantWeights[i].SpecialPay = true, f[0], f[1]
		}
	}
	if !slices.Equal(r.Weights, wantWeights) || !slices.Contains(r.Weights, WeightsInfo{FiscalYear: 2026, DRGs: 770, TransferFlags: true, PostAcute: 285, SpecialPay: 49}) ||
		!slices.Contains(r.Weights, WeightsInfo{FiscalYear: 2027, DRGs: 766, TransferFlags: true, PostAcute: 294, SpecialPay: 63}) {
		t.Errorf("Weights = %+v, want %+v (FY2026 with 770 DRGs and FY2027 with 766, both with transfer flags, among them)", r.Weights, wantWeights)
	}
	var text strings.Builder
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FY2023  765 DRGs  no transfer flags", "FY2026  770 DRGs  transfer flags: 285 post-acute, 49 special-pay DRGs",
		"FY2027  766 DRGs  transfer flags: 294 post-acute, 63 special-pay DRGs", "transfer discharge statuses: payment/transfer_statuses.json (built in)"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("tables info text lacks %q", want)
		}
	}
	if len(r.Titles) != 8 || r.Titles[3] != (TitlesInfo{Kind: ICD10CM, FiscalYear: 2026, Codes: 98186, Valid: 74719}) ||
		r.Titles[7] != (TitlesInfo{Kind: ICD10PCS, FiscalYear: 2026, Codes: 80029, Valid: 79115}) {
		t.Errorf("Titles = %+v", r.Titles)
	}
	if len(r.Index) != len(c.IndexYears()) {
		t.Errorf("Index = %+v", r.Index)
	}
	for _, x := range r.Index {
		if x.Error != "" || x.Entries < 1000 || len(x.Files) == 0 {
			t.Errorf("Index FY%d = %+v", x.FiscalYear, x)
		}
	}
	if len(r.POA) != 4 || r.POA[3] != (POAInfo{2026, 38349}) {
		t.Errorf("POA = %+v", r.POA)
	}
	if len(r.HCC) != 2 || r.HCC[0].LabelsYear != 2026 {
		t.Errorf("HCC = %+v", r.HCC)
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"MS-DRG grouper versions (msdrg/msdrg_combined.bin)",
		"v43.1    2026-04-01       2026-09-30  74719     83276",
		"FY2026  770 DRGs",
		"ICD-10-PCS  FY2026  80029 codes  79115 valid",
		"FY2026  38349 codes",
		"ICD-10-CM Alphabetic Index (icd10cm/index_YYYY/)",
		"2025 (labels of 2026)",
		"CMS-HCC V28  7903 dx codes",
		"msdrg/msdrg_combined.bin",
		"sha256 " + c.Files[0].SHA256,
		"Warnings\n  CMS-HCC 2025: no hcc/ra_labels_2025.csv",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteText output lacks %q:\n%s", want, out)
		}
	}
	if err := r.WriteText(failWriter{}); err == nil {
		t.Error("WriteText to a failing writer returned nil")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
