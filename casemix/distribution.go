package casemix

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
)

// Distribution metrics: the share of a family's discharges at one level (the level names),
// the share above the family's lowest level, and the share of those with a single CC/MCC.
const (
	MetricCCOrMCC     = "CC_OR_MCC"     // discharges above the lowest level / discharges
	MetricSingleCCMCC = "SINGLE_CC_MCC" // discharges above the lowest level with exactly one CC/MCC code / those with a known count
)

// DistributionOptions configure the severity distribution report, in the spirit of the CMS
// PEPPER target areas but against the facility's own history.
type DistributionOptions struct {
	// Filter selects the discharges by attribute; Filter.To (required) is the last discharge
	// date of the current period. Filter.From is replaced by the first day of the first
	// history period.
	Filter   Filter
	Families *Families
	// Period is the length of a period: ByMonth, ByQuarter (the default) or ByFiscalYear.
	// The current period is the one containing Filter.To, cut at Filter.To.
	Period Dimension
	// History is the number of periods before the current one that form the facility's
	// history (default 4, at most 40).
	History int
	// Threshold flags a metric whose current share exceeds the history baseline by more than
	// this many points, as a fraction (default 0.05: five percentage points).
	Threshold float64
	// Percentile, when above 0, makes the baseline that percentile (1–100) of the history
	// periods' shares (linear interpolation between ranks); by default the baseline is the
	// pooled share of the whole history (its numerators over its denominators).
	Percentile float64
	// MinDischarges is the smallest denominator compared, in the current period and in the
	// whole history (default 11, the smallest count PEPPER reports); smaller groups are shown
	// but not flagged.
	MinDischarges int
}

// DistributionReport is the severity distribution of the families with severity splits per
// period, the current period compared with the facility's history.
//
// For every family (and overall, over all families) and period it gives the share of
// discharges at each level, the share above the family's lowest level (CC_OR_MCC) and, among
// those, the share with exactly one secondary diagnosis that counted as CC or MCC for the
// final DRG (SINGLE_CC_MCC: a DRG that rests on one code, as PEPPER's "single CC or MCC"
// target area). Each share of the current period is compared with the baseline of the
// history; a metric that points to higher severity (every level but NONE, CC_OR_MCC and
// SINGLE_CC_MCC) is flagged when it exceeds the baseline by more than the threshold.
type DistributionReport struct {
	Filter        Filter    `json:"filter"`
	Period        Dimension `json:"period"`
	Current       string    `json:"current"`
	History       []string  `json:"history"` // oldest first
	Threshold     float64   `json:"threshold"`
	Percentile    float64   `json:"percentile,omitempty"`
	MinDischarges int       `json:"min_discharges"`
	Baseline      string    `json:"baseline"` // how the baseline is computed
	// Overall sums the levels of every family (MCC, CC_MCC, CC, NONE).
	Overall  DistributionRow    `json:"overall"`
	Families []DistributionRow  `json:"families"` // by current-period discharges, descending
	Flags    []DistributionFlag `json:"flags"`
	// NotInFamily counts discharges of the span whose final DRG has no severity split.
	NotInFamily   int `json:"not_in_family"`
	OutsideFilter int `json:"outside_filter"`
}

// DistributionRow is one family (BaseDRG 0: overall) over the periods.
type DistributionRow struct {
	BaseDRG     int                `json:"base_drg,omitempty"`
	Title       string             `json:"title,omitempty"`
	Periods     []PeriodShares     `json:"periods"` // history oldest first, then the current period
	Comparisons []MetricComparison `json:"comparisons"`
}

// PeriodShares is the distribution of one family in one period.
type PeriodShares struct {
	Period     string       `json:"period"`
	From       claim.Date   `json:"from"`
	To         claim.Date   `json:"to"`
	Discharges int          `json:"discharges"`
	Levels     []LevelCount `json:"levels"` // the family's levels, highest first
	// WithCCMCC counts the discharges above the family's lowest level.
	WithCCMCC  int     `json:"with_cc_mcc"`
	CCMCCShare float64 `json:"cc_mcc_share"`
	// SingleCCMCC counts the discharges of WithCCMCC with exactly one secondary diagnosis
	// that counted as CC or MCC; its share is over the discharges of WithCCMCC whose count is
	// known (UnknownCount lacks it).
	SingleCCMCC      int     `json:"single_cc_mcc"`
	SingleCCMCCShare float64 `json:"single_cc_mcc_share"`
	UnknownCount     int     `json:"unknown_cc_mcc_count,omitempty"`
}

// MetricComparison compares one share of the current period with the history's baseline.
// Baseline and Difference are null when the metric was not compared (Reason says why).
type MetricComparison struct {
	Metric             string   `json:"metric"`
	Current            float64  `json:"current"`
	CurrentCount       int      `json:"current_count"`
	CurrentDenominator int      `json:"current_denominator"`
	Baseline           *float64 `json:"baseline"`
	HistoryDenominator int      `json:"history_denominator"`
	HistoryPeriods     int      `json:"history_periods"` // history periods with a denominator
	Difference         *float64 `json:"difference"`
	Flagged            bool     `json:"flagged"`
	Reason             string   `json:"reason,omitempty"`
}

// DistributionFlag is a flagged metric, with the reason.
type DistributionFlag struct {
	BaseDRG    int     `json:"base_drg,omitempty"` // 0: overall
	Title      string  `json:"title,omitempty"`
	Metric     string  `json:"metric"`
	Current    float64 `json:"current"`
	Baseline   float64 `json:"baseline"`
	Difference float64 `json:"difference"`
	Reason     string  `json:"reason"`
}

// CountCCMCC returns the number of secondary diagnoses of a grouping that counted as CC or
// MCC for its final DRG (final severity usage CC or MCC): the Discharge.CCMCCCount of the
// distribution report.
func CountCCMCC(r *grouper.Result) int {
	n := 0
	for i := range r.Dx {
		if r.Dx[i].Role == "pdx" {
			continue
		}
		if u := r.Dx[i].FinalSeverity; u == grouper.UsageCC || u == grouper.UsageMCC {
			n++
		}
	}
	return n
}

// distCell counts one family's discharges of one period.
type distCell struct {
	levels  [4]int // by levelOrder index
	single  int
	unknown int
}

// DistributionBuilder computes a DistributionReport from discharges added one at a time (not
// safe for concurrent use; Merge per-goroutine builders).
type DistributionBuilder struct {
	opt      DistributionOptions
	periods  []Period
	keys     []string
	index    map[string]int
	kr       keyer
	cells    map[int][]distCell // base DRG → per period
	families map[int]*Family    // base DRG → family (first seen)
	levels   map[int][]Level    // base DRG → levels seen in its members (union over versions)
	none     int
	outside  int
}

// NewDistributionBuilder checks the options and returns an empty builder.
func NewDistributionBuilder(opt DistributionOptions) (*DistributionBuilder, error) {
	if opt.Families == nil {
		return nil, errors.New("distribution report: no DRG families (grouper tables) given")
	}
	if opt.Filter.To.IsZero() {
		return nil, errors.New("distribution report: give the last discharge date of the current period")
	}
	if opt.Period == "" {
		opt.Period = ByQuarter
	}
	switch opt.Period {
	case ByMonth, ByQuarter, ByFiscalYear:
	default:
		return nil, fmt.Errorf("distribution report: period %q: want month, quarter or fy", opt.Period)
	}
	switch {
	case opt.History == 0:
		opt.History = 4
	case opt.History < 1 || opt.History > 40:
		return nil, fmt.Errorf("distribution report: history of %d periods: want 1 to 40", opt.History)
	}
	if opt.Threshold == 0 {
		opt.Threshold = 0.05
	}
	if opt.Threshold < 0 || opt.Threshold >= 1 {
		return nil, fmt.Errorf("distribution report: threshold %v: want a fraction between 0 and 1", opt.Threshold)
	}
	if opt.Percentile < 0 || opt.Percentile > 100 {
		return nil, fmt.Errorf("distribution report: percentile %v: want 1 to 100", opt.Percentile)
	}
	if opt.MinDischarges == 0 {
		opt.MinDischarges = 11
	}
	if opt.MinDischarges < 1 {
		return nil, fmt.Errorf("distribution report: min_discharges %d: want 1 or more", opt.MinDischarges)
	}
	b := &DistributionBuilder{opt: opt, index: map[string]int{}, cells: map[int][]distCell{},
		families: map[int]*Family{}, levels: map[int][]Level{}}
	b.periods, b.keys = periodSpans(opt.Period, opt.Filter.To, opt.History)
	for i, k := range b.keys {
		b.index[k] = i
	}
	b.opt.Filter.From = b.periods[0].From
	return b, nil
}

// Span returns the discharge dates the report covers: the first day of the first history
// period through the last day of the current period (Filter.To).
func (b *DistributionBuilder) Span() Period { return b.opt.Filter.Period }

// periodSpans returns the history periods and the current one (cut at to), oldest first, with
// their keys.
func periodSpans(dim Dimension, to claim.Date, history int) ([]Period, []string) {
	y, m := to.Year, int(to.Month)
	step := 1
	switch dim {
	case ByQuarter:
		m, step = (m-1)/3*3+1, 3
	case ByFiscalYear:
		if m < 10 {
			y--
		}
		m, step = 10, 12
	}
	start := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
	n := history + 1
	ps, ks := make([]Period, n), make([]string, n)
	for i := range n {
		s := start.AddDate(0, -step*(n-1-i), 0)
		e := s.AddDate(0, step, -1)
		ps[i] = Period{From: dateOf(s), To: dateOf(e)}
		ks[i] = periodKey(dim, s.Year(), int(s.Month()))
	}
	ps[n-1].To = to
	return ps, ks
}

// Distribution computes the report over ds.
func Distribution(ds []Discharge, opt DistributionOptions) (*DistributionReport, error) {
	b, err := NewDistributionBuilder(opt)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		b.Add(&ds[i])
	}
	return b.Report(), nil
}

// Add counts one discharge under its period and final DRG's family (Families.Lookup with the
// discharge's version). Its CCMCCCount tells whether it rests on a single CC/MCC.
func (b *DistributionBuilder) Add(d *Discharge) {
	if !b.opt.Filter.Match(d) {
		b.outside++
		return
	}
	pi, ok := b.index[b.kr.key(b.opt.Period, d)]
	if !ok {
		b.outside++
		return
	}
	f, lv, ok := b.opt.Families.Lookup(d.Version, d.DischargeDate, d.Final.DRG)
	if !ok {
		b.none++
		return
	}
	cs := b.cells[f.BaseDRG]
	if cs == nil {
		cs = make([]distCell, len(b.periods))
		b.cells[f.BaseDRG] = cs
		b.families[f.BaseDRG] = f
	}
	for _, m := range f.Members {
		if !slices.Contains(b.levels[f.BaseDRG], m.Level) {
			b.levels[f.BaseDRG] = append(b.levels[f.BaseDRG], m.Level)
		}
	}
	c := &cs[pi]
	c.levels[slices.Index(levelOrder, lv)]++
	if lv != LevelNone {
		switch {
		case d.CCMCCCount == nil:
			c.unknown++
		case *d.CCMCCCount == 1:
			c.single++
		}
	}
}

// Merge adds the counts of o (built with the same options).
func (b *DistributionBuilder) Merge(o *DistributionBuilder) {
	b.none += o.none
	b.outside += o.outside
	for base, ocs := range o.cells {
		cs := b.cells[base]
		if cs == nil {
			cs = make([]distCell, len(b.periods))
			b.cells[base] = cs
			b.families[base] = o.families[base]
		}
		for i := range ocs {
			for l := range ocs[i].levels {
				cs[i].levels[l] += ocs[i].levels[l]
			}
			cs[i].single += ocs[i].single
			cs[i].unknown += ocs[i].unknown
		}
		for _, lv := range o.levels[base] {
			if !slices.Contains(b.levels[base], lv) {
				b.levels[base] = append(b.levels[base], lv)
			}
		}
	}
}

// Report builds the report.
func (b *DistributionBuilder) Report() *DistributionReport {
	o := &b.opt
	r := &DistributionReport{Filter: o.Filter, Period: o.Period, Current: b.keys[len(b.keys)-1],
		History: slices.Clone(b.keys[:len(b.keys)-1]), Threshold: o.Threshold, Percentile: o.Percentile,
		MinDischarges: o.MinDischarges, NotInFamily: b.none, OutsideFilter: b.outside, Flags: []DistributionFlag{}}
	r.Baseline = "pooled share of the history periods"
	if o.Percentile > 0 {
		r.Baseline = fmt.Sprintf("%s percentile of the history periods' shares", ordinal(o.Percentile))
	}
	overall := make([]distCell, len(b.periods))
	var overallLevels []Level
	for _, base := range sortedKeys(b.cells) {
		cs := b.cells[base]
		f := b.families[base]
		row := b.row(base, f.Title, cs, b.levels[base])
		r.Families = append(r.Families, row)
		for i := range cs {
			for l := range cs[i].levels {
				overall[i].levels[l] += cs[i].levels[l]
			}
			overall[i].single += cs[i].single
			overall[i].unknown += cs[i].unknown
		}
		for _, lv := range b.levels[base] {
			if !slices.Contains(overallLevels, lv) {
				overallLevels = append(overallLevels, lv)
			}
		}
	}
	r.Overall = b.row(0, "", overall, overallLevels)
	last := len(b.periods) - 1
	slices.SortStableFunc(r.Families, func(a, c DistributionRow) int {
		return cmp.Or(c.Periods[last].Discharges-a.Periods[last].Discharges, a.BaseDRG-c.BaseDRG)
	})
	for _, row := range append([]DistributionRow{r.Overall}, r.Families...) {
		for _, m := range row.Comparisons {
			if m.Flagged {
				r.Flags = append(r.Flags, DistributionFlag{BaseDRG: row.BaseDRG, Title: row.Title, Metric: m.Metric,
					Current: m.Current, Baseline: *m.Baseline, Difference: *m.Difference, Reason: m.Reason})
			}
		}
	}
	return r
}

// row builds one family's (or the overall) periods and comparisons.
func (b *DistributionBuilder) row(base int, title string, cs []distCell, levels []Level) DistributionRow {
	slices.SortFunc(levels, func(a, c Level) int { return slices.Index(levelOrder, a) - slices.Index(levelOrder, c) })
	row := DistributionRow{BaseDRG: base, Title: title}
	for i, c := range cs {
		ps := PeriodShares{Period: b.keys[i], From: b.periods[i].From, To: b.periods[i].To, SingleCCMCC: c.single, UnknownCount: c.unknown}
		for l, n := range c.levels {
			ps.Discharges += n
			if levelOrder[l] != LevelNone {
				ps.WithCCMCC += n
			}
		}
		for _, lv := range levels {
			n := c.levels[slices.Index(levelOrder, lv)]
			ps.Levels = append(ps.Levels, LevelCount{Level: lv, Discharges: n, Share: round(ratio(float64(n), ps.Discharges), 4)})
		}
		ps.CCMCCShare = round(ratio(float64(ps.WithCCMCC), ps.Discharges), 4)
		ps.SingleCCMCCShare = round(ratio(float64(c.single), ps.WithCCMCC-c.unknown), 4)
		row.Periods = append(row.Periods, ps)
	}
	// The metrics: one per level, CC_OR_MCC, SINGLE_CC_MCC; each a numerator and a
	// denominator per period.
	type metric struct {
		name   string
		upward bool
		num    func(c distCell) int
		den    func(c distCell) int
	}
	total := func(c distCell) int { return c.levels[0] + c.levels[1] + c.levels[2] + c.levels[3] }
	above := func(c distCell) int { return c.levels[0] + c.levels[1] + c.levels[2] }
	var ms []metric
	for _, lv := range levels {
		li := slices.Index(levelOrder, lv)
		ms = append(ms, metric{string(lv), lv != LevelNone, func(c distCell) int { return c.levels[li] }, total})
	}
	ms = append(ms,
		metric{MetricCCOrMCC, true, above, total},
		metric{MetricSingleCCMCC, true, func(c distCell) int { return c.single }, func(c distCell) int { return above(c) - c.unknown }})
	last := len(cs) - 1
	for _, m := range ms {
		row.Comparisons = append(row.Comparisons, b.compare(m.name, m.upward, cs, last, m.num, m.den))
	}
	return row
}

// compare compares the current period's share of one metric with the history baseline.
func (b *DistributionBuilder) compare(name string, upward bool, cs []distCell, last int, num, den func(distCell) int) MetricComparison {
	o := &b.opt
	cur := cs[last]
	mc := MetricComparison{Metric: name, CurrentCount: num(cur), CurrentDenominator: den(cur)}
	mc.Current = round(ratio(float64(mc.CurrentCount), mc.CurrentDenominator), 4)
	var hn int
	var shares []float64
	for _, c := range cs[:last] {
		if d := den(c); d > 0 {
			mc.HistoryDenominator += d
			hn += num(c)
			shares = append(shares, float64(num(c))/float64(d))
			mc.HistoryPeriods++
		}
	}
	switch {
	case mc.CurrentDenominator < o.MinDischarges:
		mc.Reason = fmt.Sprintf("not compared: denominator %d in %s is below %d", mc.CurrentDenominator, b.keys[last], o.MinDischarges)
		return mc
	case mc.HistoryDenominator < o.MinDischarges:
		mc.Reason = fmt.Sprintf("not compared: denominator %d in the history is below %d", mc.HistoryDenominator, o.MinDischarges)
		return mc
	}
	base := float64(hn) / float64(mc.HistoryDenominator)
	if o.Percentile > 0 {
		base = percentile(shares, o.Percentile)
	}
	base = round(base, 4)
	diff := round(mc.Current-base, 4)
	mc.Baseline, mc.Difference = &base, &diff
	if upward && diff > o.Threshold+1e-9 {
		mc.Flagged = true
		mc.Reason = fmt.Sprintf("%s %s in %s (%d of %d) vs %s %s: %+.1f points, above the %.1f-point threshold",
			metricText(name), pct(mc.Current), b.keys[last], mc.CurrentCount, mc.CurrentDenominator,
			pct(base), b.baselineText(), 100*diff, 100*o.Threshold)
	}
	return mc
}

func (b *DistributionBuilder) baselineText() string {
	h := b.keys[:len(b.keys)-1]
	span := h[0]
	if len(h) > 1 {
		span += ".." + h[len(h)-1]
	}
	if b.opt.Percentile > 0 {
		return fmt.Sprintf("the %s percentile of %s", ordinal(b.opt.Percentile), span)
	}
	return "over " + span
}

func metricText(m string) string {
	switch m {
	case MetricCCOrMCC:
		return "share with CC or MCC"
	case MetricSingleCCMCC:
		return "share resting on a single CC/MCC"
	}
	return "share at " + m
}

// percentile returns the p-th percentile (0–100) of xs by linear interpolation between the
// closest ranks (xs not empty).
func percentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (pos-float64(lo))*(s[lo+1]-s[lo])
}

func ordinal(p float64) string {
	n := int(math.Round(p))
	if float64(n) != p {
		return fmt.Sprintf("%gth", p)
	}
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

var distributionCSVHeader = []string{"base_drg", "title", "period", "from", "to", "discharges", "metric", "count", "denominator", "share",
	"baseline", "difference", "flagged", "reason"}

// WriteCSV writes one row per family (base_drg "overall" first), period and metric; the rows
// of the current period carry the baseline, the difference and the flag.
func (r *DistributionReport) WriteCSV(w io.Writer) error {
	cw := newCSV(w, distributionCSVHeader)
	for _, row := range append([]DistributionRow{r.Overall}, r.Families...) {
		base := "overall"
		if row.BaseDRG != 0 {
			base = fmt.Sprintf("%03d", row.BaseDRG)
		}
		for i, p := range row.Periods {
			current := i == len(row.Periods)-1
			line := func(metric string, n, d int, share float64) {
				rec := []string{base, row.Title, p.Period, p.From.String(), p.To.String(), itoa(p.Discharges), metric, itoa(n), itoa(d), f4(share), "", "", "", ""}
				if current {
					for _, m := range row.Comparisons {
						if m.Metric == metric {
							if m.Baseline != nil {
								rec[10], rec[11] = f4(*m.Baseline), f4(*m.Difference)
							}
							rec[12], rec[13] = fmt.Sprint(m.Flagged), m.Reason
						}
					}
				}
				cw.row(rec...)
			}
			for _, l := range p.Levels {
				line(string(l.Level), l.Discharges, p.Discharges, l.Share)
			}
			line(MetricCCOrMCC, p.WithCCMCC, p.Discharges, p.CCMCCShare)
			line(MetricSingleCCMCC, p.SingleCCMCC, p.WithCCMCC-p.UnknownCount, p.SingleCCMCCShare)
		}
	}
	return cw.flush()
}

// WriteText writes the report for a terminal: the current period against the history per
// family, then the flags.
func (r *DistributionReport) WriteText(w io.Writer) error {
	t := newText(w)
	hist := "none"
	if len(r.History) > 0 {
		hist = r.History[0] + ".." + r.History[len(r.History)-1]
	}
	t.line("Severity distribution — %s against %s (baseline: %s; threshold %.1f points; at least %d discharges); %s",
		r.Current, hist, r.Baseline, 100*r.Threshold, r.MinDischarges, filterText(&r.Filter))
	tab := [][]string{{"family", "discharges", "metric", "current", "baseline", "Δ points", "flag"}}
	for _, row := range append([]DistributionRow{r.Overall}, r.Families...) {
		name := "overall"
		if row.BaseDRG != 0 {
			name = fmt.Sprintf("%03d %s", row.BaseDRG, clip(row.Title, 40))
		}
		n := itoa(row.Periods[len(row.Periods)-1].Discharges)
		for _, m := range row.Comparisons {
			base, diff, flag := "—", "—", ""
			if m.Baseline != nil {
				base, diff = pct(*m.Baseline), fmt.Sprintf("%+.1f", 100*(*m.Difference))
			}
			if m.Flagged {
				flag = "FLAG"
			}
			tab = append(tab, []string{name, n, m.Metric, pct(m.Current), base, diff, flag})
			name, n = "", ""
		}
	}
	t.table(tab)
	t.line("")
	for _, f := range r.Flags {
		name := "overall"
		if f.BaseDRG != 0 {
			name = fmt.Sprintf("%03d", f.BaseDRG)
		}
		t.line("%s: %s", name, f.Reason)
	}
	t.line("%d flags; %d discharges outside severity families", len(r.Flags), r.NotInFamily)
	return t.err
}
