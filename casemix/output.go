package casemix

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// csvWriter writes one report table; the first error sticks.
type csvWriter struct {
	w   *csv.Writer
	err error
}

func newCSV(w io.Writer, header []string) *csvWriter {
	c := &csvWriter{w: csv.NewWriter(w)}
	c.row(header...)
	return c
}

func (c *csvWriter) row(fields ...string) {
	if c.err == nil {
		c.err = c.w.Write(fields)
	}
}

func (c *csvWriter) flush() error {
	c.w.Flush()
	if c.err != nil {
		return fmt.Errorf("write CSV: %w", c.err)
	}
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

// textWriter writes aligned plain-text tables; the first error sticks.
type textWriter struct {
	w   io.Writer
	err error
}

func newText(w io.Writer) *textWriter { return &textWriter{w: w} }

func (t *textWriter) line(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format+"\n", args...)
	}
}

// table writes rows with columns padded to their widest cell: text columns (the first, and
// any whose cells below the header hold letters) left-aligned, numbers right-aligned.
func (t *textWriter) table(rows [][]string) {
	var width []int
	var left []bool
	for ri, r := range rows {
		for i, c := range r {
			if i >= len(width) {
				width = append(width, 0)
				left = append(left, i == 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
			if ri > 0 && strings.IndexFunc(c, unicode.IsLetter) >= 0 {
				left[i] = true
			}
		}
	}
	for _, r := range rows {
		var b strings.Builder
		b.WriteString(" ")
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if left[i] {
				b.WriteString(" " + c + pad)
			} else {
				b.WriteString(" " + pad + c)
			}
			b.WriteString(" ")
		}
		t.line("%s", strings.TrimRight(b.String(), " "))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// f4 formats a weight or CMI with 4 decimals.
func f4(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }

// pct formats a fraction as a percentage with one decimal ("12.5%").
func pct(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) + "%" }

// money formats an amount for CSV (2 decimals), empty when no base rate is set.
func money(x, baseRate float64) string {
	if baseRate <= 0 {
		return ""
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// moneyText formats an amount for text output with thousands separators ("1,234,567.89").
func moneyText(x float64) string {
	s := strconv.FormatFloat(x, 'f', 2, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String() + "." + frac
	if neg {
		return "-" + out
	}
	return out
}

// signed formats a weight change with an explicit sign ("+0.1234").
func signed(x float64) string {
	if x > 0 {
		return "+" + f4(x)
	}
	return f4(x)
}

// filterText describes a filter for report headers.
func filterText(f *Filter) string {
	var parts []string
	switch {
	case f.IsZero():
		parts = append(parts, "all dates")
	case f.From.IsZero():
		parts = append(parts, "through "+f.To.String())
	case f.To.IsZero():
		parts = append(parts, "from "+f.From.String())
	default:
		parts = append(parts, f.From.String()+" to "+f.To.String())
	}
	for _, a := range []struct {
		name string
		vals []string
	}{{"facility", f.Facilities}, {"payer", f.Payers}, {"service line", f.ServiceLines}, {"attending", f.Providers}} {
		if len(a.vals) > 0 {
			parts = append(parts, a.name+" "+strings.Join(a.vals, "|"))
		}
	}
	return strings.Join(parts, ", ")
}
