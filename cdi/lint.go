package cdi

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	unorm "golang.org/x/text/unicode/norm"

	"github.com/msdrg-cdi/drg/claim"
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

var (
	q2Reasons  = []string{QueryReasonConflicting, QueryReasonIncomplete, QueryReasonAmbiguous, QueryReasonIllegible, QueryReasonClinicallyInconsistent, QueryReasonSpecificity, QueryReasonClinicalValidation, QueryReasonPOA, QueryReasonCauseEffect}
	q6Purposes = []string{PurposeConfirmDocumented, PurposePOA, PurposeCauseEffect, PurposeConflict}
	purposes   = []string{PurposeNewDiagnosis, PurposeSpecificity, PurposeClinicalValidation, PurposeConfirmDocumented, PurposePOA, PurposeCauseEffect, PurposeConflict}
	// citeKinds are the cite kinds the linter knows: the clinical kinds and the documentation
	// of diagnoses.
	citeKinds = append(slices.Clone(clinicalKinds), claim.KindDocumentedDx, CiteWorkingCode)
)

// CiteKinds returns the kinds a cited indicator may have: the clinical kinds (lab, vital,
// med, order, note, measurement, imaging, pathology, procedure, calculated) and the
// documentation of diagnoses (documented_dx, working_code).
func CiteKinds() []string { return slices.Clone(citeKinds) }

// checkKind reports a cite whose kind is missing or not one of CiteKinds (field "kind"): its
// support cannot be weighed, so it is refused as such, never taken for documentation.
func (c *Cite) checkKind() *claim.FieldError {
	switch {
	case c.Kind == "":
		return &claim.FieldError{Field: "kind", Message: "required, one of " + strings.Join(citeKinds, ", ")}
	case !slices.Contains(citeKinds, c.Kind):
		return &claim.FieldError{Field: "kind", Message: fmt.Sprintf("%q is not a citation kind: one of %s", c.Kind, strings.Join(citeKinds, ", "))}
	}
	return nil
}

// Check reports what makes query content unreadable rather than non-compliant, each error
// named by its path: an indicator whose kind is missing or unknown ("indicators[2].kind").
// The API refuses such content with a 422 before linting it.
func (qc *QueryContent) Check() claim.Errors {
	var errs claim.Errors
	for i := range qc.Indicators {
		if fe := qc.Indicators[i].checkKind(); fe != nil {
			errs = append(errs, &claim.FieldError{Field: fmt.Sprintf("indicators[%d].%s", i, fe.Field), Message: fe.Message})
		}
	}
	return errs
}

// linter accumulates violations, each (rule, field, message) once.
type linter struct {
	v    []Violation
	seen map[Violation]bool
}

func (l *linter) add(rule, field, format string, args ...any) {
	v := Violation{Rule: rule, Field: field, Message: fmt.Sprintf(format, args...)}
	if l.seen == nil {
		l.seen = map[Violation]bool{}
	}
	if !l.seen[v] {
		l.seen[v] = true
		l.v = append(l.v, v)
	}
}

// Lint checks a query against the compliant query practice rules Q1–Q12 that can be checked
// mechanically (QUERY_PRACTICE.md) and returns every violation with its rule id and field.
// Send refuses a query that does not pass.
//
// The wording checks (Q3 financial and quality impact language, Q8 leading wording) match the
// phrase families of lint_phrases.json on normalized text (see lintTokens), so that homoglyphs,
// invisible characters, spelled-out acronyms ("D.R.G.", "M C C") and split words
// ("re-imbursement") do not evade them.
func Lint(q *Query, opt LintOptions) LintResult {
	l := &linter{}
	if q == nil {
		l.add("Q11", "query", "there is no query")
		return LintResult{Violations: l.v}
	}
	l.q1(q)
	l.q2(q)
	l.q3(q)
	l.q4to7(q)
	l.q5(q)
	l.clinicalValidation(q)
	l.q8(q)
	l.q9(q)
	l.q10(q)
	l.q11(q)
	l.q12(q, opt)
	return LintResult{OK: len(l.v) == 0, Violations: l.v}
}

// Q1: clinical indicators with source and time; earlier facts labelled prior encounter; cite
// kinds known.
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
		if fe := c.checkKind(); fe != nil {
			l.add("Q1", f+"."+fe.Field, "indicator %q: %s", c.Name, fe.Message)
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

// lintText is one provider-facing text of a query: its field and whether the query's author
// wrote it (record quotes are not the author's words).
type lintText struct {
	field, text string
	author      bool // written by the author: every Q8 family applies
	q3          bool // checked for financial and quality language
	q8          bool // checked for leading wording (record quotes: the request family only)
}

// lintTexts returns the provider-facing texts of a query. An indicator is checked for Q3 as
// the provider reads it (Cite.Text) and for Q8 part by part: its label, name and detail are
// the author's; its quoted value and context come from the record.
func lintTexts(q *Query) []lintText {
	out := []lintText{
		{field: "intro", text: q.Intro, author: true, q3: true, q8: true},
		{field: "reason_text", text: q.ReasonText, author: true, q3: true, q8: true},
		{field: "question", text: q.Question, author: true, q3: true, q8: true},
	}
	for i, o := range q.Options {
		out = append(out, lintText{field: fmt.Sprintf("options[%d]", i), text: o.Text, author: true, q3: true, q8: true})
	}
	for i := range q.Indicators {
		c := &q.Indicators[i]
		f := fmt.Sprintf("indicators[%d]", i)
		out = append(out,
			lintText{field: f, text: c.Text(), q3: true},
			lintText{field: f + ".label", text: c.Label, author: true, q3: true, q8: true},
			lintText{field: f + ".name", text: c.Name, author: true, q8: true},
			lintText{field: f + ".detail", text: c.Detail, author: true, q8: true},
			lintText{field: f + ".context", text: c.Context, q8: true})
		if c.Value.IsText {
			out = append(out, lintText{field: f + ".value", text: c.Value.Text, q8: true})
		}
	}
	if q.Verbal != nil {
		out = append(out, lintText{field: "verbal.notes", text: q.Verbal.Notes, q3: true, q8: true})
	}
	return out
}

// Q3: no financial or quality impact language.
func (l *linter) q3(q *Query) {
	for _, t := range lintTexts(q) {
		if !t.q3 || strings.TrimSpace(t.text) == "" {
			continue
		}
		if r, ok := currencySign(t.text); ok {
			l.add("Q3", t.field, "mentions money (currency sign %q)", string(r))
		}
		for _, m := range matchText(t.text, "Q3", true) {
			l.add("Q3", t.field, "financial or quality impact language (%s): %q", m.what, m.text)
		}
	}
}

// Q4, Q6, Q7: options by format; Q7: the question does not presume the answer.
func (l *linter) q4to7(q *Query) {
	kinds := map[string]int{}
	for i, o := range q.Options {
		kinds[o.Kind]++
		f := fmt.Sprintf("options[%d]", i)
		if strings.TrimSpace(o.Text) == "" {
			l.add("Q4", f, "an option has no text")
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
	default:
		l.add("Q4", "format", "format %q is not multiple_choice, yes_no or open_ended", q.Format)
	}
	// Naming the diagnosis in question presumes the answer: never in an open-ended question,
	// and never for a new diagnosis, whatever the format (the options may name it).
	if q.Format == FormatOpenEnded || q.Purpose == PurposeNewDiagnosis {
		qt := lintTokens(q.Question)
		for _, d := range diagnosisTerms(q) {
			if tokIndex(qt, d, 0) >= 0 {
				what := "a new diagnosis"
				if q.Format == FormatOpenEnded {
					what = "an open-ended query"
				}
				l.add("Q7", "question", "the question names the diagnosis %q: for %s the question must not name the diagnosis in question", strings.Join(d, " "), what)
			}
		}
	}
	if q.Purpose == PurposeNewDiagnosis {
		l.presumedCandidate(q)
	}
}

// presumedCandidate: for a new diagnosis, the reason never names the candidate diagnosis, and
// the intro and the indicators' label and detail never present it as expected: right after
// one of the candidate.before phrases ("possible sepsis", "signs of sepsis", "treated for
// sepsis"), followed by a question mark, or followed by one of the candidate.after words
// ("sepsis is likely") of lint_phrases.json.
func (l *linter) presumedCandidate(q *Query) {
	diag := diagnosisTerms(q)
	rt := lintTokens(q.ReasonText)
	for _, d := range diag {
		if tokIndex(rt, d, 0) >= 0 {
			l.add("Q8", "reason_text", "the reason names the candidate diagnosis %q, which presumes the answer", strings.Join(d, " "))
		}
	}
	texts := [][2]string{{"intro", q.Intro}}
	for i, c := range q.Indicators {
		f := fmt.Sprintf("indicators[%d]", i)
		texts = append(texts, [2]string{f + ".label", c.Label}, [2]string{f + ".detail", c.Detail})
	}
	c := &lintBook().Candidate
	for _, ft := range texts {
		toks := lintTokens(ft[1])
		words := tokStrings(toks)
		for _, d := range diag {
			for i := strIndex(words, d, 0); i >= 0; i = strIndex(words, d, i+1) {
				for _, p := range c.before {
					if i >= len(p) && slices.Equal(words[i-len(p):i], p) {
						l.add("Q8", ft[0], "presents the candidate diagnosis as expected: %q", strings.Join(words[i-len(p):i+len(d)], " "))
					}
				}
				// "sepsis?", "sepsis is likely", "sepsis seems to be present"
				if last := toks[i+len(d)-1]; strings.Contains(last.sep, "?") {
					l.add("Q8", ft[0], "presents the candidate diagnosis as expected: %q", strings.Join(words[i:i+len(d)], " ")+"?")
				}
				after := words[i+len(d):]
				for k := 0; k < min(len(after), 5); k++ {
					if slices.Contains(c.After, after[k]) {
						l.add("Q8", ft[0], "presents the candidate diagnosis as expected: %q", strings.Join(words[i:i+len(d)+k+1], " "))
						break
					}
					if !slices.Contains(c.Skip, after[k]) {
						break
					}
				}
			}
		}
	}
}

// diagnosisTerms returns the normalized terms of the diagnoses in question (q.Diagnoses).
func diagnosisTerms(q *Query) [][]string {
	var out [][]string
	for _, d := range q.Diagnoses {
		t := tokStrings(lintTokens(d))
		if len(t) > 0 && !slices.ContainsFunc(out, func(o []string) bool { return slices.Equal(o, t) }) {
			out = append(out, t)
		}
	}
	return out
}

// Q5: an option naming a diagnosis not yet documented is supported by at least one cited
// clinical indicator that is not itself a statement of that diagnosis (self-citation): a
// documented diagnosis, a working code, a code the query replaces or a note excerpt naming the
// option's diagnosis does not count.
func (l *linter) q5(q *Query) {
	diag := diagnosisTerms(q)
	dxOptions, supported, unweighed := 0, 0, 0
	for i, o := range q.Options {
		f := fmt.Sprintf("options[%d]", i)
		valid := 0
		for _, r := range o.Indicators {
			if r < 0 || r >= len(q.Indicators) {
				l.add("Q5", f, "option %q references indicator %d, which the query does not cite", o.Text, r)
			} else {
				valid++
			}
		}
		if o.Kind != OptionDiagnosis {
			continue
		}
		dxOptions++
		if !o.Documented && len(o.Indicators) == 0 {
			l.add("Q5", f, "option %q names a diagnosis not yet documented without referencing a cited indicator", o.Text)
		}
		refs := o.Indicators
		if o.Documented && len(refs) == 0 {
			refs = allIndexes(q.Indicators) // a documented diagnosis is weighed against every cite
		}
		head, dx := optionTerms(o.Text, diag)
		ok, unknown := false, false
		for _, r := range refs {
			if r < 0 || r >= len(q.Indicators) {
				continue
			}
			if q.Indicators[r].checkKind() != nil {
				unknown = true // Q1 reports it; its support cannot be weighed
				continue
			}
			if q.supports(&q.Indicators[r], head, dx) {
				ok = true
				break
			}
		}
		switch {
		case ok:
			supported++
		case unknown:
			unweighed++
		case !o.Documented && valid > 0:
			l.add("Q5", f, "option %q is supported only by documentation (self-citation): none of its indicators is a clinical finding other than a statement of the diagnosis itself (documented diagnoses, working codes and note excerpts naming the diagnosis do not count)", o.Text)
		}
	}
	if dxOptions > 0 && supported == 0 && unweighed == 0 && len(q.Indicators) > 0 && q.Purpose != PurposeClinicalValidation {
		l.add("Q5", "options", "every diagnosis option is supported only by documentation: the query cites no clinical indicator (lab, vital sign, medication, order, note finding, measurement, imaging or pathology finding, procedure or calculated value) for its options")
	}
}

// clinicalValidation checks a clinical validation query, which asks about a diagnosis already
// documented because its indicators are absent or against it (Q5 does not apply to its
// documented options). It must cite what the record shows besides the documentation of that
// diagnosis (Q1: a documented diagnosis, a working code, a code the query is about or a note
// stating the diagnosis is not a clinical indicator), and a multiple-choice one offers both to
// confirm the diagnosis and to rule it out (or replace it), so neither answer is presumed
// (Q8).
func (l *linter) clinicalValidation(q *Query) {
	if q.Purpose != PurposeClinicalValidation {
		return
	}
	diag := diagnosisTerms(q)
	var heads [][]string
	confirm, ruleOut := false, false
	for _, o := range q.Options {
		if o.Kind != OptionDiagnosis {
			continue
		}
		switch {
		case o.Action == ActionRemove || o.Action == ActionReplace:
			ruleOut = true
		case o.Documented:
			confirm = true
			h, _ := optionTerms(o.Text, diag)
			heads = append(heads, h)
		}
	}
	if len(heads) == 0 {
		heads = [][]string{nil}
	}
	cited := slices.ContainsFunc(q.Indicators, func(c Cite) bool {
		return !slices.ContainsFunc(heads, func(h []string) bool { return !q.supports(&c, h, diag) })
	})
	if len(q.Indicators) > 0 && !cited {
		l.add("Q1", "indicators", "a clinical validation query cites only the documentation of the diagnosis it validates: it must cite what the record shows (lab, vital sign, medication, order, note finding, measurement, procedure or calculated value)")
	}
	if q.Format != FormatMultipleChoice {
		return
	}
	if !confirm {
		l.add("Q8", "options", "a clinical validation query does not offer to confirm the documented diagnosis: offering only to rule it out steers the provider to remove it")
	}
	if !ruleOut {
		l.add("Q8", "options", "a clinical validation query does not offer to rule the documented diagnosis out: it presumes the diagnosis")
	}
}

// supports reports whether a cite counts as clinical support for an option: a clinical cite
// (Cite.Clinical) whose code is not replaced by the query, and that does not state the
// option's diagnosis itself — a cite named just one of the diagnoses in question (dx), or a note
// whose text names the option (head) or one of those diagnoses.
func (q *Query) supports(c *Cite, head []string, dx [][]string) bool {
	if !c.Clinical() || c.Code != "" && slices.Contains(q.Replaces, c.Code) {
		return false
	}
	name := tokStrings(lintTokens(c.Name))
	if slices.ContainsFunc(dx, func(t []string) bool { return slices.Equal(name, t) }) {
		return false
	}
	if c.Kind == claim.KindNote {
		text := lintTokens(c.Name + "\n" + c.Value.String() + "\n" + c.Context)
		if tokIndex(text, head, 0) >= 0 || slices.ContainsFunc(dx, func(t []string) bool { return tokIndex(text, t, 0) >= 0 }) {
			return false
		}
	}
	return true
}

// optionTerms returns the terms that state an option's diagnosis: head, the option's own
// wording up to its first qualifier ("Acute kidney failure" of "Acute kidney failure with
// tubular necrosis"), and dx, every term of the diagnoses in question (their synonyms and
// abbreviations) when the option names one of them, not negated.
func optionTerms(text string, diag [][]string) (head []string, dx [][]string) {
	toks := tokStrings(lintTokens(text))
	head = toks
	for i, t := range toks {
		if i > 0 && (slices.Contains(lintBook().OptionNegators, t) || t == "with" || t == "due" || t == "secondary" || t == "is" || t == "was") {
			head = toks[:i]
			break
		}
	}
	for _, d := range diag {
		for at := 0; ; at++ {
			i := strIndex(toks, d, at)
			if i < 0 {
				break
			}
			at = i
			negated := slices.ContainsFunc(toks[max(0, i-3):i], func(t string) bool { return slices.Contains(lintBook().OptionNegators, t) })
			after := toks[min(len(toks), i+len(d)):min(len(toks), i+len(d)+4)]
			if slices.Contains(after, "ruled") || slices.Contains(after, "excluded") {
				negated = true
			}
			if !negated {
				return head, diag
			}
		}
	}
	return head, nil
}

// Q8: no leading wording.
func (l *linter) q8(q *Query) {
	for _, t := range lintTexts(q) {
		if !t.q8 || strings.TrimSpace(t.text) == "" {
			continue
		}
		for _, m := range matchText(t.text, "Q8", t.author) {
			l.add("Q8", t.field, "leading wording (%s): %q", m.what, m.text)
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

// ---- Normalization ----

// lintToken is one word or number of a normalized text.
type lintToken struct {
	s     string
	num   bool   // all digits
	start bool   // begins the text, a sentence or a clause after a colon
	brk   bool   // begins a sentence: phrases do not run across it
	upper bool   // written with a capital letter
	sep   string // the separator characters after the token ("" when a letter run meets a digit run)
	last  bool   // the last token of the text
}

// homoglyphs maps letters that look like Latin letters (Cyrillic, Greek, small capitals, …)
// and letters without a decomposition to the Latin letters they pass for.
var homoglyphs = map[rune]string{
	// Cyrillic
	'А': "a", 'В': "b", 'С': "c", 'Е': "e", 'Н': "h", 'К': "k", 'М': "m", 'О': "o", 'Р': "p", 'Т': "t", 'Х': "x",
	'У': "y", 'Ѕ': "s", 'І': "i", 'Ј': "j", 'Ԁ': "d", 'Ԛ': "q", 'Ԝ': "w", 'Ү': "y", 'Һ': "h", 'Ӏ': "l", 'Ь': "b",
	'а': "a", 'в': "b", 'с': "c", 'е': "e", 'н': "h", 'к': "k", 'м': "m", 'о': "o", 'р': "p", 'т': "t", 'х': "x",
	'у': "y", 'ѕ': "s", 'і': "i", 'ј': "j", 'ԁ': "d", 'ԛ': "q", 'ԝ': "w", 'ү': "y", 'һ': "h", 'ӏ': "l", 'ь': "b",
	'п': "n", 'г': "r",
	// Greek
	'Α': "a", 'Β': "b", 'Ε': "e", 'Ζ': "z", 'Η': "h", 'Ι': "i", 'Κ': "k", 'Μ': "m", 'Ν': "n", 'Ο': "o", 'Ρ': "p",
	'Τ': "t", 'Υ': "y", 'Χ': "x", 'Ϲ': "c", 'Ϳ': "j",
	'α': "a", 'β': "b", 'γ': "y", 'ε': "e", 'η': "n", 'ι': "i", 'κ': "k", 'μ': "u", 'ν': "v", 'ο': "o", 'ρ': "p",
	'τ': "t", 'υ': "u", 'χ': "x", 'ω': "w", 'ϲ': "c", 'ϳ': "j",
	// Armenian
	'օ': "o", 'ս': "u", 'հ': "h", 'ո': "n",
	// Latin letters without a decomposition
	'ı': "i", 'ȷ': "j", 'ß': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe", 'ø': "o", 'Ø': "o", 'ł': "l", 'Ł': "l",
	'đ': "d", 'Đ': "d", 'ð': "d", 'Ð': "d", 'þ': "th", 'Þ': "th", 'ħ': "h", 'Ħ': "h", 'ŧ': "t", 'ƒ': "f", 'ɑ': "a",
	'ɡ': "g", 'ɩ': "i", 'ɪ': "i",
	// small capitals
	'ᴀ': "a", 'ʙ': "b", 'ᴄ': "c", 'ᴅ': "d", 'ᴇ': "e", 'ꜰ': "f", 'ɢ': "g", 'ʜ': "h", 'ᴊ': "j", 'ᴋ': "k", 'ʟ': "l",
	'ᴍ': "m", 'ɴ': "n", 'ᴏ': "o", 'ᴘ': "p", 'ʀ': "r", 'ꜱ': "s", 'ᴛ': "t", 'ᴜ': "u", 'ᴠ': "v", 'ᴡ': "w", 'ʏ': "y",
	'ᴢ': "z",
}

// apostrophes are dropped without separating ("don't" is "dont", "DRG's" is "drgs").
const apostrophes = "'’‘ʼʻ`´′ʹˈ＇"

// invisible are characters dropped without separating besides the format (Cf) and combining
// (Mn, Me) characters: Hangul fillers and the braille blank, which render as nothing.
const invisible = "\u115f\u1160\u3164\uffa0\u2800"

// currencySign returns the first currency sign of s ("$", "€", "＄" …).
func currencySign(s string) (rune, bool) {
	for _, r := range unorm.NFKC.String(s) {
		if unicode.Is(unicode.Sc, r) {
			return r, true
		}
	}
	return 0, false
}

// lintTokens normalizes s into tokens so that phrases are matched whatever the spelling: NFKD
// (compatibility forms: full-width letters, ligatures, mathematical letters, superscripts),
// format characters (zero-width spaces and joiners, soft hyphens, bidi controls), combining
// marks (diacritics) and invisible fillers dropped, homoglyphs mapped to Latin, lower case,
// apostrophes dropped, every other run of characters other than letters and digits one
// separator, letters and digits split ("200cc" is "200 cc"), and a run of two or more single
// letters with the same short separator joined ("D.R.G.", "M C C", "S-O-I" are "drg", "mcc",
// "soi").
func lintTokens(s string) []lintToken {
	s = unorm.NFKD.String(s)
	var toks []lintToken
	var cur, sep strings.Builder
	curDigit, curUpper := false, false
	flush := func() {
		if cur.Len() == 0 {
			return
		}
		t := lintToken{s: cur.String(), num: curDigit, upper: curUpper}
		if len(toks) == 0 {
			t.start, t.brk = true, true
		} else {
			sp := sep.String()
			toks[len(toks)-1].sep = sp
			t.start = strings.ContainsAny(sp, ".!?;:\n")
			// A full stop ends a sentence before a capital or a number, not in "Pt. has".
			t.brk = strings.ContainsAny(sp, "!?;\n") || strings.Contains(sp, ".") && (t.upper || t.num)
		}
		sep.Reset()
		toks = append(toks, t)
		cur.Reset()
	}
	letter := func(r rune, digit, upper bool) {
		if cur.Len() > 0 && curDigit != digit {
			flush()
		}
		if cur.Len() == 0 {
			curUpper = upper
		}
		curDigit = digit
		cur.WriteRune(r)
	}
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) || strings.ContainsRune(invisible, r) || strings.ContainsRune(apostrophes, r):
			continue
		case r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'):
			letter(unicode.ToLower(r), false, r <= 'Z')
		case r < 128 && r >= '0' && r <= '9':
			letter(r, true, false)
		case homoglyphs[r] != "":
			for _, c := range homoglyphs[r] {
				letter(c, false, unicode.IsUpper(r))
			}
		case unicode.IsLetter(r):
			letter(unicode.ToLower(r), false, unicode.IsUpper(r))
		case unicode.IsDigit(r):
			letter(r, true, false)
		default:
			flush()
			if len(toks) > 0 && sep.Len() < 16 {
				sep.WriteRune(r)
			}
		}
	}
	flush()
	if len(toks) > 0 {
		toks[len(toks)-1].sep = sep.String()
		toks[len(toks)-1].last = true
	}
	return joinLetters(toks)
}

// acronymSeps are the separators that spell out an acronym letter by letter.
const acronymSeps = ".-_/·•∙⋅*|\\~+\u2010\u2011\u2013\u2014"

// acronymLink reports whether sep separates the letters of a spelled-out acronym: one or two
// spaces, or one punctuation mark of acronymSeps, possibly followed by one space ("D.R.G.",
// "D. R. G.", "M C C", "S-O-I").
func acronymLink(sep string) bool {
	if sep == " " || sep == "  " {
		return true
	}
	r, n := utf8.DecodeRuneInString(sep)
	return n > 0 && strings.ContainsRune(acronymSeps, r) && (len(sep) == n || sep[n:] == " ")
}

// joinLetters joins runs of two or more single letters with the same acronymLink separator
// into one token. A letter between two runs goes to the run spelled with punctuation ("a
// P.S.I." is "a psi"), else to the longer one.
func joinLetters(toks []lintToken) []lintToken {
	single := func(i int) bool { return i < len(toks) && len(toks[i].s) == 1 && !toks[i].num }
	type run struct {
		a, b int // first and last token
		sep  string
	}
	var runs []run
	for i := 0; i < len(toks); i++ {
		if !single(i) || !single(i+1) || !acronymLink(toks[i].sep) {
			continue
		}
		r := run{a: i, b: i + 1, sep: toks[i].sep}
		for r.b+1 < len(toks) && single(r.b+1) && toks[r.b].sep == r.sep {
			r.b++
		}
		runs = append(runs, r)
		i = r.b - 1 // the last letter may start the next run
	}
	spaced := func(r run) bool { return strings.TrimSpace(r.sep) == "" }
	for k := 0; k+1 < len(runs); k++ {
		l, r := &runs[k], &runs[k+1]
		if l.b != r.a {
			continue
		}
		if spaced(*l) != spaced(*r) && !spaced(*r) || spaced(*l) == spaced(*r) && r.b-r.a > l.b-l.a {
			l.b--
		} else {
			r.a++
		}
	}
	out := toks[:0:0]
	next := 0
	for _, r := range runs {
		if r.b <= r.a {
			continue
		}
		out = append(out, toks[next:r.a]...)
		var b strings.Builder
		for k := r.a; k <= r.b; k++ {
			b.WriteString(toks[k].s)
		}
		t := toks[r.b]
		t.s, t.start, t.brk, t.upper = b.String(), toks[r.a].start, toks[r.a].brk, toks[r.a].upper
		out = append(out, t)
		next = r.b + 1
	}
	return append(out, toks[next:]...)
}

func tokStrings(toks []lintToken) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.s
	}
	return out
}

// tokIndex returns the index of the first occurrence of the word sequence seq in toks at or
// after from, or -1.
func tokIndex(toks []lintToken, seq []string, from int) int {
	return strIndex(tokStrings(toks), seq, from)
}

func strIndex(words, seq []string, from int) int {
	if len(seq) == 0 {
		return -1
	}
	for i := max(from, 0); i+len(seq) <= len(words); i++ {
		if slices.Equal(words[i:i+len(seq)], seq) {
			return i
		}
	}
	return -1
}

// ---- Phrase families ----

//go:embed lint_phrases.json
var lintPhrasesJSON []byte

// phraseBook is the compiled lint_phrases.json.
type phraseBook struct {
	Sets     map[string][]string `json:"sets"`
	Families []*phraseFamily     `json:"families"`
	// Candidate are the words that present a candidate diagnosis as the expected answer.
	Candidate struct {
		Before []string `json:"before"` // right before it ("possible", "signs of")
		After  []string `json:"after"`  // after it ("likely", "present")
		Skip   []string `json:"skip"`   // words between it and an After word ("is", "seems")
		before [][]string
	} `json:"candidate"`
	// OptionNegators mark a diagnosis named in an option as excluded ("Hypoxemia without
	// respiratory failure", "not a pressure injury").
	OptionNegators []string `json:"option_negators"`
}

// phraseFamily is a family of forbidden phrases with the phrases that look alike but are
// allowed (clinical collocations).
type phraseFamily struct {
	Family  string   `json:"family"`
	Rule    string   `json:"rule"`  // Q3 or Q8
	Scope   string   `json:"scope"` // all (default) or author
	What    string   `json:"what"`
	Phrases []string `json:"phrases"`
	Allow   []string `json:"allow"`

	phrases, allow []pattern
	phraseIx       patternIndex
	allowIx        patternIndex
	joins          []string // long words also matched when split ("re-imbursement"); "x*" a prefix
}

// patternIndex finds the patterns that may match at a token: those whose first atom is one
// of a list of words, by word, and the others.
type patternIndex struct {
	byWord map[string][]int
	other  []int
}

func newPatternIndex(ps []pattern) patternIndex {
	ix := patternIndex{byWord: map[string][]int{}}
	for i, p := range ps {
		a := &p.atoms[0]
		if a.opt || a.not || a.any || a.num || len(a.prefixes) > 0 || len(a.words) == 0 {
			ix.other = append(ix.other, i)
			continue
		}
		for w := range a.words {
			ix.byWord[w] = append(ix.byWord[w], i)
		}
	}
	return ix
}

// each calls fn with the index of every pattern that may match at token t.
func (ix *patternIndex) each(t *lintToken, fn func(i int)) {
	for _, i := range ix.byWord[t.s] {
		fn(i)
	}
	for _, i := range ix.other {
		fn(i)
	}
}

// pattern is a compiled phrase: a sequence of atoms.
type pattern struct {
	src   string
	atoms []atom
}

// atom matches one token, or skips up to gap tokens.
type atom struct {
	words    map[string]bool // exact words
	prefixes []string
	num      bool // a number
	any      bool // any token
	not      bool // any token but words and prefixes
	opt      bool
	start    bool   // the token begins a sentence
	sepAfter string // the separator after the token contains one of these ('.' also: the text ends)
	gap      int
}

var (
	bookOnce sync.Once
	book     *phraseBook
)

// lintBook returns the compiled phrase families; the embedded data is checked by the tests,
// so a compile error is a programming error.
func lintBook() *phraseBook {
	bookOnce.Do(func() {
		var err error
		if book, err = parsePhraseBook(lintPhrasesJSON); err != nil {
			panic("cdi: lint_phrases.json: " + err.Error())
		}
	})
	return book
}

func parsePhraseBook(data []byte) (*phraseBook, error) {
	var b phraseBook
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, err
	}
	for _, p := range b.Candidate.Before {
		b.Candidate.before = append(b.Candidate.before, strings.Fields(p))
	}
	for _, w := range slices.Concat(slices.Concat(b.Candidate.before...), b.Candidate.After, b.Candidate.Skip, b.OptionNegators) {
		if !validWord(w) {
			return nil, fmt.Errorf("candidate or option_negators: bad word %q (lower-case letters and digits)", w)
		}
	}
	for _, f := range b.Families {
		if f.Rule != "Q3" && f.Rule != "Q8" {
			return nil, fmt.Errorf("family %s: rule %q is not Q3 or Q8", f.Family, f.Rule)
		}
		if f.Scope != "" && f.Scope != "all" && f.Scope != "author" {
			return nil, fmt.Errorf("family %s: scope %q is not all or author", f.Family, f.Scope)
		}
		for _, src := range f.Phrases {
			p, err := compilePattern(src, b.Sets)
			if err != nil {
				return nil, fmt.Errorf("family %s: %q: %w", f.Family, src, err)
			}
			f.phrases = append(f.phrases, p)
			if a := p.atoms; len(a) == 1 && !a[0].not && !a[0].any && !a[0].num && !a[0].opt && a[0].sepAfter == "" && !a[0].start {
				for w := range a[0].words {
					if len(w) >= 7 {
						f.joins = append(f.joins, w)
					}
				}
				slices.Sort(f.joins)
				for _, w := range a[0].prefixes {
					if len(w) >= 6 {
						f.joins = append(f.joins, w+"*")
					}
				}
			}
		}
		for _, src := range f.Allow {
			p, err := compilePattern(src, b.Sets)
			if err != nil {
				return nil, fmt.Errorf("family %s: allow %q: %w", f.Family, src, err)
			}
			f.allow = append(f.allow, p)
		}
		f.phraseIx, f.allowIx = newPatternIndex(f.phrases), newPatternIndex(f.allow)
	}
	return &b, nil
}

func compilePattern(src string, sets map[string][]string) (pattern, error) {
	p := pattern{src: src}
	for _, f := range strings.Fields(src) {
		var a atom
		if strings.HasPrefix(f, "~") {
			n, err := strconv.Atoi(f[1:])
			if err != nil || n < 1 || n > 8 {
				return p, fmt.Errorf("bad gap %q", f)
			}
			if len(p.atoms) == 0 {
				return p, errors.New("a pattern cannot start with a gap")
			}
			p.atoms = append(p.atoms, atom{gap: n})
			continue
		}
		if strings.HasPrefix(f, "?") {
			a.opt, f = true, f[1:]
		}
		if strings.HasPrefix(f, "^") {
			a.start, f = true, f[1:]
		}
		if i := strings.IndexByte(f, '{'); i >= 0 {
			if !strings.HasSuffix(f, "}") || i+2 >= len(f) {
				return p, fmt.Errorf("bad separator in %q", f)
			}
			a.sepAfter, f = f[i+1:len(f)-1], f[:i]
		}
		if strings.HasPrefix(f, "!") {
			a.not, f = true, f[1:]
		}
		a.words = map[string]bool{}
		for _, w := range strings.Split(f, "|") {
			switch {
			case w == "#":
				a.num = true
			case w == "_":
				a.any = true
			case strings.HasPrefix(w, "@"):
				set, ok := sets[w[1:]]
				if !ok {
					return p, fmt.Errorf("unknown set %q", w)
				}
				for _, s := range set {
					if !validWord(s) {
						return p, fmt.Errorf("set %s: bad word %q", w, s)
					}
					a.words[s] = true
				}
			case strings.HasSuffix(w, "*") && validWord(w[:len(w)-1]):
				a.prefixes = append(a.prefixes, w[:len(w)-1])
			case validWord(w):
				a.words[w] = true
			default:
				return p, fmt.Errorf("bad word %q (lower-case letters and digits)", w)
			}
		}
		p.atoms = append(p.atoms, a)
	}
	if len(p.atoms) == 0 {
		return p, errors.New("empty pattern")
	}
	if p.atoms[len(p.atoms)-1].gap > 0 {
		return p, errors.New("a pattern cannot end with a gap")
	}
	return p, nil
}

func validWord(w string) bool {
	if w == "" {
		return false
	}
	for _, r := range w {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func (a *atom) matches(t *lintToken) bool {
	if a.start && !t.start {
		return false
	}
	if a.sepAfter != "" && !strings.ContainsAny(t.sep, a.sepAfter) && !(t.last && strings.ContainsRune(a.sepAfter, '.')) {
		return false
	}
	in := a.any || a.num && t.num || a.words[t.s] ||
		slices.ContainsFunc(a.prefixes, func(p string) bool { return strings.HasPrefix(t.s, p) })
	if a.not {
		return !in
	}
	return in
}

// each calls yield with the indexes of the tokens matched by the pattern's atoms (not the
// skipped ones) for every match starting at start, until yield returns true.
func (p *pattern) each(toks []lintToken, start int, yield func(pos []int) bool) {
	if a := &p.atoms[0]; !a.opt && (start >= len(toks) || !a.matches(&toks[start])) {
		return // the common case, without allocating
	}
	pos := make([]int, 0, len(p.atoms))
	var rec func(a, i int) bool
	rec = func(a, i int) bool {
		if a == len(p.atoms) {
			return len(pos) > 0 && yield(pos)
		}
		at := &p.atoms[a]
		if at.gap > 0 {
			// A phrase does not run across sentences.
			for k := 0; k <= at.gap && i+k <= len(toks) && (k == 0 || !toks[i+k-1].brk); k++ {
				if rec(a+1, i+k) {
					return true
				}
			}
			return false
		}
		if at.opt && rec(a+1, i) {
			return true
		}
		if i < len(toks) && (len(pos) == 0 || !toks[i].brk) && at.matches(&toks[i]) {
			pos = append(pos, i)
			if rec(a+1, i+1) {
				return true
			}
			pos = pos[:len(pos)-1]
		}
		return false
	}
	rec(0, start)
}

// phraseMatch is one forbidden phrase found in a text.
type phraseMatch struct {
	family, what, text string
}

// find returns the matches of the families of a rule in a text: every family when author is
// true, else the families of scope "all". A match is dropped when one of its tokens lies in a
// match of an allow pattern of its family.
func (b *phraseBook) find(toks []lintToken, rule string, author bool) []phraseMatch {
	var out []phraseMatch
	if len(toks) == 0 {
		return nil
	}
	for _, f := range b.Families {
		if f.Rule != rule || !author && f.Scope == "author" {
			continue
		}
		var allowed []bool // computed when a phrase matches
		free := func(pos []int) bool {
			if allowed == nil {
				allowed = make([]bool, len(toks))
				for s := range toks {
					f.allowIx.each(&toks[s], func(i int) {
						f.allow[i].each(toks, s, func(pos []int) bool {
							for k := pos[0]; k <= pos[len(pos)-1]; k++ {
								allowed[k] = true
							}
							return false
						})
					})
				}
			}
			return !slices.ContainsFunc(pos, func(k int) bool { return allowed[k] })
		}
		// One match per family and stretch of text: overlapping matches are the same wording.
		var spans [][2]int
		report := func(pos []int) {
			a, z := pos[0], pos[len(pos)-1]
			if slices.ContainsFunc(spans, func(s [2]int) bool { return a <= s[1] && s[0] <= z }) {
				return
			}
			spans = append(spans, [2]int{a, z})
			out = append(out, phraseMatch{family: f.Family, what: f.What, text: strings.Join(tokStrings(toks[a:z+1]), " ")})
		}
		for s := range toks {
			f.phraseIx.each(&toks[s], func(i int) {
				f.phrases[i].each(toks, s, func(pos []int) bool {
					if free(pos) {
						report(pos)
						return true
					}
					return false
				})
			})
		}
		// Words split by a hyphen, a space or punctuation: "re-imbursement", "pay ment".
		for s := range toks {
			if !slices.ContainsFunc(f.joins, func(w string) bool { return len(toks[s].s) < len(w) && strings.HasPrefix(w, toks[s].s) }) {
				continue
			}
			joined := ""
			for e := s; e < len(toks) && e < s+6 && !toks[e].num; e++ {
				if e > s && len(toks[e-1].sep) > 3 {
					break
				}
				joined += toks[e].s
				if e == s {
					continue
				}
				for _, w := range f.joins {
					p, prefix := strings.CutSuffix(w, "*")
					if joined == w || prefix && len(toks[s].s) < len(p) && strings.HasPrefix(joined, p) && len(joined)-len(toks[e].s) < len(p) {
						if pos := []int{s, e}; free(pos) {
							report(pos)
						}
					}
				}
			}
		}
	}
	return out
}

// matchText returns the matches of the families of a rule in a text, normalized as is and with
// the words split by a hyphen joined ("pay-ment", "docu-ment"), each matched wording once.
func matchText(text, rule string, author bool) []phraseMatch {
	toks := lintTokens(text)
	out := lintBook().find(toks, rule, author)
	if joined := hyphenJoined(toks); joined != nil {
		for _, m := range lintBook().find(joined, rule, author) {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// hyphenJoined returns the tokens with the words split by a hyphen (or a hyphen and a line
// break) joined, or nil when no word is split so.
func hyphenJoined(toks []lintToken) []lintToken {
	var out []lintToken
	joined := false
	for _, t := range toks {
		if n := len(out); n > 0 && !t.num && !out[n-1].num && hyphenSep(out[n-1].sep) {
			out[n-1].s += t.s
			out[n-1].sep, out[n-1].last = t.sep, t.last
			joined = true
			continue
		}
		out = append(out, t)
	}
	if !joined {
		return nil
	}
	return out
}

func hyphenSep(sep string) bool {
	s := strings.TrimRightFunc(sep, unicode.IsSpace)
	return s == "-" || s == "\u2010" || s == "\u2011"
}

func allIndexes[T any](l []T) []int {
	out := make([]int, len(l))
	for i := range l {
		out[i] = i
	}
	return out
}
