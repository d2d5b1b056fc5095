package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestLastAdminCannotBeRemoved: PATCH /v1/users/{id} that would leave no enabled admin is a
// 409 naming the rule — the admin itself or another admin asking (issue 22 item 8).
func TestLastAdminCannotBeRemoved(t *testing.T) {
	ts := newTestServer(t)
	me := ts.do("GET", "/v1/me", admin, nil).expect(t, http.StatusOK).json(t)
	self := fmt.Sprintf("/v1/users/%v", me["id"])
	for _, body := range []string{`{"role":"coder"}`, `{"role":"finance"}`, `{"disabled":true}`, `{"role":"cdi","disabled":true}`} {
		p := ts.do("PATCH", self, admin, body).expect(t, http.StatusConflict).problem(t)
		if !strings.Contains(p.Detail, "last enabled admin") {
			t.Errorf("PATCH %s: detail %q does not name the rule", body, p.Detail)
		}
	}
	if u := ts.do("GET", "/v1/me", admin, nil).expect(t, http.StatusOK).json(t); u["role"] != "admin" || u["disabled"] != false {
		t.Fatalf("the last admin changed: %v", u)
	}
	// A second admin may be demoted while the first remains, and the first may then not be
	// disabled by anyone: not by the demoted one (no longer admin), not by itself.
	nt := ts.do("POST", "/v1/users", admin, `{"name":"second-admin","role":"admin"}`).expect(t, http.StatusCreated).json(t)
	second := fmt.Sprintf("/v1/users/%v", path(nt, "user.id"))
	tok := nt["token"].(string)
	ts.do("PATCH", self, "", `{"disabled":true}`, "Authorization", "Bearer "+tok).expect(t, http.StatusOK)
	ts.do("PATCH", self, "", `{"disabled":false}`, "Authorization", "Bearer "+tok).expect(t, http.StatusOK)
	ts.do("PATCH", second, admin, `{"role":"coder"}`).expect(t, http.StatusOK)
	ts.do("PATCH", self, admin, `{"disabled":true}`).expect(t, http.StatusConflict)
	ts.do("PATCH", self, "", `{"disabled":true}`, "Authorization", "Bearer "+tok).expect(t, http.StatusForbidden)
	// Promoting another user lifts the refusal.
	ts.do("PATCH", second, admin, `{"role":"admin"}`).expect(t, http.StatusOK)
	ts.do("PATCH", self, admin, `{"role":"coder"}`).expect(t, http.StatusOK)
	ts.do("PATCH", self, "", `{"role":"admin"}`, "Authorization", "Bearer "+tok).expect(t, http.StatusOK)
}
