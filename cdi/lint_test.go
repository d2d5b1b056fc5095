package cdi

import (
	"slices"
	"strings"
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
			{Kind: "lab", Name: "Lactate", Value: claim.Number(3.4), Unit: "mmol/L", Time: t0, Source: "LAB", Evidence: []int{0}},
			{Kind: "vital", Name: "MAP", Value: claim.Number(62), Unit: "mmHg", Time: t0.Add(10 * time.Minute), Source: "ED vitals", Evidence: []int{1}},
			{Kind: "vital", Name: "Urine output", Value: claim.Number(200), Unit: "cc", Context: "over 8 h, accessory data", Time: t0, Source: "intake and output", Evidence: []int{2}},
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

// note is a cite of a note excerpt.
func note(name, text string) Cite {
	return Cite{Kind: "note", Name: name, Value: claim.Text(text), Time: t0, Source: name, Evidence: []int{3}}
}

// lintCase is a non-compliant query: the compliant query changed by mod.
type lintCase struct {
	name string
	rule string   // the only rule broken (when want is empty)
	want []string // exactly the "rule field" pairs reported
	mod  func(q *Query)
}

// TestLintRejects feeds non-compliant or leading queries to the linter: each is rejected
// with exactly the rule it breaks and, for the wording and support checks, exactly the
// fields ("Q3 intro"). Every phrase family of lint_phrases.json is exercised.
func TestLintRejects(t *testing.T) {
	if res := Lint(ptr(compliantQuery()), LintOptions{}); !res.OK {
		t.Fatalf("the compliant query fails: %+v", res.Violations)
	}
	cases := []lintCase{
		{"no indicators", "Q1", nil, func(q *Query) {
			q.Indicators = nil
			q.Options[0].Indicators, q.Options[1].Indicators = nil, nil
			q.Options[0].Documented, q.Options[1].Documented = true, true
		}},
		{"indicator without source", "Q1", nil, func(q *Query) { q.Indicators[0].Source = "" }},
		{"indicator without time", "Q1", nil, func(q *Query) { q.Indicators[1].Time = time.Time{} }},
		{"prior encounter not labelled", "Q1", nil, func(q *Query) { q.Indicators[0].Time = t0.AddDate(0, -3, 0) }},
		{"no reason stated", "Q2", nil, func(q *Query) { q.ReasonText = " " }},
		{"unknown reason", "Q2", nil, func(q *Query) { q.Reason = "case_mix" }},
		{"DRG in the question", "Q3", nil, func(q *Query) {
			q.Question = "Based on your clinical judgment, please clarify the diagnosis; this affects the DRG."
		}},
		{"MCC in the intro", "Q3", nil, func(q *Query) { q.Intro = "Sepsis would be an MCC for this admission." }},
		{"reimbursement", "Q3", nil, func(q *Query) { q.ReasonText = "Documentation affects reimbursement." }},
		{"dollar sign", "Q3", nil, func(q *Query) { q.ReasonText = "Worth $4,000." }},
		{"case mix", "Q3", nil, func(q *Query) { q.Intro = "Our case-mix index is low this quarter." }},
		{"relative weight", "Q3", nil, func(q *Query) { q.Intro = "The relative weight changes with sepsis." }},
		{"optimizing", "Q3", nil, func(q *Query) { q.ReasonText = "Optimizing documentation for this stay." }},
		{"HAC status", "Q3", nil, func(q *Query) { q.Intro = "The ulcer would be a HAC." }},
		{"PSI", "Q3", nil, func(q *Query) { q.Intro = "Avoids a PSI." }},
		{"quality score", "Q3", nil, func(q *Query) { q.ReasonText = "Affects quality scores." }},
		{"no other option", "Q4", nil, func(q *Query) { q.Options = slices.Delete(q.Options, 2, 3) }},
		{"no undetermined option", "Q4", nil, func(q *Query) { q.Options = q.Options[:3] }},
		{"no diagnosis option", "Q4", nil, func(q *Query) { q.Options = q.Options[2:] }},
		{"yes/no options in multiple choice", "Q4", nil, func(q *Query) {
			q.Options = append(q.Options, Option{Text: "Yes", Kind: OptionYes})
		}},
		{"undocumented diagnosis without indicator", "Q5", nil, func(q *Query) { q.Options[1].Indicators = nil }},
		{"option cites an indicator the query lacks", "Q5", nil, func(q *Query) { q.Options[0].Indicators = []int{7} }},
		{"yes/no for a new diagnosis", "Q6", nil, func(q *Query) {
			q.Format = FormatYesNo
			q.Options = []Option{{Text: "Yes", Kind: OptionYes}, {Text: "No", Kind: OptionNo}, {Text: "Other", Kind: OptionOther}, {Text: "Clinically undetermined", Kind: OptionUndetermined}}
		}},
		{"yes/no without other and undetermined", "Q6", nil, func(q *Query) {
			q.Format, q.Purpose = FormatYesNo, PurposeConfirmDocumented
			q.Options = []Option{{Text: "Yes", Kind: OptionYes}, {Text: "No", Kind: OptionNo}}
		}},
		{"open-ended names the diagnosis", "Q7", nil, func(q *Query) {
			q.Format, q.Options = FormatOpenEnded, nil
			q.Question = "Based on your clinical judgment, does the patient have sepsis or another condition?"
		}},
		{"open-ended with diagnosis options", "Q7", nil, func(q *Query) {
			q.Format = FormatOpenEnded
			q.Question = "Based on your clinical judgment, what condition is being treated?"
		}},
		{"are you treating", "Q8", nil, func(q *Query) { q.Question = "Based on the lactate, are you treating an infection?" }},
		{"please document", "Q8", nil, func(q *Query) { q.Question = "Please document the condition being treated." }},
		{"would you agree", "Q8", nil, func(q *Query) { q.Question = "Would you agree that the patient has organ dysfunction?" }},
		{"can you add", "Q8", nil, func(q *Query) { q.Question = "Can you add a diagnosis for the lactate of 3.4?" }},
		{"consider documenting", "Q8", nil, func(q *Query) { q.ReasonText = "Consider documenting the condition treated." }},
		{"nudge to remove a complication", "Q8", nil, func(q *Query) { q.Question = "Please remove the complication if it was expected." }},
		{"verbal query without record", "Q9", nil, func(q *Query) {
			q.Channel = ChannelVerbal
			q.State, q.SentAt, q.ContentHash = StateSent, t0, q.QueryContent.Hash()
			q.Audit = append(q.Audit, AuditEvent{At: t0, Action: "sent"})
		}},
		{"unknown channel", "Q9", nil, func(q *Query) { q.Channel = "fax" }},
		{"edited after sending", "Q10", nil, func(q *Query) {
			q.State, q.SentAt, q.ContentHash = StateSent, t0, q.QueryContent.Hash()
			q.Options[1].Text = "Infection, sepsis ruled out"
		}},
		{"version 2 supersedes nothing", "Q10", nil, func(q *Query) { q.Version = 2 }},
		{"no author", "Q11", nil, func(q *Query) { q.Author = nil }},
		{"no encounter", "Q11", nil, func(q *Query) { q.EncounterID = "" }},
		{"empty audit trail", "Q11", nil, func(q *Query) { q.Audit = nil }},
		{"sent without provider", "Q11", nil, func(q *Query) {
			q.Provider = nil
			q.State, q.SentAt, q.ContentHash = StateSent, t0, q.QueryContent.Hash()
		}},
		{"answer not authenticated", "Q11", nil, func(q *Query) {
			q.State, q.SentAt, q.ContentHash = StateAnswered, t0, q.QueryContent.Hash()
			q.Answer, q.AnsweredAt = &Answer{Outcome: OutcomeAgree, At: t0.Add(time.Hour)}, t0.Add(time.Hour)
		}},
		{"closed without effect", "Q11", nil, func(q *Query) {
			q.State, q.SentAt, q.ContentHash = StateClosed, t0, q.QueryContent.Hash()
			q.Answer, q.AnsweredAt = &Answer{Outcome: OutcomeAgree, AuthenticatedBy: "P100", At: t0.Add(time.Hour)}, t0.Add(time.Hour)
		}},
		{"escalated without recipient", "Q12", nil, func(q *Query) {
			q.State, q.SentAt, q.ContentHash = StateEscalated, t0, q.QueryContent.Hash()
			q.Escalation = &Escalation{At: t0.Add(72 * time.Hour)}
		}},
	}
	cases = append(cases, leadingCases...)
	var messages []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := compliantQuery()
			c.mod(&q)
			res := Lint(&q, LintOptions{})
			if c.want == nil {
				if res.OK || !slices.Equal(res.Rules(), []string{c.rule}) {
					t.Errorf("rules %v, want [%s]: %+v", res.Rules(), c.rule, res.Violations)
				}
			} else {
				var got []string
				for _, v := range res.Violations {
					if p := v.Rule + " " + v.Field; !slices.Contains(got, p) {
						got = append(got, p)
					}
				}
				want := slices.Clone(c.want)
				slices.Sort(got)
				slices.Sort(want)
				if res.OK || !slices.Equal(got, want) {
					t.Errorf("got %q, want %q: %+v", got, want, res.Violations)
				}
			}
			for _, v := range res.Violations {
				if v.Message == "" || v.Field == "" {
					t.Errorf("violation without message or field: %+v", v)
				}
				messages = append(messages, v.Message)
			}
		})
	}
	// Every phrase family rejects at least one query.
	for _, f := range lintBook().Families {
		if !slices.ContainsFunc(messages, func(m string) bool { return strings.Contains(m, "("+f.What+")") }) {
			t.Errorf("family %s (%s) rejects none of the test queries", f.Family, f.What)
		}
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
	// Q7: a question about a new diagnosis names it ("sepsis").
	if got := le.Result.Rules(); !slices.Equal(got, []string{"Q3", "Q7", "Q8"}) {
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

// leadingCases are leading or non-compliant queries written for the linter: financial and
// quality impact language (Q3), leading wording (Q8), questions naming the diagnosis in
// question (Q7) and options supported only by documentation (Q5), with the evasions an author
// might try (homoglyphs, zero-width characters, dotted or spaced acronyms, split words, mixed
// case, curly apostrophes).
var leadingCases = []lintCase{
	// Q3: payment, reimbursement, money.
	{"pay: Medicare will pay less", "", []string{"Q3 reason_text"}, func(q *Query) {
		q.ReasonText = "Without this diagnosis Medicare will pay less for the stay."
	}},
	{"paid", "", []string{"Q3 intro"}, func(q *Query) {
		q.Intro = "The hospital gets paid more when organ dysfunction is documented."
	}},
	{"re-imbursement split by a hyphen", "", []string{"Q3 question"}, func(q *Query) {
		q.Question = "Based on your clinical judgment, please clarify the diagnosis (re-imbursement depends on it)."
	}},
	{"pay ment split by a space", "", []string{"Q3 reason_text"}, func(q *Query) {
		q.ReasonText = "The documentation affects pay ment for this stay."
	}},
	{"payment with a zero-width space", "", []string{"Q3 intro"}, func(q *Query) {
		q.Intro = "Pay\u200bment for this stay is under review."
	}},
	{"euro sign", "", []string{"Q3 reason_text"}, func(q *Query) { q.ReasonText = "Worth about €4,000." }},
	{"USD and 4k", "", []string{"Q3 intro"}, func(q *Query) { q.Intro = "An extra 4k USD for this stay." }},
	{"billing in an option", "", []string{"Q3 options[1]"}, func(q *Query) {
		q.Options[1].Text = "Localized infection without sepsis (lower billing)"
	}},
	{"insurance", "", []string{"Q3 reason_text"}, func(q *Query) {
		q.ReasonText = "The insurer requires a more specific diagnosis."
	}},
	// Q3: DRG, CC/MCC, weight, case mix.
	{"dotted D.R.G.", "", []string{"Q3 reason_text"}, func(q *Query) { q.ReasonText = "Clarification changes the D.R.G." }},
	{"full-width DRG", "", []string{"Q3 question"}, func(q *Query) {
		q.Question = "Based on your clinical judgment, please clarify the diagnosis; it affects the ＤＲＧ."
	}},
	{"Cyrillic MCC", "", []string{"Q3 intro"}, func(q *Query) {
		q.Intro = "Sepsis is an \u041c\u0421\u0421 for this admission."
	}},
	{"spaced M C C in an option", "", []string{"Q3 options[0]"}, func(q *Query) {
		q.Options[0].Text = "Sepsis with acute organ dysfunction (M C C)"
	}},
	{"a cc in lower case", "", []string{"Q3 intro"}, func(q *Query) { q.Intro = "Acute blood loss anemia would be a cc." }},
	{"CC/MCC capture", "", []string{"Q3 reason_text"}, func(q *Query) { q.ReasonText = "CC/MCC capture opportunity." }},
	{"complication or comorbidity", "", []string{"Q3 intro"}, func(q *Query) {
		q.Intro = "Hyponatremia counts as a complication or comorbidity."
	}},
	{"RW of 1.2", "", []string{"Q3 intro"}, func(q *Query) { q.Intro = "The RW of 1.2 rises to 1.9 with sepsis." }},
	{"DRG weight", "", []string{"Q3 reason_text"}, func(q *Query) { q.ReasonText = "A higher case weight is expected." }},
	{"C.M.I.", "", []string{"Q3 intro"}, func(q *Query) { q.Intro = "Our C.M.I. is below last year's." }},
	// Q3: severity of illness, risk of mortality, PSI, HAC, quality programs.
	{"S-O-I/R-O-M", "", []string{"Q3 reason_text"}, func(q *Query) { q.ReasonText = "S-O-I/R-O-M will increase." }},
	{"severity of illness", "", []string{"Q3 question", "Q8 question"}, func(q *Query) {
		q.Question = "Based on your clinical judgment, please clarify the diagnosis to reflect the severity of illness."
	}},
	{"risk of mortality", "", []string{"Q3 intro"}, func(q *Query) { q.Intro = "Documenting this raises the risk of mortality." }},
	{"risk of mortality score", "", []string{"Q3 reason_text"}, func(q *Query) {
		q.ReasonText = "A higher risk-of-mortality score follows."
	}},
	{"observed to expected mortality", "", []string{"Q3 reason_text"}, func(q *Query) {
		q.ReasonText = "Our observed-to-expected mortality ratio is high."
	}},
	{"P.S.I.", "", []string{"Q3 intro"}, func(q *Query) { q.Intro = "Post-op respiratory failure is a P.S.I." }},
	{"patient safety indicator in a label", "", []string{"Q3 indicators[0].label"}, func(q *Query) {
		q.Indicators[0].Label = "patient safety indicator 13"
	}},
	{"HAC", "", []string{"Q3 question"}, func(q *Query) {
		q.Question = "Based on your clinical judgment, please clarify the diagnosis (HAC status)."
	}},
	{"hospital-acquired conditions", "", []string{"Q3 reason_text"}, func(q *Query) {
		q.ReasonText = "Hospital-acquired conditions are publicly compared."
	}},
	{"quality program", "", []string{"Q3 intro"}, func(q *Query) { q.Intro = "This query supports our Quality program." }},
	{"star rating", "", []string{"Q3 reason_text"}, func(q *Query) { q.ReasonText = "Affects the hospital's 5-star rating." }},
	{"value-based purchasing and readmission penalty", "", []string{"Q3 intro"}, func(q *Query) {
		q.Intro = "Value-based purchasing and the readmission penalty depend on it."
	}},
	{"HCC and RAF", "", []string{"Q3 reason_text"}, func(q *Query) { q.ReasonText = "Adds an HCC and raises the RAF." }},
	{"GMLOS", "", []string{"Q3 intro"}, func(q *Query) { q.Intro = "The stay already exceeds the GMLOS." }},
	// Q3: optimizing, denials, profiles.
	{"documentation optimization", "", []string{"Q3 reason_text"}, func(q *Query) {
		q.ReasonText = "Documentation optimization for this encounter."
	}},
	{"higher-paying diagnosis", "", []string{"Q3 question"}, func(q *Query) {
		q.Question = "Based on your clinical judgment, which higher-paying diagnosis applies?"
	}},
	{"capture the severity", "", []string{"Q3 reason_text", "Q8 reason_text"}, func(q *Query) {
		q.ReasonText = "To capture the severity of this admission."
	}},
	{"up-code", "", []string{"Q3 intro"}, func(q *Query) { q.Intro = "This is not an attempt to up-code." }},
	{"denial by the RAC", "", []string{"Q3 reason_text"}, func(q *Query) {
		q.ReasonText = "Prevents a clinical validation denial by the RAC."
	}},
	{"physician scorecard", "", []string{"Q3 intro"}, func(q *Query) {
		q.Intro = "Your physician scorecard improves with complete documentation."
	}},
	{"DRG in a record quote", "", []string{"Q3 indicators[3]"}, func(q *Query) {
		q.Indicators = append(q.Indicators, note("case management note", "Working DRG 871, GMLOS 4.5"))
	}},
	{"casemix in a label", "", []string{"Q3 indicators[1].label"}, func(q *Query) { q.Indicators[1].Label = "casemix driver" }},
	{"medical necessity if audited", "", []string{"Q3 reason_text"}, func(q *Query) {
		q.ReasonText = "Supports medical necessity for the inpatient stay if audited."
	}},
	{"hospital ranking", "", []string{"Q3 intro"}, func(q *Query) {
		q.Intro = "Our hospital's ranking depends on complete documentation."
	}},
	{"HCC capture", "", []string{"Q3 question"}, func(q *Query) {
		q.Question = "Based on your clinical judgment, please clarify the diagnosis for HCC capture."
	}},
	{"reimbur sement split by a space", "", []string{"Q3 reason_text"}, func(q *Query) { q.ReasonText = "Affects reimbur sement." }},
	{"expected length of stay", "", []string{"Q3 intro"}, func(q *Query) { q.Intro = "The expected length of stay is 4.1 days." }},
	// Q8: requests to document, add, change or remove.
	{"kindly document", "", []string{"Q8 reason_text"}, func(q *Query) { q.ReasonText = "Kindly document the condition treated." }},
	{"please consider adding", "", []string{"Q8 question"}, func(q *Query) {
		q.Question = "Based on your clinical judgment, please consider adding a diagnosis for these findings."
	}},
	{"could you please include", "", []string{"Q8 question"}, func(q *Query) {
		q.Question = "Could you please include the condition being treated in your progress note?"
	}},
	{"we recommend documenting", "", []string{"Q8 intro"}, func(q *Query) { q.Intro = "We recommend documenting the acuity." }},
	{"it would be helpful to document", "", []string{"Q8 reason_text"}, func(q *Query) {
		q.ReasonText = "It would be helpful to document the underlying condition."
	}},
	{"if you could add", "", []string{"Q8 question"}, func(q *Query) {
		q.Question = "Based on your clinical judgment, if you could add the diagnosis being treated that would help."
	}},
	{"don't forget, curly apostrophe", "", []string{"Q8 intro"}, func(q *Query) {
		q.Intro = "Don’t forget to document the cause of the lactate elevation."
	}},
	{"you may want to", "", []string{"Q8 reason_text"}, func(q *Query) { q.ReasonText = "You may want to update the problem list." }},
	{"should be documented", "", []string{"Q8 reason_text"}, func(q *Query) {
		q.ReasonText = "The organ dysfunction should be documented."
	}},
	{"should be removed", "", []string{"Q8 question"}, func(q *Query) {
		q.Question = "Based on your clinical judgment, the complication should be removed if it was expected."
	}},
	{"please update the diagnosis", "", []string{"Q8 question"}, func(q *Query) {
		q.Question = "Please update the diagnosis in the discharge summary."
	}},
	{"imperative", "", []string{"Q8 reason_text"}, func(q *Query) {
		q.ReasonText = "Lactate 3.4 and MAP 62 noted. Add the corresponding diagnosis."
	}},
	{"request hidden with homoglyphs", "", []string{"Q8 intro"}, func(q *Query) {
		q.Intro = "\u03a1lease d\u043ecument the acuity." // Greek Rho, Cyrillic o
	}},
	{"request in a note quote", "", []string{"Q8 indicators[3].value"}, func(q *Query) {
		q.Indicators = append(q.Indicators, note("progress note", "CDI: please add organ dysfunction to the problem list"))
	}},
	{"request in the verbal record", "", []string{"Q8 verbal.notes"}, func(q *Query) {
		q.Channel = ChannelVerbal
		q.Verbal = &VerbalRecord{ConductedBy: specialist.ID, ConductedWith: "P100", At: t0,
			Notes: "Asked the attending to please document organ dysfunction."}
	}},
	// Q8: agreement.
	{"would you agree, upper case and zero width", "", []string{"Q8 question"}, func(q *Query) {
		q.Question = "WOULD YOU\u200b AGREE that the findings represent organ dysfunction?"
	}},
	{"can you confirm the patient has", "", []string{"Q8 question"}, func(q *Query) {
		q.Question = "Can you confirm the patient has an infection?"
	}},
	{"tag question, correct?", "", []string{"Q8 question"}, func(q *Query) {
		q.Question = "The findings represent organ dysfunction, correct?"
	}},
	{"isn't it", "", []string{"Q8 question"}, func(q *Query) { q.Question = "This is organ dysfunction, isn’t it?" }},
	{"wouldn't you say", "", []string{"Q8 question"}, func(q *Query) {
		q.Question = "Wouldn't you say the lactate reflects hypoperfusion?"
	}},
	// Q8: presumption.
	{"is the patient being treated for", "", []string{"Q8 question"}, func(q *Query) {
		q.Question = "Is the patient being treated for an infection?"
	}},
	{"pt has", "", []string{"Q8 intro"}, func(q *Query) { q.Intro = "Pt. has organ dysfunction per the labs." }},
	{"the patient is in respiratory failure, clearly", "", []string{"Q8 intro"}, func(q *Query) {
		q.Intro = "The patient is clearly in acute respiratory failure."
	}},
	{"meets criteria in an option", "", []string{"Q8 options[0]"}, func(q *Query) {
		q.Options[0].Text = "Sepsis with acute organ dysfunction (meets Sepsis-3 criteria)"
	}},
	{"criteria are met", "", []string{"Q8 reason_text"}, func(q *Query) { q.ReasonText = "SIRS criteria are met." }},
	{"indicative of", "", []string{"Q8 intro"}, func(q *Query) { q.Intro = "Findings indicative of hypoperfusion." }},
	{"clinical picture of", "", []string{"Q8 reason_text"}, func(q *Query) {
		q.ReasonText = "The clinical picture is that of organ dysfunction."
	}},
	{"supports the diagnosis in an indicator detail", "", []string{"Q8 indicators[0].detail"}, func(q *Query) {
		q.Indicators[0].Detail = "supports the diagnosis of organ dysfunction"
	}},
	{"as you know", "", []string{"Q8 intro"}, func(q *Query) { q.Intro = "As you know, the MAP was low." }},
	{"to more accurately reflect the acuity", "", []string{"Q8 reason_text"}, func(q *Query) {
		q.ReasonText = "Clarification is needed to more accurately reflect the acuity."
	}},
	{"to capture the acuity", "", []string{"Q3 question", "Q8 question"}, func(q *Query) {
		q.Question = "Based on your clinical judgment, please clarify the diagnosis to capture the acuity."
	}},
	{"obviously", "", []string{"Q8 intro"}, func(q *Query) { q.Intro = "Obviously, the lactate of 3.4 is significant." }},
	{"most providers would", "", []string{"Q8 intro"}, func(q *Query) {
		q.Intro = "Most providers would document organ dysfunction with these values."
	}},
	{"as evidenced by in an option", "", []string{"Q8 options[0]"}, func(q *Query) {
		q.Options[0].Text = "Sepsis with acute organ dysfunction, as evidenced by the lactate"
	}},
	{"would it be reasonable to document", "", []string{"Q8 question"}, func(q *Query) {
		q.Question = "Would it be reasonable to document the condition these values represent?"
	}},
	{"rather than a complication", "", []string{"Q8 question"}, func(q *Query) {
		q.Question = "Based on your clinical judgment, was the hypotension an expected effect rather than a complication?"
	}},
	// Q7 and Q8: naming the new diagnosis in question.
	{"multiple-choice question names the new diagnosis", "", []string{"Q7 question"}, func(q *Query) {
		q.Question = "Based on your clinical judgment, does the patient have sepsis?"
	}},
	{"spelled-out diagnosis in the question", "", []string{"Q7 question"}, func(q *Query) {
		q.Question = "Based on your clinical judgment, please clarify whether s e p s i s is present."
	}},
	{"concern for the candidate in the intro", "", []string{"Q8 intro"}, func(q *Query) {
		q.Intro = "Patient admitted with pneumonia; concern for sepsis."
	}},
	{"the candidate is likely", "", []string{"Q8 intro"}, func(q *Query) { q.Intro = "Given the lactate, sepsis is likely." }},
	{"reason names the candidate", "", []string{"Q8 reason_text"}, func(q *Query) {
		q.ReasonText = "Possible sepsis is not documented."
	}},
	// Q5: options supported only by documentation; Q1: unknown cite kinds.
	{"self-citation: r/o sepsis", "", []string{"Q5 options[0]"}, func(q *Query) {
		q.Indicators = append(q.Indicators, note("ED provider note", "r/o sepsis"))
		q.Options[0].Indicators = []int{3}
	}},
	{"supported by the documented diagnosis only", "", []string{"Q5 options[1]"}, func(q *Query) {
		q.Indicators = append(q.Indicators, Cite{Kind: "documented_dx", Name: "Urinary tract infection", Code: "N390", Time: t0, Source: "H&P"})
		q.Options[1].Indicators = []int{3}
	}},
	{"supported by a working code only", "", []string{"Q5 options[0]"}, func(q *Query) {
		q.Indicators = append(q.Indicators, Cite{Kind: CiteWorkingCode, Name: "Sepsis, unspecified organism", Code: "A419", Time: t0, Source: "working codes"})
		q.Options[0].Indicators = []int{3}
	}},
	{"cite of the replaced code", "", []string{"Q5 options[0]"}, func(q *Query) {
		q.Replaces = []string{"R6520"}
		q.Indicators = append(q.Indicators, Cite{Kind: "lab", Name: "Severe sepsis", Code: "R6520", Time: t0, Source: "LAB"})
		q.Options[0].Indicators = []int{3}
	}},
	{"every option supported only by documentation", "", []string{"Q5 options"}, func(q *Query) {
		q.Indicators = []Cite{{Kind: "documented_dx", Name: "Sepsis", Code: "A419", Time: t0, Source: "H&P"}}
		q.Options[0].Documented, q.Options[1].Documented = true, true
		q.Options[0].Indicators, q.Options[1].Indicators = nil, nil
	}},
	// A cite without a known kind cannot be weighed: Q1 names its kind, it is not taken for
	// documentation (Q5 self-citation) (issue 21 item 2).
	{"indicators without a kind", "", []string{"Q1 indicators[0].kind", "Q1 indicators[1].kind", "Q1 indicators[2].kind"}, func(q *Query) {
		for i := range q.Indicators {
			q.Indicators[i].Kind = ""
		}
	}},
	{"unknown indicator kind", "", []string{"Q1 indicators[0].kind"}, func(q *Query) { q.Indicators[0].Kind = "hearsay" }},
	{"an imaging report without its source", "", []string{"Q1 indicators[0]"}, func(q *Query) {
		q.Indicators[0].Kind, q.Indicators[0].Source = CiteImaging, ""
	}},
}

// TestLintAccepts: compliant clinical queries whose texts contain words that resemble the
// forbidden vocabulary or the leading wording pass — body weight, volumes in cc, pressures in
// psi, range of motion, quality of life, "patient has" in a quoted note, telemetry capture
// beats, "charge nurse", "denies", the chief complaint, social needs (cost of medications).
func TestLintAccepts(t *testing.T) {
	cases := []struct {
		name string
		mod  func(q *Query)
	}{
		{"body weight and weight loss", func(q *Query) {
			q.Intro = "Patient admitted on 2026-05-04 with pneumonia. Body weight 41 kg, unintentional weight loss of 10 % in 6 months; weight-bearing as tolerated."
			q.Indicators = append(q.Indicators, Cite{Kind: "measurement", Name: "Weight", Value: claim.Number(41), Unit: "kg", Time: t0, Source: "nursing admission assessment"})
		}},
		{"urine output in cc", func(q *Query) {
			q.Indicators[2].Context = "30 cc/hr over 8 h, 200cc total"
		}},
		{"range of motion (ROM) and a rolling walker in a PT note", func(q *Query) {
			q.Indicators = append(q.Indicators, note("physical therapy note", "Right shoulder range of motion (ROM) limited to 90 degrees; ambulated 150 ft with RW, CGA"))
		}},
		{"quality of life and sleep quality", func(q *Query) {
			q.Indicators = append(q.Indicators, note("palliative care note", "Reports poor quality of life and poor sleep quality; pain quality sharp"))
		}},
		{"patient has in a quoted nursing note", func(q *Query) {
			q.Indicators = append(q.Indicators, note("nursing note", "Patient has increased work of breathing. Charge nurse notified."))
		}},
		{"PEEP in cmH2O and cuff pressure in psi", func(q *Query) {
			q.Indicators = append(q.Indicators, Cite{Kind: "order", Name: "Mechanical ventilation, PEEP 5 cmH2O, cuff pressure 25 psi", Time: t0, Source: "orders"})
		}},
		{"telemetry capture beats", func(q *Query) {
			q.Indicators = append(q.Indicators, note("telemetry strip", "Paced rhythm with capture beats; no failure to capture"))
		}},
		{"denies chest pain, heart rate 110", func(q *Query) {
			q.Indicators = append(q.Indicators,
				Cite{Kind: "vital", Name: "Heart rate", Value: claim.Number(110), Unit: "/min", Time: t0, Source: "ED triage"},
				note("ED provider note", "Denies chest pain. CC: shortness of breath."))
		}},
		{"social needs", func(q *Query) {
			q.Indicators = append(q.Indicators, note("social work note", "Unable to afford his insulin due to cost; no insurance; unable to pay for medications"))
		}},
		{"clinical acronyms that spell forbidden ones elsewhere", func(q *Query) {
			q.Indicators = append(q.Indicators,
				note("radiology report", "LI-RADS 5 lesion in segment 7 consistent with HCC, 3.2 cm"),
				note("pain management note", "Dorsal root ganglion (DRG) stimulator in place"),
				note("ED provider note", "AUDIT-C score 9; PSI class IV; O/E: chest clear; patient in denial about drinking"),
				note("operative note", "Tolerated well without major complications. EBL 800 cc"),
				note("cardiology note", "Will optimize diuresis and GDMT; high risk of mortality discussed with family"))
		}},
		{"compliant question, closing and disclaimer", func(q *Query) {
			q.Intro = "Patient admitted on 2026-05-04 with pneumonia. In responding to this query, please exercise your independent professional judgment. The fact that a query is asked does not imply that any particular answer is desired or expected."
			q.Question = "Based on your clinical judgment, please clarify the diagnosis that most accurately reflects the condition being evaluated and treated. Please document your response in the medical record."
		}},
		{"open-ended question asking what is treated", func(q *Query) {
			q.Format, q.Options = FormatOpenEnded, nil
			q.Question = "Based on your clinical judgment, what condition, if any, are you evaluating and treating with the fluids and vasopressors?"
		}},
		{"clinical validation names the documented diagnosis", func(q *Query) {
			q.Purpose, q.Reason, q.ReasonText = PurposeClinicalValidation, QueryReasonClinicalValidation, reasonTextValidation
			q.Question = "Based on your clinical judgment, please clarify whether the diagnosis of sepsis is clinically supported or not supported."
			q.Options = []Option{
				{Text: "Sepsis is confirmed", Kind: OptionDiagnosis, Documented: true},
				{Text: "Sepsis was ruled out", Kind: OptionDiagnosis, Documented: true, Action: ActionRemove},
				{Text: "Other (please specify)", Kind: OptionOther}, {Text: "Clinically undetermined", Kind: OptionUndetermined}}
		}},
		{"present-on-admission yes/no names the diagnosis", func(q *Query) {
			q.Format, q.Purpose, q.Reason, q.ReasonText = FormatYesNo, PurposePOA, QueryReasonPOA, reasonTextPOA
			q.Question = "Based on your clinical judgment, was the stage 3 pressure injury of the sacrum present at the time of the inpatient admission order?"
			q.Options = []Option{{Text: "Yes, present at the time of admission", Kind: OptionYes}, {Text: "No, it developed after admission", Kind: OptionNo},
				{Text: "Other (please specify)", Kind: OptionOther}, {Text: "Clinically undetermined", Kind: OptionUndetermined}}
		}},
		{"confirm or rule out a dietitian's diagnosis", func(q *Query) {
			q.Format, q.Purpose, q.ReasonText = FormatYesNo, PurposeConfirmDocumented, reasonTextNonProvider
			q.Question = "The dietitian documentation records severe protein-calorie malnutrition. Based on your clinical judgment, please confirm or rule out this diagnosis."
			q.Options = []Option{{Text: "Yes, confirmed", Kind: OptionYes}, {Text: "No, not confirmed", Kind: OptionNo},
				{Text: "Other (please specify)", Kind: OptionOther}, {Text: "Clinically undetermined", Kind: OptionUndetermined}}
		}},
		{"malnutrition, as a practice brief would write it", func(q *Query) {
			q.Diagnoses = []string{"malnutrition", "malnourished", "cachexia"}
			q.Intro = "72-year-old female admitted on 5/4 with pneumonia. Dietitian assessment 5/5: energy intake less than 50% of estimated needs for more than 1 month; 10% unintentional weight loss in 6 months; moderate loss of subcutaneous fat; severe muscle wasting at the temples."
			q.Question = "Based on your clinical judgment, can the patient's nutritional status be further clarified? Please document your response in the progress notes."
			q.Options[0].Text, q.Options[1].Text = "Severe protein-calorie malnutrition", "Moderate protein-calorie malnutrition"
		}},
		{"postoperative hemoglobin drop", func(q *Query) {
			q.Diagnoses = []string{"acute blood loss anemia", "anemia", "ABLA"}
			q.Intro = "Patient underwent right total hip arthroplasty on 5/4; estimated blood loss 800 mL. Hemoglobin 13.0 g/dL pre-op, 9.2 g/dL on POD 1 and 7.9 g/dL on POD 2; transfused 1 unit PRBC on POD 2."
			q.Question = "Based on your clinical judgment, please clarify the clinical significance of the postoperative hemoglobin values and the transfusion."
			q.Options[0].Text, q.Options[1].Text = "Acute blood loss anemia", "Expected postoperative blood loss, not clinically significant"
		}},
		{"heart failure type and acuity", func(q *Query) {
			q.Purpose, q.Reason, q.ReasonText = PurposeSpecificity, QueryReasonSpecificity, reasonTextSpecificity
			q.Diagnoses = []string{"heart failure", "CHF"}
			q.Intro = "Patient with documented CHF admitted with dyspnea. BNP 1,250 pg/mL; echo LVEF 30%; chest x-ray: pulmonary vascular congestion; furosemide 40 mg IV BID."
			q.Question = "Based on your clinical judgment, please clarify the type and acuity of the heart failure being treated."
			q.Options[0].Text, q.Options[1].Text = "Acute on chronic systolic (congestive) heart failure", "Chronic systolic (congestive) heart failure without acute exacerbation"
		}},
		{"respiratory failure, the QUERY_PRACTICE example", func(q *Query) {
			q.Diagnoses = []string{"respiratory failure", "ARF"}
			q.Intro = "Patient admitted with pneumonia. Documentation shows: SpO2 86% on room air (ED triage, 10/02 14:05); ABG pH 7.31, PaCO2 52, PaO2 55 (10/02 15:10); respiratory rate 32 (nursing flowsheet 10/02 15:00); BiPAP started (respiratory therapy note 10/02 15:30)."
			q.Question = "Based on your clinical judgment, please clarify the condition being treated with BiPAP:"
			q.Options[0].Text, q.Options[1].Text = "Acute respiratory failure with hypoxia and hypercapnia", "Hypoxemia without respiratory failure"
			q.Options = slices.Insert(q.Options, 1, Option{Text: "Acute respiratory insufficiency", Kind: OptionDiagnosis, Indicators: []int{0, 1}})
		}},
		{"conflicting documentation with the echo", func(q *Query) {
			q.Purpose, q.Reason, q.ReasonText = PurposeConflict, QueryReasonConflicting, reasonTextConflicting
			q.Intro = "The H&P documents chronic systolic heart failure; the cardiology consult documents chronic diastolic heart failure; echo 5/5: LVEF 55% with grade II diastolic dysfunction."
			q.Question = "Based on your clinical judgment, please clarify which diagnosis best describes the patient's condition."
			q.Options[0].Text, q.Options[1].Text = "Chronic systolic (congestive) heart failure", "Chronic diastolic (congestive) heart failure"
			q.Options[0].Documented, q.Options[1].Documented = true, true
		}},
		{"footer", func(q *Query) {
			q.Question += " If you have questions or concerns regarding this query, please contact the CDI department at x1234. This query and your response will be retained as part of the permanent medical record. Thank you."
		}},
		{"options excluding the diagnosis", func(q *Query) {
			q.Indicators = append(q.Indicators, note("ED provider note", "concern for sepsis"))
			q.Options[1].Indicators = []int{0, 3} // the lactate supports "without sepsis"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := compliantQuery()
			c.mod(&q)
			if res := Lint(&q, LintOptions{}); !res.OK {
				t.Errorf("rejected: %+v", res.Violations)
			}
		})
	}
}

// TestLintTokens shows the normalization the wording checks run on.
func TestLintTokens(t *testing.T) {
	for in, want := range map[string]string{
		"D.R.G. and M C C, S-O-I":     "drg and mcc soi",
		"a P.S.I. event":              "a psi event",
		"C C / M C C":                 "cc mcc",
		"Pay\u200bment\u00adplan":     "paymentplan",
		"ＤＲＧ 𝐌𝐂𝐂":                     "drg mcc",
		"\u041c\u0421\u0421 \u0440ay": "mcc pay",
		"Don’t forget, ﬁnal café":     "dont forget final cafe",
		"200cc/hr, SpO2 86%":          "200 cc hr spo 2 86",
		"ᴅʀɢ":                         "drg",
	} {
		if got := strings.Join(tokStrings(lintTokens(in)), " "); got != want {
			t.Errorf("lintTokens(%q) = %q, want %q", in, got, want)
		}
	}
	if r, ok := currencySign("worth ＄4,000"); !ok || r != '$' {
		t.Errorf("currency sign %q %v", r, ok)
	}
}

// TestPhraseBook: the embedded phrase families compile; malformed patterns are refused.
func TestPhraseBook(t *testing.T) {
	if b, err := parsePhraseBook(lintPhrasesJSON); err != nil || len(b.Families) == 0 {
		t.Fatalf("lint_phrases.json: %v", err)
	}
	for _, bad := range []string{
		`{"families":[{"family":"x","rule":"Q9","phrases":["a"]}]}`,
		`{"families":[{"family":"x","rule":"Q3","phrases":["Pay"]}]}`,
		`{"families":[{"family":"x","rule":"Q3","phrases":["~2 pay"]}]}`,
		`{"families":[{"family":"x","rule":"Q3","phrases":["pay ~2"]}]}`,
		`{"families":[{"family":"x","rule":"Q3","phrases":["@nope"]}]}`,
		`{"families":[{"family":"x","rule":"Q3","scope":"some","phrases":["pay"]}]}`,
		`{"families":[{"family":"x","rule":"Q3","phrases":["pay{"]}]}`,
		`{"candidate":{"before":["Possible"]},"families":[]}`,
	} {
		if _, err := parsePhraseBook([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// FuzzLint lints queries whose every text is the fuzzed string: the linter never panics.
func FuzzLint(f *testing.F) {
	for _, s := range []string{"", "D.R.G.", "please ~3 document", "\u200b\u00ad", "C C / M C C", "a b c d e f g",
		"$", "pay-\nment", "\xff\xfe", "Are you treating s e p s i s?", strings.Repeat("please document the ", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := compliantQuery()
		q.Intro, q.ReasonText, q.Question = s, s, s
		q.Diagnoses = append(q.Diagnoses, s)
		q.Options[0].Text = s
		q.Indicators = append(q.Indicators, Cite{Kind: s, Label: s, Name: s, Value: claim.Text(s), Context: s, Detail: s, Source: s, Time: t0})
		q.Options[1].Indicators = append(q.Options[1].Indicators, 3, -1, 99)
		q.Verbal = &VerbalRecord{Notes: s}
		res := Lint(&q, LintOptions{})
		if res.OK != (len(res.Violations) == 0) {
			t.Errorf("OK %v with %d violations", res.OK, len(res.Violations))
		}
	})
}
