package cdi

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/msdrg-cdi/drg/tables"
)

// Documentation opportunities: conflicting provider documentation and secondary diagnoses
// whose present-on-admission status is missing. They are about the documentation itself;
// their options are diagnoses already documented.

// providerConflicts raises a conflict for each conflict group two members of which are
// documented by providers. The members are listed in the order they were documented; the
// group's indicators that are met are cited with the documentation.
func (rc *reviewCtx) providerConflicts() []Opportunity {
	var out []Opportunity
	for _, id := range slices.Sorted(maps.Keys(rc.rules.ConflictGroups)) {
		g := rc.rules.ConflictGroups[id]
		hit := map[int][]docCode{}
		for _, d := range rc.facts.docs {
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
		var docs []docCode
		for _, m := range slices.Sorted(maps.Keys(hit)) {
			docs = append(docs, hit[m]...)
		}
		slices.SortStableFunc(docs, func(a, b docCode) int { return a.cite.Time.Compare(b.cite.Time) })
		var codes []string
		for _, d := range docs {
			c := d.cite
			c.Indicator, c.Label = "conflicting_documentation", "documented diagnosis"
			o.Documentation = append(o.Documentation, c)
			if !slices.Contains(codes, d.code) {
				codes = append(codes, d.code)
			}
		}
		o.Indicators = slices.Clone(o.Documentation)
		clinical := 0
		for _, iid := range g.Indicators {
			if r := rc.ind.result(iid); r.Met {
				o.Indicators = append(o.Indicators, r.Cited...)
				clinical += len(r.Cited)
			}
		}
		if clinical == 0 {
			// A query needs clinical indicators (Q1): the conflict is reported, not queried.
			rc.warn(fmt.Sprintf("%s: providers document conflicting diagnoses (%s) and the record holds no clinical indicator to cite in a query",
				g.Condition, strings.Join(codes, " vs ")))
			continue
		}
		o.Indicators = dedupeCites(o.Indicators)
		for _, c := range codes {
			o.Candidates = append(o.Candidates, rc.candidate(c))
			o.Terms = append(o.Terms, strings.ToLower(rc.nameOf(c)))
		}
		o.POA = rc.assumePOA(o.Documentation)
		o.Explain = fmt.Sprintf("providers document conflicting diagnoses: %s", strings.Join(codes, " vs "))
		o.Query = planConflict(&o)
		out = append(out, o)
	}
	return out
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
		for _, doc := range rc.facts.docs {
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
			o.Indicators = append(o.Indicators, rc.ind.cites(&rule.Criteria)...)
		}
		o.Indicators = dedupeCites(o.Indicators)
		status := "no POA indicator"
		if d.POA == "U" {
			status = "POA U (documentation insufficient)"
		}
		o.Explain = fmt.Sprintf("%s has %s and is a hospital-acquired-condition code: its POA status decides whether it counts", d.Code, status)
		o.Query = planPOA(&o)
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

// CodingHint tells a coder that a documented code names its condition without specificity
// and that its category holds more specific codes. It is read from the code titles alone
// (never from CC/MCC levels) and it is not a query: a query needs evidence.
type CodingHint struct {
	// Kind: invalid_code (a working code the version does not recognize: the invalid
	// principal diagnosis first of all, as the claim groups to DRG 999) or specificity.
	Kind  string `json:"kind"`
	Code  string `json:"code"`
	Role  string `json:"role,omitempty"` // for invalid_code: pdx or sdx
	Title string `json:"title,omitempty"`
	// MoreSpecific are codes of the same category naming the same condition more
	// specifically (at most Rules.Specificity.MaxOptions, in code order); Count is how many
	// there are.
	MoreSpecific []CandidateCode `json:"more_specific"`
	Count        int             `json:"count"`
	Message      string          `json:"message"`
}

// Coding hint kinds.
const (
	HintInvalidCode = "invalid_code"
	HintSpecificity = "specificity"
)

// invalidCodeHints lists the working diagnosis codes the review's grouper version does not
// recognize, the principal diagnosis first: a coder's first item, since an invalid principal
// diagnosis groups the claim to DRG 999 and no CDI impact can be measured until it is fixed.
// MoreSpecific holds the valid codes that may replace it (derived from the code files; to be
// confirmed in the Tabular List).
func (rc *reviewCtx) invalidCodeHints() []CodingHint {
	var out []CodingHint
	add := func(role, code, what string) {
		if strings.TrimSpace(code) == "" || rc.valid(code) || slices.ContainsFunc(out, func(h CodingHint) bool { return h.Code == code }) {
			return
		}
		ic := rc.e.cat.DescribeInvalid(tables.ICD10CM, code, rc.v)
		h := CodingHint{Kind: HintInvalidCode, Code: code, Role: role, Count: len(ic.Replacements) + ic.More}
		for _, r := range ic.Replacements[:min(len(ic.Replacements), rc.rules.Specificity.MaxOptions)] {
			h.MoreSpecific = append(h.MoreSpecific, CandidateCode{Code: r, Title: rc.title(r)})
		}
		h.Message = fmt.Sprintf("%s %s is not a valid ICD-10-CM code in grouper version %s", what, code, rc.v)
		if ic.Reason != "" {
			h.Message += " (" + ic.Reason + ")"
		}
		if role == "pdx" {
			h.Message += ": the claim groups to DRG 999 (ungroupable) until a valid principal diagnosis is coded"
		}
		if len(h.MoreSpecific) > 0 {
			h.Message += fmt.Sprintf("; valid codes that may replace it (confirm in the Tabular List): %s", strings.Join(codesOf(h.MoreSpecific), ", "))
		}
		out = append(out, h)
	}
	if p := rc.base.PDX; p != nil {
		add("pdx", p.Code, "the principal diagnosis")
	}
	for _, d := range rc.base.SDX {
		add("sdx", d.Code, "secondary diagnosis")
	}
	return out
}

// hints lists the documented codes whose title says "unspecified" and whose category has
// more specific codes of the same condition, except those an opportunity is already about.
func (rc *reviewCtx) hints(opps []Opportunity) []CodingHint {
	covered := map[string]bool{}
	for _, o := range opps {
		for _, r := range o.Replaces {
			covered[r] = true
		}
	}
	var out []CodingHint
	seen := map[string]bool{}
	for _, d := range rc.facts.docs {
		if !d.provider || seen[d.code] || covered[d.code] || hasCodePrefix(d.code, rc.rules.Specificity.ExcludeCategories) {
			continue
		}
		seen[d.code] = true
		title := rc.title(d.code)
		if !strings.Contains(strings.ToLower(title), "unspecified") {
			continue
		}
		sibs := rc.moreSpecific(d.code, title)
		if len(sibs) == 0 {
			continue
		}
		h := CodingHint{Kind: HintSpecificity, Code: d.code, Title: title, Count: len(sibs)}
		for _, s := range sibs[:min(len(sibs), rc.rules.Specificity.MaxOptions)] {
			h.MoreSpecific = append(h.MoreSpecific, CandidateCode{Code: s, Title: rc.title(s)})
		}
		h.Message = fmt.Sprintf("%s (%s) names its condition without specificity; its category has %d more specific codes. Code from the documentation; query only when the record holds evidence of a particular one.", d.code, title, len(sibs))
		out = append(out, h)
	}
	return out
}

// moreSpecific returns the codes of code's category, valid in the review's version, naming
// the same condition (see titleStem) and sharing the longest prefix with code, with the same
// seventh character; in code order.
func (rc *reviewCtx) moreSpecific(code, title string) []string {
	if len(code) < 3 {
		return nil
	}
	stem := titleStem(title)
	best := 0
	var out []string
	for _, s := range rc.e.category(code[:3]) {
		if s == code || !rc.valid(s) {
			continue
		}
		if len(code) == 7 && len(s) == 7 && s[6] != code[6] {
			continue
		}
		t := strings.ToLower(rc.title(s))
		if stem != "" && !strings.Contains(t, stem) || strings.Contains(t, "unspecified") {
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
	slices.SortFunc(out, cmp.Compare[string])
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
