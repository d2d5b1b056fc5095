package api_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/audit"
	"github.com/msdrg-cdi/drg/store"
)

func decodeAs[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return v
}

func caseIDs(a store.CodingAudit) []string {
	var out []string
	for _, c := range a.Cases {
		out = append(out, c.EncounterID)
	}
	return out
}

// TestAuditRoundTrip: sample with a seed (exact sample), record the auditor's codes for each
// case, compare, report (numbers by hand), findings for the coders, CSV export, audit log.
func TestAuditRoundTrip(t *testing.T) {
	ts := newTestServer(t)
	ids := population(t, ts)
	name := map[string]string{}
	for acct, id := range ids {
		name[id] = acct
	}
	accts := func(encs []string) []string {
		out := make([]string, len(encs))
		for i, e := range encs {
			out[i] = name[e]
		}
		return out
	}

	// The Q2 population: E1, E2, E3 finalized by user-coder; E4, E5 by coder-b.
	spec := `{"name":"Q2 2026","size":10,"seed":7,"discharged_from":"2026-04-01","discharged_to":"2026-06-30"}`
	res := ts.do("POST", "/v1/audits", coder, spec).expect(t, 201)
	a := decodeAs[store.CodingAudit](t, res)
	if res.Header.Get("Location") != fmt.Sprintf("/v1/audits/%d", a.ID) || a.Population != 5 || a.Size != 5 || a.Spec.Seed != 7 ||
		a.Spec.CategoryBy != "mdc" || a.CreatedBy != "user-coder" {
		t.Fatalf("audit %+v", a)
	}
	// The exact sample: audit.Sample over the population with seed 7.
	pop := []audit.Candidate{
		{EncounterID: ids["E1"], Coder: "user-coder", DRG: 291}, {EncounterID: ids["E2"], Coder: "user-coder", DRG: 293},
		{EncounterID: ids["E3"], Coder: "user-coder", DRG: 193}, {EncounterID: ids["E4"], Coder: "coder-b", DRG: 470},
		{EncounterID: ids["E5"], Coder: "coder-b", DRG: 193}}
	var want []string
	for _, c := range audit.Sample(pop, audit.SampleSpec{Size: 10, Seed: 7}) {
		want = append(want, c.EncounterID)
	}
	if !reflect.DeepEqual(caseIDs(a), want) {
		t.Fatalf("sample %v, want %v", accts(caseIDs(a)), accts(want))
	}
	byAcct := map[string]store.AuditCase{}
	for i, c := range a.Cases {
		byAcct[name[c.EncounterID]] = c
		if c.Seq != i+1 || c.Status != store.CasePending || c.Version != 431 || c.WeightsYear != 2026 {
			t.Errorf("case %d: %+v", i, c)
		}
	}
	if e1 := byAcct["E1"]; e1.Coder != "user-coder" || e1.CoderCoding.DRG != 291 || e1.CoderCoding.Weight != 1.2838 || e1.Account != "E1" ||
		len(e1.CoderCoding.SDX) != 2 || len(e1.RiskFlags) != 1 || e1.RiskFlags[0].Kind != audit.RiskSingleCCMCC ||
		!strings.Contains(e1.RiskFlags[0].Reason, "without it the claim groups to DRG 293") {
		t.Errorf("E1 case %+v", e1)
	}
	if byAcct["E5"].Coder != "coder-b" || byAcct["E5"].CoderCoding.PDX.Code != "J189" || byAcct["E4"].CoderCoding.Procedures[0].Code != "0SR9019" {
		t.Errorf("coder codings %+v %+v", byAcct["E5"], byAcct["E4"])
	}

	// Same seed, smaller size: the first cases of the same draw.
	small := decodeAs[store.CodingAudit](t, ts.do("POST", "/v1/audits", admin, strings.Replace(spec, `"size":10`, `"size":2`, 1)).expect(t, 201))
	if !reflect.DeepEqual(caseIDs(small), want[:2]) || small.Population != 5 {
		t.Errorf("size 2: %v, want %v", accts(caseIDs(small)), accts(want[:2]))
	}
	// Targeting.
	for _, tc := range []struct {
		target string
		want   []string
	}{
		{`"drgs":[193]`, []string{"E3", "E5"}},
		{`"coders":["coder-b"]`, []string{"E4", "E5"}},
		{`"risk_flag":"single_cc_mcc"`, []string{"E1", "E3", "E5"}},
	} {
		body := strings.Replace(spec, `"seed":7`, `"seed":7,`+tc.target, 1)
		x := decodeAs[store.CodingAudit](t, ts.do("POST", "/v1/audits", coder, body).expect(t, 201))
		got := accts(caseIDs(x))
		slices.Sort(got)
		if !reflect.DeepEqual(got, tc.want) || x.Population != len(tc.want) {
			t.Errorf("%s: %v (population %d), want %v", tc.target, got, x.Population, tc.want)
		}
	}
	// A random seed is recorded.
	if x := decodeAs[store.CodingAudit](t, ts.do("POST", "/v1/audits", coder, `{"size":1}`).expect(t, 201)); x.Spec.Seed == 0 || x.Population != 9 || x.Size != 1 {
		t.Errorf("unseeded audit %+v", x)
	}
	ts.do("POST", "/v1/audits", finance, spec).expect(t, 403)
	ts.do("POST", "/v1/audits", cdi, spec).expect(t, 403)
	for _, bad := range []string{`{"size":0}`, `{"size":5,"risk_flag":"gossip"}`, `{"size":5,"discharged_from":"2026-06-30","discharged_to":"2026-04-01"}`,
		`{"size":5,"seed":-1}`, `{"size":5,"colour":"red"}`} {
		if r := ts.do("POST", "/v1/audits", coder, bad); r.StatusCode != 422 && r.StatusCode != 400 {
			t.Errorf("%s: status %d", bad, r.StatusCode)
		}
	}

	// Record the auditor's codes. An auditor may not audit their own coding.
	casePath := func(acct string) string { return fmt.Sprintf("/v1/audits/%d/cases/%s", a.ID, ids[acct]) }
	same := `{"pdx":{"code":"I50.23","poa":"Y"},"sdx":[{"code":"J9601","poa":"Y"},{"code":"E119","poa":"Y"}]}`
	p := ts.editCase(casePath("E1"), coder, same).expect(t, 403).problem(t)
	if !strings.Contains(p.Detail, "own coding") {
		t.Errorf("own case: %+v", p)
	}
	ts.editCase(casePath("E1"), cdi, same).expect(t, 403)
	ts.editCase(fmt.Sprintf("/v1/audits/%d/cases/%s", a.ID, ids["P1"]), coderB, same).expect(t, 404).problem(t)
	ts.editCase(casePath("E1"), coderB, `{"sdx":[]}`).expect(t, 422).problem(t)
	ts.editCase("/v1/audits/999/cases/"+ids["E1"], coderB, same).expect(t, 404)

	c1 := decodeAs[store.AuditCase](t, ts.editCase(casePath("E1"), coderB, same).expect(t, 200))
	// A case is changed with its ETag (row_version): none is 428, the one before this change 412.
	ts.do("PUT", casePath("E1"), coderB, same).expect(t, 428).problem(t)
	ts.do("PUT", casePath("E1"), coderB, same, "If-Match", `"1"`).expect(t, 412).problem(t)
	if c1.Status != store.CaseAudited || c1.Auditor != "coder-b" || c1.Comparison == nil || !c1.Comparison.DRGAgree || len(c1.Comparison.Findings) != 0 ||
		c1.Comparison.SDXBoth != 2 || c1.Comparison.POAAgree != 2 || c1.Category != "MDC 05" || c1.AuditedAt == nil {
		t.Errorf("E1 audited %+v %+v", c1, c1.Comparison)
	}
	// E2: the auditor finds N179 (CC) → 292; the coder under-coded by 0.849 − 0.566.
	c2 := decodeAs[store.AuditCase](t, ts.editCase(casePath("E2"), coderB, `{"pdx":{"code":"I5023","poa":"Y"},"sdx":[{"code":"N179","poa":"Y"}],"note":"AKI documented on day 2"}`).expect(t, 200))
	if c2.AuditorCoding.DRG != 292 || c2.Comparison.DRGAgree || !near(c2.Comparison.WeightDiff, -0.283) || c2.Comparison.SDXAuditorOnly != 1 || c2.Note == "" {
		t.Errorf("E2 audited %+v %+v", c2, c2.Comparison)
	}
	// E3: same codes, J9601 not present on admission.
	ts.editCase(casePath("E3"), coderB, `{"pdx":{"code":"J189","poa":"Y"},"sdx":[{"code":"J9601","poa":"Y"}]}`).expect(t, 200)
	c3 := decodeAs[store.AuditCase](t, ts.editCase(casePath("E3"), admin, `{"pdx":{"code":"J189","poa":"Y"},"sdx":[{"code":"J9601","poa":"N"}]}`).expect(t, 200))
	if c3.Auditor != "user-admin" || !c3.Comparison.DRGAgree || c3.Comparison.POACompared != 1 || c3.Comparison.POAAgree != 0 || c3.RowVersion != 3 {
		t.Errorf("E3 audited again %+v %+v", c3, c3.Comparison)
	}
	// E4 (coder-b's): the auditor adds E119, same DRG.
	ts.editCase(casePath("E4"), coderB, same).expect(t, 403)
	ts.editCase(casePath("E4"), coder, `{"pdx":{"code":"M1611","poa":"Y"},"sdx":[{"code":"E119","poa":"Y"}],"procedures":[{"code":"0SR9019"}]}`).expect(t, 200)
	// E5: sepsis is the principal diagnosis → 871; the coder under-coded by 1.9425 − 1.3144.
	c5 := decodeAs[store.AuditCase](t, ts.editCase(casePath("E5"), coder, `{"pdx":{"code":"A419","poa":"Y"},"sdx":[{"code":"J9601","poa":"Y"}]}`).expect(t, 200))
	if c5.AuditorCoding.DRG != 871 || c5.Category != "MDC 18" || c5.Comparison.PDXAgree || !near(c5.Comparison.WeightDiff, -0.6281) {
		t.Errorf("E5 audited %+v %+v", c5, c5.Comparison)
	}

	// The report, by hand: PDX 4/5; DRG 3/5 (E2, E5 differ); SDX both 4 (E1 2, E3 1, E5 1),
	// auditor only 2 (E2 N179, E4 E119), coder only 0; procedures 1/1; POA 3 of 4 (E3);
	// under-coded E2 −0.283 and E5 −0.6281.
	rep := decodeAs[api.AuditReport](t, ts.do("GET", fmt.Sprintf("/v1/audits/%d/report", a.ID), finance, nil).expect(t, 200))
	o := rep.Overall
	if rep.Size != 5 || rep.Audited != 5 || rep.Pending != 0 || rep.Benchmark != 0.95 || o.Cases != 5 || o.PDXAccuracy != 0.8 || o.DRGAccuracy != 0.6 ||
		!near(o.SDXRecall, 4.0/6) || o.SDXPrecision != 1 || o.ProcedureAgreement != 1 || o.POAAgreement != 0.75 || o.OverCoded != 0 || o.UnderCoded != 2 ||
		!near(o.WeightUnder, -0.9111) || o.WeightOver != 0 || !near(o.NetWeight, -0.9111) || o.MeetsBenchmark {
		t.Errorf("overall %+v", o)
	}
	if len(rep.ByCoder) != 2 {
		t.Fatalf("by coder %+v", rep.ByCoder)
	}
	b, u := rep.ByCoder[0], rep.ByCoder[1] // coder-b, user-coder
	if b.Key != "coder-b" || b.Cases != 2 || b.PDXAccuracy != 0.5 || b.DRGAccuracy != 0.5 || b.SDXRecall != 0.5 || b.POAAgreement != 1 || !near(b.WeightUnder, -0.6281) ||
		u.Key != "user-coder" || u.Cases != 3 || u.PDXAccuracy != 1 || !near(u.DRGAccuracy, 2.0/3) || u.SDXRecall != 0.75 || !near(u.POAAgreement, 2.0/3) || !near(u.WeightUnder, -0.283) {
		t.Errorf("by coder %+v", rep.ByCoder)
	}
	var cats []string
	for _, s := range rep.ByCategory {
		cats = append(cats, fmt.Sprintf("%s:%d:%.2f", s.Key, s.Cases, s.DRGAccuracy))
	}
	if !reflect.DeepEqual(cats, []string{"MDC 04:1:1.00", "MDC 05:2:0.50", "MDC 08:1:1.00", "MDC 18:1:0.00"}) {
		t.Errorf("by category %v", cats)
	}
	if len(rep.Cases) != 5 {
		t.Errorf("report cases %+v", rep.Cases)
	}
	res = ts.do("GET", fmt.Sprintf("/v1/audits/%d/report", a.ID), cdi, nil, "Accept", "text/csv").expect(t, 200)
	recs, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
	if err != nil || len(recs) != 1+1+2+4 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!reflect.DeepEqual(recs[3], []string{"coder", "user-coder", "3", "1.0000", "0.7500", "1.0000", "1.0000", "0.6667", "0.6667", "0", "1", "0.0000", "-0.2830", "-0.2830", "false"}) {
		t.Errorf("CSV %q (%v)", recs, err)
	}

	// Findings are routed back to the coders.
	f := decodeAs[struct {
		Coder string            `json:"coder"`
		Items []store.AuditCase `json:"items"`
	}](t, ts.do("GET", "/v1/audits/findings?coder=me", coder, nil).expect(t, 200))
	kinds := map[string][]string{}
	for _, it := range f.Items {
		for _, fd := range it.Comparison.Findings {
			kinds[name[it.EncounterID]] = append(kinds[name[it.EncounterID]], fd.Kind+" "+fd.Code)
		}
	}
	if f.Coder != "user-coder" || len(f.Items) != 3 || !reflect.DeepEqual(kinds, map[string][]string{"E2": {"sdx_missing N179", "drg "}, "E3": {"poa J9601"}}) {
		t.Errorf("user-coder findings %s: %v", f.Coder, kinds)
	}
	if f := decodeAs[struct{ Items []store.AuditCase }](t, ts.do("GET", "/v1/audits/findings", coderB, nil).expect(t, 200)); len(f.Items) != 2 {
		t.Errorf("coder-b findings %d", len(f.Items))
	}
	ts.do("GET", "/v1/audits/findings?coder=coder-b", coder, nil).expect(t, 403).problem(t)
	if f := decodeAs[struct{ Items []store.AuditCase }](t, ts.do("GET", "/v1/audits/findings?coder=coder-b", admin, nil).expect(t, 200)); len(f.Items) != 2 {
		t.Errorf("admin reading coder-b's findings: %d", len(f.Items))
	}
	ts.do("GET", "/v1/audits/findings", cdi, nil).expect(t, 403)
	ts.do("GET", "/v1/audits/findings", finance, nil).expect(t, 403)

	// Reading audits.
	list := decodeAs[struct{ Items []store.CodingAudit }](t, ts.do("GET", "/v1/audits", cdi, nil).expect(t, 200))
	if len(list.Items) != 6 || list.Items[len(list.Items)-1].ID != a.ID || list.Items[len(list.Items)-1].Audited != 5 {
		t.Errorf("audits %+v", list.Items)
	}
	if got := decodeAs[store.CodingAudit](t, ts.do("GET", fmt.Sprintf("/v1/audits/%d", a.ID), coder, nil).expect(t, 200)); got.Audited != 5 || len(got.Cases) != 5 {
		t.Errorf("audit read back %+v", got)
	}
	ts.do("GET", fmt.Sprintf("/v1/audits/%d", a.ID), finance, nil).expect(t, 403)
	ts.do("GET", "/v1/audits/nope", coder, nil).expect(t, 404)

	// Every change is in the audit log: 6 audits created, 6 case recordings (E3 twice).
	log := ts.do("GET", "/v1/audit?entity=coding_audit_case", admin, nil).expect(t, 200).json(t)
	rows, _ := log["items"].([]any)
	log = ts.do("GET", "/v1/audit?entity=coding_audit&action=create", admin, nil).expect(t, 200).json(t)
	created, _ := log["items"].([]any)
	if len(rows) != 6 || len(created) != 6 {
		t.Errorf("audit log: %d case rows, %d audits created", len(rows), len(created))
	}
}
