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
