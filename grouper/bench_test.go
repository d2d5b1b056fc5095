package grouper_test

import (
	"testing"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
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
