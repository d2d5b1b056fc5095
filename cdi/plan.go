package cdi

import (
	"fmt"
	"slices"
	"strings"
)

// Reason texts stated by generated queries (Q2).
const (
	reasonTextIncomplete  = "The record contains clinical indicators that are not reflected in a documented diagnosis."
	reasonTextSpecificity = "The documented diagnosis may be clarified with greater specificity."
	reasonTextValidation  = "Clinical validation: the documented diagnosis is reviewed together with the clinical indicators in the record."
	reasonTextNonProvider = "A diagnosis appears in documentation by another clinician and not in the provider documentation."
	reasonTextConflicting = "The record contains conflicting documentation."
	reasonTextPOA         = "The present-on-admission status of this condition is not documented."
)

// plan decides the query an opportunity leads to.
func (rc *reviewCtx) plan(o *Opportunity) {
	switch {
	case o.Kind == KindClinicalValidation:
		rc.planValidation(o)
	case o.Reason == ReasonMissingPOA:
		o.Query = QueryPlan{Format: FormatYesNo, Purpose: PurposePOA, Reason: QueryReasonPOA, ReasonText: reasonTextPOA,
			Question: fmt.Sprintf("Based on your clinical judgment, was the %s present at the time of the inpatient admission order?", lowerTitle(o.Condition)),
			Options: []Option{
				{Text: "Yes, present at the time of admission", Kind: OptionYes, Documented: true, Action: ActionPOA, POA: "Y"},
				{Text: "No, it developed after admission", Kind: OptionNo, Documented: true, Action: ActionPOA, POA: "N"}}}
	case o.Reason == ReasonNonProviderDocumentation:
		o.Query = QueryPlan{Format: FormatYesNo, Purpose: PurposeConfirmDocumented, Reason: QueryReasonIncomplete,
			ReasonText: reasonTextNonProvider,
			Question:   fmt.Sprintf("The %s documentation records %s. Based on your clinical judgment, is this diagnosis confirmed for this patient?", rolesOf(o.Documentation), lowerTitle(o.Condition)),
			Options: []Option{
				{Text: "Yes, confirmed", Kind: OptionYes, Documented: true, Codes: codesOf(o.Candidates), Action: ActionAdd},
				{Text: "No, not confirmed", Kind: OptionNo, Documented: true}}}
	case o.Reason == ReasonConflictingDocumentation:
		p := QueryPlan{Format: FormatMultipleChoice, Purpose: PurposeConflict, Reason: QueryReasonConflicting,
			ReasonText: reasonTextConflicting,
			Question:   "Based on your clinical judgment, please clarify which diagnosis best describes the patient's condition."}
		for _, c := range o.Candidates {
			p.Options = append(p.Options, Option{Text: titleOr(c), Kind: OptionDiagnosis, Documented: true,
				Codes: []string{c.Code}, Action: ActionReplace})
		}
		o.Query = p
		o.Replaces = codesOf(o.Candidates)
	case o.Rule != "" && o.Reason != ReasonSiblingAtHigherLevel:
		rc.planRule(o)
	default:
		p := QueryPlan{Format: FormatMultipleChoice, Purpose: PurposeSpecificity, Reason: QueryReasonSpecificity,
			ReasonText: reasonTextSpecificity,
			Question:   fmt.Sprintf("Based on your clinical judgment, please clarify the documented %s with greater specificity.", lowerTitle(o.Condition))}
		for _, c := range o.Candidates {
			p.Options = append(p.Options, Option{Text: titleOr(c), Kind: OptionDiagnosis, Codes: []string{c.Code},
				Action: ActionReplace, Indicators: allIndexes(o.Indicators)})
		}
		o.Query = p
	}
}

// planRule builds the plan of a rule opportunity from the rule's template: the options whose
// condition holds for this patient, each referencing the indicators its condition uses.
func (rc *reviewCtx) planRule(o *Opportunity) {
	rule := rc.rules.Rules[o.Rule]
	t := rule.Query
	p := QueryPlan{Format: t.Format, Question: t.Question, Purpose: PurposeNewDiagnosis, Reason: QueryReasonIncomplete,
		ReasonText: reasonTextIncomplete}
	action := ActionAdd
	if o.Kind == KindSpecificity {
		p.Purpose, p.Reason, p.ReasonText, action = PurposeSpecificity, QueryReasonSpecificity, reasonTextSpecificity, ActionReplace
	}
	var companions []string
	if c := firstCandidate(rule.Companions, rc); c != nil {
		companions = c.Codes
	}
	for _, ot := range t.Options {
		if ot.When != nil && !ot.When.eval(rc) {
			continue
		}
		opt := Option{Text: ot.Text, Kind: OptionDiagnosis, Codes: slices.Clone(ot.Codes), Documented: rc.allDocumented(ot.Codes)}
		if len(ot.Codes) > 0 {
			opt.Action = action
			opt.Codes = append(opt.Codes, companions...)
		}
		if ot.When != nil {
			ids := ot.When.indicators(rc.rules, nil)
			for i, c := range o.Indicators {
				if slices.Contains(ids, c.Indicator) {
					opt.Indicators = append(opt.Indicators, i)
				}
			}
		}
		if len(opt.Indicators) == 0 && !opt.Documented {
			opt.Indicators = allIndexes(o.Indicators)
		}
		p.Options = append(p.Options, opt)
	}
	o.Query = p
}

// planValidation asks whether a documented diagnosis is supported, citing the documentation
// and the closest values the record holds.
func (rc *reviewCtx) planValidation(o *Opportunity) {
	title := o.Condition
	if len(o.Candidates) > 0 {
		title = titleOr(o.Candidates[0])
	}
	o.Query = QueryPlan{Format: FormatMultipleChoice, Purpose: PurposeClinicalValidation, Reason: QueryReasonClinicalValidation,
		ReasonText: reasonTextValidation,
		Question:   fmt.Sprintf("Based on your clinical judgment, please clarify the status of the documented %s.", lowerTitle(title)),
		Options: []Option{
			{Text: fmt.Sprintf("%s is confirmed; the supporting clinical findings are described in the record", title), Kind: OptionDiagnosis, Documented: true},
			{Text: fmt.Sprintf("%s was ruled out", title), Kind: OptionDiagnosis, Documented: true, Action: ActionRemove}}}
}

// allDocumented reports whether every code is documented by a provider or in the working codes.
func (rc *reviewCtx) allDocumented(codes []string) bool {
	if len(codes) == 0 {
		return false
	}
	for _, c := range codes {
		if !rc.providerDocumented(c) {
			return false
		}
	}
	return true
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

func allIndexes[T any](l []T) []int {
	out := make([]int, len(l))
	for i := range l {
		out[i] = i
	}
	return out
}
