package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/internal/shared"
	"github.com/msdrg-cdi/drg/store"
	"github.com/msdrg-cdi/drg/tables"
)

var (
	catOnce sync.Once
	cat     *tables.Catalog
	eng     *grouper.Engine
	catErr  error
)

// catalog loads ../shared/cms once for the package (skipping when absent).
func catalog(t testing.TB) (*tables.Catalog, *grouper.Engine) {
	t.Helper()
	dir := shared.DataDir(t)
	catOnce.Do(func() {
		cat, catErr = tables.Load(dir)
		if catErr == nil {
			eng = grouper.New(cat.MSDRG)
		}
	})
	if catErr != nil {
		t.Fatal(catErr)
	}
	return cat, eng
}

// withoutWeights returns a copy of the shared catalog without the Table 5 of the fiscal
// years fys, to test what happens when a year's weights are missing whatever the data holds.
func withoutWeights(t testing.TB, fys ...int) *tables.Catalog {
	t.Helper()
	c, _ := catalog(t)
	cp := *c
	cp.Weights = maps.Clone(c.Weights)
	for _, fy := range fys {
		delete(cp.Weights, fy)
	}
	return &cp
}

// weightOf returns the Table 5 weight of drg in fiscal year fy of the shared catalog, and
// whether that year is loaded with a weight for the DRG.
func weightOf(t testing.TB, fy, drg int) (float64, bool) {
	t.Helper()
	c, _ := catalog(t)
	w := c.Weights[fy]
	if w == nil {
		return 0, false
	}
	r, ok := w.Get(drg)
	return r.Weight, ok
}

// fixedNow is the server clock of the tests: in the window of version 43.1.
var fixedNow = time.Date(2026, 5, 15, 12, 0, 0, 0, time.UTC)

// testServer is a real HTTP server over a SQLite file, with one user per role.
type testServer struct {
	t      testing.TB
	URL    string
	srv    *api.Server
	st     *store.Store
	tokens map[store.Role]string
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestServer(t testing.TB, extra ...api.Route) *testServer {
	t.Helper()
	return startServer(t, func() time.Time { return fixedNow }, api.CDIConfig{}, extra...)
}

// startServer starts a test server with the given clock, CDI configuration and extra routes.
func startServer(t testing.TB, now func() time.Time, cfg api.CDIConfig, extra ...api.Route) *testServer {
	t.Helper()
	c, _ := catalog(t)
	return startServerWith(t, c, now, cfg, extra...)
}

// startServerWith is startServer over catalog c (a variant of the shared catalog).
func startServerWith(t testing.TB, c *tables.Catalog, now func() time.Time, cfg api.CDIConfig, extra ...api.Route) *testServer {
	t.Helper()
	return startServerOn(t, "sqlite:"+filepath.Join(t.TempDir(), "drg.db"), c, now, cfg, extra...)
}

// startServerOn is startServerWith over the database of dsn (a PostgreSQL schema of
// pgtest.Schema, or a SQLite file).
func startServerOn(t testing.TB, dsn string, c *tables.Catalog, now func() time.Time, cfg api.CDIConfig, extra ...api.Route) *testServer {
	t.Helper()
	_, e := catalog(t)
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &syncBuffer{}
	srv, err := api.New(api.Config{Catalog: c, Store: st, Engine: e, AccessLog: true, CDI: cfg,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close) // before the store closes: the queued access rows are written
	if len(extra) > 0 {
		if err := srv.Register(extra...); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	t.Cleanup(func() { coverage.record(srv, logs, len(extra) == 0) })
	ts := &testServer{t: t, URL: hs.URL, srv: srv, st: st, tokens: map[store.Role]string{}, logs: logs}
	for _, r := range store.Roles {
		_, tok, err := st.CreateUser(context.Background(), store.CLIActor, "user-"+string(r), r)
		if err != nil {
			t.Fatal(err)
		}
		ts.tokens[r] = tok
	}
	return ts
}

// coverage collects, over the package's tests, every route of the servers they started
// (test-only extra routes aside) and the routes that answered a request with a status below 400
// (from the access logs, which name routes by their OpenAPI path).
var coverage = routeCoverage{routes: map[string]bool{}, served: map[string]bool{}}

type routeCoverage struct {
	mu             sync.Mutex
	routes, served map[string]bool // "METHOD /path/{param}"
}

var ginParam = regexp.MustCompile(`[:*]([a-z_]+)`)

func (rc *routeCoverage) record(srv *api.Server, logs *syncBuffer, routes bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if routes {
		for _, r := range srv.Handler().(*gin.Engine).Routes() {
			if r.Method == http.MethodHead {
				continue // the GET route's chain
			}
			rc.routes[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
		}
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		var l struct {
			Msg, Method, Route string
			Status             int
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "request" && l.Status > 0 && l.Status < 400 {
			rc.served[l.Method+" "+l.Route] = true
		}
	}
}

// unserved returns the routes no test got a successful answer from, sorted.
func (rc *routeCoverage) unserved() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for r := range rc.routes {
		if !rc.served[r] {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// TestMain runs the tests and, when the whole suite ran and passed, fails if some route of
// the API was never answered successfully by any test: every endpoint is exercised over HTTP.
func TestMain(m *testing.M) {
	code := m.Run()
	if f := flag.Lookup("test.run"); code == 0 && f != nil && f.Value.String() == "" && !testing.Short() {
		if missing := coverage.unserved(); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: %d API routes were never answered with a status < 400 by a test:\n  %s\n", len(missing), strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

// reply is an HTTP response with its body read.
type reply struct {
	*http.Response
	body []byte
}

// json decodes the body into a generic value.
func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object (%v): %.300s", err, r.body)
	}
	return m
}

// problem decodes a problem+json body, checking the media type.
func (r reply) problem(t *testing.T) api.Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json (status %d, body %.200s)", ct, r.StatusCode, r.body)
	}
	var p api.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, r.body)
	}
	if p.Status != r.StatusCode || p.Type == "" || p.Title == "" {
		t.Errorf("problem %+v for status %d", p, r.StatusCode)
	}
	return p
}

// do sends a request as role (role "" sends no token); body may be a string, []byte or a
// value to encode as JSON. Extra headers come in name, value pairs.
func (ts *testServer) do(method, path string, role store.Role, body any, headers ...string) reply {
	ts.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+ts.tokens[role])
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return reply{resp, b}
}

// expect fails the test unless the reply has the status.
func (r reply) expect(t *testing.T, status int) reply {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %.500s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.body)
	}
	return r
}

const (
	coder   = store.RoleCoder
	cdi     = store.RoleCDI
	finance = store.RoleFinance
	admin   = store.RoleAdmin
)

// hfClaim is a heart failure claim grouping to DRG 291 in 43.1.
const hfClaim = `{"id":"A1","discharge_date":"2026-05-01","age":70,"sex":"M","discharge_status":1,"pdx":{"code":"I50.23","poa":"Y"},"sdx":[{"code":"J9601","poa":"Y"},{"code":"E119","poa":"Y"}]}`

// path returns a nested value of a decoded JSON object ("final.drg").
func path(m map[string]any, p string) any {
	var v any = m
	for _, k := range strings.Split(p, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[k]
	}
	return v
}

// errorFields returns the fields a problem names, in order.
func errorFields(p api.Problem) []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// etag reads path as role and returns its ETag header (failing the test without one).
func (ts *testServer) etag(path string, role store.Role) string {
	ts.t.Helper()
	r := ts.do("GET", path, role, nil).expect(ts.t.(*testing.T), http.StatusOK)
	tag := r.Header.Get("ETag")
	if tag == "" {
		ts.t.Fatalf("GET %s: no ETag", path)
	}
	return tag
}

// edit sends a change of a record with the ETag of its current version in If-Match, as a
// client that read it does: the record is the path's first three segments
// (/v1/encounters/{id}, /v1/queries/{id}, …), read first as admin; when it cannot be read (or
// has no ETag) "1" is sent.
func (ts *testServer) edit(method, path string, role store.Role, body any, headers ...string) reply {
	ts.t.Helper()
	tag := `"1"`
	if m := recordPath.FindString(path); m != "" {
		if r := ts.do("GET", m, admin, nil); r.StatusCode == http.StatusOK && r.Header.Get("ETag") != "" {
			tag = r.Header.Get("ETag")
		}
	}
	return ts.do(method, path, role, body, append([]string{"If-Match", tag}, headers...)...)
}

var recordPath = regexp.MustCompile(`^/v1/[a-z]+/[^/?]+`)

// editCase records an audit case (PUT /v1/audits/{id}/cases/{encounter_id}) with the case's
// row_version as read in GET /v1/audits/{id} in If-Match ("1" when it cannot be read).
func (ts *testServer) editCase(path string, role store.Role, body any) reply {
	ts.t.Helper()
	tag := `"1"`
	parts := strings.Split(path, "/") // "", v1, audits, id, cases, encounter
	if len(parts) == 6 {
		var a store.CodingAudit
		if r := ts.do("GET", "/v1/audits/"+parts[3], admin, nil); r.StatusCode == http.StatusOK && json.Unmarshal(r.body, &a) == nil {
			for _, c := range a.Cases {
				if c.EncounterID == parts[5] {
					tag = fmt.Sprintf(`"%d"`, c.RowVersion)
				}
			}
		}
	}
	return ts.do("PUT", path, role, body, "If-Match", tag)
}
