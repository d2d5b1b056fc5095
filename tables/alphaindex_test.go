package tables

import (
	"bytes"
	"compress/gzip"
	"slices"
	"strings"
	"testing"
)

// smallIndex is a hand-written extract in the layout of ICD10CM_2025_Index.csv.
const smallIndex = `RowID,Letter,Level,Term,See,SeeAlso,NonEssModif,Code
1,A,0,"Attack, attacks",,,,
2,A,1,heart,"Infarct, myocardium",,(acute),
3,F,0,"Failure, failed",,,,
4,F,1,kidney,,"Disease, kidney, chronic",,N19
5,F,2,acute,,"Failure, renal, acute",,N17.9-
6,F,1,renal,,,,N19
7,F,2,acute,,,(nontraumatic),N17.9
8,I,0,"Infarct, infarction",,,,
9,I,1,"myocardium, myocardial",,,(acute),I21.9
10,I,2,chronic,,,,I25.2
11,P,0,Pneumonia,,,(acute) (double) (purulent),J18.9
12,P,1,in,,,,
13,P,2,"measles, by site",,,,--
14,X,0,Xanthoma,"Infarct, myocardium, by site",,,
`

func gz(b string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(b))
	zw.Close()
	return buf.Bytes()
}

func TestAlphaIndexSmall(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "ICD10CM_2025_Index.csv.gz", gz(smallIndex))
	x, err := LoadAlphaIndex(2025, []string{p})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q     string
		codes []string
		term  string // of the first hit
		exact bool
	}{
		{"acute kidney failure", []string{"N179"}, "Failure, failed, kidney, acute", true},
		{"acute renal failure", []string{"N179"}, "Failure, failed, renal, acute", true},
		// A see-reference to a term known by another name ("myocardium, myocardial").
		{"heart attack", []string{"I219"}, "Attack, attacks, heart → Infarct, myocardium", true},
		// The main term's own words rank before its subterms; modifiers match after terms.
		{"pneumonia", []string{"J189"}, "Pneumonia", true},
		{"purulent pneumonia", []string{"J189"}, "Pneumonia", false},
		{"infarct", []string{"I219", "I252"}, "Infarct, infarction, myocardium, myocardial", false},
		// "…, by site" resolves to the deepest entry named.
		{"xanthoma", []string{"I219"}, "Xanthoma → Infarct, myocardium, by site", true},
		{"measles", nil, "", false}, // "--": no code
		{"zzz", nil, "", false},
	}
	for _, tc := range tests {
		hits := x.Search(tc.q, 10)
		var codes []string
		for _, h := range hits {
			codes = append(codes, h.Code)
		}
		if !slices.Equal(codes, tc.codes) {
			t.Errorf("Search(%q) = %v, want %v", tc.q, codes, tc.codes)
			continue
		}
		if len(hits) > 0 && (hits[0].Term != tc.term || hits[0].Exact != tc.exact) {
			t.Errorf("Search(%q)[0] = %+v, want term %q exact %v", tc.q, hits[0], tc.term, tc.exact)
		}
	}
	if h := x.Search("kidney acute", 1); len(h) != 1 || !h[0].Incomplete {
		t.Errorf("N17.9- is written incomplete: %+v", h)
	}
}

func TestAlphaIndexErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, file, content, want string
	}{
		{"header", "ICD10CM_2025_Index.csv", "RowID,Term,Code\n1,x,A00\n", `header "RowID,Term,Code": want RowID,Letter,Level,Term,See,SeeAlso,NonEssModif,Code`},
		{"level jump", "ICD10CM_2025_Index.csv", "RowID,Letter,Level,Term,See,SeeAlso,NonEssModif,Code\n1,A,0,Abc,,,,A00\n2,A,2,def,,,,A01\n", `ICD10CM_2025_Index.csv:3: level "2" after level 0`},
		{"columns", "ICD10CM_2025_Index.csv", "RowID,Letter,Level,Term,See,SeeAlso,NonEssModif,Code\n1,A,0,Abc,A00\n", "ICD10CM_2025_Index.csv:2"},
		{"year", "ICD10CM_2024_Index.csv", smallIndex, "file name says FY2024, not FY2025"},
		{"name", "index.csv", smallIndex, "not an index file name"},
		{"nothing", "ICD10CM_2025_Index.csv", "RowID,Letter,Level,Term,See,SeeAlso,NonEssModif,Code\n", "no entry with a code"},
	}
	for _, tc := range tests {
		p := writeFile(t, dir, tc.name+"/"+tc.file, []byte(tc.content))
		_, err := LoadAlphaIndex(2025, []string{p})
		wantError(t, err, tc.want, p)
	}
}

// TestCatalogAlphaIndex: the data directory's index_YYYY is checked and checksummed at Load,
// read on first use; a malformed header stops Load; a missing index is a warning.
func TestCatalogAlphaIndex(t *testing.T) {
	dir := grouperDir(t, readShared(t, GrouperFile))
	writeFile(t, dir, "icd10cm/cms_2026_dx.zip", readShared(t, "icd10cm/cms_2026_dx.zip")) // search exists: its index is missed
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.IndexYears()) != 0 || !slices.ContainsFunc(c.Warnings, func(w string) bool { return strings.Contains(w, "no ICD-10-CM Alphabetic Index") }) {
		t.Errorf("no index: years %v, warnings %q", c.IndexYears(), c.Warnings)
	}
	if x, err := c.AlphaIndexFor(2026); x != nil || err != nil {
		t.Errorf("AlphaIndexFor without index = %v, %v", x, err)
	}
	writeFile(t, dir, "icd10cm/index_2025/ICD10CM_2025_Index.csv.gz", gz(smallIndex))
	writeFile(t, dir, "icd10cm/index_2025/README.md", []byte("ignored"))
	if c, err = Load(dir); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.IndexYears(), []int{2025}) || !slices.ContainsFunc(c.Files, func(f FileInfo) bool { return f.Path == "icd10cm/index_2025/ICD10CM_2025_Index.csv.gz" }) {
		t.Errorf("years %v, files %+v", c.IndexYears(), c.Files)
	}
	for _, fy := range []int{2024, 2025, 2026} { // the nearest earlier year, else the earliest
		if x, err := c.AlphaIndexFor(fy); err != nil || x == nil || x.FiscalYear != 2025 || x.Len() != 9 {
			t.Errorf("AlphaIndexFor(%d): %v", fy, err)
		}
	}
	writeFile(t, dir, "icd10cm/index_2025/ICD10CM_2025_Drugs.csv", []byte("Substance,Code\n"))
	_, err = Load(dir)
	wantError(t, err, "ICD10CM_2025_Drugs.csv: header", "want RowID,Letter,Level,Term,SeeAlso,NonEssModif,PoisoningAccidental")
}

// TestSearchCodesReal: the combined search over the FY2026 titles and the FY2025 index.
func TestSearchCodesReal(t *testing.T) {
	c, err := Load(sharedCMS(t))
	if err != nil {
		t.Fatal(err)
	}
	ct, err := c.Titles(ICD10CM, 2026)
	if err != nil {
		t.Fatal(err)
	}
	x, err := c.AlphaIndexFor(2026)
	if err != nil || x == nil {
		t.Skipf("no Alphabetic Index in the data directory (%v)", err)
	}
	tests := []struct {
		q                  string
		first, match, term string
	}{
		{"acute kidney failure", "N179", MatchIndex, "Failure, failed, kidney, acute"},
		{"acute renal failure", "N179", MatchIndex, "Failure, failed, renal, acute"},
		{"heart attack", "I219", MatchIndex, "Attack, attacks, heart → "},
		{"high blood pressure", "I10", MatchIndex, "Blood, pressure, high → "},
		{"lung cancer", "C3490", MatchIndex, "Cancer, lung"},
		{"acetaminophen poisoning", "T391X1", MatchIndex, "Drugs and chemicals: Acetaminophen, poisoning accidental"},
		{"I50.2", "I502", MatchCode, ""},
		{"fall from ladder", "W11XXXS", MatchTitle, ""},
	}
	for _, tc := range tests {
		hits := SearchCodes(ct, x, tc.q, 10)
		if len(hits) == 0 || hits[0].Code != tc.first || hits[0].Match != tc.match || !strings.HasPrefix(hits[0].IndexTerm, tc.term) {
			t.Errorf("SearchCodes(%q) first = %+v, want %s by %s via %q", tc.q, hits[:min(1, len(hits))], tc.first, tc.match, tc.term)
		}
		seen := map[string]bool{}
		for _, h := range hits {
			if seen[h.Code] {
				t.Errorf("SearchCodes(%q) lists %s twice", tc.q, h.Code)
			}
			seen[h.Code] = true
		}
	}
	// Without an index it is the title search.
	if got, want := codesOfHits(SearchCodes(ct, nil, "heart failure", 10)), codesOf(ct.Search("heart failure", 10)); !slices.Equal(got, want) {
		t.Errorf("titles only: %v, want %v", got, want)
	}
}

func codesOfHits(hs []SearchHit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Code
	}
	return out
}

// TestImportAlphaIndex: index files are recognized by header (the External Cause Index by its
// codes), placed in icd10cm/index_YYYY/ compressed as given, and need a year in their name.
func TestImportAlphaIndex(t *testing.T) {
	tmp := t.TempDir()
	ext := readShared(t, "icd10cm/index_2025/ICD10CM_2025_ExternalIndex.csv.gz")
	paths := []string{writeFile(t, tmp, "in/external causes 2025.csv.gz", ext), writeFile(t, tmp, "in/my_index_2025.csv", []byte(smallIndex))}
	got, err := Import(paths, tmp+"/data")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Dest != "icd10cm/index_2025/ICD10CM_2025_ExternalIndex.csv.gz" || got[1].Dest != "icd10cm/index_2025/ICD10CM_2025_Index.csv" ||
		got[0].Kind != KindICD10CMIndex || !strings.Contains(got[1].Detail, "FY2025, Index: 9 entries") {
		t.Errorf("Import = %+v", got)
	}
	_, err = Import([]string{writeFile(t, tmp, "in/index.csv", []byte(smallIndex))}, tmp+"/data2")
	wantError(t, err, "without a year in the file name; rename it ICD10CM_YYYY_Index.csv.gz", "index.csv")
	_, err = Import([]string{writeFile(t, tmp, "in/bad_2025.csv", []byte(smallIndex+"15,Z,3,deep,,,,Z00\n"))}, tmp+"/data3")
	wantError(t, err, `bad_2025.csv:16: level "3" after level 0`)
	_, err = Import([]string{writeFile(t, tmp, "in/x_2025.csv.gz", gz("hello\n"))}, tmp+"/data4")
	wantError(t, err, "unrecognized text file", "x_2025.csv.gz")
}
