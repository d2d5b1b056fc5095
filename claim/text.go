package claim

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text rules of every string the service accepts (JSON string values and field names, query
// and path parameters, delimited claim lines): valid UTF-8 (no stray bytes, no unpaired UTF-16
// surrogate escapes) and no control characters, except tab, line feed and carriage return in
// free text (JSON string values: note text, query bodies, comments). A NUL cannot be stored
// by PostgreSQL, and the other control characters and broken encodings are never part of a
// clinical record: they are refused with the field named rather than stored, replaced or
// silently dropped.

// TextProblem returns why s breaks the text rules ("" when it does not). freeText admits tab,
// line feed and carriage return.
func TextProblem(s string, freeText bool) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if msg := controlProblem(rune(c), freeText); msg != "" {
				return msg
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return fmt.Sprintf("is not valid UTF-8 (byte 0x%02X at offset %d)", c, i)
		}
		if msg := controlProblem(r, freeText); msg != "" {
			return msg
		}
		i += size
	}
	return ""
}

// controlProblem says why r is refused: a C0 or C1 control character or DEL (tab, line feed and
// carriage return pass in free text).
func controlProblem(r rune, freeText bool) string {
	switch {
	case freeText && (r == '\t' || r == '\n' || r == '\r'):
		return ""
	case r < 0x20 || r >= 0x7F && r <= 0x9F:
		if freeText {
			return fmt.Sprintf("contains the control character U+%04X (only tab, line feed and carriage return are allowed in text)", r)
		}
		return fmt.Sprintf("contains the control character U+%04X", r)
	}
	return ""
}

// maxTextErrors bounds the fields CheckJSONText reports.
const maxTextErrors = 20

// maxTextDepth bounds the nesting CheckJSONText follows: that of encoding/json, which refuses
// deeper documents.
const maxTextDepth = 10000

// CheckJSONText checks the raw bytes of a JSON document against the text rules: every string
// value (free text: tab, line feed and carriage return allowed) and every field name (no
// control character at all). It reads the bytes themselves, because the JSON decoder replaces
// invalid UTF-8 and unpaired surrogates by U+FFFD without a word. Each string at fault is
// named by its path ("account", "sdx[3].code", "evidence[0].text"; "body" for the document
// itself). A document that is not well-formed JSON is checked as far as it can be read: the
// decoder reports the rest.
func CheckJSONText(b []byte) Errors {
	s := textScanner{b: b}
	s.value("", 0)
	return s.errs
}

// textScanner walks a JSON document, tracking the path of each string.
type textScanner struct {
	b    []byte
	i    int
	stop bool // not JSON from here on, or enough errors
	errs Errors
}

func (s *textScanner) fail(path, msg string) {
	if path == "" {
		path = "body"
	}
	s.errs = append(s.errs, &FieldError{Field: path, Message: msg})
	if len(s.errs) >= maxTextErrors {
		s.stop = true
	}
}

func (s *textScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *textScanner) value(path string, depth int) {
	s.space()
	if s.i >= len(s.b) || depth > maxTextDepth {
		s.stop = true
		return
	}
	switch s.b[s.i] {
	case '{':
		s.i++
		for !s.stop {
			s.space()
			if s.i < len(s.b) && s.b[s.i] == '}' {
				s.i++
				return
			}
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				s.stop = true
				return
			}
			key := s.str(path, true)
			s.space()
			if s.stop || s.i >= len(s.b) || s.b[s.i] != ':' {
				s.stop = true
				return
			}
			s.i++
			s.value(joinPath(path, key), depth+1)
			s.space()
			if s.i < len(s.b) && s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.i < len(s.b) && s.b[s.i] == '}' {
				s.i++
				return
			}
			s.stop = true
		}
	case '[':
		s.i++
		for n := 0; !s.stop; n++ {
			s.space()
			if s.i < len(s.b) && s.b[s.i] == ']' {
				s.i++
				return
			}
			s.value(fmt.Sprintf("%s[%d]", path, n), depth+1)
			s.space()
			if s.i < len(s.b) && s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.i < len(s.b) && s.b[s.i] == ']' {
				s.i++
				return
			}
			s.stop = true
		}
	case '"':
		s.str(path, false)
	default: // number, true, false, null: no text
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// str reads the string at s.i (its opening quote) and checks it. For a field name (key) it
// returns the name, with the characters at fault replaced by U+FFFD, for the path of the
// value; the error of a name is reported on the path the name makes.
func (s *textScanner) str(path string, key bool) string {
	s.i++ // opening quote
	var name strings.Builder
	problem := ""
	note := func(msg string) {
		if problem == "" {
			problem = msg
		}
	}
	add := func(r rune) {
		if key {
			name.WriteRune(r)
		}
	}
	check := func(r rune) {
		if msg := controlProblem(r, !key); msg != "" {
			note(msg)
			add(utf8.RuneError)
			return
		}
		add(r)
	}
	for {
		if s.i >= len(s.b) {
			s.stop = true
			break
		}
		c := s.b[s.i]
		if c == '"' {
			s.i++
			break
		}
		if c == '\\' {
			if s.i+1 >= len(s.b) {
				s.stop = true
				break
			}
			e := s.b[s.i+1]
			s.i += 2
			switch e {
			case 'u':
				r, ok := s.hex4()
				if !ok {
					s.stop = true
					return name.String()
				}
				switch {
				case r >= 0xD800 && r <= 0xDBFF: // high surrogate: a low one must follow
					if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
						save := s.i
						s.i += 2
						if lo, ok := s.hex4(); ok && lo >= 0xDC00 && lo <= 0xDFFF {
							add(0x10000 + (r-0xD800)<<10 + (lo - 0xDC00))
							continue
						}
						s.i = save
					}
					note(fmt.Sprintf("contains an unpaired UTF-16 surrogate (\\u%04x): not valid Unicode", r))
					add(utf8.RuneError)
				case r >= 0xDC00 && r <= 0xDFFF:
					note(fmt.Sprintf("contains an unpaired UTF-16 surrogate (\\u%04x): not valid Unicode", r))
					add(utf8.RuneError)
				default:
					check(r)
				}
			case 'b':
				check('\b')
			case 'f':
				check('\f')
			case 'n':
				check('\n')
			case 'r':
				check('\r')
			case 't':
				check('\t')
			default: // \" \\ \/ (anything else is the decoder's to refuse)
				add(rune(e))
			}
			continue
		}
		if c < utf8.RuneSelf {
			check(rune(c))
			s.i++
			continue
		}
		r, size := utf8.DecodeRune(s.b[s.i:])
		if r == utf8.RuneError && size <= 1 {
			note(fmt.Sprintf("is not valid UTF-8 (byte 0x%02X)", c))
			add(utf8.RuneError)
			s.i++
			continue
		}
		check(r)
		s.i += size
	}
	if problem != "" {
		if key {
			s.fail(joinPath(path, name.String()), "the field name "+problem)
		} else {
			s.fail(path, problem)
		}
	}
	return name.String()
}

// hex4 reads the four hex digits of a \u escape.
func (s *textScanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

// CheckLineText checks one line of a delimited claim file (TSV, CSV) against the text rules:
// tab separates fields, other control characters and invalid UTF-8 are refused, naming the
// column (1-based, counted by sep).
func CheckLineText(line []byte, sep byte) *FieldError {
	col := 1
	for i := 0; i < len(line); {
		c := line[i]
		if c == sep {
			col++
			i++
			continue
		}
		if c < utf8.RuneSelf {
			if msg := controlProblem(rune(c), c == '\r'); msg != "" {
				return &FieldError{Field: "line", Message: fmt.Sprintf("column %d %s", col, msg)}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(line[i:])
		if r == utf8.RuneError && size <= 1 {
			return &FieldError{Field: "line", Message: fmt.Sprintf("column %d is not valid UTF-8 (byte 0x%02X)", col, c)}
		}
		if msg := controlProblem(r, false); msg != "" {
			return &FieldError{Field: "line", Message: fmt.Sprintf("column %d %s", col, msg)}
		}
		i += size
	}
	return nil
}
