package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/casemix"
	cdipkg "github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/store"
)

// coderB is the key of the second coder's token in testServer.tokens.
const coderB store.Role = "coder-b"

// population creates the report fixture through the API and returns the encounter ids by
// account. Weights are FY2026 Table 5 (291 1.2838, 292 0.8490, 293 0.5660, 193 1.3144,
// 195 0.6285, 470 1.9289, 871 1.9425, 872 1.0233, 251 1.4945, 318 2.4222).
//
//	acct  discharged  facility payer      service line  att  CDI review                     final (by)
//	E1    2026-04-10  MAIN     MEDICARE   CARDIOLOGY    P1   293 → +J9601 → 291             291 (user-coder)
//	E2    2026-05-05  MAIN     MEDICARE   CARDIOLOGY    P1   293 → +N179 → 292              293 without N179 (user-coder)
//	E3    2026-05-20  MAIN     COMMERCIAL PULMONARY     P2   —                              193 J189+J9601 (user-coder)
//	E4    2026-06-15  MAIN     MEDICARE   ORTHOPEDICS   P3   —                              470 hip (coder-b)
//	E5    2026-06-20  EAST     MEDICARE   MEDICINE      P2   872 A419 → +J9601 → 871        193: PDX J189 (coder-b)
//	E6    2026-07-10  MAIN     MEDICARE   CARDIOLOGY    P1   —                              318 (251 in v42.1) (coder-b)
//	P1    2026-02-10  MAIN     MEDICARE   CARDIOLOGY    P1   —                              292 (coder-b)
//	P2    2026-03-05  MAIN     COMMERCIAL PULMONARY     P2   —                              195 (user-coder)
//	F1    2025-06-15  MAIN     MEDICARE   CARDIOLOGY    P1   —                              293, FY2025 (user-coder)
//	N1    2026-05-25  MAIN     MEDICARE   CARDIOLOGY    P1   grouped, not final
//	O1    in house
func population(t *testing.T, ts *testServer) map[string]string {
	t.Helper()
	_, tok, err := ts.st.CreateUser(context.Background(), store.CLIActor, "coder-b", store.RoleCoder)
	if err != nil {
		t.Fatal(err)
	}
	ts.tokens[coderB] = tok
	ids := map[string]string{}
	create := func(acct, date, facility, payer, sl, prov, sex, codes string) string {
		body := fmt.Sprintf(`{"account":%q,"facility":%q,"payer":%q,"service_line":%q,"attending_provider":{"id":%q},"age":70,"sex":%q,"discharge_status":1%s%s}`,
			acct, facility, payer, sl, prov, sex, map[bool]string{true: "", false: `,"discharge_date":"` + date + `"`}[date == ""], codes)
		id, _ := ts.do("POST", "/v1/encounters", admin, body).expect(t, 201).json(t)["id"].(string)
		ids[acct] = id
		return id
	}
	group := func(id string, role store.Role) float64 {
		d, _ := path(ts.edit("POST", "/v1/encounters/"+id+"/group", role, nil).expect(t, 200).json(t), "encounter.working_drg.drg").(float64)
		return d
	}
	patch := func(id, body string) {
		ts.edit("PATCH", "/v1/encounters/"+id, cdi, body).expect(t, 200)
	}
	finalize := func(id string, role store.Role, body any) float64 {
		d, _ := path(ts.edit("POST", "/v1/encounters/"+id+"/finalize", role, body).expect(t, 200).json(t), "encounter.final_drg.drg").(float64)
		return d
	}
	want := func(acct string, got, drg float64) {
		if got != drg {
			t.Fatalf("%s: DRG %v, want %v", acct, got, drg)
		}
	}
	hf := `,"pdx":{"code":"I5023","poa":"Y"}`

	id := create("E1", "2026-04-10", "MAIN", "MEDICARE", "CARDIOLOGY", "P1", "M", hf+`,"sdx":[{"code":"E119","poa":"Y"}]`)
	want("E1 baseline", group(id, coder), 293)
	patch(id, `{"sdx":[{"code":"J9601","poa":"Y"},{"code":"E119","poa":"Y"}]}`)
	want("E1 working", group(id, cdi), 291)
	want("E1 final", finalize(id, coder, nil), 291)

	id = create("E2", "2026-05-05", "MAIN", "MEDICARE", "CARDIOLOGY", "P1", "M", hf)
	want("E2 baseline", group(id, coder), 293)
	patch(id, `{"sdx":[{"code":"N179","poa":"Y"}]}`)
	want("E2 working", group(id, cdi), 292)
	want("E2 final", finalize(id, coder, `{"sdx":[]}`), 293)

	id = create("E3", "2026-05-20", "MAIN", "COMMERCIAL", "PULMONARY", "P2", "M", `,"pdx":{"code":"J189","poa":"Y"},"sdx":[{"code":"J9601","poa":"Y"}]`)
	want("E3 final", finalize(id, coder, nil), 193)

	id = create("E4", "2026-06-15", "MAIN", "MEDICARE", "ORTHOPEDICS", "P3", "F", `,"pdx":{"code":"M1611","poa":"Y"},"procedures":[{"code":"0SR9019"}]`)
	want("E4 final", finalize(id, coderB, nil), 470)

	id = create("E5", "2026-06-20", "EAST", "MEDICARE", "MEDICINE", "P2", "M", `,"pdx":{"code":"A419","poa":"Y"}`)
	want("E5 baseline", group(id, coderB), 872)
	patch(id, `{"sdx":[{"code":"J9601","poa":"Y"}]}`)
	want("E5 working", group(id, cdi), 871)
	want("E5 final", finalize(id, coderB, `{"pdx":{"code":"J189","poa":"Y"}}`), 193)

	id = create("E6", "2026-07-10", "MAIN", "MEDICARE", "CARDIOLOGY", "P1", "M", `,"pdx":{"code":"I2510","poa":"Y"},"procedures":[{"code":"02C34Z6"}]`)
	want("E6 final", finalize(id, coderB, nil), 318)

	id = create("P1", "2026-02-10", "MAIN", "MEDICARE", "CARDIOLOGY", "P1", "M", hf+`,"sdx":[{"code":"N179","poa":"Y"}]`)
	want("P1 final", finalize(id, coderB, nil), 292)
	id = create("P2", "2026-03-05", "MAIN", "COMMERCIAL", "PULMONARY", "P2", "M", `,"pdx":{"code":"J189","poa":"Y"}`)
	want("P2 final", finalize(id, coder, nil), 195)
	id = create("F1", "2025-06-15", "MAIN", "MEDICARE", "CARDIOLOGY", "P1", "M", hf)
	want("F1 final", finalize(id, coder, nil), 293)
	id = create("N1", "2026-05-25", "MAIN", "MEDICARE", "CARDIOLOGY", "P1", "M", hf)
	want("N1 working", group(id, coder), 293)
	create("O1", "", "MAIN", "MEDICARE", "CARDIOLOGY", "P1", "M", hf)
	return ids
}

// near reports whether a and b agree to 4 decimals (the reports round to 4).
func near(a, b float64) bool { return math.Abs(a-b) < 0.00011 }

func reportOf[T any](t *testing.T, r reply) (T, []string, int) {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	var extra struct {
		Notes    []string `json:"notes"`
		NotFinal *int     `json:"not_final_coded"`
	}
	json.Unmarshal(r.body, &extra)
	if extra.Notes == nil || extra.NotFinal == nil {
		t.Errorf("report without notes or not_final_coded: %.300s", r.body)
		return v, nil, 0
	}
	return v, extra.Notes, *extra.NotFinal
}

func hasNote(notes []string, sub string) bool {
	return slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, sub) })
}

const q2 = "from=2026-04-01&to=2026-06-30"

// TestReports checks each report of the fixture population against hand counts.
func TestReports(t *testing.T) {
	ts := newTestServer(t)
	ids := population(t, ts)

	t.Run("cmi", func(t *testing.T) {
		r, notes, notFinal := reportOf[casemix.CMIReport](t, ts.do("GET", "/v1/reports/cmi?"+q2+"&by=payer,mdc&base_rate=6000", finance, nil).expect(t, 200))
		// Q2: 291 1.2838 + 293 0.5660 + 193 1.3144 ×2 + 470 1.9289 = 6.4075 over 5.
		o := r.Overall
		if o.Discharges != 5 || !near(o.TotalWeight, 6.4075) || !near(o.CMI, 1.2815) || o.Medical.Discharges != 4 || !near(o.Medical.TotalWeight, 4.4786) ||
			o.Surgical.Discharges != 1 || !near(o.Surgical.CMI, 1.9289) || o.EstimatedPayment != 38445 || o.Excluded != 0 {
			t.Errorf("overall %+v", o)
		}
		if notFinal != 1 || !hasNote(notes, "1 discharged encounters of the date range are not final-coded") || !hasNote(notes, "an estimate only") {
			t.Errorf("not final %d, notes %q", notFinal, notes)
		}
		if len(r.Groups) != 2 || r.Groups[0].By != casemix.ByPayer || r.Groups[1].By != casemix.ByMDC {
			t.Fatalf("groups %+v", r.Groups)
		}
		pay := r.Groups[0].Rows
		if len(pay) != 2 || pay[0].Key != "COMMERCIAL" || pay[0].Discharges != 1 || !near(pay[0].CMI, 1.3144) ||
			pay[1].Key != "MEDICARE" || pay[1].Discharges != 4 || !near(pay[1].TotalWeight, 5.0931) || !near(pay[1].CMI, 1.2733) {
			t.Errorf("by payer %+v", pay)
		}
		mdc := r.Groups[1].Rows
		if len(mdc) != 3 || mdc[0].Key != "04" || !near(mdc[0].CMI, 1.3144) || mdc[1].Key != "05" || !near(mdc[1].CMI, 0.9249) || mdc[2].Key != "08" {
			t.Errorf("by MDC %+v", mdc)
		}

		// Filters: one facility; two payers (the not-final count is then scanned).
		r, _, notFinal = reportOf[casemix.CMIReport](t, ts.do("GET", "/v1/reports/cmi?"+q2+"&facility=EAST", admin, nil).expect(t, 200))
		if r.Overall.Discharges != 1 || !near(r.Overall.CMI, 1.3144) || notFinal != 0 {
			t.Errorf("EAST: %+v, not final %d", r.Overall, notFinal)
		}
		r, _, notFinal = reportOf[casemix.CMIReport](t, ts.do("GET", "/v1/reports/cmi?"+q2+"&payer=MEDICARE,COMMERCIAL&provider=P1&provider=P2", finance, nil).expect(t, 200))
		if r.Overall.Discharges != 4 || notFinal != 1 { // E1, E2 (P1), E3, E5 (P2); N1 (P1)
			t.Errorf("two payers, P1|P2: %+v, not final %d", r.Overall, notFinal)
		}

		// A period spanning fiscal years weighs each discharge with its own year's Table 5: F1
		// (FY2025) with FY2025's when the data holds it, else it is excluded and named, never
		// weighed with FY2026 (TestReportsMissingWeightsYear covers that case whatever the data).
		r, notes, _ = reportOf[casemix.CMIReport](t, ts.do("GET", "/v1/reports/cmi?from=2025-06-01&to=2026-06-30&by=fy", finance, nil).expect(t, 200))
		fy26 := 6.4075 + 0.849 + 0.6285 // Q2 + P1 292 + P2 195
		if w25, ok := weightOf(t, 2025, 293); ok {
			if r.Overall.Discharges != 8 || r.Overall.Excluded != 0 || len(r.Excluded.MissingYears) != 0 || !near(r.Overall.TotalWeight, fy26+w25) {
				t.Errorf("FY2025 loaded: %+v %+v %q", r.Overall, r.Excluded, notes)
			}
			if rows := r.Groups[0].Rows; len(rows) != 2 || rows[0].Key != "FY2025" || !near(rows[0].TotalWeight, w25) || rows[1].Key != "FY2026" || !near(rows[1].TotalWeight, fy26) {
				t.Errorf("by fiscal year: %+v", rows)
			}
			p := ts.do("GET", "/v1/reports/cmi?from=2025-06-01&to=2026-06-30&weights_year=2025", finance, nil).expect(t, 200)
			r, _, _ = reportOf[casemix.CMIReport](t, p)
			if r.Overall.Discharges != 8 || !strings.Contains(r.Weights, "FY2025") {
				t.Errorf("forced FY2025: %+v, weights %q", r.Overall, r.Weights)
			}
		} else if r.Overall.Discharges != 7 || r.Excluded.MissingYears[2025] != 1 || !hasNote(notes, "1 discharges of FY2025 excluded") {
			t.Errorf("FY2025 not loaded: %+v %+v %q", r.Overall, r.Excluded, notes)
		}
		// ... and every discharge with one year when asked.
		r, _, _ = reportOf[casemix.CMIReport](t, ts.do("GET", "/v1/reports/cmi?from=2025-06-01&to=2026-06-30&weights_year=2026", finance, nil).expect(t, 200))
		if r.Overall.Discharges != 8 || len(r.Excluded.MissingYears) != 0 || !near(r.Overall.TotalWeight, fy26+0.566) {
			t.Errorf("forced FY2026: %+v %+v", r.Overall, r.Excluded)
		}

		// CSV.
		res := ts.do("GET", "/v1/reports/cmi?"+q2+"&by=payer&base_rate=6000", finance, nil, "Accept", "text/csv").expect(t, 200)
		if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.Contains(res.Header.Get("Content-Disposition"), "drg-cmi_2026-04-01_to_2026-06-30.csv") ||
			len(res.Header.Values("X-Report-Note")) != 2 {
			t.Errorf("CSV headers %v", res.Header)
		}
		recs, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
		if err != nil || len(recs) != 4 || recs[0][0] != "group_by" || !reflect.DeepEqual(recs[1][:5], []string{"overall", "", "5", "6.4075", "1.2815"}) ||
			recs[1][len(recs[1])-1] != "38445.00" || !reflect.DeepEqual(recs[1][5:9], []string{"0", "5.0000", "6.4075", "1.2815"}) || !reflect.DeepEqual(recs[3][:3], []string{"payer", "MEDICARE", "4"}) {
			t.Errorf("CSV %q (%v)", recs, err)
		}
		if res := ts.do("GET", "/v1/reports/cmi?format=csv", finance, nil).expect(t, 200); !strings.HasPrefix(string(res.body), "group_by,") {
			t.Errorf("format=csv: %.100s", res.body)
		}
		if res := ts.do("GET", "/v1/reports/cmi", finance, nil, "Accept", "application/json, text/csv"); res.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("JSON preferred: %s", res.Header.Get("Content-Type"))
		}

		// Bad parameters are 400s, never a silent widening.
		for _, bad := range []string{"form=2026-01-01", "from=2026-13-01", "from=2026-06-30&to=2026-04-01", "by=color", "base_rate=-1", "format=xml"} {
			ts.do("GET", "/v1/reports/cmi?"+bad, finance, nil).expect(t, 400).problem(t)
		}
	})

	t.Run("drg-mix", func(t *testing.T) {
		r, _, _ := reportOf[casemix.DRGMixReport](t, ts.do("GET", "/v1/reports/drg-mix?"+q2, finance, nil).expect(t, 200))
		// Prior = 2026-Q1: P1 292 0.8490, P2 195 0.6285.
		if r.Prior == nil || r.Prior.From.String() != "2026-01-01" || r.Prior.To.String() != "2026-03-31" || r.Discharges != 5 || r.DRGs != 4 ||
			!near(r.TotalWeight, 6.4075) || r.PriorDischarges != 2 || !near(r.PriorTotalWeight, 1.4775) {
			t.Fatalf("totals %+v", r)
		}
		var vol, wt []int
		for _, x := range r.ByVolume {
			vol = append(vol, x.DRG)
		}
		for _, x := range r.ByWeight {
			wt = append(wt, x.DRG)
		}
		if !reflect.DeepEqual(vol, []int{193, 470, 291, 293}) || !reflect.DeepEqual(wt, []int{193, 470, 291, 293}) {
			t.Errorf("rankings by volume %v, by weight %v", vol, wt)
		}
		top := r.ByVolume[0]
		if top.Discharges != 2 || top.Share != 0.4 || !near(top.TotalWeight, 2.6288) || top.PriorDischarges != 0 || top.DischargeChange != 2 ||
			top.DischargeChangeP != nil || !strings.Contains(top.Title, "Pulmonary") && !strings.Contains(top.Title, "Pneumonia") {
			t.Errorf("DRG 193 row %+v", top)
		}
		r, _, _ = reportOf[casemix.DRGMixReport](t, ts.do("GET", "/v1/reports/drg-mix?"+q2+"&top=1&prior_from=2025-04-01&prior_to=2025-06-30", finance, nil).expect(t, 200))
		w25, _ := weightOf(t, 2025, 293) // 0 when FY2025 is not loaded: the prior period is then unweighed
		if len(r.ByVolume) != 1 || r.PriorDischarges != 1 || !near(r.PriorTotalWeight, w25) || r.Excluded.Total() != 0 {
			t.Errorf("explicit prior (F1, FY2025 weight %v): %+v", w25, r)
		}
		ts.do("GET", "/v1/reports/drg-mix?prior_from=2025-04-01", finance, nil).expect(t, 400)
	})

	t.Run("severity", func(t *testing.T) {
		r, _, _ := reportOf[casemix.SeverityReport](t, ts.do("GET", "/v1/reports/severity?"+q2, admin, nil).expect(t, 200))
		// MCC: E1 291, E3 193, E5 193; NONE: E2 293, E4 470.
		if r.Discharges != 5 || r.NotInFamily != 0 || r.CCMCCCaptureRate != 0.6 || r.MCCCaptureRate != 0.6 || r.MCCFamilyDischarges != 5 {
			t.Errorf("totals %+v", r)
		}
		want := []casemix.LevelCount{{Level: "MCC", Discharges: 3, Share: 0.6}, {Level: "CC_MCC"}, {Level: "CC"}, {Level: "NONE", Discharges: 2, Share: 0.4}}
		if !reflect.DeepEqual(r.Levels, want) {
			t.Errorf("levels %+v", r.Levels)
		}
		var fams []string
		for _, f := range r.Families {
			fams = append(fams, fmt.Sprintf("%d:%d", f.BaseDRG, f.Discharges))
		}
		if !reflect.DeepEqual(fams, []string{"193:2", "291:2", "469:1"}) {
			t.Errorf("families %v", fams)
		}
		res := ts.do("GET", "/v1/reports/severity?"+q2, admin, nil, "Accept", "text/csv").expect(t, 200)
		if !strings.HasPrefix(string(res.body), "base_drg,title,family_discharges,level,drg,discharges,share\noverall,,5,MCC,,3,0.6000\n") {
			t.Errorf("CSV %.200s", res.body)
		}
	})

	t.Run("mismatches", func(t *testing.T) {
		r, notes, _ := reportOf[casemix.MismatchReport](t, ts.do("GET", "/v1/reports/mismatches?"+q2, finance, nil).expect(t, 200))
		// Reviewed: E1 (291 = 291), E2 (292 → 293), E5 (871 → 193).
		if r.Compared != 3 || r.Mismatched != 2 || r.AgreementRate != 0.3333 || r.NoCDI != 2 || !near(r.WeightDelta, -0.283-0.6281) {
			t.Errorf("totals %+v", r)
		}
		cats := map[casemix.Category]casemix.CategoryTotal{}
		for _, c := range r.Categories {
			cats[c.Category] = c
		}
		if cats[casemix.CatPDXChange].Encounters != 1 || !near(cats[casemix.CatPDXChange].WeightDelta, -0.6281) ||
			cats[casemix.CatCCMCCLost].Encounters != 1 || !near(cats[casemix.CatCCMCCLost].WeightDelta, -0.283) ||
			cats[casemix.CatCCMCCGained].Encounters != 0 || cats[casemix.CatProcedureChange].Encounters != 0 || cats[casemix.CatPOAChange].Encounters != 0 || cats[casemix.CatOther].Encounters != 0 {
			t.Errorf("categories %+v", r.Categories)
		}
		if len(r.Encounters) != 2 || r.Encounters[0].WorkingDRG != 292 || r.Encounters[0].FinalDRG != 293 ||
			!reflect.DeepEqual(r.Encounters[0].Categories, []casemix.Category{casemix.CatCCMCCLost}) ||
			r.Encounters[1].WorkingDRG != 871 || !reflect.DeepEqual(r.Encounters[1].Categories, []casemix.Category{casemix.CatPDXChange}) || r.Encounters[1].Provider != "P2" {
			t.Errorf("encounters %+v", r.Encounters)
		}
		if !hasNote(notes, "CDI-reviewed when a CDI specialist grouped it") {
			t.Errorf("notes %q", notes)
		}
		res := ts.do("GET", "/v1/reports/mismatches?"+q2, finance, nil, "Accept", "text/csv").expect(t, 200)
		recs, _ := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
		if len(recs) != 3 || !reflect.DeepEqual(recs[1][3:], []string{"292", "293", "-0.2830", "CC_MCC_LOST"}) || recs[2][6] != "PDX_CHANGE" {
			t.Errorf("CSV %q", recs)
		}
	})

	t.Run("cdi-impact", func(t *testing.T) {
		r, notes, _ := reportOf[casemix.CDIImpactReport](t, ts.do("GET", "/v1/reports/cdi-impact?"+q2, finance, nil).expect(t, 200))
		// Baseline 293 + 293 + 872 = 2.1553; working 291 + 292 + 871 = 4.0753; final 291 + 293 + 193 = 3.1642.
		if r.Encounters != 3 || r.NotReviewed != 2 || r.DRGChanged != 2 || !near(r.BaselineCMI, 0.7184) || !near(r.WorkingCMI, 1.3584) || !near(r.FinalCMI, 1.0547) ||
			!near(r.TotalImpact, 1.0089) || !near(r.CDIImpact, 1.92) || !near(r.CodingImpact, -0.9111) || r.AttributedImpact != 0 || !near(r.UnattributedImpact, 1.0089) ||
			r.AnsweredQueries != 0 {
			t.Errorf("report without queries %+v", r)
		}
		if !hasNote(notes, "CDI-reviewed when a CDI specialist grouped it") {
			t.Errorf("notes %q", notes)
		}

		// Queries: on E1 Q1 (293 → 291, answered) and Q2 (answered, no DRG move), Q4 sent and
		// unanswered, a draft never sent; on E5 Q3 (answered, effect not recorded).
		sent := fixedNow.AddDate(0, 0, -30)
		add := func(id, enc, author string, answered bool, before, after int, sentAt time.Time) {
			q := cdipkg.Query{ID: id, EncounterID: enc, Version: 1, State: cdipkg.StateSent, Author: &cdipkg.Provider{ID: author},
				SentAt: sentAt, Audit: []cdipkg.AuditEvent{{At: sent, Actor: "s", Action: "create", Version: 1}}}
			q.Provider = &cdipkg.Provider{ID: "P1"}
			if sentAt.IsZero() {
				q.State = cdipkg.StateDraft
			}
			if answered {
				q.State, q.AnsweredAt = cdipkg.StateClosed, sent
				q.Answer = &cdipkg.Answer{Outcome: cdipkg.OutcomeAgree, AuthenticatedBy: "P1", At: sent}
				if before != 0 {
					q.Effect = &cdipkg.QueryEffect{DRGBefore: before, DRGAfter: after}
				}
			}
			if err := ts.st.Tx(context.Background(), func(tx *store.Tx) error { return tx.AppendQuery(store.CLIActor, &q, "create") }); err != nil {
				t.Fatal(err)
			}
		}
		add("Q1", ids["E1"], "S1", true, 293, 291, sent)
		add("Q2", ids["E1"], "S1", true, 291, 291, sent)
		add("Q3", ids["E5"], "S2", true, 0, 0, sent)
		add("Q4", ids["E1"], "S1", false, 0, 0, sent)
		add("Q5", ids["E1"], "S1", false, 0, 0, time.Time{})
		r, _, _ = reportOf[casemix.CDIImpactReport](t, ts.do("GET", "/v1/reports/cdi-impact?"+q2, finance, nil).expect(t, 200))
		// E1's +0.7178 goes to Q1 (its own move), none to Q2; E5's +0.2911 to Q3 alone.
		if r.Queries != 4 || r.AnsweredQueries != 3 || r.WithAnsweredQueries != 2 || !near(r.AttributedImpact, 1.0089) || r.UnattributedImpact != 0 ||
			!near(r.MeanImpactPerQuery, 0.3363) || len(r.PerQuery) != 3 {
			t.Fatalf("report with queries %+v", r)
		}
		per := map[string]casemix.QueryImpact{}
		for _, q := range r.PerQuery {
			per[q.QueryID] = q
		}
		if per["Q1"].Share != 1 || !near(per["Q1"].WeightImpact, 0.7178) || per["Q1"].OwnDelta == nil || !near(*per["Q1"].OwnDelta, 0.7178) ||
			per["Q2"].Share != 0 || per["Q3"].Share != 1 || !near(per["Q3"].WeightImpact, 0.2911) || per["Q3"].Specialist != "S2" {
			t.Errorf("per query %+v", r.PerQuery)
		}
		if len(r.BySpecialist) != 2 || r.BySpecialist[0].Key != "S1" || r.BySpecialist[0].AnsweredQueries != 2 || !near(r.BySpecialist[0].WeightImpact, 0.7178) ||
			r.BySpecialist[1].Key != "S2" || r.BySpecialist[1].Encounters != 1 {
			t.Errorf("by specialist %+v", r.BySpecialist)
		}
		res := ts.do("GET", "/v1/reports/cdi-impact?"+q2+"&base_rate=6000", finance, nil, "Accept", "text/csv").expect(t, 200)
		if !strings.Contains(string(res.body), "\ntotal,,,,,3,3,,,1.0089,6053.40\n") {
			t.Errorf("CSV %s", res.body)
		}
	})

	t.Run("distribution", func(t *testing.T) {
		r, _, notFinal := reportOf[casemix.DistributionReport](t, ts.do("GET", "/v1/reports/distribution?to=2026-06-30&history=1&min_discharges=1", coder, nil).expect(t, 200))
		if r.Current != "2026-Q2" || !reflect.DeepEqual(r.History, []string{"2026-Q1"}) || notFinal != 1 || len(r.Families) != 3 {
			t.Fatalf("report %+v", r)
		}
		// Singles: E1 (J9601; E119 is no CC), E3 and E5 (J9601) in Q2; P1 (N179) in Q1.
		cur := r.Overall.Periods[1]
		if cur.Discharges != 5 || cur.WithCCMCC != 3 || cur.SingleCCMCC != 3 || cur.UnknownCount != 0 || r.Overall.Periods[0].Discharges != 2 || r.Overall.Periods[0].SingleCCMCC != 1 {
			t.Errorf("overall periods %+v", r.Overall.Periods)
		}
		var flags []string
		for _, f := range r.Flags {
			flags = append(flags, fmt.Sprintf("%s@%d", f.Metric, f.BaseDRG))
		}
		if !reflect.DeepEqual(flags, []string{"MCC@0", "CC_OR_MCC@0", "MCC@193", "CC_OR_MCC@193", "MCC@291"}) {
			t.Errorf("flags %v", flags)
		}
		if f := r.Flags[1]; f.Current != 0.6 || f.Baseline != 0.5 || !near(f.Difference, 0.1) || !strings.Contains(f.Reason, "share with CC or MCC 60.0% in 2026-Q2 (3 of 5) vs 50.0% over 2026-Q1") {
			t.Errorf("overall CC_OR_MCC flag %+v", f)
		}
		// With the default minimum of 11 discharges nothing is compared.
		r, _, _ = reportOf[casemix.DistributionReport](t, ts.do("GET", "/v1/reports/distribution?to=2026-06-30&history=1", cdi, nil).expect(t, 200))
		if len(r.Flags) != 0 || r.MinDischarges != 11 {
			t.Errorf("default minimum: flags %v", r.Flags)
		}
		ts.do("GET", "/v1/reports/distribution?from=2026-01-01", finance, nil).expect(t, 400)
		ts.do("GET", "/v1/reports/distribution?period=mdc", finance, nil).expect(t, 400)
		res := ts.do("GET", "/v1/reports/distribution?to=2026-06-30&history=1&min_discharges=1&format=csv", finance, nil).expect(t, 200)
		if !strings.Contains(string(res.body), "193,") || !strings.HasPrefix(string(res.body), "base_drg,title,period,") {
			t.Errorf("CSV %.200s", res.body)
		}
	})

	t.Run("version-impact", func(t *testing.T) {
		r, notes, _ := reportOf[casemix.VersionImpactReport](t, ts.do("GET",
			"/v1/reports/version-impact?from=2026-04-01&to=2026-07-31&from_version=42.1&to_version=43.1&weights_year=2026", finance, nil).expect(t, 200))
		// E6 moves 251 → 318 (+0.9277); the other five keep their DRG.
		if r.From != "42.1" || r.To != "43.1" || r.WeightsYear != 2026 || r.Discharges != 6 || r.Changed != 1 || len(r.Shifts) != 1 ||
			r.Shifts[0].FromDRG != 251 || r.Shifts[0].ToDRG != 318 || !near(*r.Shifts[0].WeightChangeEach, 0.9277) ||
			!near(r.FromSide.CMI, 1.317) || !near(r.ToSide.CMI, 1.4716) || !near(r.CMIChange, 0.1546) || !near(r.WeightChange, 0.9277) {
			t.Errorf("report %+v", r)
		}
		if !hasNote(notes, "6 encounters regrouped with their final codes under v42.1 and v43.1; both weighed with Table 5 FY2026") {
			t.Errorf("notes %q", notes)
		}
		r, _, _ = reportOf[casemix.VersionImpactReport](t, ts.do("GET",
			"/v1/reports/version-impact?from=2026-04-01&to=2026-07-31&from_version=42.1&to_version=43.1&codes=working&facility=MAIN", admin, nil).expect(t, 200))
		if r.Discharges != 6 { // E1–E4, E6 and N1 (working codes); E5 is EAST
			t.Errorf("working codes at MAIN: %d discharges", r.Discharges)
		}
		// Without weights_year both versions are weighed with the Table 5 of to_version's year.
		if _, ok := weightOf(t, 2025, 291); ok {
			r, _, _ = reportOf[casemix.VersionImpactReport](t, ts.do("GET", "/v1/reports/version-impact?to_version=42.1", finance, nil).expect(t, 200))
			if r.WeightsYear != 2025 || r.To != "42.1" {
				t.Errorf("to 42.1: weights year %d, to %s", r.WeightsYear, r.To)
			}
		} else {
			p := ts.do("GET", "/v1/reports/version-impact?to_version=42.1", finance, nil).expect(t, 400).problem(t)
			if !strings.Contains(p.Detail, "FY2025") {
				t.Errorf("missing weights year: %+v", p)
			}
		}
		ts.do("GET", "/v1/reports/version-impact?to_version=39.0", finance, nil).expect(t, 400)
	})

	t.Run("denial-risk", func(t *testing.T) {
		r, _, _ := reportOf[api.RiskReport](t, ts.do("GET", "/v1/reports/denial-risk?"+q2+"&kind=single_cc_mcc", coder, nil).expect(t, 200))
		// E1 291 rests on J9601 (→ 293), E3 and E5 193 on J9601 (→ 195): 0.7178 + 0.6859 × 2.
		if r.Encounters != 5 || r.Flagged != 3 || r.NotGrouped != 0 || len(r.Items) != 3 || r.Truncated ||
			r.ByKind[0].Kind != "single_cc_mcc" || r.ByKind[0].Encounters != 3 || !near(r.ByKind[0].WeightAtRisk, 2.0896) {
			t.Fatalf("report %+v", r)
		}
		f := r.Items[0].Flags[0]
		if r.Items[0].FinalDRG != 291 || r.Items[0].Coder != "user-coder" || f.DRGWithout != 293 || f.WeightWithout != 0.566 ||
			f.Reason != "DRG 291 depends on the single MCC J9601: without it the claim groups to DRG 293 (weight 1.2838 → 0.5660)" {
			t.Errorf("E1 %+v", r.Items[0])
		}
		r, _, _ = reportOf[api.RiskReport](t, ts.do("GET", "/v1/reports/denial-risk?"+q2+"&kind=single_cc_mcc&limit=1", finance, nil).expect(t, 200))
		if len(r.Items) != 1 || !r.Truncated || r.Flagged != 3 {
			t.Errorf("limit 1: %+v", r)
		}
		res := ts.do("GET", "/v1/reports/denial-risk?"+q2+"&kind=single_cc_mcc", cdi, nil, "Accept", "text/csv").expect(t, 200)
		recs, _ := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
		if len(recs) != 4 || recs[1][4] != "291" || recs[1][6] != "single_cc_mcc" || recs[1][8] != "J9601" || recs[1][9] != "293" {
			t.Errorf("CSV %q", recs)
		}
		ts.do("GET", "/v1/reports/denial-risk?kind=gossip", cdi, nil).expect(t, 400)
	})

	t.Run("roles", func(t *testing.T) {
		for _, p := range []string{"cmi", "drg-mix", "severity", "cdi-impact", "mismatches", "version-impact"} {
			ts.do("GET", "/v1/reports/"+p, coder, nil).expect(t, 403)
			ts.do("GET", "/v1/reports/"+p, cdi, nil).expect(t, 403)
			ts.do("GET", "/v1/reports/"+p, "", nil).expect(t, 401)
			ts.do("GET", "/v1/reports/"+p, finance, nil).expect(t, 200)
		}
		for _, role := range store.Roles {
			ts.do("GET", "/v1/reports/distribution", role, nil).expect(t, 200)
			ts.do("GET", "/v1/reports/denial-risk", role, nil).expect(t, 200)
		}
	})
}

// TestReportsMissingWeightsYear: over a catalog without the FY2025 Table 5, an FY2025
// discharge is excluded and named (never weighed with another year), and a report that would
// need that year says so — whatever years the data directory holds.
func TestReportsMissingWeightsYear(t *testing.T) {
	ts := startServerWith(t, withoutWeights(t, 2025), func() time.Time { return fixedNow }, api.CDIConfig{})
	population(t, ts)
	r, notes, _ := reportOf[casemix.CMIReport](t, ts.do("GET", "/v1/reports/cmi?from=2025-06-01&to=2026-06-30", finance, nil).expect(t, 200))
	if r.Overall.Discharges != 7 || r.Excluded.MissingYears[2025] != 1 || r.Overall.Excluded != 1 ||
		!hasNote(notes, "1 discharges of FY2025 excluded: Table 5 weights of FY2025 are not loaded (loaded: FY") {
		t.Errorf("missing year: %+v %+v %q", r.Overall, r.Excluded, notes)
	}
	p := ts.do("GET", "/v1/reports/cmi?weights_year=2025", finance, nil).expect(t, 400).problem(t)
	if !strings.Contains(p.Detail, "FY2025 are not loaded") || p.Errors[0].Field != "weights_year" {
		t.Errorf("unloaded forced year: %+v", p)
	}
	m, _, _ := reportOf[casemix.DRGMixReport](t, ts.do("GET", "/v1/reports/drg-mix?"+q2+"&top=1&prior_from=2025-04-01&prior_to=2025-06-30", finance, nil).expect(t, 200))
	if m.PriorDischarges != 1 || m.PriorTotalWeight != 0 || m.Excluded.Total() != 0 {
		t.Errorf("explicit prior (F1, FY2025 unweighed): %+v", m)
	}
	p = ts.do("GET", "/v1/reports/version-impact?to_version=42.1", finance, nil).expect(t, 400).problem(t)
	if !strings.Contains(p.Detail, "FY2025") || p.Errors[0].Field != "weights_year" {
		t.Errorf("missing weights year: %+v", p)
	}
}
