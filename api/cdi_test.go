package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	cdipkg "github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/store"
)

// clock is a settable server clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newCDIServer is newTestServer with a settable clock and a CDI configuration.
func newCDIServer(t testing.TB, clk *clock, cfg api.CDIConfig) *testServer {
	t.Helper()
	return startServer(t, clk.Now, cfg)
}

// cdiFixtureEncounter returns the encounter of a fixtures/cdi scenario as a POST
// /v1/encounters body (its scenario id left out: the server assigns ids).
func cdiFixtureEncounter(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "fixtures", "cdi", name+".json"))
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

// decode decodes a reply body into v.
func decode[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %T: %v: %.300s", v, err, r.body)
	}
	return v
}

func findOpp(rev *cdipkg.Review, id string) *cdipkg.Opportunity {
	for i := range rev.Opportunities {
		if rev.Opportunities[i].ID == id {
			return &rev.Opportunities[i]
		}
	}
	return nil
}

// TestCDIFlow walks the CDI workflow over HTTP: an encounter with evidence, its review, the
// worklist order, a query drafted from the top opportunity, a leading edit refused by the
// linter with its rule id, sending, an edit after sending (a new version; the sent one
// untouched), the provider's answer adding the diagnosis (the working DRG changes and the
// query's effect records it), the encounter reviewed again, and the statistics.
func TestCDIFlow(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)}
	ts := newCDIServer(t, clk, api.CDIConfig{})

	arf := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, cdiFixtureEncounter(t, "01_arf_hypoxic_positive")).expect(t, 201))
	zero := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, cdiFixtureEncounter(t, "48_mcc_already_present_zero_impact")).expect(t, 201))
	never := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, cdiFixtureEncounter(t, "06_arf_clinical_validation")).expect(t, 201))

	// Review: the opportunity with its impact, the validation and risk flags; stored.
	ts.do("GET", "/v1/encounters/"+arf.ID+"/review", cdi, nil).expect(t, 404).problem(t)
	rv := decode[api.CDIReview](t, ts.do("POST", "/v1/encounters/"+arf.ID+"/review", cdi, nil).expect(t, 200))
	opp := findOpp(rv.Review, "rule:acute_respiratory_failure")
	if opp == nil || opp.Impact.DRGBefore != 195 || opp.Impact.DRGAfter != 193 || rv.Review.Working.DRG != 195 {
		t.Fatalf("review: working %+v, opportunity %+v", rv.Review.Working, opp)
	}
	if rv.Validation == nil || rv.RiskFlags == nil || rv.Stale || rv.EncounterRowVersion != arf.RowVersion {
		t.Errorf("review record: %+v", rv)
	}
	ts.do("POST", "/v1/encounters/"+zero.ID+"/review", cdi, nil).expect(t, 200)
	got := decode[api.CDIReview](t, ts.do("GET", "/v1/encounters/"+arf.ID+"/review", coder, nil).expect(t, 200))
	if got.Stale || findOpp(got.Review, opp.ID) == nil {
		t.Errorf("stored review: stale %v", got.Stale)
	}

	// Worklist: the ARF encounter first (impact), the zero-impact one next, the unreviewed last.
	type page struct {
		Items      []api.WorklistRow `json:"items"`
		NextCursor string            `json:"next_cursor"`
	}
	wl := decode[page](t, ts.do("GET", "/v1/worklist", cdi, nil).expect(t, 200))
	var order []string
	for _, r := range wl.Items {
		order = append(order, r.EncounterID)
	}
	if !slices.Equal(order, []string{arf.ID, zero.ID, never.ID}) {
		t.Fatalf("worklist order %v, want %v", order, []string{arf.ID, zero.ID, never.ID})
	}
	top := wl.Items[0]
	if top.WorkingDRG != 195 || top.Top == nil || top.Top.ID != opp.ID || top.Top.DRGAfter != 193 || top.Priority <= wl.Items[1].Priority ||
		top.Status != cdipkg.RowOpportunities || top.EncounterStatus != "open" || top.ReviewedAt == nil {
		t.Errorf("top row %+v", top)
	}
	if wl.Items[2].Status != "not_reviewed" || wl.Items[2].Priority != 0 {
		t.Errorf("unreviewed row %+v", wl.Items[2])
	}
	p1 := decode[page](t, ts.do("GET", "/v1/worklist?limit=2", cdi, nil).expect(t, 200))
	p2 := decode[page](t, ts.do("GET", "/v1/worklist?limit=2&cursor="+p1.NextCursor, cdi, nil).expect(t, 200))
	if len(p1.Items) != 2 || len(p2.Items) != 1 || p2.Items[0].EncounterID != never.ID || p2.NextCursor != "" {
		t.Errorf("paging: %d + %d items", len(p1.Items), len(p2.Items))
	}
	if f := decode[page](t, ts.do("GET", "/v1/worklist?condition=respiratory&unit=4W", cdi, nil).expect(t, 200)); len(f.Items) != 1 || f.Items[0].EncounterID != arf.ID {
		t.Errorf("condition filter: %+v", f.Items)
	}
	if p := ts.do("GET", "/v1/worklist?status=bogus", cdi, nil).expect(t, 422).problem(t); len(p.Errors) != 1 || p.Errors[0].Field != "status" {
		t.Errorf("a bad status names the query parameter: %+v", p.Errors)
	}
	for _, st := range []string{"escalated", "query_open", "answered", "opportunities", "no_opportunity", "not_reviewed"} { // the UI's filter values
		ts.do("GET", "/v1/worklist?status="+st, cdi, nil).expect(t, 200)
	}
	ts.do("GET", "/v1/worklist?cursor=!!", cdi, nil).expect(t, 400).problem(t)

	// A query drafted from the opportunity passes the linter.
	ts.do("POST", "/v1/encounters/"+arf.ID+"/queries", cdi, map[string]any{"opportunity_id": "rule:nope"}).expect(t, 422).problem(t)
	d := decode[api.QueryDraft](t, ts.do("POST", "/v1/encounters/"+arf.ID+"/queries", cdi, map[string]any{"opportunity_id": opp.ID}).expect(t, 201))
	q := d.Query
	if !d.Lint.OK || q.State != cdipkg.StateDraft || q.Version != 1 || q.Provider == nil || q.Provider.ID != "P100" || q.Author.ID != "user-cdi" || len(q.Indicators) == 0 {
		t.Fatalf("draft %+v lint %+v", q, d.Lint)
	}
	ts.do("POST", "/v1/encounters/"+arf.ID+"/queries", cdi, map[string]any{"opportunity_id": opp.ID}).expect(t, 409).problem(t)
	if row := decode[page](t, ts.do("GET", "/v1/worklist", cdi, nil).expect(t, 200)).Items[0]; row.EncounterID == arf.ID && row.Top != nil && row.Top.ID == opp.ID {
		t.Errorf("a queried opportunity stays open on the worklist: %+v", row.Top)
	}

	// Live lint of a leading edit: Q8 (and Q3 for payment language).
	lint := decode[api.LintAnswer](t, ts.do("POST", "/v1/queries/lint", cdi, map[string]any{"query_id": q.ID,
		"format": q.Format, "purpose": q.Purpose, "reason": q.Reason, "reason_text": q.ReasonText, "indicators": q.Indicators,
		"options": q.Options, "channel": "written", "provider": q.Provider,
		"question": "Please document acute respiratory failure, which would raise the DRG."}).expect(t, 200))
	if lint.OK || !slices.Contains(lint.Rules, "Q8") || !slices.Contains(lint.Rules, "Q3") {
		t.Errorf("lint of a leading question: %+v", lint)
	}

	// A leading edit is stored as a draft but cannot be sent.
	good := q.Question
	ed := decode[api.QueryDraft](t, ts.edit("PATCH", "/v1/queries/"+q.ID, cdi, map[string]any{"question": "Please document acute respiratory failure."}).expect(t, 200))
	if ed.Lint.OK || ed.Query.Version != 1 || ed.Query.State != cdipkg.StateDraft {
		t.Errorf("edited draft %+v", ed)
	}
	r := ts.edit("POST", "/v1/queries/"+q.ID+"/send", cdi, nil).expect(t, 422)
	lp := decode[struct {
		Rules      []string           `json:"rules"`
		Violations []cdipkg.Violation `json:"violations"`
	}](t, r)
	r.problem(t)
	// "Please document acute respiratory failure." asks for documentation (Q8) and names the
	// new diagnosis in the question (Q7).
	if !slices.Equal(lp.Rules, []string{"Q7", "Q8"}) || len(lp.Violations) == 0 {
		t.Errorf("send refused with %+v", lp)
	}
	ts.edit("PATCH", "/v1/queries/"+q.ID, cdi, map[string]any{"question": good}).expect(t, 200)
	sent := decode[api.QueryView](t, ts.edit("POST", "/v1/queries/"+q.ID+"/send", cdi, nil).expect(t, 200))
	if sent.State != cdipkg.StateSent || sent.ContentHash == "" || sent.Version != 1 {
		t.Fatalf("sent %+v", sent)
	}
	ts.edit("POST", "/v1/queries/"+q.ID+"/send", cdi, nil).expect(t, 409).problem(t)

	// Sent queries are immutable: an edit makes version 2; version 1 keeps its content until
	// version 2 is sent, which closes it as superseded.
	v2 := decode[api.QueryDraft](t, ts.edit("PATCH", "/v1/queries/"+q.ID, cdi, map[string]any{"intro": sent.Intro + " (corrected)"}).expect(t, 200))
	if v2.Query.Version != 2 || v2.Query.State != cdipkg.StateDraft || v2.Query.Supersedes != q.ID+"@v1" || !v2.Lint.OK {
		t.Fatalf("version 2 %+v", v2)
	}
	ts.edit("POST", "/v1/queries/"+q.ID+"/send", cdi, nil).expect(t, 200)
	type detail struct {
		Query    api.QueryView   `json:"query"`
		Versions []api.QueryView `json:"versions"`
		History  []cdipkg.Query  `json:"history"`
	}
	det := decode[detail](t, ts.do("GET", "/v1/queries/"+q.ID+"?history=true", coder, nil).expect(t, 200))
	if len(det.Versions) != 2 || det.Versions[0].State != cdipkg.StateClosed || det.Versions[0].ContentHash != sent.ContentHash ||
		det.Versions[0].Intro != sent.Intro || det.Query.Version != 2 || det.Query.State != cdipkg.StateSent || len(det.History) < 6 {
		t.Fatalf("versions %+v", det.Versions)
	}

	// The provider answers (recorded by CDI staff) choosing the hypoxic respiratory failure:
	// J96.01 joins the working codes from the query, the encounter regroups to 193, and the
	// query closes with the DRG change attributed to it.
	opt := slices.IndexFunc(det.Query.Options, func(o cdipkg.Option) bool { return slices.Contains(o.Codes, "J9601") })
	if opt < 0 {
		t.Fatalf("no J96.01 option in %+v", det.Query.Options)
	}
	clk.Add(5 * time.Hour)
	ts.edit("POST", "/v1/queries/"+q.ID+"/answer", coder, map[string]any{"outcome": "agree", "option": opt}).expect(t, 403).problem(t)
	ans := decode[api.QueryAnswerResult](t, ts.edit("POST", "/v1/queries/"+q.ID+"/answer", cdi, map[string]any{"outcome": "agree", "option": opt,
		"text": "Acute hypoxic respiratory failure, on BiPAP."}).expect(t, 200))
	if ans.Query.State != cdipkg.StateClosed || ans.Effect == nil || ans.Effect.DRGBefore != 195 || ans.Effect.DRGAfter != 193 ||
		!slices.Contains(ans.Effect.CodesAdded, "J9601") || ans.Effect.WeightDelta <= 0 || ans.Query.Answer.AuthenticatedBy != "P100" {
		t.Fatalf("answer: %+v effect %+v", ans.Query, ans.Effect)
	}
	enc := decode[store.Encounter](t, ts.do("GET", "/v1/encounters/"+arf.ID, coder, nil).expect(t, 200))
	if enc.WorkingDRG == nil || enc.WorkingDRG.DRG != 193 || len(enc.SDX) != 1 || enc.SDX[0].Code != "J9601" || enc.SDX[0].Source != store.SourceQuery {
		t.Fatalf("encounter after the answer: %+v %+v", enc.WorkingDRG, enc.SDX)
	}
	if enc.BaselineDRG == nil || enc.BaselineDRG.DRG != 195 {
		t.Errorf("baseline DRG %+v, want 195: the codes before the first query answer", enc.BaselineDRG)
	}
	after := decode[api.CDIReview](t, ts.do("GET", "/v1/encounters/"+arf.ID+"/review", cdi, nil).expect(t, 200))
	if after.Stale || after.Review.Working.DRG != 193 || findOpp(after.Review, opp.ID) != nil {
		t.Errorf("review after the answer: stale %v, DRG %d", after.Stale, after.Review.Working.DRG)
	}
	ts.edit("POST", "/v1/queries/"+q.ID+"/answer", cdi, map[string]any{"outcome": "agree"}).expect(t, 409).problem(t)

	// Lists and statistics.
	type qpage struct {
		Items []api.QueryView `json:"items"`
	}
	if l := decode[qpage](t, ts.do("GET", "/v1/queries?encounter="+arf.ID+"&status=closed", cdi, nil).expect(t, 200)); len(l.Items) != 1 {
		t.Errorf("closed queries of the encounter: %d", len(l.Items))
	}
	if l := decode[qpage](t, ts.do("GET", "/v1/queries?status=open", cdi, nil).expect(t, 200)); len(l.Items) != 0 {
		t.Errorf("open queries: %d", len(l.Items))
	}
	for by, key := range map[string]string{"provider": "P100", "specialist": "user-cdi"} {
		st := decode[api.QueryStats](t, ts.do("GET", "/v1/queries/stats?by="+by, cdi, nil).expect(t, 200))
		if len(st.Items) != 1 || st.Items[0].Key != key || st.Items[0].Sent != 1 || st.Items[0].ResponseRate != 1 ||
			st.Items[0].AgreementRate != 1 || st.Items[0].MedianResponseHours != 5 {
			t.Errorf("stats by %s: %+v", by, st.Items)
		}
	}
	ts.do("GET", "/v1/queries/stats?by=payer", cdi, nil).expect(t, 422)

	// Everything is in the audit log.
	type apage struct {
		Items []store.AuditEntry `json:"items"`
	}
	al := decode[apage](t, ts.do("GET", "/v1/audit?entity=cdi_query&entity_id="+q.ID, admin, nil).expect(t, 200))
	var actions []string
	for _, e := range al.Items {
		actions = append(actions, e.Action)
	}
	want := []string{"create", "edit", "edit", "send", "new_version", "send", "close", "answer", "close"}
	if !slices.Equal(actions, want) {
		t.Errorf("query audit %v, want %v", actions, want)
	}
	if al := decode[apage](t, ts.do("GET", "/v1/audit?entity=encounter&entity_id="+arf.ID+"&action=query_answer", admin, nil).expect(t, 200)); len(al.Items) != 1 {
		t.Errorf("encounter change by the answer not audited: %d rows", len(al.Items))
	}
	if strings.Contains(ts.logs.String(), `"level":"ERROR"`) {
		t.Errorf("errors logged:\n%s", ts.logs.String())
	}
}

// TestSentQueryImmutable: the store refuses a record of a sent version whose content differs
// from the frozen one, and the database refuses to update or delete query records.
func TestSentQueryImmutable(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)}
	ts := newCDIServer(t, clk, api.CDIConfig{})
	e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, cdiFixtureEncounter(t, "01_arf_hypoxic_positive")).expect(t, 201))
	ts.do("POST", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200)
	d := decode[api.QueryDraft](t, ts.do("POST", "/v1/encounters/"+e.ID+"/queries", admin, map[string]any{"opportunity_id": "rule:acute_respiratory_failure", "format": "open_ended"}).expect(t, 201))
	if d.Query.Format != cdipkg.FormatOpenEnded || !d.Lint.OK || len(d.Query.Options) != 0 {
		t.Fatalf("open-ended draft %+v %+v", d.Query, d.Lint)
	}
	sent := decode[api.QueryView](t, ts.edit("POST", "/v1/queries/"+d.Query.ID+"/send", cdi, nil).expect(t, 200))
	ctx := context.Background()
	actor := store.Actor{Name: "test"}
	tampered := sent.Query
	tampered.Question = "Changed after sending?"
	tampered.Audit = append(slices.Clone(tampered.Audit), cdipkg.AuditEvent{At: clk.Now(), Actor: "x", Action: "edited", Version: 1})
	err := ts.st.Tx(ctx, func(tx *store.Tx) error { return tx.AppendQuery(actor, &tampered, "edit") })
	if !errors.Is(err, store.ErrImmutable) {
		t.Errorf("changed content of a sent version: %v", err)
	}
	tampered.ContentHash = tampered.QueryContent.Hash() // even with a matching new hash
	err = ts.st.Tx(ctx, func(tx *store.Tx) error { return tx.AppendQuery(actor, &tampered, "edit") })
	if !errors.Is(err, store.ErrImmutable) {
		t.Errorf("re-hashed content of a sent version: %v", err)
	}
	stale := sent.Query // a step that is not after the stored one (a concurrent change)
	err = ts.st.Tx(ctx, func(tx *store.Tx) error { return tx.AppendQuery(actor, &stale, "send") })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("repeated step: %v", err)
	}
	for _, sql := range []string{"UPDATE cdi_query_records SET doc = '{}'", "DELETE FROM cdi_query_records"} {
		if err := ts.st.DB().Exec(sql).Error; err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", sql, err)
		}
	}
	vs, err := ts.st.QueryVersions(ctx, d.Query.ID)
	if err != nil || len(vs) != 1 || vs[0].Question != sent.Question || vs[0].State != cdipkg.StateSent {
		t.Errorf("stored query changed: %v %+v", err, vs)
	}
}

// TestQueryEscalation: a sent query unanswered for longer than the policy is overdue; the
// escalation action escalates it once, and it can still be answered.
func TestQueryEscalation(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)}
	ts := newCDIServer(t, clk, api.CDIConfig{EscalationHours: 24, EscalateTo: "Dr. Advisor"})
	e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, cdiFixtureEncounter(t, "07_sepsis3_positive_no_shock_without_pressor")).expect(t, 201))
	rv := decode[api.CDIReview](t, ts.do("POST", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200))
	if findOpp(rv.Review, "rule:sepsis_sofa") == nil {
		t.Fatalf("no sepsis opportunity: %d opportunities", len(rv.Review.Opportunities))
	}
	d := decode[api.QueryDraft](t, ts.do("POST", "/v1/encounters/"+e.ID+"/queries", cdi, map[string]any{"opportunity_id": "rule:sepsis_sofa"}).expect(t, 201))
	ts.edit("POST", "/v1/queries/"+d.Query.ID+"/send", cdi, nil).expect(t, 200)
	type qpage struct {
		Items []api.QueryView `json:"items"`
	}
	run := decode[api.EscalationRun](t, ts.do("POST", "/v1/queries/escalate-overdue", cdi, nil).expect(t, 200))
	if len(run.Escalated) != 0 || run.Policy.Hours != 24 {
		t.Errorf("escalated too early: %+v", run)
	}
	clk.Add(25 * time.Hour)
	if l := decode[qpage](t, ts.do("GET", "/v1/queries?status=overdue", cdi, nil).expect(t, 200)); len(l.Items) != 1 || !l.Items[0].Overdue {
		t.Fatalf("overdue list %+v", l.Items)
	}
	run = decode[api.EscalationRun](t, ts.do("POST", "/v1/queries/escalate-overdue", admin, nil).expect(t, 200))
	if len(run.Escalated) != 1 || run.Escalated[0].State != cdipkg.StateEscalated || run.Escalated[0].Escalation.To != "Dr. Advisor" {
		t.Fatalf("escalation %+v", run)
	}
	if run := decode[api.EscalationRun](t, ts.do("POST", "/v1/queries/escalate-overdue", admin, nil).expect(t, 200)); len(run.Escalated) != 0 {
		t.Errorf("escalated twice")
	}
	type page struct {
		Items []api.WorklistRow `json:"items"`
	}
	if row := decode[page](t, ts.do("GET", "/v1/worklist?status=escalated", cdi, nil).expect(t, 200)); len(row.Items) != 1 || row.Items[0].EscalatedQueries != 1 {
		t.Errorf("worklist escalated rows %+v", row.Items)
	}
	// The provider disagrees: nothing changes in the codes, the effect says so.
	ans := decode[api.QueryAnswerResult](t, ts.edit("POST", "/v1/queries/"+d.Query.ID+"/answer", cdi, map[string]any{"outcome": "disagree", "text": "Not sepsis.", "authenticated_by": "P103"}).expect(t, 200))
	if ans.Query.State != cdipkg.StateClosed || ans.Effect == nil || len(ans.Effect.CodesAdded) != 0 || ans.Encounter != nil {
		t.Errorf("disagreement %+v %+v", ans.Query, ans.Effect)
	}
	st := decode[api.QueryStats](t, ts.do("GET", "/v1/queries/stats", cdi, nil).expect(t, 200))
	if len(st.Items) != 1 || st.Items[0].Escalated != 1 || st.Items[0].AgreementRate != 0 || st.Items[0].MedianResponseHours != 25 {
		t.Errorf("stats %+v", st.Items)
	}
}

// TestCDIRoles: CDI staff and admins work the worklist and queries; coders read reviews,
// validation and queries; finance reads none of it.
func TestCDIRoles(t *testing.T) {
	ts := newTestServer(t)
	e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", coder, cdiFixtureEncounter(t, "06_arf_clinical_validation")).expect(t, 201))
	base := "/v1/encounters/" + e.ID
	for _, c := range []struct {
		method, path string
		role         store.Role
		status       int
	}{
		{"POST", base + "/review", "", 401},
		{"POST", base + "/review", coder, 403},
		{"POST", base + "/review", finance, 403},
		{"POST", base + "/review", cdi, 200},
		{"GET", base + "/review", coder, 200},
		{"GET", base + "/review", finance, 403},
		{"GET", base + "/validation", coder, 200},
		{"GET", "/v1/worklist", coder, 403},
		{"GET", "/v1/worklist", admin, 200},
		{"GET", "/v1/queries", coder, 200},
		{"GET", "/v1/queries", finance, 403},
		{"GET", "/v1/queries/stats", coder, 403},
		{"POST", "/v1/queries/escalate-overdue", coder, 403},
		{"POST", "/v1/queries/lint", finance, 403},
	} {
		ts.do(c.method, c.path, c.role, nil).expect(t, c.status)
	}
}

// TestFHIRImport creates an encounter from the FHIR bundle fixture (with a malformed entry,
// an unsupported resource type and other unusable entries, each reported while the rest
// loads), appends evidence as FHIR and as the product's JSON with per-item errors, and reviews.
func TestFHIRImport(t *testing.T) {
	ts := newTestServer(t)
	b, err := os.ReadFile(filepath.Join("..", "fixtures", "cdi", "fhir_bundle_arf.json"))
	if err != nil {
		t.Fatal(err)
	}
	fhir := []string{"Content-Type", "application/fhir+json"}
	imp := decode[api.EvidenceImport](t, ts.do("POST", "/v1/encounters/fhir", cdi, b, fhir...).expect(t, 201))
	e := imp.Encounter
	if e.Account != "ACCT-7700" || e.Unit != "4W" || e.AttendingProvider == nil || e.AttendingProvider.ID != "p100" || imp.Loaded != 11 || len(e.Evidence) != 11 ||
		len(e.Procedures) != 1 || e.Procedures[0].Source != store.SourceImport {
		t.Errorf("imported encounter: %+v (loaded %d)", e, imp.Loaded)
	}
	byIndex := map[int]api.ItemError{}
	for _, x := range imp.Errors {
		byIndex[x.Index] = x
	}
	if x := byIndex[15]; x.ResourceType != "Flag" || !strings.Contains(x.Message, "unsupported resource type Flag") {
		t.Errorf("unknown resource: %+v", x)
	}
	if x := byIndex[19]; !strings.Contains(x.Message, "malformed resource") {
		t.Errorf("malformed resource: %+v", x)
	}
	if len(imp.Errors) != 8 {
		t.Errorf("%d errors: %+v", len(imp.Errors), imp.Errors)
	}
	ts.do("POST", "/v1/encounters/fhir", cdi, b, fhir...).expect(t, 409).problem(t) // same account
	ts.do("POST", "/v1/encounters/fhir", cdi, `{"resourceType":"Patient"}`, fhir...).expect(t, 422).problem(t)
	ts.do("POST", "/v1/encounters/fhir", cdi, `{"resourceType":"Bundle","entry":[]}`, fhir...).expect(t, 422).problem(t)
	ts.do("POST", "/v1/encounters/fhir", cdi, `{"resourceType":`, fhir...).expect(t, 400).problem(t)

	// Appending the same bundle again adds nothing (duplicates), the errors are reported again.
	app := decode[api.EvidenceImport](t, ts.edit("POST", "/v1/encounters/"+e.ID+"/evidence", cdi, b, fhir...).expect(t, 200))
	if app.Loaded != 0 || app.Duplicates != 11 || len(app.Errors) != 8 {
		t.Errorf("re-append: loaded %d, duplicates %d, %d errors", app.Loaded, app.Duplicates, len(app.Errors))
	}
	// Product JSON: one good item, one unknown kind, one malformed value, one note without text.
	body := `{"evidence":[{"kind":"lab","name":"Lactate","value":3.1,"unit":"mmol/L","time":"2026-05-05T06:00:00Z","source":"LAB"},
		{"kind":"xray","name":"Chest"},{"kind":"lab","name":"Sodium","value":{"a":1}},{"kind":"note","time":"2026-05-05T06:00:00Z"}]}`
	app = decode[api.EvidenceImport](t, ts.edit("POST", "/v1/encounters/"+e.ID+"/evidence", coder, body).expect(t, 200))
	var idx []int
	for _, x := range app.Errors {
		idx = append(idx, x.Index)
	}
	if app.Loaded != 1 || !slices.Equal(idx, []int{1, 2, 3}) || app.Encounter.RowVersion != 3 {
		t.Errorf("JSON append: loaded %d, errors %+v", app.Loaded, app.Errors)
	}
	ts.do("POST", "/v1/encounters/"+e.ID+"/evidence", coder, `{"evidence":[]}`, "If-Match", `"1"`).expect(t, 412)
	ts.edit("POST", "/v1/encounters/"+e.ID+"/evidence", coder, `{"items":[]}`).expect(t, 422)
	ts.edit("POST", "/v1/encounters/999/evidence", coder, `{"evidence":[]}`).expect(t, 404)

	// The imported encounter is reviewed like any other (no working principal diagnosis yet).
	rv := decode[api.CDIReview](t, ts.do("POST", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200))
	if o := findOpp(rv.Review, "rule:acute_respiratory_failure"); o == nil || !strings.Contains(o.Impact.NoImpact, "no working principal diagnosis") {
		t.Errorf("review of the imported encounter: %+v", rv.Review.Opportunities)
	}
}

// validationFixture is one hand-written scenario of fixtures/validation: an encounter whose
// coded diagnoses the clinical validation must classify, with the DRG without each code.
type validationFixture struct {
	Description string         `json:"description"`
	Encounter   map[string]any `json:"encounter"`
	Expect      struct {
		WorkingDRG int `json:"working_drg"`
		Findings   map[string]struct {
			Status     string `json:"status"`
			DRGWithout int    `json:"drg_without"`
			Depends    bool   `json:"depends"`
		} `json:"findings"`
	} `json:"expect"`
}

// TestClinicalValidationFixtures: supported and unsupported versions of six conditions, each
// classified exactly, with the DRG regrouped without the code by the real grouper; an
// unsupported diagnosis names its failing indicators and proposes a clinical validation query
// that passes the linter and does not ask to remove the diagnosis.
func TestClinicalValidationFixtures(t *testing.T) {
	ts := newTestServer(t)
	paths, err := filepath.Glob(filepath.Join("..", "fixtures", "validation", "*.json"))
	if err != nil || len(paths) < 12 {
		t.Fatalf("%d fixtures (%v)", len(paths), err)
	}
	conditions := map[string]map[string]bool{} // rule → statuses seen
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var f validationFixture
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, f.Encounter).expect(t, 201))
			rep := decode[api.ValidationReport](t, ts.do("GET", "/v1/encounters/"+e.ID+"/validation", coder, nil).expect(t, 200))
			var got []string
			for _, fd := range rep.Findings {
				got = append(got, fmt.Sprintf("%s:%s:%d:%v", fd.Code, fd.Status, fd.DRGWithout, fd.Depends))
			}
			var want []string
			for code, x := range f.Expect.Findings {
				want = append(want, fmt.Sprintf("%s:%s:%d:%v", code, x.Status, x.DRGWithout, x.Depends))
			}
			sort.Strings(got)
			sort.Strings(want)
			if rep.WorkingDRG != f.Expect.WorkingDRG || !slices.Equal(got, want) {
				t.Fatalf("working DRG %d (want %d)\n got %v\nwant %v", rep.WorkingDRG, f.Expect.WorkingDRG, got, want)
			}
			for _, fd := range rep.Findings {
				for _, r := range fd.Rules {
					if conditions[r] == nil {
						conditions[r] = map[string]bool{}
					}
					conditions[r][fd.Status] = true
				}
				if fd.Status != api.ValidationUnsupported {
					continue
				}
				if len(fd.Missing)+len(fd.Contradicting) == 0 || fd.OpportunityID == "" || fd.Query == nil {
					t.Errorf("%s: unsupported without indicators, opportunity or query: %+v", fd.Code, fd)
					continue
				}
				lint := decode[api.LintAnswer](t, ts.do("POST", "/v1/queries/lint", cdi, map[string]any{"encounter_id": e.ID,
					"format": fd.Query.Format, "purpose": fd.Query.Purpose, "reason": fd.Query.Reason, "reason_text": fd.Query.ReasonText,
					"intro": fd.Query.Intro, "indicators": fd.Query.Indicators, "question": fd.Query.Question, "options": fd.Query.Options,
					"channel": fd.Query.Channel, "provider": fd.Query.Provider}).expect(t, 200))
				if !lint.OK || fd.Query.Purpose != cdipkg.PurposeClinicalValidation {
					t.Errorf("%s: validation query %+v lint %+v", fd.Code, fd.Query, lint)
				}
				text := strings.ToLower(fd.Query.Text())
				for _, bad := range []string{"remove", "delete", "drg", "payment"} {
					if strings.Contains(text, bad) {
						t.Errorf("%s: the validation query says %q:\n%s", fd.Code, bad, text)
					}
				}
			}
		})
	}
	var rules []string
	for r, st := range conditions {
		if st[api.ValidationSupported] && st[api.ValidationUnsupported] {
			rules = append(rules, r)
		}
	}
	if len(rules) < 6 {
		t.Errorf("supported and unsupported versions of %d conditions (%v), want 6", len(rules), rules)
	}
}

// TestSingleCCMCCRiskOnWorklist: the DRG of an encounter that depends on one MCC is flagged
// on its review and worklist row, with the DRG regrouped without that code; the PDX family
// flag and the risk filter work through the same path.
func TestSingleCCMCCRiskOnWorklist(t *testing.T) {
	ts := newTestServer(t)
	mk := func(account, pdx string, sdx ...string) string {
		var codes []map[string]string
		for _, c := range sdx {
			codes = append(codes, map[string]string{"code": c, "poa": "Y"})
		}
		body := map[string]any{"account": account, "admit_date": "2026-04-27", "discharge_date": "2026-05-01", "age": 70, "sex": "M",
			"discharge_status": 1, "pdx": map[string]string{"code": pdx, "poa": "Y"}, "sdx": codes}
		e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", coder, body).expect(t, 201))
		ts.do("POST", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200)
		return e.ID
	}
	one := mk("RISK-1", "I5023", "J9601", "E119")
	two := mk("RISK-2", "I5023", "J9601", "J9602", "E119")
	sep := mk("RISK-3", "A419", "J9601")
	type page struct {
		Items []api.WorklistRow `json:"items"`
	}
	wl := decode[page](t, ts.do("GET", "/v1/worklist", cdi, nil).expect(t, 200))
	flags := map[string][]string{}
	for _, r := range wl.Items {
		for _, f := range r.RiskFlags {
			flags[r.EncounterID] = append(flags[r.EncounterID], fmt.Sprintf("%s:%s:%d", f.Kind, strings.Join(f.Codes, ","), f.DRGWithout))
			if f.Reason == "" {
				t.Errorf("flag %s without a reason", f.Kind)
			}
		}
		if r.EncounterStatus != "discharged" {
			t.Errorf("row status %s", r.EncounterStatus)
		}
	}
	for id, want := range map[string][]string{one: {"single_cc_mcc:J9601:293"}, two: nil, sep: {"single_cc_mcc:J9601:872", "audited_pdx:A419:0"}} {
		if !slices.Equal(flags[id], want) {
			t.Errorf("flags %v, want %v", flags[id], want)
		}
	}
	only := decode[page](t, ts.do("GET", "/v1/worklist?risk=single_cc_mcc", cdi, nil).expect(t, 200))
	var ids []string
	for _, r := range only.Items {
		ids = append(ids, r.EncounterID)
	}
	slices.Sort(ids)
	want := []string{one, sep}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("risk filter %v, want %v", ids, want)
	}
	rv := decode[api.CDIReview](t, ts.do("GET", "/v1/encounters/"+one+"/review", coder, nil).expect(t, 200))
	if len(rv.RiskFlags) != 1 || rv.RiskFlags[0].WeightWithout == 0 {
		t.Errorf("review flags %+v", rv.RiskFlags)
	}
	// The coder changes the codes: the review is stale until the next review.
	ts.edit("PATCH", "/v1/encounters/"+one, coder, `{"sdx":[{"code":"J9601","poa":"Y"}]}`).expect(t, 200)
	if rv := decode[api.CDIReview](t, ts.do("GET", "/v1/encounters/"+one+"/review", coder, nil).expect(t, 200)); !rv.Stale {
		t.Error("review not stale after a change")
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestCDIBadRequestsAreNever5xx sends malformed and randomly mutated bodies to every CDI
// endpoint that takes one: the answer is a 4xx problem or a 2xx, never a 5xx.
func TestCDIBadRequestsAreNever5xx(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)}
	ts := newCDIServer(t, clk, api.CDIConfig{})
	e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, cdiFixtureEncounter(t, "01_arf_hypoxic_positive")).expect(t, 201))
	ts.do("POST", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200)
	d := decode[api.QueryDraft](t, ts.do("POST", "/v1/encounters/"+e.ID+"/queries", cdi, map[string]any{"opportunity_id": "rule:acute_respiratory_failure"}).expect(t, 201))
	qid := d.Query.ID
	bundle, err := os.ReadFile(filepath.Join("..", "fixtures", "cdi", "fhir_bundle_arf.json"))
	if err != nil {
		t.Fatal(err)
	}
	content, _ := json.Marshal(d.Query.QueryContent)
	targets := []struct {
		method, path, valid string
		fhir                bool
	}{
		{"POST", "/v1/encounters/fhir", string(bundle), true},
		{"POST", "/v1/encounters/" + e.ID + "/evidence", string(bundle), true},
		{"POST", "/v1/encounters/" + e.ID + "/evidence", `{"evidence":[{"kind":"lab","name":"Sodium","value":128,"unit":"mmol/L","time":"2026-05-05T06:00:00Z"}]}`, false},
		{"POST", "/v1/encounters/" + e.ID + "/queries", `{"opportunity_id":"rule:acute_respiratory_failure","format":"open_ended"}`, false},
		{"POST", "/v1/queries/lint", string(content), false},
		{"PATCH", "/v1/queries/" + qid, `{"question":"Based on your clinical judgment, what condition is being treated?","options":[{"text":"x","kind":"diagnosis","indicators":[99]}]}`, false},
		{"POST", "/v1/queries/" + qid + "/send", `{"verbal":{"conducted_by":"a","conducted_with":"b","at":"2026-05-06T12:00:00Z"}}`, false},
		{"POST", "/v1/queries/" + qid + "/answer", `{"outcome":"other","option":1,"codes":["J96.01"],"poa":"Y","close":false}`, false},
		{"POST", "/v1/queries/" + qid + "/escalate", `{"reason":"conflicting answer","to":"advisor"}`, false},
		{"POST", "/v1/queries/" + qid + "/close", `{"reason":"withdrawn"}`, false},
	}
	fixed := []string{"", "null", "[]", "{}", `"x"`, "42", "{{{{", "\x00\xff\xfe", strings.Repeat("[", 100000),
		`{"evidence":{"kind":"lab"}}`, `{"evidence":[null,1,"x",[]]}`, `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","valueQuantity":{"value":"x"}}}]}`,
		`{"option":-1,"outcome":"agree"}`, `{"option":1e400}`, `{"codes":["` + strings.Repeat("A", 5000) + `"]}`, `{"indicators":[{"time":"yesterday"}]}`}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tg := range targets {
		bodies := append([]string(nil), fixed...)
		for range 40 {
			b := []byte(tg.valid)
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
			bodies = append(bodies, string(b))
		}
		var headers []string
		if tg.fhir {
			headers = []string{"Content-Type", "application/fhir+json"}
		}
		for i, b := range bodies {
			r := ts.edit(tg.method, tg.path, admin, b, headers...)
			if r.StatusCode >= 500 {
				t.Errorf("%s %s body %d (%.80q): %d %s", tg.method, tg.path, i, b, r.StatusCode, r.body)
			}
			if r.StatusCode >= 400 && r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s body %d: %d without problem+json", tg.method, tg.path, i, r.StatusCode)
			}
		}
	}
	for _, q := range []string{"limit=-1", "limit=5000", "cursor=x", "status=open&risk=x", "encounter_status=final"} {
		if r := ts.do("GET", "/v1/worklist?"+q, cdi, nil); r.StatusCode < 400 || r.StatusCode >= 500 {
			t.Errorf("worklist?%s: %d", q, r.StatusCode)
		}
	}
	if strings.Contains(ts.logs.String(), `"level":"ERROR"`) {
		t.Errorf("errors logged:\n%s", ts.logs.String())
	}
}

// TestQueryFromStaleReview: evidence appended after the review makes it stale; drafting a
// query reviews the encounter again so that the draft cites the current record.
func TestQueryFromStaleReview(t *testing.T) {
	ts := newTestServer(t)
	e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, cdiFixtureEncounter(t, "01_arf_hypoxic_positive")).expect(t, 201))
	ts.do("POST", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200)
	ts.edit("POST", "/v1/encounters/"+e.ID+"/evidence", coder, `{"evidence":[{"kind":"vital","name":"SpO2","value":84,"unit":"%","context":"room air","time":"2026-05-05T02:00:00Z","source":"night flowsheet"}]}`).expect(t, 200)
	if rv := decode[api.CDIReview](t, ts.do("GET", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200)); !rv.Stale {
		t.Fatal("review not stale after new evidence")
	}
	d := decode[api.QueryDraft](t, ts.do("POST", "/v1/encounters/"+e.ID+"/queries", cdi, map[string]any{"opportunity_id": "rule:acute_respiratory_failure"}).expect(t, 201))
	cited := false
	for _, c := range d.Query.Indicators {
		cited = cited || c.Source == "night flowsheet"
	}
	if !cited {
		t.Errorf("the draft does not cite the new evidence: %+v", d.Query.Indicators)
	}
	if rv := decode[api.CDIReview](t, ts.do("GET", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200)); rv.Stale {
		t.Error("review still stale")
	}
}

// TestManualEscalation: a specialist escalates a sent query by hand (to the policy's physician
// advisor unless named); a draft cannot be escalated, a reason is required, and the query
// history records who escalated, to whom and why.
func TestManualEscalation(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)}
	ts := newCDIServer(t, clk, api.CDIConfig{EscalationHours: 24, EscalateTo: "Dr. Advisor"})
	e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, cdiFixtureEncounter(t, "07_sepsis3_positive_no_shock_without_pressor")).expect(t, 201))
	ts.do("POST", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200)
	d := decode[api.QueryDraft](t, ts.do("POST", "/v1/encounters/"+e.ID+"/queries", cdi, map[string]any{"opportunity_id": "rule:sepsis_sofa"}).expect(t, 201))
	path := "/v1/queries/" + d.Query.ID + "/escalate"

	if p := ts.edit("POST", path, cdi, map[string]any{"reason": "no answer"}).expect(t, 409).problem(t); !strings.Contains(p.Detail, "draft") {
		t.Errorf("escalating a draft: %+v", p)
	}
	ts.edit("POST", "/v1/queries/"+d.Query.ID+"/send", cdi, nil).expect(t, 200)
	if p := ts.edit("POST", path, cdi, map[string]any{}).expect(t, 422).problem(t); len(p.Errors) != 1 || p.Errors[0].Field != "reason" {
		t.Errorf("escalation without a reason: %+v", p)
	}
	ts.edit("POST", path, finance, map[string]any{"reason": "no answer"}).expect(t, 403)

	clk.Add(3 * time.Hour)
	q := decode[api.QueryView](t, ts.edit("POST", path, cdi, map[string]any{"reason": "provider on leave"}).expect(t, 200))
	if q.State != cdipkg.StateEscalated || q.Escalation == nil || q.Escalation.To != "Dr. Advisor" ||
		q.Escalation.Reason != "provider on leave" || !q.Escalation.At.Equal(clk.Now()) {
		t.Fatalf("escalated query %+v (escalation %+v)", q.Query, q.Escalation)
	}
	last := q.Audit[len(q.Audit)-1]
	if last.Action != "escalated" || !strings.Contains(last.Detail, "to Dr. Advisor: provider on leave") {
		t.Errorf("audit trail %+v", last)
	}
	// Escalated twice is a conflict; the answer still closes the escalated query.
	ts.edit("POST", path, cdi, map[string]any{"reason": "again", "to": "CMO"}).expect(t, 409)
	ans := decode[api.QueryAnswerResult](t, ts.edit("POST", "/v1/queries/"+d.Query.ID+"/answer", cdi, map[string]any{"outcome": "agree", "option": 0, "authenticated_by": "P103"}).expect(t, 200))
	if ans.Query.State != cdipkg.StateClosed {
		t.Errorf("answered escalated query in state %s", ans.Query.State)
	}
}

// TestWorklistOnlyEvidenceLedOpportunities: an encounter whose documented codes merely have
// more specific codes in the tables (type 2 diabetes without complications, thrombocytopenia
// unspecified) and no evidence of any is not on the worklist as work to do: its review holds
// coder hints, no opportunity; an encounter with evidence is listed, and every option of its
// opportunities cites clinical evidence of its own.
func TestWorklistOnlyEvidenceLedOpportunities(t *testing.T) {
	ts := newTestServer(t)
	ids := map[string]string{}
	for _, name := range []string{"63_diabetes_no_evidence_hint_only", "64_thrombocytopenia_hint_only", "57_heart_failure_ntprobnp_name"} {
		e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, cdiFixtureEncounter(t, name)).expect(t, 201))
		ids[name] = e.ID
		ts.do("POST", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200)
	}
	type page struct {
		Items []api.WorklistRow `json:"items"`
	}
	status := map[string]string{}
	for _, r := range decode[page](t, ts.do("GET", "/v1/worklist", cdi, nil).expect(t, 200)).Items {
		status[r.EncounterID] = r.Status
		if r.Status != "no_opportunity" && (r.Top == nil || r.Opportunities == 0) {
			t.Errorf("row %s listed with status %s and no opportunity", r.Account, r.Status)
		}
	}
	for name, want := range map[string]string{"63_diabetes_no_evidence_hint_only": "no_opportunity",
		"64_thrombocytopenia_hint_only": "no_opportunity", "57_heart_failure_ntprobnp_name": "opportunities"} {
		if got := status[ids[name]]; got != want {
			t.Errorf("%s: worklist status %q, want %q", name, got, want)
		}
	}
	rv := decode[api.CDIReview](t, ts.do("GET", "/v1/encounters/"+ids["64_thrombocytopenia_hint_only"]+"/review", cdi, nil).expect(t, 200))
	if len(rv.Review.Opportunities) != 0 || len(rv.Review.Hints) != 1 || rv.Review.Hints[0].Code != "D696" {
		t.Errorf("thrombocytopenia review: %d opportunities, hints %+v", len(rv.Review.Opportunities), rv.Review.Hints)
	}
	rv = decode[api.CDIReview](t, ts.do("GET", "/v1/encounters/"+ids["57_heart_failure_ntprobnp_name"]+"/review", cdi, nil).expect(t, 200))
	for _, o := range rv.Review.Opportunities {
		for _, op := range o.Query.Options {
			clinical := 0
			for _, i := range op.Indicators {
				if o.Indicators[i].Clinical() {
					clinical++
				}
			}
			if op.Kind == "diagnosis" && !op.Documented && clinical == 0 {
				t.Errorf("%s: option %q without clinical evidence", o.ID, op.Text)
			}
		}
	}
}
