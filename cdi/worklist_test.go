package cdi

import (
	"math"
	"slices"
	"testing"
	"time"
)

// TestPriorityFormula checks the documented formula on hand-computed values.
func TestPriorityFormula(t *testing.T) {
	opp := func(delta float64, hccs int, strength float64) Opportunity {
		o := Opportunity{Strength: strength, Impact: Impact{WeightDelta: delta}}
		for range hccs {
			o.Impact.HCCGained = append(o.Impact.HCCGained, HCC{Number: 1})
		}
		return o
	}
	// value = 0.6859 + 0.1 + 0.05 = 0.8359; score = 0.8359 × 0.8 = 0.66872
	// other: value = 0.1774 + 0.05 = 0.2274; score × 0.5 = 0.1137; base = 0.66872 + 0.25 × 0.1137
	// age = 1 + 3/10
	base := 0.66872 + 0.25*0.1137
	for _, c := range []struct {
		in   PriorityInput
		want float64
	}{
		{PriorityInput{Open: []Opportunity{opp(0.6859, 1, 0.8), opp(0.1774, 0, 0.5)}, DaysSinceAdmission: 3}, base * 1.3},
		{PriorityInput{Open: []Opportunity{opp(0.6859, 1, 0.8), opp(0.1774, 0, 0.5)}, DaysSinceAdmission: 3, OpenQueries: 1}, base * 1.3 * 0.5},
		{PriorityInput{Open: []Opportunity{opp(0.6859, 1, 0.8), opp(0.1774, 0, 0.5)}, DaysSinceAdmission: 3, OpenQueries: 1, EscalatedQueries: 1}, base * 1.3 * 1.5},
		{PriorityInput{Open: []Opportunity{opp(0.6859, 1, 0.8)}, DaysSinceAdmission: 25}, 0.66872 * 2},
		{PriorityInput{Open: []Opportunity{opp(-0.2138, 0, 0.5)}}, (0.2138 + 0.05) * 0.5},
		{PriorityInput{Open: []Opportunity{opp(0, 0, 0.5)}}, 0.05 * 0.5},
		{PriorityInput{DaysSinceAdmission: 5}, 0},
	} {
		if got := Priority(c.in); got != math.Round(100*c.want)/100 {
			t.Errorf("Priority(%+v) = %v, want %v", c.in, got, math.Round(100*c.want)/100)
		}
	}
}

// TestWorklist builds rows from reviewed fixtures and checks order, filters, top
// opportunity, and the effect of queries on status and priority.
func TestWorklist(t *testing.T) {
	e := testEngine(t)
	fx := loadFixtures(t)
	now := time.Date(2026, 5, 7, 12, 0, 0, 0, time.UTC)
	names := []string{"01_arf_hypoxic_positive", "07_sepsis3_positive_no_shock_without_pressor", "22_hyponatremia_129_boundary_positive",
		"26_abla_hgb_drop_2_0_boundary_positive", "03_arf_spo2_91_boundary_negative", "38_pressure_injury_missing_poa"}
	var rows []WorklistRow
	revs := map[string]*Review{}
	for _, n := range names {
		f := fx[n]
		rev := f.review(t, e)
		revs[n] = rev
		rows = append(rows, NewWorklistRow(&f.Encounter, rev, nil, now))
	}
	list := Worklist(rows, WorklistFilter{})
	var order []string
	for _, r := range list {
		order = append(order, r.Account)
	}
	// Sepsis (Δ 1.314) before respiratory failure (Δ 0.6859), GI bleed (0.3503), sodium
	// (0.1774); the POA query (weight not measurable: DRG 999 before) and the encounter
	// without opportunity last.
	if want := []string{"ACCT-0007", "ACCT-0001", "ACCT-0026", "ACCT-0022", "ACCT-0038", "ACCT-0003"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	top := list[0]
	if top.Top == nil || top.Top.ID != "rule:sepsis_sofa" || top.Top.DRGAfter != 871 || top.WorkingDRG != 195 ||
		top.Status != RowOpportunities || top.DaysSinceAdmission != 3 || top.Opportunities != 1 {
		t.Errorf("top row %+v %+v", top, top.Top)
	}
	if last := list[len(list)-1]; last.Status != RowNoOpportunity || last.Priority != 0 || last.Top != nil {
		t.Errorf("last row %+v", last)
	}
	for _, c := range []struct {
		f    WorklistFilter
		want int
	}{
		{WorklistFilter{Unit: "icu"}, 1},
		{WorklistFilter{Payer: "COMMERCIAL"}, 1},
		{WorklistFilter{Condition: "sepsis"}, 1},
		{WorklistFilter{Condition: "respiratory"}, 1},
		{WorklistFilter{Provider: "P100"}, 4},
		{WorklistFilter{Status: RowNoOpportunity}, 1},
		{WorklistFilter{Unit: "4W", Condition: "hyponatremia"}, 1},
	} {
		if got := Worklist(rows, c.f); len(got) != c.want {
			t.Errorf("filter %+v: %d rows, want %d", c.f, len(got), c.want)
		}
	}

	// A sent query on the ARF opportunity: the row waits on the provider.
	f := fx["01_arf_hypoxic_positive"]
	q, err := generate(t, f, revs["01_arf_hypoxic_positive"], &revs["01_arf_hypoxic_positive"].Opportunities[0])
	if err != nil {
		t.Fatal(err)
	}
	sent, err := Send(q, specialist.ID, now.Add(-time.Hour), nil, LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	row := NewWorklistRow(&f.Encounter, revs["01_arf_hypoxic_positive"], []Query{q, sent}, now)
	if row.Status != RowQueryOpen || row.OpenQueries != 1 || row.Opportunities != 0 || row.Top != nil || row.Priority != 0 {
		t.Errorf("row with an open query: %+v", row)
	}
	esc, err := Escalate(sent, Escalation{To: "physician advisor", Reason: "no answer", At: now}, specialist.ID)
	if err != nil {
		t.Fatal(err)
	}
	row = NewWorklistRow(&f.Encounter, revs["01_arf_hypoxic_positive"], []Query{q, sent, esc}, now)
	if row.Status != RowEscalated || row.EscalatedQueries != 1 {
		t.Errorf("row with an escalated query: %+v", row)
	}
	// A query withdrawn without answer puts the opportunity back on the list.
	withdrawn, err := Close(sent, nil, "withdrawn", specialist.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	row = NewWorklistRow(&f.Encounter, revs["01_arf_hypoxic_positive"], []Query{withdrawn}, now)
	if row.Status != RowOpportunities || row.Opportunities != 1 {
		t.Errorf("row after a withdrawn query: %+v", row)
	}
}

// TestStats computes provider and specialist statistics from query records.
func TestStats(t *testing.T) {
	base := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	mk := func(id string, version int, provider, author string, sentH float64, answer string, answerH float64, escalated bool) Query {
		q := Query{ID: id, Version: version, Author: &Provider{ID: author}, State: StateSent,
			SentAt: base.Add(time.Duration(sentH * float64(time.Hour)))}
		q.Provider = &Provider{ID: provider}
		if answer != "" {
			q.State = StateAnswered
			q.AnsweredAt = q.SentAt.Add(time.Duration(answerH * float64(time.Hour)))
			q.Answer = &Answer{Outcome: answer, AuthenticatedBy: provider, At: q.AnsweredAt}
		}
		if escalated {
			q.Escalation = &Escalation{To: "advisor", Reason: "late", At: q.SentAt.Add(48 * time.Hour)}
		}
		return q
	}
	qs := []Query{
		mk("A", 1, "P1", "S1", 0, "", 0, false), // superseded by version 2
		mk("A", 2, "P1", "S1", 1, OutcomeAgree, 1, false),
		mk("B", 1, "P1", "S2", 0, OutcomeDisagree, 3, false),
		mk("C", 1, "P1", "S1", 0, "", 0, false),
		mk("D", 1, "P2", "S2", 0, OutcomeAgree, 10, true),
	}
	draft := Query{ID: "E", Version: 1, Author: &Provider{ID: "S2"}, State: StateDraft} // never sent
	draft.Provider = &Provider{ID: "P2"}
	qs = append(qs, draft)
	byProvider, err := ComputeStats(qs, ByProvider)
	if err != nil {
		t.Fatal(err)
	}
	want := []Stats{
		{Key: "P1", Sent: 3, Answered: 2, Agreed: 1, Disagreed: 1, Open: 1, ResponseRate: 0.6667, AgreementRate: 0.5, MedianResponseHours: 2},
		{Key: "P2", Sent: 1, Answered: 1, Agreed: 1, Escalated: 1, ResponseRate: 1, AgreementRate: 1, MedianResponseHours: 10},
	}
	if !slices.Equal(byProvider, want) {
		t.Errorf("by provider:\n got %+v\nwant %+v", byProvider, want)
	}
	bySpecialist, err := ComputeStats(qs, BySpecialist)
	if err != nil {
		t.Fatal(err)
	}
	if len(bySpecialist) != 2 || bySpecialist[0].Key != "S1" || bySpecialist[0].Sent != 2 || bySpecialist[0].Answered != 1 ||
		bySpecialist[1].Key != "S2" || bySpecialist[1].MedianResponseHours != 6.5 {
		t.Errorf("by specialist %+v", bySpecialist)
	}
	if _, err := ComputeStats(qs, "unit"); err == nil {
		t.Error("unknown grouping accepted")
	}
}
