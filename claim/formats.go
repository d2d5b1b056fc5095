package claim

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Format is a claim file format.
type Format uint8

// Claim file formats.
const (
	FormatUnknown Format = iota
	FormatTSV            // the oracle's 12-column TSV
	FormatJSONL          // one claim object per line (API field names)
	FormatCSV            // header row with API field names; multi-valued fields separated by ';'
)

var formatNames = [...]string{"unknown", "tsv", "jsonl", "csv"}

// String names the format.
func (f Format) String() string { return formatNames[f] }

// ParseFormat accepts tsv, jsonl (or ndjson, json) and csv.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "tsv":
		return FormatTSV, nil
	case "jsonl", "ndjson", "json":
		return FormatJSONL, nil
	case "csv":
		return FormatCSV, nil
	}
	return FormatUnknown, fmt.Errorf("unknown format %q: want tsv, jsonl or csv", s)
}

// FormatFromName infers the format from a file name (a .gz suffix is ignored).
func FormatFromName(name string) Format {
	name = strings.TrimSuffix(strings.ToLower(name), ".gz")
	switch {
	case strings.HasSuffix(name, ".tsv"), strings.HasSuffix(name, ".txt"):
		return FormatTSV
	case strings.HasSuffix(name, ".jsonl"), strings.HasSuffix(name, ".ndjson"), strings.HasSuffix(name, ".json"):
		return FormatJSONL
	case strings.HasSuffix(name, ".csv"):
		return FormatCSV
	}
	return FormatUnknown
}

// SniffFormat guesses the format from the first line of a file.
func SniffFormat(first []byte) Format {
	t := bytes.TrimSpace(first)
	switch {
	case len(t) > 0 && t[0] == '{':
		return FormatJSONL
	case bytes.IndexByte(t, '\t') >= 0:
		return FormatTSV
	case bytes.IndexByte(t, ',') >= 0:
		return FormatCSV
	}
	return FormatUnknown
}

// ParseJSON parses one claim object (API field names) and normalizes its codes. Unknown
// fields are rejected so that a misspelled field name is not silently ignored. Every field at
// fault is reported at once (Errors); the claim is then returned too, with the fields that
// could be read (for its id and for the callers' own checks).
func ParseJSON(line []byte) (*Claim, error) {
	var c Claim
	if err := Decode(line, &c, DecodeOptions{}); err != nil {
		var me *MalformedError
		if errors.As(err, &me) {
			return nil, &FieldError{Field: "line", Message: me.Message}
		}
		c.Normalize() // the fields read, for the callers' checks
		return &c, c.checkCounts().Merge(err)
	}
	if errs := c.checkCounts(); len(errs) > 0 {
		return &c, errs
	}
	c.Normalize()
	return &c, nil
}

// CSVHeader maps the columns of a CSV claim file.
type CSVHeader struct {
	cols []string
}

// CSVColumns are the accepted CSV column names, in the order of the documentation.
var CSVColumns = []string{"id", "version", "discharge_date", "length_of_stay", "age", "sex",
	"discharge_status", "hospital_status", "pdx", "pdx_poa", "admit_dx", "sdx", "procedures"}

// csvColumns holds CSVColumns.
var csvColumns = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range CSVColumns {
		m[c] = true
	}
	return m
}()

// expectedColumns completes a header error with the columns a CSV claim file may have.
func expectedColumns(msg string) string {
	return msg + " (the columns are " + strings.Join(CSVColumns, ", ") + "; pdx is required)"
}

// ParseCSVHeader reads the header row of a CSV claim file. Columns are named as in the API
// (id, version, discharge_date, length_of_stay, age, sex, discharge_status, hospital_status,
// pdx, pdx_poa, admit_dx, sdx, procedures); pdx may also be written CODE:POA.
func ParseCSVHeader(line []byte) (*CSVHeader, error) {
	cols := splitCSV(strings.TrimRight(string(line), "\r\n"))
	h := &CSVHeader{}
	seen := map[string]bool{}
	for _, c := range cols {
		c = strings.ToLower(strings.TrimSpace(c))
		if !csvColumns[c] {
			return nil, &FieldError{Field: "header", Message: expectedColumns(fmt.Sprintf("unknown column %q", c))}
		}
		if seen[c] {
			return nil, &FieldError{Field: "header", Message: fmt.Sprintf("duplicate column %q", c)}
		}
		seen[c] = true
		h.cols = append(h.cols, c)
	}
	if !seen["pdx"] {
		return nil, &FieldError{Field: "header", Message: expectedColumns("missing column \"pdx\"")}
	}
	return h, nil
}

// ParseCSV parses one data row of a CSV claim file. SDX are CODE:POA separated by ';',
// procedures are codes separated by ';'. On field errors the claim is returned too, with the
// fields that could be read.
func (h *CSVHeader) ParseCSV(line []byte) (*Claim, error) {
	vals := splitCSV(strings.TrimRight(string(line), "\r\n"))
	if len(vals) != len(h.cols) {
		return nil, &FieldError{Field: "line", Message: fmt.Sprintf("want %d columns, got %d", len(h.cols), len(vals))}
	}
	c := &Claim{}
	var errs Errors
	num := func(field, s string) *int {
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			errs = append(errs, &FieldError{Field: field, Message: fmt.Sprintf("not an integer: %q", s)})
			return nil
		}
		return &n
	}
	pdxPOA, pdxPOASet := "", false
	for i, col := range h.cols {
		v := strings.TrimSpace(vals[i])
		switch col {
		case "id":
			c.ID = v
		case "version":
			if n := num(col, v); n != nil {
				c.Version = *n
			}
		case "discharge_date":
			if v != "" {
				d, err := ParseDate(v)
				if err != nil {
					errs = append(errs, &FieldError{Field: col, Message: err.Error()})
				}
				c.DischargeDate = d
			}
		case "length_of_stay":
			c.LengthOfStay = num(col, v)
		case "age":
			c.Age = num(col, v)
		case "sex":
			c.Sex = v
		case "discharge_status":
			c.DischargeStatus = num(col, v)
		case "hospital_status":
			c.HospitalStatus = v
		case "pdx":
			if v != "" {
				code, poa := splitCodePOA(v)
				c.PDX = &Dx{Code: code, POA: poa}
			}
		case "pdx_poa":
			pdxPOA, pdxPOASet = v, true
		case "admit_dx":
			if v != "" {
				c.AdmitDx = &Dx{Code: v}
			}
		case "sdx":
			for _, item := range splitList(v) {
				code, poa := splitCodePOA(item)
				c.SDX = append(c.SDX, Dx{Code: code, POA: poa})
			}
		case "procedures":
			for _, item := range splitList(v) {
				c.Procedures = append(c.Procedures, Proc{Code: item})
			}
		}
	}
	if pdxPOASet && c.PDX != nil {
		c.PDX.POA = pdxPOA
	}
	errs = append(errs, c.checkCounts()...)
	if len(errs) > 0 {
		return c, errs // with the fields that could be read
	}
	c.Normalize()
	return c, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ";")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitCSV splits one CSV line (RFC 4180 quoting, no embedded newlines).
func splitCSV(line string) []string {
	var out []string
	var b strings.Builder
	inQuotes := false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case inQuotes && ch == '"' && i+1 < len(line) && line[i+1] == '"':
			b.WriteByte('"')
			i++
		case ch == '"':
			inQuotes = !inQuotes
		case ch == ',' && !inQuotes:
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(ch)
		}
	}
	return append(out, b.String())
}
