package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkGroupEndpoint measures POST /v1/group through the whole handler chain (routing,
// token check, body limit, parsing, grouping, weights, JSON, metrics), without the network.
func BenchmarkGroupEndpoint(b *testing.B) {
	ts := newTestServer(b)
	h := ts.srv.Handler()
	tok := "Bearer " + ts.tokens[coder]
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/group", strings.NewReader(hfClaim))
		req.Header.Set("Authorization", tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkSearchEndpoint measures GET /v1/codes/search (titles loaded): a word query and the
// worst case, a one-letter prefix of many words.
func BenchmarkSearchEndpoint(b *testing.B) {
	ts := newTestServer(b)
	ts.srv.Catalog().PreloadTitles()
	h := ts.srv.Handler()
	tok := "Bearer " + ts.tokens[cdi]
	for _, q := range []string{"acute+kidney+failure", "heart+fail+systolic", "I50", "a"} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/v1/codes/search?q="+q, nil)
				req.Header.Set("Authorization", tok)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
