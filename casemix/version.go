package casemix

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/tables"
)

// VersionImpactOptions configure the version impact report: what regrouping a population of
// discharges under grouper version To instead of From does to the DRGs and the CMI, both
// weighed with one Table 5.
type VersionImpactOptions struct {
	From, To tables.Version
	// Weights is the one table both versions' DRGs are weighed with.
	Weights *tables.Weights
	// Period restricts the discharges by discharge date (claims carry no facility or payer).
	Period   Period
	Top      int // number of DRG shifts listed (default 20)
	BaseRate float64
	Titles   func(drg int) string
	// Grouping are the grouper options of both runs (zero: CMS defaults).
	Grouping grouper.Options
}

// VersionImpactReport is the effect of a grouper version change on one population.
type VersionImpactReport struct {
	From        string  `json:"from_version"` // "42.1"
	To          string  `json:"to_version"`
	WeightsYear int     `json:"weights_year"`
	BaseRate    float64 `json:"base_rate,omitempty"`
	Period      Period  `json:"period"`
	Discharges  int     `json:"discharges"`
	// Changed counts the discharges whose final DRG differs between the versions.
	Changed      int         `json:"changed"`
	ChangedShare float64     `json:"changed_share"`
	FromSide     VersionSide `json:"from"`
	ToSide       VersionSide `json:"to"`
	// CMIChange is To's CMI minus From's; CMIChangePct relative to From's.
	CMIChange    float64 `json:"cmi_change"`
	CMIChangePct float64 `json:"cmi_change_pct"`
	// WeightChange is Σ weight(To DRG) − weight(From DRG) over the discharges weighted under
	// both versions.
	WeightChange           float64 `json:"weight_change"`
	EstimatedPaymentChange float64 `json:"estimated_payment_change,omitempty"`
	// Shifts lists the most frequent DRG changes (From DRG → To DRG), by discharges.
	Shifts        []DRGShift `json:"shifts"`
	OutsidePeriod int        `json:"outside_period"`
}

// VersionSide is the CMI of the population under one version; NoWeight counts discharges by
// DRG that have no weight in the table (998, 999, or DRGs the table's year does not have).
type VersionSide struct {
	Discharges  int         `json:"discharges"`
	TotalWeight float64     `json:"total_weight"`
	CMI         float64     `json:"cmi"`
	NoWeight    map[int]int `json:"no_weight,omitempty"`
}

// DRGShift is one DRG change and its weight effect.
type DRGShift struct {
	FromDRG    int    `json:"from_drg"`
	FromTitle  string `json:"from_title,omitempty"`
	ToDRG      int    `json:"to_drg"`
	ToTitle    string `json:"to_title,omitempty"`
	Discharges int    `json:"discharges"`
	// WeightChangeEach is weight(To) − weight(From) of one discharge; null when either has no
	// weight. WeightChange is that times Discharges.
	WeightChangeEach *float64 `json:"weight_change_each"`
	WeightChange     float64  `json:"weight_change"`
}

// VersionImpactBuilder accumulates DRG pairs (not safe for concurrent use; Merge
// per-goroutine builders).
type VersionImpactBuilder struct {
	opt     VersionImpactOptions
	pairs   map[[2]int16]int
	outside int
	res     [2]grouper.Result // scratch of Group
}

// NewVersionImpactBuilder checks the options and returns an empty builder.
func NewVersionImpactBuilder(opt VersionImpactOptions) (*VersionImpactBuilder, error) {
	if opt.From == 0 || opt.To == 0 {
		return nil, errors.New("version impact: give both grouper versions")
	}
	if opt.Weights == nil {
		return nil, errors.New("version impact: no Table 5 weights given")
	}
	if opt.Period.Bounded() && opt.Period.To.Before(opt.Period.From) {
		return nil, fmt.Errorf("discharge-date range %s ends before it starts", opt.Period)
	}
	if opt.Top <= 0 {
		opt.Top = 20
	}
	return &VersionImpactBuilder{opt: opt, pairs: map[[2]int16]int{}}, nil
}

// Add counts one discharge grouped to from under the From version and to under To.
func (b *VersionImpactBuilder) Add(from, to Assignment) {
	b.pairs[[2]int16{drgIndex(from.DRG), drgIndex(to.DRG)}]++
}

// Group regroups claim c under both versions with eng and adds the pair; a claim outside
// the period is only counted. c is not modified. The engine may be shared by the builders of
// several goroutines.
func (b *VersionImpactBuilder) Group(eng *grouper.Engine, c *claim.Claim) error {
	if !b.opt.Period.Contains(c.DischargeDate) {
		b.outside++
		return nil
	}
	cc := *c
	for i, v := range [2]tables.Version{b.opt.From, b.opt.To} {
		cc.Version = int(v)
		if err := eng.GroupInto(&cc, b.opt.Grouping, &b.res[i]); err != nil {
			return fmt.Errorf("group with v%s: %w", v, err)
		}
	}
	b.Add(Assignment{DRG: b.res[0].Final.DRG}, Assignment{DRG: b.res[1].Final.DRG})
	return nil
}

// Merge adds the pairs of o (built with the same options).
func (b *VersionImpactBuilder) Merge(o *VersionImpactBuilder) {
	b.outside += o.outside
	for k, n := range o.pairs {
		b.pairs[k] += n
	}
}

// Report builds the report.
func (b *VersionImpactBuilder) Report() *VersionImpactReport {
	o := &b.opt
	r := &VersionImpactReport{From: o.From.String(), To: o.To.String(), WeightsYear: o.Weights.FiscalYear,
		BaseRate: o.BaseRate, Period: o.Period, OutsidePeriod: b.outside}
	keys := make([][2]int16, 0, len(b.pairs))
	for k := range b.pairs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, c [2]int16) int { return cmp.Or(int(a[0])-int(c[0]), int(a[1])-int(c[1])) })
	var wFrom, wTo, change float64
	side := func(s *VersionSide, drg int16, n int, sum *float64) (float64, bool) {
		row, ok := o.Weights.Get(int(drg))
		if !ok {
			if s.NoWeight == nil {
				s.NoWeight = map[int]int{}
			}
			s.NoWeight[int(drg)] += n
			return 0, false
		}
		s.Discharges += n
		*sum += row.Weight * float64(n)
		return row.Weight, true
	}
	for _, k := range keys {
		n := b.pairs[k]
		r.Discharges += n
		a, okA := side(&r.FromSide, k[0], n, &wFrom)
		z, okZ := side(&r.ToSide, k[1], n, &wTo)
		if k[0] == k[1] {
			continue
		}
		r.Changed += n
		s := DRGShift{FromDRG: int(k[0]), ToDRG: int(k[1]), Discharges: n}
		if okA && okZ {
			each := round(z-a, 4)
			s.WeightChangeEach = &each
			s.WeightChange = round((z-a)*float64(n), 4)
			change += (z - a) * float64(n)
		}
		if o.Titles != nil {
			s.FromTitle, s.ToTitle = o.Titles(s.FromDRG), o.Titles(s.ToDRG)
		}
		r.Shifts = append(r.Shifts, s)
	}
	slices.SortStableFunc(r.Shifts, func(a, c DRGShift) int { return c.Discharges - a.Discharges })
	if len(r.Shifts) > o.Top {
		r.Shifts = r.Shifts[:o.Top]
	}
	r.ChangedShare = round(ratio(float64(r.Changed), r.Discharges), 4)
	r.FromSide.TotalWeight, r.FromSide.CMI = round(wFrom, 4), round(ratio(wFrom, r.FromSide.Discharges), 4)
	r.ToSide.TotalWeight, r.ToSide.CMI = round(wTo, 4), round(ratio(wTo, r.ToSide.Discharges), 4)
	cmiFrom, cmiTo := ratio(wFrom, r.FromSide.Discharges), ratio(wTo, r.ToSide.Discharges)
	r.CMIChange = round(cmiTo-cmiFrom, 4)
	if cmiFrom != 0 {
		r.CMIChangePct = round((cmiTo-cmiFrom)/cmiFrom, 4)
	}
	r.WeightChange = round(change, 4)
	r.EstimatedPaymentChange = payment(change, o.BaseRate)
	return r
}

var versionCSVHeader = []string{"from_drg", "from_title", "to_drg", "to_title", "discharges", "weight_change_each", "weight_change"}

// WriteCSV writes the DRG shifts, then a summary row with from_drg "all".
func (r *VersionImpactReport) WriteCSV(w io.Writer) error {
	cw := newCSV(w, versionCSVHeader)
	for _, s := range r.Shifts {
		each := ""
		if s.WeightChangeEach != nil {
			each = f4(*s.WeightChangeEach)
		}
		cw.row(fmt.Sprintf("%03d", s.FromDRG), s.FromTitle, fmt.Sprintf("%03d", s.ToDRG), s.ToTitle, itoa(s.Discharges), each, f4(s.WeightChange))
	}
	cw.row("all", "", "all", "", itoa(r.Discharges), "", f4(r.WeightChange))
	return cw.flush()
}

// WriteText writes the report for a terminal.
func (r *VersionImpactReport) WriteText(w io.Writer) error {
	t := newText(w)
	t.line("Version impact v%s → v%s, both weighed with Table 5 FY%d; discharges %s", r.From, r.To, r.WeightsYear, filterText(&Filter{Period: r.Period}))
	t.line("%d discharges; %d (%s) change DRG", r.Discharges, r.Changed, pct(r.ChangedShare))
	if len(r.Shifts) > 0 {
		t.line("")
		tab := [][]string{{"from", "to", "discharges", "Δ weight each", "Δ weight"}}
		for _, s := range r.Shifts {
			each := "—"
			if s.WeightChangeEach != nil {
				each = signed(*s.WeightChangeEach)
			}
			tab = append(tab, []string{fmt.Sprintf("%03d %s", s.FromDRG, clip(s.FromTitle, 40)), fmt.Sprintf("%03d %s", s.ToDRG, clip(s.ToTitle, 40)),
				itoa(s.Discharges), each, signed(s.WeightChange)})
		}
		t.table(tab)
	}
	t.line("")
	for _, s := range []struct {
		v    string
		side *VersionSide
	}{{r.From, &r.FromSide}, {r.To, &r.ToSide}} {
		if n := len(s.side.NoWeight); n > 0 {
			ex := Exclusions{NoWeight: s.side.NoWeight}
			t.line("v%s: %s", s.v, ex.Notes()[0])
		}
		t.line("v%s: CMI %s over %d discharges (total weight %s)", s.v, f4(s.side.CMI), s.side.Discharges, f4(s.side.TotalWeight))
	}
	if r.BaseRate > 0 {
		t.line("Estimated payment change %s (weight × base rate %s)", moneyText(r.EstimatedPaymentChange), moneyText(r.BaseRate))
	}
	t.line("CMI change %s (%s), weight change %s", signed(r.CMIChange), pct(r.CMIChangePct), signed(r.WeightChange))
	return t.err
}
