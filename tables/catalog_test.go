package tables

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestLoadReal(t *testing.T) {
	cms := sharedCMS(t)
	c, err := Load(cms)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.MSDRG.Versions, allVersions) {
		t.Errorf("versions %v, want %v", c.MSDRG.Versions, allVersions)
	}
	if w, ok := c.WeightsFor(431); !ok || w.Len() != 770 || w.FiscalYear != 2026 {
		t.Errorf("WeightsFor(431) = %v, %v", w, ok)
	}
	// Every Table 5 of the directory is loaded, and a version finds the table of its fiscal
	// year exactly when that year's file is there.
	want := realWeights(t, cms)
	for fy, n := range want {
		if w := c.Weights[fy]; w == nil || w.Len() != n {
			t.Errorf("Weights[%d] = %v, want %d DRGs", fy, w, n)
		}
	}
	if len(c.Weights) != len(want) {
		t.Errorf("%d weight years loaded, %d files in %s", len(c.Weights), len(want), Table5Dir)
	}
	var noWeights []string
	for _, v := range allVersions {
		fy := VersionFiscalYear(v)
		w, ok := c.WeightsFor(v)
		if _, has := want[fy]; ok != has || ok && w.FiscalYear != fy {
			t.Errorf("WeightsFor(%s) = %v, %v; FY%d file present: %v", v, w, ok, fy, has)
		}
		if s := fmt.Sprintf("FY%d", fy); !ok && !slices.Contains(noWeights, s) {
			noWeights = append(noWeights, s)
		}
	}
	if p, ok := c.POAFor(400); !ok || p.FiscalYear != 2023 || p.Len() != 37658 {
		t.Errorf("POAFor(400) = %v, %v", p, ok)
	}
	if len(c.POA) != 4 || len(c.HCC) != 2 {
		t.Errorf("%d POA years, %d HCC years; want 4, 2", len(c.POA), len(c.HCC))
	}
	if v28, ok := c.HCC[2026].Model("V28"); !ok || !slices.Equal(v28.HCCs("E1122"), []int{37}) {
		t.Errorf("HCC 2026 V28 E1122 wrong")
	}
	for _, k := range []TitleKind{ICD10CM, ICD10PCS} {
		if got := c.TitleYears(k); !slices.Equal(got, []int{2023, 2024, 2025, 2026}) {
			t.Errorf("TitleYears(%s) = %v", k, got)
		}
	}
	if v, err := c.VersionForDate(date(t, "2026-05-01")); err != nil || v != 431 {
		t.Errorf("VersionForDate = %v, %v", v, err)
	}
	// Files: every data file, with the grouper's checksum matching the bytes on disk.
	if files := realDataFiles(t, cms); len(c.Files) != len(files) {
		t.Errorf("%d files, want %d (%v): %+v", len(c.Files), len(files), files, c.Files)
	}
	raw, err := os.ReadFile(filepath.Join(cms, GrouperFile))
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(c.Files, func(f FileInfo) bool { return f.Path == GrouperFile })
	if i < 0 || c.Files[i].SHA256 != sha256Hex(raw) || c.Files[i].Size != int64(len(raw)) {
		t.Errorf("grouper FileInfo wrong: %+v", c.Files)
	}
	if !slices.IsSortedFunc(c.Files, func(a, b FileInfo) int { return strings.Compare(a.Path, b.Path) }) {
		t.Error("Files not sorted")
	}
	wantWarn := []string{"CMS-HCC 2025: no hcc/ra_labels_2025.csv: using the labels of 2026"}
	if len(noWeights) > 0 {
		wantWarn = append(wantWarn, "no Table 5 weights for "+strings.Join(noWeights, ", ")+" (grouper versions of those years are loaded)")
	}
	if !slices.Equal(c.Warnings, wantWarn) {
		t.Errorf("Warnings = %q\nwant %q", c.Warnings, wantWarn)
	}
}

func TestCatalogTitlesLazyConcurrent(t *testing.T) {
	c, err := Load(sharedCMS(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, lt := range c.titles {
		if lt.t.Load() != nil {
			t.Fatal("titles loaded by Load; they should load on first use")
		}
	}
	const n = 8
	got := make([]*CodeTitles, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			kind := ICD10CM
			if i%2 == 1 {
				kind = ICD10PCS
			}
			ct, err := c.Titles(kind, 2026)
			if err != nil {
				t.Error(err)
			}
			got[i] = ct
		})
	}
	wg.Wait()
	for i := 2; i < n; i++ {
		if got[i] != got[i%2] {
			t.Fatalf("concurrent callers got different CodeTitles")
		}
	}
	if g, ok := got[0].Get("I5023"); !ok || !g.Valid {
		t.Errorf("I5023: %+v %v", g, ok)
	}
	ct, err := c.TitlesFor(ICD10PCS, 431)
	if err != nil || ct != got[1] {
		t.Errorf("TitlesFor(PCS, 431) = %p, %v; want %p", ct, err, got[1])
	}
	if _, err := c.Titles(ICD10CM, 2030); !errors.Is(err, ErrNotLoaded) || !strings.Contains(err.Error(), "FY2030") {
		t.Errorf("Titles(2030) err = %v, want ErrNotLoaded naming FY2030", err)
	}
}

// grouperDir returns a data dir in a temp directory whose grouper file has content b (nil:
// no file).
func grouperDir(t *testing.T, b []byte) string {
	t.Helper()
	dir := t.TempDir()
	if b != nil {
		writeFile(t, dir, GrouperFile, b)
	}
	return dir
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fieldEnd returns the offset just after top-level field n of a protobuf message.
func fieldEnd(t *testing.T, b []byte, n protowire.Number) int {
	t.Helper()
	off := 0
	for off < len(b) {
		num, typ, l := protowire.ConsumeTag(b[off:])
		if l < 0 {
			t.Fatal(protowire.ParseError(l))
		}
		m := protowire.ConsumeFieldValue(num, typ, b[off+l:])
		if m < 0 {
			t.Fatal(protowire.ParseError(m))
		}
		off += l + m
		if num == n {
			return off
		}
	}
	t.Fatalf("field %d not found", n)
	return 0
}

func TestLoadBadGrouperFile(t *testing.T) {
	cms := sharedCMS(t)
	real, err := os.ReadFile(filepath.Join(cms, GrouperFile))
	if err != nil {
		t.Fatal(err)
	}
	mce, err := os.ReadFile(filepath.Join(cms, MCEFile))
	if err != nil {
		t.Fatal(err)
	}
	garbled := slices.Clone(real)
	for i := len(garbled) / 3; i < len(garbled)/3+64; i++ {
		garbled[i] = 0xff
	}
	tests := []struct {
		name    string
		content []byte
		want    string
		notType bool // errors.Is(err, ErrNotMSDRG)
	}{
		{name: "missing", content: nil, want: "grouper data missing; download the MS-DRG Grouper software"},
		{name: "empty", content: []byte{}, want: "the file is empty", notType: true},
		{name: "truncated in the middle", content: real[:len(real)/2], want: "truncated or corrupt", notType: true},
		{name: "truncated by one byte", content: real[:len(real)-1], want: "truncated or corrupt", notType: true},
		{name: "truncated at a table boundary", content: real[:fieldEnd(t, real, 13)], want: "top-level tables 14, 15, 16 missing", notType: true},
		{name: "garbled", content: garbled, want: "not an MS-DRG grouper data file", notType: true},
		{name: "zip renamed", content: zipOf(t, map[string][]byte{"runtime_buffers/msdrg_combined.bin": real[:100]}), want: "it is a zip or jar archive", notType: true},
		{name: "text renamed", content: []byte("msdrg,weight,gmlos,amlos\n001,1,2,3\n"), want: "it is a text file", notType: true},
		{name: "html error page", content: []byte("<!DOCTYPE html><html><body>404</body></html>"), want: "it is a text file", notType: true},
		{name: "mce renamed", content: mce, want: "it is Medicare Code Editor data (mce.bin), which belongs in mce/mce.bin", notType: true},
		{name: "gzip", content: []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, want: "gzip", notType: true},
		{name: "random bytes", content: []byte{0x08, 0x96, 0x01, 0x00, 0xff, 0x03, 0x10}, want: "not an MS-DRG grouper data file", notType: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := grouperDir(t, tt.content)
			c, err := Load(dir)
			if err == nil || c != nil {
				t.Fatalf("Load = %v, %v; want no catalog and an error", c, err)
			}
			oneLine(t, err)
			path := filepath.Join(dir, filepath.FromSlash(GrouperFile))
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if tt.notType != errors.Is(err, ErrNotMSDRG) {
				t.Errorf("errors.Is(err, ErrNotMSDRG) = %v, want %v", !tt.notType, tt.notType)
			}
		})
	}
}

// linkGrouper makes dir/msdrg/msdrg_combined.bin a symbolic link to the shared file.
func linkGrouper(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(GrouperFile))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(sharedCMS(t), GrouperFile), p); err != nil {
		t.Skipf("symlink: %v", err)
	}
}

func TestLoadGrouperOnlyWarnsOnce(t *testing.T) {
	dir := t.TempDir()
	linkGrouper(t, dir)
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"no Table 5 weights (table5/*.csv): results will carry no weight, GMLOS or AMLOS",
		"no ICD-10-CM code titles (icd10cm/*.zip): titles and code search are unavailable",
		"no ICD-10-PCS code titles (icd10pcs/*.zip): titles and code search are unavailable",
		"no POA-exempt lists (poa/*.zip): POA-exempt checks are unavailable",
		"no CMS-HCC maps (hcc/ra_dx_to_cc_YYYY.csv): HCC features are unavailable",
		"no Medicare Code Editor data (mce/mce.bin): MCE edits are unavailable",
	}
	if !slices.Equal(c.Warnings, want) {
		t.Errorf("Warnings = %q\nwant %q", c.Warnings, want)
	}
	if len(c.Files) != 1 || c.Files[0].Path != GrouperFile {
		t.Errorf("Files = %+v", c.Files)
	}
}

func TestLoadMalformedOptionalFile(t *testing.T) {
	tests := []struct {
		name, rel string
		content   []byte
		want      string
	}{
		{name: "weights", rel: "table5/msdrg_fy2026_weights_los.csv", content: []byte("msdrg,weight,gmlos,amlos\n001,1,2,3\n002,x,2,3\n"),
			want: "msdrg_fy2026_weights_los.csv:3: weight \"x\""},
		{name: "duplicate weights year", rel: "table5/b_fy2026.csv", content: []byte("msdrg,weight,gmlos,amlos\n001,1,2,3\n"),
			want: "a second Table 5 for FY2026"},
		{name: "hcc", rel: "hcc/ra_dx_to_cc_2026.csv", content: []byte("diagnosis_code,cc,model_name\nE1122,x,CMS-HCC Model V28\n"),
			want: "ra_dx_to_cc_2026.csv:2: cc \"x\""},
		{name: "titles not a zip", rel: "icd10cm/cms_2026_dx.zip", content: []byte("not a zip"), want: "cms_2026_dx.zip: zip: not a valid zip file"},
		{name: "pcs zip in the cm dir", rel: "icd10cm/cms_2026_pr.zip",
			content: nil, want: "holds ICD-10-PCS titles but is in icd10cm/"},
		{name: "poa", rel: "poa/POAexemptCodesFY26.zip", content: nil, want: "POAexemptCodesFY26.txt:2: \"??\" is not an ICD-10-CM code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			linkGrouper(t, dir)
			content := tt.content
			switch tt.name {
			case "duplicate weights year":
				writeFile(t, dir, "table5/a_fy2026.csv", []byte("msdrg,weight,gmlos,amlos\n001,1,2,3\n"))
			case "pcs zip in the cm dir":
				content = titleZip(t, "icd10pcs_order_2026.txt", orderLine(1, "001", 0, "x", "x"))
			case "poa":
				content = poaZip(t, "POAexemptCodesFY26.txt", "Order26\tPOAexemptCode\tDescription\n1\t??\tx\n")
			}
			writeFile(t, dir, tt.rel, content)
			c, err := Load(dir)
			if err == nil || c != nil {
				t.Fatalf("Load = %v, %v; want an error", c, err)
			}
			oneLine(t, err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// BenchmarkLoad measures Load of the full data directory (titles load lazily and are not
// part of it) and reports the live heap after Load.
func BenchmarkLoad(b *testing.B) {
	dir := sharedCMS(b)
	b.ReportAllocs()
	var c *Catalog
	for b.Loop() {
		var err error
		if c, err = Load(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	c = nil
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	c, _ = Load(dir)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc)/1e6, "heapMB")
	b.ReportMetric(float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc))/1e6, "catalogMB")
	runtime.KeepAlive(c)
}

// BenchmarkPreloadTitles measures loading every title year (4 × CM and PCS) and reports the
// heap they take.
func BenchmarkPreloadTitles(b *testing.B) {
	c, err := Load(sharedCMS(b))
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var last *Catalog
	for b.Loop() {
		b.StopTimer()
		fresh := *c
		fresh.titles = map[titleKey]*lazyTitles{}
		for k, lt := range c.titles {
			fresh.titles[k] = &lazyTitles{path: lt.path}
		}
		last = nil
		b.StartTimer()
		if err := fresh.PreloadTitles(); err != nil {
			b.Fatal(err)
		}
		last = &fresh
	}
	b.StopTimer()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc))/1e6, "titlesMB")
	runtime.KeepAlive(last)
}
