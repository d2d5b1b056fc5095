package cdi

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// LintOptions tune the checks that depend on time and policy.
type LintOptions struct {
	// Now is the time of the check (Q12: overdue queries); zero skips the overdue check.
	Now time.Time
	// EscalationHours is the policy's delay before an unanswered query must be escalated;
	// 0 skips the check.
	EscalationHours float64
}

// Violation is one broken compliance rule.
type Violation struct {
	Rule    string `json:"rule"` // Q1 … Q12
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// LintResult is the outcome of Lint: OK when no rule is broken.
type LintResult struct {
	OK         bool        `json:"ok"`
	Violations []Violation `json:"violations,omitempty"`
}

// Rules returns the ids of the broken rules, each once, in Q order.
func (r LintResult) Rules() []string {
	var out []string
	for _, v := range r.Violations {
		if !slices.Contains(out, v.Rule) {
			out = append(out, v.Rule)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return ruleNum(a) - ruleNum(b) })
	return out
}

func ruleNum(id string) int {
	n := 0
	fmt.Sscanf(id, "Q%d", &n)
	return n
}

// Forbidden vocabulary (Q3). Words are matched as whole words; the abbreviations are matched
// in upper case only, so the volume unit "cc" and the pressure unit "psi" stay allowed, and
// "weight" alone stays allowed (body weight and weight loss are clinical indicators; "relative
// weight" is not).
var (
	q3Words   = []string{"payment", "payments", "reimbursement", "reimbursements", "reimburse", "reimbursed", "drg", "drgs", "ms drg", "revenue", "dollar", "dollars", "denial", "denials", "denied claim", "case mix", "casemix", "quality score", "quality scores", "quality measure", "quality measures", "quality rating", "relative weight", "provider profile", "provider profiles", "hospital acquired condition", "hospital acquired conditions", "patient safety indicator", "patient safety indicators", "financial"}
	q3Prefix  = []string{"reimburs", "optimiz", "optimis"}
	q3Upper   = []string{"CC", "CCs", "MCC", "MCCs", "CMI", "HAC", "HACs", "PSI", "PSIs"}
	q8Leading = []string{"please document", "are you treating", "can you add", "consider documenting", "would you agree",
		"do you agree", "please add", "please remove", "should be removed", "please delete", "don t forget", "as you know",
		"is it possible to document", "can you document", "you should document"}
	q2Reasons  = []string{QueryReasonConflicting, QueryReasonIncomplete, QueryReasonAmbiguous, QueryReasonIllegible, QueryReasonClinicallyInconsistent, QueryReasonSpecificity, QueryReasonClinicalValidation, QueryReasonPOA, QueryReasonCauseEffect}
	q6Purposes = []string{PurposeConfirmDocumented, PurposePOA, PurposeCauseEffect, PurposeConflict}
	purposes   = []string{PurposeNewDiagnosis, PurposeSpecificity, PurposeClinicalValidation, PurposeConfirmDocumented, PurposePOA, PurposeCauseEffect, PurposeConflict}
)

// linter accumulates violations.
type linter struct{ v []Violation }

func (l *linter) add(rule, field, format string, args ...any) {
	l.v = append(l.v, Violation{Rule: rule, Field: field, Message: fmt.Sprintf(format, args...)})
}

// Lint checks a query against the compliant query practice rules Q1–Q12 that can be checked
// mechanically (QUERY_PRACTICE.md) and returns every violation with its rule id. Send
// refuses a query that does not pass.
func Lint(q *Query, opt LintOptions) LintResult {
	l := &linter{}
	l.q1(q)
	l.q2(q)
	l.q3(q)
	l.q4to7(q)
	l.q8(q)
	l.q9(q)
	l.q10(q)
	l.q11(q)
	l.q12(q, opt)
	return LintResult{OK: len(l.v) == 0, Violations: l.v}
}

// Q1: clinical indicators with source and time; earlier facts labelled prior encounter.
func (l *linter) q1(q *Query) {
	if len(q.Indicators) == 0 {
		l.add("Q1", "indicators", "the query cites no clinical indicator from the record")
	}
	for i, c := range q.Indicators {
		f := fmt.Sprintf("indicators[%d]", i)
		if strings.TrimSpace(c.Source) == "" {
			l.add("Q1", f, "indicator %q has no source document", c.Name)
		}
		if c.Time.IsZero() {
			l.add("Q1", f, "indicator %q has no date and time", c.Name)
		}
		if !q.AdmitDate.IsZero() && !c.Time.IsZero() && c.Time.Before(q.AdmitDate.Time().Add(-24*time.Hour)) && !c.PriorEncounter {
			l.add("Q1", f, "indicator %q predates this admission and is not labelled as from a prior encounter", c.Name)
		}
	}
}

// Q2: the reason is stated.
func (l *linter) q2(q *Query) {
	if !slices.Contains(q2Reasons, q.Reason) {
		l.add("Q2", "reason", "reason %q is not one of %s", q.Reason, strings.Join(q2Reasons, ", "))
	}
	if strings.TrimSpace(q.ReasonText) == "" {
		l.add("Q2", "reason_text", "the query does not state its reason")
	}
}

// providerTexts returns every provider-facing text of the query with its field name.
func providerTexts(q *Query) [][2]string {
	out := [][2]string{{"intro", q.Intro}, {"reason_text", q.ReasonText}, {"question", q.Question}}
	for i, o := range q.Options {
		out = append(out, [2]string{fmt.Sprintf("options[%d]", i), o.Text})
	}
	for i := range q.Indicators {
		out = append(out, [2]string{fmt.Sprintf("indicators[%d]", i), q.Indicators[i].Text()})
	}
	return out
}

// Q3: no financial or quality impact language.
func (l *linter) q3(q *Query) {
	for _, ft := range providerTexts(q) {
		field, text := ft[0], ft[1]
		if strings.Contains(text, "$") {
			l.add("Q3", field, "mentions money (\"$\")")
		}
		n := norm(text)
		for _, w := range q3Words {
			if strings.Contains(n, " "+w+" ") {
				l.add("Q3", field, "uses financial or quality language %q", w)
			}
		}
		for _, tok := range strings.Fields(n) {
			for _, p := range q3Prefix {
				if strings.HasPrefix(tok, p) {
					l.add("Q3", field, "uses financial or quality language %q", tok)
				}
			}
		}
		for _, tok := range strings.FieldsFunc(text, func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
		}) {
			if slices.Contains(q3Upper, tok) {
				l.add("Q3", field, "uses financial or quality language %q", tok)
			}
		}
	}
}

// Q4–Q7: options by format.
func (l *linter) q4to7(q *Query) {
	kinds := map[string]int{}
	for i, o := range q.Options {
		kinds[o.Kind]++
		f := fmt.Sprintf("options[%d]", i)
		if strings.TrimSpace(o.Text) == "" {
			l.add("Q4", f, "an option has no text")
		}
		if o.Kind == OptionDiagnosis && !o.Documented && len(o.Indicators) == 0 {
			l.add("Q5", f, "option %q names a diagnosis not yet documented without referencing a cited indicator", o.Text)
		}
		for _, r := range o.Indicators {
			if r < 0 || r >= len(q.Indicators) {
				l.add("Q5", f, "option %q references indicator %d, which the query does not cite", o.Text, r)
			}
		}
	}
	if !slices.Contains(purposes, q.Purpose) {
		l.add("Q6", "purpose", "purpose %q is not one of %s", q.Purpose, strings.Join(purposes, ", "))
	}
	hasOtherUndetermined := func(rule string) {
		if kinds[OptionOther] == 0 {
			l.add(rule, "options", "the options do not include \"other\" (free text)")
		}
		if kinds[OptionUndetermined] == 0 {
			l.add(rule, "options", "the options do not include \"clinically undetermined\"")
		}
	}
	switch q.Format {
	case FormatMultipleChoice:
		if kinds[OptionDiagnosis] == 0 {
			l.add("Q4", "options", "a multiple-choice query lists no clinically reasonable option")
		}
		if kinds[OptionYes]+kinds[OptionNo] > 0 {
			l.add("Q4", "options", "a multiple-choice query offers yes/no options")
		}
		hasOtherUndetermined("Q4")
	case FormatYesNo:
		if !slices.Contains(q6Purposes, q.Purpose) {
			l.add("Q6", "format", "yes/no is allowed only to confirm a documented diagnosis, establish POA, establish cause and effect or resolve conflicting documentation, not for purpose %q", q.Purpose)
		}
		if kinds[OptionYes] == 0 || kinds[OptionNo] == 0 {
			l.add("Q6", "options", "a yes/no query needs a yes and a no option")
		}
		hasOtherUndetermined("Q6")
	case FormatOpenEnded:
		if kinds[OptionDiagnosis] > 0 {
			l.add("Q7", "options", "an open-ended query lists diagnosis options")
		}
		n := norm(q.Question)
		for _, d := range q.Diagnoses {
			if d = norm(d); d != "" && strings.Contains(n, d) {
				l.add("Q7", "question", "the open-ended question names the diagnosis %q", strings.TrimSpace(d))
			}
		}
	default:
		l.add("Q4", "format", "format %q is not multiple_choice, yes_no or open_ended", q.Format)
	}
}

// Q8: no leading phrases.
func (l *linter) q8(q *Query) {
	for _, ft := range providerTexts(q) {
		n := norm(ft[1])
		for _, p := range q8Leading {
			if strings.Contains(n, " "+p+" ") {
				l.add("Q8", ft[0], "leading phrase %q", p)
			}
		}
	}
}

// Q9: verbal queries are recorded like written ones.
func (l *linter) q9(q *Query) {
	switch q.Channel {
	case ChannelWritten:
		return
	case ChannelVerbal:
	default:
		l.add("Q9", "channel", "channel %q is not written or verbal", q.Channel)
		return
	}
	if q.State == StateDraft {
		return
	}
	v := q.Verbal
	if v == nil || v.ConductedBy == "" || v.ConductedWith == "" || v.At.IsZero() {
		l.add("Q9", "verbal", "a verbal query records who conducted it, with whom and when")
	}
	if q.Answer != nil && strings.TrimSpace(q.Answer.Text) == "" && q.Answer.Option == nil {
		l.add("Q9", "answer", "the answer to a verbal query is recorded")
	}
}

// Q10: sent content is frozen; versions chain.
func (l *linter) q10(q *Query) {
	if q.Version < 1 {
		l.add("Q10", "version", "versions start at 1")
	}
	if q.Version > 1 && q.Supersedes == "" {
		l.add("Q10", "supersedes", "version %d does not name the version it supersedes", q.Version)
	}
	if q.State != StateDraft && q.State != "" {
		if q.ContentHash == "" {
			l.add("Q10", "content_hash", "a sent query has no frozen content hash")
		} else if q.ContentHash != q.QueryContent.Hash() {
			l.add("Q10", "content", "the content changed after the query was sent; edits must create a new version")
		}
	}
}

// Q11: audit trail fields.
func (l *linter) q11(q *Query) {
	if q.Author == nil || q.Author.ID == "" {
		l.add("Q11", "author", "the query has no author")
	}
	if q.EncounterID == "" {
		l.add("Q11", "encounter_id", "the query names no encounter")
	}
	if q.CreatedAt.IsZero() {
		l.add("Q11", "created_at", "the creation time is missing")
	}
	if len(q.Audit) == 0 {
		l.add("Q11", "audit", "the audit trail is empty")
	}
	switch q.State {
	case StateDraft, StateClosed:
	case StateSent, StateAnswered, StateEscalated:
	default:
		l.add("Q11", "state", "unknown state %q", q.State)
	}
	if q.State != StateDraft && q.State != "" && q.SentAt.IsZero() && q.Answer != nil {
		l.add("Q11", "sent_at", "an answered query has no sent time")
	}
	if q.State == StateSent || q.State == StateAnswered || q.State == StateEscalated {
		if q.SentAt.IsZero() {
			l.add("Q11", "sent_at", "the sent time is missing")
		}
		if q.Provider == nil || q.Provider.ID == "" {
			l.add("Q11", "provider", "the provider queried is missing")
		}
	}
	if a := q.Answer; a != nil {
		if q.AnsweredAt.IsZero() {
			l.add("Q11", "answered_at", "the answer time is missing")
		}
		if a.AuthenticatedBy == "" {
			l.add("Q11", "answer.authenticated_by", "the answer is not authenticated")
		}
		switch a.Outcome {
		case OutcomeAgree, OutcomeDisagree, OutcomeOther, OutcomeUndetermined:
		default:
			l.add("Q11", "answer.outcome", "outcome %q is not agree, disagree, other or undetermined", a.Outcome)
		}
		if q.State == StateClosed && q.Effect == nil {
			l.add("Q11", "effect", "the effect of the answer on the final codes is not recorded")
		}
	}
}

// Q12: escalation of non-response.
func (l *linter) q12(q *Query, opt LintOptions) {
	if q.State == StateSent && opt.EscalationHours > 0 && !opt.Now.IsZero() && !q.SentAt.IsZero() {
		if h := opt.Now.Sub(q.SentAt).Hours(); h >= opt.EscalationHours {
			l.add("Q12", "state", "unanswered for %.0f h (policy %.0f h): the query must be escalated", h, opt.EscalationHours)
		}
	}
	if q.State == StateEscalated {
		if e := q.Escalation; e == nil || e.To == "" || e.Reason == "" {
			l.add("Q12", "escalation", "an escalated query records to whom and why")
		}
	}
}
