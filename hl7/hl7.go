// Package hl7 reads and writes HL7 version 2 messages (versions 2.3 to 2.8): the message
// structure with its encoding characters, segments, fields, repetitions, components and
// subcomponents, escape sequences, MLLP framing and acknowledgements. It is pure: values in,
// values out.
//
// No maintained Go HL7 v2 library fitted (the ones found are unmaintained or generate
// version-specific structures the interface does not need), so the parser is this small one,
// fuzzed by FuzzParse.
package hl7

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Delimiters are a message's encoding characters (MSH-1 and MSH-2).
type Delimiters struct {
	Field, Component, Repetition, Escape, Subcomponent byte
}

// DefaultDelimiters are |^~\&.
var DefaultDelimiters = Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&'}

// Versions are the HL7 v2 versions (MSH-12) accepted.
var Versions = []string{"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2"}

// Message is a parsed message: its segments in order and its encoding characters.
type Message struct {
	Delims   Delimiters
	Segments []*Segment
}

// Segment is one segment: its name and its fields, Fields[n] being field n (Fields[0] is the
// name). In MSH, Fields[1] is the field separator and Fields[2] the encoding characters, as
// HL7 numbers them.
type Segment struct {
	Name   string
	Fields []Field
	// Index is the segment's position in the message (0 = MSH).
	Index int
}

// Field is a field's repetitions.
type Field []Repetition

// Repetition is one occurrence of a field: its components.
type Repetition []Component

// Component is a component's subcomponents, decoded (escapes replaced).
type Component []string

// Location names a place in a message as HL7 error segments do: segment, its sequence among
// segments of the same name (1-based), field, and optionally component.
type Location struct {
	Segment   string
	Sequence  int
	Field     int
	Component int
}

// String renders "PID-18" or "OBX-5.2"; "" for the zero location.
func (l Location) String() string {
	if l.Segment == "" {
		return ""
	}
	if l.Field == 0 {
		return l.Segment
	}
	s := l.Segment + "-" + strconv.Itoa(l.Field)
	if l.Component > 0 {
		s += "." + strconv.Itoa(l.Component)
	}
	return s
}

// Error is a message that cannot be read or used: where and what. Code is the HL7 table 0357
// error code (101 required field missing, 102 data type error, 200 unsupported message type…).
type Error struct {
	Loc     Location
	Code    int
	Message string
}

// Error renders "PID-18: message".
func (e *Error) Error() string {
	if l := e.Loc.String(); l != "" {
		return l + ": " + e.Message
	}
	return e.Message
}

// HL7 table 0357 error codes used by the interface.
const (
	ErrSegmentSequence    = 100
	ErrRequiredMissing    = 101
	ErrDataType           = 102
	ErrTableValue         = 103
	ErrUnsupportedType    = 200
	ErrUnsupportedEvent   = 201
	ErrUnsupportedVersion = 203
	ErrUnknownKey         = 204
	ErrInternal           = 207
)

// errorTexts are the table 0357 texts.
var errorTexts = map[int]string{100: "Segment sequence error", 101: "Required field missing", 102: "Data type error",
	103: "Table value not found", 200: "Unsupported message type", 201: "Unsupported event code",
	203: "Unsupported version id", 204: "Unknown key identifier", 207: "Application internal error"}

// Errorf returns an *Error at loc.
func Errorf(loc Location, code int, format string, args ...any) *Error {
	return &Error{Loc: loc, Code: code, Message: fmt.Sprintf(format, args...)}
}

// MaxMessage bounds a message (bytes).
const MaxMessage = 16 << 20

// Parse reads one message. Segments end with CR (LF and CRLF are accepted too); the message
// starts with MSH, whose fourth byte is the field separator and MSH-2 the other encoding
// characters. MSH-9 (message type), MSH-10 (control id) and MSH-12 (version, 2.3–2.8) are
// required. Errors are *Error naming the segment and field.
func Parse(b []byte) (*Message, error) {
	if len(b) > MaxMessage {
		return nil, Errorf(Location{}, ErrDataType, "message of %d bytes exceeds %d", len(b), MaxMessage)
	}
	s := strings.TrimLeft(string(b), "\r\n\t \x0b")
	s = strings.TrimRight(s, "\r\n\t \x1c")
	if !strings.HasPrefix(s, "MSH") || len(s) < 8 {
		return nil, Errorf(Location{Segment: "MSH", Sequence: 1}, ErrSegmentSequence, "the message does not start with an MSH segment")
	}
	d := Delimiters{Field: s[3]}
	enc := s[4:]
	if i := strings.IndexByte(enc, d.Field); i >= 0 {
		enc = enc[:i]
	} else {
		return nil, Errorf(Location{Segment: "MSH", Sequence: 1, Field: 2}, ErrDataType, "encoding characters not followed by a field separator")
	}
	if len(enc) < 4 || len(enc) > 5 {
		return nil, Errorf(Location{Segment: "MSH", Sequence: 1, Field: 2}, ErrDataType, "encoding characters %q: want 4 (^~\\&) or 5", enc)
	}
	d.Component, d.Repetition, d.Escape, d.Subcomponent = enc[0], enc[1], enc[2], enc[3]
	seen := map[byte]bool{d.Field: true}
	for i := 0; i < 4; i++ {
		c := enc[i]
		if seen[c] || c == '\r' || c == '\n' || isAlnum(c) {
			return nil, Errorf(Location{Segment: "MSH", Sequence: 1, Field: 2}, ErrDataType, "encoding characters %q are not distinct separators", enc)
		}
		seen[c] = true
	}
	m := &Message{Delims: d}
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' })
	count := map[string]int{}
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		seg, err := m.parseSegment(line, count)
		if err != nil {
			return nil, err
		}
		seg.Index = len(m.Segments)
		m.Segments = append(m.Segments, seg)
	}
	msh := m.Segments[0]
	for _, f := range []int{9, 10, 12} {
		if msh.Value(f, 1) == "" {
			return nil, Errorf(Location{Segment: "MSH", Sequence: 1, Field: f}, ErrRequiredMissing, "required: %s", mshNames[f])
		}
	}
	if v := m.Version(); !knownVersion(v) {
		return nil, Errorf(Location{Segment: "MSH", Sequence: 1, Field: 12}, ErrUnsupportedVersion, "version %q is not one of %s", v, strings.Join(Versions, " "))
	}
	return m, nil
}

var mshNames = map[int]string{9: "message type", 10: "message control id", 12: "version id"}

func knownVersion(v string) bool {
	for _, x := range Versions {
		if v == x {
			return true
		}
	}
	return false
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (m *Message) parseSegment(line string, count map[string]int) (*Segment, error) {
	d := m.Delims
	name := line
	if i := strings.IndexByte(line, d.Field); i >= 0 {
		name = line[:i]
	}
	if len(name) != 3 || !isAlnum(name[0]) || !isAlnum(name[1]) || !isAlnum(name[2]) {
		return nil, Errorf(Location{Segment: truncate(name, 8)}, ErrSegmentSequence, "segment name %q is not three letters or digits", truncate(name, 20))
	}
	count[name]++
	seg := &Segment{Name: name, Fields: []Field{{{{name}}}}}
	rest := ""
	if len(line) > 3 {
		rest = line[4:]
	}
	raw := strings.Split(rest, string(d.Field))
	if name == "MSH" {
		enc := raw[0]
		seg.Fields = append(seg.Fields, Field{{{string(d.Field)}}}, Field{{{enc}}})
		raw = raw[1:]
	}
	if len(line) <= 3 {
		raw = nil
	}
	for _, f := range raw {
		seg.Fields = append(seg.Fields, m.parseField(f))
	}
	return seg, nil
}

func (m *Message) parseField(f string) Field {
	d := m.Delims
	var out Field
	for _, rep := range strings.Split(f, string(d.Repetition)) {
		var r Repetition
		for _, comp := range strings.Split(rep, string(d.Component)) {
			var c Component
			for _, sub := range strings.Split(comp, string(d.Subcomponent)) {
				c = append(c, m.Unescape(sub))
			}
			r = append(r, c)
		}
		out = append(out, r)
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Unescape replaces the escape sequences of a value: \F\ \S\ \T\ \R\ \E\ by the separators,
// \.br\ (and \.sp\) by a line break, \Xhh…\ by the bytes, \H\ and \N\ (highlighting) by
// nothing. An unknown or unterminated sequence is kept as it is.
func (m *Message) Unescape(s string) string {
	d := m.Delims
	if strings.IndexByte(s, d.Escape) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != d.Escape {
			b.WriteByte(c)
			continue
		}
		j := strings.IndexByte(s[i+1:], d.Escape)
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		seq := s[i+1 : i+1+j]
		switch {
		case seq == "F":
			b.WriteByte(d.Field)
		case seq == "S":
			b.WriteByte(d.Component)
		case seq == "T":
			b.WriteByte(d.Subcomponent)
		case seq == "R":
			b.WriteByte(d.Repetition)
		case seq == "E":
			b.WriteByte(d.Escape)
		case seq == ".br" || strings.HasPrefix(seq, ".sp"):
			b.WriteByte('\n')
		case seq == "H" || seq == "N":
		case len(seq) > 1 && seq[0] == 'X':
			x, err := hex.DecodeString(seq[1:])
			if err != nil {
				b.WriteString(s[i : i+2+j])
			} else {
				b.Write(x)
			}
		default:
			b.WriteString(s[i : i+2+j])
		}
		i += j + 1
	}
	return b.String()
}

// Encode writes a value with the separators escaped and line breaks as \.br\.
func (d Delimiters) Encode(s string) string {
	var b strings.Builder
	e := string(d.Escape)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case d.Field:
			b.WriteString(e + "F" + e)
		case d.Component:
			b.WriteString(e + "S" + e)
		case d.Subcomponent:
			b.WriteString(e + "T" + e)
		case d.Repetition:
			b.WriteString(e + "R" + e)
		case d.Escape:
			b.WriteString(e + "E" + e)
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b.WriteString(e + ".br" + e)
		case '\n':
			b.WriteString(e + ".br" + e)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Header returns the MSH segment.
func (m *Message) Header() *Segment { return m.Segments[0] }

// Version is MSH-12.
func (m *Message) Version() string { return m.Header().Value(12, 1) }

// ControlID is MSH-10.
func (m *Message) ControlID() string { return m.Header().Value(10, 1) }

// Type is MSH-9.1 and MSH-9.2: "ADT", "A01".
func (m *Message) Type() (string, string) {
	h := m.Header()
	return strings.ToUpper(h.Value(9, 1)), strings.ToUpper(h.Value(9, 2))
}

// All returns the segments named name, in order.
func (m *Message) All(name string) []*Segment {
	var out []*Segment
	for _, s := range m.Segments {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// First returns the first segment named name (nil when there is none).
func (m *Message) First(name string) *Segment {
	for _, s := range m.Segments {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Sequence is the segment's position among the message's segments of its name (1-based).
func (m *Message) Sequence(s *Segment) int {
	n := 0
	for _, x := range m.Segments[:s.Index+1] {
		if x.Name == s.Name {
			n++
		}
	}
	return n
}

// Loc names field n (and component c, 0 for none) of segment s.
func (m *Message) Loc(s *Segment, n, c int) Location {
	return Location{Segment: s.Name, Sequence: m.Sequence(s), Field: n, Component: c}
}

// Field returns field n ("" when absent).
func (s *Segment) Field(n int) Field {
	if s == nil || n < 0 || n >= len(s.Fields) {
		return nil
	}
	return s.Fields[n]
}

// Value returns component c (1-based) of the first repetition of field n, its subcomponents
// joined by "&"-less concatenation of the first only; "" when absent.
func (s *Segment) Value(n, c int) string {
	return s.Sub(n, 1, c, 1)
}

// Sub returns subcomponent sc of component c of repetition r of field n (all 1-based); ""
// when absent.
func (s *Segment) Sub(n, r, c, sc int) string {
	f := s.Field(n)
	if r < 1 || r > len(f) {
		return ""
	}
	rep := f[r-1]
	if c < 1 || c > len(rep) {
		return ""
	}
	comp := rep[c-1]
	if sc < 1 || sc > len(comp) {
		return ""
	}
	return comp[sc-1]
}

// Text returns field n as text: each repetition's components joined by the component
// separator they stood for, repetitions on lines of their own (a TX or FT value), escapes
// decoded.
func (s *Segment) Text(n int, d Delimiters) string {
	f := s.Field(n)
	lines := make([]string, 0, len(f))
	for _, rep := range f {
		comps := make([]string, len(rep))
		for i, c := range rep {
			comps[i] = strings.Join(c, string(d.Subcomponent))
		}
		lines = append(lines, strings.TrimRight(strings.Join(comps, string(d.Component)), string(d.Component)))
	}
	return strings.Join(lines, "\n")
}

// ParseTime reads an HL7 DTM/TS value: YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ], the first
// component of a TS. A value without a zone is read in loc. "" gives the zero time.
func ParseTime(v string, loc *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	zone := ""
	if i := strings.IndexAny(v, "+-"); i >= 0 {
		v, zone = v[:i], v[i:]
	}
	frac := ""
	if i := strings.IndexByte(v, '.'); i >= 0 {
		v, frac = v[:i], v[i+1:]
	}
	layouts := map[int]string{4: "2006", 6: "200601", 8: "20060102", 10: "2006010215", 12: "200601021504", 14: "20060102150405"}
	layout, ok := layouts[len(v)]
	if !ok || !allDigits(v) || !allDigits(frac) || len(frac) > 9 {
		return time.Time{}, fmt.Errorf("%q is not an HL7 date/time (YYYYMMDD[HHMM[SS]][+ZZZZ])", v+frac+zone)
	}
	if frac != "" {
		layout += "." + strings.Repeat("0", len(frac))
		v += "." + frac
	}
	if zone != "" {
		if len(zone) != 5 || !allDigits(zone[1:]) {
			return time.Time{}, fmt.Errorf("time zone %q: want +HHMM or -HHMM", zone)
		}
		t, err := time.Parse(layout+"-0700", v+zone)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not an HL7 date/time: %w", v+zone, err)
		}
		return t, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	t, err := time.ParseInLocation(layout, v, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an HL7 date/time", v)
	}
	return t, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
