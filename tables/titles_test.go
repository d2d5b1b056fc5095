package tables

import (
	"archive/zip"
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func loadRealTitles(tb testing.TB, kind TitleKind, fy int) *CodeTitles {
	tb.Helper()
	dir, suffix := ICD10CMDir, "dx"
	if kind == ICD10PCS {
		dir, suffix = ICD10PCSDir, "pr"
	}
	t, err := LoadCodeTitles(filepath.Join(sharedCMS(tb), dir, fmt.Sprintf("cms_%d_%s.zip", fy, suffix)))
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func TestLoadCodeTitlesReal(t *testing.T) {
	tests := []struct {
		kind        TitleKind
		fy          int
		codes       int // lines of the order file
		valid       int
		code, short string
		long        string
		valid1      bool
	}{
		{ICD10CM, 2026, 98186, 74719, "I5023", "Acute on chronic systolic (congestive) heart failure", "Acute on chronic systolic (congestive) heart failure", true},
		{ICD10CM, 2026, 98186, 74719, "I50", "Heart failure", "Heart failure", false},
		{ICD10CM, 2023, 96795, 73674, "A000", "Cholera due to Vibrio cholerae 01, biovar cholerae", "Cholera due to Vibrio cholerae 01, biovar cholerae", true},
		{ICD10PCS, 2026, 80029, 79115, "0016070", "Bypass Cereb Vent to Nasophar with Autol Sub, Open Approach",
			"Bypass Cerebral Ventricle to Nasopharynx with Autologous Tissue Substitute, Open Approach", true},
		{ICD10PCS, 2024, 79543, 78638, "001", "Central Nervous System and Cranial Nerves, Bypass", "Central Nervous System and Cranial Nerves, Bypass", false},
	}
	for _, tt := range tests {
		ct := loadRealTitles(t, tt.kind, tt.fy)
		if ct.Kind != tt.kind || ct.FiscalYear != tt.fy || ct.Len() != tt.codes || ct.ValidLen() != tt.valid {
			t.Errorf("%s FY%d: got %s FY%d, %d codes, %d valid; want %d, %d", tt.kind, tt.fy, ct.Kind, ct.FiscalYear, ct.Len(), ct.ValidLen(), tt.codes, tt.valid)
		}
		got, ok := ct.Get(tt.code)
		if !ok || got.Code != tt.code || got.Short != tt.short || got.Long != tt.long || got.Valid != tt.valid1 {
			t.Errorf("%s FY%d Get(%s) = %+v, %v", tt.kind, tt.fy, tt.code, got, ok)
		}
	}
	cm := loadRealTitles(t, ICD10CM, 2026)
	if g, ok := cm.Get("i50.23"); !ok || g.Code != "I5023" {
		t.Errorf("Get(i50.23) = %+v, %v", g, ok)
	}
	if _, ok := cm.Get("I5099"); ok {
		t.Error("Get(I5099) found a code that does not exist")
	}
	n := 0
	cm.All(func(c CodeTitle) bool { n++; return c.Order == n })
	if n != cm.Len() {
		t.Errorf("All stopped at %d of %d (orders not 1…n?)", n, cm.Len())
	}
}

func TestCodeTitlesSharedAcrossYears(t *testing.T) {
	cms := sharedCMS(t)
	t26, err := loadCodeTitles(filepath.Join(cms, ICD10CMDir, "cms_2026_dx.zip"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t25, err := loadCodeTitles(filepath.Join(cms, ICD10CMDir, "cms_2025_dx.zip"), t26)
	if err != nil {
		t.Fatal(err)
	}
	fresh := loadRealTitles(t, ICD10CM, 2025)
	if t25.Len() != fresh.Len() || t25.ValidLen() != fresh.ValidLen() {
		t.Fatalf("sharing changed the content: %d/%d vs %d/%d", t25.Len(), t25.ValidLen(), fresh.Len(), fresh.ValidLen())
	}
	for i := range fresh.entries {
		if fresh.entries[i] != t25.entries[i] {
			t.Fatalf("entry %d differs: %+v vs %+v", i, fresh.entries[i], t25.entries[i])
		}
	}
	a, _ := t25.Get("I5023")
	b, _ := t26.Get("I5023")
	if a.Long != b.Long || strings.Compare(a.Long, b.Long) != 0 {
		t.Fatal("I5023 title differs between 2025 and 2026")
	}
}

// orderLine formats one order-file line.
func orderLine(order int, code string, valid int, short, long string) string {
	return fmt.Sprintf("%05d %-7s %d %-60s %s\r\n", order, code, valid, short, long)
}

func titleZip(t *testing.T, entry, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(entry)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(content))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadCodeTitlesFixtures(t *testing.T) {
	good := orderLine(1, "A00", 0, "Cholera", "Cholera") + orderLine(2, "A000", 1, "Cholera due to Vibrio", "Cholera due to Vibrio cholerae 01, biovar cholerae")
	tests := []struct {
		name, zipName, entry, content string
		wantErr                       string
	}{
		{name: "ok", zipName: "cms_2026_dx.zip", entry: "icd10cm_order_2026.txt", content: good},
		{name: "ok in subdir, other name", zipName: "Code Descriptions 2026.zip", entry: "2026/icd10cm_order_2026.txt", content: good},
		{name: "short line", zipName: "cms_2026_dx.zip", entry: "icd10cm_order_2026.txt", content: good + "00003 A001    1 Cholera\r\n",
			wantErr: "icd10cm_order_2026.txt:3: not an order-file line"},
		{name: "bad flag", zipName: "cms_2026_dx.zip", entry: "icd10cm_order_2026.txt", content: good + orderLine(3, "A001", 2, "x", "x"),
			wantErr: "icd10cm_order_2026.txt:3: valid flag '2'"},
		{name: "bad code", zipName: "cms_2026_dx.zip", entry: "icd10cm_order_2026.txt", content: orderLine(1, "A0-1", 1, "x", "x"),
			wantErr: "icd10cm_order_2026.txt:1: code \"A0-1   \""},
		{name: "bad order", zipName: "cms_2026_dx.zip", entry: "icd10cm_order_2026.txt", content: "0000x" + orderLine(1, "A00", 1, "x", "x")[5:],
			wantErr: "icd10cm_order_2026.txt:1: order number \"0000x\""},
		{name: "duplicate", zipName: "cms_2026_dx.zip", entry: "icd10cm_order_2026.txt", content: good + orderLine(3, "A000", 1, "x", "x"),
			wantErr: "code A000 listed twice"},
		{name: "empty", zipName: "cms_2026_dx.zip", entry: "icd10cm_order_2026.txt", content: "", wantErr: "icd10cm_order_2026.txt: no codes"},
		{name: "year mismatch", zipName: "cms_2025_dx.zip", entry: "icd10cm_order_2026.txt", content: good,
			wantErr: "file name says ICD-10-CM FY2025 but it holds icd10cm_order_2026.txt"},
		{name: "kind mismatch", zipName: "cms_2026_pr.zip", entry: "icd10cm_order_2026.txt", content: good,
			wantErr: "file name says ICD-10-PCS FY2026"},
		{name: "no order file", zipName: "cms_2026_dx.zip", entry: "icd10cm_codes_2026.txt", content: good,
			wantErr: "no icd10cm_order_YYYY.txt or icd10pcs_order_YYYY.txt inside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), tt.zipName, titleZip(t, tt.entry, tt.content))
			ct, err := LoadCodeTitles(p)
			if tt.wantErr != "" {
				wantError(t, err, tt.wantErr, tt.zipName)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g, ok := ct.Get("A000")
			want := CodeTitle{Code: "A000", Valid: true, Short: "Cholera due to Vibrio", Long: "Cholera due to Vibrio cholerae 01, biovar cholerae", Order: 2}
			if !ok || g != want || ct.Len() != 2 || ct.ValidLen() != 1 || ct.FiscalYear != 2026 || ct.Kind != ICD10CM {
				t.Errorf("Get(A000) = %+v, %v; Len %d ValidLen %d", g, ok, ct.Len(), ct.ValidLen())
			}
		})
	}
}

func codesOf(ts []CodeTitle) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Code
	}
	return out
}

func TestSearch(t *testing.T) {
	cm := loadRealTitles(t, ICD10CM, 2026)
	pcs := loadRealTitles(t, ICD10PCS, 2026)
	tests := []struct {
		t       *CodeTitles
		q       string
		limit   int
		first   []string // expected leading results, in order
		contain string   // a code that must be among the results
		none    bool
	}{
		{t: cm, q: "I50", limit: 5, first: []string{"I50", "I501", "I502", "I5020", "I5021"}},
		{t: cm, q: "i50.23", limit: 5, first: []string{"I5023"}},
		{t: cm, q: "E11.22", limit: 1, first: []string{"E1122"}},
		{t: cm, q: "ac kid fail", limit: 10, first: []string{"N179"}, contain: "N170"},
		{t: cm, q: "Acute kidney failure", limit: 10, first: []string{"N179"}},
		{t: cm, q: "heart failure", limit: 10, first: []string{"I509", "I50"}, contain: "I5089"},
		{t: cm, q: "heart failure", limit: 300, contain: "I5023"},
		{t: cm, q: "diabetes type 2 kidney", limit: 5, contain: "E1122"},
		{t: cm, q: "  SEPSIS, ", limit: 20, contain: "A419"},
		{t: cm, q: "zzzqqq", limit: 10, none: true},
		{t: cm, q: "heart zzzqqq", limit: 10, none: true},
		{t: cm, q: "", limit: 10, none: true},
		{t: cm, q: "...", limit: 10, none: true},
		{t: pcs, q: "02703DZ", limit: 3, first: []string{"02703DZ"}},
		{t: pcs, q: "bypass coronary one artery", limit: 50, contain: "02100Z9"},
		{t: pcs, q: "replacement left knee", limit: 100, contain: "0SRD0J9"},
	}
	for _, tt := range tests {
		got := tt.t.Search(tt.q, tt.limit)
		codes := codesOf(got)
		if tt.none {
			if len(got) != 0 {
				t.Errorf("Search(%q) = %v, want nothing", tt.q, codes)
			}
			continue
		}
		if len(got) == 0 || len(got) > tt.limit {
			t.Errorf("Search(%q, %d) returned %d results", tt.q, tt.limit, len(got))
			continue
		}
		for i, c := range tt.first {
			if i >= len(codes) || codes[i] != c {
				t.Errorf("Search(%q) = %v, want it to start with %v", tt.q, codes, tt.first)
				break
			}
		}
		if tt.contain != "" && !strings.Contains(" "+strings.Join(codes, " ")+" ", " "+tt.contain+" ") {
			t.Errorf("Search(%q) = %v, want it to contain %s", tt.q, codes, tt.contain)
		}
		seen := map[string]bool{}
		for _, c := range codes {
			if seen[c] {
				t.Errorf("Search(%q) returns %s twice", tt.q, c)
			}
			seen[c] = true
		}
	}
	if got := cm.Search("heart", 0); len(got) != DefaultSearchLimit {
		t.Errorf("Search with limit 0 returned %d results, want %d", len(got), DefaultSearchLimit)
	}
	// Every title word matches: each result contains all query words as word prefixes.
	for _, r := range cm.Search("chronic kidney disease stage", 200) {
		low := strings.ToLower(r.Long + " " + r.Short)
		for _, w := range []string{"chronic", "kidney", "disease", "stage"} {
			if !strings.Contains(low, w) {
				t.Errorf("result %s %q lacks %q", r.Code, r.Long, w)
			}
		}
	}
}

// BenchmarkSearch measures code search (API budget: < 20 ms per query), including the worst
// queries: one letter or a common word matches a large part of the titles or index entries.
// Titles alone for both code sets, and ICD-10-CM as the API searches it: titles and the
// Alphabetic Index (SearchCodes).
func BenchmarkSearch(b *testing.B) {
	queries := []string{"I50", "heart failure", "ac kid fail", "acute renal failure", "heart attack", "a", "of", "with", "a b c d e f g h", "0", "left"}
	cm := loadRealTitles(b, ICD10CM, 2026)
	for _, ct := range []*CodeTitles{cm, loadRealTitles(b, ICD10PCS, 2026)} {
		for _, q := range queries {
			b.Run(fmt.Sprintf("%s/%s", ct.Kind, q), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					ct.Search(q, 50)
				}
			})
		}
	}
	c, err := Load(sharedCMS(b))
	if err != nil {
		b.Fatal(err)
	}
	x, err := c.AlphaIndexFor(2026)
	if err != nil || x == nil {
		b.Skipf("no Alphabetic Index (%v)", err)
	}
	for _, q := range queries {
		b.Run("ICD-10-CM+index/"+q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				SearchCodes(cm, x, q, 50)
			}
		})
	}
}

func BenchmarkLoadCodeTitles(b *testing.B) {
	p := filepath.Join(sharedCMS(b), ICD10CMDir, "cms_2026_dx.zip")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadCodeTitles(p); err != nil {
			b.Fatal(err)
		}
	}
}
