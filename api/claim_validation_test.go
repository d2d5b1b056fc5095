package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/store"
)

// badClaim has three invalid fields: a sex, a POA indicator and a discharge status no claim
// can carry (issue 21 item 6).
const badClaim = `{"id":"BAD","discharge_date":"2026-05-01","age":70,"sex":"Q","discharge_status":999,` +
	`"pdx":{"code":"I5023","poa":"Y"},"sdx":[{"code":"J9601","poa":"Q"},{"code":"E119","poa":"Y"}]}`

var badFields = []string{"discharge_status", "sdx[0].poa", "sex"}

// sortedFields returns the fields a list of field errors names, sorted.
func sortedFields(errs []*api.FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field)
	}
	sort.Strings(out)
	return out
}

// TestClaimOneValidation: every route that takes a claim reports all the invalid fields of
// a claim at once, and never groups or edits it — /v1/group (with and without the MCE),
// /v1/mce, every format of /v1/group/batch per item, encounter creation and change (issue
// 21 item 6, issue 22 item 12).
func TestClaimOneValidation(t *testing.T) {
	ts := newTestServer(t)
	var bad map[string]any
	if err := json.Unmarshal([]byte(badClaim), &bad); err != nil {
		t.Fatal(err)
	}
	enc := map[string]any{"account": "VAL-1"}
	for k, v := range bad {
		if k != "id" {
			enc[k] = v
		}
	}
	encID := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", coder, encounterBody("VAL-2")).expect(t, 201)).ID

	// One claim per request: a 422 naming the three fields.
	single := []struct {
		name, method, path string
		body               any
	}{
		{"group", "POST", "/v1/group", badClaim},
		{"group with MCE", "POST", "/v1/group?mce=true&explain=true", badClaim},
		{"mce", "POST", "/v1/mce", badClaim},
		{"create encounter", "POST", "/v1/encounters", enc},
		{"change encounter", "PATCH", "/v1/encounters/" + encID, `{"sex":"Q","discharge_status":999,"sdx":[{"code":"J9601","poa":"Q"}]}`},
	}
	for _, tc := range single {
		t.Run(tc.name, func(t *testing.T) {
			p := ts.edit(tc.method, tc.path, coder, tc.body).expect(t, 422).problem(t)
			if got := sortedFields(p.Errors); !slices.Equal(got, badFields) {
				t.Errorf("fields %v, want %v: %+v", got, badFields, p.Errors)
			}
		})
	}

	// Batches: the bad claim is an error record naming the three fields; the good one groups.
	good := strings.Replace(hfClaim, `"id":"A1"`, `"id":"GOOD"`, 1)
	tsvGood := "GOOD\t431\t70\tM\t1\tNON_EXEMPT\tI5023:Y\t\tJ9601:Y\t\t20260501\t3"
	tsvBad := "BAD\t431\t70\tQ\t999\tNON_EXEMPT\tI5023:Y\t\tJ9601:Q,E119:Y\t\t20260501\t3"
	csvHead := "id,discharge_date,age,sex,discharge_status,pdx,pdx_poa,sdx"
	batches := []struct{ name, ctype, body string }{
		{"json array", "application/json", "[" + good + "," + badClaim + "]"},
		{"ndjson", "application/x-ndjson", good + "\n" + badClaim + "\n"},
		{"tsv", "text/tab-separated-values", tsvGood + "\n" + tsvBad + "\n"},
		{"csv", "text/csv", csvHead + "\nGOOD,2026-05-01,70,M,1,I5023,Y,J9601:Y\nBAD,2026-05-01,70,Q,999,I5023,Y,J9601:Q;E119:Y\n"},
	}
	for _, tc := range batches {
		t.Run("batch "+tc.name, func(t *testing.T) {
			r := ts.do("POST", "/v1/group/batch", coder, tc.body, "Content-Type", tc.ctype).expect(t, 200)
			var recs []json.RawMessage
			if tc.ctype == "application/json" {
				if err := json.Unmarshal(r.body, &recs); err != nil {
					t.Fatal(err)
				}
			} else {
				for _, l := range strings.Split(strings.TrimSpace(string(r.body)), "\n") {
					recs = append(recs, json.RawMessage(l))
				}
			}
			if len(recs) != 2 {
				t.Fatalf("%d records: %s", len(recs), r.body)
			}
			var ok struct {
				ID    string
				Final *struct{ DRG int }
			}
			var fail struct {
				ID     string
				Final  any
				Errors []*api.FieldError
			}
			json.Unmarshal(recs[0], &ok)
			json.Unmarshal(recs[1], &fail)
			if ok.ID != "GOOD" || ok.Final == nil || ok.Final.DRG != 291 {
				t.Errorf("good claim: %s", recs[0])
			}
			if got := sortedFields(fail.Errors); fail.Final != nil || !slices.Equal(got, badFields) {
				t.Errorf("bad claim: fields %v, want %v: %s", got, badFields, recs[1])
			}
		})
	}

	// Each invalid field alone is refused on every route (never grouped or edited); the
	// patient status codes the CMS software knows as invalid (0, 99) are grouped its way, and
	// a lower-case POA letter is read as the letter.
	fields := []struct {
		name, field string
		set         map[string]any
		status      int
	}{
		{"negative length of stay", "length_of_stay", map[string]any{"length_of_stay": -5}, 422},
		{"POA Q", "pdx.poa", map[string]any{"pdx": map[string]any{"code": "I5023", "poa": "Q"}}, 422},
		{"POA YES", "sdx[0].poa", map[string]any{"sdx": []any{map[string]any{"code": "J9601", "poa": "YES"}}}, 422},
		{"discharge status 999", "discharge_status", map[string]any{"discharge_status": 999}, 422},
		{"discharge status -1", "discharge_status", map[string]any{"discharge_status": -1}, 422},
		{"age 130", "age", map[string]any{"age": 130}, 422},
		{"sex Q", "sex", map[string]any{"sex": "Q"}, 422},
		{"hospital status", "hospital_status", map[string]any{"hospital_status": "SOMETIMES"}, 422},
		{"discharge status 99 (CMS: invalid, grouped)", "", map[string]any{"discharge_status": 99}, 200},
		{"discharge status 0 (CMS: invalid, grouped)", "", map[string]any{"discharge_status": 0}, 200},
		{"lower-case POA", "", map[string]any{"pdx": map[string]any{"code": "I5023", "poa": "y"}}, 200},
	}
	for i, tc := range fields {
		t.Run(tc.name, func(t *testing.T) {
			var cl map[string]any
			json.Unmarshal([]byte(hfClaim), &cl)
			for k, v := range tc.set {
				cl[k] = v
			}
			e := map[string]any{"account": "ONE-" + string(rune('A'+i))}
			for k, v := range cl {
				if k != "id" {
					e[k] = v
				}
			}
			for _, rt := range []struct {
				path string
				body any
				ok   int
			}{{"/v1/group", cl, 200}, {"/v1/mce", cl, 200}, {"/v1/encounters", e, 201}} {
				r := ts.do("POST", rt.path, coder, rt.body)
				if tc.status == 200 {
					r.expect(t, rt.ok)
					continue
				}
				p := r.expect(t, tc.status).problem(t)
				if len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
					t.Errorf("%s: errors %+v, want one naming %s", rt.path, p.Errors, tc.field)
				}
			}
		})
	}
}

// TestNullBody: a JSON body that is null is refused (400, saying it must be an object) by
// every route that reads a JSON body, never taken for an empty object (issue 22 item 12).
func TestNullBody(t *testing.T) {
	ts := newTestServer(t)
	arf := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, cdiFixtureEncounter(t, "01_arf_hypoxic_positive")).expect(t, 201))
	rv := decode[api.CDIReview](t, ts.do("POST", "/v1/encounters/"+arf.ID+"/review", cdi, nil).expect(t, 200))
	q := decode[api.QueryDraft](t, ts.do("POST", "/v1/encounters/"+arf.ID+"/queries", cdi,
		map[string]any{"opportunity_id": rv.Review.Opportunities[0].ID}).expect(t, 201)).Query
	ids := map[string]string{"id": arf.ID, "encounter_id": arf.ID, "code": "MAIN"}

	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody *struct {
				Content map[string]any `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(ts.do("GET", "/openapi.json", "", nil).expect(t, 200).body, &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{([a-z_]+)\}`)
	n := 0
	for p, ops := range doc.Paths {
		for method, op := range ops {
			if op.RequestBody == nil || op.RequestBody.Content["application/json"] == nil {
				continue
			}
			url := param.ReplaceAllStringFunc(p, func(m string) string {
				name := m[1 : len(m)-1]
				switch {
				case strings.HasPrefix(p, "/v1/queries/"):
					return q.ID
				case strings.HasPrefix(p, "/v1/users/"):
					return "1"
				case strings.HasPrefix(p, "/v1/audits/") && name == "id":
					return "1"
				}
				return ids[name]
			})
			n++
			r := ts.edit(strings.ToUpper(method), url, admin, "null")
			if r.StatusCode == http.StatusForbidden {
				r = ts.edit(strings.ToUpper(method), url, cdi, "null")
			}
			if r.StatusCode != 400 && r.StatusCode != 422 {
				t.Errorf("%s %s with a null body: status %d: %.300s", strings.ToUpper(method), p, r.StatusCode, r.body)
				continue
			}
			if pr := r.problem(t); !strings.Contains(pr.Detail+strings.Join(sortedFields(pr.Errors), " "), "null") && !strings.Contains(pr.Detail, "object") && !strings.Contains(pr.Detail, "array") {
				t.Errorf("%s %s with a null body: %q does not say what is expected", strings.ToUpper(method), p, pr.Detail)
			}
		}
	}
	if n < 15 {
		t.Errorf("only %d routes with a JSON body", n)
	}
}
