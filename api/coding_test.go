package api_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/api"
)

// validationFixtureEncounter returns the encounter of a fixtures/validation scenario.
func validationFixtureEncounter(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "fixtures", "validation", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Encounter map[string]any `json:"encounter"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	delete(f.Encounter, "id")
	return f.Encounter
}

type codingWorklist struct {
	Items      []api.CodingWorklistRow `json:"items"`
	Total      int                     `json:"total"`
	NextCursor string                  `json:"next_cursor"`
}

func kinds(items []api.CheckItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Kind+"@"+it.Field)
	}
	return out
}

// TestCodingWorklistAndFinalizeChecks: the coding worklist lists discharged encounters not
// final, oldest discharge first, with its filters; finalize-check names what blocks and what
// warns; finalize refuses a blocking item with 409 naming it unless overridden with a reason,
// which is audited.
func TestCodingWorklistAndFinalizeChecks(t *testing.T) {
	ts := newTestServer(t)
	create := func(body map[string]any) string {
		t.Helper()
		return ts.do("POST", "/v1/encounters", coder, body).expect(t, 201).json(t)["id"].(string)
	}
	// ARF with an open query (discharged 2026-05-08), unsupported J96.01 (2026-05-06), an
	// in-house stay and a final one: the worklist holds the first two, oldest discharge first.
	arfBody := cdiFixtureEncounter(t, "01_arf_hypoxic_positive")
	arfBody["discharge_date"], arfBody["discharge_status"] = "2026-05-08", 1
	arf := create(arfBody)
	valBody := validationFixtureEncounter(t, "02_arf_unsupported")
	valBody["discharge_date"], valBody["discharge_status"], valBody["service_line"], valBody["payer"] = "2026-05-06", 1, "PULMONARY", "AETNA"
	val := create(valBody)
	inHouse := cdiFixtureEncounter(t, "01_arf_hypoxic_positive")
	inHouse["account"] = "IN-HOUSE"
	create(inHouse)
	fin := create(map[string]any{"account": "FIN-1", "discharge_date": "2026-05-02", "age": 70, "sex": "F", "discharge_status": 1,
		"pdx": map[string]string{"code": "I10", "poa": "Y"}})
	ts.edit("POST", "/v1/encounters/"+fin+"/finalize", coder, nil).expect(t, 200)
	ts.edit("POST", "/v1/encounters/"+val+"/group", coder, nil).expect(t, 200)

	// The CDI specialist reviews the ARF stay and sends a query: it is open.
	opp := ""
	rev := ts.do("POST", "/v1/encounters/"+arf+"/review", cdi, nil).expect(t, 200).json(t)
	for _, o := range path(rev, "review.opportunities").([]any) {
		if id := o.(map[string]any)["id"].(string); id == "rule:acute_respiratory_failure" {
			opp = id
		}
	}
	d := ts.do("POST", "/v1/encounters/"+arf+"/queries", cdi, map[string]any{"opportunity_id": opp}).expect(t, 201).json(t)
	qid := path(d, "query.id").(string)
	ts.edit("POST", "/v1/queries/"+qid+"/send", cdi, nil).expect(t, 200)

	wl := decode[codingWorklist](t, ts.do("GET", "/v1/coding/worklist", coder, nil).expect(t, 200))
	if len(wl.Items) != 2 || wl.Items[0].EncounterID != val || wl.Items[1].EncounterID != arf || wl.Total != 2 {
		t.Fatalf("worklist %+v", wl)
	}
	if r := wl.Items[0]; r.WorkingDRG == nil || r.WorkingDRG.DRG != 189 && r.WorkingDRG.DRG != 193 || r.WorkingDRG.Weight == 0 || r.DaysSinceDischarge <= 0 {
		t.Errorf("row %+v (working DRG %+v)", r, r.WorkingDRG)
	}
	if wl.Items[1].OpenQueries != 1 {
		t.Errorf("open queries %+v", wl.Items[1])
	}
	filters := []struct {
		q    string
		want []string
	}{
		{"query_open=true", []string{arf}},
		{"query_open=false", []string{val}},
		{"payer=AETNA", []string{val}},
		{"service_line=PULMONARY", []string{val}},
		{"facility=MAIN", []string{val, arf}},
		{"discharged_from=2026-05-07", []string{arf}},
		{"limit=1", []string{val}},
	}
	for _, f := range filters {
		got := decode[codingWorklist](t, ts.do("GET", "/v1/coding/worklist?"+f.q, cdi, nil).expect(t, 200))
		var ids []string
		for _, it := range got.Items {
			ids = append(ids, it.EncounterID)
		}
		if !slices.Equal(ids, f.want) {
			t.Errorf("%s: %v, want %v", f.q, ids, f.want)
		}
	}
	ts.do("GET", "/v1/coding/worklist", finance, nil).expect(t, 403)
	for q, field := range map[string]string{"drg=abc": "drg", "query_open=maybe": "query_open", "discharged_from=yesterday": "discharged_from"} {
		if p := ts.do("GET", "/v1/coding/worklist?"+q, coder, nil).expect(t, 422).problem(t); !slices.Equal(errorFields(p), []string{field}) {
			t.Errorf("%s: fields %v, want %s", q, errorFields(p), field)
		}
	}

	// The open query blocks; the unsupported MCC only warns.
	chk := decode[api.FinalizeCheck](t, ts.do("GET", "/v1/encounters/"+arf+"/finalize-check", coder, nil).expect(t, 200))
	if chk.CanFinalize || !slices.Contains(kinds(chk.Blocking), "query_open@queries["+qid+"]") || chk.DRG == nil {
		t.Errorf("arf check: blocking %v warnings %v", kinds(chk.Blocking), kinds(chk.Warnings))
	}
	chk = decode[api.FinalizeCheck](t, ts.do("GET", "/v1/encounters/"+val+"/finalize-check", coder, nil).expect(t, 200))
	if !chk.CanFinalize || !slices.Contains(kinds(chk.Warnings), "unsupported_diagnosis@sdx[0]") {
		t.Errorf("val check: blocking %v warnings %v", kinds(chk.Blocking), kinds(chk.Warnings))
	}
	// An invalid principal diagnosis (a heading) is an MCE prepayment edit: blocking.
	p := ts.edit("POST", "/v1/encounters/"+val+"/finalize", coder, `{"pdx":{"code":"J18","poa":"Y"}}`).expect(t, 409).problem(t)
	if !slices.Contains(errorFields(p), "pdx") || !strings.Contains(p.Detail, "blocking") {
		t.Errorf("invalid PDX: %+v", p)
	}

	// Finalize refuses the open query, naming it; an override reason finalizes and is audited.
	p = ts.edit("POST", "/v1/encounters/"+arf+"/finalize", coder, nil).expect(t, 409).problem(t)
	if !slices.Equal(errorFields(p), []string{"queries[" + qid + "]"}) || !strings.Contains(p.Detail, "override_reason") {
		t.Errorf("409 %+v", p)
	}
	if e := ts.do("GET", "/v1/encounters/"+arf, coder, nil).expect(t, 200).json(t); e["status"] != "discharged" {
		t.Errorf("refused finalize changed the encounter: %v", e["status"])
	}
	ts.edit("POST", "/v1/encounters/"+arf+"/finalize", coder, map[string]any{"override_reason": "  "}).expect(t, 409)
	f := ts.edit("POST", "/v1/encounters/"+arf+"/finalize", coder, map[string]any{"override_reason": "provider left the organization; query closed by policy"}).expect(t, 200).json(t)
	if path(f, "encounter.status") != "final" {
		t.Errorf("override finalize %v", f["encounter"])
	}
	a := ts.do("GET", "/v1/audit?entity=encounter&entity_id="+arf+"&action=finalize_override", admin, nil).expect(t, 200).json(t)
	items, _ := a["items"].([]any)
	if len(items) != 1 || !strings.Contains(string(mustJSON(t, items[0])), "provider left the organization") || !strings.Contains(string(mustJSON(t, items[0])), qid) {
		t.Errorf("override audit %v", items)
	}
	// Warnings do not block.
	ts.edit("POST", "/v1/encounters/"+val+"/finalize", coder, nil).expect(t, 200)
	if wl := decode[codingWorklist](t, ts.do("GET", "/v1/coding/worklist", coder, nil).expect(t, 200)); len(wl.Items) != 0 {
		t.Errorf("final encounters stay on the worklist: %+v", wl.Items)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
