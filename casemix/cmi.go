package casemix

import (
	"fmt"
	"io"
	"slices"
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
type CMIRow struct {
	Key              string   `json:"key,omitempty"`
	Discharges       int      `json:"discharges"`
	TotalWeight      float64  `json:"total_weight"`
	CMI              float64  `json:"cmi"`
	Medical          CMISplit `json:"medical"`
	Surgical         CMISplit `json:"surgical"`
	Excluded         int      `json:"excluded"`
	EstimatedPayment float64  `json:"estimated_payment,omitempty"`
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
	var total, med, surg float64
	for _, c := range sortedCells(cells) {
		n := cells[c]
		w, ok := g.weight(c, n)
		if !ok {
			row.Excluded += n
			continue
		}
		row.Discharges += n
		total += w * float64(n)
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
	row.EstimatedPayment = payment(total, b.opt.BaseRate)
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
		return int(a.typ) - int(b.typ)
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

// cmiCSVHeader is the header of the CMI report's CSV export.
var cmiCSVHeader = []string{"group_by", "key", "discharges", "total_weight", "cmi",
	"medical_discharges", "medical_total_weight", "medical_cmi",
	"surgical_discharges", "surgical_total_weight", "surgical_cmi", "excluded", "estimated_payment"}

// WriteCSV writes the report as CSV: the overall row (group_by "overall") then one row per
// group. estimated_payment is empty without a base rate.
func (r *CMIReport) WriteCSV(w io.Writer) error {
	cw := newCSV(w, cmiCSVHeader)
	add := func(by string, x *CMIRow) {
		cw.row(by, x.Key, itoa(x.Discharges), f4(x.TotalWeight), f4(x.CMI),
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
		t.line("Expected payment = total weight × base rate %s (estimate: no wage index, outlier, transfer or other adjustment)", moneyText(r.BaseRate))
	}
	cols := []string{"key", "discharges", "total weight", "CMI", "medical", "med CMI", "surgical", "surg CMI", "excluded"}
	if r.BaseRate > 0 {
		cols = append(cols, "est. payment")
	}
	cells := func(x *CMIRow) []string {
		c := []string{x.Key, itoa(x.Discharges), f4(x.TotalWeight), f4(x.CMI), itoa(x.Medical.Discharges), f4(x.Medical.CMI),
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
		for i := range g.Rows {
			tab = append(tab, cells(&g.Rows[i]))
		}
		t.table(tab)
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
	t.line("%s", r.Summary())
	return t.err
}
