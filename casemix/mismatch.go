package casemix

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/msdrg-cdi/drg/claim"
)

// Category is a reason a final DRG differs from the CDI working DRG.
type Category string

// Mismatch categories. An encounter can be in several; OTHER means none of the others
// applies (e.g. a secondary diagnosis change that kept the CC/MCC level, or no coding was
// given to compare).
const (
	CatPDXChange       Category = "PDX_CHANGE"       // the principal diagnosis differs
	CatCCMCCGained     Category = "CC_MCC_GAINED"    // final CC/MCC level above the working one
	CatCCMCCLost       Category = "CC_MCC_LOST"      // final CC/MCC level below the working one
	CatProcedureChange Category = "PROCEDURE_CHANGE" // the procedure code sets differ
	CatPOAChange       Category = "POA_CHANGE"       // a diagnosis in both codings changed POA
	CatOther           Category = "OTHER"
)

// Categories lists the categories in report order.
var Categories = []Category{CatPDXChange, CatCCMCCGained, CatCCMCCLost, CatProcedureChange, CatPOAChange, CatOther}

// MismatchOptions configure the coder–CDI mismatch report.
type MismatchOptions struct {
	Filter   Filter
	Weights  Weights
	BaseRate float64
}

// MismatchReport lists the encounters whose final DRG differs from the CDI working DRG.
// The CC/MCC level of an assignment is its Severity (NON_CC < CC < MCC); the codings are
// compared code by code (procedures as sets, ignoring order).
type MismatchReport struct {
	Filter   Filter  `json:"filter"`
	Weights  string  `json:"weights"`
	BaseRate float64 `json:"base_rate,omitempty"`
	// Compared counts the filtered encounters with a working DRG; Mismatched those whose
	// final DRG differs.
	Compared      int             `json:"compared"`
	Mismatched    int             `json:"mismatched"`
	AgreementRate float64         `json:"agreement_rate"`
	Categories    []CategoryTotal `json:"categories"`
	// WeightDelta is Σ weight(final) − weight(working) over the mismatches with both weights.
	WeightDelta      float64       `json:"weight_delta"`
	EstimatedPayment float64       `json:"estimated_payment_delta,omitempty"`
	Encounters       []MismatchRow `json:"encounters"` // by discharge date, then id
	NoCDI            int           `json:"no_working_drg"`
	OutsideFilter    int           `json:"outside_filter"`
	// Excluded counts the mismatches without a weight delta (working or final DRG without
	// weight, weights year not loaded), by reason.
	Excluded Exclusions `json:"excluded"`
}

// CategoryTotal counts the mismatches of one category and sums their weight deltas.
type CategoryTotal struct {
	Category    Category `json:"category"`
	Encounters  int      `json:"encounters"`
	WeightDelta float64  `json:"weight_delta"`
}

// MismatchRow is one mismatched encounter.
type MismatchRow struct {
	ID            string     `json:"id"`
	DischargeDate claim.Date `json:"discharge_date,omitzero"`
	Provider      string     `json:"attending_provider,omitempty"`
	WorkingDRG    int        `json:"working_drg"`
	FinalDRG      int        `json:"final_drg"`
	// WeightDelta is weight(final) − weight(working); null when either has no weight.
	WeightDelta *float64   `json:"weight_delta"`
	Categories  []Category `json:"categories"`
}

// MismatchBuilder computes a MismatchReport from discharges added one at a time (not safe
// for concurrent use; Merge per-goroutine builders).
type MismatchBuilder struct {
	opt MismatchOptions
	r   MismatchReport
	cat map[Category]*CategoryTotal
	sum float64
}

// NewMismatchBuilder checks the options and returns an empty builder.
func NewMismatchBuilder(opt MismatchOptions) (*MismatchBuilder, error) {
	if err := opt.Filter.Validate(); err != nil {
		return nil, err
	}
	if err := opt.Weights.Validate(); err != nil {
		return nil, err
	}
	b := &MismatchBuilder{opt: opt, cat: map[Category]*CategoryTotal{}}
	for _, c := range Categories {
		b.cat[c] = &CategoryTotal{Category: c}
	}
	return b, nil
}

// Mismatches computes the report over ds.
func Mismatches(ds []Discharge, opt MismatchOptions) (*MismatchReport, error) {
	b, err := NewMismatchBuilder(opt)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		b.Add(&ds[i])
	}
	return b.Report(), nil
}

// Add accounts one discharge; d is not retained.
func (b *MismatchBuilder) Add(d *Discharge) {
	r := &b.r
	if !b.opt.Filter.Match(d) {
		r.OutsideFilter++
		return
	}
	if d.Working == nil {
		r.NoCDI++
		return
	}
	r.Compared++
	if d.Working.DRG == d.Final.DRG {
		return
	}
	r.Mismatched++
	row := MismatchRow{ID: d.ID, DischargeDate: d.DischargeDate, Provider: d.Provider, WorkingDRG: d.Working.DRG, FinalDRG: d.Final.DRG,
		Categories: Categorize(d.Working, &d.Final, d.WorkingCoding, d.FinalCoding)}
	g := weigher{b.opt.Weights, &r.Excluded}
	ww, ok := g.one(d.DischargeDate, d.Working.DRG)
	var wf, delta float64
	if ok {
		wf, ok = g.one(d.DischargeDate, d.Final.DRG)
	}
	if ok {
		delta = wf - ww
		x := round(delta, 4)
		row.WeightDelta = &x
		b.sum += delta
	}
	for _, c := range row.Categories {
		t := b.cat[c]
		t.Encounters++
		t.WeightDelta += delta
	}
	r.Encounters = append(r.Encounters, row)
}

// Categorize returns the categories of a mismatch between a working and a final assignment
// and their codings (nil codings: only the CC/MCC level is compared).
func Categorize(working, final *Assignment, wc, fc *Coding) []Category {
	var out []Category
	if wc != nil && fc != nil && pdxCode(wc) != pdxCode(fc) {
		out = append(out, CatPDXChange)
	}
	lw, lf := ccLevel(working.Severity), ccLevel(final.Severity)
	switch {
	case lw < 0 || lf < 0:
	case lf > lw:
		out = append(out, CatCCMCCGained)
	case lf < lw:
		out = append(out, CatCCMCCLost)
	}
	if wc != nil && fc != nil {
		if !slices.Equal(procCodes(wc), procCodes(fc)) {
			out = append(out, CatProcedureChange)
		}
		if poaChanged(wc, fc) {
			out = append(out, CatPOAChange)
		}
	}
	if len(out) == 0 {
		out = append(out, CatOther)
	}
	return out
}

func pdxCode(c *Coding) string {
	if c.PDX == nil {
		return ""
	}
	return claim.NormalizeCode(c.PDX.Code)
}

// ccLevel ranks a claim severity: NON_CC 0, CC 1, MCC 2; -1 when unknown (NONE, empty).
func ccLevel(s string) int {
	switch s {
	case "NON_CC":
		return 0
	case "CC":
		return 1
	case "MCC":
		return 2
	}
	return -1
}

func procCodes(c *Coding) []string {
	out := make([]string, len(c.Procedures))
	for i, p := range c.Procedures {
		out[i] = claim.NormalizeCode(p.Code)
	}
	slices.Sort(out)
	return out
}

// poaChanged reports whether a diagnosis coded in both codings has a different POA.
func poaChanged(wc, fc *Coding) bool {
	poa := func(c *Coding) map[string]string {
		m := map[string]string{}
		if c.PDX != nil {
			m[claim.NormalizeCode(c.PDX.Code)] = c.PDX.POA
		}
		for _, dx := range c.SDX {
			m[claim.NormalizeCode(dx.Code)] = dx.POA
		}
		return m
	}
	w, f := poa(wc), poa(fc)
	for code, p := range w {
		if q, ok := f[code]; ok && q != p {
			return true
		}
	}
	return false
}

// Merge adds what o accounted (built with the same options).
func (b *MismatchBuilder) Merge(o *MismatchBuilder) {
	r, x := &b.r, &o.r
	r.Compared += x.Compared
	r.Mismatched += x.Mismatched
	r.NoCDI += x.NoCDI
	r.OutsideFilter += x.OutsideFilter
	r.Encounters = append(r.Encounters, x.Encounters...)
	r.Excluded.add(&x.Excluded)
	for c, t := range o.cat {
		b.cat[c].Encounters += t.Encounters
		b.cat[c].WeightDelta += t.WeightDelta
	}
	b.sum += o.sum
}

// Report builds the report.
func (b *MismatchBuilder) Report() *MismatchReport {
	r := b.r
	r.Filter, r.Weights, r.BaseRate = b.opt.Filter, b.opt.Weights.Source(), b.opt.BaseRate
	r.AgreementRate = round(ratio(float64(r.Compared-r.Mismatched), r.Compared), 4)
	r.WeightDelta = round(b.sum, 4)
	r.EstimatedPayment = payment(b.sum, b.opt.BaseRate)
	for _, c := range Categories {
		t := *b.cat[c]
		t.WeightDelta = round(t.WeightDelta, 4)
		r.Categories = append(r.Categories, t)
	}
	r.Encounters = slices.Clone(r.Encounters)
	slices.SortFunc(r.Encounters, func(a, c MismatchRow) int {
		return cmp.Or(a.DischargeDate.Ordinal()-c.DischargeDate.Ordinal(), cmp.Compare(a.ID, c.ID))
	})
	return &r
}

var mismatchCSVHeader = []string{"id", "discharge_date", "attending_provider", "working_drg", "final_drg", "weight_delta", "categories"}

// WriteCSV writes one row per mismatched encounter; categories are separated by ';'.
func (r *MismatchReport) WriteCSV(w io.Writer) error {
	cw := newCSV(w, mismatchCSVHeader)
	for _, e := range r.Encounters {
		d := ""
		if e.WeightDelta != nil {
			d = f4(*e.WeightDelta)
		}
		cats := make([]string, len(e.Categories))
		for i, c := range e.Categories {
			cats[i] = string(c)
		}
		cw.row(e.ID, e.DischargeDate.String(), e.Provider, fmt.Sprintf("%03d", e.WorkingDRG), fmt.Sprintf("%03d", e.FinalDRG), d, strings.Join(cats, ";"))
	}
	return cw.flush()
}

// WriteText writes the report for a terminal.
func (r *MismatchReport) WriteText(w io.Writer) error {
	t := newText(w)
	t.line("Coder–CDI mismatches — discharges %s; weights: %s", filterText(&r.Filter), r.Weights)
	tab := [][]string{{"category", "encounters", "Δ weight"}}
	for _, c := range r.Categories {
		tab = append(tab, []string{string(c.Category), itoa(c.Encounters), signed(c.WeightDelta)})
	}
	t.table(tab)
	if len(r.Encounters) > 0 {
		t.line("")
		tab = [][]string{{"encounter", "discharged", "working", "final", "Δ weight", "categories"}}
		for _, e := range r.Encounters {
			d := "—"
			if e.WeightDelta != nil {
				d = signed(*e.WeightDelta)
			}
			cats := make([]string, len(e.Categories))
			for i, c := range e.Categories {
				cats[i] = string(c)
			}
			tab = append(tab, []string{e.ID, e.DischargeDate.String(), fmt.Sprintf("%03d", e.WorkingDRG), fmt.Sprintf("%03d", e.FinalDRG), d, strings.Join(cats, " ")})
		}
		t.table(tab)
	}
	t.line("")
	if r.NoCDI > 0 {
		t.line("%d discharges without a CDI working DRG", r.NoCDI)
	}
	for _, n := range r.Excluded.Notes() {
		t.line("%s from the weight delta", n)
	}
	if r.BaseRate > 0 {
		t.line("Estimated payment delta %s (weight × base rate %s)", moneyText(r.EstimatedPayment), moneyText(r.BaseRate))
	}
	t.line("%d mismatches of %d compared encounters (agreement %s), Δ weight %s", r.Mismatched, r.Compared, pct(r.AgreementRate), signed(r.WeightDelta))
	return t.err
}
