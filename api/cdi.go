package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/audit"
	"github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/store"
)

// CDIConfig configures the clinical documentation integrity endpoints: the CDI engine's rules,
// the denial-risk rules and the query escalation policy. The zero value uses the defaults.
type CDIConfig struct {
	Rules     *cdi.Rules       // nil: cdi.DefaultRules()
	RiskRules *audit.RiskRules // nil: audit.DefaultRiskRules()
	// EscalationHours is how long a sent query may wait for an answer before it is overdue and
	// escalated by POST /v1/queries/escalate-overdue (default 72).
	EscalationHours float64
	// EscalateTo names who overdue queries go to (default "physician advisor").
	EscalateTo string
	// EscalateEvery is the period of the automatic escalation run (Server.RunJobs): once per
	// period across every instance sharing the database. 0: no automatic run.
	EscalateEvery time.Duration
}

// Defaults of CDIConfig.
const (
	DefaultEscalationHours = 72
	DefaultEscalateTo      = "physician advisor"
)

// Role sets of the CDI endpoints.
var (
	// CDIRoles work the CDI worklist and queries.
	CDIRoles = []store.Role{store.RoleCDI, store.RoleAdmin}
	// CDIReadRoles read an encounter's review, opportunities, validation findings and queries
	// (coders code from query answers).
	CDIReadRoles = []store.Role{store.RoleCoder, store.RoleCDI, store.RoleAdmin}
)

// cdiService holds the CDI engine and settings of a server.
type cdiService struct {
	s      *Server
	eng    *cdi.Engine
	risk   *audit.RiskRules
	policy cdi.EscalationPolicy
}

// cdiRoutes makes the CDI engine and returns the CDI routes (registered by New).
func (s *Server) cdiRoutes() ([]Route, error) {
	cfg := s.cfg.CDI
	eng, err := cdi.NewEngine(s.cfg.Catalog, s.grouper, cfg.Rules)
	if err != nil {
		return nil, fmt.Errorf("api: CDI engine: %w", err)
	}
	h := &cdiService{s: s, eng: eng, risk: cfg.RiskRules, policy: cdi.EscalationPolicy{Hours: cfg.EscalationHours, To: cfg.EscalateTo}}
	if h.risk == nil {
		h.risk = audit.DefaultRiskRules()
	}
	if h.policy.Hours <= 0 {
		h.policy.Hours = DefaultEscalationHours
	}
	if h.policy.To == "" {
		h.policy.To = DefaultEscalateTo
	}
	s.cdi = h
	for name, sc := range cdiSchemas() {
		s.AddSchema(name, sc)
	}
	qid := Param{Name: "id", In: "path", Description: "query id", Schema: tString, Required: true}
	tags := []string{"cdi"}
	qtags := []string{"cdi queries"}
	noBody := &Body{Description: "none, or an empty JSON object", Content: JSON(Schema{"type": "object"})}
	return []Route{
		// Evidence.
		{Method: http.MethodPost, Path: "/v1/encounters/fhir", Roles: CodingRoles, Tags: tags, Summary: "Create an encounter from a FHIR R4 Bundle",
			Description: "Reads Patient, Encounter, Condition, Procedure, Observation, MedicationAdministration, DocumentReference (a text/plain attachment with inline data; other content types are reported in errors, not read), Composition (section narratives as one note) and Practitioner (author roles). " +
				"Entries that cannot be used are listed in errors (entry index, resource type, id, reason) and the rest is loaded. Conditions become documented diagnoses (evidence); " +
				"ICD-10-PCS procedures become working procedure codes. 422 when nothing identifies the encounter (no Encounter resource).",
			Body: &Body{Required: true, Content: map[string]Schema{"application/fhir+json": Ref("FHIRBundle"), "application/json": Ref("FHIRBundle")}},
			Responses: map[int]Response{201: {Description: "created; errors lists the entries not loaded", Content: JSON(Ref("EvidenceImport")),
				Headers: map[string]string{"Location": "URL of the encounter", "ETag": "row version"}},
				409: {Description: "the facility already has this account", Content: problemContent}},
			MaxBody: 16 << 20, Handler: h.handleCreateFromFHIR},
		{Method: http.MethodPost, Path: "/v1/encounters/{id}/evidence", Roles: CodingRoles, Tags: tags, Summary: "Append clinical evidence to an encounter",
			Description: "application/json: {\"evidence\": [Evidence, …]} in the product's format; application/fhir+json: a FHIR R4 Bundle whose clinical resources are appended " +
				"(its Encounter and Patient are ignored). Items that cannot be used are listed in errors with their index and reason, the rest is appended; " +
				"items identical to stored ones are skipped (counted in duplicates).",
			Params: []Param{idParam, ifMatchParam},
			Body: &Body{Required: true, Content: map[string]Schema{"application/json": obj([]string{"evidence"}, Schema{"evidence": arr(Ref("Evidence"))}),
				"application/fhir+json": Ref("FHIRBundle")}},
			Responses: withPreconditions(map[int]Response{200: {Description: "what was loaded; errors lists the items not loaded", Content: JSON(Ref("EvidenceImport")),
				Headers: map[string]string{"ETag": "row version"}}, 409: {Description: "the encounter is final", Content: problemContent},
				412: {Description: "changed since read (If-Match)", Content: problemContent}}),
			MaxBody: 16 << 20, Handler: h.handleAppendEvidence},

		// Review, validation, worklist.
		{Method: http.MethodPost, Path: "/v1/encounters/{id}/review", Roles: CDIRoles, Tags: tags, Summary: "Review an encounter: CDI opportunities, clinical validation, denial-risk flags",
			Description: "Runs the CDI engine on the stored encounter (working codes and evidence), groups the working codes, computes the denial-risk flags (single CC/MCC dependency by regrouping, audited principal diagnoses, short surgical stays, MCE post-payment edits) " +
				"and the clinical validation of the principal diagnosis and every CC/MCC, stores the review as the encounter's latest and returns it.",
			Params: []Param{idParam}, Responses: OK("the stored review", Ref("CDIReview")), Handler: h.handleReview},
		{Method: http.MethodGet, Path: "/v1/encounters/{id}/review", Roles: CDIReadRoles, Tags: tags, Summary: "The latest review of an encounter",
			Description: "stale is true when the encounter changed after the review (POST the review again).",
			Params:      []Param{idParam}, Responses: map[int]Response{200: {Description: "the latest review", Content: JSON(Ref("CDIReview"))},
				404: {Description: "no such encounter, or never reviewed", Content: problemContent}}, Handler: h.handleGetReview},
		{Method: http.MethodGet, Path: "/v1/encounters/{id}/validation", Roles: CDIReadRoles, Tags: tags, Summary: "Clinical validation of the coded principal diagnosis and CC/MCCs",
			Description: "Computed now from the stored encounter (nothing is stored): for the principal diagnosis and every secondary diagnosis at CC or MCC level, whether the condition rules support it, " +
				"the indicators missing or contradicting it, the DRG and weight without the code (regrouped by the real grouper), and for an unsupported diagnosis the clinical validation query proposed (opportunity cv:<rule>).",
			Params: []Param{idParam}, Responses: OK("the findings", Ref("ValidationReport")), Handler: h.handleValidation},
		{Method: http.MethodGet, Path: "/v1/worklist", Roles: CDIRoles, Tags: tags, Summary: "CDI worklist: encounters not final, by priority",
			Description: "One row per encounter that is not final (in house and discharged), from its latest review and queries, ordered by priority (highest first), then days since admission, then account. " +
				"priority = round(100 × (best score + 0.25 × the other scores) × (1 + min(days since admission, 10)/10) × q) / 100, where an opportunity's score is (|Δ relative weight| + 0.10 × HCCs gained + 0.05) × evidence strength " +
				"over the opportunities without a query, and q is 1.5 when a query is escalated, 0.5 when one awaits an answer, else 1. Encounters never reviewed have status not_reviewed and priority 0. " +
				"Pages by position: next_cursor continues the same ordering.",
			Params: []Param{
				{Name: "facility", Schema: tString}, {Name: "unit", Schema: tString}, {Name: "payer", Schema: tString},
				{Name: "provider", Schema: tString, Description: "attending provider id"},
				{Name: "condition", Schema: tString, Description: "text in the condition of an open opportunity (case-insensitive)"},
				{Name: "status", Schema: Schema{"enum": []string{cdi.RowEscalated, cdi.RowQueryOpen, cdi.RowAnswered, cdi.RowOpportunities, cdi.RowNoOpportunity, rowNotReviewed}}},
				{Name: "risk", Schema: Schema{"enum": []string{audit.RiskSingleCCMCC, audit.RiskAuditedPDX, audit.RiskShortStay, audit.RiskMCEPostPayment}}, Description: "only rows with this denial-risk flag"},
				{Name: "encounter_status", Schema: Schema{"enum": []string{"open", "discharged"}}, Description: "in house or discharged (default both)"},
				limitParam, cursorParam},
			Responses: OK("a page of rows", listOf("WorklistRow")), Handler: h.handleWorklist},

		// Queries.
		{Method: http.MethodPost, Path: "/v1/encounters/{id}/queries", Roles: CDIRoles, Tags: qtags, Summary: "Draft a provider query from an opportunity of the latest review",
			Description: "Generates a compliant draft (cited indicators, reason, question, options with other and clinically undetermined) from the opportunity; format open_ended asks without naming the diagnosis. " +
				"The provider queried defaults to the attending provider. When the encounter changed since its latest review, it is reviewed again first (the draft cites the current record). 409 when the opportunity already has a query that is not closed.",
			Params: []Param{idParam}, Body: &Body{Required: true, Content: JSON(Ref("QueryCreate"))},
			Responses: map[int]Response{201: {Description: "the draft and its lint result", Content: JSON(Ref("QueryDraft")), Headers: map[string]string{"Location": "URL of the query"}},
				404: {Description: "no such encounter, or never reviewed", Content: problemContent}, 409: {Description: "the opportunity already has an open query", Content: problemContent}},
			Handler: h.handleCreateQuery},
		{Method: http.MethodGet, Path: "/v1/queries", Roles: CDIReadRoles, Tags: qtags, Summary: "List queries (latest version of each)",
			Params: []Param{
				{Name: "status", Schema: Schema{"enum": []string{cdi.StateDraft, cdi.StateSent, cdi.StateAnswered, cdi.StateEscalated, cdi.StateClosed, "open", "overdue"}},
					Description: "open: sent or escalated without answer; overdue: sent and unanswered for longer than the escalation policy"},
				{Name: "encounter", Schema: tString, Description: "encounter id"}, {Name: "provider", Schema: tString, Description: "provider queried (id)"},
				{Name: "specialist", Schema: tString, Description: "CDI specialist who wrote the query (user name)"}, limitParam, cursorParam},
			Responses: OK("a page of queries", listOf("Query")), Handler: h.handleListQueries},
		{Method: http.MethodPost, Path: "/v1/queries/lint", Roles: CDIRoles, Tags: qtags, Summary: "Lint a query draft against the compliant query practice (Q1–Q12)",
			Description: "For live linting while editing: with query_id the content is linted as an edit of that query; without, as a new draft of the caller. Nothing is stored.",
			Body:        &Body{Required: true, Content: JSON(Ref("QueryLintInput"))}, Responses: OK("the violations, by rule id", Ref("LintResult")), Handler: h.handleLint},
		{Method: http.MethodGet, Path: "/v1/queries/stats", Roles: CDIRoles, Tags: qtags, Summary: "Query statistics per provider or per CDI specialist",
			Params:    []Param{{Name: "by", Schema: Schema{"enum": []string{cdi.ByProvider, cdi.BySpecialist}}, Description: "default provider"}},
			Responses: OK("sent, response rate, agreement rate, median response time", Ref("QueryStats")), Handler: h.handleStats},
		{Method: http.MethodPost, Path: "/v1/queries/escalate-overdue", Roles: CDIRoles, Tags: qtags, Summary: "Escalate every sent query unanswered for longer than the policy",
			Description: "The policy (hours, to whom) is the server's (drg serve --query-escalation-hours, --query-escalate-to).",
			Body:        noBody, Responses: OK("the queries escalated", Ref("EscalationRun")), Handler: h.handleEscalateOverdue},
		{Method: http.MethodGet, Path: "/v1/queries/{id}", Roles: CDIReadRoles, Tags: qtags, Summary: "A query with all its versions",
			Params:    []Param{qid, {Name: "history", Schema: tBool, Description: "add every stored record (each state of each version)"}},
			Responses: OK("the latest version and every version", Ref("QueryDetail")), Handler: h.handleGetQuery},
		{Method: http.MethodPatch, Path: "/v1/queries/{id}", Roles: CDIRoles, Tags: qtags, Summary: "Edit a query's content",
			Description: "JSON merge patch of the provider-facing content (fields present replace, null clears). A draft is edited in place; a query already sent is immutable, " +
				"so the edit creates the next version as a draft (supersedes names the previous one, which is closed when the new one is sent). Closed queries cannot be edited (409).",
			Params: []Param{qid}, Body: &Body{Required: true, Content: map[string]Schema{"application/json": Ref("QueryContent"), "application/merge-patch+json": Ref("QueryContent")}},
			Responses: map[int]Response{200: {Description: "the draft and its lint result", Content: JSON(Ref("QueryDraft"))}, 409: {Description: "closed, or changed concurrently", Content: problemContent}},
			Handler:   h.handlePatchQuery},
		{Method: http.MethodPost, Path: "/v1/queries/{id}/send", Roles: CDIRoles, Tags: qtags, Summary: "Send a draft (it must pass the linter)",
			Description: "Refused with 422 and the violated rule ids (rules, violations) when the draft breaks a compliance rule. The content is then frozen (content_hash). A verbal query records who conducted it, with whom and when (Q9).",
			Params:      []Param{qid}, Body: &Body{Content: JSON(Ref("QuerySend"))},
			Responses: map[int]Response{200: {Description: "the sent query", Content: JSON(Ref("Query"))},
				409: {Description: "not a draft", Content: problemContent}, 422: {Description: "not compliant: rules and violations list what to fix", Content: map[string]Schema{"application/problem+json": Ref("LintProblem")}}},
			Handler: h.handleSend},
		{Method: http.MethodPost, Path: "/v1/queries/{id}/answer", Roles: CDIRoles, Tags: qtags, Summary: "Record the provider's answer",
			Description: "CDI staff record the answer the provider authenticated (authenticated_by, default the provider queried). With close (default true) the answer is applied: the chosen option's codes " +
				"(or codes derived from a free-text answer, with poa) change the working codes (source query), the encounter is regrouped, the query is closed with its effect (the DRG change attributed to it) " +
				"and the encounter is reviewed again. close false records the answer only (to escalate a conflicting answer first).",
			Params: []Param{qid}, Body: &Body{Required: true, Content: JSON(Ref("QueryAnswerInput"))},
			Responses: map[int]Response{200: {Description: "the query and its effect", Content: JSON(Ref("QueryAnswerResult"))}, 409: {Description: "not awaiting an answer", Content: problemContent}},
			Handler:   h.handleAnswer},
		{Method: http.MethodPost, Path: "/v1/queries/{id}/escalate", Roles: CDIRoles, Tags: qtags, Summary: "Escalate a query (no answer, or a conflicting answer)",
			Params: []Param{qid}, Body: &Body{Required: true, Content: JSON(obj([]string{"reason"}, Schema{"reason": tString, "to": Schema{"type": "string", "description": "default: the policy's"}}))},
			Responses: OK("the escalated query", Ref("Query")), Handler: h.handleEscalate},
		{Method: http.MethodPost, Path: "/v1/queries/{id}/close", Roles: CDIRoles, Tags: qtags, Summary: "Close a query",
			Description: "An answered query is applied (as by answer with close) and closed with its effect; a draft or unanswered query is closed with a reason (withdrawn, discarded).",
			Params:      []Param{qid}, Body: &Body{Content: JSON(obj(nil, Schema{"reason": tString}))},
			Responses: OK("the query and its effect", Ref("QueryAnswerResult")), Handler: h.handleClose},
	}, nil
}

// registerCDI registers the CDI routes.
func (s *Server) registerCDI() error {
	routes, err := s.cdiRoutes()
	if err != nil {
		return err
	}
	return s.Register(routes...)
}

// rowNotReviewed is the worklist status of an encounter never reviewed.
const rowNotReviewed = "not_reviewed"

// writeLintProblem answers 422 with the violated rule ids and the violations.
func writeLintProblem(c *gin.Context, res cdi.LintResult) {
	rules := res.Rules()
	errs := make([]*FieldError, len(res.Violations))
	for i, v := range res.Violations {
		errs[i] = &FieldError{Field: v.Field, Message: v.Rule + ": " + v.Message}
	}
	p := struct {
		Problem
		Rules      []string        `json:"rules"`
		Violations []cdi.Violation `json:"violations"`
	}{Problem{Type: problemType(KindValidation), Title: http.StatusText(http.StatusUnprocessableEntity), Status: http.StatusUnprocessableEntity,
		Detail: fmt.Sprintf("the query is not compliant (%v): fix it before sending", rules), Errors: errs, RequestID: c.GetString(ctxRequestID)},
		rules, res.Violations}
	b, _ := json.Marshal(p)
	c.Abort()
	c.Data(http.StatusUnprocessableEntity, "application/problem+json", b)
}

// now is the server's clock, in UTC microseconds.
func (h *cdiService) now() time.Time { return nowMicro(h.s.cfg.Now) }
