package cdi

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Text normalization shared by evidence matching: names, contexts and note phrases are
// compared in lower case with punctuation folded to spaces (norm), names also without any
// separator at all (compact) so that "NTproBNP", "NT-proBNP" and "NT pro BNP" are one name.

// norm lowercases s and turns every run of characters other than letters and digits into one
// space, with a space at both ends so that whole-word phrases can be found with Contains.
func norm(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 && r != 'µ' && r != '°' {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	out := b.String()
	if out == " " {
		return ""
	}
	return out
}

func normAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = norm(s)
	}
	return out
}

// compact lowercases s and keeps only its letters and digits ("NT-proBNP" → "ntprobnp").
func compact(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 && r != 'µ' && r != '°' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// canonical returns the compact canonical name of an evidence or selector name: its compact
// form, or the canonical name it is a synonym of.
func (r *Rules) canonical(name string) string {
	c := compact(name)
	if s, ok := r.synonyms[c]; ok {
		return s
	}
	return c
}

// specimenIndex classifies specimens.
type specimenIndex struct {
	classes map[string]*SpecimenClass
	words   []specimenWord    // longest first
	loinc   map[string]string // LOINC → class
	// defaults are the classes (with their children) lab selectors accept by default.
	defaults []string
}

// specimenWord is a normalized phrase naming a class, with a space at both ends.
type specimenWord struct{ phrase, class string }

// compileNames prepares the synonym table, the specimen classes and the negation words.
func (r *Rules) compileNames() error {
	r.synonyms = map[string]string{}
	for _, canon := range slices.Sorted(maps.Keys(r.Synonyms)) {
		c := compact(canon)
		if c == "" {
			return fmt.Errorf("synonyms: empty canonical name %q", canon)
		}
		for _, alias := range r.Synonyms[canon] {
			a := compact(alias)
			if prev, ok := r.synonyms[a]; ok && prev != c {
				return fmt.Errorf("synonyms.%s: %q is already a synonym of %q", canon, alias, prev)
			}
			r.synonyms[a] = c
		}
	}
	idx := specimenIndex{classes: r.Specimens, loinc: map[string]string{}}
	for _, id := range slices.Sorted(maps.Keys(r.Specimens)) {
		sc := r.Specimens[id]
		if sc == nil {
			return fmt.Errorf("specimens.%s: null", id)
		}
		if sc.Parent != "" && r.Specimens[sc.Parent] == nil {
			return fmt.Errorf("specimens.%s.parent: unknown specimen %q", id, sc.Parent)
		}
		for _, w := range sc.Words {
			if n := norm(w); n != "" {
				idx.words = append(idx.words, specimenWord{phrase: n, class: id})
			}
		}
		for _, l := range sc.LOINC {
			idx.loinc[l] = id
		}
		if sc.Default {
			idx.defaults = append(idx.defaults, id)
		}
	}
	slices.SortStableFunc(idx.words, func(a, b specimenWord) int { return len(b.phrase) - len(a.phrase) })
	r.specimens = idx
	r.specTypes = nil
	for _, n := range r.SpecimenTypeNames {
		r.specTypes = append(r.specTypes, r.canonical(n))
	}
	r.negBefore = normAll(r.Negations.Before)
	for i := range r.negBefore {
		r.negBefore[i] = strings.TrimSpace(r.negBefore[i])
	}
	if len(r.negBefore) == 0 {
		r.negBefore = defaultNegations
	}
	r.negAfter = normAll(r.Negations.After)
	return nil
}

// defaultNegations apply when a rules document lists none.
var defaultNegations = []string{"no", "not", "denies", "denied", "without", "negative", "absent", "never", "resolved"}

// classify returns the most specific specimen class named in a normalized text ("" none):
// a class that refines another wins over it ("arterial blood" is arterial, not blood).
func (x *specimenIndex) classify(text string) string {
	best := ""
	for _, w := range x.words {
		if !strings.Contains(text, w.phrase) {
			continue
		}
		if best == "" || x.refines(w.class, best) {
			best = w.class
		}
	}
	return best
}

// refines reports whether class a is b or one of its descendants.
func (x *specimenIndex) refines(a, b string) bool {
	for c := a; c != ""; {
		if c == b {
			return a != b
		}
		sc := x.classes[c]
		if sc == nil {
			return false
		}
		c = sc.Parent
	}
	return false
}

// within reports whether class c is one of classes or a descendant of one.
func (x *specimenIndex) within(c string, classes []string) bool {
	for _, p := range classes {
		if c == p || x.refines(c, p) {
			return true
		}
	}
	return false
}

// strip removes the specimen words from a normalized name, leaving the analyte ("creatinine
// urine" → "creatinine"; "ph arterial" → "ph"); the name itself when nothing would be left.
func (x *specimenIndex) strip(name string) string {
	out := name
	for _, w := range x.words {
		if strings.Contains(out, w.phrase) {
			out = strings.ReplaceAll(out, w.phrase, " ")
		}
	}
	if strings.TrimSpace(out) == "" {
		return name
	}
	return out
}
