package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/batch"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/store"
	"github.com/msdrg-cdi/drg/tables"
)

// EncounterInput is the body of POST /v1/encounters and, field by field, of PATCH: the
// claim's fields and the encounter fields of the wire conventions, codes with their source.
type EncounterInput struct {
	Version       int        `json:"version,omitempty" binding:"omitempty,min=400,max=999"`
	DischargeDate claim.Date `json:"discharge_date,omitzero"`
	// The claim's own fields are checked by claim.Check, as on every route taking a claim.
	LengthOfStay    *int   `json:"length_of_stay,omitempty"`
	Age             *int   `json:"age,omitempty"`
	Sex             string `json:"sex,omitempty"`
	DischargeStatus *int   `json:"discharge_status,omitempty"`
	HospitalStatus  string `json:"hospital_status,omitempty"`
	store.Codes

	Account           string           `json:"account" binding:"required,max=64"`
	Facility          string           `json:"facility,omitempty" binding:"max=64"`
	AdmitDate         claim.Date       `json:"admit_date,omitzero"`
	Payer             string           `json:"payer,omitempty" binding:"max=64"`
	ServiceLine       string           `json:"service_line,omitempty" binding:"max=64"`
	Unit              string           `json:"unit,omitempty" binding:"max=64"`
	AttendingProvider *claim.Provider  `json:"attending_provider,omitempty"`
	Evidence          []claim.Evidence `json:"evidence,omitempty" binding:"max=20000"`
}

// readOnlyFields are encounter fields the server maintains.
var readOnlyFields = []string{"id", "status", "baseline_drg", "working_drg", "final_drg", "final_codes",
	"row_version", "created_at", "updated_at"}

// inputOf returns the editable fields of an encounter.
func inputOf(e *store.Encounter) EncounterInput {
	return EncounterInput{
		Version: e.Version, DischargeDate: e.DischargeDate, LengthOfStay: e.LengthOfStay, Age: e.Age, Sex: e.Sex,
		DischargeStatus: e.DischargeStatus, HospitalStatus: e.HospitalStatus, Codes: e.Codes, Account: e.Account,
		Facility: e.Facility, AdmitDate: e.AdmitDate, Payer: e.Payer, ServiceLine: e.ServiceLine, Unit: e.Unit,
		AttendingProvider: e.AttendingProvider, Evidence: e.Evidence,
	}
}

// apply writes the input's fields into the encounter.
func (in *EncounterInput) apply(e *store.Encounter) {
	e.Version, e.DischargeDate, e.LengthOfStay, e.Age, e.Sex = in.Version, in.DischargeDate, in.LengthOfStay, in.Age, in.Sex
	e.DischargeStatus, e.HospitalStatus, e.Codes, e.Account = in.DischargeStatus, in.HospitalStatus, in.Codes, in.Account
	e.Facility, e.AdmitDate, e.Payer, e.ServiceLine, e.Unit = in.Facility, in.AdmitDate, in.Payer, in.ServiceLine, in.Unit
	e.AttendingProvider, e.Evidence = in.AttendingProvider, in.Evidence
}

// claimFields returns the claim the input's claim fields and codes make, for claim.Check.
func (in *EncounterInput) claimFields() *claim.Claim {
	c := &claim.Claim{LengthOfStay: in.LengthOfStay, Age: in.Age, Sex: in.Sex, DischargeStatus: in.DischargeStatus,
		HospitalStatus: in.HospitalStatus}
	dx := func(sc *store.Code) *claim.Dx {
		if sc == nil {
			return nil
		}
		return &claim.Dx{Code: sc.Code, POA: sc.POA}
	}
	c.PDX, c.AdmitDx = dx(in.PDX), dx(in.AdmitDx)
	for i := range in.SDX {
		c.SDX = append(c.SDX, *dx(&in.SDX[i]))
	}
	return c
}

// check validates what struct tags cannot: the claim's fields (claim.Check, the one
// validation of every route taking a claim), dates in order and, with evidence, usable
// evidence items (claim.Evidence.Check, the rule of POST /v1/encounters/{id}/evidence too).
func (in *EncounterInput) check(evidence bool) []*FieldError {
	errs := []*FieldError(in.claimFields().Check())
	if !in.AdmitDate.IsZero() && !in.DischargeDate.IsZero() && in.DischargeDate.Before(in.AdmitDate) {
		errs = append(errs, &FieldError{Field: "discharge_date", Message: "before admit_date"})
	}
	if !evidence {
		return errs
	}
	for i := range in.Evidence {
		for _, fe := range in.Evidence[i].Check() {
			errs = append(errs, &FieldError{Field: fmt.Sprintf("evidence[%d].%s", i, fe.Field), Message: fe.Message})
		}
	}
	return errs
}

// decodeEncounter decodes an encounter body (create, or the merged document of a change) and
// checks it, reporting every field at fault at once: values of the wrong type and unknown
// fields, the struct rules, check's rules. Timestamps without a zone are read in the zone of
// the body's facility. Evidence items are checked when evidence is true (a change checks the
// evidence it sends, not items stored before the rule).
func (s *Server) decodeEncounter(ctx context.Context, body []byte, evidence bool) (EncounterInput, error) {
	var in EncounterInput
	zl := &zoneLookup{s: s, ctx: ctx, facility: facilityOf(body)}
	fes, err := decodeFields(body, &in, zl.location)
	if err != nil {
		return in, err
	}
	if zl.err != nil {
		return in, fmt.Errorf("time zone of the encounter's facility: %w", zl.err)
	}
	in.Codes.Normalize()
	fes = fes.Merge(claim.Errors(in.check(evidence)), validateErr(&in))
	if len(fes) > 0 {
		return in, validation(fes...)
	}
	return in, nil
}

// defaultSource is the source of codes a caller adds without naming one.
func defaultSource(role store.Role) string {
	switch role {
	case store.RoleCDI:
		return store.SourceCDI
	case store.RoleAdmin:
		return store.SourceImport
	}
	return store.SourceCoder
}

// etag is the entity tag of an encounter: its row version.
func etag(e *store.Encounter) string { return `"` + strconv.Itoa(e.RowVersion) + `"` }

// ifMatch reads If-Match as the encounter's row version: required (428 without), 412 when
// malformed (precondition.go).
func ifMatch(c *gin.Context) (int, bool) { return requireVersion(c, "encounter") }

func writeEncounter(c *gin.Context, status int, e *store.Encounter) {
	c.Header("ETag", etag(e))
	c.JSON(status, e)
}

func (s *Server) handleCreateEncounter(c *gin.Context) {
	body, ok := ReadBody(c)
	if !ok {
		return
	}
	in, err := s.decodeEncounter(c.Request.Context(), body, true)
	if err != nil {
		WriteError(c, err)
		return
	}
	actor := ActorFrom(c)
	in.Codes.FillSources(store.Codes{}, defaultSource(actor.Role))
	var e store.Encounter
	in.apply(&e)
	created, err := s.cfg.Store.CreateEncounter(c.Request.Context(), actor, &e)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("Location", "/v1/encounters/"+created.ID)
	writeEncounter(c, http.StatusCreated, created)
}

func (s *Server) handleGetEncounter(c *gin.Context) {
	e, err := s.cfg.Store.GetEncounter(c.Request.Context(), c.Param("id"))
	if err != nil {
		WriteError(c, err)
		return
	}
	writeEncounter(c, http.StatusOK, e)
}

// handlePatchEncounter merges the body into the encounter (JSON merge patch, RFC 7396, at the
// top level: a field present replaces the stored value, null clears it, absent fields stay).
func (s *Server) handlePatchEncounter(c *gin.Context) {
	rowVersion, ok := ifMatch(c)
	if !ok {
		return
	}
	body, ok := ReadBody(c)
	if !ok {
		return
	}
	var patch map[string]json.RawMessage
	if err := json.Unmarshal(body, &patch); err != nil || patch == nil {
		WriteProblem(c, http.StatusBadRequest, KindMalformed, "the body must be a JSON object of the fields to change")
		return
	}
	for k := range patch {
		if slices.Contains(readOnlyFields, k) {
			WriteValidation(c, &FieldError{Field: k, Message: "read-only: maintained by the server"})
			return
		}
	}
	actor := ActorFrom(c)
	// The change runs inside the store transaction: it returns problems as errors and never
	// writes the response itself.
	updated, err := s.cfg.Store.UpdateEncounter(c.Request.Context(), actor, c.Param("id"), rowVersion, "update", func(e *store.Encounter) error {
		if e.Status == store.StatusFinal {
			return fmt.Errorf("%w: change it by finalizing again (POST /v1/encounters/%s/finalize with the codes)", store.ErrFinal, e.ID)
		}
		cur := inputOf(e)
		curJSON, err := json.Marshal(cur)
		if err != nil {
			return fmt.Errorf("encode encounter: %w", err)
		}
		var merged map[string]json.RawMessage
		if err := json.Unmarshal(curJSON, &merged); err != nil {
			return fmt.Errorf("decode encounter: %w", err)
		}
		for k, v := range patch {
			if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
				delete(merged, k)
			} else {
				merged[k] = v
			}
		}
		mb, err := json.Marshal(merged)
		if err != nil {
			return fmt.Errorf("encode patch: %w", err)
		}
		_, evidence := patch["evidence"]
		in, err := s.decodeEncounter(c.Request.Context(), mb, evidence)
		if err != nil {
			return err
		}
		in.Codes.FillSources(e.Codes, defaultSource(actor.Role))
		in.apply(e)
		return nil
	})
	if err != nil {
		WriteError(c, err)
		return
	}
	writeEncounter(c, http.StatusOK, updated)
}

// EncounterQuery are the filters and paging parameters of GET /v1/encounters.
type EncounterQuery struct {
	Status         string `form:"status" binding:"omitempty,oneof=open discharged final"`
	Facility       string `form:"facility" binding:"max=64"`
	Unit           string `form:"unit" binding:"max=64"`
	Payer          string `form:"payer" binding:"max=64"`
	ServiceLine    string `form:"service_line" binding:"max=64"`
	Attending      string `form:"attending" binding:"max=64"`
	DRG            int    `form:"drg" binding:"omitempty,min=1,max=999"`
	FinalDRG       int    `form:"final_drg" binding:"omitempty,min=1,max=999"`
	DischargedFrom string `form:"discharged_from"`
	DischargedTo   string `form:"discharged_to"`
	Limit          int    `form:"limit" binding:"omitempty,min=1,max=1000"`
	Cursor         string `form:"cursor" binding:"max=200"`
}

func (s *Server) handleListEncounters(c *gin.Context) {
	var q EncounterQuery
	if !bindQuery(c, &q) {
		return
	}
	f := store.EncounterFilter{Status: store.Status(q.Status), Facility: q.Facility, Unit: q.Unit, Payer: q.Payer,
		ServiceLine: q.ServiceLine, Attending: q.Attending, DRG: q.DRG, FinalDRG: q.FinalDRG}
	var errs []*FieldError
	for _, d := range []struct {
		name, val string
		dst       *claim.Date
	}{{"discharged_from", q.DischargedFrom, &f.DischargedFrom}, {"discharged_to", q.DischargedTo, &f.DischargedTo}} {
		if d.val == "" {
			continue
		}
		v, err := claim.ParseDate(d.val)
		if err != nil {
			errs = append(errs, &FieldError{Field: d.name, Message: err.Error()})
		}
		*d.dst = v
	}
	if len(errs) > 0 {
		WriteValidation(c, errs...)
		return
	}
	items, next, err := s.cfg.Store.ListEncounters(c.Request.Context(), f, q.Limit, q.Cursor)
	if err != nil {
		WriteError(c, err)
		return
	}
	ids := make([]string, len(items))
	for i, e := range items {
		e.Evidence = nil // lists leave the evidence out: GET the encounter for it
		ids[i] = e.ID
	}
	setReadIDs(c, ids)
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": next})
}

// EncounterGrouping is the answer of POST /v1/encounters/{id}/group and /finalize: the stored
// encounter and the full grouper result of its codes.
type EncounterGrouping struct {
	Encounter *store.Encounter `json:"encounter"`
	Result    json.RawMessage  `json:"result"`
	Note      string           `json:"note,omitempty"`
}

// groupEncounter groups a code set of the encounter: with ?version=, else the encounter's
// version, else its discharge date, else (in house) the current version.
func (s *Server) groupEncounter(e *store.Encounter, cs *store.Codes, forced tables.Version, explain bool, who string) (*store.DRG, []byte, string, error) {
	cl := e.Claim(cs)
	note := ""
	switch {
	case forced != 0:
		cl.Version = int(forced)
	case cl.Version == 0 && cl.DischargeDate.IsZero():
		v, n := s.ref.currentVersion()
		cl.Version = int(v)
		note = "no discharge date: grouped with version " + v.String()
		if n != "" {
			note += " (" + n + ")"
		}
	}
	if err := batch.ChooseVersion(cl, 0, s.cfg.Catalog.MSDRG.Versions); err != nil {
		return nil, nil, "", err
	}
	r, err := s.grouper.Group(cl, grouper.Options{Explain: explain})
	if err != nil {
		var uv *grouper.UnknownVersionError
		if errors.As(err, &uv) {
			return nil, nil, "", &claim.FieldError{Field: "version", Message: err.Error()}
		}
		return nil, nil, "", err
	}
	batch.AddInvalidCodeWarnings(r, cl, s.cfg.Catalog.DescribeInvalid)
	batch.Weigh(r, cl, s.cfg.Catalog)
	s.proc.grouped.Inc()
	d := &store.DRG{DRG: r.Final.DRG, MDC: r.Final.MDC, Type: r.Final.Type.String(), Severity: r.Final.Severity.String(),
		GRC: r.Final.GRC.String(), Title: r.Final.DRGTitle, Weight: r.Weight, GMLOS: r.GMLOS, AMLOS: r.AMLOS,
		Version: r.Version, GroupedBy: who}
	for _, w := range r.Warnings {
		if w.Kind == grouper.WarnNotGrouped {
			d.NotGrouped = append(d.NotGrouped, w.Field+":"+w.Code)
		}
	}
	return d, r.AppendJSON(nil), note, nil
}

func (s *Server) handleGroupEncounter(c *gin.Context) {
	explain, ok := boolParam(c, "explain")
	if !ok {
		return
	}
	forced, ok := s.versionParam(c)
	if !ok {
		return
	}
	rowVersion, ok := ifMatch(c)
	if !ok {
		return
	}
	actor := ActorFrom(c)
	var result []byte
	var note string
	e, err := s.cfg.Store.UpdateEncounter(c.Request.Context(), actor, c.Param("id"), rowVersion, "group", func(e *store.Encounter) error {
		d, raw, n, err := s.groupEncounter(e, nil, forced, explain, actor.Name)
		if err != nil {
			return err
		}
		d.GroupedAt = nowMicro(s.cfg.Now)
		result, note = raw, n
		if e.BaselineDRG == nil {
			e.BaselineDRG = d
		}
		e.WorkingDRG = d
		return nil
	})
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("ETag", etag(e))
	c.JSON(http.StatusOK, EncounterGrouping{Encounter: e, Result: result, Note: note})
}

// FinalizeInput is the optional body of POST /v1/encounters/{id}/finalize: codes that replace
// the working codes before finalization (a field absent keeps the working value).
type FinalizeInput struct {
	PDX        *store.Code  `json:"pdx,omitempty"`
	AdmitDx    *store.Code  `json:"admit_dx,omitempty"`
	SDX        []store.Code `json:"sdx,omitempty" binding:"max=1000,dive"`        // store.MaxCodes
	Procedures []store.Code `json:"procedures,omitempty" binding:"max=1000,dive"` // store.MaxCodes
	// OverrideReason finalizes over blocking checks (GET …/finalize-check); the reason and the
	// items overridden are audited (action finalize_override).
	OverrideReason string `json:"override_reason,omitempty" binding:"max=1000"`
}

func (s *Server) handleFinalize(c *gin.Context) {
	forced, ok := s.versionParam(c)
	if !ok {
		return
	}
	rowVersion, ok := ifMatch(c)
	if !ok {
		return
	}
	body, ok := ReadBody(c)
	if !ok {
		return
	}
	var in FinalizeInput
	present := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(body)) > 0 {
		if !decodeStrict(c, body, &in) {
			return
		}
		_ = json.Unmarshal(body, &present)
		cs := store.Codes{PDX: in.PDX, AdmitDx: in.AdmitDx, SDX: in.SDX, Procedures: in.Procedures}
		cs.Normalize()
		in.PDX, in.AdmitDx, in.SDX, in.Procedures = cs.PDX, cs.AdmitDx, cs.SDX, cs.Procedures
		if !Validate(c, &in) {
			return
		}
	}
	actor := ActorFrom(c)
	ctx := c.Request.Context()
	// The checks run on the codes to finalize, on the row version they were run on: a change in
	// between is a 412, never a finalization of codes nobody checked.
	cur, err := s.cfg.Store.GetEncounter(ctx, c.Param("id"))
	if err != nil {
		WriteError(c, err)
		return
	}
	if rowVersion != 0 && cur.RowVersion != rowVersion {
		WriteError(c, fmt.Errorf("%w: encounter is at row version %d, not %d", store.ErrVersionMismatch, cur.RowVersion, rowVersion))
		return
	}
	rowVersion = cur.RowVersion
	var override *finalizeOverride
	if !cur.DischargeDate.IsZero() && (cur.PDX != nil || present["pdx"] != nil) {
		cs := in.codesOver(cur.Codes, present)
		if cs.PDX != nil {
			chk, err := s.finalizeCheck(ctx, cur, &cs)
			if err != nil {
				WriteError(c, err)
				return
			}
			if !chk.CanFinalize {
				reason := strings.TrimSpace(in.OverrideReason)
				if reason == "" {
					blockingProblem(c, chk)
					return
				}
				override = &finalizeOverride{Reason: reason, Blocking: chk.Blocking}
			}
		}
	}
	var result []byte
	var note string
	var e *store.Encounter
	err = s.cfg.Store.Tx(ctx, func(tx *store.Tx) error {
		var err error
		e, err = tx.UpdateEncounter(actor, c.Param("id"), rowVersion, "finalize", s.finalizeChange(&in, present, actor, forced, &result, &note))
		if err != nil || override == nil {
			return err
		}
		return tx.Audit(actor, "encounter", e.ID, "finalize_override", nil, override)
	})
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("ETag", etag(e))
	c.JSON(http.StatusOK, EncounterGrouping{Encounter: e, Result: result, Note: note})
}

// codesOver returns the code set cs with the fields present in the body replaced.
func (in *FinalizeInput) codesOver(cs store.Codes, present map[string]json.RawMessage) store.Codes {
	if _, ok := present["pdx"]; ok {
		cs.PDX = in.PDX
	}
	if _, ok := present["admit_dx"]; ok {
		cs.AdmitDx = in.AdmitDx
	}
	if _, ok := present["sdx"]; ok {
		cs.SDX = in.SDX
	}
	if _, ok := present["procedures"]; ok {
		cs.Procedures = in.Procedures
	}
	return cs
}

// finalizeChange is the change of the encounter a finalization makes.
func (s *Server) finalizeChange(in *FinalizeInput, present map[string]json.RawMessage, actor store.Actor, forced tables.Version,
	result *[]byte, note *string) func(e *store.Encounter) error {
	return func(e *store.Encounter) error {
		if e.DischargeDate.IsZero() {
			return &claim.FieldError{Field: "discharge_date", Message: "required to finalize: the patient is still in house"}
		}
		cs := in.codesOver(e.Codes, present)
		cs.FillSources(e.Codes, defaultSource(actor.Role))
		if cs.PDX == nil {
			return &claim.FieldError{Field: "pdx", Message: "required to finalize"}
		}
		d, raw, n, err := s.groupEncounter(e, &cs, forced, false, actor.Name)
		if err != nil {
			return err
		}
		d.GroupedAt = nowMicro(s.cfg.Now)
		*result, *note = raw, n
		e.Codes = cs
		final := cs
		e.FinalCodes = &final
		if e.BaselineDRG == nil {
			e.BaselineDRG = d
		}
		e.WorkingDRG, e.FinalDRG = d, d
		e.Status = store.StatusFinal
		return nil
	}
}
