package notes

import (
	"regexp"
	"strings"
)

// LowerASCII lowercases the ASCII letters of s and keeps every other byte, so that offsets
// into the result are offsets into s.
func LowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// Near windows: a pattern is tried from a little before a keyword to well after it.
const (
	nearBefore = 40
	nearAfter  = 240
)

// FindNear returns the submatch indices of re in text, trying it only in windows around the
// keywords (lowercase substrings, found in lower, the LowerASCII of text). Matches are
// reported once, in text order of their windows.
func FindNear(re *regexp.Regexp, text, lower string, keys []string) [][]int {
	var out [][]int
	seen := map[int]bool{}
	for _, k := range keys {
		for from := 0; ; {
			i := strings.Index(lower[from:], k)
			if i < 0 {
				break
			}
			pos := from + i
			from = pos + len(k)
			ws := max(0, pos-nearBefore)
			for ws > 0 && isWordByte(text[ws-1]) {
				ws--
			}
			we := min(len(text), pos+nearAfter)
			for we < len(text) && isWordByte(text[we]) {
				we++
			}
			for _, m := range re.FindAllStringSubmatchIndex(text[ws:we], -1) {
				for j := range m {
					if m[j] >= 0 {
						m[j] += ws
					}
				}
				if !seen[m[0]] {
					seen[m[0]] = true
					out = append(out, m)
				}
			}
			if we == len(text) {
				break
			}
			from = max(from, we-nearBefore) // the next window starts near this one's end
		}
	}
	return out
}
