package cdi

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/msdrg-cdi/drg/tables"
)

// nonProviderConflicts raises a conflict for each diagnosis documented by a nurse, dietitian
// or other clinician and by no provider. When a fired rule covers the diagnosis (the
// malnutrition rule and a dietitian's malnutrition assessment), the documentation is cited
// by that rule's opportunity instead, which then carries the query.
func (rc *reviewCtx) nonProviderConflicts(opps []Opportunity) []Opportunity {
	byCode := map[string][]Cite{}
	var order []string
	for _, d := range rc.docs {
		if d.provider || hasCodePrefix(d.code, rc.rules.NonProviderReportable) || rc.providerDocumented(d.code) {
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

// providerDocumented reports whether a provider documented (or the working codes hold) code.
func (rc *reviewCtx) providerDocumented(code string) bool {
	for i := range rc.docs {
		if rc.docs[i].provider && rc.docs[i].code == code {
			return true
		}
	}
	return false
}

// absorb adds a non-provider documentation to the fired rule opportunity that covers the
// code, and reports whether there was one.
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
			o.Indicators = append(o.Indicators, cite)
			return true
		}
	}
	return false
}

// providerConflicts raises a conflict for each conflict group two members of which are
// documented by providers.
func (rc *reviewCtx) providerConflicts() []Opportunity {
	var out []Opportunity
	for _, id := range slices.Sorted(maps.Keys(rc.rules.ConflictGroups)) {
		g := rc.rules.ConflictGroups[id]
		hit := map[int][]docCode{}
		for _, d := range rc.docs {
			if !d.provider || d.working {
				continue
			}
			for m, prefixes := range g.Members {
				if hasCodePrefix(d.code, prefixes) {
					hit[m] = append(hit[m], d)
					break
				}
			}
		}
		if len(hit) < 2 {
			continue
		}
		o := Opportunity{ID: "conflict:" + id, Kind: KindConflict, Reason: ReasonConflictingDocumentation, Rule: id,
			Condition: g.Condition, Strength: 0.6}
		var codes []string
		for _, m := range slices.Sorted(maps.Keys(hit)) {
			for _, d := range hit[m] {
				c := d.cite
				c.Indicator, c.Label = "conflicting_documentation", "documented diagnosis"
				o.Documentation = append(o.Documentation, c)
				if !slices.Contains(codes, d.code) {
					codes = append(codes, d.code)
				}
			}
		}
		o.Indicators = o.Documentation
		for _, c := range codes {
			o.Candidates = append(o.Candidates, rc.candidate(c))
			o.Terms = append(o.Terms, strings.ToLower(rc.nameOf(c)))
		}
		// The most severe documented member first: it is the one measured.
		slices.SortStableFunc(o.Candidates, func(a, b CandidateCode) int { return cmp.Compare(levelRank(a.Level), levelRank(b.Level)) })
		o.POA = rc.assumePOA(o.Indicators)
		o.Explain = fmt.Sprintf("providers document conflicting diagnoses: %s", strings.Join(codes, " vs "))
		out = append(out, o)
	}
	return out
}

func levelRank(l string) int {
	switch l {
	case "MCC":
		return 0
	case "CC":
		return 1
	case "NCC":
		return 2
	}
	return 3
}

// hacRelevant reports whether a code takes part in a hospital-acquired condition as a
// secondary diagnosis in the version (its POA decides whether it counts as a CC/MCC).
func (rc *reviewCtx) hacRelevant(code string) bool {
	rec, ok := tables.Pick(rc.e.cat.MSDRG.Dx[code], rc.v)
	if !ok {
		return false
	}
	for _, op := range rec.HACOperands {
		if !strings.HasSuffix(strings.ToLower(op), "_pdx") {
			return true
		}
	}
	return false
}

// missingPOA raises a POA opportunity for each working secondary diagnosis that takes part
// in a hospital-acquired condition and has no POA value (or U, documentation insufficient),
// unless it is on the POA-exempt list.
func (rc *reviewCtx) missingPOA() []Opportunity {
	exempt, _ := rc.e.cat.POAFor(rc.v)
	var out []Opportunity
	for _, d := range rc.base.SDX {
		if d.POA != "" && d.POA != "U" || !rc.hacRelevant(d.Code) || exempt != nil && exempt.Has(d.Code) {
			continue
		}
		if slices.ContainsFunc(out, func(o Opportunity) bool { return o.Replaces[0] == d.Code }) {
			continue
		}
		o := Opportunity{ID: "poa:" + d.Code, Kind: KindConflict, Reason: ReasonMissingPOA, Condition: rc.nameOf(d.Code),
			Candidates: []CandidateCode{rc.candidate(d.Code)}, Replaces: []string{d.Code}, POA: "Y", Strength: 0.5,
			Terms: []string{strings.ToLower(rc.nameOf(d.Code))}}
		for _, doc := range rc.docs {
			if doc.code == d.Code && !doc.working {
				o.Documentation = append(o.Documentation, doc.cite)
			}
		}
		o.Indicators = slices.Clone(o.Documentation)
		// The indicators of a rule about the same condition date its onset.
		for _, id := range rc.rules.ruleIDs {
			rule := rc.rules.Rules[id]
			if !ruleCovers(rule, d.Code) {
				continue
			}
			for _, iid := range rc.ruleSupport(rule) {
				o.Indicators = append(o.Indicators, rc.indicator(iid).Cited...)
			}
		}
		o.Indicators = dedupeCites(o.Indicators)
		status := "no POA indicator"
		if d.POA == "U" {
			status = "POA U (documentation insufficient)"
		}
		o.Explain = fmt.Sprintf("%s has %s and is a hospital-acquired-condition code: its POA status decides whether it counts", d.Code, status)
		out = append(out, o)
	}
	return out
}

// ruleCovers reports whether a rule is about a code (its documentation or candidates).
func ruleCovers(rule *Rule, code string) bool {
	if hasCodePrefix(code, rule.Documented) || hasCodePrefix(code, rule.Unspecified) {
		return true
	}
	for _, c := range rule.Candidates {
		if slices.Contains(c.Codes, code) {
			return true
		}
	}
	return false
}

// specificity finds, for each documented secondary diagnosis, the codes of the same
// ICD-10-CM category with a higher CC/MCC level that the principal diagnosis does not
// exclude, keeping the closest ones (longest common prefix) whose title names the same
// condition (see titleStem: hyperlipidemia is not made more specific by Barth syndrome).
// Codes a rule already raised a specificity opportunity for are skipped.
func (rc *reviewCtx) specificity(opps []Opportunity) []Opportunity {
	covered := map[string]bool{}
	for _, o := range opps {
		if o.Kind == KindSpecificity || o.Kind == KindClinicalValidation {
			for _, r := range o.Replaces {
				covered[r] = true
			}
		}
	}
	pdx := ""
	if rc.base.PDX != nil {
		pdx = rc.base.PDX.Code
	}
	var out []Opportunity
	seen := map[string]bool{}
	for _, d := range rc.docs {
		if !d.provider || d.pdx || d.code == pdx || seen[d.code] || covered[d.code] ||
			hasCodePrefix(d.code, rc.rules.Specificity.ExcludeCategories) {
			continue
		}
		seen[d.code] = true
		sibs := rc.siblings(d.code, pdx)
		if len(sibs) == 0 {
			continue
		}
		o := Opportunity{ID: "spec:" + d.code, Kind: KindSpecificity, Reason: ReasonSiblingAtHigherLevel,
			Condition: rc.nameOf(d.code), Replaces: []string{d.code}, Strength: 0.2,
			Terms: []string{strings.ToLower(rc.nameOf(d.code))}}
		for _, doc := range rc.docs {
			if doc.code == d.code {
				c := doc.cite
				c.Indicator, c.Label = "documented_diagnosis", "documented diagnosis"
				o.Documentation = append(o.Documentation, c)
				if !doc.working {
					o.Indicators = append(o.Indicators, c)
				}
			}
		}
		more := len(sibs) - rc.rules.Specificity.MaxOptions
		if more > 0 {
			sibs = sibs[:rc.rules.Specificity.MaxOptions]
		}
		for _, s := range sibs {
			o.Candidates = append(o.Candidates, rc.candidate(s))
		}
		lvl, _ := rc.level(d.code)
		o.Explain = fmt.Sprintf("%s (%s) has codes of a higher level in its category not excluded by the principal diagnosis: %s", d.code, lvl, strings.Join(sibs, ", "))
		if more > 0 {
			o.Explain += fmt.Sprintf(" and %d more", more)
		}
		o.POA = rc.poaOf(d.code)
		out = append(out, o)
	}
	return out
}

// siblings returns the codes of code's category with a higher level than code in the
// review's version, not excluded as CC/MCC by pdx, with the same seventh character, sharing
// the longest prefix with code; ordered by level then code.
func (rc *reviewCtx) siblings(code, pdx string) []string {
	lvl, ok := rc.level(code)
	if !ok || lvl == tables.MCC || len(code) < 3 {
		return nil
	}
	var excl map[string]struct{}
	if rec, ok := tables.Pick(rc.e.cat.MSDRG.PdxExclusions[pdx], rc.v); ok && pdx != "" {
		excl = rc.e.exclusionSet(rec.Group)
	}
	stem := titleStem(rc.title(code))
	best := 0
	var out []string
	for _, s := range rc.e.category(code[:3]) {
		if s == code {
			continue
		}
		sl, ok := rc.level(s)
		if !ok || sl >= lvl {
			continue
		}
		if _, x := excl[s]; x {
			continue
		}
		if len(code) == 7 && len(s) == 7 && s[6] != code[6] {
			continue
		}
		if stem != "" && !strings.Contains(strings.ToLower(rc.title(s)), stem) {
			continue
		}
		n := commonPrefix(code, s)
		if n > best {
			best, out = n, out[:0]
		}
		if n == best {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		la, _ := rc.level(a)
		lb, _ := rc.level(b)
		if c := cmp.Compare(la, lb); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return out
}

// titleStem returns the condition a title names, lower case: the title before its first
// comma, " with " or " without ", without "unspecified" ("Heart failure, unspecified" →
// "heart failure"; "Chronic kidney disease, stage 4 (severe)" → "chronic kidney disease").
// "" when the title is unknown.
func titleStem(title string) string {
	t := strings.ToLower(title)
	for _, sep := range []string{",", " with ", " without "} {
		if i := strings.Index(t, sep); i > 0 {
			t = t[:i]
		}
	}
	return strings.TrimSpace(strings.ReplaceAll(t, "unspecified", ""))
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// category returns the codes of an ICD-10-CM category (all versions), sorted.
func (e *Engine) category(cat string) []string {
	e.catOnce.Do(func() {
		e.categories = map[string][]string{}
		for code := range e.cat.MSDRG.Dx {
			if len(code) >= 3 {
				e.categories[code[:3]] = append(e.categories[code[:3]], code)
			}
		}
		for _, l := range e.categories {
			slices.Sort(l)
		}
	})
	return e.categories[cat]
}

// exclusionSet returns the codes of a CC/MCC exclusion group as a set, built once.
func (e *Engine) exclusionSet(group int) map[string]struct{} {
	e.exclMu.Lock()
	defer e.exclMu.Unlock()
	s, ok := e.excl[group]
	if !ok {
		s = map[string]struct{}{}
		for _, c := range e.cat.MSDRG.ExclusionGroups[group] {
			s[c] = struct{}{}
		}
		e.excl[group] = s
	}
	return s
}
