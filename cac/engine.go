package cac

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/msdrg-cdi/drg/notes"
)

// IndexLookup looks words up in the ICD-10-CM Alphabetic Index: the code of the entry the
// words name exactly (every word of the entry in the words and the reverse), with the entry.
type IndexLookup func(words string) (code, entry string, ok bool)

// CodeLookup returns the title of a code and whether it is valid for submission in the code
// set of the engine's fiscal year; ok is false for a code the set does not hold.
type CodeLookup func(code string) (title string, billable, ok bool)

// Engine codes the notes of a stay. Build it once per fiscal year with NewEngine; it is
// immutable and safe for concurrent use.
type Engine struct {
	rd *notes.Reader
	// matchers are layers matched independently, each longest-first: conditions, status and
	// history concepts, procedures, drugs ("ESRD on HD" is end-stage renal disease and
	// dialysis status; "history of stroke" a history code and a stroke that is not current)
	matchers [4]*notes.Matcher
	concepts []compiledConcept
	procs    []compiledProcedure
	meds     []compiledMed
	conv     *Conventions
	// integralOf maps each code the vocabulary gives to the signs and symptoms integral to it.
	integralOf map[string][]string
	medRules   *Medications
	dx, pr     CodeLookup
	index      IndexLookup // nil: no Alphabetic Index fallback

	principal, secondary map[string]bool
	nonProvider          map[string]bool
	poaNot               [][]string
	chronicCues, tempCue [][]string

	ventStart, ventEnd []*regexp.Regexp
	contrast           [][]string
	resolved, active   [][]string
	explained          [][]string

	// Warnings name vocabulary codes the code set does not hold (they are never suggested).
	Warnings []string
}

type compiledConcept struct {
	Concept
	code     string
	refine   []compiledRefine
	integral []string
	history  string
	meds     map[string]bool
}

type compiledRefine struct {
	ifs      [][][]string
	not      [][]string
	code     string
	min, max float64
}

type compiledProcedure struct {
	ProcedureRule
	code   string
	refine []compiledRefine
}

type compiledMed struct {
	name     string
	code     string
	notWith  []string
	sections []string
}

// NewEngine compiles the rules against the code sets of one fiscal year. A vocabulary code
// the code set does not hold, or that is not billable, is left out and named in Warnings.
func NewEngine(rd *notes.Reader, r Rules, dx, pr CodeLookup) (*Engine, error) {
	return NewEngineWithIndex(rd, r, dx, pr, nil)
}

// NewEngineWithIndex is NewEngine with the Alphabetic Index: a provider's diagnosis-list item
// that names no vocabulary concept is looked up there (the entry it names exactly).
func NewEngineWithIndex(rd *notes.Reader, r Rules, dx, pr CodeLookup, index IndexLookup) (*Engine, error) {
	e := &Engine{rd: rd, index: index, integralOf: map[string][]string{}, conv: &r.Conventions, medRules: &r.Medications, dx: dx, pr: pr,
		principal: map[string]bool{}, secondary: map[string]bool{}, nonProvider: map[string]bool{}}
	for i := range e.matchers {
		e.matchers[i] = rd.NewMatcher()
	}
	check := func(lookup CodeLookup, owner, code string) string {
		c := normCode(code)
		if c == "" {
			return ""
		}
		if _, billable, ok := lookup(c); !ok || !billable {
			e.Warnings = append(e.Warnings, fmt.Sprintf("%s: %s is not a billable code of this year", owner, code))
			return ""
		}
		return c
	}
	compileRefine := func(lookup CodeLookup, owner string, rs []Refine) []compiledRefine {
		var out []compiledRefine
		for _, rf := range rs {
			c := check(lookup, owner, rf.Code)
			if c == "" {
				continue
			}
			cr := compiledRefine{code: c, min: rf.MinHours, max: rf.MaxHours}
			for _, alts := range rf.If {
				var group [][]string
				for _, a := range alts {
					if w := rd.NormalizePhrase(a); len(w) > 0 {
						group = append(group, w)
					}
				}
				if len(group) > 0 {
					cr.ifs = append(cr.ifs, group)
				}
			}
			for _, n := range rf.Not {
				if w := rd.NormalizePhrase(n); len(w) > 0 {
					cr.not = append(cr.not, w)
				}
			}
			out = append(out, cr)
		}
		return out
	}
	for i, c := range r.Concepts {
		owner := r.Files[c.ID] + ": " + c.ID
		switch c.Class {
		case "condition", "symptom", "finding", "status":
		case "":
			c.Class = "condition"
		default:
			return nil, fmt.Errorf("cac rules %s: class %q: one of condition, symptom, finding, status", owner, c.Class)
		}
		cc := compiledConcept{Concept: c, code: check(dx, owner, c.Code), refine: compileRefine(dx, owner, c.Refine),
			history: check(dx, owner, c.History), meds: map[string]bool{}}
		for _, p := range c.Integral {
			cc.integral = append(cc.integral, normCode(p))
		}
		for _, m := range c.Meds {
			cc.meds[strings.Join(rd.NormalizePhrase(m), " ")] = true
		}
		e.concepts = append(e.concepts, cc)
		for _, code := range append([]string{cc.code}, refineCodes(cc.refine)...) {
			if code != "" && len(cc.integral) > 0 {
				e.integralOf[code] = append(e.integralOf[code], cc.integral...)
			}
		}
		for _, t := range c.Terms {
			layer := 0
			if c.Class == "status" {
				layer = 1
			}
			e.matchers[layer].Add("d"+strconv.Itoa(i), t)
		}
	}
	for i, p := range r.Procedures {
		owner := "procedures.json: " + p.ID
		cp := compiledProcedure{ProcedureRule: p, code: check(pr, owner, p.Code), refine: compileRefine(pr, owner, p.Refine)}
		e.procs = append(e.procs, cp)
		for _, t := range p.Terms {
			e.matchers[2].Add("p"+strconv.Itoa(i), t)
		}
	}
	for _, lt := range r.Medications.LongTerm {
		code := check(dx, "medications.json: "+lt.Title, lt.Code)
		for _, d := range lt.Drugs {
			e.meds = append(e.meds, compiledMed{name: strings.Join(rd.NormalizePhrase(d), " "), code: code, notWith: lt.NotWith, sections: lt.Sections})
			e.matchers[3].Add("m"+strconv.Itoa(len(e.meds)-1), d)
		}
	}
	// drugs that treat a chronic condition but carry no Z79 code
	for _, cc := range e.concepts {
		for m := range cc.meds {
			e.meds = append(e.meds, compiledMed{name: m})
			e.matchers[3].Add("m"+strconv.Itoa(len(e.meds)-1), m)
		}
	}
	for _, set := range []struct {
		src []string
		dst *[]*regexp.Regexp
	}{{r.Conventions.VentilationEvents.Start, &e.ventStart}, {r.Conventions.VentilationEvents.End, &e.ventEnd}} {
		for _, p := range set.src {
			re, err := regexp.Compile("(?i)" + p)
			if err != nil {
				return nil, fmt.Errorf("cac rules conventions.json: ventilation_events: %w", err)
			}
			*set.dst = append(*set.dst, re)
		}
	}
	for _, h := range r.Conventions.PrincipalHeadings {
		e.principal[strings.Join(notes.Words(h), " ")] = true
	}
	for _, h := range r.Conventions.SecondaryHeadings {
		e.secondary[strings.Join(notes.Words(h), " ")] = true
	}
	for _, h := range r.Conventions.NonProviderRoles {
		e.nonProvider[strings.Join(notes.Words(h), " ")] = true
	}
	e.resolved = phrases(rd, r.Conventions.ResolvedCues)
	e.active = phrases(rd, r.Conventions.ActiveCancerCues)
	e.explained = phrases(rd, r.Conventions.ExplainedByCues)
	e.contrast = phrases(rd, r.Conventions.ContrastCues)
	e.poaNot = phrases(rd, r.Conventions.POANotCues)
	e.chronicCues = phrases(rd, r.Medications.ChronicCues)
	e.tempCue = phrases(rd, r.Medications.TemporaryCues)
	return e, nil
}

func refineCodes(rs []compiledRefine) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.code
	}
	return out
}

// phrases normalizes cue phrases as note text is normalized.
func phrases(rd *notes.Reader, ps []string) [][]string {
	out := make([][]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, rd.NormalizePhrase(p))
	}
	return out
}

// scope is the words around a mention (its sentence or list item, cut at "versus" so that
// one side of a comparison does not refine the other), indexed by word so that the many
// refinement phrases of a concept are checked quickly. A phrase only counts where ConText
// does not negate it, rule it out, or make it hypothetical or a family member's.
type scope struct {
	toks   []notes.Token
	at     map[string][]int
	doc    *notes.Document
	sent   int
	offset int // of toks[0] in the sentence's tokens
}

func newScope(doc *notes.Document, sent, offset int, toks []notes.Token) *scope {
	s := &scope{toks: toks, at: make(map[string][]int, len(toks)), doc: doc, sent: sent, offset: offset}
	for i, t := range toks {
		s.at[t.Norm] = append(s.at[t.Norm], i)
	}
	return s
}

// has reports the word sequence p in the scope.
func (s *scope) has(p []string) bool { return s.hasAs(p, notes.Present) }

// hasAs is has for a mention asserted as a: a phrase under a negation, a ruling out … that
// the mention shares still counts ("aspiration pneumonia … ruled out" is an aspiration
// pneumonia ruled out, not a pneumonia of unknown kind ruled out).
func (s *scope) hasAs(p []string, a notes.Assertion) bool {
	if len(p) == 0 {
		return false
	}
outer:
	for _, i := range s.at[p[0]] {
		if i+len(p) > len(s.toks) {
			continue
		}
		for k := 1; k < len(p); k++ {
			if s.toks[i+k].Norm != p[k] {
				continue outer
			}
		}
		if s.doc != nil {
			switch pa := s.doc.AssertAt(s.sent, s.offset+i, s.offset+i+len(p)); pa {
			case notes.Negated, notes.RuledOut, notes.Hypothetical, notes.Family:
				if pa != a {
					continue
				}
			}
		}
		return true
	}
	return false
}

func (s *scope) hasAny(ps [][]string) bool { return s.hasAnyAs(ps, notes.Present) }

func (s *scope) hasAnyAs(ps [][]string, a notes.Assertion) bool {
	for _, p := range ps {
		if s.hasAs(p, a) {
			return true
		}
	}
	return false
}

// refineCode returns the code of the first refinement the scope satisfies (hours: the
// duration stated, or -1), else the default; refined reports a refinement.
func refineCode(def string, rs []compiledRefine, sc *scope, hours float64, a notes.Assertion) (code string, refined bool) {
	code, at := refineAt(def, rs, sc, hours, a)
	return code, at >= 0
}

// refineAt is refineCode with the index of the refinement applied (-1: none); refinements
// are written most specific first.
func refineAt(def string, rs []compiledRefine, sc *scope, hours float64, a notes.Assertion) (string, int) {
	for k, r := range rs {
		if r.min > 0 || r.max > 0 {
			if hours < 0 || r.min > 0 && hours < r.min || r.max > 0 && hours >= r.max {
				continue
			}
		}
		ok := true
		for _, g := range r.ifs {
			if !sc.hasAnyAs(g, a) {
				ok = false
				break
			}
		}
		if ok && sc.hasAnyAs(r.not, a) {
			ok = false
		}
		if ok {
			return r.code, k
		}
	}
	return def, -1
}
