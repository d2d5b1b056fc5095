package grouper_test

import (
	"os"
	"runtime"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/internal/shared"
	"github.com/msdrg-cdi/drg/tables"
)

// BenchmarkGroup groups the 20,000 v43.1 oracle claims (a batch is grouped with one version)
// one at a time into a reused result, the batch hot path.
func BenchmarkGroup(b *testing.B) {
	benchGroup(b, func(c *claim.Claim) bool { return c.Version == 431 })
}

// BenchmarkGroupAllVersions cycles through all 34,000 oracle claims of the eight versions.
func BenchmarkGroupAllVersions(b *testing.B) {
	benchGroup(b, func(*claim.Claim) bool { return true })
}

func benchGroup(b *testing.B, keep func(*claim.Claim) bool) {
	e := testEngine(b)
	var claims []*claim.Claim
	for _, c := range oracleClaims(b) {
		if keep(c) {
			claims = append(claims, c)
		}
	}
	if err := e.Prepare(); err != nil {
		b.Fatal(err)
	}
	var r grouper.Result
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.GroupInto(claims[i%len(claims)], grouper.Options{}, &r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}

// BenchmarkGroupAlloc is the convenience path that allocates a new result per claim.
func BenchmarkGroupAlloc(b *testing.B) {
	e := testEngine(b)
	claims := oracleClaims(b)
	if err := e.Prepare(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Group(claims[i%len(claims)], grouper.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadAllVersions decodes msdrg_combined.bin and compiles all eight versions: the
// start-up cost of a process that groups claims of every version. heapMB is the live heap after.
func BenchmarkLoadAllVersions(b *testing.B) {
	raw, err := os.ReadFile(shared.Path(b, "cms/msdrg/msdrg_combined.bin"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var e *grouper.Engine
	for b.Loop() {
		m, err := tables.DecodeMSDRG(raw)
		if err != nil {
			b.Fatal(err)
		}
		e = grouper.New(m)
		if err := e.Prepare(); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC() // twice: the first only moves pooled workspaces of old engines to the victim cache
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heapMB")
	runtime.KeepAlive(e)
}
