package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
)

// sdxList returns n secondary diagnoses E119 with mcc (J9601) at position at (0-based; -1:
// none), as a JSON array.
func sdxList(n, at int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = `{"code":"E119","poa":"Y"}`
		if i == at {
			items[i] = `{"code":"J9601","poa":"Y"}`
		}
	}
	return "[" + strings.Join(items, ",") + "]"
}

// TestEncounterMoreThan24SDX: hospitals code more secondary diagnoses than a claim carries.
// The encounter keeps every code (create, change, finalize); grouping uses the first 24 in
// order and names the others with their CC/MCC level; a coder reorders to bring one in.
func TestEncounterMoreThan24SDX(t *testing.T) {
	ts := newTestServer(t)
	body := `{"account":"MANY-1","facility":"MAIN","discharge_date":"2026-05-01","age":70,"sex":"M","discharge_status":1,
		"pdx":{"code":"I5023","poa":"Y"},"sdx":` + sdxList(34, 30) + `}`
	e := ts.do("POST", "/v1/encounters", coder, body).expect(t, 201).json(t)
	id, _ := e["id"].(string)
	if sdx, _ := e["sdx"].([]any); len(sdx) != 34 {
		t.Fatalf("stored %d SDX, want 34", len(sdx))
	}
	g := ts.edit("POST", "/v1/encounters/"+id+"/group", coder, nil).expect(t, 200).json(t)
	ws, _ := path(g, "result.warnings").([]any)
	if path(g, "encounter.working_drg.drg") != 293.0 || len(ws) != 10 {
		t.Fatalf("working DRG %v, %d warnings; want 293 (J9601 is 31st) and 10", path(g, "encounter.working_drg.drg"), len(ws))
	}
	w := ws[6].(map[string]any)
	if w["kind"] != "not_grouped" || w["field"] != "sdx[30]" || w["code"] != "J9601" || w["level"] != "MCC" ||
		!strings.Contains(w["message"].(string), "move it among the first 24") {
		t.Errorf("J9601 warning %v", w)
	}
	ng, _ := path(g, "encounter.working_drg.not_grouped").([]any)
	if len(ng) != 10 || ng[6] != "sdx[30]:J9601" {
		t.Errorf("working_drg.not_grouped %v", ng)
	}

	// PATCH with more than 24 too: the coder moves J9601 first.
	ts.edit("PATCH", "/v1/encounters/"+id, coder, `{"sdx":`+sdxList(34, 0)+`}`).expect(t, 200)
	g = ts.edit("POST", "/v1/encounters/"+id+"/group", coder, nil).expect(t, 200).json(t)
	if path(g, "encounter.working_drg.drg") != 291.0 {
		t.Errorf("after reordering: DRG %v", path(g, "encounter.working_drg.drg"))
	}
	// Finalize with 30 codes keeps them all as final codes.
	f := ts.edit("POST", "/v1/encounters/"+id+"/finalize", coder, `{"sdx":`+sdxList(30, 1)+`}`).expect(t, 200).json(t)
	if fs, _ := path(f, "encounter.final_codes.sdx").([]any); len(fs) != 30 || path(f, "encounter.final_drg.drg") != 291.0 {
		t.Errorf("final: %d codes, DRG %v", len(fs), path(f, "encounter.final_drg.drg"))
	}
	// Only runaway lists are refused.
	p := ts.do("POST", "/v1/encounters", coder, `{"account":"MANY-2","sdx":`+sdxList(1001, -1)+`}`).expect(t, 422).problem(t)
	if len(p.Errors) != 1 || p.Errors[0].Field != "sdx" || p.Errors[0].Message != "at most 1000 items" {
		t.Errorf("1001 SDX: %+v", p.Errors)
	}
}

// TestEncounterAllErrorsAtOnce: create and change report every invalid field in one problem,
// values of the wrong type and rule violations together, named by their paths.
func TestEncounterAllErrorsAtOnce(t *testing.T) {
	ts := newTestServer(t)
	bad := `{"account":"ERR-1","age":"seventy","sex":"X","discharge_status":"home","pdx":{"code":"I5023","poa":"Q"},
		"sdx":[{"code":"E119","poa":"Y"},{"code":"N179","poa":"Z"}],"admit_date":"2026-05-02","discharge_date":"2026-05-01",
		"evidence":[{"kind":"lab","value":1.6,"time":"2026-05-01T08:00:00Z"},{"kind":"lab","name":"K","time":"noon"}],"colour":"red"}`
	want := []string{"age", "discharge_status", "evidence[1].time", "colour", "sex", "pdx.poa", "sdx[1].poa", "discharge_date", "evidence[0].name"}
	p := ts.do("POST", "/v1/encounters", coder, bad).expect(t, 422).problem(t)
	if got := errorFields(p); !slices.Equal(got, want) {
		t.Errorf("create: fields %q\nwant %q", got, want)
	}
	if !strings.HasPrefix(p.Detail, "9 invalid fields: age, discharge_status") {
		t.Errorf("detail %q", p.Detail)
	}
	for _, e := range p.Errors {
		if strings.Contains(e.Message, "2006") || strings.Contains(e.Message, "Z07") || strings.Contains(e.Message, "json:") {
			t.Errorf("%s: message %q is not in words", e.Field, e.Message)
		}
	}
	id, _ := ts.do("POST", "/v1/encounters", coder, encounterBody("ERR-2")).expect(t, 201).json(t)["id"].(string)
	p = ts.edit("PATCH", "/v1/encounters/"+id, coder, `{"sex":"X","discharge_status":"home","pdx":{"code":"I5023","poa":"Q"}}`).expect(t, 422).problem(t)
	if got := errorFields(p); !slices.Equal(got, []string{"discharge_status", "sex", "pdx.poa"}) {
		t.Errorf("change: fields %q", got)
	}
}

// TestEvidenceOneValidation: an evidence item creation refuses is refused by /evidence too,
// with the same rule, and the reverse.
func TestEvidenceOneValidation(t *testing.T) {
	ts := newTestServer(t)
	items := []struct{ item, field string }{
		{`{"kind":"lab","value":1.6,"time":"2026-05-01T08:00:00Z"}`, "name"},
		{`{"kind":"vital","loinc":"59408-5","value":86}`, ""},
		{`{"kind":"note","note_type":"progress note"}`, "text"},
		{`{"kind":"documented_dx","author_role":"physician"}`, "code"},
		{`{"kind":"xray","name":"Chest"}`, "kind"},
		{`{"kind":"med","name":"Furosemide","route":"IV"}`, ""},
	}
	id, _ := ts.do("POST", "/v1/encounters", coder, encounterBody("EV-1")).expect(t, 201).json(t)["id"].(string)
	for i, it := range items {
		create := ts.do("POST", "/v1/encounters", coder, fmt.Sprintf(`{"account":"EV-C%d","evidence":[%s]}`, i, it.item))
		app := ts.edit("POST", "/v1/encounters/"+id+"/evidence", cdi, `{"evidence":[`+it.item+`]}`).expect(t, 200)
		res := decode[api.EvidenceImport](t, app)
		if it.field == "" {
			create.expect(t, 201)
			if res.Loaded != 1 || len(res.Errors) != 0 {
				t.Errorf("%s: /evidence loaded %d, errors %+v", it.item, res.Loaded, res.Errors)
			}
			continue
		}
		p := create.expect(t, 422).problem(t)
		if got := errorFields(p); !slices.Equal(got, []string{"evidence[0]." + it.field}) {
			t.Errorf("%s: create errors %+v", it.item, p.Errors)
		}
		if res.Loaded != 0 || len(res.Errors) != 1 || !strings.HasPrefix(res.Errors[0].Message, it.field+": "+p.Errors[0].Message) {
			t.Errorf("%s: /evidence loaded %d, errors %+v; create said %q", it.item, res.Loaded, res.Errors, p.Errors[0].Message)
		}
	}
}

// TestFacilityTimeZone: timestamps without a zone are read in the facility's zone (an admin
// setting), else in the server's default; messages name the problem in words.
func TestFacilityTimeZone(t *testing.T) {
	ts := newTestServer(t)
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	ts.do("PUT", "/v1/facilities/MAIN", coder, `{"time_zone":"America/Chicago"}`).expect(t, 403)
	p := ts.do("PUT", "/v1/facilities/MAIN", admin, `{"time_zone":"Central"}`).expect(t, 422).problem(t)
	if len(p.Errors) != 1 || p.Errors[0].Field != "time_zone" || !strings.Contains(p.Errors[0].Message, "America/Chicago") {
		t.Errorf("unknown zone: %+v", p)
	}
	f := ts.do("PUT", "/v1/facilities/MAIN", admin, `{"time_zone":"America/Chicago"}`).expect(t, 200).json(t)
	if f["code"] != "MAIN" || f["time_zone"] != "America/Chicago" || f["updated_by"] != "user-admin" {
		t.Errorf("facility %v", f)
	}
	l := ts.do("GET", "/v1/facilities", coder, nil).expect(t, 200).json(t)
	if items, _ := l["items"].([]any); len(items) != 1 || l["default_time_zone"] != time.Local.String() {
		t.Errorf("list %v", l)
	}
	// Changing existing settings needs their ETag.
	ts.do("PUT", "/v1/facilities/MAIN", admin, `{"time_zone":"America/Denver"}`).expect(t, 428).problem(t)
	ts.do("PUT", "/v1/facilities/MAIN", admin, `{"time_zone":"America/Denver"}`, "If-Match", `"7"`).expect(t, 412).problem(t)
	r := ts.do("PUT", "/v1/facilities/MAIN", admin, `{"time_zone":"America/Denver"}`, "If-Match", `"1"`).expect(t, 200)
	if r.Header.Get("ETag") != `"2"` {
		t.Errorf("ETag after the change %q", r.Header.Get("ETag"))
	}
	ts.do("PUT", "/v1/facilities/MAIN", admin, `{"time_zone":"America/Chicago"}`, "If-Match", `"1"`).expect(t, 412)
	ts.do("PUT", "/v1/facilities/MAIN", admin, `{"time_zone":"America/Chicago"}`, "If-Match", `"2"`).expect(t, 200)
	ts.do("PUT", "/v1/facilities/NEW", admin, `{"time_zone":"America/Chicago"}`, "If-Match", `"1"`).expect(t, 412) // none to change

	evTime := func(e map[string]any, i int) time.Time {
		t.Helper()
		s, _ := path(e["evidence"].([]any)[i].(map[string]any), "time").(string)
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("stored time %q: %v", s, err)
		}
		return v
	}
	local := func(loc *time.Location, s string) time.Time {
		v, _ := time.ParseInLocation("2006-01-02T15:04:05", s, loc)
		return v
	}
	body := func(acct, facility string) string {
		return `{"account":"` + acct + `","facility":"` + facility + `","evidence":[{"kind":"lab","name":"Creatinine","value":1.6,"time":"2026-05-01T08:00:00"},` +
			`{"kind":"lab","name":"Creatinine","value":1.5,"time":"2026-05-02T08:00:00Z"}]}`
	}
	e := ts.do("POST", "/v1/encounters", coder, body("TZ-1", "MAIN")).expect(t, 201).json(t)
	if got := evTime(e, 0); !got.Equal(local(chicago, "2026-05-01T08:00:00")) || !got.Equal(time.Date(2026, 5, 1, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("MAIN (Chicago, CDT): %v", got)
	}
	if got := evTime(e, 1); !got.Equal(time.Date(2026, 5, 2, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("an explicit zone is kept: %v", got)
	}
	e = ts.do("POST", "/v1/encounters", coder, body("TZ-2", "EAST")).expect(t, 201).json(t)
	if got := evTime(e, 0); !got.Equal(local(time.Local, "2026-05-01T08:00:00")) {
		t.Errorf("EAST (no setting: the server's zone): %v", got)
	}
	// Evidence import and PATCH read them in the encounter's facility zone too.
	id, _ := ts.do("POST", "/v1/encounters", coder, `{"account":"TZ-3","facility":"MAIN"}`).expect(t, 201).json(t)["id"].(string)
	ts.edit("POST", "/v1/encounters/"+id+"/evidence", cdi, `{"evidence":[{"kind":"vital","name":"SpO2","value":86,"time":"2026-01-15 08:00"}]}`).expect(t, 200)
	e = ts.do("GET", "/v1/encounters/"+id, cdi, nil).expect(t, 200).json(t)
	if got := evTime(e, 0); !got.Equal(time.Date(2026, 1, 15, 14, 0, 0, 0, time.UTC)) { // CST, UTC-6
		t.Errorf("/evidence at MAIN in January: %v", got)
	}
	e = ts.edit("PATCH", "/v1/encounters/"+id, cdi, `{"evidence":[{"kind":"vital","name":"SpO2","value":88,"time":"202601150900"}]}`).expect(t, 200).json(t)
	if got := evTime(e, 0); !got.Equal(time.Date(2026, 1, 15, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("PATCH at MAIN: %v", got)
	}
	p = ts.do("POST", "/v1/encounters", coder, `{"account":"TZ-4","evidence":[{"kind":"lab","name":"K","time":"05/01/2026 8am"}]}`).expect(t, 422).problem(t)
	if len(p.Errors) != 1 || p.Errors[0].Field != "evidence[0].time" ||
		p.Errors[0].Message != `not a date and time: "05/01/2026 8am"; write it as 2026-05-01T08:00:00 (the facility's local time) or with its zone, 2026-05-01T08:00:00Z or 2026-05-01T08:00:00-05:00` {
		t.Errorf("unreadable time: %+v", p.Errors)
	}
}

// TestDeletedCodeHint: a PDX deleted since its code year groups to 999 as CMS does, and the
// answer names the code, the version, since when it is invalid and its possible replacements
// (derived from the code files by prefix) — in /v1/group and in an encounter's grouping.
func TestDeletedCodeHint(t *testing.T) {
	ts := newTestServer(t)
	m := ts.do("POST", "/v1/group", coder, `{"discharge_date":"2026-05-01","age":70,"sex":"F","discharge_status":1,"pdx":{"code":"T81.32XA","poa":"Y"},"sdx":[{"code":"E119","poa":"Y"}]}`).
		expect(t, 200).json(t)
	ws, _ := m["warnings"].([]any)
	if path(m, "final.drg") != 999.0 || len(ws) != 1 {
		t.Fatalf("DRG %v, warnings %v", path(m, "final.drg"), ws)
	}
	w := ws[0].(map[string]any)
	repl, _ := w["possible_replacements"].([]any)
	if w["kind"] != "invalid_code" || w["field"] != "pdx" || w["code"] != "T8132XA" || len(repl) != 4 || repl[0] != "T81320A" ||
		!strings.HasPrefix(w["message"].(string), "principal diagnosis T8132XA is not a valid ICD-10-CM code in grouper version 43.1 (FY2026): it was deleted on 2024-10-01") {
		t.Errorf("warning %v", w)
	}
	// The same claim discharged in FY2024 is valid: no warning.
	m = ts.do("POST", "/v1/group", coder, `{"discharge_date":"2024-05-01","age":70,"sex":"F","discharge_status":1,"pdx":{"code":"T8132XA","poa":"Y"}}`).expect(t, 200).json(t)
	if m["warnings"] != nil || path(m, "final.drg") == 999.0 {
		t.Errorf("FY2024: DRG %v, warnings %v", path(m, "final.drg"), m["warnings"])
	}
	id, _ := ts.do("POST", "/v1/encounters", coder, `{"account":"DEL-1","discharge_date":"2026-05-01","age":70,"sex":"M","discharge_status":1,"pdx":{"code":"I5023","poa":"Y"},"sdx":[{"code":"G35","poa":"Y"}]}`).
		expect(t, 201).json(t)["id"].(string)
	g := ts.edit("POST", "/v1/encounters/"+id+"/group", coder, nil).expect(t, 200).json(t)
	ws, _ = path(g, "result.warnings").([]any)
	if len(ws) != 1 || path(ws[0].(map[string]any), "field") != "sdx[0]" || !strings.Contains(path(ws[0].(map[string]any), "message").(string), "G35A, G35B0") {
		t.Errorf("encounter warnings %v", ws)
	}
}
