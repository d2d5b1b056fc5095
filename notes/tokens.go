package notes

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Token is a word of a note: its lowercase form and its byte span in the text. A token
// produced by the abbreviation rewrite keeps the span of the words it replaces.
type Token struct {
	Norm       string
	Start, End int
}

// tokenize splits text into words: runs of letters and digits, an apostrophe inside a word
// joining it ("alzheimer's" → "alzheimers"). Everything else separates words.
func tokenize(text string) []Token {
	var out []Token
	start := -1
	var b strings.Builder
	flush := func(end int) {
		if start >= 0 {
			out = append(out, Token{Norm: b.String(), Start: start, End: end})
			b.Reset()
			start = -1
		}
	}
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				start = i
			}
			b.WriteRune(unicode.ToLower(r))
		case (r == '\'' || r == '’') && start >= 0 && i+n < len(text) && isWordByte(text[i+n]):
			// inside a word: dropped
		case r == '?':
			flush(i)
			out = append(out, Token{Norm: "?", Start: i, End: i + 1})
		default:
			flush(i)
		}
		i += n
	}
	flush(len(text))
	return out
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// Words returns the lowercase words of s, as the tokenizer finds them.
func Words(s string) []string {
	toks := tokenize(s)
	w := make([]string, len(toks))
	for i, t := range toks {
		w[i] = t.Norm
	}
	return w
}

// phraseTrie maps word sequences to values; lookups find the longest phrase at a position.
type phraseTrie struct {
	root node
	vals [][]string // rewrite replacements (rewrite trie only)
}

type node struct {
	next map[string]*node
	val  int
	end  bool
}

func newPhraseTrie() *phraseTrie { return &phraseTrie{} }

func (t *phraseTrie) add(words []string, val int) {
	if len(words) == 0 {
		return
	}
	n := &t.root
	for _, w := range words {
		if n.next == nil {
			n.next = map[string]*node{}
		}
		c := n.next[w]
		if c == nil {
			c = &node{}
			n.next[w] = c
		}
		n = c
	}
	if !n.end {
		n.end, n.val = true, val
	}
}

// longest returns the value and length of the longest phrase starting at toks[i].
func (t *phraseTrie) longest(toks []Token, i int) (val, n int, ok bool) {
	cur := &t.root
	for j := i; j < len(toks); j++ {
		c := cur.next[toks[j].Norm]
		if c == nil {
			break
		}
		cur = c
		if c.end {
			val, n, ok = c.val, j-i+1, true
		}
	}
	return
}

// longestSkipping is longest allowing up to maxSkip words of skip inside the phrase (never
// first or last); n counts the words skipped too.
func (t *phraseTrie) longestSkipping(toks []Token, i int, skip map[string]bool, maxSkip int) (val, n int, ok bool) {
	type state struct {
		node     *node
		j, skips int
	}
	stack := []state{{&t.root, i, 0}}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if s.j >= len(toks) {
			continue
		}
		if c := s.node.next[toks[s.j].Norm]; c != nil {
			if c.end && (s.j-i+1 > n || !ok) {
				val, n, ok = c.val, s.j-i+1, true
			}
			stack = append(stack, state{c, s.j + 1, s.skips})
		}
		if s.j > i && s.skips < maxSkip && skip[toks[s.j].Norm] {
			stack = append(stack, state{s.node, s.j + 1, s.skips + 1})
		}
	}
	return
}

// all calls fn for every phrase starting at toks[i] (shortest first).
func (t *phraseTrie) all(toks []Token, i int, fn func(val, n int)) {
	cur := &t.root
	for j := i; j < len(toks); j++ {
		c := cur.next[toks[j].Norm]
		if c == nil {
			return
		}
		cur = c
		if c.end {
			fn(c.val, j-i+1)
		}
	}
}

// applyRewrite replaces shorthand by its expansion, longest first; replacement tokens carry
// the span of what they replace.
func (rd *Reader) applyRewrite(toks []Token) []Token {
	out := make([]Token, 0, len(toks)+len(toks)/8)
	for i := 0; i < len(toks); {
		if v, n, ok := rd.rewrite.longest(toks, i); ok {
			s, e := toks[i].Start, toks[i+n-1].End
			for _, w := range rd.rewrite.vals[v] {
				out = append(out, Token{Norm: w, Start: s, End: e})
			}
			i += n
			continue
		}
		out = append(out, toks[i])
		i++
	}
	return out
}
