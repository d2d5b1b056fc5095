package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/cacsvc"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/store"
)

// CACRoles may ask for coding suggestions.
var CACRoles = []store.Role{store.RoleCoder, store.RoleCDI, store.RoleAdmin}

func (s *Server) cacRoutes() ([]Route, error) {
	svc, err := cacsvc.New(s.cfg.Catalog, s.proc.plain)
	if err != nil {
		return nil, err
	}
	s.cac = svc
	note := Schema{"type": "object", "required": []string{"id", "text"}, "properties": Schema{
		"id": str("unique within the request"), "note_type": str("discharge summary, H&P, progress note, operative note, nursing note, …"),
		"author_role": str("physician, resident, nurse, dietitian, …"), "time": Schema{"type": "string", "format": "date-time"},
		"text": Schema{"type": "string", "maxLength": cacsvc.MaxNoteBytes}}}
	s.AddSchema("CACRequest", Schema{"type": "object", "required": []string{"notes"}, "properties": Schema{
		"notes": Schema{"type": "array", "items": note, "minItems": 1, "maxItems": cacsvc.MaxNotes},
		"age":   Schema{"type": "integer"}, "sex": Schema{"enum": []string{"M", "F", "U"}}, "discharge_status": Schema{"type": "integer"},
		"admit_date": Schema{"type": "string", "format": "date"}, "discharge_date": Schema{"type": "string", "format": "date"},
		"version": Schema{"type": []string{"integer", "string"}}}})
	evidence := Schema{"type": "object", "properties": Schema{"note": str("note id"), "start": Schema{"type": "integer"}, "end": Schema{"type": "integer"},
		"text": str("the note's bytes [start, end)"), "section": str("section of the note"), "assertion": str("present or uncertain")}}
	sugg := Schema{"type": "object", "properties": Schema{"code": str("without dot"), "poa": str("Y or N"), "title": str("code title"),
		"level": str("CC, MCC or NCC in the grouping"), "evidence": Schema{"type": "array", "items": evidence}, "why": str("the coding rule applied")}}
	s.AddSchema("CACResponse", Schema{"type": "object", "properties": Schema{
		"pdx": sugg, "sdx": Schema{"type": "array", "items": sugg}, "procedures": Schema{"type": "array", "items": sugg},
		"not_coded": Schema{"type": "array", "items": Schema{"type": "object", "properties": Schema{"note": str("note id"), "start": Schema{"type": "integer"},
			"end": Schema{"type": "integer"}, "text": str("the words"), "code": str("the code it would have had"),
			"reason": Schema{"enum": []string{"negated", "historical", "family", "hypothetical", "uncertain", "ruled_out", "integral", "non_provider", "not_a_diagnosis", "superseded", "unspecified"}}}}},
		"version": Schema{"type": "integer"}, "code_year": Schema{"type": "integer"},
		"group": Ref("GroupResult"), "warnings": Schema{"type": "array", "items": Schema{"type": "string"}}}})
	return []Route{{Method: http.MethodPost, Path: "/v1/cac", Roles: CACRoles, Tags: []string{"coding"},
		Summary: "Computer-assisted coding: suggest the codes the notes of a stay support",
		Description: "Reads the notes (sections, sentences, assertions) and suggests the principal diagnosis, secondary diagnoses and procedures a certified coder would assign under the ICD-10-CM Official Guidelines, " +
			"each with its evidence spans (UTF-8 byte offsets into the note's text) and the rule applied; what the notes mention and is not coded is listed with its reason. " +
			"With age, sex and discharge_status the suggestion is grouped with the exact grouper. Stateless: nothing is stored and no note text is logged.",
		Body:    &Body{Required: true, Content: JSON(Ref("CACRequest"))},
		MaxBody: cacsvc.MaxBodyBytes, Responses: OK("the suggestion", Ref("CACResponse")), Handler: s.handleCAC},
		{Method: http.MethodPost, Path: "/v1/encounters/{id}/cac", Roles: CACRoles, Tags: []string{"coding", "encounters"},
			Summary: "Computer-assisted coding of an encounter's notes, compared with its working codes",
			Description: "Reads the encounter's evidence of kind note (note ids are \"evidence[i]\") as POST /v1/cac does, recomputed from the notes as they are now; each suggestion is marked coded (in the working codes), new, " +
				"conflicting (another code of its category, or another principal diagnosis) or rejected (its latest decision on the same code, kind and span is a reject), with its latest decision " +
				"and the grouping the working codes would have with it accepted; decisions lists every decision made on the encounter. Nothing is stored.",
			Params: []Param{idParam}, Responses: OK("the suggestions", Schema{"type": "object"}), Handler: s.handleEncounterCAC},
		s.cacDecisionRoute()}, nil
}

// runCAC codes a request; on failure it has written the problem (422 for a field, 503 when
// the data directory holds no code files) and returns false.
func (s *Server) runCAC(c *gin.Context, req *cacsvc.Request) (*cacsvc.Response, bool) {
	start := time.Now()
	resp, err := s.cac.Run(req)
	s.metrics.cac.Observe(time.Since(start).Seconds())
	if err != nil {
		WriteError(c, cacError(err))
		return nil, false
	}
	return resp, true
}

// cacError is the problem of a CAC service error: 422 for a field, 503 when the data directory
// holds no code files.
func cacError(err error) error {
	switch {
	case len(claim.AsFieldErrors(err)) > 0:
		return validation(claim.AsFieldErrors(err)...)
	case errors.Is(err, cacsvc.ErrNoCodeFiles):
		return &problemError{http.StatusServiceUnavailable, KindUnavailable, err.Error(), nil}
	}
	return err
}

func (s *Server) handleCAC(c *gin.Context) {
	body, ok := ReadBody(c)
	if !ok {
		return
	}
	req, errs := cacsvc.ParseRequest(body)
	if errs != nil {
		WriteValidation(c, errs...)
		return
	}
	resp, ok := s.runCAC(c, req)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, resp)
}

// EncounterSuggestion is a CAC suggestion compared with the encounter's working codes.
type EncounterSuggestion struct {
	cacsvc.Suggestion
	// Role is pdx, sdx or procedure.
	Role string `json:"role"`
	// Status: coded (in the working codes), new, conflicting (the working codes hold another
	// code of the same category, or another principal diagnosis), or rejected (a coder
	// rejected this code in this role on one of its spans, and has not accepted it since).
	Status string `json:"status"`
	// Conflicts names the working codes it conflicts with.
	Conflicts []string `json:"conflicts,omitempty"`
	// IfAccepted is the grouping of the working codes with the suggestion accepted (new,
	// conflicting and rejected suggestions, when the encounter can be grouped).
	IfAccepted *store.DRG `json:"if_accepted,omitempty"`
	// Decision is the latest accept or reject of the suggestion (same code, role and span).
	Decision *store.CACDecision `json:"decision,omitempty"`
}

// EncounterCAC is the answer of POST /v1/encounters/{id}/cac.
type EncounterCAC struct {
	EncounterID string                `json:"encounter_id"`
	WorkingDRG  *store.DRG            `json:"working_drg,omitempty"`
	Suggestions []EncounterSuggestion `json:"suggestions"`
	NotCoded    any                   `json:"not_coded"`
	// Decisions are every accept and reject made on the encounter, oldest first (those of
	// suggestions the notes no longer make included).
	Decisions []store.CACDecision `json:"decisions"`
	Version   int                 `json:"version"`
	Warnings  []string            `json:"warnings,omitempty"`
}

// encounterCACRequest reads the encounter's notes (evidence of kind note; a note's id is
// "evidence[i]", its index in the encounter's evidence).
func encounterCACRequest(e *store.Encounter) (*cacsvc.Request, error) {
	req := &cacsvc.Request{ID: e.ID, Age: e.Age, Sex: e.Sex, DischargeStatus: e.DischargeStatus,
		AdmitDate: e.AdmitDate, DischargeDate: e.DischargeDate, Version: e.Version}
	for i, ev := range e.Evidence {
		if ev.Kind != claim.KindNote || strings.TrimSpace(ev.Text) == "" {
			continue
		}
		req.Notes = append(req.Notes, cacsvc.NoteIn{ID: noteID(i), NoteType: ev.NoteType,
			AuthorRole: ev.AuthorRole, Time: ev.Time, Text: ev.Text})
	}
	if len(req.Notes) == 0 {
		return nil, &claim.FieldError{Field: "evidence", Message: "the encounter has no notes to read (evidence of kind note with text)"}
	}
	return req, nil
}

// noteID is the id of the note at index i of an encounter's evidence.
func noteID(i int) string { return fmt.Sprintf("evidence[%d]", i) }

// noteAt returns the note an id names ("evidence[i]" of kind note with text).
func noteAt(e *store.Encounter, id string) (*claim.Evidence, bool) {
	var i int
	if _, err := fmt.Sscanf(id, "evidence[%d]", &i); err != nil || noteID(i) != id || i < 0 || i >= len(e.Evidence) {
		return nil, false
	}
	ev := &e.Evidence[i]
	if ev.Kind != claim.KindNote || strings.TrimSpace(ev.Text) == "" {
		return nil, false
	}
	return ev, true
}

// decisionKey identifies a suggestion's span for its decisions: role, code, the note's text
// hash and the byte offsets.
func decisionKey(role, code, noteHash string, start, end int) string {
	return fmt.Sprintf("%s|%s|%s|%d|%d", role, code, noteHash, start, end)
}

// encounterSuggestions codes the encounter's notes and places every suggestion against its
// working codes and the decisions already made.
func (s *Server) encounterSuggestions(ctx context.Context, e *store.Encounter) (*EncounterCAC, error) {
	req, err := encounterCACRequest(e)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := s.cac.Run(req)
	s.metrics.cac.Observe(time.Since(start).Seconds())
	if err != nil {
		return nil, cacError(err)
	}
	decisions, err := s.cfg.Store.CACDecisions(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	latest := map[string]*store.CACDecision{}
	for i := range decisions {
		d := &decisions[i]
		latest[decisionKey(d.Kind, d.Code, d.Span.NoteHash, d.Span.Start, d.Span.End)] = d
	}
	hashes := map[string]string{}
	for _, n := range req.Notes {
		hashes[n.ID] = store.NoteHash(n.Text)
	}
	out := &EncounterCAC{EncounterID: e.ID, WorkingDRG: e.WorkingDRG, NotCoded: resp.NotCoded, Decisions: decisions,
		Version: resp.Version, Warnings: resp.Warnings}
	add := func(role string, sg cacsvc.Suggestion) {
		es := EncounterSuggestion{Suggestion: sg, Role: role}
		es.Status, es.Conflicts = compareWorking(&e.Codes, role, sg.Code)
		for _, ev := range sg.Evidence {
			d := latest[decisionKey(role, sg.Code, hashes[ev.Note], ev.Start, ev.End)]
			if d != nil && (es.Decision == nil || d.ID > es.Decision.ID) {
				es.Decision = d
			}
		}
		if es.Decision != nil && es.Decision.Decision == store.DecisionReject {
			es.Status = "rejected"
		}
		if es.Status != "coded" {
			es.IfAccepted = s.groupIfAccepted(e, role, sg)
		}
		out.Suggestions = append(out.Suggestions, es)
	}
	if resp.PDX != nil {
		add("pdx", *resp.PDX)
	}
	for _, sg := range resp.SDX {
		add("sdx", sg)
	}
	for _, sg := range resp.Procedures {
		add("procedure", sg)
	}
	if out.Suggestions == nil {
		out.Suggestions = []EncounterSuggestion{}
	}
	if out.Decisions == nil {
		out.Decisions = []store.CACDecision{}
	}
	return out, nil
}

func (s *Server) handleEncounterCAC(c *gin.Context) {
	e, err := s.cfg.Store.GetEncounter(c.Request.Context(), c.Param("id"))
	if err != nil {
		WriteError(c, err)
		return
	}
	out, err := s.encounterSuggestions(c.Request.Context(), e)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("ETag", etag(e))
	c.JSON(http.StatusOK, out)
}

// compareWorking places a suggested code against the working codes.
func compareWorking(cs *store.Codes, role, code string) (string, []string) {
	var diagnoses []string
	if cs.PDX != nil {
		diagnoses = append(diagnoses, cs.PDX.Code)
	}
	for _, d := range cs.SDX {
		diagnoses = append(diagnoses, d.Code)
	}
	var procs []string
	for _, p := range cs.Procedures {
		procs = append(procs, p.Code)
	}
	working := diagnoses
	if role == "procedure" {
		working = procs
	}
	if role == "pdx" && cs.PDX != nil && cs.PDX.Code != code {
		return "conflicting", []string{cs.PDX.Code}
	}
	if slices.Contains(working, code) {
		return "coded", nil
	}
	var conflicts []string
	if role != "procedure" && len(code) >= 3 {
		for _, w := range working {
			if len(w) >= 3 && w[:3] == code[:3] {
				conflicts = append(conflicts, w)
			}
		}
	}
	if len(conflicts) > 0 {
		return "conflicting", conflicts
	}
	return "new", nil
}

// acceptInto puts a suggestion into a code set as accepting it does: a principal diagnosis
// replaces the working one (which becomes secondary), a secondary diagnosis replaces the
// secondary codes of its category, a procedure is added. The new code is c.
func acceptInto(cs *store.Codes, role string, c store.Code) {
	switch role {
	case "pdx":
		if cs.PDX != nil && cs.PDX.Code != c.Code {
			cs.SDX = slices.DeleteFunc(cs.SDX, func(d store.Code) bool { return d.Code == c.Code })
			cs.SDX = append([]store.Code{*cs.PDX}, cs.SDX...)
		}
		cs.PDX = &c
	case "sdx":
		cs.SDX = slices.DeleteFunc(cs.SDX, func(d store.Code) bool { return len(d.Code) >= 3 && len(c.Code) >= 3 && d.Code[:3] == c.Code[:3] })
		cs.SDX = append(cs.SDX, c)
	case "procedure":
		cs.Procedures = append(cs.Procedures, c)
	}
}

// groupable reports whether the encounter has what grouping needs besides codes.
func groupable(e *store.Encounter, cs *store.Codes) bool {
	return cs.PDX != nil && e.Age != nil && e.Sex != "" && e.DischargeStatus != nil
}

// groupIfAccepted groups the working codes with the suggestion accepted (acceptInto). Nil
// when it cannot be grouped.
func (s *Server) groupIfAccepted(e *store.Encounter, role string, sg cacsvc.Suggestion) *store.DRG {
	cs := store.Codes{PDX: e.PDX, AdmitDx: e.AdmitDx, SDX: slices.Clone(e.SDX), Procedures: slices.Clone(e.Procedures)}
	acceptInto(&cs, role, store.Code{Code: sg.Code, POA: sg.POA})
	if !groupable(e, &cs) {
		return nil
	}
	d, _, _, err := s.groupEncounter(e, &cs, 0, false, "")
	if err != nil {
		return nil
	}
	return d
}
