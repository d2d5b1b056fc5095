package casemix

import (
	"fmt"
	"io"
	"slices"

	pay "github.com/msdrg-cdi/drg/payment"
)

// CMIOptions configure the case mix index report.
type CMIOptions struct {
	Filter  Filter
	Weights Weights
	// By lists the groupings reported besides the overall row (each one separately, not
	// crossed).
	By []Dimension
	// BaseRate, when positive, adds the expected-payment estimate (total weight × base rate).
	BaseRate float64
}

// CMIReport is the case mix index of the filtered discharges: the mean Table 5 relative
// weight of their final MS-DRGs, overall and per group.
type CMIReport struct {
	Filter   Filter        `json:"filter"`
	Weights  string        `json:"weights"`
	BaseRate float64       `json:"base_rate,omitempty"`
	Overall  CMIRow        `json:"overall"`
	Groups   []CMIGrouping `json:"groups,omitempty"`
	// Excluded are the discharges that passed the filter but have no weight; they are in no
	// row's Discharges.
	Excluded Exclusions `json:"excluded"`
	// OutsideFilter counts the discharges the filter left out.
	OutsideFilter int `json:"outside_filter"`
	// ErrorRecords is set by the caller that read the discharges from `drg group` output: the
	// error records it skipped. It only appears in the text.
	ErrorRecords int `json:"error_records,omitempty"`
}

// CMIGrouping is the CMI per value of one dimension, rows in ascending key order.
type CMIGrouping struct {
	By   Dimension `json:"by"`
	Rows []CMIRow  `json:"rows"`
}

// CMIRow is the CMI of one group of discharges. Discharges counts the weighted discharges
// (the CMI's denominator); Excluded those of the group without weight.
//
// Beside the plain CMI (Σ weights ÷ discharges) the row carries the transfer-adjusted one as
// CMS computes it (../shared/spec/transfer_payment.md): each discharge paid as a transfer
// counts as its fraction of a case (TransferAdjustedCases = Σ fractions, 1 for every other
// discharge) and weighs fraction × weight (TransferAdjustedWeight, each discharge's adjusted
// weight rounded to 4 decimals as its grouping record shows it); TransferAdjustedCMI =
// TransferAdjustedWeight ÷ TransferAdjustedCases. EstimatedPayment is the transfer-adjusted
// total weight × the base rate: what the DRGs pay, transfers reduced.
type CMIRow struct {
	Key                    string   `json:"key,omitempty"`
	Discharges             int      `json:"discharges"`
	TotalWeight            float64  `json:"total_weight"`
	CMI                    float64  `json:"cmi"`
	Transfers              int      `json:"transfers"` // discharges paid as transfers (per-diem fraction)
	TransferAdjustedCases  float64  `json:"transfer_adjusted_cases"`
	TransferAdjustedWeight float64  `json:"transfer_adjusted_weight"`
	TransferAdjustedCMI    float64  `json:"transfer_adjusted_cmi"`
	Medical                CMISplit `json:"medical"`
	Surgical               CMISplit `json:"surgical"`
	Excluded               int      `json:"excluded"`
	EstimatedPayment       float64  `json:"estimated_payment,omitempty"`
}

// CMISplit is the part of a group whose final DRG is medical (or surgical).
type CMISplit struct {
	Discharges  int     `json:"discharges"`
	TotalWeight float64 `json:"total_weight"`
	CMI         float64 `json:"cmi"`
}

// CMIBuilder computes a CMIReport from discharges added one at a time. It is not safe for
// concurrent use; give each goroutine its own and Merge them.
type CMIBuilder struct {
	opt     CMIOptions
	overall map[cell]int
	groups  []map[string]map[cell]int // per opt.By
	outside int
	keys    keyer
}

// NewCMIBuilder checks the options and returns an empty builder.
func NewCMIBuilder(opt CMIOptions) (*CMIBuilder, error) {
	if err := opt.Filter.Validate(); err != nil {
		return nil, err
	}
	if err := opt.Weights.Validate(); err != nil {
		return nil, err
	}
	if opt.BaseRate < 0 {
		return nil, fmt.Errorf("base rate %v is negative", opt.BaseRate)
	}
	b := &CMIBuilder{opt: opt, overall: map[cell]int{}, groups: make([]map[string]map[cell]int, len(opt.By))}
	for i := range b.groups {
		b.groups[i] = map[string]map[cell]int{}
	}
	return b, nil
}

// CMI computes the report over ds.
func CMI(ds []Discharge, opt CMIOptions) (*CMIReport, error) {
	b, err := NewCMIBuilder(opt)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		b.Add(&ds[i])
	}
	return b.Report(), nil
}

// Add counts one discharge; d is not retained.
func (b *CMIBuilder) Add(d *Discharge) {
	if !b.opt.Filter.Match(d) {
		b.outside++
		return
	}
	c := cellOf(b.opt.Weights, d)
	c.tr, c.pdd = parseTransfer(d.Payment.StatusTransfer), int16(min(max(d.Payment.PerDiemDays, 0), 9999))
	b.overall[c]++
	for i, dim := range b.opt.By {
		k := b.keys.key(dim, d)
		m := b.groups[i][k]
		if m == nil {
			m = map[cell]int{}
			b.groups[i][k] = m
		}
		m[c]++
	}
}

func cellOf(w Weights, d *Discharge) cell {
	return cell{fy: int32(w.year(d.DischargeDate)), drg: drgIndex(d.Final.DRG), typ: parseType(d.Final.Type)}
}

// Merge adds the counts of o (built with the same options) to b.
func (b *CMIBuilder) Merge(o *CMIBuilder) {
	b.outside += o.outside
	mergeCells(b.overall, o.overall)
	for i := range o.groups {
		for k, m := range o.groups[i] {
			if b.groups[i][k] == nil {
				b.groups[i][k] = map[cell]int{}
			}
			mergeCells(b.groups[i][k], m)
		}
	}
}

func mergeCells(dst, src map[cell]int) {
	for c, n := range src {
		dst[c] += n
	}
}

// Report builds the report from the discharges added so far.
func (b *CMIBuilder) Report() *CMIReport {
	r := &CMIReport{Filter: b.opt.Filter, Weights: b.opt.Weights.Source(), BaseRate: b.opt.BaseRate, OutsideFilter: b.outside}
	r.Overall = b.row("", b.overall, &r.Excluded)
	for i, dim := range b.opt.By {
		g := CMIGrouping{By: dim}
		for _, k := range sortedStrings(b.groups[i]) {
			var scratch Exclusions
			g.Rows = append(g.Rows, b.row(k, b.groups[i][k], &scratch))
		}
		r.Groups = append(r.Groups, g)
	}
	return r
}

// row weighs the cells of one group, in a fixed order so that the sums do not depend on
// map iteration.
func (b *CMIBuilder) row(key string, cells map[cell]int, exc *Exclusions) CMIRow {
	g := weigher{b.opt.Weights, exc}
	row := CMIRow{Key: key}
	var total, med, surg, cases, adjusted float64
	for _, c := range sortedCells(cells) {
		n := cells[c]
		w, ok := g.weight(c, n)
		if !ok {
			row.Excluded += n
			continue
		}
		row.Discharges += n
		total += w * float64(n)
		fr, isTransfer := b.opt.Weights.fraction(c)
		if isTransfer {
			row.Transfers += n
		}
		cases += fr * float64(n)
		adjusted += pay.AdjustedWeight(fr, w) * float64(n)
		switch c.typ {
		case typeMedical:
			row.Medical.Discharges += n
			med += w * float64(n)
		case typeSurgical:
			row.Surgical.Discharges += n
			surg += w * float64(n)
		}
	}
	row.TotalWeight, row.CMI = round(total, 4), round(ratio(total, row.Discharges), 4)
	row.Medical.TotalWeight, row.Medical.CMI = round(med, 4), round(ratio(med, row.Medical.Discharges), 4)
	row.Surgical.TotalWeight, row.Surgical.CMI = round(surg, 4), round(ratio(surg, row.Surgical.Discharges), 4)
	row.TransferAdjustedCases, row.TransferAdjustedWeight = round(cases, 4), round(adjusted, 4)
	if cases > 0 {
		row.TransferAdjustedCMI = round(adjusted/cases, 4)
	}
	row.EstimatedPayment = payment(adjusted, b.opt.BaseRate)
	return row
}

func sortedCells(m map[cell]int) []cell {
	cs := make([]cell, 0, len(m))
	for c := range m {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b cell) int {
		if a.fy != b.fy {
			return int(a.fy - b.fy)
		}
		if a.drg != b.drg {
			return int(a.drg) - int(b.drg)
		}
		if a.typ != b.typ {
			return int(a.typ) - int(b.typ)
		}
		if a.tr != b.tr {
			return int(a.tr) - int(b.tr)
		}
		return int(a.pdd) - int(b.pdd)
	})
	return cs
}

func sortedStrings[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Summary is the one-line result, "CMI 1.2345 over 1000 discharges".
func (r *CMIReport) Summary() string {
	return fmt.Sprintf("CMI %.4f over %d discharges", r.Overall.CMI, r.Overall.Discharges)
}

// TransferSummary is the transfer-adjusted result, "transfer-adjusted CMI 1.2000 over
// 998.4567 transfer-adjusted cases (12 transfers)".
func (r *CMIReport) TransferSummary() string {
	return fmt.Sprintf("transfer-adjusted CMI %.4f over %.4f transfer-adjusted cases (%d transfers)",
		r.Overall.TransferAdjustedCMI, r.Overall.TransferAdjustedCases, r.Overall.Transfers)
}

// cmiCSVHeader is the header of the CMI report's CSV export.
var cmiCSVHeader = []string{"group_by", "key", "discharges", "total_weight", "cmi",
	"transfers", "transfer_adjusted_cases", "transfer_adjusted_weight", "transfer_adjusted_cmi",
	"medical_discharges", "medical_total_weight", "medical_cmi",
	"surgical_discharges", "surgical_total_weight", "surgical_cmi", "excluded", "estimated_payment"}

// WriteCSV writes the report as CSV: the overall row (group_by "overall") then one row per
// group. estimated_payment is empty without a base rate.
func (r *CMIReport) WriteCSV(w io.Writer) error {
	cw := newCSV(w, cmiCSVHeader)
	add := func(by string, x *CMIRow) {
		cw.row(by, x.Key, itoa(x.Discharges), f4(x.TotalWeight), f4(x.CMI),
			itoa(x.Transfers), f4(x.TransferAdjustedCases), f4(x.TransferAdjustedWeight), f4(x.TransferAdjustedCMI),
			itoa(x.Medical.Discharges), f4(x.Medical.TotalWeight), f4(x.Medical.CMI),
			itoa(x.Surgical.Discharges), f4(x.Surgical.TotalWeight), f4(x.Surgical.CMI),
			itoa(x.Excluded), money(x.EstimatedPayment, r.BaseRate))
	}
	add("overall", &r.Overall)
	for _, g := range r.Groups {
		for i := range g.Rows {
			add(string(g.By), &g.Rows[i])
		}
	}
	return cw.flush()
}

// WriteText writes the report for a terminal. Its last line is Summary().
func (r *CMIReport) WriteText(w io.Writer) error {
	t := newText(w)
	t.line("Case mix index — discharges %s; weights: %s", filterText(&r.Filter), r.Weights)
	if r.BaseRate > 0 {
		t.line("Expected payment = transfer-adjusted total weight × base rate %s (estimate: no wage index, outlier or other adjustment)", moneyText(r.BaseRate))
	}
	t.line("Transfer-adjusted: a transfer counts as its per-diem fraction of a case and weighs fraction × weight (42 CFR 412.4; CMS IPPS Pricer)")
	cols := []string{"key", "discharges", "total weight", "CMI", "transfers", "adj. cases", "adj. weight", "adj. CMI", "medical", "med CMI", "surgical", "surg CMI", "excluded"}
	if r.BaseRate > 0 {
		cols = append(cols, "est. payment")
	}
	cells := func(x *CMIRow) []string {
		c := []string{x.Key, itoa(x.Discharges), f4(x.TotalWeight), f4(x.CMI), itoa(x.Transfers), f4(x.TransferAdjustedCases),
			f4(x.TransferAdjustedWeight), f4(x.TransferAdjustedCMI), itoa(x.Medical.Discharges), f4(x.Medical.CMI),
			itoa(x.Surgical.Discharges), f4(x.Surgical.CMI), itoa(x.Excluded)}
		if r.BaseRate > 0 {
			c = append(c, moneyText(x.EstimatedPayment))
		}
		return c
	}
	for _, g := range r.Groups {
		t.line("")
		t.line("By %s", g.By)
		tab := [][]string{cols}
		none := false
		for i := range g.Rows {
			tab = append(tab, cells(&g.Rows[i]))
			none = none || g.Rows[i].Key == NoValue
		}
		t.table(tab)
		if n := NoValueNote(g.By); none && n != "" {
			t.line("%s", n)
		}
	}
	t.line("")
	o := r.Overall
	o.Key = "overall"
	t.table([][]string{cols, cells(&o)})
	if r.OutsideFilter > 0 {
		t.line("%d discharges outside the filter", r.OutsideFilter)
	}
	for _, n := range r.Excluded.Notes() {
		t.line("%s", n)
	}
	if r.ErrorRecords > 0 {
		t.line("%d error records of the input skipped (claims that could not be grouped)", r.ErrorRecords)
	}
	t.line("%s", r.TransferSummary())
	t.line("%s", r.Summary())
	return t.err
}
