package hl7

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

var adt = "MSH|^~\\&|ADT|GENHOSP|DRG|CDI|20261201083000||ADT^A01^ADT_A01|MSG0001|P|2.5.1\r" +
	"PID|1||MRN123^^^GEN^MR~SSN1^^^SSA^SS||DOE^JOHN^Q||19500315|M|||1 MAIN ST^^TOWN^ST^12345|||||||ACC42\r" +
	"PV1|1|I|4W^401^A||||1234^SMITH^ANNA^^^^MD" + strings.Repeat("|", 12) + "ACC42V" + strings.Repeat("|", 17) + "01" + strings.Repeat("|", 8) + "20261201080000\r" +
	"OBX|1|FT|11506-3^Progress note^LN||Line one \\F\\ pipe\\.br\\Line two \\S\\ caret \\T\\ amp \\R\\ tilde \\E\\ backslash||||||F\r"

func TestParse(t *testing.T) {
	m, err := Parse([]byte(adt))
	if err != nil {
		t.Fatal(err)
	}
	pid, pv1, obx := m.First("PID"), m.First("PV1"), m.First("OBX")
	typ, trig := m.Type()
	tests := []struct {
		name, got, want string
	}{
		{"MSH-1", m.Header().Value(1, 1), "|"},
		{"MSH-2", m.Header().Value(2, 1), "^~\\&"},
		{"MSH-4", m.Header().Value(4, 1), "GENHOSP"},
		{"type", typ + "^" + trig, "ADT^A01"},
		{"control id", m.ControlID(), "MSG0001"},
		{"version", m.Version(), "2.5.1"},
		{"PID-3 rep 1", pid.Sub(3, 1, 1, 1), "MRN123"},
		{"PID-3 rep 2 comp 5", pid.Sub(3, 2, 5, 1), "SS"},
		{"PID-5.2", pid.Value(5, 2), "JOHN"},
		{"PID-7", pid.Value(7, 1), "19500315"},
		{"PID-18", pid.Value(18, 1), "ACC42"},
		{"PV1-19", pv1.Value(19, 1), "ACC42V"},
		{"PV1-36", pv1.Value(36, 1), "01"},
		{"PV1-44", pv1.Value(44, 1), "20261201080000"},
		{"PV1-7 degree", pv1.Value(7, 7), "MD"},
		{"absent field", pid.Value(40, 1), ""},
		{"absent component", pid.Value(18, 4), ""},
		{"escapes", obx.Text(5, m.Delims), "Line one | pipe\nLine two ^ caret & amp ~ tilde \\ backslash"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if got := m.Loc(obx, 5, 0).String(); got != "OBX-5" {
		t.Errorf("Loc = %q", got)
	}
}

func TestParseOtherDelimitersAndLineEnds(t *testing.T) {
	msg := "MSH#*@!%#A#FAC#B#C#2026##ORU*R01#X1#P#2.3\nOBX#1#TX#abc*Text#1#a*b@c%d!X41!"
	m, err := Parse([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	o := m.First("OBX")
	if got := o.Value(3, 2); got != "Text" {
		t.Errorf("OBX-3.2 = %q", got)
	}
	if got := o.Sub(5, 2, 1, 2); got != "dA" {
		t.Errorf("OBX-5 rep 2 comp 1 sub 2 = %q, want dA (\\X41\\ decoded)", got)
	}
	if typ, trig := m.Type(); typ != "ORU" || trig != "R01" {
		t.Errorf("type %s %s", typ, trig)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, msg, loc string
		code           int
	}{
		{"no MSH", "PID|1||X\r", "MSH", ErrSegmentSequence},
		{"empty", "", "MSH", ErrSegmentSequence},
		{"bad encoding chars", "MSH|^^\\&|A|B|C|D|2026||ADT^A01|1|P|2.5\r", "MSH-2", ErrDataType},
		{"no control id", "MSH|^~\\&|A|B|C|D|2026||ADT^A01||P|2.5\r", "MSH-10", ErrRequiredMissing},
		{"no type", "MSH|^~\\&|A|B|C|D|2026|||1|P|2.5\r", "MSH-9", ErrRequiredMissing},
		{"version 2.2", "MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.2\r", "MSH-12", ErrUnsupportedVersion},
		{"version 3", "MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|3.0\r", "MSH-12", ErrUnsupportedVersion},
		{"bad segment name", "MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5\rPIDX|1\r", "PIDX", ErrSegmentSequence},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.msg))
		var he *Error
		if !errors.As(err, &he) {
			t.Errorf("%s: error %v, want *Error", tt.name, err)
			continue
		}
		if he.Loc.String() != tt.loc || he.Code != tt.code {
			t.Errorf("%s: %s code %d, want %s code %d", tt.name, he.Loc, he.Code, tt.loc, tt.code)
		}
	}
	for _, v := range Versions {
		if _, err := Parse([]byte("MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|" + v + "\r")); err != nil {
			t.Errorf("version %s: %v", v, err)
		}
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	m := &Message{Delims: DefaultDelimiters}
	for _, s := range []string{"a|b^c&d~e\\f", "line1\nline2", "plain", `\unknown`, "\\.br"} {
		e := DefaultDelimiters.Encode(s)
		if strings.ContainsAny(e, "|^&~") {
			t.Errorf("Encode(%q) = %q keeps a separator", s, e)
		}
		if got := m.Unescape(e); got != s {
			t.Errorf("Unescape(Encode(%q)) = %q", s, got)
		}
	}
}

func TestParseTime(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"20261201", time.Date(2026, 12, 1, 0, 0, 0, 0, ny), false},
		{"202612010830", time.Date(2026, 12, 1, 8, 30, 0, 0, ny), false},
		{"20261201083015.25", time.Date(2026, 12, 1, 8, 30, 15, 250000000, ny), false},
		{"20261201083015-0500", time.Date(2026, 12, 1, 13, 30, 15, 0, time.UTC), false},
		{"2026120", time.Time{}, true},
		{"20261301", time.Time{}, true},
		{"2026-12-01", time.Time{}, true},
		{"20261201+05", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, ny)
		if (err != nil) != tt.err || !tt.err && !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestMLLP(t *testing.T) {
	var buf bytes.Buffer
	msgs := []string{"MSH|a", "MSH|b\rPID|1", ""}
	for _, m := range msgs {
		if err := WriteFrame(&buf, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	stream := append([]byte("noise"), buf.Bytes()...)
	r := NewReader(bytes.NewReader(stream))
	for _, want := range msgs {
		got, err := r.Read()
		if err != nil || string(got) != want {
			t.Fatalf("Read = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := r.Read(); err != io.EOF {
		t.Errorf("after the last frame: %v, want EOF", err)
	}
	if _, err := NewReader(strings.NewReader("\x0bMSH|cut")).Read(); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated frame: %v, want ErrUnexpectedEOF", err)
	}
}

func TestACK(t *testing.T) {
	m, err := Parse([]byte(adt))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ack := ACK(HeaderOf(m), AA, "A1", at, nil)
	want := "MSH|^~\\&|DRG|CDI|ADT|GENHOSP|20261201090000+0000||ACK^A01^ACK|A1|P|2.5.1\rMSA|AA|MSG0001\r"
	if string(ack) != want {
		t.Errorf("ACK =\n%q\nwant\n%q", ack, want)
	}
	e := Errorf(Location{Segment: "PID", Sequence: 1, Field: 18}, ErrRequiredMissing, "required: the account number (PID-18 or PV1-19)")
	ack = ACK(HeaderOf(m), AE, "A2", at, e)
	a, err := Parse(ack)
	if err != nil {
		t.Fatalf("ACK does not parse: %v\n%q", err, ack)
	}
	erl := a.First("ERR")
	if got := erl.Text(2, a.Delims); got != "PID^1^18" {
		t.Errorf("ERR-2 = %q", got)
	}
	if got := erl.Value(1, 4); got != "101" || erl.Value(3, 1) != "101" || erl.Value(4, 1) != "E" {
		t.Errorf("ERR codes: ERR-1.4 %q ERR-3 %q ERR-4 %q", got, erl.Value(3, 1), erl.Value(4, 1))
	}
	code, text, err := ACKCode(ack)
	if err != nil || code != AE || !strings.Contains(text, "PID-18") {
		t.Errorf("ACKCode = %q %q %v", code, text, err)
	}
	// An unparseable message is answered from what its MSH shows.
	h := SniffHeader([]byte("MSH|^^\\&|LAB|FAC|X|Y|2026||ORU^R01|C9|P|2.4\rOBX|1\r"))
	if h.ControlID != "C9" || h.SendingFacility != "FAC" || h.Version != "2.4" || h.Trigger != "R01" {
		t.Errorf("SniffHeader = %+v", h)
	}
}

func TestSplitBatch(t *testing.T) {
	file := "FHS|^~\\&|LAB\nBHS|^~\\&|LAB\nMSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5\nPID|1\nMSH|^~\\&|A|B|C|D|2026||ADT^A08|2|P|2.5\r\nPID|2\r\nBTS|2\nFTS|1\n"
	got := SplitBatch([]byte(file))
	if len(got) != 2 || string(got[1]) != "MSH|^~\\&|A|B|C|D|2026||ADT^A08|2|P|2.5\rPID|2\r" {
		t.Errorf("SplitBatch batch = %q", got)
	}
	got = SplitBatch([]byte("MSH|1\nPID|1\n\n\nMSH|2\nPID|2\n"))
	if len(got) != 2 || string(got[0]) != "MSH|1\rPID|1\r" {
		t.Errorf("SplitBatch blank lines = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(adt))
	f.Add([]byte("MSH#*@!%#A#FAC#B#C#2026##ORU*R01#X1#P#2.3\nOBX#1#TX#abc*Text#1#a*b@c%d!X41!"))
	f.Add([]byte("MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5\rPID|\\X0\\|\\.br\\\\E"))
	f.Add([]byte("MSH|^~\\&#|A"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		h := SniffHeader(b)
		_ = ACK(h, AR, "x", time.Time{}, Errorf(Location{Segment: "MSH", Field: 9}, ErrUnsupportedType, "x"))
		if err != nil {
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		if m.Header().Name != "MSH" {
			t.Fatal("first segment is not MSH")
		}
		for _, s := range m.Segments {
			for n := range s.Fields {
				_ = s.Text(n, m.Delims)
				_ = s.Value(n, 1)
			}
			_ = m.Loc(s, 1, 0).String()
		}
		ack := ACK(HeaderOf(m), AA, "x", time.Time{}, nil)
		if _, err := Parse(ack); err != nil {
			t.Fatalf("ACK of a parsed message does not parse: %v\n%q", err, ack)
		}
	})
}
