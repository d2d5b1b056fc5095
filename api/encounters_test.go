package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/store"
)

// encounterBody is a discharged heart failure encounter with PHI-like fields.
func encounterBody(account string) string {
	return `{"account":"` + account + `","facility":"MAIN","admit_date":"2026-04-27","discharge_date":"2026-05-01",
		"age":70,"sex":"M","discharge_status":1,"payer":"MEDICARE","service_line":"CARDIOLOGY","unit":"4W",
		"attending_provider":{"id":"P123","name":"Dr. Secretname"},
		"pdx":{"code":"I50.23","poa":"Y"},"sdx":[{"code":"E119","poa":"Y"}],"procedures":[{"code":"02703DZ"}],
		"evidence":[{"kind":"lab","name":"Creatinine","loinc":"2160-0","value":1.6,"unit":"mg/dL","time":"2026-04-28T06:00:00Z"},
		            {"kind":"note","note_type":"progress note","author_role":"physician","text":"John Privatename has SOB"}]}`
}

func TestEncounterWorkflow(t *testing.T) {
	ts := newTestServer(t)

	// Create (coder): codes get the coder source, the status follows the discharge date.
	r := ts.do("POST", "/v1/encounters", coder, encounterBody("ACCT-SECRET-1")).expect(t, 201)
	e := r.json(t)
	id, _ := e["id"].(string)
	if len(id) != 26 || e["status"] != "discharged" || r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/v1/encounters/"+id {
		t.Fatalf("created %v, headers %v", e, r.Header)
	}
	if path(e, "pdx.code") != "I5023" || path(e, "pdx.source") != "coder" || e["baseline_drg"] != nil {
		t.Errorf("codes %v", e)
	}
	if ev, _ := e["evidence"].([]any); len(ev) != 2 {
		t.Errorf("evidence %v", e["evidence"])
	}
	ts.do("POST", "/v1/encounters", coder, encounterBody("ACCT-SECRET-1")).expect(t, 409).problem(t)
	ts.do("POST", "/v1/encounters", finance, encounterBody("ACCT-X")).expect(t, 403)

	// Read.
	got := ts.do("GET", "/v1/encounters/"+id, finance, nil).expect(t, 200)
	if got.Header.Get("ETag") != `"1"` || got.json(t)["account"] != "ACCT-SECRET-1" {
		t.Errorf("read %s", got.body)
	}
	ts.do("GET", "/v1/encounters/NOPE", coder, nil).expect(t, 404).problem(t)

	// Group: the first grouping is the baseline and the working DRG.
	g := ts.edit("POST", "/v1/encounters/"+id+"/group", cdi, nil).expect(t, 200).json(t)
	if path(g, "encounter.baseline_drg.drg") != path(g, "result.final.drg") || path(g, "encounter.working_drg.grouped_by") != "user-cdi" ||
		path(g, "result.version") != 431.0 || path(g, "encounter.working_drg.weight") == nil {
		t.Fatalf("grouped %v", g)
	}
	baseline := path(g, "encounter.baseline_drg.drg")

	// CDI adds an MCC; the coder's codes keep their source.
	r = ts.do("PATCH", "/v1/encounters/"+id, cdi, `{"sdx":[{"code":"E119","poa":"Y"},{"code":"J96.01","poa":"Y"}]}`, "If-Match", `"2"`).expect(t, 200)
	e = r.json(t)
	sdx, _ := e["sdx"].([]any)
	if len(sdx) != 2 || path(sdx[0].(map[string]any), "source") != "coder" || path(sdx[1].(map[string]any), "source") != "cdi" ||
		e["unit"] != "4W" || r.Header.Get("ETag") != `"3"` {
		t.Errorf("patched %v", e)
	}
	ts.do("PATCH", "/v1/encounters/"+id, cdi, `{"unit":"5E"}`, "If-Match", `"2"`).expect(t, 412).problem(t)
	g = ts.edit("POST", "/v1/encounters/"+id+"/group", coder, nil).expect(t, 200).json(t)
	// The MCC moves the PCI stay from DRG 322 (without MCC) to 321 (with MCC).
	if baseline != 322.0 || path(g, "encounter.baseline_drg.drg") != baseline || path(g, "encounter.working_drg.drg") != 321.0 {
		t.Errorf("after CDI: baseline %v working %v", path(g, "encounter.baseline_drg.drg"), path(g, "encounter.working_drg.drg"))
	}

	// Patch validation: field names as in the claim package.
	tests := []struct{ body, field string }{
		{`{"sdx":[{"code":"E119","poa":"Y"},{"code":"N179","poa":"Q"}]}`, "sdx[1].poa"},
		{`{"sdx":[{"code":"E1-19"}]}`, "sdx[0].code"},
		{`{"pdx":{"code":"I10","source":"robot"}}`, "pdx.source"},
		{`{"sex":"X"}`, "sex"},
		{`{"age":"old"}`, "age"},
		{`{"diagnoses":[]}`, "diagnoses"},
		{`{"status":"final"}`, "status"},
		{`{"account":null}`, "account"},
		{`{"discharge_date":"2026-04-01"}`, "discharge_date"},
		{`{"evidence":[{"kind":"gossip"}]}`, "evidence[0].kind"},
		{`{"discharge_date":"yesterday"}`, "discharge_date"},
	}
	for _, tc := range tests {
		p := ts.edit("PATCH", "/v1/encounters/"+id, coder, tc.body).expect(t, 422).problem(t)
		if len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
			t.Errorf("%s: errors %+v, want field %s", tc.body, p.Errors, tc.field)
		}
	}
	ts.edit("PATCH", "/v1/encounters/"+id, coder, `[1]`).expect(t, 400).problem(t)

	// Finalize: coders only; the final codes and DRG are stored, the encounter is frozen.
	ts.edit("POST", "/v1/encounters/"+id+"/finalize", cdi, nil).expect(t, 403)
	f := ts.edit("POST", "/v1/encounters/"+id+"/finalize", coder, `{"sdx":[{"code":"E119","poa":"Y"},{"code":"J9601","poa":"Y"},{"code":"N179","poa":"N"}]}`).expect(t, 200).json(t)
	if path(f, "encounter.status") != "final" || path(f, "encounter.final_drg.drg") != 321.0 || path(f, "encounter.baseline_drg.drg") != baseline {
		t.Errorf("finalized %v", f["encounter"])
	}
	fsdx, _ := path(f, "encounter.final_codes.sdx").([]any)
	if len(fsdx) != 3 || path(fsdx[1].(map[string]any), "source") != "cdi" || path(fsdx[2].(map[string]any), "source") != "coder" {
		t.Errorf("final codes %v", path(f, "encounter.final_codes"))
	}
	ts.edit("PATCH", "/v1/encounters/"+id, coder, `{"unit":"ICU"}`).expect(t, 409).problem(t)

	// The audit log has every change, for admins only.
	ts.do("GET", "/v1/audit", coder, nil).expect(t, 403)
	a := ts.do("GET", "/v1/audit?entity=encounter&entity_id="+id, admin, nil).expect(t, 200).json(t)
	all, _ := a["items"].([]any)
	var actions []string
	var items []any // the changes (reads are audited too: action read)
	for _, it := range all {
		if act := it.(map[string]any)["action"].(string); act != "read" {
			actions = append(actions, act)
			items = append(items, it)
		}
	}
	if strings.Join(actions, ",") != "create,group,update,group,finalize" {
		t.Errorf("audit actions %v", actions)
	}
	upd := items[2].(map[string]any)
	if upd["actor"] != "user-cdi" || upd["actor_role"] != "cdi" || path(upd, "after.sdx") == nil || path(upd, "before.sdx") == nil {
		t.Errorf("audit update row %v", upd)
	}
	page := ts.do("GET", "/v1/audit?limit=2", admin, nil).expect(t, 200).json(t)
	if n, _ := page["items"].([]any); len(n) != 2 || page["next_cursor"] == "" {
		t.Errorf("audit page %v", page)
	}
	ts.do("GET", "/v1/audit?since=yesterday", admin, nil).expect(t, 422).problem(t)
	ts.do("GET", "/v1/audit?cursor=%21%21", admin, nil).expect(t, 400).problem(t)

	// No PHI in the log: account, names, note text and DOB-like values never appear.
	logs := ts.logs.String()
	for _, phi := range []string{"ACCT-SECRET", "Secretname", "Privatename", "2026-04-27"} {
		if strings.Contains(logs, phi) {
			t.Errorf("log holds %q", phi)
		}
	}
	if !strings.Contains(logs, `"route":"/v1/encounters/{id}"`) {
		t.Errorf("access log lacks route patterns:\n%.500s", logs)
	}
}

func TestEncounterInHouse(t *testing.T) {
	ts := newTestServer(t)
	body := strings.Replace(encounterBody("IN-1"), `"discharge_date":"2026-05-01",`, "", 1)
	e := ts.do("POST", "/v1/encounters", cdi, body).expect(t, 201).json(t)
	id := e["id"].(string)
	if e["status"] != "open" || e["discharge_date"] != nil || path(e, "pdx.source") != "cdi" {
		t.Errorf("in house %v", e)
	}
	g := ts.edit("POST", "/v1/encounters/"+id+"/group", cdi, nil).expect(t, 200).json(t)
	if path(g, "result.version") != 431.0 || !strings.Contains(fmt.Sprint(g["note"]), "no discharge date") {
		t.Errorf("in-house grouping %v", g)
	}
	p := ts.edit("POST", "/v1/encounters/"+id+"/finalize", coder, nil).expect(t, 422).problem(t)
	if len(p.Errors) == 0 || p.Errors[0].Field != "discharge_date" {
		t.Errorf("finalize in house: %+v", p)
	}
	e = ts.edit("PATCH", "/v1/encounters/"+id, coder, `{"discharge_date":"2026-05-02"}`).expect(t, 200).json(t)
	if e["status"] != "discharged" || e["length_of_stay"] != nil {
		t.Errorf("discharged %v", e)
	}
	g = ts.edit("POST", "/v1/encounters/"+id+"/group?version=43.0", coder, nil).expect(t, 200).json(t)
	if path(g, "result.version") != 430.0 || g["note"] != nil {
		t.Errorf("forced version %v", g)
	}
	e = ts.edit("PATCH", "/v1/encounters/"+id, coder, `{"pdx":null,"sdx":null,"procedures":null}`).expect(t, 200).json(t)
	if e["pdx"] != nil || e["sdx"] != nil {
		t.Errorf("cleared codes %v", e)
	}
	p = ts.edit("POST", "/v1/encounters/"+id+"/finalize", coder, nil).expect(t, 422).problem(t)
	if len(p.Errors) == 0 || p.Errors[0].Field != "pdx" {
		t.Errorf("finalize without PDX: %+v", p)
	}
}

func TestEncounterList(t *testing.T) {
	ts := newTestServer(t)
	for i := range 7 {
		body := encounterBody(fmt.Sprintf("L-%d", i))
		body = strings.Replace(body, `"unit":"4W"`, fmt.Sprintf(`"unit":"%s"`, []string{"4W", "ICU"}[i%2]), 1)
		body = strings.Replace(body, `"discharge_date":"2026-05-01"`, fmt.Sprintf(`"discharge_date":"2026-05-%02d"`, i+1), 1)
		ts.do("POST", "/v1/encounters", coder, body).expect(t, 201)
	}
	var ids []string
	cursor := ""
	for range 10 {
		m := ts.do("GET", "/v1/encounters?limit=3&cursor="+cursor, finance, nil).expect(t, 200).json(t)
		for _, it := range m["items"].([]any) {
			e := it.(map[string]any)
			ids = append(ids, e["id"].(string))
			if e["evidence"] != nil {
				t.Error("list items carry evidence")
			}
		}
		cursor, _ = m["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	if len(ids) != 7 {
		t.Errorf("%d encounters over the pages", len(ids))
	}
	tests := []struct {
		query string
		want  int
	}{
		{"unit=ICU", 3},
		{"status=discharged&payer=MEDICARE", 7},
		{"status=final", 0},
		{"discharged_from=2026-05-02&discharged_to=2026-05-04", 3},
		{"attending=P123&unit=4W", 4},
		{"drg=291", 0},
	}
	for _, tc := range tests {
		m := ts.do("GET", "/v1/encounters?"+tc.query, coder, nil).expect(t, 200).json(t)
		if n := len(m["items"].([]any)); n != tc.want {
			t.Errorf("%s: %d, want %d", tc.query, n, tc.want)
		}
	}
	for _, q := range []string{"status=closed", "limit=-1", "limit=5000", "drg=1000", "discharged_from=May"} {
		ts.do("GET", "/v1/encounters?"+q, coder, nil).expect(t, 422).problem(t)
	}
	ts.do("GET", "/v1/encounters?cursor=bogus", coder, nil).expect(t, 400).problem(t)
	ts.do("GET", "/v1/encounters?limit=x", coder, nil).expect(t, 400).problem(t)
}

func TestUsersAPI(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do("POST", "/v1/users", admin, `{"name":"nina","role":"cdi"}`).expect(t, 201)
	var nt struct {
		User  struct{ ID int64 }
		Token string
	}
	json.Unmarshal(r.body, &nt)
	if !strings.HasPrefix(nt.Token, "drg_") || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("created %s", r.body)
	}
	ts.tokens["nina"] = nt.Token
	if m := ts.do("GET", "/v1/me", "nina", nil).expect(t, 200).json(t); m["name"] != "nina" || m["role"] != "cdi" {
		t.Errorf("me %v", m)
	}
	ts.do("POST", "/v1/users", admin, `{"name":"nina","role":"cdi"}`).expect(t, 409).problem(t)
	p := ts.do("POST", "/v1/users", admin, `{"name":"x","role":"boss"}`).expect(t, 422).problem(t)
	if len(p.Errors) != 1 || p.Errors[0].Field != "role" {
		t.Errorf("bad role: %+v", p)
	}
	ts.do("POST", "/v1/users", admin, `{"role":"cdi"}`).expect(t, 422)
	list := ts.do("GET", "/v1/users", admin, nil).expect(t, 200).json(t)
	if n := len(list["items"].([]any)); n != 5 {
		t.Errorf("%d users", n)
	}
	uid := fmt.Sprint(nt.User.ID)
	u := "/v1/users/" + uid
	// Every change of a user needs its ETag: none is 428, a stale one 412.
	ts.do("PATCH", u, admin, `{"role":"coder"}`).expect(t, 428).problem(t)
	ts.do("PATCH", u, admin, `{"role":"coder"}`, "If-Match", `""`).expect(t, 428)
	tag := ts.etag(u, admin)
	r = ts.do("PATCH", u, admin, `{"role":"coder"}`, "If-Match", tag).expect(t, 200)
	if m := r.json(t); m["role"] != "coder" || r.Header.Get("ETag") == tag {
		t.Errorf("role change %v, ETag %q (was %q)", m, r.Header.Get("ETag"), tag)
	}
	ts.do("PATCH", u, admin, `{"disabled":true}`, "If-Match", tag).expect(t, 412).problem(t)
	ts.edit("POST", "/v1/encounters/x/finalize", "nina", nil).expect(t, 404) // a coder now
	ts.do("PATCH", u, admin, `{"disabled":true}`, "If-Match", ts.etag(u, admin)).expect(t, 200)
	ts.do("GET", "/v1/me", "nina", nil).expect(t, 401)
	ts.do("PATCH", u, admin, `{"disabled":false}`, "If-Match", ts.etag(u, admin)).expect(t, 200)
	ts.do("POST", u+"/tokens", admin, nil).expect(t, 428)
	r = ts.do("POST", u+"/tokens", admin, nil, "If-Match", ts.etag(u, admin)).expect(t, 201)
	json.Unmarshal(r.body, &nt)
	ts.tokens["nina2"] = nt.Token
	ts.do("GET", "/v1/me", "nina2", nil).expect(t, 200)
	ts.do("DELETE", u+"/tokens", admin, nil).expect(t, 428)
	ts.do("DELETE", u+"/tokens", admin, nil, "If-Match", ts.etag(u, admin)).expect(t, 200)
	ts.do("GET", "/v1/me", "nina", nil).expect(t, 401)
	ts.do("GET", "/v1/me", "nina2", nil).expect(t, 401)
	ts.do("PATCH", "/v1/users/999", admin, `{"disabled":true}`, "If-Match", `"1"`).expect(t, 404)
	ts.do("PATCH", "/v1/users/abc", admin, `{"disabled":true}`, "If-Match", `"1"`).expect(t, 404)
	a := ts.do("GET", "/v1/audit?entity=user&entity_id="+uid, admin, nil).expect(t, 200).json(t)
	if n := len(a["items"].([]any)); n != 6 {
		t.Errorf("%d audit rows for the user, want 6: %v", n, a)
	}
	if strings.Contains(ts.do("GET", "/v1/audit", admin, nil).expect(t, 200).String(), nt.Token) {
		t.Error("a token is in the audit log")
	}
}

// String returns the body as text.
func (r reply) String() string { return string(r.body) }

// TestTokensAPI: tokens get an optional expiry (days or a time), are listed without their
// secrets, and one can be revoked on its own.
func TestTokensAPI(t *testing.T) {
	ts := newTestServer(t)
	ts.do("POST", "/v1/users", admin, `{"name":"exp","role":"coder","expires_in_days":0}`).expect(t, 201) // 0: no expiry
	r := ts.do("POST", "/v1/users", admin, `{"name":"tmp","role":"coder","expires_in_days":30}`).expect(t, 201)
	var nt api.NewToken
	json.Unmarshal(r.body, &nt)
	ts.tokens["tmp"] = nt.Token
	u := fmt.Sprintf("/v1/users/%d", nt.User.ID)
	for _, bad := range []string{`{"name":"x","role":"coder","expires_in_days":-1}`, `{"name":"x","role":"coder","expires_at":"2001-01-01T00:00:00Z"}`,
		`{"name":"x","role":"coder","expires_in_days":5,"expires_at":"2099-01-01T00:00:00Z"}`} {
		ts.do("POST", "/v1/users", admin, bad).expect(t, 422).problem(t)
	}
	r = ts.do("POST", u+"/tokens", admin, `{"expires_at":"2099-01-01T00:00:00Z"}`, "If-Match", ts.etag(u, admin)).expect(t, 201)
	json.Unmarshal(r.body, &nt)
	ts.tokens["tmp2"] = nt.Token
	list := ts.do("GET", u+"/tokens", admin, nil).expect(t, 200)
	if strings.Contains(list.String(), nt.Token) || strings.Contains(list.String(), store.HashToken(nt.Token)) {
		t.Fatal("the token list shows a secret or a full hash")
	}
	var page struct{ Items []store.Token }
	json.Unmarshal(list.body, &page)
	if len(page.Items) != 2 || page.Items[0].ExpiresAt == nil || page.Items[1].ExpiresAt == nil ||
		page.Items[1].ExpiresAt.Year() != 2099 || time.Until(*page.Items[0].ExpiresAt) < 29*24*time.Hour {
		t.Fatalf("tokens %s", list.body)
	}
	ts.do("DELETE", fmt.Sprintf("%s/tokens/%d", u, page.Items[0].ID), admin, nil).expect(t, 428)
	ts.do("DELETE", fmt.Sprintf("%s/tokens/%d", u, page.Items[0].ID), admin, nil, "If-Match", ts.etag(u, admin)).expect(t, 200)
	ts.do("GET", "/v1/me", "tmp", nil).expect(t, 401)
	ts.do("GET", "/v1/me", "tmp2", nil).expect(t, 200)
	ts.do("DELETE", u+"/tokens/999", admin, nil, "If-Match", ts.etag(u, admin)).expect(t, 404)
}
