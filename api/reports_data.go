package api

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/msdrg-cdi/drg/audit"
	"github.com/msdrg-cdi/drg/casemix"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/mce"
	"github.com/msdrg-cdi/drg/payment"
	"github.com/msdrg-cdi/drg/store"
	"github.com/msdrg-cdi/drg/tables"
)

// The data side of the reports: final-coded encounters of the store read page by page into
// casemix.Discharge values, with the CDI review reconstructed from the audit log when a
// report needs it.

// scanNeeds says what a report needs besides the final DRG.
type scanNeeds struct {
	cdi   bool // Baseline, Working, WorkingCoding, FinalCoding, Queries
	ccmcc bool // CCMCCCount (regroups the final codes)
}

// scanStats counts what the scan read.
type scanStats struct {
	discharges int
	regroupErr int // final codes that no longer group (CCMCCCount left unknown)
}

// reportPageSize is the number of encounters read per store query.
const reportPageSize = 500

// scanDischarges calls fn with every final-coded encounter discharged in span that passes the
// store-side part of flt (single-valued attributes; the casemix filter applies the rest).
func (s *Server) scanDischarges(ctx context.Context, flt casemix.Filter, span casemix.Period, needs scanNeeds, fn func(d *casemix.Discharge)) (scanStats, error) {
	var st scanStats
	sf := storeFilter(flt, span)
	sf.Status = store.StatusFinal
	var res grouper.Result
	err := s.cfg.Store.ScanEncounters(ctx, sf, reportPageSize, needs.cdi || needs.ccmcc, func(page []*store.Encounter) error {
		var changes map[string][]store.AuditEntry
		var queries map[string][]casemix.Query
		if needs.cdi {
			ids := make([]string, len(page))
			for i, e := range page {
				ids[i] = e.ID
			}
			var err error
			if changes, err = s.cfg.Store.EncounterChanges(ctx, ids); err != nil {
				return err
			}
			if queries, err = s.answeredQueries(ctx, ids); err != nil {
				return err
			}
		}
		for _, e := range page {
			if e.FinalDRG == nil {
				continue
			}
			d := dischargeOf(e)
			d.Payment = s.paymentFacts(e)
			if needs.cdi {
				if err := cdiReview(e, changes[e.ID], &d); err != nil {
					return err
				}
				d.Queries = queries[e.ID]
			}
			if needs.ccmcc && e.FinalCodes != nil {
				cl := e.Claim(e.FinalCodes)
				cl.Version = e.FinalDRG.Version
				if err := s.grouper.GroupInto(cl, grouper.Options{}, &res); err != nil {
					st.regroupErr++
				} else {
					n := casemix.CountCCMCC(&res)
					d.CCMCCCount = &n
				}
			}
			st.discharges++
			fn(&d)
		}
		return ctx.Err()
	})
	return st, err
}

// storeFilter pushes the discharge-date span and the attributes with exactly one accepted
// value down to the database.
func storeFilter(flt casemix.Filter, span casemix.Period) store.EncounterFilter {
	one := func(vs []string) string {
		if len(vs) == 1 {
			return vs[0]
		}
		return ""
	}
	return store.EncounterFilter{DischargedFrom: span.From, DischargedTo: span.To, Facility: one(flt.Facilities),
		Payer: one(flt.Payers), ServiceLine: one(flt.ServiceLines), Attending: one(flt.Providers)}
}

// paymentFacts returns the transfer facts of a discharged encounter for the CMI: the transfer
// kind of its discharge status (the catalog's status table) and the per-diem days of its
// length of stay (from length_of_stay, else admit and discharge dates).
func (s *Server) paymentFacts(e *store.Encounter) casemix.PaymentFacts {
	st := s.cfg.Catalog.Statuses
	if st == nil || e.DischargeStatus == nil {
		return casemix.PaymentFacts{}
	}
	kind, _, _ := st.Classify(*e.DischargeStatus, nil, e.DischargeDate)
	if kind == payment.None {
		return casemix.PaymentFacts{}
	}
	f := casemix.PaymentFacts{StatusTransfer: string(kind)}
	if los := e.Claim(&store.Codes{}).LengthOfStay; los != nil {
		f.PerDiemDays = payment.PerDiemDays(*los)
	}
	return f
}

// dischargeOf returns the report view of a final-coded encounter.
func dischargeOf(e *store.Encounter) casemix.Discharge {
	d := casemix.Discharge{ID: e.ID, DischargeDate: e.DischargeDate, Facility: e.Facility, Payer: e.Payer,
		ServiceLine: e.ServiceLine, Final: assignmentOf(e.FinalDRG)}
	if e.AttendingProvider != nil {
		d.Provider = e.AttendingProvider.ID
	}
	if e.FinalDRG != nil {
		d.Version = e.FinalDRG.Version
	}
	if e.FinalCodes != nil {
		d.FinalCoding = codingOf(e.FinalCodes)
	}
	return d
}

func assignmentOf(g *store.DRG) casemix.Assignment {
	if g == nil {
		return casemix.Assignment{}
	}
	return casemix.Assignment{DRG: g.DRG, MDC: g.MDC, Type: g.Type, Severity: g.Severity}
}

func codingOf(cs *store.Codes) *casemix.Coding {
	c := &casemix.Coding{}
	if cs.PDX != nil {
		c.PDX = &claim.Dx{Code: cs.PDX.Code, POA: cs.PDX.POA}
	}
	for _, d := range cs.SDX {
		c.SDX = append(c.SDX, claim.Dx{Code: d.Code, POA: d.POA})
	}
	for _, p := range cs.Procedures {
		c.Procedures = append(c.Procedures, claim.Proc{Code: p.Code, Date: p.Date})
	}
	return c
}

// cdiReview fills the CDI side of a discharge from the encounter's change history (the audit
// log): the encounter counts as CDI-reviewed when a CDI specialist set its working DRG (a
// grouping, or a query answer applied to the codes) before it was (last) finalized. Working is
// the working DRG the specialist's last such change left and WorkingCoding the working codes
// at that moment; Baseline is the encounter's baseline DRG (its first grouping). Encounters no
// CDI specialist grouped keep Baseline and Working nil (not reviewed). The CDI API's review
// records keep only the latest review, not the working DRG at the end of CDI work: the audit
// log is where that state is.
func cdiReview(e *store.Encounter, changes []store.AuditEntry, d *casemix.Discharge) error {
	last := len(changes)
	for i := len(changes) - 1; i >= 0; i-- {
		if changes[i].Action == "finalize" {
			last = i
			break
		}
	}
	k := -1
	for i := last - 1; i >= 0; i-- {
		if changes[i].ActorRole == store.RoleCDI && setsWorkingDRG(changes[i]) {
			k = i
			break
		}
	}
	if k < 0 {
		return nil
	}
	cur, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode encounter %s: %w", e.ID, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(cur, &fields); err != nil {
		return fmt.Errorf("decode encounter %s: %w", e.ID, err)
	}
	then, err := store.StateBefore(fields, changes[k+1:])
	if err != nil {
		return fmt.Errorf("encounter %s history: %w", e.ID, err)
	}
	b, _ := json.Marshal(then)
	var at store.Encounter
	if err := json.Unmarshal(b, &at); err != nil {
		return fmt.Errorf("encounter %s history: %w", e.ID, err)
	}
	if at.WorkingDRG == nil {
		return nil
	}
	w := assignmentOf(at.WorkingDRG)
	d.Working = &w
	d.WorkingCoding = codingOf(&at.Codes)
	base := w
	if e.BaselineDRG != nil {
		base = assignmentOf(e.BaselineDRG)
	}
	d.Baseline = &base
	return nil
}

// setsWorkingDRG reports whether an encounter change set its working DRG: a grouping, or a
// CDI query answer applied to the working codes (action query_answer).
func setsWorkingDRG(a store.AuditEntry) bool {
	if a.Action == "group" {
		return true
	}
	var after map[string]json.RawMessage
	if json.Unmarshal(a.After, &after) != nil {
		return false
	}
	_, ok := after["working_drg"]
	return ok
}

// answeredQueries returns the CDI queries of the encounters for the CDI impact report: every
// query sent (or asked verbally), answered when the provider's answer is recorded, with the
// working DRG just before and after the answer was applied (its effect) when recorded.
// Drafts never sent are not queries yet and are left out.
func (s *Server) answeredQueries(ctx context.Context, ids []string) (map[string][]casemix.Query, error) {
	qs, err := s.cfg.Store.EncounterQueries(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]casemix.Query, len(qs))
	for id, list := range qs {
		for _, q := range list {
			if q.SentAt.IsZero() && q.Verbal == nil && q.Answer == nil {
				continue
			}
			cq := casemix.Query{ID: q.ID, Answered: q.Answer != nil}
			if q.Author != nil {
				cq.Specialist = cmp.Or(q.Author.ID, q.Author.Name)
			}
			if q.Provider != nil {
				cq.Provider = cmp.Or(q.Provider.ID, q.Provider.Name)
			}
			if q.Effect != nil {
				cq.DRGBefore, cq.DRGAfter = q.Effect.DRGBefore, q.Effect.DRGAfter
			}
			out[id] = append(out[id], cq)
		}
	}
	return out, nil
}

var (
	familiesMu    sync.Mutex
	familiesCache = map[*tables.MSDRG]*casemix.Families{}
)

// families returns the severity families of the server's grouper tables, derived once.
func (s *Server) families() *casemix.Families {
	familiesMu.Lock()
	defer familiesMu.Unlock()
	m := s.cfg.Catalog.MSDRG
	f := familiesCache[m]
	if f == nil {
		f = casemix.DeriveFamilies(m)
		familiesCache[m] = f
	}
	return f
}

var defaultRiskRules = sync.OnceValue(audit.DefaultRiskRules)

// riskFlags computes the denial-risk flags of a claim with the default rules: it groups the
// claim (its version set), regroups it without each CC/MCC, weighs with the Table 5 of the
// version's fiscal year and runs the MCE for post-payment edits when its data is loaded.
func (s *Server) riskFlags(cl *claim.Claim) ([]audit.RiskFlag, *grouper.Result, error) {
	r, err := s.grouper.Group(cl, grouper.Options{})
	if err != nil {
		return nil, nil, err
	}
	in := audit.RiskInput{Claim: cl, Result: r,
		Regroup: func(c *claim.Claim) (*grouper.Result, error) { return s.grouper.Group(c, grouper.Options{}) }}
	if w, ok := s.cfg.Catalog.WeightsFor(tables.Version(r.Version)); ok {
		in.Weight = func(drg int) (float64, bool) {
			row, ok := w.Get(drg)
			return row.Weight, ok
		}
	}
	if s.proc.mceOnly != nil {
		for _, m := range s.proc.mceOnly.Record(cl).Messages {
			if m.Payment == mce.Postpayment && m.Counted && !slices.Contains(in.MCEPostPayment, m.Edit.String()) {
				in.MCEPostPayment = append(in.MCEPostPayment, m.Edit.String())
			}
		}
	}
	flags, err := defaultRiskRules().Flags(in)
	return flags, r, err
}
