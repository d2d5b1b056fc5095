package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/audit"
	"github.com/msdrg-cdi/drg/cacsvc"
	"github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/mce"
	"github.com/msdrg-cdi/drg/store"
	"github.com/msdrg-cdi/drg/tables"
)

// CDIReview is the answer of POST/GET /v1/encounters/{id}/review: the engine's review of the
// encounter, its denial-risk flags and the clinical validation of its coded diagnoses.
type CDIReview struct {
	EncounterID         string    `json:"encounter_id"`
	EncounterRowVersion int       `json:"encounter_row_version"`
	ReviewedAt          time.Time `json:"reviewed_at"`
	ReviewedBy          string    `json:"reviewed_by"`
	// Stale: the encounter changed after the review.
	Stale      bool              `json:"stale"`
	Review     *cdi.Review       `json:"review"`
	RiskFlags  []audit.RiskFlag  `json:"risk_flags"`
	Validation *ValidationReport `json:"validation"`
}

// reviewSummary is what the worklist reads of a stored review.
type reviewSummary struct {
	Review      *cdi.Review      `json:"review"` // without rule results, indicators, documentation and query plans
	RiskFlags   []audit.RiskFlag `json:"risk_flags"`
	Unsupported int              `json:"unsupported"`
}

// Validation statuses of a coded diagnosis.
const (
	ValidationSupported    = "supported"     // the condition rules' criteria hold
	ValidationUnsupported  = "unsupported"   // a rule's criteria do not hold: a clinical validation opportunity
	ValidationNotValidated = "not_validated" // no enabled condition rule validates this code
)

// ValidationReport is the clinical validation of an encounter's coded principal diagnosis and
// CC/MCC secondary diagnoses against the CDI engine's condition rules.
type ValidationReport struct {
	Version       int                 `json:"version"`
	WorkingDRG    int                 `json:"working_drg,omitempty"`
	WorkingWeight float64             `json:"working_weight,omitempty"`
	Findings      []ValidationFinding `json:"findings"`
	Supported     int                 `json:"supported"`
	Unsupported   int                 `json:"unsupported"`
	NotValidated  int                 `json:"not_validated"`
	// The unsupported findings by evidence: contradicted by the record, partly supported with
	// the rest absent, or with no evidence of the kinds the criteria need.
	Contradicted int `json:"contradicted"`
	Insufficient int `json:"insufficient"`
	NoEvidence   int `json:"no_evidence"`
	// Warnings say what the grouping left out (secondary diagnoses past the 24th, procedures
	// past the 25th): those codes are not validated, as they do not count.
	Warnings []string `json:"warnings,omitempty"`
}

// ValidationFinding is the clinical validation of one coded diagnosis.
type ValidationFinding struct {
	Code  string `json:"code"`
	Title string `json:"title,omitempty"`
	Role  string `json:"role"`  // pdx or sdx
	Level string `json:"level"` // the code's own level: MCC, CC, NCC
	// Status: supported, unsupported or not_validated.
	Status string `json:"status"`
	// Evidence tells, for an unsupported finding, what the record holds against the criteria:
	// contradicted (values present and against them), insufficient (the values present meet
	// part of them, the rest is absent) or no_evidence (none of the data they need: no
	// evidence available, and no validation query, which would have nothing to cite).
	Evidence  string   `json:"evidence,omitempty"`
	Rules     []string `json:"rules,omitempty"`
	Condition string   `json:"condition,omitempty"`
	Explain   string   `json:"explain"`
	// Missing are the criteria's indicators with no fact in the record; Contradicting those
	// whose closest facts do not meet the threshold (with those facts). Only for unsupported
	// findings.
	Missing       []IndicatorFinding `json:"missing,omitempty"`
	Contradicting []IndicatorFinding `json:"contradicting,omitempty"`
	// The DRG and weight without the code (regrouped); Depends when the DRG changes.
	DRGWithout    int     `json:"drg_without,omitempty"`
	TitleWithout  string  `json:"title_without,omitempty"`
	WeightWithout float64 `json:"weight_without,omitempty"`
	WeightDelta   float64 `json:"weight_delta"`
	Depends       bool    `json:"depends"`
	// OpportunityID is the clinical validation opportunity to query (POST
	// /v1/encounters/{id}/queries), and Query the draft it generates (it passes the linter).
	OpportunityID string            `json:"opportunity_id,omitempty"`
	Query         *cdi.QueryContent `json:"query,omitempty"`
	// NoQuery says why an unsupported finding has no query to propose.
	NoQuery string `json:"no_query,omitempty"`
}

// IndicatorFinding is one indicator of a rule's criteria with the facts found.
type IndicatorFinding struct {
	ID    string   `json:"id"`
	Label string   `json:"label"`
	Facts []string `json:"facts,omitempty"`
}

// reviewed is everything a review computes.
type reviewed struct {
	rev        *cdi.Review
	flags      []audit.RiskFlag
	validation *ValidationReport
}

// review runs the engine, the risk rules and the clinical validation on a stored encounter.
func (h *cdiService) review(e *store.Encounter, who string) (*reviewed, error) {
	enc := e.ClaimEncounter()
	enc.ID = e.ID
	// what the notes state (an echo's ejection fraction, a year of eGFR in a progress note)
	// is evidence the rules cite, quoted with the note and its span
	enc.Evidence = append(slices.Clone(enc.Evidence), cacsvc.NoteEvidence(&enc)...)
	now := h.s.cfg.Now()
	rev, err := h.eng.Review(&enc, cdi.ReviewOptions{Now: now})
	if err != nil {
		var uv *grouper.UnknownVersionError
		if errors.As(err, &uv) {
			return nil, &claim.FieldError{Field: "version", Message: err.Error()}
		}
		return nil, err
	}
	out := &reviewed{rev: rev, flags: []audit.RiskFlag{}}
	v := tables.Version(rev.Version)
	cl := e.Claim(nil)
	cl.Version = rev.Version
	if cl.DischargeStatus == nil {
		home := 1 // in house: grouped as discharged home, as the review does
		cl.DischargeStatus = &home
	}
	cl.Normalize()
	weight := func(drg int) (float64, bool) {
		ws, ok := h.s.cfg.Catalog.WeightsFor(v)
		if !ok {
			return 0, false
		}
		row, ok := ws.Get(drg)
		return row.Weight, ok
	}
	regroup := func(c *claim.Claim) (*grouper.Result, error) { return h.s.grouper.Group(c, grouper.Options{}) }
	var res *grouper.Result
	if cl.PDX != nil && cl.PDX.Code != "" {
		if res, err = regroup(cl); err != nil {
			return nil, err
		}
		flags, err := h.risk.Flags(audit.RiskInput{Claim: cl, Result: res, Regroup: regroup, Weight: weight, MCEPostPayment: h.postPayment(cl)})
		if err != nil {
			return nil, err
		}
		if flags != nil {
			out.flags = flags
		}
	}
	out.validation = h.validate(e, &enc, rev, cl, res, regroup, weight, who)
	return out, nil
}

// postPayment returns the MCE post-payment edits of a discharged claim (none in house or
// without MCE data).
func (h *cdiService) postPayment(cl *claim.Claim) []string {
	if cl.DischargeDate.IsZero() {
		return nil
	}
	data, err := h.s.cfg.Catalog.MCE()
	if err != nil {
		return nil
	}
	r := mce.Edit(data, cl, mce.Options{})
	var out []string
	for i := 1; i < int(mce.NumEdits); i++ {
		if id := mce.EditID(i); r.Counts[i] > 0 && id.Payment() == mce.Postpayment {
			out = append(out, id.String())
		}
	}
	return out
}

// validate classifies the coded principal diagnosis and every CC/MCC secondary diagnosis.
func (h *cdiService) validate(e *store.Encounter, enc *claim.Encounter, rev *cdi.Review, cl *claim.Claim, res *grouper.Result,
	regroup func(*claim.Claim) (*grouper.Result, error), weight func(int) (float64, bool), who string) *ValidationReport {
	rep := &ValidationReport{Version: rev.Version, Findings: []ValidationFinding{}}
	if res == nil {
		return rep
	}
	rep.WorkingDRG = res.Final.DRG
	rep.WorkingWeight, _ = weight(res.Final.DRG)
	for _, w := range res.Warnings {
		rep.Warnings = append(rep.Warnings, w.Message)
	}
	// res describes the claim as grouped: its diagnoses pair with the grouped claim's, and
	// a code is weighed without changing what else the claim carries.
	cl = cl.Grouped()
	rules := h.eng.Rules().ForFacility(e.Facility)
	results := map[string]*cdi.RuleResult{}
	for i := range rev.Rules {
		results[rev.Rules[i].Rule] = &rev.Rules[i]
	}
	opps := map[string]*cdi.Opportunity{}
	for i := range rev.Opportunities {
		opps[rev.Opportunities[i].ID] = &rev.Opportunities[i]
	}
	titles, _ := h.s.cfg.Catalog.TitlesFor(tables.ICD10CM, tables.Version(rev.Version))
	for i := range res.Dx {
		d := &res.Dx[i]
		if d.Role == "sdx" && d.Severity != "MCC" && d.Severity != "CC" {
			continue
		}
		f := ValidationFinding{Code: d.Code, Role: d.Role, Level: d.Severity}
		if titles != nil {
			if t, ok := titles.Get(d.Code); ok {
				f.Title = t.Long
			}
		}
		without, ok := withoutCode(cl, i)
		if ok {
			if r2, err := regroup(without); err == nil {
				f.DRGWithout, f.TitleWithout = r2.Final.DRG, r2.Final.DRGTitle
				f.Depends = r2.Final.DRG != res.Final.DRG
				wb, okB := weight(res.Final.DRG)
				wa, okA := weight(r2.Final.DRG)
				if okA && okB {
					f.WeightWithout, f.WeightDelta = wa, math.Round((wa-wb)*10000)/10000
				}
			}
		}
		h.classify(&f, rules, results, opps)
		if f.OpportunityID != "" {
			if o := opps[f.OpportunityID]; o != nil {
				q, err := cdi.GenerateQuery(o, cdi.GenerateOptions{ID: "preview", EncounterID: e.ID, Account: e.Account, AdmitDate: e.AdmitDate,
					PDXTitle: pdxTitle(rev), Author: &cdi.Provider{ID: who}, Provider: e.AttendingProvider, Now: h.now()})
				if err == nil {
					f.Query = &q.QueryContent
				} else {
					f.NoQuery = err.Error()
				}
			}
		}
		switch f.Status {
		case ValidationSupported:
			rep.Supported++
		case ValidationUnsupported:
			rep.Unsupported++
			switch f.Evidence {
			case cdi.ValidationContradicted:
				rep.Contradicted++
			case cdi.ValidationInsufficient:
				rep.Insufficient++
			case cdi.ValidationNoEvidence:
				rep.NoEvidence++
			}
		default:
			rep.NotValidated++
		}
		rep.Findings = append(rep.Findings, f)
	}
	return rep
}

// withoutCode returns the claim without its i-th diagnosis (0 the PDX: the first secondary
// diagnosis becomes principal); false when nothing would be left.
func withoutCode(cl *claim.Claim, i int) (*claim.Claim, bool) {
	c := *cl
	if i == 0 {
		if len(cl.SDX) == 0 {
			return nil, false
		}
		p := cl.SDX[0]
		c.PDX, c.SDX = &p, slices.Clone(cl.SDX[1:])
		return &c, true
	}
	c.SDX = slices.Delete(slices.Clone(cl.SDX), i-1, i)
	return &c, true
}

// classify finds the enabled clinical-validation rules covering a code — those that document
// the condition with it, or whose own candidates include it — and their outcome.
func (h *cdiService) classify(f *ValidationFinding, rules *cdi.Rules, results map[string]*cdi.RuleResult, opps map[string]*cdi.Opportunity) {
	var covering, disabled []string
	for _, id := range sortedKeys(rules.Rules) {
		r := rules.Rules[id]
		if !r.ClinicalValidation || !coversCode(r, f.Code) {
			continue
		}
		if res := results[id]; res == nil || res.Status == cdi.StatusNotEvaluated {
			disabled = append(disabled, id)
			continue
		}
		covering = append(covering, id)
	}
	if len(covering) == 0 {
		f.Status = ValidationNotValidated
		f.Explain = "no condition rule validates this code"
		if len(disabled) > 0 {
			f.Explain = "the rules validating this code are disabled by the facility's settings: " + strings.Join(disabled, ", ")
		}
		return
	}
	f.Rules = covering
	f.Status = ValidationSupported
	var explains []string
	for _, id := range covering {
		res := results[id]
		f.Condition = rules.Rules[id].Condition
		if o := opps["cv:"+id]; o != nil && slices.Contains(o.Replaces, f.Code) {
			f.Status, f.OpportunityID, f.Evidence = ValidationUnsupported, o.ID, o.Validation
			f.Explain = o.Explain
			h.indicatorFindings(f, rules, rules.Rules[id], res)
			return
		}
		explains = append(explains, id+": "+res.Explain)
	}
	f.Explain = strings.Join(explains, "; ")
}

// indicatorFindings lists the criteria's indicators that are not met: missing (no fact) or
// contradicting (the closest facts).
func (h *cdiService) indicatorFindings(f *ValidationFinding, rules *cdi.Rules, r *cdi.Rule, res *cdi.RuleResult) {
	ids := criterionIndicators(rules, &r.Criteria, nil)
	for _, ir := range res.Indicators {
		if ir.Met || !slices.Contains(ids, ir.ID) {
			continue
		}
		fi := IndicatorFinding{ID: ir.ID, Label: ir.Label}
		for i := range ir.Cited {
			fi.Facts = append(fi.Facts, ir.Cited[i].Text())
		}
		if len(fi.Facts) == 0 {
			f.Missing = append(f.Missing, fi)
		} else {
			f.Contradicting = append(f.Contradicting, fi)
		}
	}
}

// criterionIndicators lists the indicators a criterion uses outside "not" branches (those a
// validation query may cite), as the engine does.
func criterionIndicators(rules *cdi.Rules, c *cdi.Criterion, dst []string) []string {
	if c == nil {
		return dst
	}
	if c.Indicator != "" {
		if g := rules.Criteria[c.Indicator]; g != nil && rules.Indicators[c.Indicator] == nil {
			return criterionIndicators(rules, g, dst)
		}
		if !slices.Contains(dst, c.Indicator) {
			dst = append(dst, c.Indicator)
		}
	}
	for _, l := range [][]cdi.Criterion{c.All, c.Any, c.Of} {
		for i := range l {
			dst = criterionIndicators(rules, &l[i], dst)
		}
	}
	return dst
}

// coversCode: the rule documents its condition with the code, or would code it itself (an
// unspecified code that is one of its candidates), as the engine's clinical validation does.
func coversCode(r *cdi.Rule, code string) bool {
	unspec := hasPrefix(code, r.Unspecified)
	if hasPrefix(code, r.Documented) && !unspec {
		return true
	}
	if !unspec {
		return false
	}
	for _, c := range r.Candidates {
		if slices.Contains(c.Codes, code) {
			return true
		}
	}
	return false
}

func hasPrefix(code string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(code, p) })
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func pdxTitle(rev *cdi.Review) string {
	if rev.Working == nil {
		return ""
	}
	return rev.Working.PDXTitle
}

// summarize returns the worklist summary of a review.
func summarize(r *reviewed) reviewSummary {
	rev := *r.rev
	rev.Rules, rev.Settings, rev.Warnings = nil, nil, nil
	rev.Opportunities = slices.Clone(r.rev.Opportunities)
	for i := range rev.Opportunities {
		o := &rev.Opportunities[i]
		o.Indicators, o.Documentation, o.Query, o.Explain, o.Terms = nil, nil, cdi.QueryPlan{}, "", nil
	}
	s := reviewSummary{Review: &rev, RiskFlags: r.flags}
	if r.validation != nil {
		s.Unsupported = r.validation.Unsupported
	}
	return s
}

// storeReview reviews an encounter and stores the review as its latest.
func (h *cdiService) storeReview(ctx context.Context, actor store.Actor, e *store.Encounter) (*CDIReview, error) {
	r, err := h.review(e, actor.Name)
	if err != nil {
		return nil, err
	}
	out := &CDIReview{EncounterID: e.ID, EncounterRowVersion: e.RowVersion, ReviewedAt: h.now(), ReviewedBy: actor.Name,
		Review: r.rev, RiskFlags: r.flags, Validation: r.validation}
	doc, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode review: %w", err)
	}
	sum, err := json.Marshal(summarize(r))
	if err != nil {
		return nil, fmt.Errorf("encode review summary: %w", err)
	}
	ids := make([]string, len(r.rev.Opportunities))
	for i, o := range r.rev.Opportunities {
		ids[i] = o.ID
	}
	kinds := make([]string, len(r.flags))
	for i, f := range r.flags {
		kinds[i] = f.Kind
	}
	auditAfter := map[string]any{"encounter_row_version": e.RowVersion, "opportunities": ids, "risk_flags": kinds,
		"unsupported": r.validation.Unsupported, "rules_version": r.rev.RulesVersion}
	if r.rev.Working != nil {
		auditAfter["working_drg"] = r.rev.Working.DRG
	}
	err = h.s.cfg.Store.Tx(ctx, func(tx *store.Tx) error {
		return tx.SaveCDIReview(actor, &store.CDIReview{EncounterID: e.ID, EncounterRowVersion: e.RowVersion, ReviewedAt: out.ReviewedAt,
			ReviewedBy: actor.Name, Summary: sum, Doc: doc}, auditAfter)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (h *cdiService) handleReview(c *gin.Context) {
	ctx := c.Request.Context()
	e, err := h.s.cfg.Store.GetEncounter(ctx, c.Param("id"))
	if err != nil {
		WriteError(c, err)
		return
	}
	out, err := h.storeReview(ctx, ActorFrom(c), e)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *cdiService) handleGetReview(c *gin.Context) {
	ctx := c.Request.Context()
	e, err := h.s.cfg.Store.GetEncounter(ctx, c.Param("id"))
	if err != nil {
		WriteError(c, err)
		return
	}
	r, err := h.s.cfg.Store.GetCDIReview(ctx, e.ID)
	if err != nil {
		WriteError(c, fmt.Errorf("%w: POST /v1/encounters/%s/review first", err, e.ID))
		return
	}
	var out CDIReview
	if err := json.Unmarshal(r.Doc, &out); err != nil {
		WriteError(c, fmt.Errorf("decode stored review: %w", err))
		return
	}
	out.Stale = r.EncounterRowVersion != e.RowVersion
	c.JSON(http.StatusOK, out)
}

func (h *cdiService) handleValidation(c *gin.Context) {
	e, err := h.s.cfg.Store.GetEncounter(c.Request.Context(), c.Param("id"))
	if err != nil {
		WriteError(c, err)
		return
	}
	r, err := h.review(e, ActorFrom(c).Name)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, r.validation)
}

// WorklistRow is one row of GET /v1/worklist: the engine's row and the encounter's denial-risk
// flags, review state and clinical validation count.
type WorklistRow struct {
	cdi.WorklistRow
	EncounterStatus string           `json:"encounter_status"`
	RiskFlags       []audit.RiskFlag `json:"risk_flags"`
	Unsupported     int              `json:"unsupported_diagnoses"`
	ReviewedAt      *time.Time       `json:"reviewed_at,omitempty"`
	ReviewStale     bool             `json:"review_stale"`
}

// WorklistQuery are the parameters of GET /v1/worklist.
type WorklistQuery struct {
	Facility        string `form:"facility" binding:"max=64"`
	Unit            string `form:"unit" binding:"max=64"`
	Payer           string `form:"payer" binding:"max=64"`
	Provider        string `form:"provider" binding:"max=64"`
	Condition       string `form:"condition" binding:"max=200"`
	Status          string `form:"status" binding:"omitempty,oneof=escalated query_open answered opportunities no_opportunity not_reviewed"`
	Risk            string `form:"risk" binding:"omitempty,oneof=single_cc_mcc audited_pdx short_stay_surgical mce_postpayment"`
	EncounterStatus string `form:"encounter_status" binding:"omitempty,oneof=open discharged"`
	Limit           int    `form:"limit" binding:"omitempty,min=1,max=1000"`
	Cursor          string `form:"cursor" binding:"max=200"`
}

func (h *cdiService) handleWorklist(c *gin.Context) {
	var q WorklistQuery
	if !bindQuery(c, &q) {
		return
	}
	offset := 0
	if q.Cursor != "" {
		if err := decodeOffset(q.Cursor, &offset); err != nil {
			WriteError(c, err)
			return
		}
	}
	f := store.CDIWorklistFilter{Facility: q.Facility, Unit: q.Unit, Payer: q.Payer, Attending: q.Provider}
	if q.EncounterStatus != "" {
		f.Statuses = []store.Status{store.Status(q.EncounterStatus)}
	}
	items, err := h.s.cfg.Store.CDIWorklist(c.Request.Context(), f)
	if err != nil {
		WriteError(c, err)
		return
	}
	now := h.s.cfg.Now()
	rows := make([]cdi.WorklistRow, 0, len(items))
	extra := map[string]*WorklistRow{}
	for _, it := range items {
		e := it.Encounter
		enc := e.ClaimEncounter()
		enc.ID = e.ID
		var sum reviewSummary
		x := &WorklistRow{EncounterStatus: string(e.Status), RiskFlags: []audit.RiskFlag{}}
		if it.Review != nil {
			if err := json.Unmarshal(it.Review.Summary, &sum); err != nil {
				WriteError(c, fmt.Errorf("decode review summary of %s: %w", e.ID, err))
				return
			}
			t := it.Review.ReviewedAt
			x.ReviewedAt, x.ReviewStale = &t, it.Review.EncounterRowVersion != e.RowVersion
			if sum.RiskFlags != nil {
				x.RiskFlags = sum.RiskFlags
			}
			x.Unsupported = sum.Unsupported
		}
		row := cdi.NewWorklistRow(&enc, sum.Review, it.Queries, now)
		if it.Review == nil {
			if row.Status == cdi.RowNoOpportunity {
				row.Status = rowNotReviewed
			}
			if e.WorkingDRG != nil {
				row.WorkingDRG, row.WorkingTitle, row.WorkingWeight = e.WorkingDRG.DRG, e.WorkingDRG.Title, e.WorkingDRG.Weight
			}
		}
		if q.Risk != "" && !slices.ContainsFunc(x.RiskFlags, func(f audit.RiskFlag) bool { return f.Kind == q.Risk }) {
			continue
		}
		rows = append(rows, row)
		extra[e.ID] = x
	}
	ranked := cdi.Worklist(rows, cdi.WorklistFilter{Condition: q.Condition, Status: q.Status})
	limit := q.Limit
	if limit == 0 {
		limit = 50
	}
	out := []WorklistRow{}
	for i := offset; i < len(ranked) && len(out) < limit; i++ {
		x := extra[ranked[i].EncounterID]
		x.WorklistRow = ranked[i]
		out = append(out, *x)
	}
	next := ""
	if offset+len(out) < len(ranked) {
		next = encodeOffset(offset + len(out))
	}
	ids := make([]string, len(out))
	for i := range out {
		ids[i] = out[i].EncounterID
	}
	setReadIDs(c, ids)
	c.JSON(http.StatusOK, gin.H{"items": out, "next_cursor": next})
}
