package api

import (
	"net/http"
)

// Common parameter documentation.
var (
	versionParamDoc = Param{Name: "version", Description: "grouper version (431 or 43.1); default: the version in effect today if loaded, else the newest loaded",
		Schema: Schema{"type": "string", "examples": []string{"431"}}}
	groupVersionParam = Param{Name: "version", Description: "force a grouper version (431 or 43.1); default: the claim's version, else its discharge date",
		Schema: Schema{"type": "string"}}
	explainParam = Param{Name: "explain", Description: "add the explanation of the grouping", Schema: Schema{"type": "boolean"}}
	mceParam     = Param{Name: "mce", Description: "run the Medicare Code Editor and add its record as \"mce\"", Schema: Schema{"type": "boolean"}}
	limitParam   = Param{Name: "limit", Description: "page size (1–1000, default 50)", Schema: Schema{"type": "integer", "minimum": 1, "maximum": 1000}}
	cursorParam  = Param{Name: "cursor", Description: "next_cursor of the previous page", Schema: Schema{"type": "string"}}
	idParam      = Param{Name: "id", In: "path", Description: "encounter id (opaque)", Schema: Schema{"type": "string"}, Required: true}
	userIDParam  = Param{Name: "id", In: "path", Description: "user id", Schema: Schema{"type": "integer"}, Required: true}
	ifMatchParam = Param{Name: "If-Match", In: "header", Required: true, Description: "ETag (row version) of the encounter read: required (428 without); the change is refused with 412 if it changed since", Schema: Schema{"type": "string"}}
)

// userIfMatch is the precondition of every change of a user.
var userIfMatch = Param{Name: "If-Match", In: "header", Required: true, Description: "ETag (version) of the user read: required (428 without); 412 if the user changed since", Schema: Schema{"type": "string"}}

// userETag documents the ETag header of a user answer.
var userETag = map[string]string{"ETag": "version of the user, for If-Match"}

// userChange adds the precondition answers (412, 428) to the responses of a change.
func userChange(r map[int]Response) map[int]Response { return withPreconditions(r) }

// withPreconditions adds the answers of a change of an existing record sent with a stale
// If-Match (412) or none (428).
func withPreconditions(r map[int]Response) map[int]Response {
	if _, ok := r[412]; !ok {
		r[412] = Response{Description: "the record changed since it was read (If-Match is not its current ETag)", Content: problemContent}
	}
	r[428] = Response{Description: "If-Match is missing: send the ETag of the record read", Content: problemContent}
	return r
}

func str(q string) Schema { return Schema{"type": "string", "description": q} }

func listOf(item string) Schema {
	return Schema{"type": "object", "required": []string{"items", "next_cursor"}, "properties": Schema{
		"items": Schema{"type": "array", "items": Ref(item)}, "next_cursor": str("cursor of the next page; empty on the last page")}}
}

// builtinRoutes is the route table of the service's own endpoints.
func (s *Server) builtinRoutes() []Route {
	claimBody := &Body{Required: true, Content: JSON(Ref("Claim"))}
	etagHeader := map[string]string{"ETag": "row version of the encounter, for If-Match"}
	return []Route{
		// Service.
		{Method: http.MethodGet, Path: "/healthz", Public: true, Tags: []string{"service"}, Summary: "Liveness: the process answers",
			Responses: OK("alive", Ref("Status")), Handler: s.handleHealth},
		{Method: http.MethodGet, Path: "/readyz", Public: true, Tags: []string{"service"}, Summary: "Readiness: the database answers and the server is not shutting down",
			Responses: map[int]Response{200: {Description: "ready", Content: JSON(Ref("Status"))}, 503: {Description: "not ready", Content: problemContent}}, Handler: s.handleReady},
		{Method: http.MethodGet, Path: "/openapi.json", Public: true, Tags: []string{"service"}, Summary: "This OpenAPI 3.1 document",
			Responses: OK("the document", Schema{"type": "object"}), Handler: s.handleOpenAPI},
		{Method: http.MethodGet, Path: "/metrics", Public: true, Tags: []string{"service"}, Summary: "Prometheus metrics (client_golang; text format unless the scraper negotiates another): requests and latency by route and status, in flight, claims grouped, grouping and CAC durations, batch sizes, database pool, Go runtime, process",
			Responses: map[int]Response{200: {Description: "metrics", Content: map[string]Schema{"text/plain": {"type": "string"}}}}, Handler: s.handleMetrics},

		// Grouping and editing.
		{Method: http.MethodPost, Path: "/v1/group", Roles: AllRoles, Tags: []string{"grouping"}, Summary: "Group one claim",
			Description: "Returns the CMS grouper record (oracle field names) with titles, Table 5 weight, GMLOS and AMLOS; with explain=true the explanation, with mce=true the Medicare Code Editor record.",
			Params:      []Param{explainParam, mceParam, groupVersionParam}, Body: claimBody,
			Responses: OK("the grouping", Ref("GroupResult")), Handler: s.handleGroup},
		{Method: http.MethodPost, Path: "/v1/group/batch", Roles: AllRoles, Tags: []string{"grouping"}, Summary: "Group many claims",
			Description: "application/json: an array of at most 10,000 claims, answered by an array in the same order (a claim that cannot be grouped becomes {index, id, error, errors}). " +
				"application/x-ndjson (or text/csv, text/tab-separated-values in the drg group formats): a stream of any length, answered by NDJSON as it is read (error records name the line).",
			Params: []Param{explainParam, mceParam, groupVersionParam},
			Body: &Body{Required: true, Content: map[string]Schema{
				"application/json":          {"type": "array", "items": Ref("Claim"), "maxItems": MaxBatchClaims},
				"application/x-ndjson":      {"type": "string", "description": "one claim object per line"},
				"text/csv":                  {"type": "string"},
				"text/tab-separated-values": {"type": "string"}}},
			Responses: map[int]Response{200: {Description: "one record per claim, in input order", Content: map[string]Schema{
				"application/json":     {"type": "array", "items": Schema{"oneOf": []Schema{Ref("GroupResult"), Ref("BatchError")}}},
				"application/x-ndjson": {"type": "string"}}}},
			MaxBody: BatchStreamMaxBody, StreamBody: true, Timeout: batchTimeout, Handler: s.handleBatch},
		{Method: http.MethodPost, Path: "/v1/mce", Roles: AllRoles, Tags: []string{"grouping"}, Summary: "Run the Medicare Code Editor on one claim",
			Body: claimBody, Responses: OK("the CMS MCE record with one message per edit", Ref("MCEResult")), Handler: s.handleMCE},

		// Reference data.
		{Method: http.MethodGet, Path: "/v1/codes/dx/{code}", Roles: AllRoles, Tags: []string{"reference"}, Summary: "Look up an ICD-10-CM diagnosis code",
			Params:    []Param{{Name: "code", In: "path", Required: true, Schema: Schema{"type": "string"}, Description: "ICD-10-CM code, with or without the dot"}, versionParamDoc},
			Responses: OK("title, validity, MDC, CC/MCC level, HCCs, POA exemption, per version", Ref("CodeInfo")), Handler: s.handleCode(dxKind)},
		{Method: http.MethodGet, Path: "/v1/codes/pr/{code}", Roles: AllRoles, Tags: []string{"reference"}, Summary: "Look up an ICD-10-PCS procedure code",
			Params:    []Param{{Name: "code", In: "path", Required: true, Schema: Schema{"type": "string"}, Description: "ICD-10-PCS code"}, versionParamDoc},
			Responses: OK("title, validity, OR flag, per version", Ref("CodeInfo")), Handler: s.handleCode(prKind)},
		{Method: http.MethodGet, Path: "/v1/codes/search", Roles: AllRoles, Tags: []string{"reference"}, Summary: "Search codes by code prefix, ICD-10-CM Alphabetic Index terms and title words",
			Description: "Diagnoses are also looked up in the ICD-10-CM Alphabetic Index (Index to Diseases, External Cause Index, Neoplasm Table, Table of Drugs) as coders do: " +
				"\"acute renal failure\" finds N17.9 through Failure, renal, acute; \"heart attack\" finds I21.9 through its see-reference. Order: code-prefix matches, index entries the query names exactly, title matches, other index matches.",
			Params: []Param{{Name: "q", Required: true, Schema: Schema{"type": "string"}, Description: "a code prefix (I50), index terms (acute renal failure) or title words (ac kid fail)"},
				{Name: "type", Schema: Schema{"enum": []string{"dx", "pr"}}, Description: "dx (default) or pr"},
				{Name: "limit", Schema: Schema{"type": "integer", "minimum": 1, "maximum": 100}, Description: "results (default 25)"}, versionParamDoc},
			Responses: OK("best matches first", Ref("CodeSearch")), Handler: s.handleSearch},
		{Method: http.MethodGet, Path: "/v1/drgs/{drg}", Roles: AllRoles, Tags: []string{"reference"}, Summary: "Look up an MS-DRG",
			Params:    []Param{{Name: "drg", In: "path", Required: true, Schema: Schema{"type": "integer"}, Description: "MS-DRG number"}, versionParamDoc},
			Responses: OK("title, MDC, type, weight, GMLOS, AMLOS", Ref("DRGInfo")), Handler: s.handleDRG},
		{Method: http.MethodGet, Path: "/v1/versions", Roles: AllRoles, Tags: []string{"reference"}, Summary: "Loaded grouper versions and reference data",
			Responses: OK("the versions", Ref("Versions")), Handler: s.handleVersions},

		// Encounters.
		{Method: http.MethodPost, Path: "/v1/encounters", Roles: CodingRoles, Tags: []string{"encounters"}, Summary: "Create an encounter",
			Description: "Codes without a source get the caller's: coder, cdi, or import for admins.",
			Body:        &Body{Required: true, Content: JSON(Ref("EncounterInput"))},
			Responses: map[int]Response{201: {Description: "created", Content: JSON(Ref("Encounter")),
				Headers: map[string]string{"Location": "URL of the encounter", "ETag": "row version"}}, 409: {Description: "the facility already has this account", Content: problemContent}},
			Handler: s.handleCreateEncounter},
		{Method: http.MethodGet, Path: "/v1/encounters", Roles: AllRoles, Tags: []string{"encounters"}, Summary: "List encounters (creation order; evidence left out)",
			Params: []Param{
				{Name: "status", Schema: Schema{"enum": []string{"open", "discharged", "final"}}},
				{Name: "facility", Schema: Schema{"type": "string"}}, {Name: "unit", Schema: Schema{"type": "string"}},
				{Name: "payer", Schema: Schema{"type": "string"}}, {Name: "service_line", Schema: Schema{"type": "string"}},
				{Name: "attending", Schema: Schema{"type": "string"}, Description: "attending provider id"},
				{Name: "drg", Schema: Schema{"type": "integer"}, Description: "working DRG"},
				{Name: "final_drg", Schema: Schema{"type": "integer"}},
				{Name: "discharged_from", Schema: Schema{"type": "string", "format": "date"}, Description: "discharge date on or after"},
				{Name: "discharged_to", Schema: Schema{"type": "string", "format": "date"}, Description: "discharge date on or before"},
				limitParam, cursorParam},
			Responses: OK("a page of encounters", listOf("Encounter")), Handler: s.handleListEncounters},
		{Method: http.MethodGet, Path: "/v1/encounters/{id}", Roles: AllRoles, Tags: []string{"encounters"}, Summary: "Read an encounter",
			Params:    []Param{idParam},
			Responses: map[int]Response{200: {Description: "the encounter", Content: JSON(Ref("Encounter")), Headers: etagHeader}}, Handler: s.handleGetEncounter},
		{Method: http.MethodPatch, Path: "/v1/encounters/{id}", Roles: CodingRoles, Tags: []string{"encounters"}, Summary: "Change an encounter (JSON merge patch of its fields)",
			Description: "Fields present replace the stored ones (arrays whole), null clears, absent fields stay. Final encounters are changed by finalizing again.",
			Params:      []Param{idParam, ifMatchParam}, Body: &Body{Required: true, Content: map[string]Schema{"application/json": Ref("EncounterInput"), "application/merge-patch+json": Ref("EncounterInput")}},
			Responses: withPreconditions(map[int]Response{200: {Description: "the changed encounter", Content: JSON(Ref("Encounter")), Headers: etagHeader},
				409: {Description: "the encounter is final", Content: problemContent}, 412: {Description: "changed since read (If-Match)", Content: problemContent}}),
			Handler: s.handlePatchEncounter},
		{Method: http.MethodPost, Path: "/v1/encounters/{id}/group", Roles: CodingRoles, Tags: []string{"encounters"}, Summary: "Group the working codes and store the working DRG",
			Description: "The first grouping is also kept as the baseline DRG. Without a discharge date the version in effect today (else the newest loaded) is used and said in note.",
			Params:      []Param{idParam, explainParam, groupVersionParam, ifMatchParam},
			Responses:   withPreconditions(OK("the encounter and the grouping", Ref("EncounterGrouping"))), Handler: s.handleGroupEncounter},
		{Method: http.MethodPost, Path: "/v1/encounters/{id}/finalize", Roles: FinalizeRoles, Tags: []string{"encounters"}, Summary: "Finalize coding: store the final codes and final DRG",
			Description: "The optional body replaces working codes first. Requires a discharge date and a principal diagnosis.",
			Params:      []Param{idParam, groupVersionParam, ifMatchParam}, Body: &Body{Content: JSON(Ref("FinalizeInput"))},
			Responses: withPreconditions(map[int]Response{200: {Description: "the final encounter and grouping", Content: JSON(Ref("EncounterGrouping"))},
				409: {Description: "blocking finalize checks (each named in errors with its field), and no override_reason", Content: problemContent},
				412: {Description: "changed since read (If-Match)", Content: problemContent}}),
			Handler: s.handleFinalize},
		{Method: http.MethodGet, Path: "/v1/encounters/{id}/finalize-check", Roles: CDIReadRoles, Tags: []string{"encounters"}, Summary: "The checks finalization runs on the working codes, without finalizing",
			Description: "Blocking (finalize answers 409 unless the body has override_reason, audited as finalize_override): MCE edits that make the claim unprocessable (invalid code, sex/age conflict, unacceptable PDX, …), " +
				"queries sent or escalated and not answered, DRG 998/999, no discharge date or principal diagnosis. Warnings: other MCE edits, draft queries, " +
				"principal diagnosis and CC/MCCs the clinical validation finds unsupported, codes not grouped (beyond 24 SDX / 25 procedures).",
			Params: []Param{idParam}, Responses: map[int]Response{200: {Description: "blocking items, warnings and the DRG the codes give", Content: JSON(Ref("FinalizeCheck")), Headers: etagHeader}},
			Handler: s.handleFinalizeCheck},
		{Method: http.MethodGet, Path: "/v1/coding/worklist", Roles: CDIReadRoles, Tags: []string{"encounters"}, Summary: "Coding worklist: discharged encounters not yet final, oldest discharge first",
			Params: []Param{{Name: "facility", Schema: Schema{"type": "string"}}, {Name: "payer", Schema: Schema{"type": "string"}},
				{Name: "service_line", Schema: Schema{"type": "string"}}, {Name: "drg", Schema: Schema{"type": "integer"}, Description: "working DRG"},
				{Name: "query_open", Schema: Schema{"type": "boolean"}, Description: "true: only encounters with a CDI query sent or escalated and not answered; false: only those without"},
				{Name: "discharged_from", Schema: Schema{"type": "string", "format": "date"}}, {Name: "discharged_to", Schema: Schema{"type": "string", "format": "date"}},
				limitParam, cursorParam},
			Responses: OK("a page of the worklist", Ref("CodingWorklist")), Handler: s.handleCodingWorklist},

		// Users and audit.
		{Method: http.MethodGet, Path: "/v1/me", Roles: AllRoles, Tags: []string{"users"}, Summary: "The calling user",
			Responses: OK("the user", Ref("User")), Handler: s.handleMe},
		{Method: http.MethodGet, Path: "/v1/users", Roles: AdminOnly, Tags: []string{"users"}, Summary: "List users",
			Responses: OK("every user", listOf("User")), Handler: s.handleListUsers},
		{Method: http.MethodPost, Path: "/v1/users", Roles: AdminOnly, Tags: []string{"users"}, Summary: "Create a user and its first API token (shown once)",
			Body:      &Body{Required: true, Content: JSON(Ref("UserInput"))},
			Responses: map[int]Response{201: {Description: "the user and its token", Content: JSON(Ref("NewToken"))}, 409: {Description: "the name is taken", Content: problemContent}},
			Handler:   s.handleCreateUser},
		{Method: http.MethodGet, Path: "/v1/users/{id}", Roles: AdminOnly, Tags: []string{"users"}, Summary: "Read a user (ETag: its version, for If-Match)",
			Params: []Param{userIDParam}, Responses: map[int]Response{200: {Description: "the user", Content: JSON(Ref("User")), Headers: userETag}}, Handler: s.handleGetUser},
		{Method: http.MethodPatch, Path: "/v1/users/{id}", Roles: AdminOnly, Tags: []string{"users"}, Summary: "Change a user's role or disable it",
			Description: "The last enabled admin cannot be demoted or disabled (409): make another user admin first.",
			Params:      []Param{userIDParam, userIfMatch}, Body: &Body{Required: true, Content: JSON(Ref("UserPatch"))},
			Responses: userChange(map[int]Response{200: {Description: "the user", Content: JSON(Ref("User"))},
				409: {Description: "the change would leave no enabled admin", Content: problemContent}}),
			Handler: s.handlePatchUser},
		{Method: http.MethodGet, Path: "/v1/users/{id}/tokens", Roles: AdminOnly, Tags: []string{"users"}, Summary: "List a user's API tokens (never their secrets)",
			Params: []Param{userIDParam}, Responses: OK("the tokens: id, hash prefix, created, expiry", listOf("Token")), Handler: s.handleListTokens},
		{Method: http.MethodPost, Path: "/v1/users/{id}/tokens", Roles: AdminOnly, Tags: []string{"users"}, Summary: "Issue another API token (shown once), optionally expiring",
			Params: []Param{userIDParam, userIfMatch}, Body: &Body{Content: JSON(Ref("TokenExpiry"))},
			Responses: userChange(map[int]Response{201: {Description: "the token", Content: JSON(Ref("NewToken")), Headers: userETag}}), Handler: s.handleIssueToken},
		{Method: http.MethodDelete, Path: "/v1/users/{id}/tokens", Roles: AdminOnly, Tags: []string{"users"}, Summary: "Revoke every API token of a user",
			Params: []Param{userIDParam, userIfMatch}, Responses: userChange(OK("the user", Ref("User"))), Handler: s.handleRevokeTokens},
		{Method: http.MethodDelete, Path: "/v1/users/{id}/tokens/{token_id}", Roles: AdminOnly, Tags: []string{"users"}, Summary: "Revoke one API token of a user",
			Params:    []Param{userIDParam, {Name: "token_id", In: "path", Required: true, Schema: Schema{"type": "integer"}, Description: "token id (GET /v1/users/{id}/tokens)"}, userIfMatch},
			Responses: userChange(OK("the user", Ref("User"))), Handler: s.handleRevokeToken},
		{Method: http.MethodGet, Path: "/v1/tables", Roles: AdminOnly, Tags: []string{"reference"},
			Summary:   "What the data directory holds (as drg tables info): grouper versions with windows and code counts, weights, titles, POA lists, HCC models, file checksums",
			Responses: OK("the data directory report", Schema{"type": "object"}), Handler: s.handleTablesInfo},
		{Method: http.MethodGet, Path: "/v1/audit", Roles: AdminOnly, Tags: []string{"audit"}, Summary: "Query the audit log (oldest first)",
			Params: []Param{{Name: "entity", Schema: Schema{"type": "string"}, Description: "encounter, user, …"},
				{Name: "entity_id", Schema: Schema{"type": "string"}}, {Name: "actor_id", Schema: Schema{"type": "integer"}},
				{Name: "action", Schema: Schema{"type": "string"}, Description: "create, update, group, finalize, …"},
				{Name: "since", Schema: Schema{"type": "string", "format": "date-time"}}, {Name: "until", Schema: Schema{"type": "string", "format": "date-time"}},
				limitParam, cursorParam},
			Responses: OK("a page of audit rows", listOf("AuditEntry")), Handler: s.handleAudit},
	}
}
