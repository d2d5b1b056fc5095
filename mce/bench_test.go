package mce

import (
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// sink keeps benchmark results alive so that the compiler cannot elide them.
var sink *Result

// BenchmarkEdit edits the 34,000 public oracle claims in turn (one claim per op).
func BenchmarkEdit(b *testing.B) {
	d := mceData(b)
	claims := oracleClaims(b)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		sink = Edit(d, claims[i], Options{})
		if i++; i == len(claims) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}

// BenchmarkEditReuse is BenchmarkEdit reusing one Result (no allocation per claim).
func BenchmarkEditReuse(b *testing.B) {
	d := mceData(b)
	claims := oracleClaims(b)
	var r Result
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		r.Edit(d, claims[i], Options{})
		if i++; i == len(claims) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}

// FuzzEdit builds claims from fuzzed strings: the MCE must never panic, and its result must be
// self-consistent.
func FuzzEdit(f *testing.F) {
	d := mceData(f)
	f.Add("C61,N390,C61", "0VT04ZZ", "Z3800", "M", 45, 1, 5, 2025, 1, 15, 10, "")
	f.Add("O80,Z370", "10D00Z0,10E0XZZ", "", "U", 5, 20, 0, 2024, 9, 30, 10, "UNSPECIFIED")
	f.Add(",000, ,c61", "0fyg0z1,5A1955Z", "xyz", "X", -1, 99, -3, 2024, 2, 30, 9, "NON_COVERED,AGE_CONFLICT")
	f.Add("00323", "0070,0071", "", "F", 70, 1, 2, 2006, 1, 15, 9, "BILATERAL")
	f.Add("ß,ﬀ", "0ﬀ98ZZ", "\x00", "", 1<<40, -1<<40, 7, 0, 0, 0, 0, "")
	f.Fuzz(func(t *testing.T, dx, pr, admit, sex string, age, status, los, y, m, day, icd int, suppress string) {
		c := &claim.Claim{Sex: sex, DischargeDate: claim.Date{Year: y, Month: time.Month(m), Day: day}}
		if age != -7 {
			c.Age = &age
		}
		if status != -7 {
			c.DischargeStatus = &status
		}
		if los != -7 {
			c.LengthOfStay = &los
		}
		if dx != "" {
			for i, code := range strings.Split(dx, ",") {
				if i == 0 {
					c.PDX = &claim.Dx{Code: code}
				} else {
					c.SDX = append(c.SDX, claim.Dx{Code: code})
				}
			}
		}
		if pr != "" {
			for _, code := range strings.Split(pr, ",") {
				c.Procedures = append(c.Procedures, claim.Proc{Code: code})
			}
		}
		if admit != "" {
			c.AdmitDx = &claim.Dx{Code: admit}
		}
		set, _ := ParseEditSet(suppress)
		r := Edit(d, c, Options{ICDVersion: icd, SuppressPDX: set, SuppressSDX: set, SuppressProc: set})
		rec := r.Record(c.ID)
		if len(rec.Dx) != 1+len(c.SDX) || len(rec.Pr) != len(c.Procedures) {
			t.Fatalf("record has %d dx / %d pr for 1+%d dx / %d pr", len(rec.Dx), len(rec.Pr), len(c.SDX), len(c.Procedures))
		}
		if r.EditType == EditTypeInvalidDischargeDate && len(rec.Edits) != 0 {
			t.Fatalf("invalid discharge date with edits %v", rec.Edits)
		}
		for _, cs := range [][]CodeEdits{r.Dx, r.Pr} {
			for i := range cs {
				for _, e := range cs[i].Edits() {
					if e != Bilateral && set.Has(e) {
						t.Fatalf("suppressed edit %s raised on %q", e, cs[i].Code)
					}
				}
				_ = cs[i].LegacyString(r.ICDVersion)
			}
		}
		_ = r.Messages()
	})
}
