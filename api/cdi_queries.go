package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/store"
)

// QueryView is a query version as the API shows it: the stored record, whether it is overdue
// under the escalation policy, and the provider-facing text.
type QueryView struct {
	cdi.Query
	Overdue bool   `json:"overdue"`
	Text    string `json:"text"`
}

func (h *cdiService) view(q cdi.Query) QueryView {
	return QueryView{Query: q, Overdue: cdi.DueForEscalation(&q, h.s.cfg.Now(), h.policy), Text: q.QueryContent.Text()}
}

// QueryCreate is the body of POST /v1/encounters/{id}/queries.
type QueryCreate struct {
	OpportunityID string `json:"opportunity_id" binding:"required,max=200"`
	// Format: the plan's (default) or open_ended (asks without naming the diagnosis).
	Format   string          `json:"format,omitempty" binding:"omitempty,oneof=multiple_choice yes_no open_ended"`
	Channel  string          `json:"channel,omitempty" binding:"omitempty,oneof=written verbal"`
	Provider *claim.Provider `json:"provider,omitempty"`
}

// QueryDraft is a draft (or the version an edit made) with its lint result.
type QueryDraft struct {
	Query QueryView      `json:"query"`
	Lint  cdi.LintResult `json:"lint"`
}

// cdiProblem turns an error of a cdi lifecycle step into the problem to answer: a transition
// not allowed is 409, a lint failure is returned as is (answered by writeLintProblem), any
// other refusal is 422.
func cdiProblem(err error) error {
	var le *cdi.LintError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &le):
		return err
	case errors.Is(err, cdi.ErrTransition):
		return &problemError{http.StatusConflict, KindConflict, err.Error(), nil}
	}
	return &problemError{http.StatusUnprocessableEntity, KindValidation, err.Error(), nil}
}

// writeQueryError answers an error of a query handler.
func writeQueryError(c *gin.Context, err error) {
	var le *cdi.LintError
	if errors.As(err, &le) {
		writeLintProblem(c, le.Result)
		return
	}
	WriteError(c, err)
}

// writeDraftRefusal answers a draft the generator cannot produce (cdi.ErrNoCompliantDraft:
// nothing to cite, no supported option, a draft the linter refuses) with a 422 that says why:
// the opportunity_id field, and the broken rules when the linter refused it.
func writeDraftRefusal(c *gin.Context, err error) {
	errs := []*FieldError{{Field: "opportunity_id", Message: err.Error()}}
	var le *cdi.LintError
	if errors.As(err, &le) {
		for _, v := range le.Result.Violations {
			errs = append(errs, &FieldError{Field: v.Field, Message: v.Rule + ": " + v.Message})
		}
	}
	WriteProblem(c, http.StatusUnprocessableEntity, KindValidation, err.Error(), errs...)
}

// queryTx runs a change of the query named by the path inside a transaction, after checking
// that its version tag is still want (If-Match; else ErrVersionMismatch), and sets tag to the
// version tag after the change (the ETag of the answer).
func (h *cdiService) queryTx(c *gin.Context, want int, tag *int, fn func(tx *store.Tx) error) error {
	id := c.Param("id")
	return h.s.cfg.Store.Tx(c.Request.Context(), func(tx *store.Tx) error {
		cur, err := tx.QueryTag(id)
		if err != nil {
			return err
		}
		if cur != want {
			return fmt.Errorf("%w: query %s is at version tag %d, not %d", store.ErrVersionMismatch, id, cur, want)
		}
		if err := fn(tx); err != nil {
			return err
		}
		*tag, err = tx.QueryTag(id)
		return err
	})
}

// latest returns the latest version of a query, inside a transaction.
func latest(tx *store.Tx, id string) (cdi.Query, []cdi.Query, error) {
	vs, err := tx.QueryVersions(id)
	if err != nil {
		return cdi.Query{}, nil, err
	}
	return vs[len(vs)-1], vs, nil
}

func (h *cdiService) handleCreateQuery(c *gin.Context) {
	var in QueryCreate
	if !DecodeJSON(c, &in) {
		return
	}
	ctx := c.Request.Context()
	e, err := h.s.cfg.Store.GetEncounter(ctx, c.Param("id"))
	if err != nil {
		WriteError(c, err)
		return
	}
	sr, err := h.s.cfg.Store.GetCDIReview(ctx, e.ID)
	if err != nil {
		WriteError(c, fmt.Errorf("%w: POST /v1/encounters/%s/review first", err, e.ID))
		return
	}
	var rev CDIReview
	if sr.EncounterRowVersion != e.RowVersion {
		// The encounter changed since its review: query from a review of the current record.
		fresh, err := h.storeReview(ctx, ActorFrom(c), e)
		if err != nil {
			WriteError(c, err)
			return
		}
		rev = *fresh
	} else if err := json.Unmarshal(sr.Doc, &rev); err != nil {
		WriteError(c, fmt.Errorf("decode stored review: %w", err))
		return
	}
	var opp *cdi.Opportunity
	var ids []string
	for i := range rev.Review.Opportunities {
		ids = append(ids, rev.Review.Opportunities[i].ID)
		if rev.Review.Opportunities[i].ID == in.OpportunityID {
			opp = &rev.Review.Opportunities[i]
		}
	}
	if opp == nil {
		WriteValidation(c, &FieldError{Field: "opportunity_id", Message: fmt.Sprintf("not an opportunity of the latest review (%s)", strings.Join(ids, ", "))})
		return
	}
	if in.Format != "" && in.Format != opp.Query.Format && in.Format != cdi.FormatOpenEnded {
		WriteValidation(c, &FieldError{Field: "format", Message: fmt.Sprintf("this opportunity is queried as %s or open_ended (yes/no only to confirm a documented diagnosis, POA, cause and effect or a conflict, Q6)", opp.Query.Format)})
		return
	}
	provider := in.Provider
	if provider == nil {
		provider = e.AttendingProvider
	}
	actor := ActorFrom(c)
	q, err := cdi.GenerateQuery(opp, cdi.GenerateOptions{ID: store.NewID(), EncounterID: e.ID, Account: e.Account, AdmitDate: e.AdmitDate,
		PDXTitle: pdxTitle(rev.Review), Author: &cdi.Provider{ID: actor.Name}, Provider: provider, Now: h.now(), Format: in.Format, Channel: in.Channel})
	if err != nil {
		writeDraftRefusal(c, err)
		return
	}
	err = h.s.cfg.Store.Tx(ctx, func(tx *store.Tx) error {
		open, err := tx.OpenQueryOn(e.ID, opp.ID)
		if err != nil {
			return err
		}
		if open != "" {
			return fmt.Errorf("%w: query %s on opportunity %s is not closed", store.ErrConflict, open, opp.ID)
		}
		return tx.AppendQuery(actor, &q, "create")
	})
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("Location", "/v1/queries/"+q.ID)
	c.Header("ETag", versionTag(1)) // its first record
	c.JSON(http.StatusCreated, QueryDraft{Query: h.view(q), Lint: cdi.Lint(&q, cdi.LintOptions{})})
}

// QueryListQuery are the parameters of GET /v1/queries.
type QueryListQuery struct {
	Status     string `form:"status" binding:"omitempty,oneof=draft sent answered escalated closed open overdue"`
	Encounter  string `form:"encounter" binding:"max=64"`
	Provider   string `form:"provider" binding:"max=64"`
	Specialist string `form:"specialist" binding:"max=200"`
	Limit      int    `form:"limit" binding:"omitempty,min=1,max=1000"`
	Cursor     string `form:"cursor" binding:"max=200"`
}

func (h *cdiService) handleListQueries(c *gin.Context) {
	var q QueryListQuery
	if !bindQuery(c, &q) {
		return
	}
	f := store.QueryFilter{EncounterID: q.Encounter, ProviderID: q.Provider, AuthorID: q.Specialist}
	switch q.Status {
	case "":
	case "open":
		f.States = []string{cdi.StateSent, cdi.StateEscalated}
	case "overdue":
		f.States = []string{cdi.StateSent}
		f.SentBefore = h.s.cfg.Now().Add(-time.Duration(h.policy.Hours * float64(time.Hour)))
	default:
		f.States = []string{q.Status}
	}
	limit := q.Limit
	if limit == 0 {
		limit = 50
	}
	qs, next, err := h.s.cfg.Store.ListQueries(c.Request.Context(), f, limit, q.Cursor)
	if err != nil {
		WriteError(c, err)
		return
	}
	items := make([]QueryView, 0, len(qs))
	for _, x := range qs {
		if q.Status == "open" && x.Answer != nil {
			continue
		}
		items = append(items, h.view(x))
	}
	ids := make([]string, len(items))
	for i := range items {
		ids[i] = items[i].ID
	}
	setReadIDs(c, ids)
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": next})
}

func (h *cdiService) handleGetQuery(c *gin.Context) {
	history, ok := boolParam(c, "history")
	if !ok {
		return
	}
	ctx := c.Request.Context()
	// The tag first: a change landing between the two reads makes it older than the body
	// (a change sent with it is refused), never newer.
	tag, err := h.s.cfg.Store.QueryTag(ctx, c.Param("id"))
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("ETag", versionTag(tag))
	vs, err := h.s.cfg.Store.QueryVersions(ctx, c.Param("id"))
	if err != nil {
		WriteError(c, err)
		return
	}
	out := gin.H{"query": h.view(vs[len(vs)-1])}
	views := make([]QueryView, len(vs))
	for i := range vs {
		views[i] = h.view(vs[i])
	}
	out["versions"] = views
	if history {
		recs, err := h.s.cfg.Store.QueryHistory(ctx, c.Param("id"))
		if err != nil {
			WriteError(c, err)
			return
		}
		out["history"] = recs
	}
	c.JSON(http.StatusOK, out)
}

// mergeContent applies a JSON merge patch (top level) to a query's content.
func mergeContent(cur cdi.QueryContent, patch map[string]json.RawMessage) (cdi.QueryContent, error) {
	b, err := json.Marshal(cur)
	if err != nil {
		return cur, fmt.Errorf("encode query content: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return cur, fmt.Errorf("decode query content: %w", err)
	}
	for k, v := range patch {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return cur, fmt.Errorf("encode query content: %w", err)
	}
	var out cdi.QueryContent
	if err := decodeStrictErr(mb, &out); err != nil {
		return cur, err
	}
	return out, nil
}

func (h *cdiService) handlePatchQuery(c *gin.Context) {
	want, ok := requireVersion(c, "query")
	if !ok {
		return
	}
	body, ok := ReadBody(c)
	if !ok {
		return
	}
	var patch map[string]json.RawMessage
	if err := json.Unmarshal(body, &patch); err != nil || patch == nil {
		WriteProblem(c, http.StatusBadRequest, KindMalformed, "the body must be a JSON object of the content fields to change")
		return
	}
	actor := ActorFrom(c)
	var n cdi.Query
	var tag int
	err := h.queryTx(c, want, &tag, func(tx *store.Tx) error {
		q, _, err := latest(tx, c.Param("id"))
		if err != nil {
			return err
		}
		if q.State == cdi.StateClosed {
			return fmt.Errorf("%w: query %s is closed", store.ErrConflict, q.Key())
		}
		content, err := mergeContent(q.QueryContent, patch)
		if err != nil {
			return err
		}
		if fes := content.Check(); len(fes) > 0 {
			return validation(fes...) // e.g. an indicator without a known kind
		}
		if n, err = cdi.Edit(q, content, actor.Name, h.now()); err != nil {
			return cdiProblem(err)
		}
		action := "edit"
		if n.Version > q.Version {
			action = "new_version"
		}
		return tx.AppendQuery(actor, &n, action)
	})
	if err != nil {
		writeQueryError(c, err)
		return
	}
	c.Header("ETag", versionTag(tag))
	c.JSON(http.StatusOK, QueryDraft{Query: h.view(n), Lint: cdi.Lint(&n, cdi.LintOptions{})})
}

// QueryLintInput is the body of POST /v1/queries/lint: content to lint, as an edit of a
// stored query (query_id) or as a new draft.
type QueryLintInput struct {
	QueryID     string `json:"query_id,omitempty" binding:"max=64"`
	EncounterID string `json:"encounter_id,omitempty" binding:"max=64"`
	// Diagnoses name the diagnosis in question (an open-ended question must not, Q7); a
	// stored query's are used with query_id.
	Diagnoses []string `json:"diagnoses,omitempty" binding:"max=50"`
	cdi.QueryContent
}

// LintAnswer is the answer of POST /v1/queries/lint.
type LintAnswer struct {
	cdi.LintResult
	Rules []string `json:"rules"`
}

func (h *cdiService) handleLint(c *gin.Context) {
	body, ok := ReadBody(c)
	if !ok {
		return
	}
	var in QueryLintInput
	fes, err := decodeFields(body, &in, nil)
	if err != nil {
		WriteError(c, err)
		return
	}
	// content the rules cannot read (an indicator without a known kind) is a 422 naming
	// the field, with every other field at fault, not a compliance finding
	if fes = fes.Merge(validateErr(&in), in.QueryContent.Check().Err()); len(fes) > 0 {
		WriteValidation(c, fes...)
		return
	}
	actor := ActorFrom(c)
	now := h.now()
	var q cdi.Query
	if in.QueryID != "" {
		vs, err := h.s.cfg.Store.QueryVersions(c.Request.Context(), in.QueryID)
		if err != nil {
			WriteError(c, err)
			return
		}
		if q, err = cdi.Edit(vs[len(vs)-1], in.QueryContent, actor.Name, now); err != nil {
			WriteError(c, cdiProblem(err))
			return
		}
	} else {
		enc := in.EncounterID
		if enc == "" {
			enc = "unsaved"
		}
		q = cdi.Query{ID: "lint", Version: 1, EncounterID: enc, Diagnoses: in.Diagnoses, Author: &cdi.Provider{ID: actor.Name},
			QueryContent: in.QueryContent, State: cdi.StateDraft, CreatedAt: now,
			Audit: []cdi.AuditEvent{{At: now, Actor: actor.Name, Action: "created", Version: 1}}}
		if q.Channel == "" {
			q.Channel = cdi.ChannelWritten
		}
	}
	res := cdi.Lint(&q, cdi.LintOptions{})
	rules := res.Rules()
	if rules == nil {
		rules = []string{}
	}
	c.JSON(http.StatusOK, LintAnswer{LintResult: res, Rules: rules})
}

// QuerySend is the optional body of POST /v1/queries/{id}/send.
type QuerySend struct {
	Verbal *cdi.VerbalRecord `json:"verbal,omitempty"`
}

func (h *cdiService) handleSend(c *gin.Context) {
	want, ok := requireVersion(c, "query")
	if !ok {
		return
	}
	body, ok := ReadBody(c)
	if !ok {
		return
	}
	var in QuerySend
	if len(bytes.TrimSpace(body)) > 0 && !DecodeJSONBytes(c, body, &in) {
		return
	}
	actor := ActorFrom(c)
	var n cdi.Query
	var tag int
	err := h.queryTx(c, want, &tag, func(tx *store.Tx) error {
		q, vs, err := latest(tx, c.Param("id"))
		if err != nil {
			return err
		}
		now := h.now()
		if n, err = cdi.Send(q, actor.Name, now, in.Verbal, cdi.LintOptions{}); err != nil {
			return cdiProblem(err)
		}
		if err := tx.AppendQuery(actor, &n, "send"); err != nil {
			return err
		}
		// The version this one supersedes is closed once the new one is out.
		if len(vs) > 1 {
			prev := vs[len(vs)-2]
			if (prev.State == cdi.StateSent || prev.State == cdi.StateEscalated) && prev.Answer == nil {
				closed, err := cdi.Close(prev, nil, "superseded by version "+fmt.Sprint(n.Version), actor.Name, now)
				if err != nil {
					return cdiProblem(err)
				}
				return tx.AppendQuery(actor, &closed, "close")
			}
		}
		return nil
	})
	if err != nil {
		writeQueryError(c, err)
		return
	}
	c.Header("ETag", versionTag(tag))
	c.JSON(http.StatusOK, h.view(n))
}

// QueryAnswerInput is the body of POST /v1/queries/{id}/answer: the provider's answer as CDI
// staff record it.
type QueryAnswerInput struct {
	Outcome string `json:"outcome" binding:"required,oneof=agree disagree other undetermined"`
	// Option is the index of the option the provider chose.
	Option *int   `json:"option,omitempty" binding:"omitempty,min=0"`
	Text   string `json:"text,omitempty" binding:"max=8000"`
	// Codes are ICD-10-CM codes derived from a free-text answer (they replace the option's).
	Codes []string `json:"codes,omitempty" binding:"max=10"`
	// POA of the codes the answer adds (default: the opportunity's assumption); Principal
	// sequences the first as principal diagnosis.
	POA             string     `json:"poa,omitempty" binding:"omitempty,oneof=Y N U W 1"`
	Principal       *bool      `json:"principal,omitempty"`
	AuthenticatedBy string     `json:"authenticated_by,omitempty" binding:"max=64"`
	At              *time.Time `json:"at,omitempty"`
	// Close (default true) applies the answer to the working codes and closes the query.
	Close *bool `json:"close,omitempty"`
}

// QueryAnswerResult is the answer of POST …/answer and …/close.
type QueryAnswerResult struct {
	Query     QueryView        `json:"query"`
	Effect    *cdi.QueryEffect `json:"effect,omitempty"`
	Encounter *store.Encounter `json:"encounter,omitempty"` // after the answer, without evidence
	Note      string           `json:"note,omitempty"`
}

// errNoChange aborts an encounter update that would change nothing.
var errNoChange = errors.New("no change")

// apply applies an answered query to the working codes and regroups the encounter, inside tx:
// it returns the query's effect and the encounter (nil when it did not change).
func (h *cdiService) apply(tx *store.Tx, actor store.Actor, q *cdi.Query) (cdi.QueryEffect, *store.Encounter, string, error) {
	var eff cdi.QueryEffect
	note := ""
	e, err := tx.UpdateEncounter(actor, q.EncounterID, 0, "query_answer", func(e *store.Encounter) error {
		if e.Status == store.StatusFinal {
			note = "the encounter is final: the working codes were not changed (finalize again to include the answer)"
			return errNoChange
		}
		ce := e.ClaimEncounter()
		ce.ID = e.ID
		ne, ef, err := h.eng.ApplyAnswer(&ce, q)
		if err != nil {
			return cdiProblem(err)
		}
		eff = ef
		if len(ef.CodesAdded)+len(ef.CodesRemoved)+len(ef.POAChanged) == 0 && len(ne.Evidence) == len(e.Evidence) {
			return errNoChange
		}
		if e.BaselineDRG == nil && e.Codes.PDX != nil {
			// Never grouped: the baseline is the DRG of the codes as they stood before the answer,
			// so that the query's effect shows in the CDI impact reports.
			d, _, _, err := h.s.groupEncounter(e, nil, 0, false, actor.Name)
			if err != nil {
				return err
			}
			d.GroupedAt = h.now()
			e.BaselineDRG = d
		}
		prev := e.Codes
		cs := store.Codes{AdmitDx: prev.AdmitDx, Procedures: prev.Procedures}
		if ne.PDX != nil {
			cs.PDX = &store.Code{Code: ne.PDX.Code, POA: ne.PDX.POA}
		}
		for _, d := range ne.SDX {
			cs.SDX = append(cs.SDX, store.Code{Code: d.Code, POA: d.POA})
		}
		cs.Normalize()
		cs.FillSources(prev, store.SourceQuery)
		e.Codes, e.Evidence = cs, ne.Evidence
		if cs.PDX != nil {
			d, _, _, err := h.s.groupEncounter(e, nil, 0, false, actor.Name)
			if err != nil {
				return err
			}
			d.GroupedAt = h.now()
			if e.BaselineDRG == nil {
				e.BaselineDRG = d
			}
			e.WorkingDRG = d
		} else {
			e.WorkingDRG = nil
		}
		return nil
	})
	if errors.Is(err, errNoChange) {
		return eff, nil, note, nil
	}
	return eff, e, note, err
}

// closeAnswered applies an answered query and closes it with its effect.
func (h *cdiService) closeAnswered(tx *store.Tx, actor store.Actor, q cdi.Query) (cdi.Query, *cdi.QueryEffect, *store.Encounter, string, error) {
	eff, e, note, err := h.apply(tx, actor, &q)
	if err != nil {
		return q, nil, nil, "", err
	}
	if note != "" && eff.Note == "" {
		eff.Note = note
	}
	closed, err := cdi.Close(q, &eff, "", actor.Name, h.now())
	if err != nil {
		return q, nil, nil, "", cdiProblem(err)
	}
	if err := tx.AppendQuery(actor, &closed, "close"); err != nil {
		return q, nil, nil, "", err
	}
	return closed, &eff, e, note, nil
}

func (h *cdiService) handleAnswer(c *gin.Context) {
	want, ok := requireVersion(c, "query")
	if !ok {
		return
	}
	var in QueryAnswerInput
	if !DecodeJSON(c, &in) {
		return
	}
	for i, code := range in.Codes {
		in.Codes[i] = strings.ToUpper(claim.NormalizeCode(strings.TrimSpace(code)))
		if _, ok := h.s.cfg.Catalog.MSDRG.Dx[in.Codes[i]]; !ok {
			WriteValidation(c, &FieldError{Field: fmt.Sprintf("codes[%d]", i), Message: "not an ICD-10-CM code of the loaded grouper versions"})
			return
		}
	}
	actor := ActorFrom(c)
	var out QueryAnswerResult
	var tag int
	err := h.queryTx(c, want, &tag, func(tx *store.Tx) error {
		q, _, err := latest(tx, c.Param("id"))
		if err != nil {
			return err
		}
		a := cdi.Answer{Outcome: in.Outcome, Option: in.Option, Text: in.Text, Codes: in.Codes, AuthenticatedBy: in.AuthenticatedBy, At: h.now()}
		if in.At != nil {
			a.At = in.At.UTC().Truncate(time.Microsecond)
		}
		if a.AuthenticatedBy == "" && q.Provider != nil {
			a.AuthenticatedBy = q.Provider.ID
		}
		if !q.SentAt.IsZero() && a.At.Before(q.SentAt) {
			return validation(&FieldError{Field: "at", Message: "before the query was sent"})
		}
		n, err := cdi.AnswerQuery(q, a, actor.Name)
		if err != nil {
			return cdiProblem(err)
		}
		if in.POA != "" {
			n.POA = in.POA
		}
		if in.Principal != nil {
			n.Principal = *in.Principal
		}
		if err := tx.AppendQuery(actor, &n, "answer"); err != nil {
			return err
		}
		out.Query = h.view(n)
		if in.Close != nil && !*in.Close {
			return nil
		}
		closed, eff, e, note, err := h.closeAnswered(tx, actor, n)
		if err != nil {
			return err
		}
		out.Query, out.Effect, out.Encounter, out.Note = h.view(closed), eff, e, note
		return nil
	})
	if err != nil {
		writeQueryError(c, err)
		return
	}
	h.afterApply(c, &out)
	c.Header("ETag", versionTag(tag))
	c.JSON(http.StatusOK, out)
}

// afterApply reviews an encounter whose codes an answer changed, so that the worklist and its
// opportunities follow; a failure leaves the review stale and is logged.
func (h *cdiService) afterApply(c *gin.Context, out *QueryAnswerResult) {
	if out.Encounter == nil {
		return
	}
	if _, err := h.storeReview(context.WithoutCancel(c.Request.Context()), ActorFrom(c), out.Encounter); err != nil {
		Logger(c).WarnContext(c.Request.Context(), "review after a query answer failed", "encounter_id", out.Encounter.ID, "err_kind", fmt.Sprintf("%T", err))
	}
	out.Encounter.Evidence = nil
}

func (h *cdiService) handleClose(c *gin.Context) {
	want, ok := requireVersion(c, "query")
	if !ok {
		return
	}
	body, ok := ReadBody(c)
	if !ok {
		return
	}
	var in struct {
		Reason string `json:"reason,omitempty" binding:"max=1000"`
	}
	if len(bytes.TrimSpace(body)) > 0 && !DecodeJSONBytes(c, body, &in) {
		return
	}
	actor := ActorFrom(c)
	var out QueryAnswerResult
	var tag int
	err := h.queryTx(c, want, &tag, func(tx *store.Tx) error {
		q, _, err := latest(tx, c.Param("id"))
		if err != nil {
			return err
		}
		if q.Answer != nil && q.State != cdi.StateClosed {
			closed, eff, e, note, err := h.closeAnswered(tx, actor, q)
			if err != nil {
				return err
			}
			out.Query, out.Effect, out.Encounter, out.Note = h.view(closed), eff, e, note
			return nil
		}
		closed, err := cdi.Close(q, nil, in.Reason, actor.Name, h.now())
		if err != nil {
			return cdiProblem(err)
		}
		out.Query = h.view(closed)
		return tx.AppendQuery(actor, &closed, "close")
	})
	if err != nil {
		writeQueryError(c, err)
		return
	}
	h.afterApply(c, &out)
	c.Header("ETag", versionTag(tag))
	c.JSON(http.StatusOK, out)
}

func (h *cdiService) handleEscalate(c *gin.Context) {
	want, ok := requireVersion(c, "query")
	if !ok {
		return
	}
	var in struct {
		Reason string `json:"reason" binding:"required,max=1000"`
		To     string `json:"to,omitempty" binding:"max=200"`
	}
	if !DecodeJSON(c, &in) {
		return
	}
	if in.To == "" {
		in.To = h.policy.To
	}
	actor := ActorFrom(c)
	var n cdi.Query
	var tag int
	err := h.queryTx(c, want, &tag, func(tx *store.Tx) error {
		q, _, err := latest(tx, c.Param("id"))
		if err != nil {
			return err
		}
		if n, err = cdi.Escalate(q, cdi.Escalation{To: in.To, Reason: in.Reason, At: h.now()}, actor.Name); err != nil {
			return cdiProblem(err)
		}
		return tx.AppendQuery(actor, &n, "escalate")
	})
	if err != nil {
		writeQueryError(c, err)
		return
	}
	c.Header("ETag", versionTag(tag))
	c.JSON(http.StatusOK, h.view(n))
}

// EscalationRun is the answer of POST /v1/queries/escalate-overdue.
type EscalationRun struct {
	Policy    cdi.EscalationPolicy `json:"policy"`
	Escalated []QueryView          `json:"escalated"`
}

func (h *cdiService) handleEscalateOverdue(c *gin.Context) {
	body, ok := ReadBody(c)
	if !ok {
		return
	}
	var none struct{} // no body, or an empty JSON object
	if len(bytes.TrimSpace(body)) > 0 && !decodeStrict(c, body, &none) {
		return
	}
	out, err := h.escalateOverdue(c.Request.Context(), ActorFrom(c))
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// escalateOverdue escalates every sent query unanswered for longer than the policy, each in
// its own transaction; a query answered or changed meanwhile (also by another instance) is
// left alone. It is the work of POST /v1/queries/escalate-overdue and of the periodic run.
func (h *cdiService) escalateOverdue(ctx context.Context, actor store.Actor) (EscalationRun, error) {
	now := h.s.cfg.Now()
	out := EscalationRun{Policy: h.policy, Escalated: []QueryView{}}
	due, _, err := h.s.cfg.Store.ListQueries(ctx, store.QueryFilter{States: []string{cdi.StateSent},
		SentBefore: now.Add(-time.Duration(h.policy.Hours * float64(time.Hour)))}, 0, "")
	if err != nil {
		return out, err
	}
	for _, d := range due {
		var n cdi.Query
		done := false
		err := h.s.cfg.Store.Tx(ctx, func(tx *store.Tx) error {
			q, _, err := latest(tx, d.ID)
			if err != nil {
				return err
			}
			if !cdi.DueForEscalation(&q, now, h.policy) {
				return nil // answered or changed meanwhile
			}
			reason := fmt.Sprintf("no answer %.0f h after sending (policy: %g h)", now.Sub(q.SentAt).Hours(), h.policy.Hours)
			if n, err = cdi.Escalate(q, cdi.Escalation{To: h.policy.To, Reason: reason, At: h.now()}, actor.Name); err != nil {
				return cdiProblem(err)
			}
			done = true
			return tx.AppendQuery(actor, &n, "escalate")
		})
		if errors.Is(err, store.ErrConflict) {
			continue // changed by a concurrent request
		}
		if err != nil {
			return out, err
		}
		if done {
			out.Escalated = append(out.Escalated, h.view(n))
		}
	}
	return out, nil
}

// QueryStats is the answer of GET /v1/queries/stats.
type QueryStats struct {
	By    string      `json:"by"`
	Items []cdi.Stats `json:"items"`
}

func (h *cdiService) handleStats(c *gin.Context) {
	by := c.DefaultQuery("by", cdi.ByProvider)
	if by != cdi.ByProvider && by != cdi.BySpecialist {
		WriteValidation(c, &FieldError{Field: "by", Message: "must be one of provider specialist"})
		return
	}
	qs, err := h.s.cfg.Store.QueriesForStats(c.Request.Context(), "", "")
	if err != nil {
		WriteError(c, err)
		return
	}
	st, err := cdi.ComputeStats(qs, by)
	if err != nil {
		WriteError(c, cdiProblem(err))
		return
	}
	c.JSON(http.StatusOK, QueryStats{By: by, Items: st})
}
