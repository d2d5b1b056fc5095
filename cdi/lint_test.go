package cdi

import (
	"slices"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

var t0 = time.Date(2026, 5, 4, 14, 0, 0, 0, time.UTC)

// compliantQuery is a hand-written multiple-choice query that passes every rule.
func compliantQuery() Query {
	q := Query{ID: "Q1", Version: 1, EncounterID: "E1", AdmitDate: claim.Date{Year: 2026, Month: 5, Day: 4}, OpportunityID: "rule:sepsis_sofa",
		Condition: "Sepsis", Diagnoses: []string{"sepsis", "septic"}, Author: specialist, State: StateDraft, CreatedAt: t0,
		Audit: []AuditEvent{{At: t0, Actor: specialist.ID, Action: "created", Version: 1}}}
	q.QueryContent = QueryContent{Format: FormatMultipleChoice, Purpose: PurposeNewDiagnosis, Reason: QueryReasonIncomplete,
		ReasonText: reasonTextIncomplete, Intro: "Patient admitted on 2026-05-04 with pneumonia.",
		Indicators: []Cite{
			{Name: "Lactate", Value: claim.Number(3.4), Unit: "mmol/L", Time: t0, Source: "LAB", Evidence: []int{0}},
			{Name: "MAP", Value: claim.Number(62), Unit: "mmHg", Time: t0.Add(10 * time.Minute), Source: "ED vitals", Evidence: []int{1}},
			{Name: "Urine output", Value: claim.Number(200), Unit: "cc", Context: "over 8 h, accessory data", Time: t0, Source: "intake and output", Evidence: []int{2}},
		},
		Question: "Based on your clinical judgment, please clarify the diagnosis that best describes the condition being evaluated and treated.",
		Options: []Option{
			{Text: "Sepsis with acute organ dysfunction", Kind: OptionDiagnosis, Codes: []string{"A419", "R6520"}, Indicators: []int{0, 1}, Action: ActionAdd},
			{Text: "Localized infection without sepsis", Kind: OptionDiagnosis, Indicators: []int{0, 1}},
			{Text: "Other (please specify)", Kind: OptionOther},
			{Text: "Clinically undetermined", Kind: OptionUndetermined},
		},
		Channel: ChannelWritten, Provider: attending}
	return q
}

func sentQuery(t *testing.T) Query {
	t.Helper()
	q, err := Send(compliantQuery(), specialist.ID, t0.Add(time.Hour), nil, LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestLintRejects feeds non-compliant or leading queries to the linter: each is rejected
// with exactly the rule it breaks.
func TestLintRejects(t *testing.T) {
	if res := Lint(ptr(compliantQuery()), LintOptions{}); !res.OK {
		t.Fatalf("the compliant query fails: %+v", res.Violations)
	}
	cases := []struct {
		name string
		rule string
		mod  func(q *Query)
	}{
		{"no indicators", "Q1", func(q *Query) {
			q.Indicators = nil
			q.Options[0].Indicators, q.Options[1].Indicators = nil, nil
			q.Options[0].Documented, q.Options[1].Documented = true, true
		}},
		{"indicator without source", "Q1", func(q *Query) { q.Indicators[0].Source = "" }},
		{"indicator without time", "Q1", func(q *Query) { q.Indicators[1].Time = time.Time{} }},
		{"prior encounter not labelled", "Q1", func(q *Query) { q.Indicators[0].Time = t0.AddDate(0, -3, 0) }},
		{"no reason stated", "Q2", func(q *Query) { q.ReasonText = " " }},
		{"unknown reason", "Q2", func(q *Query) { q.Reason = "case_mix" }},
		{"DRG in the question", "Q3", func(q *Query) {
			q.Question = "Based on your clinical judgment, please clarify the diagnosis; this affects the DRG."
		}},
		{"MCC in the intro", "Q3", func(q *Query) { q.Intro = "Sepsis would be an MCC for this admission." }},
		{"reimbursement", "Q3", func(q *Query) { q.ReasonText = "Documentation affects reimbursement." }},
		{"dollar sign", "Q3", func(q *Query) { q.ReasonText = "Worth $4,000." }},
		{"case mix", "Q3", func(q *Query) { q.Intro = "Our case-mix index is low this quarter." }},
		{"relative weight", "Q3", func(q *Query) { q.Intro = "The relative weight changes with sepsis." }},
		{"optimizing", "Q3", func(q *Query) { q.ReasonText = "Optimizing documentation for this stay." }},
		{"HAC status", "Q3", func(q *Query) { q.Intro = "The ulcer would be a HAC." }},
		{"PSI", "Q3", func(q *Query) { q.Intro = "Avoids a PSI." }},
		{"quality score", "Q3", func(q *Query) { q.ReasonText = "Affects quality scores." }},
		{"no other option", "Q4", func(q *Query) { q.Options = slices.Delete(q.Options, 2, 3) }},
		{"no undetermined option", "Q4", func(q *Query) { q.Options = q.Options[:3] }},
		{"no diagnosis option", "Q4", func(q *Query) { q.Options = q.Options[2:] }},
		{"yes/no options in multiple choice", "Q4", func(q *Query) {
			q.Options = append(q.Options, Option{Text: "Yes", Kind: OptionYes})
		}},
		{"undocumented diagnosis without indicator", "Q5", func(q *Query) { q.Options[1].Indicators = nil }},
		{"option cites an indicator the query lacks", "Q5", func(q *Query) { q.Options[0].Indicators = []int{7} }},
		{"yes/no for a new diagnosis", "Q6", func(q *Query) {
			q.Format = FormatYesNo
			q.Options = []Option{{Text: "Yes", Kind: OptionYes}, {Text: "No", Kind: OptionNo}, {Text: "Other", Kind: OptionOther}, {Text: "Clinically undetermined", Kind: OptionUndetermined}}
		}},
		{"yes/no without other and undetermined", "Q6", func(q *Query) {
			q.Format, q.Purpose = FormatYesNo, PurposeConfirmDocumented
			q.Options = []Option{{Text: "Yes", Kind: OptionYes}, {Text: "No", Kind: OptionNo}}
		}},
		{"open-ended names the diagnosis", "Q7", func(q *Query) {
			q.Format, q.Options = FormatOpenEnded, nil
			q.Question = "Based on your clinical judgment, does the patient have sepsis or another condition?"
		}},
		{"open-ended with diagnosis options", "Q7", func(q *Query) {
			q.Format = FormatOpenEnded
			q.Question = "Based on your clinical judgment, what condition is being treated?"
		}},
		{"are you treating", "Q8", func(q *Query) { q.Question = "Based on the lactate, are you treating an infection?" }},
		{"please document", "Q8", func(q *Query) { q.Question = "Please document the condition being treated." }},
		{"would you agree", "Q8", func(q *Query) { q.Question = "Would you agree that the patient has organ dysfunction?" }},
		{"can you add", "Q8", func(q *Query) { q.Question = "Can you add a diagnosis for the lactate of 3.4?" }},
		{"consider documenting", "Q8", func(q *Query) { q.ReasonText = "Consider documenting the condition treated." }},
		{"nudge to remove a complication", "Q8", func(q *Query) { q.Question = "Please remove the complication if it was expected." }},
		{"verbal query without record", "Q9", func(q *Query) {
			q.Channel = ChannelVerbal
			q.State, q.SentAt, q.ContentHash = StateSent, t0, q.QueryContent.Hash()
			q.Audit = append(q.Audit, AuditEvent{At: t0, Action: "sent"})
		}},
		{"unknown channel", "Q9", func(q *Query) { q.Channel = "fax" }},
		{"edited after sending", "Q10", func(q *Query) {
			q.State, q.SentAt, q.ContentHash = StateSent, t0, q.QueryContent.Hash()
			q.Options[1].Text = "Infection, sepsis ruled out"
		}},
		{"version 2 supersedes nothing", "Q10", func(q *Query) { q.Version = 2 }},
		{"no author", "Q11", func(q *Query) { q.Author = nil }},
		{"no encounter", "Q11", func(q *Query) { q.EncounterID = "" }},
		{"empty audit trail", "Q11", func(q *Query) { q.Audit = nil }},
		{"sent without provider", "Q11", func(q *Query) {
			q.Provider = nil
			q.State, q.SentAt, q.ContentHash = StateSent, t0, q.QueryContent.Hash()
		}},
		{"answer not authenticated", "Q11", func(q *Query) {
			q.State, q.SentAt, q.ContentHash = StateAnswered, t0, q.QueryContent.Hash()
			q.Answer, q.AnsweredAt = &Answer{Outcome: OutcomeAgree, At: t0.Add(time.Hour)}, t0.Add(time.Hour)
		}},
		{"closed without effect", "Q11", func(q *Query) {
			q.State, q.SentAt, q.ContentHash = StateClosed, t0, q.QueryContent.Hash()
			q.Answer, q.AnsweredAt = &Answer{Outcome: OutcomeAgree, AuthenticatedBy: "P100", At: t0.Add(time.Hour)}, t0.Add(time.Hour)
		}},
		{"escalated without recipient", "Q12", func(q *Query) {
			q.State, q.SentAt, q.ContentHash = StateEscalated, t0, q.QueryContent.Hash()
			q.Escalation = &Escalation{At: t0.Add(72 * time.Hour)}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := compliantQuery()
			c.mod(&q)
			res := Lint(&q, LintOptions{})
			if res.OK || !slices.Equal(res.Rules(), []string{c.rule}) {
				t.Errorf("rules %v, want [%s]: %+v", res.Rules(), c.rule, res.Violations)
			}
			for _, v := range res.Violations {
				if v.Message == "" {
					t.Errorf("violation without message: %+v", v)
				}
			}
		})
	}
}

// TestLintOverdue: Q12 needs the time and the policy.
func TestLintOverdue(t *testing.T) {
	q := sentQuery(t)
	opt := LintOptions{Now: q.SentAt.Add(72 * time.Hour), EscalationHours: 48}
	if res := Lint(&q, opt); !slices.Equal(res.Rules(), []string{"Q12"}) {
		t.Errorf("overdue: %v", res.Rules())
	}
	opt.Now = q.SentAt.Add(24 * time.Hour)
	if res := Lint(&q, opt); !res.OK {
		t.Errorf("not yet overdue: %v", res.Violations)
	}
}

// TestLintVocabularyBoundaries: clinical words that contain or resemble forbidden terms are
// allowed — "cc" as a volume, "accessory", "weight loss", "psi", "success".
func TestLintVocabularyBoundaries(t *testing.T) {
	for _, s := range []string{
		"Urine output 200 cc over 8 h.", "Accessory muscle use noted.", "Unintentional weight loss of 10 %.",
		"Body weight 41 kg.", "Cuff pressure 20 psi.", "Successful extubation.", "Occult blood positive.",
		"Patient reports paying attention to diet.",
	} {
		q := compliantQuery()
		q.Intro = s
		if res := Lint(&q, LintOptions{}); !res.OK {
			t.Errorf("%q rejected: %+v", s, res.Violations)
		}
	}
}

// TestSendRefusesNonCompliant: Send runs the linter and returns the violations.
func TestSendRefusesNonCompliant(t *testing.T) {
	q := compliantQuery()
	q.Question = "Are you treating sepsis? This is an MCC."
	_, err := Send(q, specialist.ID, t0, nil, LintOptions{})
	le, ok := err.(*LintError)
	if !ok {
		t.Fatalf("err = %v, want *LintError", err)
	}
	if got := le.Result.Rules(); !slices.Equal(got, []string{"Q3", "Q8"}) {
		t.Errorf("rules %v", got)
	}
	// A verbal query is sent with its record.
	q = compliantQuery()
	q.Channel = ChannelVerbal
	v := &VerbalRecord{ConductedBy: specialist.ID, ConductedWith: "P100", At: t0}
	if _, err := Send(q, specialist.ID, t0, v, LintOptions{}); err != nil {
		t.Errorf("verbal send: %v", err)
	}
	if _, err := Send(q, specialist.ID, t0, nil, LintOptions{}); err == nil {
		t.Error("verbal send without record accepted")
	}
}

func ptr[T any](v T) *T { return &v }
