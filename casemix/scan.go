package casemix

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// scanner walks one JSON value in place. It decodes only what is asked for and skips the
// rest by matching brackets and strings, checking just enough syntax to find the end of each
// value; it never allocates.
type scanner struct {
	b       []byte
	i       int
	escaped bool // the last string read contained a backslash escape
}

var errEOF = errors.New("unexpected end of JSON")

func (s *scanner) reset(b []byte) { s.b, s.i = b, 0 }

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		if s.i >= len(s.b) {
			return errEOF
		}
		return fmt.Errorf("invalid JSON at byte %d: want %q, got %q", s.i+1, c, s.b[s.i])
	}
	s.i++
	return nil
}

// object walks an object; fn is called with each key (raw bytes between the quotes) and must
// consume the value.
func (s *scanner) object(fn func(key []byte) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.expect('"')
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		s.ws()
		if err := fn(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.expect('}')
		}
	}
}

// str reads a string and returns its raw content (escapes not decoded; see escaped).
func (s *scanner) str() ([]byte, error) {
	if err := s.expect('"'); err != nil {
		return nil, err
	}
	b, i, start := s.b, s.i, s.i
	s.escaped = false
	for i < len(b) {
		switch b[i] {
		case '"':
			s.i = i + 1
			return b[start:i], nil
		case '\\':
			s.escaped = true
			i++
		}
		i++
	}
	s.i = len(b)
	return nil, errEOF
}

// int reads an integer (null reads as 0).
func (s *scanner) int() (int, error) {
	s.ws()
	start := s.i
	for s.i < len(s.b) && (s.b[s.i] == '-' || s.b[s.i] >= '0' && s.b[s.i] <= '9') {
		s.i++
	}
	if s.i == start {
		if bytes.HasPrefix(s.b[s.i:], []byte("null")) {
			s.i += 4
			return 0, nil
		}
		return 0, fmt.Errorf("invalid JSON at byte %d: want an integer", s.i+1)
	}
	if n, ok := digits(s.b[start:s.i]); ok && s.i-start < 10 {
		return n, nil
	}
	n, err := strconv.Atoi(string(s.b[start:s.i]))
	if err != nil {
		return 0, fmt.Errorf("invalid integer %q", s.b[start:s.i])
	}
	return n, nil
}

// skip passes over one value of any type.
func (s *scanner) skip() error {
	switch s.peek() {
	case '"':
		_, err := s.str()
		return err
	case '{', '[':
		// Strings are skipped inline, byte by byte: the strings of grouping records are
		// short, and a loop beats a call to bytes.IndexByte per string.
		b, i, depth := s.b, s.i, 0
		for i < len(b) {
			c := b[i]
			i++
			switch c {
			case '"':
				for i < len(b) {
					c = b[i]
					i++
					if c == '"' {
						break
					}
					if c == '\\' {
						i++
					}
				}
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i = i
					return nil
				}
			}
		}
		return errEOF
	case 0:
		return errEOF
	}
	// number, true, false, null
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			if s.i == start {
				return fmt.Errorf("invalid JSON at byte %d", s.i+1)
			}
			return nil
		}
		s.i++
	}
	return nil
}
