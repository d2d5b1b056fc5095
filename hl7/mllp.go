package hl7

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// MLLP framing bytes: a message is sent as 0x0B, the message, 0x1C 0x0D.
const (
	StartBlock   = 0x0B
	EndBlock     = 0x1C
	CarriageRet  = 0x0D
	maxFrameSize = MaxMessage
)

// ErrFrameTooLarge reports an MLLP frame beyond MaxMessage bytes.
var ErrFrameTooLarge = errors.New("hl7: MLLP frame exceeds the maximum message size")

// Reader reads MLLP frames.
type Reader struct {
	r *bufio.Reader
}

// NewReader returns a reader of the MLLP frames of r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReader(r)} }

// Read returns the next frame's content. Bytes before a start block are skipped. io.EOF
// means the stream ended between frames; io.ErrUnexpectedEOF that it ended inside one.
func (r *Reader) Read() ([]byte, error) {
	for {
		c, err := r.r.ReadByte()
		if err != nil {
			return nil, err
		}
		if c == StartBlock {
			break
		}
	}
	var buf bytes.Buffer
	for {
		c, err := r.r.ReadByte()
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
		if c == EndBlock {
			n, err := r.r.ReadByte()
			if err == nil && n != CarriageRet {
				_ = r.r.UnreadByte()
			}
			return buf.Bytes(), nil
		}
		if buf.Len() >= maxFrameSize {
			return nil, ErrFrameTooLarge
		}
		buf.WriteByte(c)
	}
}

// WriteFrame writes msg as one MLLP frame.
func WriteFrame(w io.Writer, msg []byte) error {
	b := make([]byte, 0, len(msg)+3)
	b = append(b, StartBlock)
	b = append(b, msg...)
	b = append(b, EndBlock, CarriageRet)
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("hl7: write MLLP frame: %w", err)
	}
	return nil
}

// Acknowledgment codes (MSA-1).
const (
	AA = "AA" // accepted
	AE = "AE" // application error
	AR = "AR" // rejected
)

// Header is what an acknowledgement needs from the message it answers, read from as much of
// the MSH as could be read.
type Header struct {
	SendingApp, SendingFacility, ReceivingApp, ReceivingFacility string
	ControlID, Version, Trigger                                  string
	Delims                                                       Delimiters
}

// HeaderOf reads the header fields of a message.
func HeaderOf(m *Message) Header {
	h := m.Header()
	return Header{SendingApp: h.Text(3, m.Delims), SendingFacility: h.Text(4, m.Delims), ReceivingApp: h.Text(5, m.Delims),
		ReceivingFacility: h.Text(6, m.Delims), ControlID: m.ControlID(), Version: m.Version(), Trigger: h.Value(9, 2), Delims: m.Delims}
}

// SniffHeader reads what it can of the MSH of a message that did not parse: the field
// separator and the fields by position, without requiring anything.
func SniffHeader(b []byte) Header {
	h := Header{Delims: DefaultDelimiters}
	s := strings.TrimLeft(string(b), "\r\n\t \x0b")
	if !strings.HasPrefix(s, "MSH") || len(s) < 8 {
		return h
	}
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) < 4 {
		return h
	}
	fs := s[3]
	if isAlnum(fs) {
		return h
	}
	f := strings.Split(s, string(fs))
	get := func(n int) string { // MSH-n is f[n-1]
		if n-1 < len(f) {
			v := f[n-1]
			if i := strings.IndexByte(v, '^'); i >= 0 && n != 9 {
				v = v[:i]
			}
			return v
		}
		return ""
	}
	h.SendingApp, h.SendingFacility, h.ReceivingApp, h.ReceivingFacility = get(3), get(4), get(5), get(6)
	h.ControlID, h.Version = get(10), get(12)
	if t := strings.Split(get(9), "^"); len(t) > 1 {
		h.Trigger = t[1]
	}
	return h
}

// ACK builds the acknowledgement of a message: an MSH answering its header (applications and
// facilities swapped, ACK^trigger^ACK, control id ackID), MSA with code and the message's
// control id, and for an error an ERR segment naming the segment and field (ERR-1 for v2.3
// and v2.4 readers, ERR-2 location, ERR-3 table 0357 code, ERR-4 severity E, ERR-8 text).
// The text is in MSA-3 too.
func ACK(h Header, code, ackID string, at time.Time, e *Error) []byte {
	d := DefaultDelimiters
	esc := d.Encode
	version := h.Version
	if !knownVersion(version) {
		version = "2.5.1"
	}
	trig := h.Trigger
	if trig == "" || len(trig) > 3 || !isAllAlnum(trig) {
		trig = ""
	}
	msgType := "ACK"
	if trig != "" {
		msgType = "ACK^" + trig + "^ACK"
	}
	var b strings.Builder
	b.WriteString("MSH|^~\\&|" + esc(h.ReceivingApp) + "|" + esc(h.ReceivingFacility) + "|" + esc(h.SendingApp) + "|" +
		esc(h.SendingFacility) + "|" + at.UTC().Format("20060102150405") + "+0000||" + msgType + "|" + esc(ackID) + "|P|" + version + "\r")
	b.WriteString("MSA|" + code + "|" + esc(h.ControlID))
	if e != nil {
		b.WriteString("|" + esc(e.Error()))
	}
	b.WriteString("\r")
	if e != nil {
		loc := e.Loc
		erl := ""
		if loc.Segment != "" {
			seq := loc.Sequence
			if seq == 0 {
				seq = 1
			}
			erl = esc(loc.Segment) + "^" + fmt.Sprint(seq)
			if loc.Field > 0 {
				erl += "^" + fmt.Sprint(loc.Field)
				if loc.Component > 0 {
					erl += "^1^" + fmt.Sprint(loc.Component)
				}
			}
		}
		codeText := errorTexts[e.Code]
		cwe := fmt.Sprintf("%d^%s^HL70357", e.Code, codeText)
		eld := erl
		if loc.Component > 0 { // ELD has no repetition/component positions
			eld = esc(loc.Segment) + "^" + fmt.Sprint(max(loc.Sequence, 1)) + "^" + fmt.Sprint(loc.Field)
		}
		if eld != "" {
			eld += "^" + fmt.Sprintf("%d&%s&HL70357", e.Code, codeText)
		}
		b.WriteString("ERR|" + eld + "|" + erl + "|" + cwe + "|E||||" + esc(e.Error()) + "\r")
	}
	return []byte(b.String())
}

func isAllAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// SplitBatch splits a file of messages into messages: FHS/BHS/BTS/FTS batch envelopes are
// dropped and each MSH starts a message; without MSH segments, blank lines separate them.
// Segments are returned CR-terminated.
func SplitBatch(b []byte) [][]byte {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var out [][]byte
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, []byte(strings.Join(cur, "\r")+"\r"))
			cur = nil
		}
	}
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
			continue
		case strings.HasPrefix(t, "FHS") || strings.HasPrefix(t, "BHS") || strings.HasPrefix(t, "BTS") || strings.HasPrefix(t, "FTS"):
			flush()
			continue
		case strings.HasPrefix(t, "MSH"):
			flush()
		}
		cur = append(cur, strings.TrimRight(line, " \t"))
	}
	flush()
	return out
}

// ACKCode returns MSA-1 and MSA-3 (or ERR-8) of an acknowledgement.
func ACKCode(ack []byte) (code, text string, err error) {
	m, err := Parse(ack)
	if err != nil {
		return "", "", err
	}
	msa := m.First("MSA")
	if msa == nil {
		return "", "", Errorf(Location{Segment: "MSA"}, ErrRequiredMissing, "acknowledgement without MSA")
	}
	text = msa.Text(3, m.Delims)
	if e := m.First("ERR"); e != nil && e.Text(8, m.Delims) != "" {
		text = e.Text(8, m.Delims)
	}
	return msa.Value(1, 1), text, nil
}
