package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// patchUser PATCHes a user with the ETag of the user as read now (If-Match is required).
func (ts *testServer) patchUser(path, body string, headers ...string) reply {
	ts.t.Helper()
	etag := ts.do("GET", path, "", nil, headers...).Header.Get("ETag")
	return ts.do("PATCH", path, "", body, append([]string{"If-Match", etag}, headers...)...)
}

// TestLastAdminCannotBeRemoved: PATCH /v1/users/{id} that would leave no enabled admin is a
// 409 naming the rule — the admin itself or another admin asking (issue 22 item 8).
func TestLastAdminCannotBeRemoved(t *testing.T) {
	ts := newTestServer(t)
	me := ts.do("GET", "/v1/me", admin, nil).expect(t, http.StatusOK).json(t)
	self := fmt.Sprintf("/v1/users/%v", me["id"])
	for _, body := range []string{`{"role":"coder"}`, `{"role":"finance"}`, `{"disabled":true}`, `{"role":"cdi","disabled":true}`} {
		p := ts.patchUser(self, body, "Authorization", "Bearer "+ts.tokens[admin]).expect(t, http.StatusConflict).problem(t)
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
	ts.patchUser(self, `{"disabled":true}`, "Authorization", "Bearer "+tok).expect(t, http.StatusOK)
	ts.patchUser(self, `{"disabled":false}`, "Authorization", "Bearer "+tok).expect(t, http.StatusOK)
	ts.patchUser(second, `{"role":"coder"}`, "Authorization", "Bearer "+ts.tokens[admin]).expect(t, http.StatusOK)
	ts.patchUser(self, `{"disabled":true}`, "Authorization", "Bearer "+ts.tokens[admin]).expect(t, http.StatusConflict)
	ts.patchUser(self, `{"disabled":true}`, "Authorization", "Bearer "+tok).expect(t, http.StatusForbidden)
	// Promoting another user lifts the refusal.
	ts.patchUser(second, `{"role":"admin"}`, "Authorization", "Bearer "+ts.tokens[admin]).expect(t, http.StatusOK)
	ts.patchUser(self, `{"role":"coder"}`, "Authorization", "Bearer "+ts.tokens[admin]).expect(t, http.StatusOK)
	ts.patchUser(self, `{"role":"admin"}`, "Authorization", "Bearer "+tok).expect(t, http.StatusOK)
}
