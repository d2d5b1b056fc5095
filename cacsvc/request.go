// Package cacsvc wires computer-assisted coding for the API and the CLI: it reads and checks
// a CAC request (../shared/spec/cac_conventions.md), codes its notes with the cac engine of
// the fiscal year in force and groups the suggestion with the exact grouper. POST /v1/cac and
// `drg cac` call the same Run, so they give the same answers.
package cacsvc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/notes"
)

// Limits of one request. A stay with more notes is coded in several requests or, better, as
// an encounter whose notes are stored.
const (
	MaxNotes     = 100
	MaxNoteBytes = 1 << 20 // one note
	MaxTextBytes = 4 << 20 // all notes of a request
	MaxBodyBytes = MaxTextBytes + 1<<20
)

// Request is the body of POST /v1/cac and a line of `drg cac --in`.
type Request struct {
	ID              string     `json:"id,omitempty"`
	Notes           []NoteIn   `json:"notes"`
	Age             *int       `json:"age,omitempty"`
	Sex             string     `json:"sex,omitempty"`
	DischargeStatus *int       `json:"discharge_status,omitempty"`
	AdmitDate       claim.Date `json:"admit_date,omitzero"`
	DischargeDate   claim.Date `json:"discharge_date,omitzero"`
	Version         int        `json:"version,omitempty"`
}

// NoteIn is a note of a request.
type NoteIn struct {
	ID         string    `json:"id"`
	NoteType   string    `json:"note_type,omitempty"`
	AuthorRole string    `json:"author_role,omitempty"`
	Time       time.Time `json:"time,omitzero"`
	Text       string    `json:"text"`
}

// rawRequest keeps every field raw so that each error names its field.
type rawRequest struct {
	ID              json.RawMessage `json:"id"`
	Notes           json.RawMessage `json:"notes"`
	Age             json.RawMessage `json:"age"`
	Sex             json.RawMessage `json:"sex"`
	DischargeStatus json.RawMessage `json:"discharge_status"`
	AdmitDate       json.RawMessage `json:"admit_date"`
	DischargeDate   json.RawMessage `json:"discharge_date"`
	Version         json.RawMessage `json:"version"`
}

type rawNote struct {
	ID         json.RawMessage `json:"id"`
	NoteType   json.RawMessage `json:"note_type"`
	AuthorRole json.RawMessage `json:"author_role"`
	Time       json.RawMessage `json:"time"`
	Text       json.RawMessage `json:"text"`
}

// ParseRequest reads a request body and reports every field at fault at once. It never
// panics; a body that is not a JSON object is one error naming "body".
func ParseRequest(b []byte) (*Request, claim.Errors) {
	var errs claim.Errors
	fail := func(field, format string, args ...any) {
		errs = append(errs, &claim.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		fail("body", "empty: a request object with notes is required")
		return nil, errs
	}
	if b[0] != '{' && json.Valid(b) { // null would decode as an empty object
		fail("body", "must be a JSON object with notes, not %s", string(b[:min(len(b), 20)]))
		return nil, errs
	}
	var raw rawRequest
	if err := json.Unmarshal(b, &raw); err != nil {
		fail("body", "not a JSON object: %s", jsonMessage(err))
		return nil, errs
	}
	req := &Request{}
	str := func(field string, m json.RawMessage, dst *string, maxLen int) {
		if len(m) == 0 || string(m) == "null" {
			return
		}
		if !utf8.Valid(m) {
			fail(field, "invalid UTF-8")
			return
		}
		if err := json.Unmarshal(m, dst); err != nil {
			fail(field, "must be a string")
			return
		}
		if strings.ContainsRune(*dst, 0) {
			fail(field, "contains a NUL character")
		} else if maxLen > 0 && len(*dst) > maxLen {
			fail(field, "longer than %d bytes", maxLen)
		}
	}
	integer := func(field string, m json.RawMessage, lo, hi int) *int {
		if len(m) == 0 || string(m) == "null" {
			return nil
		}
		var v int
		if err := json.Unmarshal(m, &v); err != nil {
			fail(field, "must be an integer")
			return nil
		}
		if v < lo || v > hi {
			fail(field, "must be between %d and %d", lo, hi)
			return nil
		}
		return &v
	}
	date := func(field string, m json.RawMessage) claim.Date {
		var s string
		str(field, m, &s, 40)
		if s == "" {
			return claim.Date{}
		}
		d, err := claim.ParseDate(s)
		if err != nil {
			fail(field, "not a date (YYYY-MM-DD): %q", s)
		}
		return d
	}
	str("id", raw.ID, &req.ID, 200)
	req.Age = integer("age", raw.Age, 0, 124)
	str("sex", raw.Sex, &req.Sex, 10)
	switch req.Sex {
	case "", "M", "F", "U":
	default:
		fail("sex", "must be one of M F U")
	}
	req.DischargeStatus = integer("discharge_status", raw.DischargeStatus, 0, 99)
	req.AdmitDate = date("admit_date", raw.AdmitDate)
	req.DischargeDate = date("discharge_date", raw.DischargeDate)
	if !req.AdmitDate.IsZero() && !req.DischargeDate.IsZero() && req.DischargeDate.Before(req.AdmitDate) {
		fail("discharge_date", "before admit_date")
	}
	if len(raw.Version) > 0 && string(raw.Version) != "null" {
		var v int
		var s string
		switch {
		case json.Unmarshal(raw.Version, &v) == nil:
		case json.Unmarshal(raw.Version, &s) == nil:
			var f float64
			if _, err := fmt.Sscanf(s, "%g", &f); err == nil && f < 100 {
				v = int(f*10 + 0.5)
			} else {
				fmt.Sscanf(s, "%d", &v)
			}
		}
		if v < 100 || v > 999 {
			fail("version", "must be a grouper version such as 431 or \"43.1\"")
		}
		req.Version = v
	}
	var rawNotes []json.RawMessage
	switch {
	case len(raw.Notes) == 0 || string(raw.Notes) == "null":
		fail("notes", "required: at least one note")
	case json.Unmarshal(raw.Notes, &rawNotes) != nil:
		fail("notes", "must be an array of note objects")
	case len(rawNotes) == 0:
		fail("notes", "required: at least one note")
	case len(rawNotes) > MaxNotes:
		fail("notes", "at most %d notes in one request (got %d)", MaxNotes, len(rawNotes))
		rawNotes = nil
	}
	ids := map[string]int{}
	total := 0
	for i, rn := range rawNotes {
		p := fmt.Sprintf("notes[%d]", i)
		var r rawNote
		if err := json.Unmarshal(rn, &r); err != nil {
			fail(p, "must be a note object")
			continue
		}
		var n NoteIn
		before := len(errs)
		str(p+".id", r.ID, &n.ID, 200)
		idOK := len(errs) == before // str reports a malformed id itself
		str(p+".note_type", r.NoteType, &n.NoteType, 100)
		str(p+".author_role", r.AuthorRole, &n.AuthorRole, 100)
		var ts string
		str(p+".time", r.Time, &ts, 60)
		if ts != "" {
			t, err := parseTime(ts)
			if err != nil {
				fail(p+".time", "not a timestamp (RFC 3339, e.g. 2026-05-06T10:00:00Z): %q", ts)
			}
			n.Time = t
		}
		switch {
		case !idOK:
		case strings.TrimSpace(n.ID) == "":
			fail(p+".id", "required: each note needs an id")
		default:
			if j, dup := ids[n.ID]; dup {
				fail(p+".id", "%q is also the id of notes[%d]: note ids must be unique", n.ID, j)
			}
			ids[n.ID] = i
		}
		if len(r.Text) == 0 || string(r.Text) == "null" {
			fail(p+".text", "required: the note's text")
		} else if !utf8.Valid(r.Text) {
			fail(p+".text", "invalid UTF-8: notes are plain UTF-8 text")
		} else if json.Unmarshal(r.Text, &n.Text) != nil {
			fail(p+".text", "must be a string")
		} else if msg := checkText(n.Text); msg != "" {
			fail(p+".text", "%s", msg)
		}
		total += len(n.Text)
		req.Notes = append(req.Notes, n)
	}
	if total > MaxTextBytes {
		fail("notes", "the notes hold %d bytes of text: at most %d in one request", total, MaxTextBytes)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return req, nil
}

// checkText explains why a note's text cannot be read, or returns "".
func checkText(t string) string {
	switch {
	case len(t) > MaxNoteBytes:
		return fmt.Sprintf("%d bytes: a note may hold at most %d", len(t), MaxNoteBytes)
	case strings.TrimSpace(t) == "":
		return "empty: the note holds no text"
	}
	letters := 0
	for i, r := range t {
		switch {
		case r == utf8.RuneError:
			return fmt.Sprintf("invalid UTF-8 at byte %d", i)
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f', r == 0x7f:
			return fmt.Sprintf("not plain text: control character U+%04X at byte %d", r, i)
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			letters++
		}
	}
	if letters == 0 {
		return "no words: the note holds no letters"
	}
	return ""
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

func jsonMessage(err error) string {
	s := err.Error()
	return strings.TrimPrefix(s, "json: ")
}

// notesOf converts the request's notes for the reader.
func (r *Request) notesOf() []notes.Note {
	out := make([]notes.Note, len(r.Notes))
	for i, n := range r.Notes {
		out[i] = notes.Note{ID: n.ID, Type: n.NoteType, AuthorRole: n.AuthorRole, Time: n.Time, Text: n.Text}
	}
	return out
}
