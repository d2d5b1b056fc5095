package cdi

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	specialist = &Provider{ID: "CDS1", Name: "CDI specialist"}
	attending  = &Provider{ID: "P100", Name: "Dr. Adams"}
)

// generate drafts the query of an opportunity of a reviewed fixture.
func generate(t *testing.T, f *fixture, rev *Review, o *Opportunity) (Query, error) {
	t.Helper()
	opt := GenerateOptions{ID: "Q-" + f.Encounter.ID + "-" + o.ID, EncounterID: f.Encounter.ID, Account: f.Encounter.Account,
		AdmitDate: f.Encounter.AdmitDate, Author: specialist, Provider: attending, Now: f.Now}
	if rev.Working != nil {
		opt.PDXTitle = rev.Working.PDXTitle
	}
	return GenerateQuery(o, opt)
}

// TestGeneratedQueriesPassLint generates the query of every opportunity of every fixture:
// each must pass the linter, cite its indicators with source and time, offer "other" and
// "clinically undetermined" unless open-ended, and survive sending.
func TestGeneratedQueriesPassLint(t *testing.T) {
	e := testEngine(t)
	n := 0
	for name, f := range loadFixtures(t) {
		rev := f.review(t, e)
		for i := range rev.Opportunities {
			o := &rev.Opportunities[i]
			q, err := generate(t, f, rev, o)
			if err != nil {
				t.Errorf("%s %s: %v", name, o.ID, err)
				continue
			}
			n++
			if res := Lint(&q, LintOptions{}); !res.OK {
				t.Errorf("%s %s: generated query fails lint: %+v\n%s", name, o.ID, res.Violations, q.Text())
			}
			if q.Format != FormatOpenEnded {
				kinds := map[string]bool{}
				for _, op := range q.Options {
					kinds[op.Kind] = true
				}
				if !kinds[OptionOther] || !kinds[OptionUndetermined] {
					t.Errorf("%s %s: options %+v lack other/undetermined", name, o.ID, q.Options)
				}
			}
			sent, err := Send(q, specialist.ID, f.Now.Add(time.Hour), nil, LintOptions{})
			if err != nil {
				t.Errorf("%s %s: send: %v", name, o.ID, err)
			} else if sent.ContentHash == "" || sent.State != StateSent {
				t.Errorf("%s %s: sent query %+v", name, o.ID, sent)
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d generated queries checked", n)
	}
}

// TestGeneratedQueryContent checks the query of fixture 01 (acute respiratory failure) the
// way QUERY_PRACTICE.md's example reads: indicators with source and time, a stated reason, a
// non-leading question, options supported by the indicators.
func TestGeneratedQueryContent(t *testing.T) {
	e := testEngine(t)
	f := loadFixtures(t)["01_arf_hypoxic_positive"]
	rev := f.review(t, e)
	q, err := generate(t, f, rev, &rev.Opportunities[0])
	if err != nil {
		t.Fatal(err)
	}
	text := q.Text()
	for _, want := range []string{
		"Patient admitted on 2026-05-04 with pneumonia, unspecified organism.",
		"SpO2 86 %, room air (ED triage, 2026-05-04 14:05)",
		"Respiratory rate 32 /min (nursing flowsheet, 2026-05-04 15:00)",
		"BiPAP 12/5 (respiratory therapy note, 2026-05-04 15:30)",
		"accessory muscle use",
		"[ ] Acute respiratory failure with hypoxia\n",
		"[ ] Hypoxemia without respiratory failure\n",
		"[ ] Other (please specify)\n[ ] Clinically undetermined\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("query text lacks %q:\n%s", want, text)
		}
	}
	// Options not credible for this patient (no hypercapnia, no chronic failure) are removed.
	for _, o := range q.Options {
		if strings.Contains(o.Text, "hypercapnia") || strings.Contains(o.Text, "chronic") {
			t.Errorf("option %q is not supported by the indicators", o.Text)
		}
	}
	if q.Purpose != PurposeNewDiagnosis || q.Reason != QueryReasonIncomplete || q.Format != FormatMultipleChoice {
		t.Errorf("purpose/reason/format = %s/%s/%s", q.Purpose, q.Reason, q.Format)
	}
	// The hypoxia option cites the SpO2 (indicator 0).
	if !slices.Contains(q.Options[0].Indicators, 0) {
		t.Errorf("option %q references %v", q.Options[0].Text, q.Options[0].Indicators)
	}
}

// TestOpenEndedQueryDoesNotNameDiagnosis: fixture 25's rule asks open-ended; a specialist
// may also turn a multiple-choice plan into an open-ended query.
func TestOpenEndedQueryDoesNotNameDiagnosis(t *testing.T) {
	e := testEngine(t)
	fx := loadFixtures(t)
	for _, name := range []string{"25_hypernatremia_open_ended", "01_arf_hypoxic_positive", "07_sepsis3_positive_no_shock_without_pressor"} {
		f := fx[name]
		rev := f.review(t, e)
		for i := range rev.Opportunities {
			o := &rev.Opportunities[i]
			q, err := GenerateQuery(o, GenerateOptions{ID: "Q", EncounterID: f.Encounter.ID, Author: specialist, Provider: attending,
				Now: f.Now, Format: FormatOpenEnded})
			if err != nil {
				t.Fatalf("%s %s: %v", name, o.ID, err)
			}
			if q.Format != FormatOpenEnded || len(q.Options) != 0 {
				t.Errorf("%s %s: format %s with %d options", name, o.ID, q.Format, len(q.Options))
			}
			for _, d := range o.Terms {
				if strings.Contains(strings.ToLower(q.Question), strings.ToLower(d)) {
					t.Errorf("%s %s: open-ended question names %q: %s", name, o.ID, d, q.Question)
				}
			}
		}
	}
}

// TestGenerateRefusesWithoutCitableIndicator: a specificity opportunity whose only "support" is
// the documented code itself (in the working codes or documented with a time) has no clinical
// indicator to cite (Q1): the diagnosis being clarified never supports its own options.
func TestGenerateRefusesWithoutCitableIndicator(t *testing.T) {
	o := &Opportunity{ID: "rule:heart_failure", Kind: KindSpecificity, Reason: ReasonUnspecifiedDocumentation, Condition: "Heart failure, unspecified",
		Candidates: []CandidateCode{{Code: "I5021", Title: "Acute systolic (congestive) heart failure", Level: "MCC"}},
		Indicators: []Cite{{Kind: CiteWorkingCode, Name: "Heart failure, unspecified", Code: "I509", Source: "working codes"},
			{Kind: "documented_dx", Name: "Heart failure, unspecified", Code: "I509", Source: "H&P", Time: time.Now()}},
		Query: QueryPlan{Format: FormatMultipleChoice, Purpose: PurposeSpecificity, Reason: QueryReasonSpecificity, ReasonText: reasonTextSpecificity, Question: "q"}}
	if _, err := GenerateQuery(o, GenerateOptions{ID: "Q", EncounterID: "E", Author: specialist, Now: time.Now()}); err == nil || !strings.Contains(err.Error(), "Q1") {
		t.Errorf("err = %v, want a Q1 refusal", err)
	}
}

// TestLifecycle walks a query through draft → sent → edit (new version) → answered → closed
// and checks immutability, versioning, the audit trail and refused transitions.
func TestLifecycle(t *testing.T) {
	e := testEngine(t)
	f := loadFixtures(t)["01_arf_hypoxic_positive"]
	rev := f.review(t, e)
	t0 := f.Now
	draft, err := generate(t, f, rev, &rev.Opportunities[0])
	if err != nil {
		t.Fatal(err)
	}
	// A draft is edited in place.
	c := draft.QueryContent
	c.Question = "Based on your clinical judgment, please clarify the condition being treated with BiPAP."
	edited, err := Edit(draft, c, specialist.ID, t0.Add(time.Minute))
	if err != nil || edited.Version != 1 || edited.Question != c.Question || len(edited.Audit) != 2 {
		t.Fatalf("edit draft: %+v, %v", edited, err)
	}
	if draft.Question == c.Question {
		t.Error("Edit modified its input")
	}
	sent, err := Send(edited, specialist.ID, t0.Add(time.Hour), nil, LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Send(sent, specialist.ID, t0.Add(2*time.Hour), nil, LintOptions{}); !errors.Is(err, ErrTransition) {
		t.Errorf("second send: %v", err)
	}
	// Tampering with a sent query is caught (Q10).
	tampered := sent
	tampered.Question = "Are you treating acute respiratory failure?"
	if res := Lint(&tampered, LintOptions{}); !slices.Contains(res.Rules(), "Q10") || !slices.Contains(res.Rules(), "Q8") {
		t.Errorf("tampered lint = %v", res.Rules())
	}
	// Editing a sent query makes version 2; version 1 is unchanged.
	c2 := sent.QueryContent
	c2.Intro = "Patient admitted on 2026-05-04 with right lower lobe pneumonia."
	v2, err := Edit(sent, c2, specialist.ID, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || v2.Supersedes != sent.Key() || v2.State != StateDraft || v2.ID != sent.ID || !v2.SentAt.IsZero() {
		t.Errorf("version 2 = %+v", v2)
	}
	if res := Lint(&sent, LintOptions{}); !res.OK {
		t.Errorf("version 1 after the edit: %v", res.Violations)
	}
	v2sent, err := Send(v2, specialist.ID, t0.Add(4*time.Hour), nil, LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	old, err := Close(sent, nil, "superseded by "+v2sent.Key(), specialist.ID, t0.Add(4*time.Hour))
	if err != nil || old.State != StateClosed || old.Effect != nil {
		t.Fatalf("close v1: %+v %v", old, err)
	}
	// Answer: the provider picks "Acute respiratory failure with hypoxia".
	opt := 0
	ans := Answer{Outcome: OutcomeAgree, Option: &opt, Text: "Acute hypoxic respiratory failure due to pneumonia.", AuthenticatedBy: "P100", At: t0.Add(20 * time.Hour)}
	answered, err := AnswerQuery(v2sent, ans, "P100")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AnswerQuery(answered, ans, "P100"); !errors.Is(err, ErrTransition) {
		t.Errorf("second answer: %v", err)
	}
	// The answer adds J96.01: DRG 195 → 193 is the query's impact.
	enc2, eff, err := e.ApplyAnswer(&f.Encounter, &answered)
	if err != nil {
		t.Fatal(err)
	}
	if eff.DRGBefore != 195 || eff.DRGAfter != 193 || !slices.Equal(eff.CodesAdded, []string{"J9601"}) || eff.WeightDelta != 0.6859 {
		t.Errorf("effect = %+v", eff)
	}
	if len(f.Encounter.SDX) != 0 || len(enc2.SDX) != 1 || enc2.SDX[0].Code != "J9601" {
		t.Errorf("codes: before %v after %v", f.Encounter.SDX, enc2.SDX)
	}
	closed, err := Close(answered, &eff, "answered", specialist.ID, t0.Add(21*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res := Lint(&closed, LintOptions{}); !res.OK {
		t.Errorf("closed query: %v", res.Violations)
	}
	var actions []string
	for _, a := range closed.Audit {
		actions = append(actions, a.Action)
	}
	if want := []string{"created", "sent", "answered", "closed"}; !slices.Equal(actions, want) {
		t.Errorf("audit %v, want %v", actions, want)
	}
	// Re-reviewing the updated encounter: acute respiratory failure is now documented.
	rev2, err := e.Review(enc2, ReviewOptions{Now: f.Now})
	if err != nil {
		t.Fatal(err)
	}
	if r := ruleResult(rev2, "acute_respiratory_failure"); r.Status != StatusDocumented {
		t.Errorf("after the answer the rule is %s: %s", r.Status, r.Explain)
	}
	if rev2.Working.DRG != 193 {
		t.Errorf("working DRG after the answer = %d", rev2.Working.DRG)
	}
}

// TestEscalation: a sent query unanswered past the policy is due, fails Q12 until escalated,
// and an escalation needs a recipient and a reason.
func TestEscalation(t *testing.T) {
	e := testEngine(t)
	f := loadFixtures(t)["22_hyponatremia_129_boundary_positive"]
	rev := f.review(t, e)
	q, err := generate(t, f, rev, &rev.Opportunities[0])
	if err != nil {
		t.Fatal(err)
	}
	sentAt := f.Now
	q, err = Send(q, specialist.ID, sentAt, nil, LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	policy := EscalationPolicy{Hours: 48, To: "physician advisor"}
	now := sentAt.Add(47 * time.Hour)
	if DueForEscalation(&q, now, policy) {
		t.Error("due after 47 h")
	}
	now = sentAt.Add(49 * time.Hour)
	if !DueForEscalation(&q, now, policy) {
		t.Error("not due after 49 h")
	}
	if res := Lint(&q, LintOptions{Now: now, EscalationHours: policy.Hours}); !slices.Equal(res.Rules(), []string{"Q12"}) {
		t.Errorf("overdue lint = %v", res.Rules())
	}
	if _, err := Escalate(q, Escalation{At: now}, specialist.ID); err == nil {
		t.Error("escalation without recipient and reason accepted")
	}
	esc, err := Escalate(q, Escalation{To: policy.To, Reason: "no response in 48 h", At: now}, specialist.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res := Lint(&esc, LintOptions{Now: now, EscalationHours: policy.Hours}); !res.OK {
		t.Errorf("escalated lint = %v", res.Violations)
	}
	// The provider still answers after escalation.
	ans, err := AnswerQuery(esc, Answer{Outcome: OutcomeDisagree, Text: "Not clinically significant.", AuthenticatedBy: "P100", At: now.Add(time.Hour)}, "P100")
	if err != nil || ans.State != StateAnswered || ans.Escalation == nil {
		t.Errorf("answer after escalation: %+v %v", ans, err)
	}
}
