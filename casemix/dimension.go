package casemix

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/tables"
)

// Dimension is what a report groups discharges by.
type Dimension string

// Dimensions. Time periods follow the discharge date: month "2026-05", calendar quarter
// "2026-Q2", federal fiscal year "FY2026" (October–September, the year of Table 5). MDC keys
// are two digits ("05"); attribute keys are the attribute's value, "(none)" when empty.
const (
	ByMonth       Dimension = "month"
	ByQuarter     Dimension = "quarter"
	ByFiscalYear  Dimension = "fy"
	ByMDC         Dimension = "mdc"
	ByServiceLine Dimension = "service-line"
	ByProvider    Dimension = "provider"
	ByPayer       Dimension = "payer"
	ByFacility    Dimension = "facility"
)

// Dimensions lists every dimension in documentation order.
var Dimensions = []Dimension{ByMonth, ByQuarter, ByFiscalYear, ByMDC, ByServiceLine, ByProvider, ByPayer, ByFacility}

// ParseDimension accepts a dimension name; "fiscal-year", "service_line" and "attending" are
// accepted as aliases.
func ParseDimension(s string) (Dimension, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.ReplaceAll(t, "_", "-")
	switch t {
	case "fiscal-year", "fiscalyear":
		return ByFiscalYear, nil
	case "attending", "attending-provider":
		return ByProvider, nil
	case "serviceline":
		return ByServiceLine, nil
	}
	for _, d := range Dimensions {
		if string(d) == t {
			return d, nil
		}
	}
	return "", fmt.Errorf("unknown grouping %q: want one of %s", s, dimensionNames())
}

// ParseDimensions parses a comma-separated list of dimensions ("month,mdc"); empty gives none.
func ParseDimensions(s string) ([]Dimension, error) {
	var out []Dimension
	for part := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		d, err := ParseDimension(part)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func dimensionNames() string {
	parts := make([]string, len(Dimensions))
	for i, d := range Dimensions {
		parts[i] = string(d)
	}
	return strings.Join(parts, ", ")
}

// NoValue is the key of discharges without a value for an attribute dimension (or without a
// date for a time dimension).
const NoValue = "(none)"

// noValueMeaning says, per dimension, which discharges fall in its NoValue row.
var noValueMeaning = map[Dimension]string{
	ByMonth: "discharges without a discharge date", ByQuarter: "discharges without a discharge date",
	ByFiscalYear: "discharges without a discharge date",
	ByServiceLine: "discharges whose record has no service_line field: records written by drg group never have one (a claim " +
		"names no service line); encounters and their exports carry the encounter's service_line when it is set",
	ByProvider: "discharges whose record names no attending provider", ByPayer: "discharges whose record names no payer",
	ByFacility: "discharges whose record names no facility",
}

// NoValueNote explains the NoValue row of a dimension ("" for a dimension without one).
func NoValueNote(dim Dimension) string {
	if m := noValueMeaning[dim]; m != "" {
		return NoValue + ": " + m
	}
	return ""
}

// keyer computes group keys, caching the period names (one string per month seen).
type keyer struct {
	periods map[int]string // dimension index<<24 | year*100+month → key
}

func (k *keyer) key(dim Dimension, d *Discharge) string {
	switch dim {
	case ByMonth, ByQuarter, ByFiscalYear:
		if d.DischargeDate.IsZero() {
			return NoValue
		}
		ym := d.DischargeDate.Year*100 + int(d.DischargeDate.Month)
		id := ym
		switch dim {
		case ByQuarter:
			id |= 1 << 24
		case ByFiscalYear:
			id |= 2 << 24
		}
		if s, ok := k.periods[id]; ok {
			return s
		}
		s := periodKey(dim, d.DischargeDate.Year, int(d.DischargeDate.Month))
		if k.periods == nil {
			k.periods = map[int]string{}
		}
		k.periods[id] = s
		return s
	case ByMDC:
		return mdcKey(d.Final.MDC)
	case ByServiceLine:
		return orNone(d.ServiceLine)
	case ByProvider:
		return orNone(d.Provider)
	case ByPayer:
		return orNone(d.Payer)
	case ByFacility:
		return orNone(d.Facility)
	}
	return NoValue
}

func periodKey(dim Dimension, year, month int) string {
	switch dim {
	case ByQuarter:
		return fmt.Sprintf("%04d-Q%d", year, (month-1)/3+1)
	case ByFiscalYear:
		return fmt.Sprintf("FY%04d", tables.FiscalYear(claim.Date{Year: year, Month: time.Month(month), Day: 1}))
	}
	return fmt.Sprintf("%04d-%02d", year, month)
}

var mdcKeys = func() (k [100]string) {
	for i := range k {
		k[i] = fmt.Sprintf("%02d", i)
	}
	return k
}()

func mdcKey(mdc int) string {
	if mdc >= 0 && mdc < len(mdcKeys) {
		return mdcKeys[mdc]
	}
	return strconv.Itoa(mdc)
}

func orNone(s string) string {
	if s == "" {
		return NoValue
	}
	return s
}
