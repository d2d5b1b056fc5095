package casemix

import (
	"fmt"
	"slices"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// Discharge is one discharge as the reports see it. The API layer fills it from its store
// (encounter, grouping results, CDI reviews); the CLI reads it from `drg group` output, whose
// records have the same field names (see ReadDischarges). Only the fields a report uses need
// to be set: CMI, DRG mix and severity need DischargeDate, Version and Final; the CDI reports
// also need Baseline, Working, the codings and Queries.
type Discharge struct {
	ID            string     `json:"id,omitempty"`
	DischargeDate claim.Date `json:"discharge_date,omitzero"`
	Facility      string     `json:"facility,omitempty"`
	Payer         string     `json:"payer,omitempty"`
	ServiceLine   string     `json:"service_line,omitempty"`
	// Provider is the attending provider's id. In records it is read from
	// "attending_provider" (an object {"id": …} as in the wire conventions, or a string).
	Provider string `json:"attending_provider,omitempty"`
	// Version is the grouper version of Final (431 = v43.1); it selects the severity families.
	Version int        `json:"version,omitempty"`
	Final   Assignment `json:"final"`

	// CDI review, when the encounter had one. Baseline is the DRG before CDI (the first
	// grouping of the coded record), Working the CDI specialist's working DRG at the end of the
	// review; Final above is the DRG the coder billed.
	Baseline      *Assignment `json:"baseline,omitempty"`
	Working       *Assignment `json:"working,omitempty"`
	WorkingCoding *Coding     `json:"working_coding,omitempty"` // the codes behind Working
	FinalCoding   *Coding     `json:"final_coding,omitempty"`   // the codes behind Final
	Queries       []Query     `json:"queries,omitempty"`

	// Payment is the transfer status of the discharge, as the grouping record's payment block
	// gives it; zero: not a transfer as far as known.
	Payment PaymentFacts `json:"payment,omitzero"`

	// CCMCCCount is the number of secondary diagnoses that counted as CC or MCC for the final
	// DRG (CountCCMCC of its grouping); nil when unknown. Only the distribution report uses it.
	CCMCCCount *int `json:"cc_mcc_count,omitempty"`
}

// PaymentFacts are the parts of a grouping record's payment block (package payment) that
// weigh a transfer: the transfer kind of the discharge status (acute, post_acute, none) and
// the per-diem days (max(LOS, 1) + 1; 0 when the length of stay is unknown). Whether a
// post-acute status is paid as a transfer, and the fraction, come from the flags and GMLOS of
// the Table 5 that weighs the discharge.
type PaymentFacts struct {
	StatusTransfer string `json:"status_transfer,omitempty"`
	PerDiemDays    int    `json:"per_diem_days,omitempty"`
}

// Assignment is one DRG assignment: a final grouping outcome, or a CDI baseline or working
// DRG. Type and Severity use the grouper's names (MEDICAL/SURGICAL/NONE; MCC/CC/NON_CC/NONE).
type Assignment struct {
	DRG      int    `json:"drg"`
	MDC      int    `json:"mdc"`
	Type     string `json:"type,omitempty"`
	Severity string `json:"severity,omitempty"`
}

// Coding is the code set behind an assignment; the mismatch report compares the working and
// the final coding.
type Coding struct {
	PDX        *claim.Dx    `json:"pdx,omitempty"`
	SDX        []claim.Dx   `json:"sdx,omitempty"`
	Procedures []claim.Proc `json:"procedures,omitempty"`
}

// Query is one CDI query of an encounter.
type Query struct {
	ID         string `json:"id,omitempty"`
	Specialist string `json:"specialist,omitempty"` // CDI specialist who issued it
	Provider   string `json:"provider,omitempty"`   // provider queried (id)
	Answered   bool   `json:"answered"`
	// DRGBefore and DRGAfter are the working DRG just before and just after the answer was
	// applied (0 = not recorded). They give the query's own weight delta, which weights its
	// share of the encounter's change (see CDIImpact).
	DRGBefore int `json:"drg_before,omitempty"`
	DRGAfter  int `json:"drg_after,omitempty"`
}

// Period is a range of discharge dates, both ends inclusive; a zero end is open.
type Period struct {
	From claim.Date `json:"from,omitzero"`
	To   claim.Date `json:"to,omitzero"`
}

// Contains reports whether d lies in the period. A discharge without a date is only in an
// unbounded period.
func (p Period) Contains(d claim.Date) bool {
	if p.From.IsZero() && p.To.IsZero() {
		return true
	}
	if d.IsZero() {
		return false
	}
	o := d.Ordinal()
	return (p.From.IsZero() || o >= p.From.Ordinal()) && (p.To.IsZero() || o <= p.To.Ordinal())
}

// IsZero reports whether the period is unbounded.
func (p Period) IsZero() bool { return p.From.IsZero() && p.To.IsZero() }

// Bounded reports whether both ends are set.
func (p Period) Bounded() bool { return !p.From.IsZero() && !p.To.IsZero() }

// String renders the period as "2026-04-01..2026-06-30" (an open end is empty).
func (p Period) String() string { return p.From.String() + ".." + p.To.String() }

// Prior returns the period of the same length just before p: whole calendar months shift by
// their number of months (2026-04-01..2026-06-30 → 2026-01-01..2026-03-31), any other range
// by its number of days. ok is false for a period without both ends or with From after To.
func (p Period) Prior() (prior Period, ok bool) {
	if !p.Bounded() || p.To.Before(p.From) {
		return Period{}, false
	}
	from, to := p.From.Time(), p.To.Time()
	if p.From.Day == 1 && to.AddDate(0, 0, 1).Day() == 1 {
		months := (p.To.Year-p.From.Year)*12 + int(p.To.Month-p.From.Month) + 1
		pf := from.AddDate(0, -months, 0)
		return Period{dateOf(pf), dateOf(from.AddDate(0, 0, -1))}, true
	}
	days := int(to.Sub(from).Hours()/24) + 1
	return Period{dateOf(from.AddDate(0, 0, -days)), dateOf(from.AddDate(0, 0, -1))}, true
}

func dateOf(t time.Time) claim.Date {
	return claim.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// Filter selects discharges: a discharge-date period and, for each attribute, the accepted
// values (empty: any). Every report takes one.
type Filter struct {
	Period
	Facilities   []string `json:"facilities,omitempty"`
	Payers       []string `json:"payers,omitempty"`
	ServiceLines []string `json:"service_lines,omitempty"`
	Providers    []string `json:"providers,omitempty"` // attending provider ids
}

// Match reports whether d passes the filter.
func (f *Filter) Match(d *Discharge) bool { return f.Contains(d.DischargeDate) && f.MatchAttrs(d) }

// MatchAttrs reports whether d passes the attribute part of the filter (all but the period).
func (f *Filter) MatchAttrs(d *Discharge) bool {
	return in(f.Facilities, d.Facility) && in(f.Payers, d.Payer) &&
		in(f.ServiceLines, d.ServiceLine) && in(f.Providers, d.Provider)
}

func in(list []string, s string) bool { return len(list) == 0 || slices.Contains(list, s) }

// Validate checks the period's order.
func (f *Filter) Validate() error {
	if f.Bounded() && f.To.Before(f.From) {
		return fmt.Errorf("discharge-date range %s ends before it starts", f.Period)
	}
	return nil
}
