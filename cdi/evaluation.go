package cdi

import (
	"slices"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// Stage 2 of a review: indicators evaluated over the facts. Each selector's facts and each
// indicator's result are computed once, on first use; the evaluation reads the facts and the
// working codes and nothing downstream.
type indicators struct {
	rules   *Rules
	facts   *facts
	base    *claim.Claim
	orProcs map[string]bool // working procedure code → operating room procedure in the version
	points  map[string][]point
	results map[string]*IndicatorResult
	warn    func(string)
	// prophylaxis: evidence index → prophylaxis regimen label (nil until computed).
	prophylaxis map[int]string
}

func newIndicators(r *Rules, fs *facts, base *claim.Claim, orProcs map[string]bool, warn func(string)) *indicators {
	return &indicators{rules: r, facts: fs, base: base, orProcs: orProcs, points: map[string][]point{},
		results: map[string]*IndicatorResult{}, warn: warn}
}

// met reports whether an indicator or a named criterion holds.
func (s *indicators) met(id string) bool {
	if s.rules.Indicators[id] != nil {
		return s.result(id).Met
	}
	if c := s.rules.Criteria[id]; c != nil {
		return c.eval(s)
	}
	return false
}

// documented reports whether a provider-documented or working code has one of the prefixes.
func (s *indicators) documented(prefixes []string) bool { return s.facts.documented(prefixes) }

// principal reports whether the working principal diagnosis has one of the prefixes.
func (s *indicators) principal(prefixes []string) bool {
	return s.base.PDX != nil && s.base.PDX.Code != "" && hasCodePrefix(normCode(s.base.PDX.Code), prefixes)
}

// result evaluates an indicator once per review.
func (s *indicators) result(id string) *IndicatorResult {
	if r, ok := s.results[id]; ok {
		return r
	}
	ind := s.rules.Indicators[id]
	var r IndicatorResult
	if ind.Score != "" {
		s.results[id] = &IndicatorResult{ID: id, Label: ind.Label, Explain: "being evaluated"} // no cycle through levels
		r = s.evalScore(ind)
	} else {
		pts := s.pointsOf(ind.Of)
		if len(ind.text) > 0 {
			pts = s.withText(pts, ind.text)
		}
		pts = s.window(ind, pts)
		r = ind.evaluate(pts, s.base.Age)
	}
	s.results[id] = &r
	return &r
}

// window applies an indicator's Near, NotNear and BeforeFirst refinements.
func (s *indicators) window(ind *Indicator, pts []point) []point {
	if ind.Near == nil && ind.NotNear == nil && ind.BeforeFirst == "" {
		return pts
	}
	var first time.Time
	if ind.BeforeFirst != "" {
		for _, p := range s.pointsOf(ind.BeforeFirst) {
			if !p.t.IsZero() && (first.IsZero() || p.t.Before(first)) {
				first = p.t
			}
		}
	}
	out := make([]point, 0, len(pts))
	for _, p := range pts {
		if !first.IsZero() && (p.t.IsZero() || !p.t.Before(first)) {
			continue
		}
		if ind.Near != nil && !s.near(p, ind.Near) {
			continue
		}
		if ind.NotNear != nil && s.near(p, ind.NotNear) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// near reports whether a fact of the window's selector lies within its hours of p.
func (s *indicators) near(p point, w *Window) bool {
	if p.t.IsZero() {
		return false
	}
	for _, q := range s.pointsOf(w.Of) {
		if q.t.IsZero() {
			continue
		}
		d := q.t.Sub(p.t).Hours()
		if d >= -w.Before-eps && d <= w.After+eps {
			return true
		}
	}
	return false
}

// pointsOf returns the facts a selector picks, once per review.
func (s *indicators) pointsOf(id string) []point {
	if p, ok := s.points[id]; ok {
		return p
	}
	sel := s.rules.Selectors[id]
	var pts []point
	switch {
	case sel.Derive != nil:
		refs := sel.Derive.Of
		if sel.Derive.Op != "sum" {
			refs = []string{sel.Derive.A, sel.Derive.B}
		}
		operands := make([][]point, len(refs))
		for i, ref := range refs {
			operands[i] = s.pointsOf(ref)
		}
		pts = derive(sel.Derive, operands)
	default:
		if sel.Kind.Has(SelectCode) {
			pts = append(pts, s.codePoints(sel)...)
		}
		if sel.Kind.Has(SelectProcedure) {
			pts = append(pts, s.procedurePoints(sel)...)
		}
		for i := range s.facts.items {
			f := &s.facts.items[i]
			excerpt, ok := sel.matches(f, s.rules)
			if !ok {
				continue
			}
			if sel.ExcludeProphylaxis && f.ev.Kind == claim.KindMed {
				if _, prophylactic := s.prophylactic()[f.idx]; prophylactic {
					continue
				}
			}
			p := pointOf(f)
			p.excerpt = excerpt
			if len(sel.Culture) > 0 {
				p.context = withReading(p.context, f.culture)
			}
			if x, ok, why := sel.value(f); ok {
				p.v, p.hasV = x, true
			} else if why != "" {
				s.warn(why)
			}
			pts = append(pts, p)
		}
	}
	if len(pts) == 0 && sel.Fallback != "" {
		pts = s.pointsOf(sel.Fallback)
	}
	s.points[id] = pts
	return pts
}

// codePoints are the provider-documented and working diagnoses a code selector picks.
func (s *indicators) codePoints(sel *Selector) []point {
	var pts []point
	for _, d := range s.facts.docs {
		if d.provider && hasCodePrefix(d.code, sel.Codes) {
			pts = append(pts, point{kind: d.cite.Kind, ev: d.cite.Evidence, t: d.cite.Time, name: d.cite.Name, source: d.cite.Source,
				role: d.cite.AuthorRole, code: d.code, prior: d.cite.PriorEncounter})
		}
	}
	return pts
}

// procedurePoints are the working procedure codes a procedure selector picks (dated at the
// start of their day).
func (s *indicators) procedurePoints(sel *Selector) []point {
	var pts []point
	for _, p := range s.base.Procedures {
		code := strings.ToUpper(p.Code)
		if len(sel.Codes) > 0 && !hasCodePrefix(code, sel.Codes) || sel.OperatingRoom && !s.orProcs[code] {
			continue
		}
		name := "procedure " + p.Code
		if sel.OperatingRoom {
			name = "operating room procedure " + p.Code
		}
		pt := point{kind: CiteProcedure, name: name, code: p.Code, source: "working procedure codes"}
		if p.Date != nil {
			pt.t = p.Date.Time()
		}
		pts = append(pts, pt)
	}
	return pts
}

// withText keeps the points whose note text or text result contains one of the phrases
// outside a negated clause, with the matching clause as excerpt.
func (s *indicators) withText(pts []point, phrases []string) []point {
	var out []point
	for _, p := range pts {
		if len(p.ev) != 1 {
			continue
		}
		if clause, ok := findPhrase(s.facts.items[p.ev[0]].textClauses(), phrases, s.rules); ok {
			p.excerpt = clause
			out = append(out, p)
		}
	}
	return out
}

// clinicalCites returns the clinical citations of the met indicators that make c hold
// (documentation of diagnoses is left out: it never supports a diagnosis by itself).
func (s *indicators) clinicalCites(c *Criterion) []Cite {
	var out []Cite
	for _, id := range c.supporting(s.rules, s, nil) {
		for _, ct := range s.result(id).Cited {
			if ct.Clinical() {
				out = append(out, ct)
			}
		}
	}
	return dedupeCites(out)
}

// cites returns every citation of the met indicators that make c hold.
func (s *indicators) cites(c *Criterion) []Cite {
	var out []Cite
	for _, id := range c.supporting(s.rules, s, nil) {
		out = append(out, s.result(id).Cited...)
	}
	return dedupeCites(out)
}

// dedupeCites drops repeated citations of the same facts (an item cited by two indicators
// keeps its first citation; different excerpts of one note are different facts).
func dedupeCites(cs []Cite) []Cite {
	out := cs[:0:0]
	for _, c := range cs {
		dup := slices.ContainsFunc(out, func(o Cite) bool { return sameFact(&o, &c) })
		if !dup {
			out = append(out, c)
		}
	}
	return out
}

// sameFact reports whether two citations cite the same fact.
func sameFact(a, b *Cite) bool {
	if len(a.Evidence) == 0 && len(b.Evidence) == 0 {
		return a.Code != "" && a.Code == b.Code && a.Source == b.Source
	}
	return slices.Equal(a.Evidence, b.Evidence) && a.Detail == b.Detail && a.Value.String() == b.Value.String()
}
