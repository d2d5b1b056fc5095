package notes

import (
	"slices"
	"strings"
)

// Assertion is the ConText status of a mention.
type Assertion string

// The assertions of a mention.
const (
	Present      Assertion = "present"
	Negated      Assertion = "negated"
	Historical   Assertion = "historical"
	Family       Assertion = "family"
	Hypothetical Assertion = "hypothetical"
	Uncertain    Assertion = "uncertain"
	RuledOut     Assertion = "ruled_out"
)

func (a Assertion) valid() bool {
	switch a {
	case Present, Negated, Historical, Family, Hypothetical, Uncertain, RuledOut:
		return true
	}
	return false
}

// Matcher finds the terms of a vocabulary in documents: the target matcher. Terms are
// normalized as note text is (the abbreviation rewrite included), matched on whole words,
// longest first. Build it once; it is immutable and safe for concurrent use.
type Matcher struct {
	rd    *Reader
	trie  *phraseTrie
	ids   [][]string // per phrase, the concepts it names (a phrase may name several)
	index map[string]int
}

// NewMatcher returns an empty matcher of the reader's normalization.
func (rd *Reader) NewMatcher() *Matcher {
	return &Matcher{rd: rd, trie: newPhraseTrie(), index: map[string]int{}}
}

// Add registers a term for a concept id. Terms that normalize to nothing, and single
// ambiguous short forms, are ignored; Add reports whether the term was kept.
func (m *Matcher) Add(id, term string) bool {
	w := m.rd.normalizePhrase(term)
	if len(w) == 0 || len(w) == 1 && m.rd.ambiguous[w[0]] {
		return false
	}
	key := strings.Join(w, " ")
	if i, ok := m.index[key]; ok {
		if !slices.Contains(m.ids[i], id) {
			m.ids[i] = append(m.ids[i], id)
		}
		return true
	}
	m.index[key] = len(m.ids)
	m.trie.add(w, len(m.ids))
	m.ids = append(m.ids, []string{id})
	return true
}

// Mention is a term found in a note with its assertion.
type Mention struct {
	Concept    string
	Start, End int    // bytes of the note text
	Text       string // the note's words
	Sentence   int    // index into Document.Sentences
	Assertion  Assertion
	Trigger    string // the ConText trigger that set the assertion, if any
	// TokStart, TokEnd delimit the mention's tokens in Document.Tokens.
	TokStart, TokEnd int
}

// Find returns the mentions of the matcher's terms in the document, in text order, each with
// its assertion; a phrase that names several concepts gives a mention of each. Headings are
// not searched.
func (d *Document) Find(m *Matcher) []Mention {
	var out []Mention
	for si := range d.Sentences {
		s := &d.Sentences[si]
		toks := d.Tokens[s.TokStart:s.TokEnd]
		for i := 0; i < len(toks); {
			v, n, ok := m.trie.longest(toks, i)
			if v2, n2, ok2 := m.trie.longestSkipping(toks, i, m.rd.skippable, 2); ok2 && (!ok || n2 > n) {
				v, n, ok = v2, n2, true
			}
			if !ok {
				i++
				continue
			}
			start, end := toks[i].Start, toks[i+n-1].End
			a, trig := m.rd.assertAmong(d, s, i, i+n, m.nextTerm(toks, i+n))
			for _, id := range m.ids[v] {
				out = append(out, Mention{Concept: id, Start: start, End: end, Text: d.Note.Text[start:end], Sentence: si,
					TokStart: s.TokStart + i, TokEnd: s.TokStart + i + n, Assertion: a, Trigger: trig})
			}
			i += n
		}
	}
	return out
}

// assert applies ConText to the tokens [i, j) of a sentence: the nearest trigger whose scope
// reaches the mention, not stopped by a terminator, decides; pseudo-triggers are skipped.
// Without a trigger, the section's default (family history → family) applies.
func (rd *Reader) assert(d *Document, s *Sentence, i, j int) (Assertion, string) {
	return rd.assertAmong(d, s, i, j, -1)
}

// nextTerm returns where the next term of the matcher starts in toks from k, or -1.
func (m *Matcher) nextTerm(toks []Token, k int) int {
	for x := k; x < len(toks) && x < k+m.rd.maxTokens; x++ {
		if _, _, ok := m.trie.longest(toks, x); ok {
			return x
		}
	}
	return -1
}

// assertAmong is assert knowing where the next term after the mention starts (next, -1 for
// none): a "nearest" backward trigger after that term belongs to it.
func (rd *Reader) assertAmong(d *Document, s *Sentence, i, j, next int) (Assertion, string) {
	toks := d.Tokens[s.TokStart:s.TokEnd]
	type hit struct {
		a    Assertion
		dist int
		text string
	}
	best := hit{dist: 1 << 30}
	consider := func(a Assertion, dist int, text string) {
		// ruled out and negated outrank a nearby uncertainty or history ("possible MI was ruled
		// out", "no clinical concern for PE", "no prior stroke or TIA")
		strong := func(x Assertion) bool { return x == RuledOut || x == Negated }
		weak := func(x Assertion) bool { return x == Uncertain || x == Historical }
		switch {
		case weak(best.a) && strong(a) && dist <= best.dist+8,
			weak(a) && strong(best.a) && best.dist <= dist+8:
			if strong(a) {
				best = hit{a, dist, text}
			}
		case dist < best.dist:
			best = hit{a, dist, text}
		}
	}
	// only triggers that can reach the mention are looked at: the work per mention stays
	// bounded however long the sentence
	from, to := max(0, i-rd.maxTokens-8), min(len(toks), j+rd.maxTokens/2+8)
	for k := from; k < to; k++ {
		if _, n, ok := rd.pseudo.longest(toks, k); ok {
			k += n - 1
			continue
		}
		if k >= i && k < j {
			continue
		}
		rd.triggers.all(toks, k, func(v, n int) {
			t := rd.trigRules[v]
			end := k + n
			if end > i && k < j {
				return // overlaps the mention
			}
			text := d.Note.Text[toks[k].Start:toks[end-1].End]
			fwd, back := rd.maxTokens, rd.maxTokens*2/3
			if t.Window > 0 {
				fwd, back = t.Window-1, t.Window-1
			}
			if (t.Direction == "forward" || t.Direction == "both") && end <= i {
				if i-end <= fwd && !rd.terminated(toks, end, i) {
					consider(t.Category, i-end, text)
				}
			}
			if (t.Direction == "backward" || t.Direction == "both") && k >= j && !(t.Nearest && next >= 0 && next < k && !plural(toks[j:k])) {
				if k-j <= back && !rd.terminated(toks, j, k) {
					consider(t.Category, k-j, text)
				}
			}
		})
	}
	if best.a != "" {
		return best.a, best.text
	}
	if a, ok := rd.sectionAs[d.Sections[s.Section].Name]; ok {
		return a, ""
	}
	return Present, ""
}

// terminated reports a terminator among toks[from:to].
func (rd *Reader) terminated(toks []Token, from, to int) bool {
	for k := from; k < to; k++ {
		if _, _, ok := rd.terms.longest(toks[:to], k); ok {
			return true
		}
	}
	return false
}

// plural reports a list between a term and a trigger ("pneumonia and UTI were considered
// and ruled out", "SIADH, adrenal insufficiency and hypothyroidism excluded"): a plural verb,
// or a short run joined by "and"/"or". The trigger then reaches the whole list.
func plural(toks []Token) bool {
	for _, t := range toks {
		switch t.Norm {
		case "were", "are", "both", "all", "neither":
			return true
		case "and", "or", "nor":
			if len(toks) <= 8 {
				return true
			}
		}
	}
	return false
}
