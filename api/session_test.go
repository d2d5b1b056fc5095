package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/api"
	cdipkg "github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/store"
)

// signIn starts a browser session for a new single sign-on user of the role and returns the
// Cookie header value.
func (ts *testServer) signIn(t *testing.T, subject string, role store.Role) (store.User, string) {
	t.Helper()
	u, secret, err := ts.st.SignIn(context.Background(), store.ExternalIdentity{Issuer: "https://idp.test", Subject: subject, Name: subject},
		role, "oidc", ts.srv.SessionPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return u, api.SessionCookie + "=" + secret
}

// TestSessionCookie: the session cookie authenticates every API route like a token; changes
// need the session's CSRF token; the role applies; an Authorization header wins over the
// cookie; sign-out ends the session everywhere.
func TestSessionCookie(t *testing.T) {
	ts := newTestServer(t)
	u, cookie := ts.signIn(t, "carol", store.RoleCoder)
	me := decode[store.User](t, ts.do("GET", "/v1/me", "", nil, "Cookie", cookie).expect(t, 200))
	if me.ID != u.ID || me.Role != store.RoleCoder {
		t.Errorf("me %+v", me)
	}
	info := decode[api.SessionInfo](t, ts.do("GET", "/auth/session", "", nil, "Cookie", cookie).expect(t, 200))
	if info.Method != "session" || info.CSRFToken == "" || info.ExpiresAt == nil || info.IdleSeconds != int(api.DefaultSessionIdle.Seconds()) ||
		info.User.ID != u.ID {
		t.Fatalf("session info %+v", info)
	}
	body := map[string]any{"account": "S-1", "facility": "MAIN", "discharge_date": "2026-05-01", "pdx": map[string]string{"code": "I5023", "poa": "Y"}}
	for _, c := range []struct {
		name    string
		headers []string
		status  int
	}{
		{"no CSRF token", []string{"Cookie", cookie}, 403},
		{"wrong CSRF token", []string{"Cookie", cookie, api.CSRFHeader, info.CSRFToken[1:] + "x"}, 403},
		{"another session's token", []string{"Cookie", cookie, api.CSRFHeader, "AAAA"}, 403},
		{"bad bearer wins over the cookie", []string{"Cookie", cookie, "Authorization", "Bearer drg_nope"}, 401},
		{"CSRF token", []string{"Cookie", cookie, api.CSRFHeader, info.CSRFToken}, 201},
	} {
		r := ts.do("POST", "/v1/encounters", "", body, c.headers...)
		if r.StatusCode != c.status {
			t.Errorf("%s: %d %s", c.name, r.StatusCode, r.body)
		}
	}
	ts.do("GET", "/v1/users", "", nil, "Cookie", cookie).expect(t, 403).problem(t) // coder
	// The role changes in the database (next sign-in, or an admin): the session follows at once.
	role := store.RoleAdmin
	if _, err := ts.st.UpdateUser(context.Background(), store.CLIActor, u.ID, store.UserChange{Role: &role}); err != nil {
		t.Fatal(err)
	}
	ts.do("GET", "/v1/users", "", nil, "Cookie", cookie).expect(t, 200)

	ts.do("POST", "/auth/logout", "", nil, "Cookie", cookie).expect(t, 403).problem(t)
	out := ts.do("POST", "/auth/logout", "", nil, "Cookie", cookie, api.CSRFHeader, info.CSRFToken).expect(t, 204)
	if sc := out.Header.Get("Set-Cookie"); !strings.Contains(sc, api.SessionCookie+"=;") || !strings.Contains(sc, "Max-Age=0") {
		t.Errorf("sign-out Set-Cookie %q", sc)
	}
	p := ts.do("GET", "/v1/me", "", nil, "Cookie", cookie).expect(t, 401).problem(t)
	if !strings.Contains(p.Detail, "sign in again") {
		t.Errorf("after sign-out: %q", p.Detail)
	}
	// With a token: /auth/session says so, sign-out does nothing.
	if info := decode[api.SessionInfo](t, ts.do("GET", "/auth/session", finance, nil).expect(t, 200)); info.Method != "token" || info.CSRFToken != "" {
		t.Errorf("token session info %+v", info)
	}
	ts.do("POST", "/auth/logout", finance, nil).expect(t, 204)
	ts.do("GET", "/v1/me", finance, nil).expect(t, 200)
}

// TestSessionLimits: a session idle for longer than the limit, or past its absolute limit, is
// refused with a message saying it ended, and the cookie is cleared; the cookie's own lifetime
// is the absolute limit.
func TestSessionLimits(t *testing.T) {
	ts := newTestServer(t)
	for _, c := range []struct {
		name string
		sql  string
	}{
		{"idle", "UPDATE web_sessions SET last_seen_at = ?"},
		{"absolute", "UPDATE web_sessions SET expires_at = ?"},
	} {
		_, cookie := ts.signIn(t, "dave-"+c.name, store.RoleCDI)
		ts.do("GET", "/v1/me", "", nil, "Cookie", cookie).expect(t, 200)
		if err := ts.st.DB().Exec(c.sql+" WHERE id = ?", time.Now().UTC().Add(-api.DefaultSessionIdle-time.Second),
			store.HashToken(strings.TrimPrefix(cookie, api.SessionCookie+"="))).Error; err != nil {
			t.Fatal(err)
		}
		r := ts.do("GET", "/v1/me", "", nil, "Cookie", cookie).expect(t, 401)
		if p := r.problem(t); !strings.Contains(p.Detail, "ended") {
			t.Errorf("%s: %q", c.name, p.Detail)
		}
		if sc := r.Header.Get("Set-Cookie"); !strings.Contains(sc, "Max-Age=0") {
			t.Errorf("%s: cookie not cleared: %q", c.name, sc)
		}
	}
	// The cookie set at sign-in (sso uses SetSessionCookie).
	rec := httptest.NewRecorder()
	ctx, _ := gin.CreateTestContext(rec)
	ts.srv.SetSessionCookie(ctx, "drgs_x")
	sc := rec.Header().Get("Set-Cookie")
	for _, want := range []string{"__Host-drg_session=drgs_x", "Path=/", "Max-Age=43200", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %q", sc, want)
		}
	}
}

// TestPeriodicEscalation: two servers on one database (two instances) run the escalation job
// of the same period at the same moment: it runs on one of them, each overdue query is
// escalated once, and the next period finds nothing left to do.
func TestPeriodicEscalation(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)}
	cfg := api.CDIConfig{EscalationHours: 24, EscalateEvery: 15 * time.Minute}
	ts := newCDIServer(t, clk, cfg)
	e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, cdiFixtureEncounter(t, "07_sepsis3_positive_no_shock_without_pressor")).expect(t, 201))
	ts.do("POST", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200)
	d := decode[api.QueryDraft](t, ts.do("POST", "/v1/encounters/"+e.ID+"/queries", cdi, map[string]any{"opportunity_id": "rule:sepsis_sofa"}).expect(t, 201))
	ts.edit("POST", "/v1/queries/"+d.Query.ID+"/send", cdi, nil).expect(t, 200)
	clk.Add(25 * time.Hour)

	c, e2 := catalog(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	other, err := api.New(api.Config{Catalog: c, Store: ts.st, Engine: e2, CDI: cfg, Now: clk.Now, Instance: "instance-b", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	servers := []*api.Server{ts.srv, other}
	ctx := context.Background()
	p1 := time.Date(2026, 5, 7, 13, 0, 0, 0, time.UTC)
	for _, period := range []time.Time{p1, p1.Add(15 * time.Minute)} {
		var wg sync.WaitGroup
		for _, s := range servers {
			wg.Go(func() { s.RunJobOnce(ctx, api.JobQueryEscalation, period) })
		}
		wg.Wait()
	}
	runs, err := ts.st.JobRuns(ctx, api.JobQueryEscalation, 10)
	if err != nil || len(runs) != 2 || runs[0].Result != "escalated 1" || runs[1].Result != "escalated 0" {
		t.Fatalf("runs %+v %v", runs, err)
	}
	ran, skipped := 0, 0
	for _, s := range servers {
		var b bytes.Buffer
		s.Metrics().WriteText(&b)
		for _, o := range []struct {
			outcome string
			n       *int
		}{{"ran", &ran}, {"skipped", &skipped}} {
			var v int
			line := fmt.Sprintf(`drg_job_runs_total{job="query-escalation",outcome=%q} `, o.outcome)
			if i := strings.Index(b.String(), line); i >= 0 {
				fmt.Sscan(b.String()[i+len(line):], &v)
			}
			*o.n += v
		}
	}
	if ran != 2 || skipped != 2 {
		t.Errorf("ran %d, skipped %d periods over both instances; want 2 and 2", ran, skipped)
	}
	vs, err := ts.st.QueryVersions(ctx, d.Query.ID)
	if err != nil {
		t.Fatal(err)
	}
	q := vs[len(vs)-1]
	escalations := 0
	for _, a := range q.Audit {
		if a.Action == "escalated" {
			escalations++
		}
	}
	if q.State != cdipkg.StateEscalated || escalations != 1 {
		t.Errorf("query %s escalated %d times: %+v", q.State, escalations, q.Audit)
	}
	// Off: no escalation job.
	off, err := api.New(api.Config{Catalog: c, Store: ts.st, Engine: e2, CDI: api.CDIConfig{}, Now: clk.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	off.RunJobOnce(ctx, api.JobQueryEscalation, p1.Add(time.Hour))
	if runs, _ := ts.st.JobRuns(ctx, api.JobQueryEscalation, 10); len(runs) != 2 {
		t.Errorf("escalation ran without EscalateEvery: %+v", runs)
	}
	off.RunJobOnce(ctx, api.JobSessionPurge, p1)
	if runs, _ := ts.st.JobRuns(ctx, api.JobSessionPurge, 10); len(runs) != 1 || runs[0].Result != "purged 0" {
		t.Errorf("purge runs %+v", runs)
	}
}
