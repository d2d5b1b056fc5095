package cdi

import (
	"testing"

	"github.com/msdrg-cdi/drg/fixtures"
)

// BenchmarkReview reviews a 200-item evidence encounter: every rule evaluated, mechanical
// specificity, conflicts and POA searched, every opportunity regrouped with the real
// grouper (the budget for the review endpoint is 50 ms).
func BenchmarkReview(b *testing.B) {
	e := testEngine(b)
	enc := fixtures.LargeEncounter()
	rev, err := e.Review(enc, ReviewOptions{}) // warm: compile the grouper version, load titles
	if err != nil {
		b.Fatal(err)
	}
	if len(enc.Evidence) != 200 || len(rev.Opportunities) < 8 {
		b.Fatalf("%d evidence items, %d opportunities", len(enc.Evidence), len(rev.Opportunities))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Review(enc, ReviewOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rev.Opportunities)), "opportunities")
}

// TestReviewBigEncounter keeps the benchmark's encounter honest: 200 items and at least
// eight opportunities, each drafting a query that passes the linter (the time budget is
// BenchmarkReview's).
func TestReviewBigEncounter(t *testing.T) {
	e := testEngine(t)
	enc := fixtures.LargeEncounter()
	rev, err := e.Review(enc, ReviewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(enc.Evidence) != 200 {
		t.Fatalf("%d evidence items", len(enc.Evidence))
	}
	for i := range rev.Opportunities {
		o := &rev.Opportunities[i]
		t.Logf("%-45s %-20s %v→%v Δ%.4f %s", o.ID, o.Kind, o.Impact.DRGBefore, o.Impact.DRGAfter, o.Impact.WeightDelta, o.Impact.NoImpact)
		// Every opportunity of a large, repetitive record still drafts a compliant query.
		if _, err := GenerateQuery(o, GenerateOptions{ID: "Q", EncounterID: "E", AdmitDate: enc.AdmitDate, Author: specialist,
			Provider: attending, Now: enc.AdmitDate.Time().AddDate(0, 0, 5)}); err != nil {
			t.Errorf("%s: %v", o.ID, err)
		}
	}
	if len(rev.Opportunities) < 8 {
		t.Errorf("%d opportunities", len(rev.Opportunities))
	}
}
