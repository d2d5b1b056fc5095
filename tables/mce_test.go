package tables

import (
	"archive/zip"
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/msdrg-cdi/drg/internal/shared"
)

// mceBinPath returns ../shared/cms/mce/mce.bin, skipping the test when it is absent.
func mceBinPath(tb testing.TB) string { return shared.Path(tb, "cms/mce/mce.bin") }

var (
	mceOnce  sync.Once
	mceBytes []byte
	mceData  *MCEData
	mceErr   error
)

// loadMCETest decodes the shipped mce.bin once per test binary.
func loadMCETest(tb testing.TB) ([]byte, *MCEData) {
	tb.Helper()
	p := mceBinPath(tb)
	mceOnce.Do(func() {
		if mceBytes, mceErr = os.ReadFile(p); mceErr == nil {
			mceData, mceErr = DecodeMCE(mceBytes)
		}
	})
	if mceErr != nil {
		tb.Fatal(mceErr)
	}
	return mceBytes, mceData
}

func TestDecodeMCECounts(t *testing.T) {
	_, d := loadMCETest(t)
	if d.Version != 431 || d.Termination != 20260930 || d.DateFormat != "yyyyMMdd" {
		t.Errorf("version %d termination %d format %q, want 431 20260930 yyyyMMdd", d.Version, d.Termination, d.DateFormat)
	}
	for _, tc := range []struct {
		name           string
		table          map[string][]MCERow
		entries, codes int
	}{
		{"ICD-10 dx", d.Dx, 84932, 75719},
		{"ICD-10 proc", d.Pr, 86809, 82407},
		{"ICD-9 dx", d.ICD9Dx, 23012, 15075},
		{"ICD-9 proc", d.ICD9Pr, 4279, 3966},
	} {
		n := 0
		for _, rows := range tc.table {
			n += len(rows)
		}
		if n != tc.entries || len(tc.table) != tc.codes {
			t.Errorf("%s: %d entries / %d codes, want %d / %d", tc.name, n, len(tc.table), tc.entries, tc.codes)
		}
	}
}

// TestDecodeMCEFlagCounts checks the flag counts of the ICD-10 tables against the data format.
func TestDecodeMCEFlagCounts(t *testing.T) {
	_, d := loadMCETest(t)
	count := func(table map[string][]MCERow) map[string]int {
		m := map[string]int{}
		for _, rows := range table {
			for _, r := range rows {
				for _, f := range r.Flags.List() {
					m[f.String()]++
				}
			}
		}
		return m
	}
	wantDx := map[string]int{"unacceptable": 3074, "unspecified": 3473, "ecodepdx": 7751, "maternity": 5205,
		"female": 3597, "male": 535, "adult": 972, "newborn": 461, "pediatric": 148, "manifestation": 463,
		"diabtypeI": 93, "qadm": 40, "delout": 38, "ncov6": 11, "ncov7": 2, "ncov_z302": 1, "clintrial": 1,
		"reqsdx": 1, "wrngproc": 3}
	wantPr := map[string]int{"female": 2338, "male": 2024, "noncovered": 202, "ncov_z302": 174, "lcov": 52,
		"ncov7": 40, "ncov6": 20, "vagdel": 10, "csect": 6, "kidneyxp": 6, "ncov45": 2, "ncov12agele60": 2,
		"los": 1, "lcov_artheartxpa": 1, "lcov_artheartxpb": 1}
	for _, tc := range []struct {
		name string
		got  map[string]int
		want map[string]int
	}{{"ICD-10 dx", count(d.Dx), wantDx}, {"ICD-10 proc", count(d.Pr), wantPr}} {
		if len(tc.got) != len(tc.want) {
			t.Errorf("%s: flags %v, want %v", tc.name, tc.got, tc.want)
		}
		for f, n := range tc.want {
			if tc.got[f] != n {
				t.Errorf("%s: flag %s on %d entries, want %d", tc.name, f, tc.got[f], n)
			}
		}
	}
}

func TestDecodeMCERows(t *testing.T) {
	_, d := loadMCETest(t)
	flags := func(names ...string) MCEFlags {
		var s MCEFlags
		for _, n := range names {
			f, ok := ParseMCEFlag(n)
			if !ok {
				t.Fatalf("unknown flag %s", n)
			}
			s.Add(f)
		}
		return s
	}
	for _, tc := range []struct {
		code string
		rows []MCERow
	}{
		{"C61", []MCERow{{DateRange{20151001, 20240930}, flags("male")}, {DateRange{20241001, 20260930}, flags()}}},
		{"O80", []MCERow{{DateRange{20151001, 20240930}, flags("maternity", "female")}, {DateRange{20241001, 20260930}, flags("maternity")}}},
		{"W891XXA", []MCERow{{DateRange{20151001, 20260930}, flags("ecodepdx")}}},
		{"Z3800", []MCERow{{DateRange{20151001, 20260930}, flags("newborn")}}},
		{"I5023", []MCERow{{DateRange{20151001, 20260930}, flags()}}},
	} {
		got := d.Dx[tc.code]
		if len(got) != len(tc.rows) {
			t.Errorf("%s: %v, want %v", tc.code, got, tc.rows)
			continue
		}
		for i := range got {
			if got[i] != tc.rows[i] {
				t.Errorf("%s row %d: %v %v, want %v %v", tc.code, i, got[i].DateRange, got[i].Flags, tc.rows[i].DateRange, tc.rows[i].Flags)
			}
		}
	}
	if rows := d.Pr["02703DZ"]; len(rows) != 1 || !rows[0].Flags.IsEmpty() {
		t.Errorf("02703DZ: %v", rows)
	}
	if f, ok := d.Lookup(ICD10Dx, "C61", 20240930); !ok || !f.Has(FlagMale) {
		t.Errorf("C61 on 2024-09-30: %v %v, want [male] valid", f, ok)
	}
	if f, ok := d.Lookup(ICD10Dx, "C61", 20241001); !ok || !f.IsEmpty() {
		t.Errorf("C61 on 2024-10-01: %v %v, want [] valid", f, ok)
	}
	if _, ok := d.Lookup(ICD10Dx, "C61", 20150930); ok {
		t.Error("C61 valid before 2015-10-01")
	}
	if _, ok := d.Lookup(ICD10Dx, "c61", 20250101); ok {
		t.Error("lookup must be by upper-cased code (the caller upper-cases)")
	}
}

func TestDecodeMCEAgesAndStatuses(t *testing.T) {
	_, d := loadMCETest(t)
	for _, tc := range []struct {
		g        AgeGroup
		date     int
		min, max int
	}{
		{AgeAdult, 20250101, 15, 124}, {AgeMaternity, 20190930, 12, 55}, {AgeMaternity, 20191001, 9, 64},
		{AgeNewborn, 19850101, 0, 0}, {AgePediatric, 20260930, 0, 17},
	} {
		r, ok := d.AgeRange(tc.g, tc.date)
		if !ok || r.MinAge != tc.min || r.MaxAge != tc.max {
			t.Errorf("%s on %d: %v %v, want %d–%d", tc.g, tc.date, r, ok, tc.min, tc.max)
		}
	}
	if len(d.Ages["MATERNITY"]) != 2 || len(d.Ages) != 4 {
		t.Errorf("age table %v", d.Ages)
	}
	for _, tc := range []struct {
		status, date int
		valid        bool
	}{
		{1, 20250101, true}, {20, 20250101, true}, {0, 20250101, false}, {99, 20250101, false},
		{21, 20090930, false}, {21, 20091001, true}, {8, 20000101, true}, {8, 20051001, false},
		{10, 20060101, true}, {10, 20040101, false}, {69, 20131001, true}, {95, 20260930, true},
	} {
		if got := d.ValidDischargeStatus(tc.status, tc.date); got != tc.valid {
			t.Errorf("status %d on %d: valid %v, want %v", tc.status, tc.date, got, tc.valid)
		}
	}
}

func TestParseMCEDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"20260415", 20260415, true}, {" 20260415\t", 20260415, true},
		{"20240230", 20240229, true}, {"20230229", 20230228, true}, {"20230431", 20230430, true},
		{"21000229", 21000228, true}, {"20000230", 20000229, true},
		{"20231301", 0, false}, {"20230001", 0, false}, {"20230100", 0, false}, {"20230132", 0, false},
		{"", 0, false}, {"2023-01-01", 0, false}, {"2023011", 0, false}, {"202301011", 0, false},
		{"2023O101", 0, false}, {"+2023010", 0, false},
	} {
		got, ok := ParseMCEDate(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseMCEDate(%q) = %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestDecodeMCEBadInput feeds data that is not a valid mce.bin: every case must return a
// clear one-line error, never panic.
func TestDecodeMCEBadInput(t *testing.T) {
	b, _ := loadMCETest(t)
	var zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	w, _ := zw.Create("mce.bin")
	w.Write(b[:4096])
	zw.Close()
	rnd := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range rnd {
		rnd[i] = byte(r.UintN(256))
	}
	cases := []struct {
		name    string
		data    []byte
		notMCE  bool // must match ErrNotMCE
		wantSub string
	}{
		{"empty", nil, true, "empty"},
		{"truncated half", b[:len(b)/2], false, "truncated"},
		{"truncated by one byte", b[:len(b)-1], false, ""},
		{"truncated mid-tag", b[:1], false, "truncated"},
		{"random bytes", rnd, false, ""},
		{"zip file", zipBuf.Bytes(), false, ""},
		{"text", []byte("code\tstart\tend\nC61\t20151001\t\n"), false, ""},
		{"protobuf without tables", []byte{0x40, 0xaf, 0x03}, true, "missing"},
	}
	// A copy cut exactly after the ICD-10 tables decodes as protobuf but misses fields.
	if cut := topLevelEnd(t, b, 4); cut > 0 {
		cases = append(cases, struct {
			name    string
			data    []byte
			notMCE  bool
			wantSub string
		}{"truncated at a field boundary", b[:cut], true, "missing"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := DecodeMCE(tc.data)
			if err == nil {
				t.Fatalf("decoded %d bytes of %s without error: %+v", len(tc.data), tc.name, d != nil)
			}
			if d != nil {
				t.Error("non-nil data with an error")
			}
			msg := err.Error()
			t.Log(msg)
			if strings.Contains(msg, "\n") || !strings.Contains(strings.ToLower(msg), "mce") {
				t.Errorf("unclear error %q", msg)
			}
			if tc.notMCE && !errors.Is(err, ErrNotMCE) {
				t.Errorf("error %q does not wrap ErrNotMCE", msg)
			}
			if tc.wantSub != "" && !strings.Contains(msg, tc.wantSub) {
				t.Errorf("error %q does not mention %q", msg, tc.wantSub)
			}
		})
	}
}

// topLevelEnd returns the offset just past top-level field num of b (0 when absent).
func topLevelEnd(t *testing.T, b []byte, num protowire.Number) int {
	t.Helper()
	end := 0
	for off := 0; off < len(b); {
		n, typ, k := protowire.ConsumeTag(b[off:])
		if k < 0 {
			t.Fatal(protowire.ParseError(k))
		}
		m := protowire.ConsumeFieldValue(n, typ, b[off+k:])
		if m < 0 {
			t.Fatal(protowire.ParseError(m))
		}
		off += k + m
		if n == num {
			end = off
		}
	}
	return end
}

func TestLoadMCE(t *testing.T) {
	p := mceBinPath(t)
	d, err := LoadMCE(p)
	if err != nil || d.Version != 431 {
		t.Fatalf("LoadMCE: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "nope.bin")
	if _, err := LoadMCE(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.bin")
	os.WriteFile(bad, []byte("not protobuf"), 0o644)
	if _, err := LoadMCE(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: %v", err)
	}
}

func FuzzDecodeMCE(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x40, 0xaf, 0x03})
	f.Add([]byte{0x1a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0x41})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeMCE(b)
		if (d == nil) == (err == nil) {
			t.Fatalf("data %v, error %v", d != nil, err)
		}
	})
}

func BenchmarkDecodeMCE(b *testing.B) {
	raw, _ := loadMCETest(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMCE(raw); err != nil {
			b.Fatal(err)
		}
	}
}
