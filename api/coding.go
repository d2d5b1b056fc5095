package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/mce"
	"github.com/msdrg-cdi/drg/store"
)

// The coder's day: the coding worklist (discharged encounters not yet final, oldest discharge
// first) and the checks run before finalization.
//
// Finalize checks. Blocking items stop POST /v1/encounters/{id}/finalize with a 409 naming
// them, unless the body carries an override_reason (audited as action "finalize_override"
// with the items overridden):
//   - mce: a Medicare Code Editor edit that makes the claim unprocessable and that the coder
//     corrects (invalid code, sex or age conflict, unacceptable principal diagnosis, …:
//     blocking_mce_edits of finalize_checks.json);
//   - query_open: a CDI query sent or escalated and not answered (final coding waits for the
//     provider's answer, or for the CDI specialist to close the query);
//   - ungroupable: the codes group to DRG 998 or 999.
//
// Warnings are shown and do not stop finalization: the other MCE edits (questionable
// admission, unspecified code, coverage: they go to review), draft queries never sent, a
// principal diagnosis or CC/MCC the clinical validation finds unsupported by the record, and
// codes beyond the 24 secondary diagnoses / 25 procedures a claim carries.

//go:embed finalize_checks.json
var finalizeChecksJSON []byte

// finalizeRules are the finalize checks' data (finalize_checks.json).
type finalizeRules struct {
	BlockingMCE    []string `json:"blocking_mce_edits"`
	BlockingStates []string `json:"blocking_query_states"`
	WarningStates  []string `json:"warning_query_states"`
	BlockingDRGs   []int    `json:"blocking_drgs"`
	blockingEdits  mce.EditSet
}

// checkRules are the embedded finalize rules; a bad file fails at start (tests load it).
var checkRules = func() *finalizeRules {
	var r finalizeRules
	if err := json.Unmarshal(finalizeChecksJSON, &r); err != nil {
		panic(fmt.Sprintf("api: finalize_checks.json: %v", err))
	}
	for _, n := range r.BlockingMCE {
		id, err := mce.ParseEdit(n)
		if err != nil {
			panic(fmt.Sprintf("api: finalize_checks.json: blocking_mce_edits: %v", err))
		}
		r.blockingEdits = r.blockingEdits.With(id)
	}
	return &r
}()

// Check item kinds.
const (
	CheckMCE          = "mce"
	CheckQueryOpen    = "query_open"
	CheckQueryDraft   = "query_draft"
	CheckUngroupable  = "ungroupable"
	CheckUnsupported  = "unsupported_diagnosis"
	CheckNotGrouped   = "not_grouped"
	CheckReviewFailed = "validation_unavailable"
)

// CheckItem is one finding of the finalize checks.
type CheckItem struct {
	Kind string `json:"kind"`
	// Field names the part of the encounter at fault: "pdx", "sdx[2]", "procedures[0]",
	// "queries[ID]", "claim".
	Field   string `json:"field"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

// FinalizeCheck is the answer of GET /v1/encounters/{id}/finalize-check: what finalizing the
// encounter's working codes would give and what stands in the way.
type FinalizeCheck struct {
	EncounterID string       `json:"encounter_id"`
	RowVersion  int          `json:"row_version"`
	Blocking    []CheckItem  `json:"blocking"`
	Warnings    []CheckItem  `json:"warnings"`
	CanFinalize bool         `json:"can_finalize"`  // no blocking item
	DRG         *store.DRG   `json:"drg,omitempty"` // the final DRG the codes give
	Baseline    *store.DRG   `json:"baseline_drg,omitempty"`
	Checks      []string     `json:"checks"` // the checks run
	Note        string       `json:"note,omitempty"`
	Queries     []checkQuery `json:"queries,omitempty"`
}

type checkQuery struct {
	ID        string `json:"id"`
	Condition string `json:"condition"`
	State     string `json:"state"`
}

// finalizeCheck runs the checks on the code set cs of e (its working codes when nil).
func (s *Server) finalizeCheck(ctx context.Context, e *store.Encounter, cs *store.Codes) (*FinalizeCheck, error) {
	if cs == nil {
		cs = &e.Codes
	}
	out := &FinalizeCheck{EncounterID: e.ID, RowVersion: e.RowVersion, Blocking: []CheckItem{}, Warnings: []CheckItem{},
		Baseline: e.BaselineDRG, Checks: []string{"discharge date and principal diagnosis", "grouping", "queries"}}
	if e.DischargeDate.IsZero() {
		out.Blocking = append(out.Blocking, CheckItem{Kind: "in_house", Field: "discharge_date", Message: "the patient is still in house: no discharge date"})
	}
	if cs.PDX == nil {
		out.Blocking = append(out.Blocking, CheckItem{Kind: "no_pdx", Field: "pdx", Message: "no principal diagnosis"})
	}
	if cs.PDX != nil && !e.DischargeDate.IsZero() {
		d, _, note, err := s.groupEncounter(e, cs, 0, false, "")
		if err != nil {
			return nil, err
		}
		out.DRG, out.Note = d, note
		if slices.Contains(checkRules.BlockingDRGs, d.DRG) {
			out.Blocking = append(out.Blocking, CheckItem{Kind: CheckUngroupable, Field: "pdx", Code: cs.PDX.Code,
				Message: fmt.Sprintf("the codes group to DRG %d (%s)", d.DRG, d.Title)})
		}
		for _, ng := range d.NotGrouped {
			field, code, _ := strings.Cut(ng, ":")
			out.Warnings = append(out.Warnings, CheckItem{Kind: CheckNotGrouped, Field: field, Code: code,
				Message: "beyond what one claim carries: not grouped (move it up if it matters)"})
		}
		if p := s.proc.mceOnly; p != nil {
			out.Checks = append(out.Checks, "Medicare Code Editor")
			cl := e.Claim(cs)
			cl.Version = d.Version
			rec := p.Record(cl)
			for _, m := range rec.Messages {
				if !m.Counted || m.Edit == 0 {
					continue
				}
				it := CheckItem{Kind: CheckMCE, Field: mceField(m), Code: m.Code, Message: m.Text + " (" + m.Payment.String() + ")"}
				if checkRules.blockingEdits.Has(m.Edit) {
					out.Blocking = append(out.Blocking, it)
				} else {
					out.Warnings = append(out.Warnings, it)
				}
			}
		}
	}
	qs, err := s.cfg.Store.EncounterQueries(ctx, []string{e.ID})
	if err != nil {
		return nil, err
	}
	for _, q := range qs[e.ID] {
		out.Queries = append(out.Queries, checkQuery{ID: q.ID, Condition: q.Condition, State: q.State})
		switch {
		case slices.Contains(checkRules.BlockingStates, q.State):
			out.Blocking = append(out.Blocking, CheckItem{Kind: CheckQueryOpen, Field: "queries[" + q.ID + "]",
				Message: fmt.Sprintf("query about %s is %s and not answered", q.Condition, q.State)})
		case slices.Contains(checkRules.WarningStates, q.State):
			out.Warnings = append(out.Warnings, CheckItem{Kind: CheckQueryDraft, Field: "queries[" + q.ID + "]",
				Message: fmt.Sprintf("draft query about %s was never sent", q.Condition)})
		}
	}
	if s.cdi != nil && cs.PDX != nil {
		out.Checks = append(out.Checks, "clinical validation of the principal diagnosis and CC/MCCs")
		v := *e
		v.Codes = *cs
		r, err := s.cdi.review(&v, "")
		if err != nil {
			out.Warnings = append(out.Warnings, CheckItem{Kind: CheckReviewFailed, Field: "claim", Message: "clinical validation could not run: " + err.Error()})
		} else if r.validation != nil {
			for _, f := range r.validation.Findings {
				if f.Status != ValidationUnsupported {
					continue
				}
				field := "pdx"
				if f.Role != "pdx" {
					field = "sdx"
					for i, c := range cs.SDX {
						if c.Code == f.Code {
							field = fmt.Sprintf("sdx[%d]", i)
							break
						}
					}
				}
				msg := fmt.Sprintf("%s %s (%s) is not supported by the clinical record", f.Code, f.Title, f.Level)
				if f.Evidence != "" {
					msg += ": " + strings.ReplaceAll(f.Evidence, "_", " ")
				}
				if f.Depends {
					msg += fmt.Sprintf("; without it DRG %d (weight %+.4f)", f.DRGWithout, f.WeightDelta)
				}
				out.Warnings = append(out.Warnings, CheckItem{Kind: CheckUnsupported, Field: field, Code: f.Code, Message: msg})
			}
		}
	}
	out.CanFinalize = len(out.Blocking) == 0
	return out, nil
}

// mceField names the claim field of an MCE message.
func mceField(m mce.Message) string {
	switch {
	case m.Index < 0 || m.Code == "":
		return "claim"
	case m.Role == mce.RolePDX:
		return "pdx"
	case m.Role == mce.RoleSDX:
		return fmt.Sprintf("sdx[%d]", m.Index-1)
	case m.Role == mce.RoleAdmitDx:
		return "admit_dx"
	case m.Role == mce.RoleProcedure:
		return fmt.Sprintf("procedures[%d]", m.Index)
	}
	return "claim"
}

func (s *Server) handleFinalizeCheck(c *gin.Context) {
	e, err := s.cfg.Store.GetEncounter(c.Request.Context(), c.Param("id"))
	if err != nil {
		WriteError(c, err)
		return
	}
	out, err := s.finalizeCheck(c.Request.Context(), e, nil)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("ETag", etag(e))
	c.JSON(http.StatusOK, out)
}

// CodingWorklistQuery are the parameters of GET /v1/coding/worklist.
type CodingWorklistQuery struct {
	Facility    string `form:"facility" binding:"max=64"`
	Payer       string `form:"payer" binding:"max=64"`
	ServiceLine string `form:"service_line" binding:"max=64"`
	DRG         string `form:"drg" binding:"max=3"`
	QueryOpen   string `form:"query_open" binding:"omitempty,oneof=true false"`
	From        string `form:"discharged_from" binding:"max=10"`
	To          string `form:"discharged_to" binding:"max=10"`
	Limit       int    `form:"limit" binding:"omitempty,min=1,max=1000"`
	Cursor      string `form:"cursor" binding:"max=200"`
}

// CodingWorklistRow is one encounter of the coding worklist.
type CodingWorklistRow struct {
	EncounterID        string          `json:"encounter_id"`
	Account            string          `json:"account"`
	Facility           string          `json:"facility,omitempty"`
	Payer              string          `json:"payer,omitempty"`
	ServiceLine        string          `json:"service_line,omitempty"`
	AttendingProvider  *claim.Provider `json:"attending_provider,omitempty"`
	AdmitDate          claim.Date      `json:"admit_date,omitzero"`
	DischargeDate      claim.Date      `json:"discharge_date"`
	DaysSinceDischarge int             `json:"days_since_discharge"`
	WorkingDRG         *store.DRG      `json:"working_drg,omitempty"`
	BaselineDRG        *store.DRG      `json:"baseline_drg,omitempty"`
	OpenQueries        int             `json:"open_queries"`
	DraftQueries       int             `json:"draft_queries"`
	AnsweredQueries    int             `json:"answered_queries"`
}

func (s *Server) handleCodingWorklist(c *gin.Context) {
	var q CodingWorklistQuery
	if !bindQuery(c, &q) {
		return
	}
	f := store.EncounterFilter{Status: store.StatusDischarged, Facility: q.Facility, Payer: q.Payer, ServiceLine: q.ServiceLine}
	var errs []*FieldError
	if q.DRG != "" {
		n, err := strconv.Atoi(q.DRG)
		if err != nil || n < 1 || n > 999 {
			errs = append(errs, &FieldError{Field: "drg", Message: "must be an MS-DRG number (1–999)"})
		}
		f.DRG = n
	}
	for _, d := range []struct {
		name, val string
		dst       *claim.Date
	}{{"discharged_from", q.From, &f.DischargedFrom}, {"discharged_to", q.To, &f.DischargedTo}} {
		if d.val == "" {
			continue
		}
		v, err := claim.ParseDate(d.val)
		if err != nil {
			errs = append(errs, &FieldError{Field: d.name, Message: err.Error()})
		}
		*d.dst = v
	}
	offset := 0
	if q.Cursor != "" {
		if err := decodeOffset(q.Cursor, &offset); err != nil {
			errs = append(errs, &FieldError{Field: "cursor", Message: "not a cursor of this list"})
		}
	}
	if len(errs) > 0 {
		WriteValidation(c, errs...)
		return
	}
	ctx := c.Request.Context()
	today := s.cfg.Now()
	var rows []CodingWorklistRow
	err := s.cfg.Store.ScanEncounters(ctx, f, 500, false, func(page []*store.Encounter) error {
		ids := make([]string, len(page))
		for i, e := range page {
			ids[i] = e.ID
		}
		qs, err := s.cfg.Store.EncounterQueries(ctx, ids)
		if err != nil {
			return err
		}
		for _, e := range page {
			r := CodingWorklistRow{EncounterID: e.ID, Account: e.Account, Facility: e.Facility, Payer: e.Payer, ServiceLine: e.ServiceLine,
				AttendingProvider: e.AttendingProvider, AdmitDate: e.AdmitDate, DischargeDate: e.DischargeDate,
				WorkingDRG: e.WorkingDRG, BaselineDRG: e.BaselineDRG}
			r.DaysSinceDischarge = max(0, int(today.Sub(e.DischargeDate.Time()).Hours()/24))
			for _, qq := range qs[e.ID] {
				switch qq.State {
				case cdi.StateSent, cdi.StateEscalated:
					r.OpenQueries++
				case cdi.StateDraft:
					r.DraftQueries++
				case cdi.StateAnswered:
					r.AnsweredQueries++
				}
			}
			if q.QueryOpen == "true" && r.OpenQueries == 0 || q.QueryOpen == "false" && r.OpenQueries > 0 {
				continue
			}
			rows = append(rows, r)
		}
		return nil
	})
	if err != nil {
		WriteError(c, err)
		return
	}
	limit := q.Limit
	if limit == 0 {
		limit = 50
	}
	total := len(rows)
	rows = rows[min(offset, total):]
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeOffset(offset + limit)
	}
	if rows == nil {
		rows = []CodingWorklistRow{}
	}
	c.JSON(http.StatusOK, gin.H{"items": rows, "total": total, "next_cursor": next})
}

// finalizeOverride is the audit record of a finalization over blocking checks.
type finalizeOverride struct {
	Reason   string      `json:"reason"`
	Blocking []CheckItem `json:"blocking"`
}

// blockingProblem answers 409 naming every blocking item.
func blockingProblem(c *gin.Context, chk *FinalizeCheck) {
	errs := make([]*FieldError, len(chk.Blocking))
	msgs := make([]string, len(chk.Blocking))
	for i, b := range chk.Blocking {
		errs[i] = &FieldError{Field: b.Field, Message: b.Kind + ": " + b.Message}
		msgs[i] = b.Field + " " + b.Message
	}
	WriteProblem(c, http.StatusConflict, KindConflict, fmt.Sprintf("finalize refused: %d blocking check(s): %s; resolve them or send override_reason",
		len(errs), strings.Join(msgs, "; ")), errs...)
}
