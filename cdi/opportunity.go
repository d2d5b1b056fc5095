package cdi

import (
	"fmt"
	"slices"
	"strings"
)

// Stage 4 of a review: the condition assessments and the documentation become opportunities,
// each with the query it leads to. A rule opportunity cites the clinical indicators of its
// criteria and of every option it offers; the documentation it is about is kept apart and is
// never cited as support.

// opportunities builds the review's opportunities: from the rules (new diagnoses,
// specificity, clinical validation), then from the documentation (non-provider
// documentation, conflicting documentation, missing POA).
func (rc *reviewCtx) opportunities(conds []condition) []Opportunity {
	var opps []Opportunity
	for i := range conds {
		if o := rc.ruleOpportunity(&conds[i]); o != nil {
			opps = append(opps, *o)
		}
	}
	opps = append(opps, rc.nonProviderConflicts(opps)...)
	opps = append(opps, rc.providerConflicts()...)
	opps = append(opps, rc.missingPOA()...)
	return opps
}

// ruleOpportunity turns a fired condition into an opportunity (nil when it raises none).
func (rc *reviewCtx) ruleOpportunity(c *condition) *Opportunity {
	switch c.kind {
	case KindClinicalValidation:
		return rc.validationOpportunity(c)
	case KindNewDiagnosis, KindSpecificity:
	default:
		return nil
	}
	rule := c.rule
	o := &Opportunity{ID: "rule:" + c.id, Kind: c.kind, Reason: ReasonIndicatorsWithoutDiagnosis, Rule: c.id,
		Condition: rule.Condition, Terms: rule.Terms, Strength: c.strength, Explain: c.result.Explain}
	if c.kind == KindSpecificity {
		o.Reason = ReasonUnspecifiedDocumentation
		for _, d := range uniqueDocs(c.unspecified) {
			o.Replaces = append(o.Replaces, d.code)
		}
		for _, d := range c.unspecified {
			o.Documentation = append(o.Documentation, d.cite)
		}
	}
	o.Indicators = slices.Clone(c.support)
	for _, opt := range c.options {
		o.Indicators = dedupeCites(append(o.Indicators, opt.cites...))
	}
	for _, code := range c.candidateCodes() {
		o.Candidates = append(o.Candidates, rc.candidate(code))
	}
	// Onset is dated by the evidence of the condition, not by what selects the code.
	o.POA = rc.assumePOA(c.support)
	if t, ok := rule.Criteria.onset(rc.rules, rc.ind); ok && o.POA == "Y" {
		// The condition exists once every part of its criteria does: sepsis that develops
		// on the fourth day of a pneumonia treated since admission is not present on
		// admission.
		o.POA = rc.assumePOA([]Cite{{Time: t}})
	}
	o.Principal = c.primary != nil && c.primary.Principal && o.POA == "Y" && rc.principalSupported(c.primary)
	o.Query = planRule(c, o)
	return o
}

// validationOpportunity asks whether a documented diagnosis the criteria do not support is
// clinically valid, citing the documentation and the closest values the record holds. It
// tells a record that contradicts the criteria from one that holds no data of their kinds
// (Opportunity.Validation); the query is planned only when there is a clinical indicator
// with a source and a time to cite.
func (rc *reviewCtx) validationOpportunity(c *condition) *Opportunity {
	rule := c.rule
	o := &Opportunity{ID: "cv:" + c.id, Kind: KindClinicalValidation, Reason: ReasonIndicatorsDoNotSupport, Rule: c.id,
		Condition: rule.Condition, Terms: rule.Terms, Explain: c.result.Explain, Strength: 0.5}
	for _, d := range uniqueDocs(c.specific) {
		o.Replaces = append(o.Replaces, d.code)
		o.Candidates = append(o.Candidates, rc.candidate(d.code))
	}
	for _, d := range c.specific {
		o.Documentation = append(o.Documentation, d.cite)
		if !d.working {
			o.Indicators = append(o.Indicators, d.cite)
		}
	}
	// The closest values the criteria found tell the provider what the record shows.
	against, some := false, false
	var absent []string
	def := &rule.Criteria
	if rule.Validation != nil {
		def = rule.Validation
	}
	for _, iid := range def.indicators(rc.rules, nil) {
		r := rc.ind.result(iid)
		clinical := false
		for _, ct := range r.Cited {
			if ct.Clinical() {
				o.Indicators = append(o.Indicators, ct)
				clinical = true
			}
		}
		switch {
		case !clinical:
			absent = append(absent, r.Label)
		case r.Met:
			some = true
		default:
			against = true
		}
	}
	o.Indicators = dedupeCites(o.Indicators)
	switch {
	case against:
		o.Validation = ValidationContradicted
	case some:
		o.Validation = ValidationInsufficient
	default:
		o.Validation = ValidationNoEvidence
		o.Explain += "; no evidence available: the record holds none of " + strings.Join(absent, ", ") +
			"; nothing to cite, no clinical validation query is drafted"
		return o
	}
	if !slices.ContainsFunc(o.Indicators, func(ct Cite) bool { return ct.Clinical() && ct.Source != "" && !ct.Time.IsZero() }) {
		o.Explain += "; the values found have no source or time to cite: no clinical validation query is drafted"
		return o
	}
	o.Query = planValidation(o)
	return o
}

// nonProviderConflicts raises a conflict for each diagnosis documented by a nurse, dietitian
// or other clinician and by no provider. When a fired rule covers the diagnosis (the
// malnutrition rule and a dietitian's malnutrition assessment), the documentation is cited
// by that rule's opportunity instead, which then carries the query.
func (rc *reviewCtx) nonProviderConflicts(opps []Opportunity) []Opportunity {
	byCode := map[string][]Cite{}
	var order []string
	for _, d := range rc.facts.docs {
		if d.provider || hasCodePrefix(d.code, rc.rules.NonProviderReportable) || rc.facts.providerDocumented(d.code) {
			continue
		}
		cite := d.cite
		cite.Indicator, cite.Label = "non_provider_documentation", "diagnosis documented by "+cite.AuthorRole
		if rc.absorb(opps, d.code, cite) {
			continue
		}
		if _, ok := byCode[d.code]; !ok {
			order = append(order, d.code)
		}
		byCode[d.code] = append(byCode[d.code], cite)
	}
	var out []Opportunity
	for _, code := range order {
		cites := byCode[code]
		o := Opportunity{ID: "conflict:non_provider:" + code, Kind: KindConflict, Reason: ReasonNonProviderDocumentation,
			Condition: rc.nameOf(code), Candidates: []CandidateCode{rc.candidate(code)}, Indicators: cites,
			Documentation: cites, Strength: 0.6, Terms: []string{strings.ToLower(rc.nameOf(code))}}
		o.POA = rc.assumePOA(cites)
		o.Explain = fmt.Sprintf("%s is documented by %s only; no provider documents it", code, rolesOf(cites))
		o.Query = planNonProvider(&o)
		out = append(out, o)
	}
	return out
}

func rolesOf(cites []Cite) string {
	var roles []string
	for _, c := range cites {
		if !slices.Contains(roles, c.AuthorRole) {
			roles = append(roles, c.AuthorRole)
		}
	}
	return strings.Join(roles, ", ")
}

// absorb adds a non-provider documentation to the fired rule opportunity that covers the
// code (as documentation, never as support), and reports whether there was one.
func (rc *reviewCtx) absorb(opps []Opportunity, code string, cite Cite) bool {
	for i := range opps {
		o := &opps[i]
		if o.Rule == "" || (o.Kind != KindNewDiagnosis && o.Kind != KindSpecificity) {
			continue
		}
		rule := rc.rules.Rules[o.Rule]
		if rule == nil {
			continue
		}
		covered := hasCodePrefix(code, rule.Documented) || hasCodePrefix(code, rule.Unspecified)
		for _, c := range o.Candidates {
			covered = covered || len(c.Code) >= 3 && len(code) >= 3 && c.Code[:3] == code[:3]
		}
		if covered {
			o.Documentation = append(o.Documentation, cite)
			return true
		}
	}
	return false
}

// principalSupported reports whether a principal candidate's principal_when holds with
// evidence present on admission: the reason for admission supports the diagnosis and what it
// rests on (the infection of a sepsis) was there at admission (ICD-10-CM I.C.1.d.4: sepsis that
// develops after admission with a localized infection is sequenced after it).
func (rc *reviewCtx) principalSupported(cand *Candidate) bool {
	if cand.PrincipalWhen == nil {
		return true
	}
	return cand.PrincipalWhen.eval(rc.ind) && rc.assumePOA(rc.ind.cites(cand.PrincipalWhen)) == "Y"
}
