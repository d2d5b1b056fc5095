package cdi

import (
	"fmt"
	"slices"
	"strings"
)

// Stage 3 of a review: each condition rule assessed on the indicators — does the record
// support the condition, is it documented (specifically or not), and which query options
// does the evidence support, each with the clinical indicators that support it in
// particular.

// condition is the assessment of one condition rule.
type condition struct {
	id     string
	rule   *Rule
	result RuleResult
	// kind is the opportunity the condition raises ("" none): new_diagnosis, specificity or
	// clinical_validation.
	kind string
	// specific is the documentation of the condition with a specific code; unspecified the
	// less specific documentation a specificity opportunity would replace.
	specific, unspecified []docCode
	// support are the clinical citations of the indicators that make the criteria hold.
	support []Cite
	// strength is the evidence strength of the criteria's indicators.
	strength float64
	// options are the query options the evidence supports, in template order.
	options []supportedOption
	// primary is the candidate measured for the impact (nil for an open-ended query).
	primary *Candidate
	// companions are codes reported with the diagnosis (the BMI Z code).
	companions []string
	// open: no option has evidence of its own; the rule's open question is asked.
	open bool
}

// supportedOption is an option of a rule's query template offered for this patient.
type supportedOption struct {
	text       string
	kind       string // OptionDiagnosis, OptionNotSignificant, OptionIntegral
	codes      []string
	documented bool   // the diagnosis it names is documented already
	cites      []Cite // the clinical indicators supporting this option
}

// assess evaluates every rule, in id order.
func assess(r *Rules, ind *indicators, fs *facts, valid func(string) bool) []condition {
	out := make([]condition, 0, len(r.ruleIDs))
	for _, id := range r.ruleIDs {
		out = append(out, assessRule(id, r, ind, fs, valid))
	}
	return out
}

func assessRule(id string, r *Rules, ind *indicators, fs *facts, valid func(string) bool) condition {
	rule := r.Rules[id]
	c := condition{id: id, rule: rule, result: RuleResult{Rule: id, Condition: rule.Condition}}
	res := &c.result
	if ok, why := rule.appliesTo(r.Settings); !ok {
		res.Status, res.Explain = StatusNotEvaluated, why
		return c
	}
	for _, iid := range rule.indicators(r) {
		res.Indicators = append(res.Indicators, *ind.result(iid))
	}
	if rule.Exclude != nil && rule.Exclude.eval(ind) {
		res.Status = StatusNotFired
		res.Explain = "not applicable to this patient: " + rule.Exclude.explain(ind)
		return c
	}
	holds := rule.Criteria.eval(ind)
	crit := rule.Criteria.explain(ind)
	valid8, validCrit := holds, crit // the definition a documented diagnosis is validated by
	if rule.Validation != nil {
		valid8, validCrit = rule.Validation.eval(ind), rule.Validation.explain(ind)
	}
	for _, d := range fs.docs {
		switch {
		case !d.provider:
		case hasCodePrefix(d.code, rule.Unspecified):
			c.unspecified = append(c.unspecified, d)
		case hasCodePrefix(d.code, rule.Documented):
			c.specific = append(c.specific, d)
		}
	}
	if len(c.specific) == 0 && !valid8 && rule.ClinicalValidation {
		// An unspecified code that the rule itself would code (AKI N17.9, malnutrition E46)
		// names the condition: without the criteria it needs clinical validation too.
		cands := rule.candidateCodes()
		for _, d := range c.unspecified {
			if slices.Contains(cands, d.code) {
				c.specific = append(c.specific, d)
			}
		}
	}
	if len(c.specific) > 0 {
		codes := docCodesList(c.specific)
		if !rule.ClinicalValidation {
			res.Status = StatusDocumented
			res.Explain = fmt.Sprintf("already documented (%s); criteria %s", codes, crit)
			return c
		}
		if valid8 {
			res.Status = StatusDocumented
			res.Explain = fmt.Sprintf("already documented (%s); criteria %s", codes, validCrit)
			return c
		}
		res.Status, res.Kind, c.kind = StatusFired, KindClinicalValidation, KindClinicalValidation
		res.Explain = fmt.Sprintf("documented (%s) but the indicators do not meet the criteria: %s", codes, validCrit)
		return c
	}
	if !holds {
		res.Status = StatusNotFired
		res.Explain = "criteria not met: " + crit
		return c
	}
	c.kind = KindNewDiagnosis
	if len(c.unspecified) > 0 {
		c.kind = KindSpecificity
	}
	c.support = ind.clinicalCites(&rule.Criteria)
	var margins []float64
	for _, iid := range rule.Criteria.supporting(r, ind, nil) {
		margins = append(margins, ind.result(iid).Margin)
	}
	c.strength = strength(margins)
	if comp := firstCandidate(rule.Companions, ind); comp != nil {
		c.companions = slices.DeleteFunc(slices.Clone(comp.Codes), func(code string) bool { return !valid(code) })
	}
	c.supportOptions(ind, fs, valid)
	c.choosePrimary(ind, valid)
	what := "new diagnosis"
	if c.kind == KindSpecificity {
		what = "more specific than the documented " + docCodesList(c.unspecified)
	}
	switch {
	case len(c.support) == 0:
		res.Status = StatusNotFired
		res.Explain = fmt.Sprintf("criteria %s hold on documentation alone: no clinical indicator supports the %s", crit, what)
		c.kind = ""
	case c.kind == KindSpecificity && c.options == nil && !c.open:
		res.Status = StatusDocumented
		res.Explain = fmt.Sprintf("documented as %s; criteria %s; no more specific diagnosis is supported by indicators of its own", docCodesList(c.unspecified), crit)
		c.kind = ""
	case c.primary == nil && !c.open:
		res.Status = StatusNotFired
		res.Explain = fmt.Sprintf("criteria %s hold, but no query option has clinical indicators of its own", crit)
		c.kind = ""
	default:
		res.Status, res.Kind = StatusFired, c.kind
		if c.open {
			res.Explain = fmt.Sprintf("fired (%s): %s; no option has indicators of its own: open-ended query", what, crit)
		} else {
			res.Explain = fmt.Sprintf("fired (%s): %s; candidate %s (%s); options %s", what, crit,
				strings.Join(c.candidateCodes(), "+"), c.primary.Label, c.optionTexts())
		}
	}
	return c
}

// supportOptions keeps the template options whose condition holds and that clinical
// indicators of their own support. A diagnosis option documented already needs none (an
// option without codes — "localized infection without sepsis" — is documented when its
// support holds through documentation); an option that names no diagnosis needs its support
// to hold. Options naming no diagnosis are kept only beside one that does.
func (c *condition) supportOptions(ind *indicators, fs *facts, valid func(string) bool) {
	for _, ot := range c.rule.Query.Options {
		if ot.When != nil && !ot.When.eval(ind) {
			continue
		}
		if slices.ContainsFunc(ot.Codes, func(code string) bool { return !valid(code) }) {
			continue
		}
		holds := ot.Support.eval(ind)
		o := supportedOption{text: ot.Text, kind: ot.Kind, codes: slices.Clone(ot.Codes)}
		if holds {
			o.cites = ind.clinicalCites(ot.Support)
		}
		switch {
		case len(ot.Codes) > 0:
			o.documented = true
			for _, code := range ot.Codes {
				o.documented = o.documented && fs.providerDocumented(code)
			}
		case ot.Kind == OptionDiagnosis:
			o.documented = holds && len(o.cites) == 0 && slices.ContainsFunc(ind.cites(ot.Support), func(ct Cite) bool { return !ct.Clinical() })
		}
		switch {
		case ot.Kind != OptionDiagnosis && !holds:
			continue
		case ot.Kind == OptionDiagnosis && len(o.cites) == 0 && !o.documented:
			continue
		}
		if len(o.codes) > 0 {
			for _, comp := range c.companions {
				if !slices.Contains(o.codes, comp) {
					o.codes = append(o.codes, comp)
				}
			}
		}
		c.options = append(c.options, o)
	}
	undocumented := slices.ContainsFunc(c.options, func(o supportedOption) bool {
		return o.kind == OptionDiagnosis && !o.documented && len(o.codes) > 0
	})
	if !undocumented {
		c.options = nil
		c.open = c.rule.Query.OpenQuestion != "" || c.rule.Query.Format == FormatOpenEnded
	}
}

// choosePrimary picks the candidate measured for the impact: the first rule candidate whose
// condition holds and whose codes an offered option names; else the first offered option
// with codes. Evidence picks it, never the severity level of the codes.
func (c *condition) choosePrimary(ind *indicators, valid func(string) bool) {
	if c.open {
		if c.rule.Query.Format == FormatOpenEnded { // an open-ended rule still knows what it is about
			for i := range c.rule.Candidates {
				if cand := &c.rule.Candidates[i]; cand.applies(ind, valid) {
					c.primary = cand
					return
				}
			}
		}
		return
	}
	offered := func(codes []string) bool {
		return slices.ContainsFunc(c.options, func(o supportedOption) bool {
			return o.kind == OptionDiagnosis && !o.documented && len(codes) > 0 &&
				!slices.ContainsFunc(codes, func(x string) bool { return !slices.Contains(o.codes, x) })
		})
	}
	for i := range c.rule.Candidates {
		if cand := &c.rule.Candidates[i]; cand.applies(ind, valid) && offered(cand.Codes) {
			c.primary = cand
			return
		}
	}
	for _, o := range c.options {
		if o.kind == OptionDiagnosis && !o.documented && len(o.codes) > 0 {
			c.primary = &Candidate{Codes: slices.DeleteFunc(slices.Clone(o.codes), func(x string) bool { return slices.Contains(c.companions, x) }), Label: strings.ToLower(o.text)}
			return
		}
	}
}

// candidateCodes are the codes measured: the primary candidate's and the companions.
func (c *condition) candidateCodes() []string {
	if c.primary == nil {
		return nil
	}
	codes := slices.Clone(c.primary.Codes)
	for _, x := range c.companions {
		if !slices.Contains(codes, x) {
			codes = append(codes, x)
		}
	}
	return codes
}

func (c *condition) optionTexts() string {
	var l []string
	for _, o := range c.options {
		l = append(l, o.text)
	}
	return strings.Join(l, " | ")
}

// indicators returns every indicator a rule uses: its criteria's, then those choosing its
// candidates, companions and query options.
func (rule *Rule) indicators(r *Rules) []string {
	ids := rule.Criteria.indicators(r, nil)
	ids = rule.Validation.indicators(r, ids)
	for _, l := range [][]Candidate{rule.Candidates, rule.Companions} {
		for i := range l {
			ids = l[i].When.indicators(r, ids)
		}
	}
	for i := range rule.Query.Options {
		ids = rule.Query.Options[i].When.indicators(r, ids)
		ids = rule.Query.Options[i].Support.indicators(r, ids)
	}
	return ids
}

// candidateCodes returns every code of the rule's candidates.
func (rule *Rule) candidateCodes() []string {
	var out []string
	for i := range rule.Candidates {
		for _, c := range rule.Candidates[i].Codes {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// applies reports whether a candidate's condition holds and its codes exist in the version.
func (cand *Candidate) applies(env criterionEnv, valid func(string) bool) bool {
	return (cand.When == nil || cand.When.eval(env)) && !slices.ContainsFunc(cand.Codes, func(x string) bool { return !valid(x) })
}

func firstCandidate(l []Candidate, env criterionEnv) *Candidate {
	for i := range l {
		if l[i].When == nil || l[i].When.eval(env) {
			return &l[i]
		}
	}
	return nil
}

func docCodesList(ds []docCode) string {
	var parts []string
	for _, d := range uniqueDocs(ds) {
		parts = append(parts, d.code)
	}
	return strings.Join(parts, ", ")
}

func uniqueDocs(ds []docCode) []docCode {
	var out []docCode
	for _, d := range ds {
		if !slices.ContainsFunc(out, func(o docCode) bool { return o.code == d.code }) {
			out = append(out, d)
		}
	}
	return out
}
