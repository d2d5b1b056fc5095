// Package claim defines the inpatient claim as it travels between the CLI, the HTTP API, batch
// files and the grouping engines, and parses it from the wire formats (oracle TSV, JSON).
//
// Field names follow the project's wire conventions (snake_case, codes without dots). Parsing
// normalizes only what the conventions allow (a dot inside a code is removed, a POA letter is
// upper-cased); Claim.Check refuses what no claim can carry (a sex, POA or patient status
// outside the conventions), and everything else (letter case of codes, unknown codes) is
// handed to the engines unchanged, because the CMS grouper and MCE define their own outcomes
// for such input.
package claim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Claim is one inpatient discharge to be grouped or edited.
type Claim struct {
	ID              string `json:"id,omitempty"`
	Version         int    `json:"version,omitempty"`
	DischargeDate   Date   `json:"discharge_date,omitzero"`
	LengthOfStay    *int   `json:"length_of_stay,omitempty"`
	Age             *int   `json:"age,omitempty"`
	Sex             string `json:"sex,omitempty"`
	DischargeStatus *int   `json:"discharge_status,omitempty"`
	// ConditionCodes are the UB-04 condition codes of the claim (FL 18–28) that the payment
	// reads: 42 and 43 make a discharge to home health no transfer.
	ConditionCodes []string `json:"condition_codes,omitempty"`
	HospitalStatus string   `json:"hospital_status,omitempty"`
	PDX            *Dx      `json:"pdx,omitempty"`
	AdmitDx        *Dx      `json:"admit_dx,omitempty"`
	SDX            []Dx     `json:"sdx,omitempty"`
	Procedures     []Proc   `json:"procedures,omitempty"`
}

// Dx is a diagnosis code with its present-on-admission indicator.
type Dx struct {
	Code string `json:"code"`
	POA  string `json:"poa,omitempty"`
}

// Proc is an ICD-10-PCS procedure code.
type Proc struct {
	Code string `json:"code"`
	Date *Date  `json:"date,omitempty"`
}

// Limits of a claim as accepted by the CMS software.
const (
	MaxSDX        = 24
	MaxProcedures = 25
)

// Grouped returns the claim as the CMS software reads it: its first MaxSDX secondary
// diagnoses and first MaxProcedures procedures, the codes past them left out. It is c itself
// when nothing is left out; otherwise a shallow copy sharing c's slices. Every stage that
// pairs a claim's codes with its grouping (risk, validation, dependencies) works on it.
func (c *Claim) Grouped() *Claim {
	if len(c.SDX) <= MaxSDX && len(c.Procedures) <= MaxProcedures {
		return c
	}
	cut := *c
	cut.SDX = c.SDX[:min(len(c.SDX), MaxSDX):min(len(c.SDX), MaxSDX)]
	cut.Procedures = c.Procedures[:min(len(c.Procedures), MaxProcedures):min(len(c.Procedures), MaxProcedures)]
	return &cut
}

// MaxCodes bounds the secondary diagnoses and the procedures of one claim as read from any
// input, as encounters bound theirs: far beyond any real stay (the CMS grouper reads 24 and
// 25), low enough that one claim cannot hold a request's memory.
const MaxCodes = 1000

// checkCounts reports the code lists longer than MaxCodes.
func (c *Claim) checkCounts() Errors {
	var errs Errors
	if len(c.SDX) > MaxCodes {
		errs = append(errs, &FieldError{Field: "sdx", Message: fmt.Sprintf("at most %d secondary diagnoses per claim, got %d", MaxCodes, len(c.SDX))})
	}
	if len(c.Procedures) > MaxCodes {
		errs = append(errs, &FieldError{Field: "procedures", Message: fmt.Sprintf("at most %d procedures per claim, got %d", MaxCodes, len(c.Procedures))})
	}
	return errs
}

// POA indicator values of the wire conventions ("" is a POA not reported).
var POAValues = []string{"Y", "N", "U", "W", "1"}

// Bounds of the claim's numbers: a UB-04 patient status is two digits (a number the CMS
// software does not know, 0 or 99, is grouped and edited the CMS way; one past two digits
// cannot be on a claim); an age the MCE accepts; a length of stay of at most a hundred years.
const (
	MaxDischargeStatus = 99
	MaxAge             = 124
	MaxLengthOfStay    = 36500
)

// Check is the one validation of a claim's fields, run by every route that takes a claim
// (group, batch, MCE, the CLI, encounters): it reports every field no engine can read, all
// at once, each named by its wire path — a sex other than M, F or U; a POA indicator other
// than Y, N, U, W, 1 or empty (pdx.poa, sdx[3].poa, admit_dx.poa); a discharge status that
// is not a two-digit patient status code; an age outside 0–124 or a negative length of stay;
// an unknown hospital POA status. A claim with any of them is never grouped or edited.
// Unknown codes, and patient status codes the CMS tables do not list, are the engines' to
// judge the CMS way.
func (c *Claim) Check() Errors {
	var errs Errors
	switch c.Sex {
	case "", "M", "F", "U":
	default:
		errs = append(errs, &FieldError{Field: "sex", Message: "must be one of M F U"})
	}
	if c.Age != nil && (*c.Age < 0 || *c.Age > MaxAge) {
		errs = append(errs, &FieldError{Field: "age", Message: fmt.Sprintf("must be 0–%d years, not %d", MaxAge, *c.Age)})
	}
	if c.LengthOfStay != nil && (*c.LengthOfStay < 0 || *c.LengthOfStay > MaxLengthOfStay) {
		errs = append(errs, &FieldError{Field: "length_of_stay", Message: fmt.Sprintf("must be 0–%d days, not %d", MaxLengthOfStay, *c.LengthOfStay)})
	}
	if c.DischargeStatus != nil && (*c.DischargeStatus < 0 || *c.DischargeStatus > MaxDischargeStatus) {
		errs = append(errs, &FieldError{Field: "discharge_status",
			Message: fmt.Sprintf("must be a two-digit UB-04 patient status code (0–%d, e.g. 1 home, 20 expired), not %d", MaxDischargeStatus, *c.DischargeStatus)})
	}
	switch c.HospitalStatus {
	case "", HospitalNonExempt, HospitalExempt, HospitalUnknown:
	default:
		errs = append(errs, &FieldError{Field: "hospital_status", Message: "must be one of NON_EXEMPT EXEMPT UNKNOWN"})
	}
	poa := func(field string, d *Dx) {
		if d != nil && d.POA != "" && !slices.Contains(POAValues, d.POA) {
			errs = append(errs, &FieldError{Field: field, Message: "must be one of " + strings.Join(POAValues, " ") + " (or empty)"})
		}
	}
	poa("pdx.poa", c.PDX)
	poa("admit_dx.poa", c.AdmitDx)
	for i := range c.SDX {
		poa(fmt.Sprintf("sdx[%d].poa", i), &c.SDX[i])
	}
	return errs
}

// Hospital POA reporting statuses.
const (
	HospitalNonExempt = "NON_EXEMPT"
	HospitalExempt    = "EXEMPT"
	HospitalUnknown   = "UNKNOWN"
)

// Date is a calendar date without time zone, written as ISO 8601 (2026-05-01) on the wire.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.Year == 0 && d.Month == 0 && d.Day == 0 }

// String renders the date as YYYY-MM-DD.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// AppendText appends the date as YYYY-MM-DD.
func (d Date) AppendText(b []byte) []byte {
	y, m, dd := d.Year, int(d.Month), d.Day
	return append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+dd/10), byte('0'+dd%10))
}

// Compact renders the date as YYYYMMDD.
func (d Date) Compact() string {
	return fmt.Sprintf("%04d%02d%02d", d.Year, int(d.Month), d.Day)
}

// Before reports whether d is strictly earlier than e.
func (d Date) Before(e Date) bool { return d.Ordinal() < e.Ordinal() }

// Ordinal is a monotonically increasing integer (YYYYMMDD) usable for comparisons.
func (d Date) Ordinal() int { return d.Year*10000 + int(d.Month)*100 + d.Day }

// Time returns midnight UTC of the date.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// ParseDate accepts YYYY-MM-DD, YYYYMMDD and a timestamp (ParseTimestamp, with or without
// a zone): the date is taken as written.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	var t time.Time
	var err error
	switch {
	case len(s) == 8:
		t, err = time.Parse("20060102", s)
	case len(s) == 10:
		t, err = time.Parse("2006-01-02", s)
	default:
		t, err = ParseTimestamp(s, time.UTC)
	}
	if err != nil {
		return Date{}, fmt.Errorf("invalid date %q: want YYYY-MM-DD", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// NormalizePOA writes a POA indicator in upper case without surrounding spaces ("y " → "Y").
func NormalizePOA(poa string) string {
	t := strings.TrimSpace(poa)
	if len(t) == 1 && t[0] >= 'a' && t[0] <= 'z' {
		return strings.ToUpper(t)
	}
	return t
}

// NormalizeCode removes the decimal point of an ICD-10 code written with one (I50.23 → I5023).
// Letter case and any other character are kept: the engines decide what an unknown code means.
func NormalizeCode(code string) string {
	if strings.IndexByte(code, '.') < 0 {
		return code
	}
	return strings.ReplaceAll(code, ".", "")
}

// Normalize applies NormalizeCode to every code of the claim and NormalizePOA to every POA
// indicator, in place.
func (c *Claim) Normalize() {
	if c.PDX != nil {
		c.PDX.Code, c.PDX.POA = NormalizeCode(c.PDX.Code), NormalizePOA(c.PDX.POA)
	}
	if c.AdmitDx != nil {
		c.AdmitDx.Code, c.AdmitDx.POA = NormalizeCode(c.AdmitDx.Code), NormalizePOA(c.AdmitDx.POA)
	}
	for i := range c.SDX {
		c.SDX[i].Code, c.SDX[i].POA = NormalizeCode(c.SDX[i].Code), NormalizePOA(c.SDX[i].POA)
	}
	for i := range c.Procedures {
		c.Procedures[i].Code = NormalizeCode(c.Procedures[i].Code)
	}
}
