package notes

import (
	"strings"
	"time"
)

// Note is one clinical note as an encounter or a CAC request carries it.
type Note struct {
	ID         string
	Type       string // "discharge summary", "H&P", "progress note", …
	AuthorRole string // physician, resident, nurse, …
	Time       time.Time
	Text       string
}

// Section is a part of a note opened by a heading.
type Section struct {
	Name    string // canonical name ("past medical history"); "" before the first heading
	Heading string // the heading as written
	// HeadingStart is where the heading begins; Start and End delimit the section's body.
	HeadingStart, Start, End int
}

// Sentence is a sentence or list item of a section.
type Sentence struct {
	Start, End int
	Section    int  // index into Document.Sections
	ListItem   bool // a numbered or bulleted line
	// Tokens are the sentence's words after the abbreviation rewrite, [TokStart, TokEnd) of
	// Document.Tokens.
	TokStart, TokEnd int
}

// Document is a note as read: sections, sentences, tokens and numeric findings.
type Document struct {
	Note      Note
	Sections  []Section
	Sentences []Sentence
	Tokens    []Token // after the abbreviation rewrite, in text order
	Findings  []Finding

	rd *Reader
}

// AssertAt returns the ConText assertion of the words [i, j) of a sentence (indices into the
// sentence's tokens): a refinement word may be negated while the term is not ("hypoxemia,
// does not meet criteria for acute respiratory failure").
func (d *Document) AssertAt(sentence, i, j int) Assertion {
	a, _ := d.rd.assert(d, &d.Sentences[sentence], i, j)
	return a
}

// SectionOf returns the canonical section name of a sentence.
func (d *Document) SectionOf(s *Sentence) string { return d.Sections[s.Section].Name }

// Read runs the sectionizer, the sentence splitter, the tokenizer and the finding reader.
func (rd *Reader) Read(n Note) *Document {
	d := &Document{Note: n, rd: rd}
	d.Sections = rd.sectionize(n.Text)
	for si, sec := range d.Sections {
		for _, sp := range splitSentences(n.Text, sec.Start, sec.End) {
			toks := rd.applyRewrite(tokenize(n.Text[sp.start:sp.end]))
			for i := range toks {
				toks[i].Start += sp.start
				toks[i].End += sp.start
			}
			if len(toks) == 0 {
				continue
			}
			d.Sentences = append(d.Sentences, Sentence{Start: sp.start, End: sp.end, Section: si, ListItem: sp.list,
				TokStart: len(d.Tokens), TokEnd: len(d.Tokens) + len(toks)})
			d.Tokens = append(d.Tokens, toks...)
		}
	}
	d.Findings = rd.readFindings(n.Text, d)
	return d
}

// Text returns the note's text between two byte offsets.
func (d *Document) Text(start, end int) string { return d.Note.Text[start:end] }

// maxSentence bounds a sentence in bytes.
const maxSentence = 2000

type span struct {
	start, end int
	list       bool
}

// splitSentences splits [from, to) of text into sentences: every line break ends one, and
// so does a period, question or exclamation mark followed by a space and a capital letter
// or a digit, unless the word before it is an abbreviation ("Dr.", "p.o.", "b.i.d.").
func splitSentences(text string, from, to int) []span {
	var out []span
	var add func(s, e int, list bool)
	add = func(s, e int, list bool) {
		for s < e && isSpace(text[s]) {
			s++
		}
		for e > s && isSpace(text[e-1]) {
			e--
		}
		if e-s > maxSentence {
			// a run-on "sentence" (no punctuation for pages) is cut at a space, so that the
			// work per sentence stays bounded
			cut := s + maxSentence
			for cut > s+maxSentence/2 && !isSpace(text[cut]) {
				cut--
			}
			for cut > s && text[cut-1] >= 0x80 && text[cut] >= 0x80 && text[cut]&0xC0 == 0x80 {
				cut--
			}
			add(s, cut, list)
			add(cut, e, false)
			return
		}
		if s < e {
			out = append(out, span{s, e, list})
		}
	}
	lineStart := from
	for lineStart < to {
		lineEnd := strings.IndexByte(text[lineStart:to], '\n')
		if lineEnd < 0 {
			lineEnd = to
		} else {
			lineEnd += lineStart
		}
		line := text[lineStart:lineEnd]
		list := isListLine(line)
		s := lineStart
		for i := lineStart; i < lineEnd; i++ {
			c := text[i]
			if c != '.' && c != '?' && c != '!' {
				continue
			}
			if c == '.' && (abbreviationBefore(text, lineStart, i) || strings.TrimLeft(text[lineStart:i], " \t0123456789") == "") {
				continue
			}
			j := i + 1
			if j < lineEnd && !isSpace(text[j]) {
				continue
			}
			for j < lineEnd && isSpace(text[j]) {
				j++
			}
			if j >= lineEnd || isUpper(text[j]) || isDigit(text[j]) {
				add(s, i+1, list)
				s = j
				list = false
			}
		}
		add(s, lineEnd, list)
		lineStart = lineEnd + 1
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isListLine: "1.", "2)", "-", "*", "•" at the start of a line.
func isListLine(line string) bool {
	t := strings.TrimLeft(line, " \t")
	if t == "" {
		return false
	}
	if t[0] == '-' || t[0] == '*' || strings.HasPrefix(t, "•") {
		return true
	}
	i := 0
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	return i > 0 && i < 3 && i < len(t) && (t[i] == '.' || t[i] == ')')
}

var sentenceAbbrev = map[string]bool{"dr": true, "mr": true, "mrs": true, "ms": true, "vs": true, "st": true, "no": true,
	"approx": true, "e.g": true, "i.e": true, "etc": true, "pt": true, "hx": true, "sx": true, "fig": true, "min": true, "max": true}

// abbreviationBefore reports a period that ends an abbreviation or a number's decimal point.
func abbreviationBefore(text string, lineStart, i int) bool {
	if i+1 < len(text) && isDigit(text[i+1]) {
		return true // 3.5
	}
	j := i
	for j > lineStart && (isWordByte(text[j-1]) || text[j-1] == '.') {
		j--
	}
	w := strings.ToLower(text[j:i])
	if sentenceAbbrev[w] {
		return true
	}
	// single letters with periods: p.o., b.i.d., q.4 h.
	if isNumeric(w) {
		return false
	}
	return len(w) == 1 || strings.Contains(w, ".") && len(w) <= 6
}

func isNumeric(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isDigit(w[i]) && w[i] != '.' {
			return false
		}
	}
	return w != ""
}
