package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/store"
	"github.com/msdrg-cdi/drg/web"
)

// TestSecurityHeaders: every answer — data, errors, the interface — forbids caching, framing
// and referrers (issue 22 item 11).
func TestSecurityHeaders(t *testing.T) {
	ts := newTestServer(t, web.Routes()...)
	enc := ts.do("POST", "/v1/encounters", coder, `{"account":"H-1","facility":"MAIN","admit_date":"2026-04-27","age":70,"sex":"M"}`).expect(t, http.StatusCreated).json(t)
	id := enc["id"].(string)
	cases := []struct {
		method, path string
		role         store.Role
		body         string
		status       int
	}{
		{"GET", "/v1/encounters/" + id, coder, "", 200},
		{"GET", "/v1/encounters", finance, "", 200},
		{"POST", "/v1/group", coder, hfClaim, 200},
		{"GET", "/v1/encounters/nope", coder, "", 404},
		{"GET", "/v1/encounters", "", "", 401},
		{"GET", "/v1/users", coder, "", 403},
		{"POST", "/v1/group", coder, `{"sex":"Q"}`, 422},
		{"DELETE", "/v1/me", coder, "", 405},
		{"GET", "/nowhere", "", "", 404},
		{"GET", "/ui/", "", "", 200},
		{"GET", "/ui/app.js", "", "", 200},
		{"GET", "/openapi.json", "", "", 200},
		{"GET", "/healthz", "", "", 200},
	}
	for _, c := range cases {
		var body any
		if c.body != "" {
			body = c.body
		}
		r := ts.do(c.method, c.path, c.role, body).expect(t, c.status)
		h := r.Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s %s: Content-Security-Policy %q lacks frame-ancestors 'none'", c.method, c.path, csp)
		}
		for name, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
			if got := h.Get(name); got != want {
				t.Errorf("%s %s: %s %q, want %q", c.method, c.path, name, got, want)
			}
		}
	}
}

// TestHeadWhereverGet: HEAD answers every GET route with the status and headers of GET and no
// body, with the same access checks (issue 22 item 11).
func TestHeadWhereverGet(t *testing.T) {
	ts := newTestServer(t, web.Routes()...)
	enc := ts.do("POST", "/v1/encounters", coder, `{"account":"H-2","facility":"MAIN","admit_date":"2026-04-27","age":70,"sex":"M"}`).expect(t, http.StatusCreated).json(t)
	id := enc["id"].(string)
	fill := strings.NewReplacer("{id}", id, "{code}", "I5023", "{drg}", "291", "{path...}", "index.html", "{name}", "x")
	n := 0
	for _, r := range ts.srv.Routes() {
		if r.Method != http.MethodGet || strings.Contains(fill.Replace(r.Path), "{") {
			continue
		}
		p := fill.Replace(r.Path)
		get := ts.do("GET", p, admin, nil)
		head := ts.do("HEAD", p, admin, nil)
		if head.StatusCode != get.StatusCode {
			t.Errorf("HEAD %s: status %d, GET %d", p, head.StatusCode, get.StatusCode)
		}
		if len(head.body) != 0 {
			t.Errorf("HEAD %s: %d bytes of body", p, len(head.body))
		}
		if get.Header.Get("ETag") != head.Header.Get("ETag") || get.Header.Get("Content-Type") != head.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: ETag %q Content-Type %q, GET %q %q", p, head.Header.Get("ETag"), head.Header.Get("Content-Type"), get.Header.Get("ETag"), get.Header.Get("Content-Type"))
		}
		if head.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("HEAD %s: no Cache-Control: no-store", p)
		}
		n++
	}
	if n < 20 {
		t.Errorf("only %d GET routes tried", n)
	}
	ts.do("HEAD", "/v1/encounters/"+id, "", nil).expect(t, http.StatusUnauthorized)
	ts.do("HEAD", "/v1/users", coder, nil).expect(t, http.StatusForbidden)
}
