package cdi

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// Worklist row statuses (the "status" filter).
const (
	RowEscalated     = "escalated"      // a query is escalated
	RowQueryOpen     = "query_open"     // a query is sent and unanswered
	RowAnswered      = "answered"       // a query is answered and not closed
	RowOpportunities = "opportunities"  // opportunities without a query
	RowNoOpportunity = "no_opportunity" // nothing to do
)

// WorklistRow is one open encounter on the CDI worklist.
type WorklistRow struct {
	EncounterID        string     `json:"encounter_id,omitempty"`
	Account            string     `json:"account"`
	Facility           string     `json:"facility,omitempty"`
	Unit               string     `json:"unit,omitempty"`
	Payer              string     `json:"payer,omitempty"`
	ServiceLine        string     `json:"service_line,omitempty"`
	Provider           string     `json:"provider,omitempty"` // attending provider id
	AdmitDate          claim.Date `json:"admit_date,omitzero"`
	DaysSinceAdmission int        `json:"days_since_admission"`
	WorkingDRG         int        `json:"working_drg,omitempty"`
	WorkingTitle       string     `json:"working_title,omitempty"`
	WorkingWeight      float64    `json:"working_weight,omitempty"`
	// Top is the open opportunity with the highest score (nil when none).
	Top *TopOpportunity `json:"top_opportunity,omitempty"`
	// Opportunities counts the open opportunities (not yet queried).
	Opportunities    int      `json:"opportunities"`
	Conditions       []string `json:"conditions,omitempty"`
	OpenQueries      int      `json:"open_queries"`
	EscalatedQueries int      `json:"escalated_queries"`
	Status           string   `json:"status"`
	Priority         float64  `json:"priority"`
}

// TopOpportunity summarizes a row's best opportunity.
type TopOpportunity struct {
	ID          string  `json:"id"`
	Kind        string  `json:"kind"`
	Condition   string  `json:"condition"`
	Code        string  `json:"code,omitempty"`
	DRGAfter    int     `json:"drg_after,omitempty"`
	WeightDelta float64 `json:"weight_delta"`
	HCCGained   int     `json:"hcc_gained,omitempty"`
	Strength    float64 `json:"strength"`
	NoImpact    string  `json:"no_impact,omitempty"`
}

// PriorityInput is what the worklist priority depends on.
type PriorityInput struct {
	// Open are the opportunities without a query on them.
	Open               []Opportunity
	DaysSinceAdmission int
	OpenQueries        int // sent, not answered
	EscalatedQueries   int
}

// opportunityValue is what an opportunity is worth before evidence strength: the relative
// weight at stake, 0.1 per CMS-HCC gained, and 0.05 so that compliance opportunities without
// DRG impact (POA, conflicts) still rank.
func opportunityValue(o *Opportunity) float64 {
	return math.Abs(o.Impact.WeightDelta) + 0.1*float64(len(o.Impact.HCCGained)) + 0.05
}

// Priority is the worklist priority of an encounter (higher first):
//
//	value(o)  = |Δ relative weight| + 0.10 × HCCs gained + 0.05
//	score(o)  = value(o) × strength(o)               strength in [0, 1)
//	base      = max score + 0.25 × Σ the other scores over the open opportunities
//	age       = 1 + min(days since admission, 10) / 10      (1.0 … 2.0)
//	queries   = 1.5 when a query is escalated, else 0.5 when a query awaits an answer, else 1
//	priority  = round(100 × base × age × queries) / 100
//
// Impact and evidence strength dominate; older stays rise (discharge nears); an encounter
// waiting on a provider's answer sinks unless its query is overdue and escalated.
func Priority(in PriorityInput) float64 {
	var best, sum float64
	for i := range in.Open {
		s := in.Open[i].score()
		sum += s
		best = max(best, s)
	}
	base := best + 0.25*(sum-best)
	age := 1 + float64(min(max(in.DaysSinceAdmission, 0), 10))/10
	q := 1.0
	switch {
	case in.EscalatedQueries > 0:
		q = 1.5
	case in.OpenQueries > 0:
		q = 0.5
	}
	return math.Round(100*base*age*q) / 100
}

// NewWorklistRow builds an encounter's worklist row from its latest review and its queries
// (every version; the latest version of each query counts). Opportunities with a query that
// is not closed are in progress and do not count as open.
func NewWorklistRow(enc *claim.Encounter, rev *Review, queries []Query, now time.Time) WorklistRow {
	row := WorklistRow{EncounterID: enc.ID, Account: enc.Account, Facility: enc.Facility, Unit: enc.Unit, Payer: enc.Payer,
		ServiceLine: enc.ServiceLine, AdmitDate: enc.AdmitDate}
	if enc.AttendingProvider != nil {
		row.Provider = enc.AttendingProvider.ID
	}
	if !enc.AdmitDate.IsZero() && !now.IsZero() {
		row.DaysSinceAdmission = max(0, int(now.Sub(enc.AdmitDate.Time()).Hours()/24))
	}
	if rev != nil && rev.Working != nil {
		row.WorkingDRG, row.WorkingTitle, row.WorkingWeight = rev.Working.DRG, rev.Working.Title, rev.Working.Weight
	}
	queried := map[string]bool{}
	answered := 0
	for _, q := range latestVersions(queries) {
		switch q.State {
		case StateSent:
			row.OpenQueries++
		case StateEscalated:
			row.EscalatedQueries++
		case StateAnswered:
			answered++
		}
		if q.State != StateClosed || q.Answer != nil {
			queried[q.OpportunityID] = true
		}
	}
	var open []Opportunity
	if rev != nil {
		for _, o := range rev.Opportunities {
			if !queried[o.ID] {
				open = append(open, o)
				if !slices.Contains(row.Conditions, o.Condition) {
					row.Conditions = append(row.Conditions, o.Condition)
				}
			}
		}
	}
	row.Opportunities = len(open)
	if len(open) > 0 {
		top := &open[0]
		for i := range open {
			if open[i].score() > top.score() {
				top = &open[i]
			}
		}
		t := &TopOpportunity{ID: top.ID, Kind: top.Kind, Condition: top.Condition, DRGAfter: top.Impact.DRGAfter,
			WeightDelta: top.Impact.WeightDelta, HCCGained: len(top.Impact.HCCGained), Strength: top.Strength, NoImpact: top.Impact.NoImpact}
		if len(top.Candidates) > 0 {
			t.Code = top.Candidates[0].Code
		}
		row.Top = t
	}
	switch {
	case row.EscalatedQueries > 0:
		row.Status = RowEscalated
	case row.OpenQueries > 0:
		row.Status = RowQueryOpen
	case answered > 0:
		row.Status = RowAnswered
	case len(open) > 0:
		row.Status = RowOpportunities
	default:
		row.Status = RowNoOpportunity
	}
	row.Priority = Priority(PriorityInput{Open: open, DaysSinceAdmission: row.DaysSinceAdmission,
		OpenQueries: row.OpenQueries, EscalatedQueries: row.EscalatedQueries})
	return row
}

// newer reports whether record a is a later state of a query than b: a higher version, or
// the same version further along its audit trail (records of one version at several steps).
func newer(a, b *Query) bool {
	return a.Version > b.Version || a.Version == b.Version && len(a.Audit) > len(b.Audit)
}

// latestVersions keeps the latest record of each query id.
func latestVersions(qs []Query) []Query {
	idx := map[string]int{}
	var out []Query
	for _, q := range qs {
		if i, ok := idx[q.ID]; ok {
			if newer(&q, &out[i]) {
				out[i] = q
			}
			continue
		}
		idx[q.ID] = len(out)
		out = append(out, q)
	}
	return out
}

// WorklistFilter selects worklist rows; empty fields match everything. Condition matches a
// row with an open opportunity whose condition contains the text (case-insensitive).
type WorklistFilter struct {
	Facility  string `json:"facility,omitempty"`
	Unit      string `json:"unit,omitempty"`
	Payer     string `json:"payer,omitempty"`
	Provider  string `json:"provider,omitempty"`
	Condition string `json:"condition,omitempty"`
	Status    string `json:"status,omitempty"`
}

// Match reports whether a row passes the filter.
func (f WorklistFilter) Match(r *WorklistRow) bool {
	eq := func(want, got string) bool { return want == "" || strings.EqualFold(want, got) }
	if !eq(f.Facility, r.Facility) || !eq(f.Unit, r.Unit) || !eq(f.Payer, r.Payer) || !eq(f.Provider, r.Provider) || !eq(f.Status, r.Status) {
		return false
	}
	if f.Condition == "" {
		return true
	}
	want := strings.ToLower(f.Condition)
	return slices.ContainsFunc(r.Conditions, func(c string) bool { return strings.Contains(strings.ToLower(c), want) })
}

// Worklist filters rows and orders them by priority (highest first), then days since
// admission (longest first), then account. The caller pages the result.
func Worklist(rows []WorklistRow, f WorklistFilter) []WorklistRow {
	var out []WorklistRow
	for i := range rows {
		if f.Match(&rows[i]) {
			out = append(out, rows[i])
		}
	}
	slices.SortStableFunc(out, func(a, b WorklistRow) int {
		if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
			return c
		}
		if c := cmp.Compare(b.DaysSinceAdmission, a.DaysSinceAdmission); c != 0 {
			return c
		}
		return strings.Compare(a.Account, b.Account)
	})
	return out
}
