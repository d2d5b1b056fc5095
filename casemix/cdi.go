package casemix

import (
	"cmp"
	"io"
	"math"
	"slices"
)

// CDIOptions configure the CDI impact report.
type CDIOptions struct {
	Filter   Filter
	Weights  Weights
	BaseRate float64
}

// CDIImpactReport compares the baseline, working and final DRG of reviewed encounters and
// attributes each encounter's weight change to its answered queries.
//
// All three DRGs of an encounter are weighed with the same table (the discharge's fiscal
// year, or the forced year), so the impact is the DRG shift alone. An encounter without a
// recorded working DRG is taken to have ended its review on the final DRG.
//
// Attribution rule: the encounter's change Δ = weight(final) − weight(baseline) is shared by
// its answered queries, so that the shares add up to exactly 100 % of Δ. Queries that record
// their own DRG move (Query.DRGBefore/DRGAfter) and moved the weight in the direction of Δ
// share it in proportion to their own weight deltas; queries that moved it the other way or
// not at all get 0 %. When no answered query has such a delta (not recorded, or Δ = 0), Δ is
// split equally among the answered queries. An encounter without an answered query
// contributes its Δ to UnattributedImpact.
type CDIImpactReport struct {
	Filter   Filter  `json:"filter"`
	Weights  string  `json:"weights"`
	BaseRate float64 `json:"base_rate,omitempty"`
	// Encounters counts the reviewed (baseline DRG set), weighted encounters.
	Encounters          int `json:"encounters"`
	WithAnsweredQueries int `json:"with_answered_queries"`
	Queries             int `json:"queries"`
	AnsweredQueries     int `json:"answered_queries"`
	DRGChanged          int `json:"drg_changed"` // baseline ≠ final
	// CMIs of the Encounters at baseline, working and final.
	BaselineCMI float64 `json:"baseline_cmi"`
	WorkingCMI  float64 `json:"working_cmi"`
	FinalCMI    float64 `json:"final_cmi"`
	// TotalImpact = Σ final − baseline = CDIImpact (working − baseline) + CodingImpact
	// (final − working) = AttributedImpact + UnattributedImpact.
	TotalImpact            float64 `json:"total_impact"`
	CDIImpact              float64 `json:"cdi_impact"`
	CodingImpact           float64 `json:"coding_impact"`
	AttributedImpact       float64 `json:"attributed_impact"`
	UnattributedImpact     float64 `json:"unattributed_impact"`
	MeanImpactPerQuery     float64 `json:"mean_impact_per_answered_query"`
	EstimatedPaymentImpact float64 `json:"estimated_payment_impact,omitempty"`
	// PerQuery lists every answered query with its share of its encounter's change.
	PerQuery     []QueryImpact `json:"per_query"`
	BySpecialist []ImpactGroup `json:"by_specialist"`
	ByProvider   []ImpactGroup `json:"by_provider"`
	// NotReviewed counts filtered discharges without a baseline DRG; Excluded reviewed ones
	// with a DRG that has no weight (keyed by that DRG) or an unloaded weights year.
	NotReviewed   int        `json:"not_reviewed"`
	Excluded      Exclusions `json:"excluded"`
	OutsideFilter int        `json:"outside_filter"`
}

// QueryImpact is the weight impact attributed to one answered query.
type QueryImpact struct {
	QueryID     string `json:"query_id"`
	EncounterID string `json:"encounter_id"`
	Specialist  string `json:"specialist,omitempty"`
	Provider    string `json:"provider,omitempty"`
	// OwnDelta is the query's own weight delta (DRGAfter − DRGBefore), when recorded.
	OwnDelta         *float64 `json:"own_delta,omitempty"`
	Share            float64  `json:"share"` // of the encounter's change, 0–1
	WeightImpact     float64  `json:"weight_impact"`
	EstimatedPayment float64  `json:"estimated_payment,omitempty"`
}

// ImpactGroup totals the attributed impact of one CDI specialist or provider. The provider
// of a query is the queried provider, or the attending provider when the query names none.
type ImpactGroup struct {
	Key              string  `json:"key"`
	Encounters       int     `json:"encounters"`
	AnsweredQueries  int     `json:"answered_queries"`
	WeightImpact     float64 `json:"weight_impact"`
	EstimatedPayment float64 `json:"estimated_payment,omitempty"`
}

// CDIImpactBuilder computes a CDIImpactReport from discharges added one at a time (not safe
// for concurrent use; Merge per-goroutine builders).
type CDIImpactBuilder struct {
	opt  CDIOptions
	r    CDIImpactReport
	sums struct{ base, work, fin, cdi, coding, attr, unattr float64 }
	spec map[string]*groupAcc
	prov map[string]*groupAcc
}

type groupAcc struct {
	encounters map[string]bool
	queries    int
	impact     float64
}

// NewCDIImpactBuilder checks the options and returns an empty builder.
func NewCDIImpactBuilder(opt CDIOptions) (*CDIImpactBuilder, error) {
	if err := opt.Filter.Validate(); err != nil {
		return nil, err
	}
	if err := opt.Weights.Validate(); err != nil {
		return nil, err
	}
	return &CDIImpactBuilder{opt: opt, spec: map[string]*groupAcc{}, prov: map[string]*groupAcc{}}, nil
}

// CDIImpact computes the report over ds.
func CDIImpact(ds []Discharge, opt CDIOptions) (*CDIImpactReport, error) {
	b, err := NewCDIImpactBuilder(opt)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		b.Add(&ds[i])
	}
	return b.Report(), nil
}

// Add accounts one discharge; d is not retained.
func (b *CDIImpactBuilder) Add(d *Discharge) {
	r := &b.r
	if !b.opt.Filter.Match(d) {
		r.OutsideFilter++
		return
	}
	if d.Baseline == nil {
		r.NotReviewed++
		return
	}
	working := d.Final
	if d.Working != nil {
		working = *d.Working
	}
	var w [3]float64
	g := weigher{b.opt.Weights, &r.Excluded}
	for i, drg := range [3]int{d.Baseline.DRG, working.DRG, d.Final.DRG} {
		var ok bool
		if w[i], ok = g.one(d.DischargeDate, drg); !ok {
			return
		}
	}
	r.Encounters++
	if d.Baseline.DRG != d.Final.DRG {
		r.DRGChanged++
	}
	s := &b.sums
	s.base += w[0]
	s.work += w[1]
	s.fin += w[2]
	s.cdi += w[1] - w[0]
	s.coding += w[2] - w[1]
	delta := w[2] - w[0]

	r.Queries += len(d.Queries)
	var answered []int
	for i := range d.Queries {
		if d.Queries[i].Answered {
			answered = append(answered, i)
		}
	}
	if len(answered) == 0 {
		s.unattr += delta
		return
	}
	r.WithAnsweredQueries++
	r.AnsweredQueries += len(answered)
	own := make([]*float64, len(answered))
	var eligible float64
	for j, qi := range answered {
		q := &d.Queries[qi]
		if q.DRGBefore == 0 || q.DRGAfter == 0 {
			continue
		}
		before, ok1 := b.opt.Weights.weightOf(d.DischargeDate, q.DRGBefore)
		after, ok2 := b.opt.Weights.weightOf(d.DischargeDate, q.DRGAfter)
		if ok1 && ok2 {
			x := after - before
			own[j] = &x
			if x*delta > 0 {
				eligible += math.Abs(x)
			}
		}
	}
	for j, qi := range answered {
		q := &d.Queries[qi]
		share := 1 / float64(len(answered))
		if eligible > 0 {
			share = 0
			if own[j] != nil && *own[j]*delta > 0 {
				share = math.Abs(*own[j]) / eligible
			}
		}
		impact := delta * share
		s.attr += impact
		prov := q.Provider
		if prov == "" {
			prov = d.Provider
		}
		qr := QueryImpact{QueryID: q.ID, EncounterID: d.ID, Specialist: q.Specialist, Provider: prov,
			Share: round(share, 4), WeightImpact: round(impact, 4), EstimatedPayment: payment(impact, b.opt.BaseRate)}
		if own[j] != nil {
			x := round(*own[j], 4)
			qr.OwnDelta = &x
		}
		r.PerQuery = append(r.PerQuery, qr)
		addGroup(b.spec, orNone(q.Specialist), d.ID, impact)
		addGroup(b.prov, orNone(prov), d.ID, impact)
	}
}

func addGroup(m map[string]*groupAcc, key, encounter string, impact float64) {
	g := m[key]
	if g == nil {
		g = &groupAcc{encounters: map[string]bool{}}
		m[key] = g
	}
	g.encounters[encounter] = true
	g.queries++
	g.impact += impact
}

// Merge adds what o accounted (built with the same options).
func (b *CDIImpactBuilder) Merge(o *CDIImpactBuilder) {
	r, x := &b.r, &o.r
	r.Encounters += x.Encounters
	r.WithAnsweredQueries += x.WithAnsweredQueries
	r.Queries += x.Queries
	r.AnsweredQueries += x.AnsweredQueries
	r.DRGChanged += x.DRGChanged
	r.NotReviewed += x.NotReviewed
	r.OutsideFilter += x.OutsideFilter
	r.Excluded.add(&x.Excluded)
	r.PerQuery = append(r.PerQuery, x.PerQuery...)
	s, t := &b.sums, &o.sums
	s.base += t.base
	s.work += t.work
	s.fin += t.fin
	s.cdi += t.cdi
	s.coding += t.coding
	s.attr += t.attr
	s.unattr += t.unattr
	for _, p := range [][2]map[string]*groupAcc{{b.spec, o.spec}, {b.prov, o.prov}} {
		for k, g := range p[1] {
			d := p[0][k]
			if d == nil {
				d = &groupAcc{encounters: map[string]bool{}}
				p[0][k] = d
			}
			for e := range g.encounters {
				d.encounters[e] = true
			}
			d.queries += g.queries
			d.impact += g.impact
		}
	}
}

// Report builds the report. Per-query rows are in encounter then query order; groups are
// by attributed impact, descending.
func (b *CDIImpactBuilder) Report() *CDIImpactReport {
	r := b.r
	r.Filter, r.Weights, r.BaseRate = b.opt.Filter, b.opt.Weights.Source(), b.opt.BaseRate
	s := &b.sums
	r.BaselineCMI = round(ratio(s.base, r.Encounters), 4)
	r.WorkingCMI = round(ratio(s.work, r.Encounters), 4)
	r.FinalCMI = round(ratio(s.fin, r.Encounters), 4)
	r.TotalImpact = round(s.fin-s.base, 4)
	r.CDIImpact = round(s.cdi, 4)
	r.CodingImpact = round(s.coding, 4)
	r.AttributedImpact = round(s.attr, 4)
	r.UnattributedImpact = round(s.unattr, 4)
	r.MeanImpactPerQuery = round(ratio(s.attr, r.AnsweredQueries), 4)
	r.EstimatedPaymentImpact = payment(s.fin-s.base, b.opt.BaseRate)
	r.PerQuery = slices.Clone(r.PerQuery)
	slices.SortStableFunc(r.PerQuery, func(a, c QueryImpact) int {
		return cmp.Or(cmp.Compare(a.EncounterID, c.EncounterID), cmp.Compare(a.QueryID, c.QueryID))
	})
	r.BySpecialist = b.groups(b.spec)
	r.ByProvider = b.groups(b.prov)
	return &r
}

func (b *CDIImpactBuilder) groups(m map[string]*groupAcc) []ImpactGroup {
	out := make([]ImpactGroup, 0, len(m))
	for _, k := range sortedStrings(m) {
		g := m[k]
		out = append(out, ImpactGroup{Key: k, Encounters: len(g.encounters), AnsweredQueries: g.queries,
			WeightImpact: round(g.impact, 4), EstimatedPayment: payment(g.impact, b.opt.BaseRate)})
	}
	slices.SortStableFunc(out, func(a, c ImpactGroup) int { return cmp.Compare(c.WeightImpact, a.WeightImpact) })
	return out
}

var cdiCSVHeader = []string{"section", "key", "encounter_id", "specialist", "provider", "encounters", "answered_queries",
	"own_delta", "share", "weight_impact", "estimated_payment"}

// WriteCSV writes the per-query rows (section "query"), then the specialist and provider
// totals (sections "specialist", "provider") and a "total" row.
func (r *CDIImpactReport) WriteCSV(w io.Writer) error {
	cw := newCSV(w, cdiCSVHeader)
	for _, q := range r.PerQuery {
		own := ""
		if q.OwnDelta != nil {
			own = f4(*q.OwnDelta)
		}
		cw.row("query", q.QueryID, q.EncounterID, q.Specialist, q.Provider, "", "", own, f4(q.Share), f4(q.WeightImpact), money(q.EstimatedPayment, r.BaseRate))
	}
	for _, s := range []struct {
		name string
		gs   []ImpactGroup
	}{{"specialist", r.BySpecialist}, {"provider", r.ByProvider}} {
		for _, g := range s.gs {
			cw.row(s.name, g.Key, "", "", "", itoa(g.Encounters), itoa(g.AnsweredQueries), "", "", f4(g.WeightImpact), money(g.EstimatedPayment, r.BaseRate))
		}
	}
	cw.row("total", "", "", "", "", itoa(r.Encounters), itoa(r.AnsweredQueries), "", "", f4(r.TotalImpact), money(r.EstimatedPaymentImpact, r.BaseRate))
	return cw.flush()
}

// WriteText writes the report for a terminal.
func (r *CDIImpactReport) WriteText(w io.Writer) error {
	t := newText(w)
	t.line("CDI impact — discharges %s; weights: %s", filterText(&r.Filter), r.Weights)
	t.line("%d reviewed encounters (%d with answered queries; %d queries, %d answered); DRG changed on %d", r.Encounters, r.WithAnsweredQueries, r.Queries, r.AnsweredQueries, r.DRGChanged)
	t.line("CMI baseline %s → working %s → final %s", f4(r.BaselineCMI), f4(r.WorkingCMI), f4(r.FinalCMI))
	t.line("Weight impact %s = CDI (working − baseline) %s + coding (final − working) %s", signed(r.TotalImpact), signed(r.CDIImpact), signed(r.CodingImpact))
	t.line("Attributed to answered queries %s (mean %s per answered query); unattributed %s", signed(r.AttributedImpact), signed(r.MeanImpactPerQuery), signed(r.UnattributedImpact))
	if r.BaseRate > 0 {
		t.line("Estimated payment impact %s at base rate %s (estimate: weight × base rate only)", moneyText(r.EstimatedPaymentImpact), moneyText(r.BaseRate))
	}
	for _, s := range []struct {
		name string
		gs   []ImpactGroup
	}{{"By CDI specialist", r.BySpecialist}, {"By provider", r.ByProvider}} {
		t.line("")
		t.line("%s", s.name)
		tab := [][]string{{"key", "encounters", "answered queries", "weight impact"}}
		for _, g := range s.gs {
			tab = append(tab, []string{g.Key, itoa(g.Encounters), itoa(g.AnsweredQueries), signed(g.WeightImpact)})
		}
		t.table(tab)
	}
	t.line("")
	if r.NotReviewed > 0 {
		t.line("%d discharges without a CDI baseline (not reviewed)", r.NotReviewed)
	}
	for _, n := range r.Excluded.Notes() {
		t.line("%s", n)
	}
	t.line("CDI impact %s over %d encounters", signed(r.TotalImpact), r.Encounters)
	return t.err
}
