package grouper_test

import (
	"testing"

	"github.com/msdrg-cdi/drg/grouper"
)

// BenchmarkGroup groups the oracle claims (all eight versions, realistic and edge-case mixes)
// one at a time into a reused result, the batch hot path.
func BenchmarkGroup(b *testing.B) {
	e := testEngine(b)
	claims := oracleClaims(b)
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
