package casemix

import (
	"cmp"
	"fmt"
	"io"
	"slices"
)

// DRGMixOptions configure the DRG mix report.
type DRGMixOptions struct {
	// Filter selects the discharges; its period is the current period.
	Filter  Filter
	Weights Weights
	// Prior is the comparison period. When zero and the current period is bounded, it is the
	// period of the same length just before (Period.Prior); when the current period is not
	// bounded there is no comparison.
	Prior Period
	// Top is the number of DRGs listed in each ranking (default 10).
	Top int
	// BaseRate, when positive, adds the expected-payment estimate.
	BaseRate float64
	// Titles, when set, gives DRG titles (see DRGTitles).
	Titles func(drg int) string
}

// DRGMixReport lists the top DRGs by volume and by total weight, with the change against the
// prior period.
type DRGMixReport struct {
	Filter   Filter  `json:"filter"`
	Prior    *Period `json:"prior,omitempty"`
	Weights  string  `json:"weights"`
	BaseRate float64 `json:"base_rate,omitempty"`
	// Discharges and TotalWeight are the current period's (Discharges includes discharges
	// without weight); Prior* the prior period's.
	Discharges       int         `json:"discharges"`
	TotalWeight      float64     `json:"total_weight"`
	PriorDischarges  int         `json:"prior_discharges"`
	PriorTotalWeight float64     `json:"prior_total_weight"`
	DRGs             int         `json:"drgs"` // distinct final DRGs in the current period
	ByVolume         []DRGMixRow `json:"by_volume"`
	ByWeight         []DRGMixRow `json:"by_weight"`
	// Excluded counts current-period discharges without weight (they are in ByVolume with a
	// total weight of 0 but in no weight total).
	Excluded      Exclusions `json:"excluded"`
	OutsideFilter int        `json:"outside_filter"`
}

// DRGMixRow is one DRG of the mix. Changes are current minus prior; the percent change is
// null when the prior count is 0 (or there is no prior period).
type DRGMixRow struct {
	DRG              int      `json:"drg"`
	Title            string   `json:"title,omitempty"`
	Discharges       int      `json:"discharges"`
	Share            float64  `json:"share"` // of the current period's discharges
	TotalWeight      float64  `json:"total_weight"`
	PriorDischarges  int      `json:"prior_discharges"`
	PriorTotalWeight float64  `json:"prior_total_weight"`
	DischargeChange  int      `json:"discharge_change"`
	DischargeChangeP *float64 `json:"discharge_change_pct"`
	WeightChange     float64  `json:"weight_change"`
	EstimatedPayment float64  `json:"estimated_payment,omitempty"`
}

// DRGMixBuilder computes a DRGMixReport from discharges added one at a time (not safe for
// concurrent use; Merge per-goroutine builders).
type DRGMixBuilder struct {
	opt           DRGMixOptions
	prior         Period
	hasPrior      bool
	current, prev map[cell]int
	outside       int
}

// NewDRGMixBuilder checks the options and returns an empty builder.
func NewDRGMixBuilder(opt DRGMixOptions) (*DRGMixBuilder, error) {
	if err := opt.Filter.Validate(); err != nil {
		return nil, err
	}
	if err := opt.Weights.Validate(); err != nil {
		return nil, err
	}
	if opt.Top <= 0 {
		opt.Top = 10
	}
	b := &DRGMixBuilder{opt: opt, current: map[cell]int{}, prev: map[cell]int{}}
	switch {
	case !opt.Prior.IsZero():
		if opt.Prior.Bounded() && opt.Prior.To.Before(opt.Prior.From) {
			return nil, fmt.Errorf("prior period %s ends before it starts", opt.Prior)
		}
		b.prior, b.hasPrior = opt.Prior, true
	default:
		b.prior, b.hasPrior = opt.Filter.Period.Prior()
	}
	return b, nil
}

// DRGMix computes the report over ds.
func DRGMix(ds []Discharge, opt DRGMixOptions) (*DRGMixReport, error) {
	b, err := NewDRGMixBuilder(opt)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		b.Add(&ds[i])
	}
	return b.Report(), nil
}

// Add counts one discharge in the current and/or the prior period.
func (b *DRGMixBuilder) Add(d *Discharge) {
	if !b.opt.Filter.MatchAttrs(d) {
		b.outside++
		return
	}
	cur := b.opt.Filter.Contains(d.DischargeDate)
	pri := b.hasPrior && b.prior.Contains(d.DischargeDate)
	if !cur && !pri {
		b.outside++
		return
	}
	c := cellOf(b.opt.Weights, d)
	c.typ = typeOther // the mix does not split by type
	if cur {
		b.current[c]++
	}
	if pri {
		b.prev[c]++
	}
}

// Merge adds the counts of o (built with the same options).
func (b *DRGMixBuilder) Merge(o *DRGMixBuilder) {
	b.outside += o.outside
	mergeCells(b.current, o.current)
	mergeCells(b.prev, o.prev)
}

type drgTotals struct {
	n     int
	w     float64
	prN   int
	prW   float64
	title string
}

// Report builds the report.
func (b *DRGMixBuilder) Report() *DRGMixReport {
	r := &DRGMixReport{Filter: b.opt.Filter, Weights: b.opt.Weights.Source(), BaseRate: b.opt.BaseRate, OutsideFilter: b.outside}
	if b.hasPrior {
		p := b.prior
		r.Prior = &p
	}
	per := map[int]*drgTotals{}
	get := func(drg int) *drgTotals {
		t := per[drg]
		if t == nil {
			t = &drgTotals{}
			per[drg] = t
		}
		return t
	}
	var total, priorTotal float64
	g := weigher{b.opt.Weights, &r.Excluded}
	for _, c := range sortedCells(b.current) {
		n := b.current[c]
		t := get(int(c.drg))
		t.n += n
		r.Discharges += n
		if w, ok := g.weight(c, n); ok {
			t.w += w * float64(n)
			total += w * float64(n)
		}
	}
	var scratch Exclusions
	gp := weigher{b.opt.Weights, &scratch}
	for _, c := range sortedCells(b.prev) {
		n := b.prev[c]
		t := get(int(c.drg))
		t.prN += n
		r.PriorDischarges += n
		if w, ok := gp.weight(c, n); ok {
			t.prW += w * float64(n)
			priorTotal += w * float64(n)
		}
	}
	r.TotalWeight, r.PriorTotalWeight = round(total, 4), round(priorTotal, 4)
	rows := make([]DRGMixRow, 0, len(per))
	for _, drg := range sortedKeys(per) {
		t := per[drg]
		if t.n > 0 {
			r.DRGs++
		}
		row := DRGMixRow{
			DRG: drg, Discharges: t.n, Share: round(ratio(float64(t.n), r.Discharges), 4),
			TotalWeight: round(t.w, 4), PriorDischarges: t.prN, PriorTotalWeight: round(t.prW, 4),
			DischargeChange: t.n - t.prN, WeightChange: round(t.w-t.prW, 4),
			EstimatedPayment: payment(t.w, b.opt.BaseRate),
		}
		if b.opt.Titles != nil {
			row.Title = b.opt.Titles(drg)
		}
		if t.prN > 0 {
			p := round(float64(t.n-t.prN)/float64(t.prN), 4)
			row.DischargeChangeP = &p
		}
		rows = append(rows, row)
	}
	r.ByVolume = topRows(rows, b.opt.Top, func(a, c DRGMixRow) int {
		return cmp.Or(c.Discharges-a.Discharges, cmp.Compare(c.TotalWeight, a.TotalWeight), a.DRG-c.DRG)
	})
	r.ByWeight = topRows(rows, b.opt.Top, func(a, c DRGMixRow) int {
		return cmp.Or(cmp.Compare(c.TotalWeight, a.TotalWeight), c.Discharges-a.Discharges, a.DRG-c.DRG)
	})
	return r
}

// topRows returns the first n rows of the current period in the order of less.
func topRows(rows []DRGMixRow, n int, less func(a, b DRGMixRow) int) []DRGMixRow {
	var cur []DRGMixRow
	for _, r := range rows {
		if r.Discharges > 0 {
			cur = append(cur, r)
		}
	}
	slices.SortFunc(cur, less)
	if len(cur) > n {
		cur = cur[:n]
	}
	return cur
}

var drgMixCSVHeader = []string{"ranking", "rank", "drg", "title", "discharges", "share", "total_weight",
	"prior_discharges", "prior_total_weight", "discharge_change", "discharge_change_pct", "weight_change", "estimated_payment"}

// WriteCSV writes both rankings, one row per DRG and ranking ("volume" or "weight").
func (r *DRGMixReport) WriteCSV(w io.Writer) error {
	cw := newCSV(w, drgMixCSVHeader)
	for _, rk := range []struct {
		name string
		rows []DRGMixRow
	}{{"volume", r.ByVolume}, {"weight", r.ByWeight}} {
		for i, x := range rk.rows {
			p := ""
			if x.DischargeChangeP != nil {
				p = f4(*x.DischargeChangeP)
			}
			cw.row(rk.name, itoa(i+1), fmt.Sprintf("%03d", x.DRG), x.Title, itoa(x.Discharges), f4(x.Share), f4(x.TotalWeight),
				itoa(x.PriorDischarges), f4(x.PriorTotalWeight), itoa(x.DischargeChange), p, f4(x.WeightChange),
				money(x.EstimatedPayment, r.BaseRate))
		}
	}
	return cw.flush()
}

// WriteText writes the report for a terminal.
func (r *DRGMixReport) WriteText(w io.Writer) error {
	t := newText(w)
	t.line("DRG mix — discharges %s; weights: %s", filterText(&r.Filter), r.Weights)
	if r.Prior != nil {
		t.line("Prior period %s to %s: %d discharges, total weight %s", r.Prior.From, r.Prior.To, r.PriorDischarges, f4(r.PriorTotalWeight))
	} else {
		t.line("No prior period (give a bounded discharge-date range, or a prior period)")
	}
	for _, rk := range []struct {
		name string
		rows []DRGMixRow
	}{{"Top DRGs by volume", r.ByVolume}, {"Top DRGs by total weight", r.ByWeight}} {
		t.line("")
		t.line("%s", rk.name)
		cols := []string{"DRG", "discharges", "share", "total weight", "prior", "Δ discharges", "Δ %", "Δ weight"}
		if r.BaseRate > 0 {
			cols = append(cols, "est. payment")
		}
		tab := [][]string{cols}
		for _, x := range rk.rows {
			p := "—"
			if x.DischargeChangeP != nil {
				p = pct(*x.DischargeChangeP)
			}
			c := []string{fmt.Sprintf("%03d %s", x.DRG, clip(x.Title, 48)), itoa(x.Discharges), pct(x.Share), f4(x.TotalWeight),
				itoa(x.PriorDischarges), fmt.Sprintf("%+d", x.DischargeChange), p, signed(x.WeightChange)}
			if r.BaseRate > 0 {
				c = append(c, moneyText(x.EstimatedPayment))
			}
			tab = append(tab, c)
		}
		t.table(tab)
	}
	t.line("")
	for _, n := range r.Excluded.Notes() {
		t.line("%s (from weight totals)", n)
	}
	t.line("%d discharges, %d DRGs, total weight %s", r.Discharges, r.DRGs, f4(r.TotalWeight))
	return t.err
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}
