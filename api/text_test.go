package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/internal/pgtest"
	"github.com/msdrg-cdi/drg/store"
)

// eachServer runs fn against a test server on SQLite and, when DRG_TEST_POSTGRES is set, on
// a PostgreSQL schema.
func eachServer(t *testing.T, fn func(t *testing.T, ts *testServer)) {
	t.Helper()
	c, _ := catalog(t)
	now := func() time.Time { return fixedNow }
	t.Run("sqlite", func(t *testing.T) { fn(t, startServerWith(t, c, now, api.CDIConfig{})) })
	t.Run("postgres", func(t *testing.T) { fn(t, startServerOn(t, pgtest.Schema(t), c, now, api.CDIConfig{})) })
}

// TestTextRules: NUL and other control characters, invalid UTF-8 and unpaired surrogates in
// any JSON string, field name, query or path parameter are a 422 naming the field on both
// databases — never a 500 (PostgreSQL SQLSTATE 22021), never stored or replaced by U+FFFD
// (issue 22 item 2). Tab, line feed and carriage return pass in free text.
func TestTextRules(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		enc := ts.do("POST", "/v1/encounters", coder, `{"account":"T-1","facility":"MAIN","admit_date":"2026-04-27","age":70,"sex":"M",`+
			`"evidence":[{"kind":"note","note_type":"progress note","author_role":"physician","text":"line one\n\tline two\r\n","time":"2026-04-28T06:00:00Z"}]}`).
			expect(t, http.StatusCreated).json(t)
		id := enc["id"].(string)
		bad := []struct {
			method, path string
			role         store.Role
			body         string
			field        string
		}{
			{"POST", "/v1/encounters", coder, `{"account":"T-2\u0000","facility":"MAIN","admit_date":"2026-04-27"}`, "account"},
			{"POST", "/v1/encounters", coder, "{\"account\":\"T-2\",\"facility\":\"MA\xffIN\",\"admit_date\":\"2026-04-27\"}", "facility"},
			{"POST", "/v1/encounters", coder, "{\"account\":\"T-2\x00\",\"admit_date\":\"2026-04-27\"}", "account"},
			{"POST", "/v1/encounters", coder, `{"account":"T-2","admit_date":"2026-04-27","payer":"\ud800x"}`, "payer"},
			{"POST", "/v1/encounters", coder, `{"account":"T-2","admit_date":"2026-04-27","unit":"\udc00"}`, "unit"},
			{"POST", "/v1/encounters", coder, `{"account":"T-2","admit_date":"2026-04-27","service_line":"A\u0085B"}`, "service_line"},
			{"POST", "/v1/encounters", coder, `{"account":"T-2","admit_date":"2026-04-27","attending_provider":{"id":"P\u007f","name":"x"}}`, "attending_provider.id"},
			{"POST", "/v1/encounters", coder, `{"account":"T-2","admit_date":"2026-04-27","evidence":[{"kind":"note","text":"a\u0000b","time":"2026-04-28T06:00:00Z"}]}`, "evidence[0].text"},
			{"POST", "/v1/encounters", coder, `{"account":"T-2","admit_date":"2026-04-27","evidence":[{"kind":"note","text":"page\fbreak","time":"2026-04-28T06:00:00Z"}]}`, "evidence[0].text"},
			{"POST", "/v1/encounters", coder, `{"account":"T-2","admit_date":"2026-04-27","sdx":[{"code":"E119"},{"code":"I10\u0000"}]}`, "sdx[1].code"},
			{"POST", "/v1/encounters", coder, `{"acc\u0000ount":"T-2","admit_date":"2026-04-27"}`, "acc\ufffdount"},
			{"POST", "/v1/encounters", coder, `{"account":"T-2\tX","admit_date":"2026-04-27","payer":"\u0000"}`, "payer"},
			{"PATCH", "/v1/encounters/" + id, coder, `{"payer":"MEDI\u0000CARE"}`, "payer"},
			{"PATCH", "/v1/encounters/" + id, coder, "{\"unit\":\"4W\xc3\x28\"}", "unit"},
			{"POST", "/v1/users", admin, `{"name":"nurse\u0000","role":"coder"}`, "name"},
			{"POST", "/v1/users", admin, "{\"name\":\"\xed\xa0\x80\",\"role\":\"coder\"}", "name"},
			{"POST", "/v1/group", coder, `{"id":"A\u0000","discharge_date":"2026-05-01","pdx":{"code":"I5023"}}`, "id"},
			{"POST", "/v1/group", coder, "{\"discharge_date\":\"2026-05-01\",\"pdx\":{\"code\":\"I50\xc0\xaf23\"}}", "pdx.code"},
			{"POST", "/v1/mce", coder, `{"discharge_date":"2026-05-01","pdx":{"code":"I5023"},"sdx":[{"code":"E11\u00859"}]}`, "sdx[0].code"},
			{"PUT", "/v1/facilities/MAIN", admin, `{"time_zone":"America/New\u0000_York"}`, "time_zone"},
			{"POST", "/v1/queries/lint", cdi, `{"body":"Please clarify\u0000"}`, "body"},
			{"POST", "/v1/encounters/" + id + "/evidence", cdi, `{"evidence":[{"kind":"lab","name":"Na\u0000","value":130,"time":"2026-04-28T06:00:00Z"}]}`, "evidence[0].name"},
			{"GET", "/v1/encounters?facility=MAIN%00", finance, "", "facility"},
			{"GET", "/v1/encounters?unit=%FF", finance, "", "unit"},
			{"GET", "/v1/encounters?payer=%C2%85", finance, "", "payer"},
			{"GET", "/v1/encounters?x%00y=1", finance, "", "x\ufffdy"},
			{"GET", "/v1/encounters/" + id + "%00", finance, "", "id"},
			{"GET", "/v1/encounters/%ED%A0%80", finance, "", "id"},
			{"GET", "/v1/codes/search?q=heart%00attack", coder, "", "q"},
			{"GET", "/v1/codes/dx/I50%0023", coder, "", "code"},
			{"GET", "/v1/audit?entity=encounter%00", admin, "", "entity"},
			{"GET", "/v1/audit?entity_id=%FE", admin, "", "entity_id"},
			{"GET", "/v1/worklist?unit=4W%0A", cdi, "", "unit"},
			{"GET", "/v1/reports/cmi?facility=%00", finance, "", "facility"},
		}
		for _, c := range bad {
			var body any
			if c.body != "" {
				body = c.body
			}
			r := ts.do(c.method, c.path, c.role, body)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s %s %q: status %d, want 422: %.300s", c.method, c.path, c.body, r.StatusCode, r.body)
				continue
			}
			if p := r.problem(t); !slices.Contains(errorFields(p), c.field) {
				t.Errorf("%s %s %q: fields %q, want %q (%s)", c.method, c.path, c.body, errorFields(p), c.field, p.Detail)
			}
		}
		// Nothing of the refused requests was stored.
		list := ts.do("GET", "/v1/encounters", finance, nil).expect(t, http.StatusOK).json(t)
		if items := list["items"].([]any); len(items) != 1 {
			t.Errorf("%d encounters stored, want 1", len(items))
		}
		got := ts.do("GET", "/v1/encounters/"+id, finance, nil).expect(t, http.StatusOK)
		if !strings.Contains(string(got.body), `line one\n\tline two\r\n`) || strings.Contains(string(got.body), `\ufffd`) {
			t.Errorf("the free text with tab and line breaks was not kept as sent: %.500s", got.body)
		}
		if u := ts.do("GET", "/v1/users", admin, nil).expect(t, http.StatusOK).json(t); len(u["items"].([]any)) != len(store.Roles) {
			t.Errorf("a user was created: %v", u)
		}
		// Batches: the claim at fault is an error record naming the field; the others group.
		arr := ts.do("POST", "/v1/group/batch", coder, `[`+hfClaim+`,{"id":"B\u0000","discharge_date":"2026-05-01","pdx":{"code":"I5023"}}]`).expect(t, http.StatusOK)
		if !strings.Contains(string(arr.body), `"index":1`) || !strings.Contains(string(arr.body), `"field":"id"`) || !strings.Contains(string(arr.body), `"drg":291`) {
			t.Errorf("JSON batch: %.600s", arr.body)
		}
		nd := ts.do("POST", "/v1/group/batch", coder, hfClaim+"\n"+"{\"id\":\"B2\",\"discharge_date\":\"2026-05-01\",\"pdx\":{\"code\":\"I50\xff\"}}\n", "Content-Type", "application/x-ndjson").expect(t, http.StatusOK)
		if !strings.Contains(string(nd.body), `"line":2`) || !strings.Contains(string(nd.body), "pdx.code") {
			t.Errorf("NDJSON batch: %.600s", nd.body)
		}
		tsv := ts.do("POST", "/v1/group/batch", coder, "T1\t431\t70\tM\t01\t\tI5023:Y\t\tE11\x009:Y\t\t20260501\t4\n", "Content-Type", "text/tab-separated-values").expect(t, http.StatusOK)
		if !strings.Contains(string(tsv.body), "column 9") {
			t.Errorf("TSV batch: %.600s", tsv.body)
		}
	})
}

// TestTextRulesEveryRoute: every route refuses a NUL in a query parameter, and every route
// taking a body a NUL in a JSON string, with a 422 naming the field — the check is the
// server's, not each handler's.
func TestTextRulesEveryRoute(t *testing.T) {
	ts := newTestServer(t)
	n := 0
	for _, r := range ts.srv.Routes() {
		role := store.Role("")
		if !r.Public {
			role = r.Roles[0]
			if slices.Contains(r.Roles, admin) {
				role = admin
			}
		}
		p := strings.NewReplacer("{id}", "X1", "{code}", "I10", "{drg}", "291", "{encounter_id}", "X2", "{path...}", "x").Replace(r.Path)
		var body any
		headers := []string{}
		if r.Method != http.MethodGet && r.Method != http.MethodDelete && !r.StreamBody { // batches: TestTextRules
			body = `{"zz":"\u0000"}`
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
			headers = append(headers, "X-CSRF-Token", "")
		}
		for _, q := range []struct {
			path  string
			body  any
			field string
		}{{p + "?zz=%00", nil, "zz"}, {p, body, "zz"}} {
			if q.path == p && q.body == nil {
				continue
			}
			res := ts.do(r.Method, q.path, role, q.body, headers...)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s %s: status %d, want 422: %.200s", r.Method, q.path, res.StatusCode, res.body)
				continue
			}
			if fs := errorFields(res.problem(t)); !slices.Contains(fs, q.field) {
				t.Errorf("%s %s: fields %v, want %s", r.Method, q.path, fs, q.field)
			}
			n++
		}
	}
	if n < 60 {
		t.Errorf("only %d requests", n)
	}
}
