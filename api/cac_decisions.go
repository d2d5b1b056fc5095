package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/store"
)

// CACDecisionInput is the body of POST /v1/encounters/{id}/cac/decisions: a coder's accept or
// reject of one suggestion of POST /v1/encounters/{id}/cac, named by its code, kind and one of
// its evidence spans.
type CACDecisionInput struct {
	Code     string `json:"code" binding:"required,max=8"`
	Kind     string `json:"kind" binding:"required,oneof=pdx sdx procedure"`
	Decision string `json:"decision" binding:"required,oneof=accept reject"`
	Reason   string `json:"reason,omitempty" binding:"max=500"`
	Span     *struct {
		Note  string `json:"note" binding:"required,max=64"`
		Start int    `json:"start" binding:"min=0"`
		End   int    `json:"end" binding:"min=0"`
	} `json:"span" binding:"required"`
}

// CACDecisionResult is the answer of POST /v1/encounters/{id}/cac/decisions.
type CACDecisionResult struct {
	Decision store.CACDecision `json:"decision"`
	// Encounter is the encounter after the decision (its evidence left out: GET it).
	Encounter *store.Encounter `json:"encounter"`
}

func (s *Server) cacDecisionRoute() Route {
	s.AddSchema("CACDecision", obj([]string{"code", "kind", "decision", "span"}, Schema{
		"code": str("the suggested code (dots accepted)"), "kind": Schema{"enum": []string{"pdx", "sdx", "procedure"}},
		"decision": Schema{"enum": []string{"accept", "reject"}}, "reason": Schema{"type": "string", "maxLength": 500},
		"span": obj([]string{"note", "start", "end"}, Schema{"note": str("note id, evidence[i]"),
			"start": Schema{"type": "integer"}, "end": Schema{"type": "integer"}})}))
	return Route{Method: http.MethodPost, Path: "/v1/encounters/{id}/cac/decisions", Roles: CACRoles, Tags: []string{"coding", "encounters"},
		Summary: "Accept or reject a computer-assisted coding suggestion",
		Description: "The suggestion is named by code, kind and one of its evidence spans as POST /v1/encounters/{id}/cac returns them (422 when the notes make no such suggestion now). " +
			"accept puts the code into the working codes with source cac and the span as its support — a principal diagnosis replaces the working one (which becomes secondary), " +
			"a secondary diagnosis replaces the secondary codes of its category, a procedure is added — and regroups the encounter when it can be grouped; accepting a suggestion already coded changes no code. " +
			"reject changes no code. Every decision is kept and audited (user, code, kind, span, reason; never the note's text); the suggestion shows the latest one, a rejected suggestion stays rejected while the notes make it on the same span.",
		Params: []Param{idParam, ifMatchParam}, Body: &Body{Required: true, Content: JSON(Ref("CACDecision"))},
		Responses: withPreconditions(map[int]Response{201: {Description: "the decision and the encounter", Content: JSON(Schema{"type": "object"}), Headers: map[string]string{"ETag": "row version"}},
			409: {Description: "the encounter is final", Content: problemContent}, 412: {Description: "changed since read (If-Match)", Content: problemContent}}),
		Handler: s.handleCACDecision}
}

func (s *Server) handleCACDecision(c *gin.Context) {
	rowVersion, ok := ifMatch(c)
	if !ok {
		return
	}
	body, ok := ReadBody(c)
	if !ok {
		return
	}
	var in CACDecisionInput
	if !decodeStrict(c, body, &in) {
		return
	}
	in.Code = strings.ToUpper(claim.NormalizeCode(strings.TrimSpace(in.Code)))
	if !Validate(c, &in) {
		return
	}
	ctx := c.Request.Context()
	e, err := s.cfg.Store.GetEncounter(ctx, c.Param("id"))
	if err != nil {
		WriteError(c, err)
		return
	}
	switch {
	case rowVersion != 0 && rowVersion != e.RowVersion:
		WriteError(c, fmt.Errorf("%w: encounter is at row version %d, not %d", store.ErrVersionMismatch, e.RowVersion, rowVersion))
		return
	case e.Status == store.StatusFinal:
		WriteError(c, fmt.Errorf("%w: a final encounter's codes change by finalizing again", store.ErrFinal))
		return
	}
	note, ok := noteAt(e, in.Span.Note)
	if !ok {
		WriteValidation(c, &FieldError{Field: "span.note", Message: "not a note of the encounter (evidence[i] of kind note)"})
		return
	}
	if in.Span.End <= in.Span.Start || in.Span.End > len(note.Text) {
		WriteValidation(c, &FieldError{Field: "span.end", Message: fmt.Sprintf("the span must be start < end <= %d (the note's length in bytes)", len(note.Text))})
		return
	}
	sugg, err := s.encounterSuggestions(ctx, e)
	if err != nil {
		WriteError(c, err)
		return
	}
	var found *EncounterSuggestion
	var spans []string
	for i := range sugg.Suggestions {
		sg := &sugg.Suggestions[i]
		if sg.Role != in.Kind || sg.Code != in.Code {
			continue
		}
		for _, ev := range sg.Evidence {
			spans = append(spans, fmt.Sprintf("%s %d-%d", ev.Note, ev.Start, ev.End))
			if ev.Note == in.Span.Note && ev.Start == in.Span.Start && ev.End == in.Span.End {
				found = sg
			}
		}
	}
	if found == nil {
		if spans == nil {
			WriteValidation(c, &FieldError{Field: "code", Message: fmt.Sprintf("the notes make no %s suggestion %s now (POST /v1/encounters/%s/cac lists them)", in.Kind, in.Code, e.ID)})
		} else {
			WriteValidation(c, &FieldError{Field: "span", Message: "not a span of the suggestion; its spans: " + strings.Join(spans, ", ")})
		}
		return
	}
	span := store.Span{Note: in.Span.Note, NoteHash: store.NoteHash(note.Text), Start: in.Span.Start, End: in.Span.End}
	d := store.CACDecision{EncounterID: e.ID, Code: in.Code, Kind: in.Kind, Decision: in.Decision, Reason: strings.TrimSpace(in.Reason),
		Span: span, NoteType: note.NoteType}
	actor := ActorFrom(c)
	out := e
	err = s.cfg.Store.Tx(ctx, func(tx *store.Tx) error {
		if in.Decision == store.DecisionAccept && found.Status != "coded" {
			updated, err := tx.UpdateEncounter(actor, e.ID, e.RowVersion, "cac_codes", func(u *store.Encounter) error {
				acceptInto(&u.Codes, in.Kind, store.Code{Code: found.Code, POA: found.POA, Source: store.SourceCAC, Support: &span})
				if !groupable(u, &u.Codes) {
					return nil
				}
				drg, _, _, err := s.groupEncounter(u, nil, 0, false, actor.Name)
				if err != nil {
					return nil // the codes change; the working DRG waits for a grouping that can be made
				}
				drg.GroupedAt = nowMicro(s.cfg.Now)
				u.WorkingDRG = drg
				if u.BaselineDRG == nil {
					u.BaselineDRG = drg // the first grouping, as POST /v1/encounters/{id}/group sets it
				}
				return nil
			})
			if err != nil {
				return err
			}
			out = updated
		} else if err := tx.CheckEncounterVersion(e.ID, e.RowVersion); err != nil {
			return err
		}
		return tx.AddCACDecision(actor, &d)
	})
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("ETag", etag(out))
	res := *out
	res.Evidence = nil
	c.JSON(http.StatusCreated, CACDecisionResult{Decision: d, Encounter: &res})
}
