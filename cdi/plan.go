package cdi

import (
	"fmt"
	"slices"
	"strings"
)

// Query plans: the query each opportunity leads to. A rule's plan offers only the options the
// evidence supports, each pointing at the indicators that support it; the other plans offer
// diagnoses already documented.

// Reason texts stated by generated queries (Q2).
const (
	reasonTextIncomplete  = "The record contains clinical indicators that are not reflected in a documented diagnosis."
	reasonTextSpecificity = "The documented diagnosis may be clarified with greater specificity."
	reasonTextValidation  = "Clinical validation: the documented diagnosis is reviewed together with the clinical indicators in the record."
	reasonTextNonProvider = "A diagnosis appears in documentation by another clinician and not in the provider documentation."
	reasonTextConflicting = "The record contains conflicting documentation."
	reasonTextPOA         = "The present-on-admission status of this condition is not documented."
)

// planRule builds the plan of a rule opportunity from its condition's supported options;
// each option references the opportunity's indicators that support it in particular.
func planRule(c *condition, o *Opportunity) QueryPlan {
	t := c.rule.Query
	p := QueryPlan{Format: FormatMultipleChoice, Question: t.Question, Purpose: PurposeNewDiagnosis, Reason: QueryReasonIncomplete,
		ReasonText: reasonTextIncomplete}
	action := ActionAdd
	if o.Kind == KindSpecificity {
		p.Purpose, p.Reason, p.ReasonText, action = PurposeSpecificity, QueryReasonSpecificity, reasonTextSpecificity, ActionReplace
	}
	if c.open {
		p.Format = FormatOpenEnded
		if t.OpenQuestion != "" {
			p.Question = t.OpenQuestion
		}
		return p
	}
	for _, so := range c.options {
		opt := Option{Text: so.text, Kind: so.kind, Codes: slices.Clone(so.codes), Documented: so.documented}
		if len(so.codes) > 0 {
			opt.Action = action
		}
		for _, ct := range so.cites {
			if i := slices.IndexFunc(o.Indicators, func(x Cite) bool { return sameFact(&x, &ct) }); i >= 0 && !slices.Contains(opt.Indicators, i) {
				opt.Indicators = append(opt.Indicators, i)
			}
		}
		slices.Sort(opt.Indicators)
		p.Options = append(p.Options, opt)
	}
	return p
}

// planValidation asks whether a documented diagnosis is supported.
func planValidation(o *Opportunity) QueryPlan {
	title := o.Condition
	if len(o.Candidates) > 0 {
		title = titleOr(o.Candidates[0])
	}
	return QueryPlan{Format: FormatMultipleChoice, Purpose: PurposeClinicalValidation, Reason: QueryReasonClinicalValidation,
		ReasonText: reasonTextValidation,
		Question:   fmt.Sprintf("Based on your clinical judgment, please clarify the status of the documented %s.", lowerTitle(title)),
		Options: []Option{
			{Text: fmt.Sprintf("%s is confirmed; the supporting clinical findings are described in the record", title), Kind: OptionDiagnosis, Documented: true},
			{Text: fmt.Sprintf("%s was ruled out", title), Kind: OptionDiagnosis, Documented: true, Action: ActionRemove}}}
}

// planPOA asks whether a condition was present on admission.
func planPOA(o *Opportunity) QueryPlan {
	return QueryPlan{Format: FormatYesNo, Purpose: PurposePOA, Reason: QueryReasonPOA, ReasonText: reasonTextPOA,
		Question: fmt.Sprintf("Based on your clinical judgment, was the %s present at the time of the inpatient admission order?", lowerTitle(o.Condition)),
		Options: []Option{
			{Text: "Yes, present at the time of admission", Kind: OptionYes, Documented: true, Action: ActionPOA, POA: "Y"},
			{Text: "No, it developed after admission", Kind: OptionNo, Documented: true, Action: ActionPOA, POA: "N"}}}
}

// planNonProvider asks a provider to confirm a diagnosis another clinician documented.
func planNonProvider(o *Opportunity) QueryPlan {
	return QueryPlan{Format: FormatYesNo, Purpose: PurposeConfirmDocumented, Reason: QueryReasonIncomplete,
		ReasonText: reasonTextNonProvider,
		Question:   fmt.Sprintf("The %s documentation records %s. Based on your clinical judgment, is this diagnosis confirmed for this patient?", rolesOf(o.Documentation), lowerTitle(o.Condition)),
		Options: []Option{
			{Text: "Yes, confirmed", Kind: OptionYes, Documented: true, Codes: codesOf(o.Candidates), Action: ActionAdd},
			{Text: "No, not confirmed", Kind: OptionNo, Documented: true}}}
}

// planConflict asks which documented diagnosis describes the patient's condition.
func planConflict(o *Opportunity) QueryPlan {
	p := QueryPlan{Format: FormatMultipleChoice, Purpose: PurposeConflict, Reason: QueryReasonConflicting,
		ReasonText: reasonTextConflicting,
		Question:   "Based on your clinical judgment, please clarify which diagnosis best describes the patient's condition."}
	for _, c := range o.Candidates {
		p.Options = append(p.Options, Option{Text: titleOr(c), Kind: OptionDiagnosis, Documented: true,
			Codes: []string{c.Code}, Action: ActionReplace})
	}
	o.Replaces = codesOf(o.Candidates)
	return p
}

func codesOf(cs []CandidateCode) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Code
	}
	return out
}

func titleOr(c CandidateCode) string {
	if c.Title != "" {
		return c.Title
	}
	return c.Code
}

func lowerTitle(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
