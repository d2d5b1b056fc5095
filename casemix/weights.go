package casemix

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/msdrg-cdi/drg/claim"
	pay "github.com/msdrg-cdi/drg/payment"
	"github.com/msdrg-cdi/drg/tables"
)

// Weights chooses the Table 5 that weighs a discharge. By default it is the table of the
// discharge's fiscal year (tables.FiscalYear of the discharge date); a discharge whose year is
// not loaded is excluded and reported under that year, never weighed with another year's
// table. Year forces one table for every discharge (the CLI's --weights-year).
type Weights struct {
	Tables map[int]*tables.Weights // by fiscal year, as tables.Catalog.Weights
	Year   int                     // when non-zero, the fiscal year used for every discharge
	// Transfer are the transfer flags by fiscal year (tables.Catalog.Transfer): a discharge
	// whose status is a post-acute transfer is weighed as one when its DRG is post-acute in
	// the flags of the year that weighs it. A year without flags pays such discharges in full.
	Transfer map[int]*tables.TransferFlags
}

// Validate checks that a forced year is loaded.
func (w Weights) Validate() error {
	if w.Year != 0 && w.Tables[w.Year] == nil {
		return fmt.Errorf("Table 5 weights for FY%d are not loaded (loaded: %s)", w.Year, w.loaded())
	}
	return nil
}

// loaded lists the loaded fiscal years, e.g. "FY2026" or "none".
func (w Weights) loaded() string {
	ys := make([]int, 0, len(w.Tables))
	for y := range w.Tables {
		ys = append(ys, y)
	}
	return yearList(ys)
}

func yearList(ys []int) string {
	if len(ys) == 0 {
		return "none"
	}
	slices.Sort(ys)
	parts := make([]string, len(ys))
	for i, y := range ys {
		parts[i] = fmt.Sprintf("FY%d", y)
	}
	return strings.Join(parts, ", ")
}

// year returns the fiscal year whose table weighs a discharge of date d (0: no date and no
// forced year).
func (w Weights) year(d claim.Date) int {
	if w.Year != 0 {
		return w.Year
	}
	if d.IsZero() {
		return 0
	}
	return tables.FiscalYear(d)
}

// Source describes the weight choice for report headers.
func (w Weights) Source() string {
	if w.Year != 0 {
		return fmt.Sprintf("Table 5 FY%d for every discharge (forced)", w.Year)
	}
	return "Table 5 of each discharge's fiscal year"
}

// cell counts discharges of one DRG (and type) weighed with one fiscal year's table. Reports
// count cells while reading and weigh them at the end: the totals are then independent of the
// order of the discharges and cost one multiplication per DRG, not per discharge.
type cell struct {
	fy  int32
	drg int16
	typ drgType
	tr  transferKind // transfer kind of the discharge status (CMI only)
	pdd int16        // per-diem days of a transfer status (0: unknown LOS)
}

// transferKind is the transfer kind of a discharge status (pay.Kind).
type transferKind uint8

const (
	transferNone transferKind = iota
	transferAcute
	transferPostAcute
)

func parseTransfer(s string) transferKind {
	switch pay.Kind(s) {
	case pay.Acute:
		return transferAcute
	case pay.PostAcute:
		return transferPostAcute
	}
	return transferNone
}

// fraction returns the transfer fraction of cell c (1 when not paid as a transfer, or the
// length of stay or GMLOS is unknown) and whether the discharges are paid as transfers.
func (w Weights) fraction(c cell) (float64, bool) {
	if c.tr == transferNone || c.pdd <= 0 {
		return 1, false
	}
	kind := pay.Acute
	var flags pay.Flags
	if c.tr == transferPostAcute {
		kind = pay.PostAcute
		t := w.Transfer[int(c.fy)]
		if t == nil {
			return 1, false
		}
		flags, _ = t.Get(int(c.drg))
	}
	paid, m := pay.PaidAs(kind, flags)
	if paid == pay.None {
		return 1, false
	}
	t := w.Tables[int(c.fy)]
	if t == nil {
		return 1, false
	}
	row, ok := t.Get(int(c.drg))
	if !ok || row.GMLOS <= 0 {
		return 1, false
	}
	return pay.Fraction(m, int(c.pdd), row.GMLOS), true
}

// drgType is the medical/surgical class of a final DRG.
type drgType uint8

const (
	typeOther drgType = iota
	typeMedical
	typeSurgical
)

func parseType(s string) drgType {
	switch s {
	case "MEDICAL":
		return typeMedical
	case "SURGICAL":
		return typeSurgical
	}
	return typeOther
}

// Exclusions counts the discharges a weighted report left out, and why.
type Exclusions struct {
	// NoWeight counts discharges by final DRG whose DRG has no Table 5 weight (998 and 999,
	// DRG 0 of an ungrouped record, or a DRG absent from the year's table).
	NoWeight map[int]int `json:"no_weight,omitempty"`
	// MissingYears counts discharges by fiscal year whose Table 5 is not loaded.
	MissingYears map[int]int `json:"missing_weight_years,omitempty"`
	// NoDate counts discharges without a discharge date (no fiscal year to weigh them with).
	NoDate int `json:"no_discharge_date,omitempty"`
}

// Total returns the number of excluded discharges.
func (e *Exclusions) Total() int {
	n := e.NoDate
	for _, c := range e.NoWeight {
		n += c
	}
	for _, c := range e.MissingYears {
		n += c
	}
	return n
}

func (e *Exclusions) add(o *Exclusions) {
	e.NoDate += o.NoDate
	for k, v := range o.NoWeight {
		e.noWeight(k, v)
	}
	for k, v := range o.MissingYears {
		e.missingYear(k, v)
	}
}

func (e *Exclusions) noWeight(drg, n int) {
	if e.NoWeight == nil {
		e.NoWeight = map[int]int{}
	}
	e.NoWeight[drg] += n
}

func (e *Exclusions) missingYear(fy, n int) {
	if e.MissingYears == nil {
		e.MissingYears = map[int]int{}
	}
	e.MissingYears[fy] += n
}

// Notes renders the exclusions as sentences for text output, e.g. "5 discharges excluded:
// DRG without weight (998: 2, 999: 3)".
func (e *Exclusions) Notes() []string {
	var out []string
	if len(e.NoWeight) > 0 {
		drgs := sortedKeys(e.NoWeight)
		parts := make([]string, len(drgs))
		n := 0
		for i, d := range drgs {
			parts[i] = fmt.Sprintf("%03d: %d", d, e.NoWeight[d])
			n += e.NoWeight[d]
		}
		out = append(out, fmt.Sprintf("%d excluded: DRG without Table 5 weight (%s)", n, strings.Join(parts, ", ")))
	}
	for _, fy := range sortedKeys(e.MissingYears) {
		out = append(out, fmt.Sprintf("%d excluded: discharged in FY%d, whose Table 5 weights are not loaded (use --weights-year to weigh them with another year)", e.MissingYears[fy], fy))
	}
	if e.NoDate > 0 {
		out = append(out, fmt.Sprintf("%d excluded: no discharge date to choose the weights year (use --weights-year)", e.NoDate))
	}
	return out
}

// weigher resolves cells to weights, recording exclusions.
type weigher struct {
	w   Weights
	exc *Exclusions
}

// weight returns the weight of c's DRG in c's year; ok is false (and the n discharges are
// recorded as excluded) when there is none.
func (g weigher) weight(c cell, n int) (float64, bool) {
	if c.fy == 0 {
		g.exc.NoDate += n
		return 0, false
	}
	t := g.w.Tables[int(c.fy)]
	if t == nil {
		g.exc.missingYear(int(c.fy), n)
		return 0, false
	}
	row, ok := t.Get(int(c.drg))
	if !ok {
		g.exc.noWeight(int(c.drg), n)
		return 0, false
	}
	return row.Weight, true
}

// one weighs a single discharge of date d with final DRG drg, recording an exclusion when
// there is no weight.
func (g weigher) one(d claim.Date, drg int) (float64, bool) {
	return g.weight(cell{fy: int32(g.w.year(d)), drg: drgIndex(drg)}, 1)
}

// drgIndex maps a DRG number to a cell's DRG (out-of-range numbers to 0: no weight).
func drgIndex(drg int) int16 {
	if drg < 0 || drg > 999 {
		return 0
	}
	return int16(drg)
}

// weightOf returns the weight of drg for a discharge of date d without recording anything.
func (w Weights) weightOf(d claim.Date, drg int) (float64, bool) {
	t := w.Tables[w.year(d)]
	if t == nil {
		return 0, false
	}
	row, ok := t.Get(drg)
	return row.Weight, ok
}

// round rounds x to n decimals (reports carry weights and CMIs to 4, money to 2).
func round(x float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(x*p) / p
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a float64, b int) float64 {
	if b == 0 {
		return 0
	}
	return a / float64(b)
}

// payment is the expected-payment estimate of a total weight: weight × base rate, in
// currency units rounded to cents; 0 when no base rate is set.
func payment(weight, baseRate float64) float64 { return round(weight*baseRate, 2) }

func sortedKeys[V any](m map[int]V) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
