package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/fixtures"
	"github.com/msdrg-cdi/drg/store"
)

// BenchmarkReviewEndpoint measures POST /v1/encounters/{id}/review on a 200-item evidence
// encounter through the whole handler chain: token check, reading the encounter from SQLite,
// the CDI review (every rule, every opportunity regrouped), the risk flags (regrouping without
// each CC/MCC), the clinical validation, and storing the review with its audit row (issue 7
// budget: 50 ms).
func BenchmarkReviewEndpoint(b *testing.B) {
	ts := newCDIServer(b, &clock{t: time.Date(2026, 5, 8, 12, 0, 0, 0, time.UTC)}, api.CDIConfig{})
	var e store.Encounter
	r := ts.do("POST", "/v1/encounters", cdi, fixtures.LargeEncounter())
	if r.StatusCode != 201 {
		b.Fatalf("create: %d %s", r.StatusCode, r.body)
	}
	if err := jsonUnmarshal(r.body, &e); err != nil || len(e.Evidence) != 200 {
		b.Fatalf("%v: %d evidence items", err, len(e.Evidence))
	}
	h := ts.srv.Handler()
	tok := "Bearer " + ts.tokens[cdi]
	review := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/encounters/"+e.ID+"/review", nil)
		req.Header.Set("Authorization", tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		return w
	}
	var rv api.CDIReview
	if err := jsonUnmarshal(review().Body.Bytes(), &rv); err != nil || len(rv.Review.Opportunities) < 8 {
		b.Fatalf("%v: %d opportunities", err, len(rv.Review.Opportunities))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		review()
	}
	b.ReportMetric(float64(len(rv.Review.Opportunities)), "opportunities")
}
