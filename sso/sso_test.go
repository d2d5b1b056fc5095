package sso_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/internal/shared"
	"github.com/msdrg-cdi/drg/internal/ssotest"
	"github.com/msdrg-cdi/drg/sso"
	"github.com/msdrg-cdi/drg/store"
	"github.com/msdrg-cdi/drg/tables"
)

var (
	catOnce sync.Once
	cat     *tables.Catalog
	catErr  error
)

// service is drg serve with single sign-on against an identity provider.
type service struct {
	URL string
	st  *store.Store
}

func start(t *testing.T, p *ssotest.Provider, roleMap string, issuer string) *service {
	t.Helper()
	dir := shared.DataDir(t)
	catOnce.Do(func() { cat, catErr = tables.Load(dir) })
	if catErr != nil {
		t.Fatal(catErr)
	}
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "drg.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := api.New(api.Config{Catalog: cat, Store: st, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	rm, err := sso.ParseRoleMap(roleMap)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := sso.New(sso.Config{Issuer: issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret, RoleMap: rm}, srv, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Register(sso.Routes(svc)...); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &service{URL: hs.URL, st: st}
}

// signIn runs the browser through /auth/login → provider → /auth/callback and returns the
// callback's answer.
func signIn(t *testing.T, b *ssotest.Browser, s *service) (*http.Response, string) {
	t.Helper()
	return b.Get(t, s.URL+"/auth/login?next=%23%2Fworklist")
}

// me returns the caller as the session cookie shows it, or the status.
func me(t *testing.T, b *ssotest.Browser, s *service) (store.User, int) {
	t.Helper()
	resp, body := b.Do(t, "GET", s.URL+"/v1/me", nil)
	var u store.User
	json.Unmarshal(body, &u)
	return u, resp.StatusCode
}

// TestOIDCSignIn runs the sign-in flow against a real OpenID provider: a valid sign-in creates
// the user with the mapped role and a session; a role change at the provider applies at the
// next sign-in; tokens for another audience, expired, or with an altered payload are refused;
// a user whose groups map to no role gets a page saying why and loses the sessions they had.
func TestOIDCSignIn(t *testing.T) {
	p := ssotest.Start(t)
	s := start(t, p, "drg-admins=admin, drg-cdi=cdi, drg-coders=coder", p.Issuer())
	b := ssotest.NewBrowser()

	// Valid sign-in.
	p.User("sub-ann", "ann", "staff", "drg-coders")
	resp, body := signIn(t, b, s)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/#/worklist" {
		t.Fatalf("valid sign-in: %d %s %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	authz := p.Authorizations()
	if len(authz) != 1 || authz[0].Get("code_challenge_method") != "S256" || authz[0].Get("code_challenge") == "" ||
		authz[0].Get("nonce") == "" || authz[0].Get("state") == "" || !strings.Contains(authz[0].Get("scope"), "openid") {
		t.Errorf("authorization request %v", authz)
	}
	if b.Cookie(s.URL, "__Host-drg_login") != "" {
		t.Error("the sign-in state cookie outlived the callback")
	}
	first := b.Cookie(s.URL, api.SessionCookie)
	u, status := me(t, b, s)
	if status != 200 || u.Name != "ann" || u.Role != store.RoleCoder {
		t.Fatalf("after sign-in: %d %+v", status, u)
	}

	// Role change at the provider: the next sign-in maps the new group; same user.
	p.User("sub-ann", "ann", "staff", "drg-cdi")
	if resp, body := signIn(t, b, s); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d %.300s", resp.StatusCode, body)
	}
	if u2, _ := me(t, b, s); u2.ID != u.ID || u2.Role != store.RoleCDI {
		t.Errorf("after the role change: %+v", u2)
	}
	if b.Cookie(s.URL, api.SessionCookie) == first {
		t.Error("a new sign-in kept the old session")
	}

	refused := []struct {
		name   string
		setup  func()
		status int
		says   string
	}{
		{"wrong audience", func() { p.UserForAudience("sub-eve", "eve", "another-app", "drg-admins") }, 401, "another application"},
		{"expired token", func() { p.FastForward(-2 * time.Hour); p.User("sub-eve", "eve", "drg-admins") }, 401, "expired"},
		{"tampered signature", func() {
			p.User("sub-eve", "eve", "staff")
			p.TamperNext(func(c map[string]any) { c["groups"] = []string{"drg-admins"} })
		}, 401, "signature"},
		{"unmapped group", func() { p.User("sub-ann", "ann", "staff", "nurses") }, 403, "none of your groups (staff, nurses)"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			c.setup()
			resp, body := signIn(t, ssotest.NewBrowser(), s)
			p.FastForward(-p.FastForward(0)) // back to the real clock
			if resp.StatusCode != c.status || !strings.Contains(body, c.says) || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("status %d, want %d with %q:\n%.800s", resp.StatusCode, c.status, c.says, body)
			}
		})
	}
	// The unmapped sign-in ended ann's sessions; no user was made for eve.
	if _, status := me(t, b, s); status != 401 {
		t.Errorf("ann's session after losing her group: %d", status)
	}
	users, _ := s.st.ListUsers(context.Background())
	if len(users) != 1 {
		t.Errorf("users %+v", users)
	}

	// A disabled user is refused even with a mapped group.
	disabled := true
	s.st.UpdateUser(context.Background(), store.CLIActor, u.ID, store.UserChange{Disabled: &disabled})
	p.User("sub-ann", "ann", "drg-coders")
	if resp, body := signIn(t, b, s); resp.StatusCode != 403 || !strings.Contains(body, "disabled") {
		t.Errorf("disabled user: %d %.300s", resp.StatusCode, body)
	}

	// The provider's answer is bound to the browser that started the sign-in and used once.
	p.User("sub-bob", "bob", "drg-coders")
	other := ssotest.NewBrowser()
	step := *other.Client // the same cookies, one step at a time
	step.CheckRedirect = noRedirect().CheckRedirect
	loginResp, err := step.Do(mustRequest(t, s.URL+"/auth/login"))
	if err != nil {
		t.Fatal(err)
	}
	loginResp.Body.Close()
	authURL := loginResp.Header.Get("Location")
	cb, err := noRedirect().Get(authURL) // the provider answers with the callback URL
	if err != nil {
		t.Fatal(err)
	}
	cb.Body.Close()
	callback := cb.Header.Get("Location")
	for _, c := range []struct {
		name string
		b    *ssotest.Browser
	}{{"another browser", ssotest.NewBrowser()}, {"the browser", other}, {"replayed", other}} {
		resp, body := c.b.Get(t, callback)
		want := 400
		if c.name == "the browser" {
			want = 303
		}
		if resp.StatusCode != want {
			t.Errorf("callback from %s: %d, want %d: %.300s", c.name, resp.StatusCode, want, body)
		}
		if c.name == "the browser" { // the state cookie is gone: give it back for the replay
			other.SetCookie(s.URL, "__Host-drg_login", queryOf(t, callback, "state"))
		}
	}
	if resp, body := b.Get(t, s.URL+"/auth/callback?error=access_denied&error_description=user+cancelled"); resp.StatusCode != 401 ||
		!strings.Contains(body, "user cancelled") {
		t.Errorf("provider error: %d %.300s", resp.StatusCode, body)
	}
}

// TestSSOConfiguration: without a provider the sign-in routes say single sign-on is off; an
// unreachable provider is a 502 page; bad settings are refused at start.
func TestSSOConfiguration(t *testing.T) {
	p := ssotest.Start(t)
	s := start(t, p, "g=coder", "http://127.0.0.1:1/oidc") // nothing listens on port 1
	b := ssotest.NewBrowser()
	if resp, body := b.Get(t, s.URL+"/auth/config"); resp.StatusCode != 200 || !strings.Contains(body, `"oidc":true`) {
		t.Errorf("config %d %s", resp.StatusCode, body)
	}
	if resp, body := b.Get(t, s.URL+"/auth/login"); resp.StatusCode != 502 || !strings.Contains(body, "cannot be reached") {
		t.Errorf("unreachable provider: %d %.300s", resp.StatusCode, body)
	}
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "drg.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := api.New(api.Config{Catalog: cat, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if err := srv.Register(sso.Routes(nil)...); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	if resp, body := b.Get(t, hs.URL+"/auth/config"); resp.StatusCode != 200 || !strings.Contains(body, `"oidc":false`) {
		t.Errorf("config without SSO: %d %s", resp.StatusCode, body)
	}
	if resp, body := b.Get(t, hs.URL+"/auth/login"); resp.StatusCode != 404 || !strings.Contains(body, "not configured") {
		t.Errorf("login without SSO: %d %.200s", resp.StatusCode, body)
	}
	rm, _ := sso.ParseRoleMap("g=coder")
	for _, c := range []sso.Config{
		{Issuer: "ftp://idp", ClientID: "x", RoleMap: rm},
		{Issuer: "https://idp", RoleMap: rm},
		{Issuer: "https://idp", ClientID: "x"},
		{Issuer: "https://idp", ClientID: "x", RoleMap: rm, PublicURL: "drg.example.org"},
	} {
		if _, err := sso.New(c, srv, nil); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}

func TestParseRoleMap(t *testing.T) {
	for _, c := range []struct {
		in, want, err string
	}{
		{"drg-coders=coder,drg-cdi=cdi", "drg-coders=coder,drg-cdi=cdi", ""},
		{" a = admin , , b=finance ", "a=admin,b=finance", ""},
		{"CN=drg=admin", "CN=drg=admin", ""},
		{"", "", "empty"},
		{"a", "", "want group=role"},
		{"=coder", "", "want group=role"},
		{"a=boss", "", `unknown role "boss"`},
		{"a=coder,a=cdi", "", "mapped twice"},
	} {
		m, err := sso.ParseRoleMap(c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want %q", c.in, err, c.err)
		case c.err == "" && (err != nil || m.String() != c.want):
			t.Errorf("%q: %v %v", c.in, m, err)
		}
	}
	m, _ := sso.ParseRoleMap("admins=admin,coders=coder")
	for _, c := range []struct {
		groups []string
		role   store.Role
		ok     bool
	}{
		{[]string{"coders", "admins"}, store.RoleAdmin, true}, // the first entry wins
		{[]string{"coders"}, store.RoleCoder, true},
		{[]string{"nurses"}, "", false},
		{nil, "", false},
	} {
		if r, _, ok := m.Role(c.groups); r != c.role || ok != c.ok {
			t.Errorf("%v: %q %v", c.groups, r, ok)
		}
	}
}

func mustRequest(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func queryOf(t *testing.T, raw, name string) string {
	t.Helper()
	u, err := http.NewRequest("GET", raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	return u.URL.Query().Get(name)
}
