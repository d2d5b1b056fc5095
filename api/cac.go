package api

import (
	"errors"
	"net/http"

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
		MaxBody: cacsvc.MaxBodyBytes, Responses: OK("the suggestion", Ref("CACResponse")), Handler: s.handleCAC}}, nil
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
	resp, err := s.cac.Run(req)
	if err != nil {
		if fes := claim.AsFieldErrors(err); len(fes) > 0 {
			WriteValidation(c, fes...)
			return
		}
		if errors.Is(err, cacsvc.ErrNoCodeFiles) {
			WriteProblem(c, http.StatusServiceUnavailable, KindUnavailable, err.Error())
			return
		}
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, resp)
}
