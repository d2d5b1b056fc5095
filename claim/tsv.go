package claim

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FieldError is a validation error that names the offending field in wire notation
// (e.g. "sdx[3].poa").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error renders "field: message".
func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Errors is a list of field errors; it is itself an error.
type Errors []*FieldError

// Error joins the field errors with "; ".
func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// AsFieldErrors returns the field errors carried by err, if any.
func AsFieldErrors(err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return Errors{fe}
	}
	return nil
}

// Merge appends to es the field errors carried by errs, leaving out those naming a field es
// already has an error for (a value of the wrong type is not also reported as missing); an
// error without field errors is reported on field "body".
func (es Errors) Merge(errs ...error) Errors {
	for _, err := range errs {
		if e, ok := err.(Errors); err == nil || ok && len(e) == 0 {
			continue // nil, or an empty list passed as an error
		}
		fes := AsFieldErrors(err)
		if fes == nil {
			fes = Errors{{Field: "body", Message: err.Error()}}
		}
		for _, fe := range fes {
			if !slices.ContainsFunc(es, func(x *FieldError) bool { return x.Field == fe.Field }) {
				es = append(es, fe)
			}
		}
	}
	return es
}

// Err returns es as an error, nil when it is empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// TSVColumns is the number of tab-separated columns of the oracle claim format.
const TSVColumns = 12

// ParseTSV parses one line of the oracle claim format (see the project README): id, version,
// age, sex, discharge status, hospital status, PDX as CODE:POA, admit dx, SDX as comma-separated
// CODE:POA, procedures comma separated, discharge date YYYYMMDD, length of stay. On field
// errors the claim is returned too, with the fields that could be read.
func ParseTSV(line string) (*Claim, error) {
	line = strings.TrimRight(line, "\r\n")
	var cols [TSVColumns]string
	n := 0
	for rest := line; ; n++ {
		i := strings.IndexByte(rest, '\t')
		if n >= TSVColumns {
			n = strings.Count(line, "\t") + 1
			break
		}
		if i < 0 {
			cols[n] = rest
			n++
			break
		}
		cols[n], rest = rest[:i], rest[i+1:]
	}
	if n != TSVColumns {
		return nil, &FieldError{Field: "line", Message: fmt.Sprintf("want %d tab-separated columns, got %d", TSVColumns, n)}
	}
	c := &Claim{ID: cols[0], Sex: cols[3], HospitalStatus: cols[5]}
	var errs Errors
	intCol := func(s, field string) *int {
		if s == "" {
			return nil
		}
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			errs = append(errs, &FieldError{Field: field, Message: fmt.Sprintf("not an integer: %q", s)})
			return nil
		}
		return &v
	}
	if v := intCol(cols[1], "version"); v != nil {
		c.Version = *v
	}
	c.Age = intCol(cols[2], "age")
	c.DischargeStatus = intCol(cols[4], "discharge_status")
	if cols[6] != "" {
		code, poa := splitCodePOA(cols[6])
		c.PDX = &Dx{Code: code, POA: poa}
	}
	if cols[7] != "" {
		c.AdmitDx = &Dx{Code: cols[7]}
	}
	if cols[8] != "" {
		c.SDX = make([]Dx, 0, strings.Count(cols[8], ",")+1)
		for item := range strings.SplitSeq(cols[8], ",") {
			code, poa := splitCodePOA(item)
			c.SDX = append(c.SDX, Dx{Code: code, POA: poa})
		}
	}
	if cols[9] != "" {
		c.Procedures = make([]Proc, 0, strings.Count(cols[9], ",")+1)
		for code := range strings.SplitSeq(cols[9], ",") {
			c.Procedures = append(c.Procedures, Proc{Code: code})
		}
	}
	if cols[10] != "" {
		d, err := ParseDate(cols[10])
		if err != nil {
			errs = append(errs, &FieldError{Field: "discharge_date", Message: err.Error()})
		}
		c.DischargeDate = d
	}
	c.LengthOfStay = intCol(cols[11], "length_of_stay")
	errs = append(errs, c.checkCounts()...)
	if len(errs) > 0 {
		return c, errs // with the fields that could be read
	}
	return c, nil
}

// splitCodePOA splits "CODE:POA" at its last colon (the POA normalized); a missing colon
// means no POA.
func splitCodePOA(s string) (code, poa string) {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[:i], NormalizePOA(s[i+1:])
	}
	return s, ""
}

// TSVLine renders the claim in the oracle claim format (the inverse of ParseTSV).
func TSVLine(c *Claim) string {
	var b strings.Builder
	itoa := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	b.WriteString(c.ID)
	b.WriteByte('\t')
	if c.Version != 0 {
		b.WriteString(strconv.Itoa(c.Version))
	}
	b.WriteByte('\t')
	b.WriteString(itoa(c.Age))
	b.WriteByte('\t')
	b.WriteString(c.Sex)
	b.WriteByte('\t')
	b.WriteString(itoa(c.DischargeStatus))
	b.WriteByte('\t')
	b.WriteString(c.HospitalStatus)
	b.WriteByte('\t')
	if c.PDX != nil {
		b.WriteString(c.PDX.Code + ":" + c.PDX.POA)
	}
	b.WriteByte('\t')
	if c.AdmitDx != nil {
		b.WriteString(c.AdmitDx.Code)
	}
	b.WriteByte('\t')
	for i, d := range c.SDX {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d.Code + ":" + d.POA)
	}
	b.WriteByte('\t')
	for i, p := range c.Procedures {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.Code)
	}
	b.WriteByte('\t')
	if !c.DischargeDate.IsZero() {
		b.WriteString(c.DischargeDate.Compact())
	}
	b.WriteByte('\t')
	b.WriteString(itoa(c.LengthOfStay))
	return b.String()
}
