package api_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	cdipkg "github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/store"
)

// TestQueryCiteKinds: a query may cite imaging (an echo's ejection fraction, a chest X-ray),
// pathology and procedure reports, checked as labs are (source and time, Q1) and supporting
// an option as a clinical finding (Q5); an indicator whose kind is missing or unknown is a 422
// naming indicators[i].kind, never a self-citation (Q5) and never accepted — on the lint route
// and when a drafted query is edited (issue 21 items 1 and 2).
func TestQueryCiteKinds(t *testing.T) {
	ts := newTestServer(t)
	arf := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, cdiFixtureEncounter(t, "01_arf_hypoxic_positive")).expect(t, 201))
	ts.do("POST", "/v1/encounters/"+arf.ID+"/review", cdi, nil).expect(t, 200)
	d := decode[api.QueryDraft](t, ts.do("POST", "/v1/encounters/"+arf.ID+"/queries", cdi,
		map[string]any{"opportunity_id": "rule:acute_respiratory_failure"}).expect(t, 201))
	q := d.Query
	if !d.Lint.OK || len(q.Indicators) < 2 || len(q.Options) == 0 {
		t.Fatalf("draft %+v lint %+v", q.QueryContent, d.Lint)
	}
	at := time.Date(2026, 5, 4, 16, 0, 0, 0, time.UTC)
	reports := []cdipkg.Cite{
		{Indicator: "cxr", Kind: "imaging", Name: "Chest X-ray", Value: claim.Text("right lower lobe consolidation, no effusion"), Source: "Radiology report", Time: at},
		{Indicator: "echo", Kind: "imaging", Name: "Echocardiogram LVEF", Value: claim.Number(35), Unit: "%", Source: "Echo report", Time: at},
		{Indicator: "path", Kind: "pathology", Name: "Sputum cytology", Value: claim.Text("no malignant cells"), Source: "Pathology report", Time: at},
		{Indicator: "bronch", Kind: "procedure", Name: "Bronchoscopy", Value: claim.Text("purulent secretions, right lower lobe"), Source: "Procedure report", Time: at},
	}
	// content returns the draft's content with cites added and option 0 resting on the
	// added cites alone.
	content := func(add ...cdipkg.Cite) map[string]any {
		ind := append(slices.Clone(q.Indicators), add...)
		opts := slices.Clone(q.Options)
		var refs []int
		for i := range add {
			refs = append(refs, len(q.Indicators)+i)
		}
		opts[0].Indicators = refs
		return map[string]any{"format": q.Format, "purpose": q.Purpose, "reason": q.Reason, "reason_text": q.ReasonText,
			"intro": q.Intro, "indicators": ind, "question": q.Question, "options": opts, "channel": "written", "provider": q.Provider,
			"diagnoses": q.Diagnoses}
	}
	lint := func(body map[string]any) (int, api.LintAnswer, api.Problem) {
		t.Helper()
		r := ts.do("POST", "/v1/queries/lint", cdi, body)
		if r.StatusCode == 200 {
			return 200, decode[api.LintAnswer](t, r), api.Problem{}
		}
		return r.StatusCode, api.LintAnswer{}, r.problem(t)
	}

	// Each report kind is accepted, and supports an option by itself.
	for _, c := range reports {
		st, a, p := lint(content(c))
		if st != 200 || !a.OK {
			t.Errorf("%s cite: status %d, lint %+v %+v", c.Kind, st, a, p)
		}
	}
	// The same checks as labs: a report without its source or time is Q1.
	for _, c := range reports[:3] {
		c.Source, c.Time = "", time.Time{}
		if _, a, _ := lint(content(c)); a.OK || !slices.Equal(a.Rules, []string{"Q1"}) {
			t.Errorf("%s cite without source and time: %+v", c.Kind, a)
		}
	}

	// A missing or unknown kind: 422 naming the field, whatever else is cited.
	n := len(q.Indicators)
	for _, kind := range []string{"", "xray", "Imaging"} {
		c := reports[0]
		c.Kind = kind
		body := content(c)
		if kind == "" { // absent from the JSON, not an empty string
			b, _ := json.Marshal(body["indicators"])
			var raw []map[string]any
			json.Unmarshal(b, &raw)
			delete(raw[n], "kind")
			body["indicators"] = raw
		}
		st, a, p := lint(body)
		if st != 422 || len(p.Errors) != 1 || p.Errors[0].Field != "indicators["+string(rune('0'+n))+"].kind" ||
			!strings.Contains(p.Errors[0].Message, "imaging") || (kind == "" && !strings.HasPrefix(p.Errors[0].Message, "required")) {
			t.Errorf("kind %q: status %d, problem %+v, lint %+v", kind, st, p, a)
		}
		if strings.Contains(string(p.Detail), "Q5") || strings.Contains(string(p.Detail), "self-citation") {
			t.Errorf("kind %q reported as self-citation: %s", kind, p.Detail)
		}
	}

	// Editing the drafted query: an echo cited is stored and the query can be sent; an
	// indicator without a kind is refused naming it.
	bad := content(reports[1])
	b, _ := json.Marshal(bad["indicators"])
	var raw []map[string]any
	json.Unmarshal(b, &raw)
	delete(raw[n], "kind")
	p := ts.edit("PATCH", "/v1/queries/"+q.ID, cdi, map[string]any{"indicators": raw}).expect(t, 422).problem(t)
	if len(p.Errors) != 1 || p.Errors[0].Field != "indicators["+string(rune('0'+n))+"].kind" {
		t.Errorf("edit without a kind: %+v", p)
	}
	good := content(reports[1])
	ed := decode[api.QueryDraft](t, ts.edit("PATCH", "/v1/queries/"+q.ID, cdi, map[string]any{"indicators": good["indicators"], "options": good["options"]}).expect(t, 200))
	if !ed.Lint.OK || len(ed.Query.Indicators) != n+1 || ed.Query.Indicators[n].Kind != "imaging" {
		t.Fatalf("edit citing the echo: %+v", ed)
	}
	ts.edit("POST", "/v1/queries/"+q.ID+"/send", cdi, nil).expect(t, 200)
}
