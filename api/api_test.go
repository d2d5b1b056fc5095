package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/batch"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/internal/shared"
	"github.com/msdrg-cdi/drg/store"
	"github.com/msdrg-cdi/drg/tables"
)

func TestHealthAndReady(t *testing.T) {
	ts := newTestServer(t)
	if m := ts.do("GET", "/healthz", "", nil).expect(t, 200).json(t); m["status"] != "ok" {
		t.Errorf("healthz %v", m)
	}
	m := ts.do("GET", "/readyz", "", nil).expect(t, 200).json(t)
	if m["status"] != "ready" || m["database"] != "sqlite" {
		t.Errorf("readyz %v", m)
	}
	r := ts.do("GET", "/nope", "", nil).expect(t, 404)
	r.problem(t)
	ts.do("DELETE", "/healthz", "", nil).expect(t, 405).problem(t)
}

// TestAccessControl walks the route table: every non-public route answers 401 without a
// token or with a wrong one, and 403 to each role it does not admit.
func TestAccessControl(t *testing.T) {
	ts := newTestServer(t)
	fill := strings.NewReplacer("{id}", "999999", "{code}", "I5023", "{drg}", "291")
	for _, r := range ts.srv.Routes() {
		if r.Public {
			continue
		}
		p := fill.Replace(r.Path)
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			res := ts.do(r.Method, p, "", nil).expect(t, 401)
			res.problem(t)
			if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
			}
			ts.do(r.Method, p, "", nil, "Authorization", "Bearer drg_notatoken").expect(t, 401).problem(t)
			ts.do(r.Method, p, "", nil, "Authorization", "Basic YWRtaW46YWRtaW4=").expect(t, 401)
			for _, role := range store.Roles {
				res := ts.do(r.Method, p, role, nil)
				admitted := slices.Contains(r.Roles, role)
				switch {
				case !admitted && res.StatusCode != 403:
					t.Errorf("role %s: status %d, want 403", role, res.StatusCode)
				case !admitted:
					res.problem(t)
				case res.StatusCode == 401 || res.StatusCode == 403:
					t.Errorf("role %s is admitted but got %d", role, res.StatusCode)
				case res.StatusCode >= 500:
					t.Errorf("role %s: %d %s", role, res.StatusCode, res.body)
				}
			}
		})
	}
}

// TestOpenAPIDocumentsEveryRoute: every route of the router is in /openapi.json and every
// operation of the document is a route; every $ref resolves.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	ts := newTestServer(t)
	body := ts.do("GET", "/openapi.json", "", nil).expect(t, 200).body
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m, op := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
			var o struct {
				Summary   string                     `json:"summary"`
				Responses map[string]json.RawMessage `json:"responses"`
				Roles     []string                   `json:"x-roles"`
			}
			json.Unmarshal(op, &o)
			if o.Summary == "" || len(o.Responses) == 0 {
				t.Errorf("%s %s: no summary or responses", m, p)
			}
		}
	}
	routed := map[string]bool{}
	for _, r := range ts.srv.Handler().(*gin.Engine).Routes() {
		k := r.Method + " " + ginParam.ReplaceAllString(r.Path, "{$1}")
		if r.Method == http.MethodHead { // every GET route's, documented once in info
			k = "GET" + strings.TrimPrefix(k, "HEAD")
		}
		routed[k] = true
		if !documented[k] {
			t.Errorf("route %s is not in /openapi.json", k)
		}
	}
	for k := range documented {
		if !routed[k] {
			t.Errorf("/openapi.json documents %s, which is not routed", k)
		}
	}
	if len(routed) < 25 {
		t.Errorf("only %d routes", len(routed))
	}
	for _, ref := range regexp.MustCompile(`"\$ref":"#/components/schemas/([A-Za-z]+)"`).FindAllSubmatch(body, -1) {
		if _, ok := doc.Components.Schemas[string(ref[1])]; !ok {
			t.Errorf("unresolved $ref %s", ref[1])
		}
	}
}

func TestGroup(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, query, body string
		status            int
		check             func(t *testing.T, m map[string]any)
		field             string   // for problems: the first field at fault
		fields            []string // for problems: every field at fault, in order
	}{
		{name: "heart failure", body: hfClaim, status: 200, check: func(t *testing.T, m map[string]any) {
			if path(m, "final.drg") != 291.0 || m["version"] != 431.0 || m["id"] != "A1" || m["weight"].(float64) <= 0 {
				t.Errorf("result %v", m)
			}
			if _, ok := m["explanation"]; ok {
				t.Error("explanation without explain=true")
			}
		}},
		{name: "explain", query: "?explain=true", body: hfClaim, status: 200, check: func(t *testing.T, m map[string]any) {
			if s, _ := m["explanation"].(string); !strings.Contains(s, "291") {
				t.Errorf("explanation %q", s)
			}
		}},
		{name: "mce", query: "?mce=true", body: hfClaim, status: 200, check: func(t *testing.T, m map[string]any) {
			if path(m, "mce.edit_type") == nil {
				t.Errorf("no mce record: %v", m["mce"])
			}
		}},
		{name: "forced version", query: "?version=40.0", body: hfClaim, status: 200, check: func(t *testing.T, m map[string]any) {
			if m["version"] != 400.0 {
				t.Errorf("version %v", m["version"])
			}
		}},
		{name: "malformed JSON", body: `{"pdx":`, status: 400},
		{name: "not an object", body: `[1,2]`, status: 400},
		{name: "empty body", body: ``, status: 400},
		{name: "unknown field", body: `{"version":431,"pdx":{"code":"I10"},"diagnosis":"x"}`, status: 422, field: "diagnosis"},
		{name: "wrong type", body: `{"version":431,"age":"seventy","pdx":{"code":"I10"}}`, status: 422, field: "age"},
		{name: "no version or date", body: `{"pdx":{"code":"I10"}}`, status: 422, field: "discharge_date"},
		{name: "date after loaded versions", body: `{"discharge_date":"2027-01-05","pdx":{"code":"I10"}}`, status: 422, field: "discharge_date"},
		{name: "bad sex", body: `{"version":431,"sex":"X","pdx":{"code":"I10"}}`, status: 422, field: "sex"},
		{name: "more sdx than a claim carries", body: `{"version":431,"pdx":{"code":"I10"},"sdx":[` + strings.Repeat(`{"code":"E119"},`, 30) + `{"code":"N179"}]}`, status: 200,
			check: func(t *testing.T, m map[string]any) { // the first 24 grouped; the 7 others named
				ws, _ := m["warnings"].([]any)
				dx, _ := m["dx"].([]any)
				if len(ws) != 7 || len(dx) != 25 || path(ws[6].(map[string]any), "field") != "sdx[30]" || path(ws[6].(map[string]any), "level") != "CC" {
					t.Errorf("%d dx, warnings %v", len(dx), ws)
				}
			}},
		{name: "every invalid field at once", body: `{"version":431,"age":"x","sex":"X","discharge_status":"home","hospital_status":"MAYBE","pdx":{"code":"I10"}}`, status: 422,
			fields: []string{"age", "discharge_status", "sex", "hospital_status"}},
		{name: "every invalid field at once, no version", body: `{"sex":"X","pdx":{"code":"I10"}}`, status: 422, fields: []string{"discharge_date", "sex"}},
		{name: "bad explain", query: "?explain=maybe", body: hfClaim, status: 400, field: "explain"},
		{name: "unloaded version", query: "?version=39.0", body: hfClaim, status: 422, field: "version"},
		{name: "malformed version", query: "?version=abc", body: hfClaim, status: 400, field: "version"},
		{name: "two values", body: hfClaim + hfClaim, status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do("POST", "/v1/group"+tc.query, coder, tc.body).expect(t, tc.status)
			if tc.status >= 400 {
				p := r.problem(t)
				if tc.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != tc.field) {
					t.Errorf("errors %+v, want field %q", p.Errors, tc.field)
				}
				if tc.fields != nil && !slices.Equal(errorFields(p), tc.fields) {
					t.Errorf("errors %+v, want fields %q", p.Errors, tc.fields)
				}
				return
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			tc.check(t, r.json(t))
		})
	}
}

// TestGroupMatchesBatch: the endpoint answers exactly the record of drg group (JSONL).
func TestGroupMatchesBatch(t *testing.T) {
	ts := newTestServer(t)
	c, e := catalog(t)
	p := &batch.GroupProcessor{Engine: e, Loaded: c.MSDRG.Versions, Weights: c, Describe: c.DescribeInvalid}
	for _, line := range oracleJSONL(t, 40) {
		cl, err := claim.ParseJSON([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		want, err := p.Process(cl, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := ts.do("POST", "/v1/group", finance, line).expect(t, 200).body
		if !bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n"))) {
			t.Fatalf("claim %s:\n got %s\nwant %s", cl.ID, got, want)
		}
	}
}

// oracleJSONL returns the first n oracle claims as JSON lines.
func oracleJSONL(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for _, line := range shared.Lines(t, "oracle/public_claims.tsv.gz")[:n] {
		cl, err := claim.ParseTSV(line)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(cl)
		out = append(out, string(b))
	}
	return out
}

func TestGroupBatchJSON(t *testing.T) {
	ts := newTestServer(t)
	body := `[` + hfClaim + `,{"id":"bad","pdx":{"code":"I10"}},{"id":"A3","version":431,"pdx":{"code":"I10"}}]`
	r := ts.do("POST", "/v1/group/batch", cdi, body).expect(t, 200)
	var items []map[string]any
	if err := json.Unmarshal(r.body, &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || path(items[0], "final.drg") != 291.0 || items[1]["index"] != 1.0 || items[1]["id"] != "bad" ||
		path(items[2], "final.drg") == nil {
		t.Errorf("items %.600s", r.body)
	}
	if errs, _ := items[1]["errors"].([]any); len(errs) != 1 || path(errs[0].(map[string]any), "field") != "discharge_date" {
		t.Errorf("error record %v", items[1])
	}
	if r.Trailer.Get("X-Claims") != "3" || r.Trailer.Get("X-Claims-Grouped") != "2" {
		t.Errorf("trailers %v", r.Trailer)
	}
	// Batch records equal single-claim records.
	single := ts.do("POST", "/v1/group", cdi, hfClaim).expect(t, 200).body
	var first json.RawMessage
	json.Unmarshal(r.body[1:len(single)+1], &first)
	if !bytes.HasPrefix(r.body[1:], single) {
		t.Errorf("first batch record differs from /v1/group")
	}
	ts.do("POST", "/v1/group/batch", cdi, `[]`).expect(t, 200)
	ts.do("POST", "/v1/group/batch", cdi, `{"a":1}`).expect(t, 400).problem(t)
	ts.do("POST", "/v1/group/batch", cdi, `[{"pdx":`).expect(t, 400).problem(t)
	ts.do("POST", "/v1/group/batch", cdi, `[`+hfClaim).expect(t, 400).problem(t)
	// Past MaxBatchClaims the streamed array ends with an error record (the claims before it
	// were answered as they came).
	big := "[" + strings.TrimSuffix(strings.Repeat(`{"version":431,"pdx":{"code":"I10"}},`, api.MaxBatchClaims+1), ",") + "]"
	items = nil
	if err := json.Unmarshal(ts.do("POST", "/v1/group/batch", cdi, big).expect(t, 200).body, &items); err != nil || len(items) != api.MaxBatchClaims+1 ||
		items[api.MaxBatchClaims]["stream"] != "aborted" || !strings.Contains(fmt.Sprint(items[api.MaxBatchClaims]["error"]), "at most 10000 claims") {
		t.Errorf("over MaxBatchClaims: %v, %d items, last %v", err, len(items), items[len(items)-1])
	}
	ts.do("POST", "/v1/group/batch", cdi, hfClaim, "Content-Type", "application/xml").expect(t, 415).problem(t)
}

func TestGroupBatchStream(t *testing.T) {
	ts := newTestServer(t)
	lines := oracleJSONL(t, 600)
	lines[10] = `{"id":"broken",`
	body := strings.Join(lines, "\n") + "\n"
	r := ts.do("POST", "/v1/group/batch?mce=true", coder, body, "Content-Type", "application/x-ndjson").expect(t, 200)
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q", ct)
	}
	out := strings.Split(strings.TrimSuffix(string(r.body), "\n"), "\n")
	if len(out) != 600 {
		t.Fatalf("%d records for 600 lines", len(out))
	}
	for i, l := range out {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if i == 10 {
			if m["line"] != 11.0 || m["error"] == nil {
				t.Errorf("error record %v", m)
			}
			continue
		}
		if path(m, "final.drg") == nil || m["mce"] == nil {
			t.Errorf("record %d: %.200s", i, l)
		}
	}
	// The oracle TSV layout streams too.
	tsv := []byte(strings.Join(shared.Lines(t, "oracle/public_claims.tsv.gz")[:50], "\n") + "\n")
	r = ts.do("POST", "/v1/group/batch", coder, tsv, "Content-Type", "text/tab-separated-values").expect(t, 200)
	if n := bytes.Count(r.body, []byte("\n")); n != 50 || bytes.Contains(r.body, []byte(`"error"`)) {
		t.Errorf("TSV: %d records: %.300s", n, r.body)
	}
	// An unreadable line becomes an error record naming it.
	r = ts.do("POST", "/v1/group/batch", coder, "hello\n", "Content-Type", "application/x-ndjson").expect(t, 200)
	if !bytes.Contains(r.body, []byte(`"line":1`)) || !bytes.Contains(r.body, []byte(`"error"`)) {
		t.Errorf("bad line: %s", r.body)
	}
}

func TestMCE(t *testing.T) {
	ts := newTestServer(t)
	m := ts.do("POST", "/v1/mce", coder, `{"id":"M1","discharge_date":"2026-05-01","age":70,"sex":"M","discharge_status":1,"pdx":{"code":"N390"},"sdx":[{"code":"N390"}]}`).expect(t, 200).json(t)
	if m["id"] != "M1" || m["edit_type"] == nil || m["messages"] == nil {
		t.Errorf("mce %v", m)
	}
	if msgs, _ := m["messages"].([]any); len(msgs) == 0 {
		t.Errorf("no messages for a duplicate of the PDX: %v", m)
	}
	ts.do("POST", "/v1/mce", coder, `{"pdx":`).expect(t, 400).problem(t)
	ts.do("POST", "/v1/mce", coder, `{"pdx":{"code":1}}`).expect(t, 422).problem(t)
}

func TestCodeLookups(t *testing.T) {
	ts := newTestServer(t)
	m := ts.do("GET", "/v1/codes/dx/I50.23", finance, nil).expect(t, 200).json(t)
	if m["code"] != "I5023" || m["type"] != "dx" || m["version"] != 431.0 || m["recognized"] != true || m["mdc"] != 5.0 ||
		m["level"] != "CC" && m["level"] != "MCC" || m["valid"] != true || m["poa_exempt"] != false {
		t.Errorf("I5023: %v", m)
	}
	if !strings.Contains(strings.ToLower(fmt.Sprint(m["title"])), "heart failure") {
		t.Errorf("title %v", m["title"])
	}
	if vs, _ := m["versions"].([]any); len(vs) != 8 {
		t.Errorf("versions %v", m["versions"])
	}
	if h, _ := m["hcc"].([]any); len(h) == 0 {
		t.Errorf("no HCC for I5023: %v", m["hcc"])
	}
	m = ts.do("GET", "/v1/codes/dx/I50.23?version=40.0", finance, nil).expect(t, 200).json(t)
	if m["version"] != 400.0 || m["fiscal_year"] != 2023.0 {
		t.Errorf("v40: %v", m)
	}
	m = ts.do("GET", "/v1/codes/dx/I50", finance, nil).expect(t, 200).json(t)
	if m["valid"] != false || m["recognized"] != false {
		t.Errorf("header I50: %v", m)
	}
	m = ts.do("GET", "/v1/codes/dx/Y929", coder, nil).expect(t, 200).json(t)
	if m["poa_exempt"] != true {
		t.Errorf("Y929 should be POA exempt: %v", m)
	}
	m = ts.do("GET", "/v1/codes/pr/0DTJ4ZZ", coder, nil).expect(t, 200).json(t)
	if m["type"] != "pr" || m["is_or"] != true || m["recognized"] != true || m["mdc"] != nil {
		t.Errorf("0DTJ4ZZ: %v", m)
	}
	m = ts.do("GET", "/v1/codes/pr/3E0234Z", coder, nil).expect(t, 200).json(t)
	if m["is_or"] != false {
		t.Errorf("3E0234Z (injection) is not an OR procedure: %v", m)
	}
	ts.do("GET", "/v1/codes/dx/ZZZ99", coder, nil).expect(t, 404).problem(t)
	ts.do("GET", "/v1/codes/dx/I50-23", coder, nil).expect(t, 422).problem(t)
	ts.do("GET", "/v1/codes/dx/I5023?version=12", coder, nil).expect(t, 400).problem(t)
	ts.do("GET", "/v1/codes/dx/I5023?version=39.1", coder, nil).expect(t, 422).problem(t)
}

func TestCodeSearch(t *testing.T) {
	ts := newTestServer(t)
	ts.srv.Catalog().PreloadTitles()
	start := time.Now()
	m := ts.do("GET", "/v1/codes/search?q=acute+kidney+failure", cdi, nil).expect(t, 200).json(t)
	t.Logf("search answered in %v", time.Since(start))
	items, _ := m["items"].([]any)
	if len(items) == 0 || len(items) > 25 {
		t.Fatalf("%d items", len(items))
	}
	if first := items[0].(map[string]any); !strings.HasPrefix(first["code"].(string), "N17") {
		t.Errorf("first match %v", first)
	}
	// Through the ICD-10-CM Alphabetic Index: a synonym the titles do not use, a see-reference,
	// the Neoplasm Table. The index is used when the data directory has one.
	if len(ts.srv.Catalog().IndexYears()) > 0 {
		for _, tc := range []struct{ q, code, term string }{
			{"acute+kidney+failure", "N179", "Failure, failed, kidney, acute"},
			{"acute+renal+failure", "N179", "Failure, failed, renal, acute"},
			{"heart+attack", "I219", "Attack, attacks, heart → "},
			{"malignant+neoplasm+lung", "C349", "Neoplasm table: Neoplasm, neoplastic, lung, malignant primary"},
		} {
			m := ts.do("GET", "/v1/codes/search?q="+tc.q, coder, nil).expect(t, 200).json(t)
			items, _ := m["items"].([]any)
			if len(items) == 0 || m["index_year"] != 2025.0 {
				t.Errorf("%s: %v", tc.q, m)
				continue
			}
			first := items[0].(map[string]any)
			if first["code"] != tc.code || first["match"] != "index" || !strings.HasPrefix(fmt.Sprint(first["index_term"]), tc.term) {
				t.Errorf("%s: first %v, want %s via %q", tc.q, first, tc.code, tc.term)
			}
		}
	}
	if m := ts.do("GET", "/v1/codes/search?q=resection+appendix&type=pr", coder, nil).expect(t, 200).json(t); m["index_year"] != nil {
		t.Errorf("procedure search reports an index: %v", m["index_year"])
	}
	m = ts.do("GET", "/v1/codes/search?q=I502&limit=3", cdi, nil).expect(t, 200).json(t)
	if items, _ := m["items"].([]any); len(items) != 3 || items[0].(map[string]any)["code"] != "I502" {
		t.Errorf("prefix search %v", m["items"])
	}
	m = ts.do("GET", "/v1/codes/search?q=resection+appendix&type=pr", cdi, nil).expect(t, 200).json(t)
	if items, _ := m["items"].([]any); len(items) == 0 || !strings.HasPrefix(items[0].(map[string]any)["code"].(string), "0DTJ") {
		t.Errorf("procedure search %v", m["items"])
	}
	for _, q := range []string{"", "?q=x&type=cpt", "?q=x&limit=1000"} {
		p := ts.do("GET", "/v1/codes/search"+q, cdi, nil).expect(t, 422).problem(t)
		if len(p.Errors) == 0 {
			t.Errorf("%s: no field errors", q)
		}
	}
	ts.do("GET", "/v1/codes/search?q=x&limit=ten", cdi, nil).expect(t, 400).problem(t)
}

func TestDRGAndVersions(t *testing.T) {
	ts := newTestServer(t)
	m := ts.do("GET", "/v1/drgs/291", finance, nil).expect(t, 200).json(t)
	if m["title"] != "Heart Failure and Shock with MCC" || m["mdc"] != 5.0 || m["type"] != "MEDICAL" || m["version"] != 431.0 {
		t.Errorf("DRG 291: %v", m)
	}
	if w, _ := m["weight"].(float64); w < 1 || m["gmlos"] == nil || m["amlos"] == nil {
		t.Errorf("weights %v", m)
	}
	m = ts.do("GET", "/v1/drgs/981", finance, nil).expect(t, 200).json(t)
	if !strings.HasPrefix(fmt.Sprint(m["title"]), "Extensive O.R. Procedures Unrelated") || m["type"] != "SURGICAL" {
		t.Errorf("DRG 981: %v", m)
	}
	// Version 40.0 is weighed with the FY2023 Table 5 when the data holds it, else has no weight.
	m = ts.do("GET", "/v1/drgs/291?version=400", finance, nil).expect(t, 200).json(t)
	if w, ok := weightOf(t, 2023, 291); ok && m["weight"] != w || !ok && m["weight"] != nil {
		t.Errorf("DRG 291 v40.0: weight %v; FY2023 Table 5: %v, %v", m["weight"], w, ok)
	}
	ts.do("GET", "/v1/drgs/50", finance, nil).expect(t, 404).problem(t)
	ts.do("GET", "/v1/drgs/0", finance, nil).expect(t, 422).problem(t)
	ts.do("GET", "/v1/drgs/abc", finance, nil).expect(t, 422).problem(t)

	m = ts.do("GET", "/v1/versions", coder, nil).expect(t, 200).json(t)
	items, _ := m["items"].([]any)
	if len(items) != 8 || m["mce"] != true {
		t.Fatalf("versions %v", m)
	}
	last := items[7].(map[string]any)
	if last["version"] != 431.0 || last["name"] != "43.1" || last["current"] != true || last["from"] != "2026-04-01" || last["weights"] != true {
		t.Errorf("43.1: %v", last)
	}
	if items[0].(map[string]any)["current"] != false {
		t.Error("40.0 marked current")
	}
	for _, it := range items {
		v := it.(map[string]any)
		_, loaded := weightOf(t, tables.VersionFiscalYear(tables.Version(v["version"].(float64))), 291)
		if v["weights"] != loaded {
			t.Errorf("%v: weights %v, Table 5 of its year loaded: %v", v["name"], v["weights"], loaded)
		}
	}
}

// TestBadRequestsAreNever5xx sends malformed, oversized and randomly mutated bodies to every
// endpoint that takes one: the answer is always a 4xx problem (or a 2xx), never a 5xx.
func TestBadRequestsAreNever5xx(t *testing.T) {
	ts := newTestServer(t)
	enc := ts.do("POST", "/v1/encounters", coder, encounterBody("FUZZ-1")).expect(t, 201).json(t)
	id := enc["id"].(string)
	targets := []struct{ method, path, valid string }{
		{"POST", "/v1/group", hfClaim},
		{"POST", "/v1/group?explain=1&mce=1", hfClaim},
		{"POST", "/v1/group/batch", "[" + hfClaim + "]"},
		{"POST", "/v1/mce", hfClaim},
		{"POST", "/v1/encounters", encounterBody("FUZZ-2")},
		{"PATCH", "/v1/encounters/" + id, `{"unit":"ICU","sdx":[{"code":"N179","poa":"Y"}]}`},
		{"POST", "/v1/encounters/" + id + "/finalize", `{"sdx":[]}`},
		{"POST", "/v1/users", `{"name":"z","role":"coder"}`},
	}
	fixed := []string{"", "null", "[]", "{}", `"x"`, "42", "{{{{", "\x00\xff\xfe", strings.Repeat("[", 100000),
		`{"pdx":{"code":` + strings.Repeat("9", 400) + `}}`, `{"sdx":{"code":"I10"}}`, `{"evidence":[{"kind":"lab","value":{"a":1}}]}`,
		`{"discharge_date":"2026-13-45"}`, `{"age":1e400}`, `{"account":"` + strings.Repeat("A", 5000) + `"}`,
		strings.Repeat(" ", 3<<20)}
	rng := rand.New(rand.NewPCG(1, 2))
	mutate := func(s string) string {
		b := []byte(s)
		for range 1 + rng.IntN(4) {
			if len(b) == 0 {
				break
			}
			i := rng.IntN(len(b))
			switch rng.IntN(3) {
			case 0:
				b[i] = byte(rng.IntN(256))
			case 1:
				b = append(b[:i], b[i+1:]...)
			default:
				b = append(b[:i], append([]byte{`{}[]":,0a`[rng.IntN(9)]}, b[i:]...)...)
			}
		}
		return string(b)
	}
	for _, tg := range targets {
		bodies := append([]string(nil), fixed...)
		for range 60 {
			bodies = append(bodies, mutate(tg.valid))
		}
		for i, b := range bodies {
			r := ts.edit(tg.method, tg.path, admin, b)
			if r.StatusCode >= 500 {
				t.Errorf("%s %s body %d (%.80q): %d %s", tg.method, tg.path, i, b, r.StatusCode, r.body)
			}
			if r.StatusCode >= 400 && r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s body %d: %d without problem+json", tg.method, tg.path, i, r.StatusCode)
			}
		}
	}
	if strings.Contains(ts.logs.String(), `"level":"ERROR"`) {
		t.Errorf("errors logged:\n%s", ts.logs.String())
	}
}

// TestRegisterExtensionRoutes: other packages add routes with roles and documentation; bad
// declarations are refused; a panicking handler becomes a logged 500 problem.
func TestRegisterExtensionRoutes(t *testing.T) {
	ts := newTestServer(t,
		api.Route{Method: "GET", Path: "/v1/extension", Roles: []store.Role{store.RoleCDI}, Summary: "an extension",
			Responses: api.OK("the extension", api.Schema{"type": "object"}),
			Handler: func(c *gin.Context) {
				u, _ := api.UserFrom(c)
				c.JSON(200, gin.H{"user": u.Name})
			}},
		api.Route{Method: "GET", Path: "/v1/boom", Roles: api.AllRoles, Summary: "panics", Responses: api.OK("never", nil),
			Handler: func(*gin.Context) { panic("bug") }},
	)
	if m := ts.do("GET", "/v1/extension", cdi, nil).expect(t, 200).json(t); m["user"] != "user-cdi" {
		t.Errorf("extension %v", m)
	}
	ts.do("GET", "/v1/extension", coder, nil).expect(t, 403)
	p := ts.do("GET", "/v1/boom", coder, nil).expect(t, 500).problem(t)
	if p.RequestID == "" || !strings.Contains(ts.logs.String(), "panic serving request") {
		t.Errorf("panic not logged with a request id: %+v", p)
	}
	ts.do("GET", "/healthz", "", nil).expect(t, 200)
	doc := ts.do("GET", "/openapi.json", "", nil).expect(t, 200).json(t)
	if path(doc, "paths./v1/extension.get.x-roles") == nil {
		t.Error("extension route not documented")
	}
	bad := []api.Route{
		{Method: "GET", Path: "/v1/extension", Roles: api.AllRoles, Summary: "dup", Responses: api.OK("x", nil), Handler: func(*gin.Context) {}},
		{Method: "GET", Path: "/v1/x", Summary: "no roles", Responses: api.OK("x", nil), Handler: func(*gin.Context) {}},
		{Method: "GET", Path: "/v1/y", Roles: []store.Role{"boss"}, Summary: "bad role", Responses: api.OK("x", nil), Handler: func(*gin.Context) {}},
		{Method: "GET", Path: "/v1/z", Roles: api.AllRoles, Responses: api.OK("x", nil), Handler: func(*gin.Context) {}},
		{Method: "GET", Path: "/v1/w", Roles: api.AllRoles, Summary: "no handler", Responses: api.OK("x", nil)},
	}
	for _, r := range bad {
		if err := ts.srv.Register(r); err == nil {
			t.Errorf("Register accepted %s (%s)", r.Path, r.Summary)
		}
	}
}

// TestGracefulShutdown: canceling Serve's context lets a request in progress finish.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	ts := newTestServer(t, api.Route{Method: "GET", Path: "/v1/slow", Roles: api.AllRoles, Summary: "slow",
		Responses: api.OK("done", nil), Handler: func(c *gin.Context) {
			close(started)
			time.Sleep(300 * time.Millisecond)
			c.JSON(200, gin.H{"done": true})
		}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ts.srv.Serve(ctx, ln) }()
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/v1/slow", nil)
		req.Header.Set("Authorization", "Bearer "+ts.tokens[coder])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{0, err}
			return
		}
		resp.Body.Close()
		done <- result{resp.StatusCode, nil}
	}()
	<-started
	cancel()
	r := <-done
	if r.err != nil || r.status != 200 {
		t.Errorf("request in progress: %d, %v", r.status, r.err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

// TestTablesInfo: admins read what the data directory holds, as drg tables info prints it.
func TestTablesInfo(t *testing.T) {
	ts := newTestServer(t)
	ts.do("GET", "/v1/tables", store.RoleCoder, nil).expect(t, 403).problem(t)
	m := ts.do("GET", "/v1/tables", store.RoleAdmin, nil).expect(t, 200).json(t)
	grouper, _ := m["grouper"].([]any)
	if len(grouper) != 8 {
		t.Fatalf("grouper versions %v", m["grouper"])
	}
	v431 := grouper[7].(map[string]any)
	if v431["version"] != 431.0 || v431["from"] != "2026-04-01" || v431["dx_codes"].(float64) < 74000 {
		t.Errorf("v43.1 %v", v431)
	}
	if titles, _ := m["titles"].([]any); len(titles) == 0 || titles[0].(map[string]any)["kind"] != "ICD-10-CM" {
		t.Errorf("titles %v", m["titles"])
	}
}

// TestCodeSearchLevelsHeadingsAbbreviations: the code search gives each diagnosis its CC/MCC
// level in the version in use and its exclusion by the claim's PDX, marks headings (which are
// not codes), and finds clinical shorthand.
func TestCodeSearchLevelsHeadingsAbbreviations(t *testing.T) {
	ts := newTestServer(t)
	ts.srv.Catalog().PreloadTitles()
	first := func(path string) map[string]any {
		t.Helper()
		m := ts.do("GET", path, coder, nil).expect(t, 200).json(t)
		items, _ := m["items"].([]any)
		if len(items) == 0 {
			t.Fatalf("%s: no items", path)
		}
		return items[0].(map[string]any)
	}
	if it := first("/v1/codes/search?q=J96.01&version=431"); it["code"] != "J9601" || it["level"] != "MCC" || it["excluded_by_pdx"] != nil {
		t.Errorf("J96.01: %v", it)
	}
	if it := first("/v1/codes/search?q=E87.1&version=431"); it["code"] != "E871" || it["level"] != "CC" {
		t.Errorf("E87.1: %v", it)
	}
	if it := first("/v1/codes/search?q=I5023&pdx=I50.21&version=431"); it["code"] != "I5023" || it["level"] != "MCC" || it["excluded_by_pdx"] != true {
		t.Errorf("I50.23 with PDX I50.21 is excluded as an MCC: %v", it)
	}
	if it := first("/v1/codes/search?q=J18&version=431"); it["code"] != "J18" || it["heading"] != true || it["valid"] != false || it["level"] != nil {
		t.Errorf("J18 is a heading: %v", it)
	}
	for _, tc := range []struct{ q, prefix string }{{"chf", "I50"}, {"AKI", "N17"}, {"nstemi", "I214"}, {"copd", "J44"}, {"uti", "N39"}} {
		m := ts.do("GET", "/v1/codes/search?q="+tc.q, coder, nil).expect(t, 200).json(t)
		items, _ := m["items"].([]any)
		found := false
		for _, it := range items {
			found = found || strings.HasPrefix(it.(map[string]any)["code"].(string), tc.prefix)
		}
		if !found {
			t.Errorf("%s: no %s code among %v (expanded %v)", tc.q, tc.prefix, items, m["expanded_query"])
		}
	}
}
