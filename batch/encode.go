package batch

import (
	"encoding/json"
	"strconv"

	"github.com/msdrg-cdi/drg/claim"
)

// JSONLEncoder writes JSON Lines: no header; an error record is
// {"line":N,"id":"…","error":"…","errors":[{"field":"…","message":"…"}]}.
type JSONLEncoder struct{}

// Header implements Encoder.
func (JSONLEncoder) Header() []byte { return nil }

// Error implements Encoder.
func (JSONLEncoder) Error(dst []byte, line int, id string, err error) []byte {
	rec := struct {
		Line   int                 `json:"line"`
		ID     string              `json:"id,omitempty"`
		Error  string              `json:"error"`
		Errors []*claim.FieldError `json:"errors,omitempty"`
	}{line, id, err.Error(), claim.AsFieldErrors(err)}
	b, _ := json.Marshal(rec)
	dst = append(dst, b...)
	return append(dst, '\n')
}

// CSVEncoder writes a CSV file whose last column is "error"; an error record leaves the other
// columns empty except id and line.
type CSVEncoder struct {
	Columns []string // without the trailing line and error columns
}

// Header implements Encoder.
func (e CSVEncoder) Header() []byte {
	var b []byte
	for _, c := range e.Columns {
		b = AppendCSVField(b, c)
		b = append(b, ',')
	}
	return append(b, "line,error\n"...)
}

// Error implements Encoder.
func (e CSVEncoder) Error(dst []byte, line int, id string, err error) []byte {
	for _, c := range e.Columns {
		if c == "id" {
			dst = AppendCSVField(dst, id)
		}
		dst = append(dst, ',')
	}
	dst = strconv.AppendInt(dst, int64(line), 10)
	dst = append(dst, ',')
	dst = AppendCSVField(dst, err.Error())
	return append(dst, '\n')
}

// AppendCSVField appends s quoted as RFC 4180 requires.
func AppendCSVField(dst []byte, s string) []byte {
	quote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\n', '\r':
			quote = true
		}
	}
	if !quote {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}
