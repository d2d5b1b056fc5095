package cac

import (
	"strings"

	"github.com/msdrg-cdi/drg/notes"
)

// maxIndexWords bounds the head phrase of a diagnosis-list item looked up in the Index.
const maxIndexWords = 6

// indexFallback codes the items of the final diagnosis list that name no vocabulary concept
// through the Alphabetic Index, as a coder looks a term up: the longest head of the item
// ("Tinea pedis treated with clotrimazole" → "tinea pedis") that names an index entry exactly,
// with a complete, billable code. Items under ConText (negated, ruled out, history …) are left.
func (c *coding) indexFallback() {
	if c.e.index == nil {
		return
	}
	named := map[[2]int]bool{} // note order, sentence
	for _, h := range c.hits {
		if h.kind == 'd' || h.kind == 'p' {
			named[[2]int{h.note.order, h.m.Sentence}] = true
		}
	}
	for _, v := range c.views {
		if !v.provider || v.report {
			continue
		}
		d := v.doc
		for si := range d.Sentences {
			s := &d.Sentences[si]
			if classOf(d.SectionOf(s)) != "final" || !v.final && v.order != c.lastProv || named[[2]int{v.order, si}] {
				continue
			}
			c.lookUpItem(v, si)
		}
	}
}

func (c *coding) lookUpItem(v *noteView, si int) {
	d := v.doc
	s := d.Sentences[si]
	toks := d.Tokens[s.TokStart:s.TokEnd]
	// skip list numbering
	start := 0
	for start < len(toks) && isNumber(toks[start].Norm) {
		start++
	}
	// the head phrase ends at a comma, dash, parenthesis or colon of the text
	end := start
	for end < len(toks) && end-start < maxIndexWords {
		if end > start && toks[end].Start >= toks[end-1].End && strings.ContainsAny(d.Note.Text[toks[end-1].End:toks[end].Start], ",(-:;") {
			break
		}
		end++
	}
	for n := end; n > start; n-- {
		words := make([]string, 0, n-start)
		for _, t := range toks[start:n] {
			words = append(words, t.Norm)
		}
		code, entry, ok := c.e.index(strings.Join(words, " "))
		if !ok || !c.valid(code) {
			continue
		}
		switch d.AssertAt(si, start, n) {
		case notes.Negated, notes.RuledOut, notes.Historical, notes.Family, notes.Hypothetical:
			return
		}
		h := &hit{kind: 'i', note: v, section: d.SectionOf(&s), class: "final", code: code,
			m: notes.Mention{Start: toks[start].Start, End: toks[n-1].End, Text: d.Note.Text[toks[start].Start:toks[n-1].End], Sentence: si, Assertion: notes.Present, TokStart: s.TokStart + start, TokEnd: s.TokStart + n}}
		c.add(&c.dx, &coded{code: code, hits: []*hit{h}, symptom: code[0] == 'R',
			why: "ICD-10-CM Alphabetic Index: " + entry + " — a diagnosis listed in " + c.whoWhere(h)})
		return
	}
}

func isNumber(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}
