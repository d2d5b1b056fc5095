package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/store"
)

// EvidenceImport is the answer of the evidence imports: what was loaded and, per item, what
// was not.
type EvidenceImport struct {
	Encounter  *store.Encounter `json:"encounter"`
	Loaded     int              `json:"loaded"`     // evidence items added
	Duplicates int              `json:"duplicates"` // items identical to stored ones, skipped
	Errors     []ItemError      `json:"errors"`
}

// ItemError reports one input item (bundle entry or evidence array element) not loaded.
type ItemError struct {
	Index        int    `json:"index"`
	ResourceType string `json:"resource_type,omitempty"`
	ID           string `json:"id,omitempty"`
	Message      string `json:"message"`
}

// maxEvidence bounds the evidence of one encounter (as POST /v1/encounters does).
const maxEvidence = 20000

func fhirErrors(errs []cdi.FHIRError) []ItemError {
	out := make([]ItemError, len(errs))
	for i, e := range errs {
		out[i] = ItemError{Index: e.Entry, ResourceType: e.ResourceType, ID: e.ID, Message: e.Message}
	}
	return out
}

func isFHIR(c *gin.Context) bool {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	return mt == "application/fhir+json"
}

// parseBundle reads a FHIR Bundle body; a body that is not a Bundle is a 400/422 problem.
func parseBundle(c *gin.Context) (*claim.Encounter, []ItemError, bool) {
	b, ok := ReadBody(c)
	if !ok {
		return nil, nil, false
	}
	if len(bytes.TrimSpace(b)) == 0 {
		WriteProblem(c, http.StatusBadRequest, KindMalformed, "empty request body: a FHIR R4 Bundle is required")
		return nil, nil, false
	}
	if t := bytes.TrimSpace(b); t[0] != '{' && json.Valid(t) {
		WriteProblem(c, http.StatusBadRequest, KindMalformed, "the body must be a FHIR R4 Bundle (a JSON object), not "+jsonKindOf(t))
		return nil, nil, false
	}
	enc, errs, err := cdi.ParseFHIRBundle(b)
	if err != nil {
		if !json.Valid(b) {
			WriteProblem(c, http.StatusBadRequest, KindMalformed, err.Error())
		} else {
			WriteValidation(c, &FieldError{Field: "resourceType", Message: err.Error()})
		}
		return nil, nil, false
	}
	return enc, fhirErrors(errs), true
}

func (h *cdiService) handleCreateFromFHIR(c *gin.Context) {
	enc, errs, ok := parseBundle(c)
	if !ok {
		return
	}
	if enc.Account == "" {
		WriteValidation(c, &FieldError{Field: "entry", Message: "the Bundle has no usable Encounter resource: nothing identifies the encounter"})
		return
	}
	for i := range enc.Evidence {
		enc.Evidence[i].Code = claim.NormalizeCode(enc.Evidence[i].Code)
	}
	in := EncounterInput{Version: enc.Version, DischargeDate: enc.DischargeDate, Age: enc.Age, Sex: enc.Sex, DischargeStatus: enc.DischargeStatus,
		Account: enc.Account, Facility: enc.Facility, AdmitDate: enc.AdmitDate, Payer: enc.Payer, ServiceLine: enc.ServiceLine, Unit: enc.Unit,
		AttendingProvider: enc.AttendingProvider, Evidence: enc.Evidence}
	if enc.PDX != nil {
		in.PDX = &store.Code{Code: enc.PDX.Code, POA: enc.PDX.POA}
	}
	for _, d := range enc.SDX {
		in.SDX = append(in.SDX, store.Code{Code: d.Code, POA: d.POA})
	}
	for _, p := range enc.Procedures {
		in.Procedures = append(in.Procedures, store.Code{Code: p.Code, Date: p.Date})
	}
	in.Codes.Normalize()
	if fes := claim.Errors(in.check(true)).Merge(validateErr(&in)); len(fes) > 0 {
		WriteValidation(c, fes...) // every field at fault at once
		return
	}
	actor := ActorFrom(c)
	in.Codes.FillSources(store.Codes{}, store.SourceImport)
	var e store.Encounter
	in.apply(&e)
	created, err := h.s.cfg.Store.CreateEncounter(c.Request.Context(), actor, &e)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("Location", "/v1/encounters/"+created.ID)
	c.Header("ETag", etag(created))
	c.JSON(http.StatusCreated, EvidenceImport{Encounter: created, Loaded: len(created.Evidence), Errors: errs})
}

// decodeEvidenceItems reads {"evidence": [...]} item by item: each item that is not a valid
// evidence object (claim.Evidence.Check, the rule of encounter creation too) is reported and
// skipped. Times without a zone are read in the zone of the encounter's facility.
func (h *cdiService) decodeEvidenceItems(c *gin.Context) ([]claim.Evidence, []ItemError, bool) {
	b, ok := ReadBody(c)
	if !ok {
		return nil, nil, false
	}
	var body struct {
		Evidence []json.RawMessage `json:"evidence"`
	}
	if err := decodeStrictErr(b, &body); err != nil {
		WriteError(c, err)
		return nil, nil, false
	}
	if body.Evidence == nil {
		WriteValidation(c, &FieldError{Field: "evidence", Message: "required: an array of evidence items"})
		return nil, nil, false
	}
	zl := &zoneLookup{s: h.s, ctx: c.Request.Context(), facility: func() string {
		e, err := h.s.cfg.Store.GetEncounter(c.Request.Context(), c.Param("id"))
		if err != nil {
			return "" // the change itself reports a missing encounter
		}
		return e.Facility
	}}
	var out []claim.Evidence
	errs := []ItemError{}
	for i, raw := range body.Evidence {
		var ev claim.Evidence
		fes, err := decodeFields(raw, &ev, zl.location)
		if err != nil {
			errs = append(errs, ItemError{Index: i, Message: err.Error()})
			continue
		}
		if fes = fes.Merge(ev.Check()); len(fes) > 0 {
			errs = append(errs, ItemError{Index: i, Message: fes.Error()})
			continue
		}
		ev.Code = claim.NormalizeCode(strings.TrimSpace(ev.Code))
		out = append(out, ev)
	}
	if zl.err != nil {
		WriteError(c, fmt.Errorf("time zone of the encounter's facility: %w", zl.err))
		return nil, nil, false
	}
	return out, errs, true
}

func (h *cdiService) handleAppendEvidence(c *gin.Context) {
	rowVersion, ok := ifMatch(c)
	if !ok {
		return
	}
	var items []claim.Evidence
	var errs []ItemError
	if isFHIR(c) {
		enc, ferrs, ok := parseBundle(c)
		if !ok {
			return
		}
		items, errs = enc.Evidence, ferrs
		for i := range items {
			items[i].Code = claim.NormalizeCode(items[i].Code)
		}
	} else {
		var ok bool
		if items, errs, ok = h.decodeEvidenceItems(c); !ok {
			return
		}
	}
	if errs == nil {
		errs = []ItemError{}
	}
	loaded, dups := 0, 0
	e, err := h.s.cfg.Store.UpdateEncounter(c.Request.Context(), ActorFrom(c), c.Param("id"), rowVersion, "evidence", func(e *store.Encounter) error {
		if e.Status == store.StatusFinal {
			return fmt.Errorf("%w: its evidence is frozen", store.ErrFinal)
		}
		seen := map[string]bool{}
		for i := range e.Evidence {
			seen[evidenceKey(&e.Evidence[i])] = true
		}
		for i := range items {
			k := evidenceKey(&items[i])
			if seen[k] {
				dups++
				continue
			}
			seen[k] = true
			e.Evidence = append(e.Evidence, items[i])
			loaded++
		}
		if len(e.Evidence) > maxEvidence {
			return validation(&FieldError{Field: "evidence", Message: fmt.Sprintf("an encounter holds at most %d evidence items", maxEvidence)})
		}
		return nil
	})
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("ETag", etag(e))
	e.Evidence = nil // the import answer does not repeat the whole record
	c.JSON(http.StatusOK, EvidenceImport{Encounter: e, Loaded: loaded, Duplicates: dups, Errors: errs})
}

func evidenceKey(ev *claim.Evidence) string {
	b, _ := json.Marshal(ev)
	return string(b)
}

// Position cursors of the worklist.
func encodeOffset(n int) string {
	b, _ := json.Marshal(map[string]int{"offset": n})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeOffset(s string, n *int) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var v map[string]int
	if err != nil || json.Unmarshal(b, &v) != nil || v["offset"] < 0 {
		return store.ErrBadCursor
	}
	*n = v["offset"]
	return nil
}
