package api

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/store"
)

var problemContent = map[string]Schema{"application/problem+json": Ref("Problem")}

// OpenAPI returns the OpenAPI 3.1 document of every registered route.
func (s *Server) OpenAPI() Schema {
	s.mu.Lock()
	defer s.mu.Unlock()
	paths := Schema{}
	for _, r := range s.routes {
		item, _ := paths[r.Path].(Schema)
		if item == nil {
			item = Schema{}
			paths[r.Path] = item
		}
		item[strings.ToLower(r.Method)] = operation(r)
	}
	version := s.cfg.Version
	if version == "" {
		version = "dev"
	}
	return Schema{
		"openapi": "3.1.0",
		"info": Schema{
			"title":       "drg — MS-DRG grouper and CDI service",
			"version":     version,
			"description": "Grouping, Medicare Code Editor, code and DRG look-ups, encounters. Errors are RFC 7807 application/problem+json. Every /v1 route needs Authorization: Bearer <token>; x-roles lists the roles admitted. Every GET route also answers HEAD (headers only).",
		},
		"paths": paths,
		"components": Schema{
			"schemas":         maps.Clone(s.schemas),
			"securitySchemes": Schema{"bearer": Schema{"type": "http", "scheme": "bearer", "description": "API token from drg users add or POST /v1/users"}},
		},
	}
}

func operation(r *Route) Schema {
	id := strings.ToLower(r.Method)
	for _, seg := range strings.Split(strings.Trim(r.Path, "/"), "/") {
		seg = strings.NewReplacer("{", "by_", "}", "", ".", "_", "-", "_").Replace(seg)
		id += "_" + seg
	}
	op := Schema{"operationId": id, "summary": r.Summary, "responses": Schema{}}
	if r.Description != "" {
		op["description"] = r.Description
	}
	if len(r.Tags) > 0 {
		op["tags"] = r.Tags
	}
	var params []Schema
	documented := map[string]bool{}
	for _, p := range r.Params {
		in := p.In
		if in == "" {
			in = "query"
		}
		documented[in+":"+p.Name] = true
		ps := Schema{"name": p.Name, "in": in, "required": p.Required || in == "path", "schema": p.Schema}
		if p.Description != "" {
			ps["description"] = p.Description
		}
		params = append(params, ps)
	}
	for _, name := range pathParams(r.Path) {
		if !documented["path:"+name] {
			params = append(params, Schema{"name": strings.TrimSuffix(name, "..."), "in": "path", "required": true, "schema": Schema{"type": "string"}})
		}
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if r.Body != nil {
		content := Schema{}
		for mt, sc := range r.Body.Content {
			content[mt] = Schema{"schema": sc}
		}
		rb := Schema{"required": r.Body.Required, "content": content}
		if r.Body.Description != "" {
			rb["description"] = r.Body.Description
		}
		op["requestBody"] = rb
	}
	resp := op["responses"].(Schema)
	for _, code := range slices.Sorted(maps.Keys(r.Responses)) {
		rs := r.Responses[code]
		out := Schema{"description": rs.Description}
		if len(rs.Content) > 0 {
			content := Schema{}
			for mt, sc := range rs.Content {
				content[mt] = Schema{"schema": sc}
			}
			out["content"] = content
		}
		if len(rs.Headers) > 0 {
			hs := Schema{}
			for h, d := range rs.Headers {
				hs[h] = Schema{"description": d, "schema": Schema{"type": "string"}}
			}
			out["headers"] = hs
		}
		resp[strconv.Itoa(code)] = out
	}
	if !r.Public {
		op["security"] = []Schema{{"bearer": []string{}}}
		roles := make([]string, len(r.Roles))
		for i, role := range r.Roles {
			roles[i] = string(role)
		}
		op["x-roles"] = roles
		resp["401"] = Schema{"description": "no or invalid API token", "content": problemContent}
		resp["403"] = Schema{"description": "the token's role may not call this endpoint", "content": problemContent}
	}
	if r.Body != nil {
		resp["400"] = Schema{"description": "malformed request (unreadable JSON)", "content": problemContent}
		resp["413"] = Schema{"description": "request body too large", "content": problemContent}
		resp["422"] = Schema{"description": "invalid fields, listed in errors", "content": problemContent}
	}
	resp["default"] = Schema{"description": http.StatusText(http.StatusInternalServerError) + " and other problems", "content": problemContent}
	return op
}

// Schema helpers.
func obj(required []string, props Schema) Schema {
	s := Schema{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func arr(items Schema) Schema { return Schema{"type": "array", "items": items} }

var (
	tString  = Schema{"type": "string"}
	tInt     = Schema{"type": "integer"}
	tNum     = Schema{"type": "number"}
	tBool    = Schema{"type": "boolean"}
	tDate    = Schema{"type": "string", "format": "date"}
	tTime    = Schema{"type": "string", "format": "date-time"}
	tIntNull = Schema{"type": []string{"integer", "null"}}
)

// baseSchemas are the components of the built-in routes.
func baseSchemas() map[string]Schema {
	dx := obj([]string{"code"}, Schema{"code": Schema{"type": "string", "description": "ICD-10-CM code; a dot is accepted and removed"},
		"poa": Schema{"type": "string", "description": "present on admission: Y N U W 1 or empty"}})
	code := obj([]string{"code"}, Schema{"code": tString, "poa": Schema{"enum": []string{"Y", "N", "U", "W", "1", ""}},
		"source": Schema{"enum": []string{"coder", "cdi", "query", "import"}, "description": "who added the code (default: the caller's role)"},
		"date":   tDate})
	outcome := obj(nil, Schema{"drg": tInt, "mdc": tInt, "base_drg": tInt, "type": tString, "grc": tString, "severity": tString,
		"sdx_severity": tString, "drg_title": tString, "mdc_title": tString, "base_drg_title": tString})
	drg := obj([]string{"drg", "version"}, Schema{"drg": tInt, "mdc": tInt, "type": tString, "severity": tString, "grc": tString,
		"title": tString, "weight": tNum, "gmlos": tNum, "amlos": tNum, "version": tInt, "grouped_at": tTime, "grouped_by": tString,
		"not_grouped": Schema{"type": "array", "items": tString, "description": "codes the grouping left out (beyond 24 secondary diagnoses or 25 procedures), as \"sdx[24]:J9601\""}})
	codeList := func(what string, grouped int) Schema {
		return Schema{"type": "array", "items": Ref("Code"), "maxItems": store.MaxCodes,
			"description": fmt.Sprintf("every %s of the stay, in order; grouping uses the claim's first %d and names the others in the result's warnings", what, grouped)}
	}
	warning := obj([]string{"kind", "field", "message"}, Schema{"kind": Schema{"enum": []string{"not_grouped", "invalid_code"}},
		"field": Schema{"type": "string", "examples": []string{"sdx[24]"}}, "code": tString, "message": tString,
		"level":                 Schema{"enum": []string{"MCC", "CC", "NCC"}, "description": "own CC/MCC level of a diagnosis not grouped"},
		"possible_replacements": Schema{"type": "array", "items": tString, "description": "codes of the version that extend an invalid code (derived from the code files, not a CMS conversion table)"}})
	encounterProps := func(withServer bool) Schema {
		p := Schema{
			"version": tInt, "discharge_date": Schema{"type": []string{"string", "null"}, "format": "date", "description": "null while in house"},
			"length_of_stay": tInt, "age": tInt, "sex": Schema{"enum": []string{"M", "F", "U"}}, "discharge_status": tInt,
			"hospital_status": Schema{"enum": []string{"NON_EXEMPT", "EXEMPT", "UNKNOWN"}},
			"pdx":             Ref("Code"), "admit_dx": Ref("Code"), "sdx": codeList("secondary diagnosis", claim.MaxSDX),
			"procedures": codeList("procedure", claim.MaxProcedures),
			"account":    tString, "facility": tString, "admit_date": tDate, "payer": tString, "service_line": tString, "unit": tString,
			"attending_provider": obj([]string{"id"}, Schema{"id": tString, "name": tString}),
			"evidence":           arr(Ref("Evidence")),
		}
		if withServer {
			for k, v := range (Schema{"id": tString, "status": Schema{"enum": []string{"open", "discharged", "final"}},
				"baseline_drg": Ref("EncounterDRG"), "working_drg": Ref("EncounterDRG"), "final_drg": Ref("EncounterDRG"),
				"final_codes": obj(nil, Schema{"pdx": Ref("Code"), "admit_dx": Ref("Code"), "sdx": arr(Ref("Code")), "procedures": arr(Ref("Code"))}),
				"row_version": tInt, "created_at": tTime, "updated_at": tTime}) {
				p[k] = v
			}
		}
		return p
	}
	return map[string]Schema{
		"Problem": obj([]string{"type", "title", "status"}, Schema{"type": tString, "title": tString, "status": tInt, "detail": tString,
			"request_id": tString, "errors": arr(obj([]string{"field", "message"}, Schema{"field": Schema{"type": "string", "examples": []string{"sdx[3].poa"}}, "message": tString}))}),
		"Status": obj([]string{"status"}, Schema{"status": tString}),
		"Claim": obj(nil, Schema{"id": tString, "version": tInt, "discharge_date": tDate, "length_of_stay": tInt, "age": tInt,
			"sex": Schema{"enum": []string{"M", "F", "U"}}, "discharge_status": tInt, "hospital_status": tString,
			"pdx": dx, "admit_dx": dx, "sdx": Schema{"type": "array", "items": dx, "description": "the first 24 are grouped; the others are named in the result's warnings"},
			"procedures": Schema{"type": "array", "description": "the first 25 are grouped; the others are named in the result's warnings",
				"items": obj([]string{"code"}, Schema{"code": tString, "date": tDate})}}),
		"GroupResult": obj([]string{"version", "initial", "final"}, Schema{"id": tString, "version": tInt, "discharge_date": tDate,
			"initial": outcome, "final": outcome, "hac_status": tString, "hac_categories": tInt, "admit_dx": tString,
			"dx": arr(obj(nil, Schema{"code": tString, "role": tString, "poa": tString, "recognized": tBool, "level": tString,
				"initial_severity": tString, "final_severity": tString, "affects_drg": tString, "poa_error": tString, "hacs": tString})),
			"pr":     arr(obj(nil, Schema{"code": tString, "recognized": tBool, "is_or": tBool, "affects_drg": tString, "hac_usage": tString})),
			"weight": tNum, "gmlos": tNum, "amlos": tNum, "explanation": tString, "mce": Ref("MCEResult"),
			"warnings": arr(warning)}),
		"BatchError": obj([]string{"index", "error"}, Schema{"index": tInt, "id": tString, "error": tString,
			"errors": arr(obj(nil, Schema{"field": tString, "message": tString}))}),
		"MCEResult": obj(nil, Schema{"id": tString, "edit_type": Schema{"enum": []string{"NONE", "PREPAYMENT", "POSTPAYMENT", "BOTH", "INVALID_DISCHARGE_DATE"}},
			"edits": Schema{"type": "object", "additionalProperties": tInt}, "messages": arr(Schema{"type": "object"})}),
		"CodeInfo": obj([]string{"code", "type", "version", "recognized", "versions"}, Schema{"code": tString, "type": Schema{"enum": []string{"dx", "pr"}},
			"version": tInt, "fiscal_year": tInt, "title": tString, "short_title": tString, "valid": tBool, "recognized": tBool,
			"mdc": tInt, "mdc_title": tString, "mdc_by_sex": Schema{"type": "object", "additionalProperties": tInt},
			"level": Schema{"enum": []string{"MCC", "CC", "NCC"}}, "poa_exempt": tBool, "is_or": tBool,
			"hcc":      arr(obj(nil, Schema{"year": tInt, "model": tString, "hccs": arr(tInt), "labels": arr(tString)})),
			"versions": arr(obj(nil, Schema{"version": tInt, "recognized": tBool, "mdc": tInt, "level": tString, "is_or": tBool}))}),
		"CodeSearch": obj([]string{"items"}, Schema{"version": tInt, "fiscal_year": tInt,
			"index_year": Schema{"type": "integer", "description": "fiscal year of the ICD-10-CM Alphabetic Index searched (diagnoses; absent without an index)"},
			"items": arr(obj(nil, Schema{"code": tString, "title": tString, "short_title": tString, "valid": tBool,
				"match":      Schema{"enum": []string{"code", "index", "title"}, "description": "code prefix, an Alphabetic Index entry, or title words"},
				"index_term": Schema{"type": "string", "examples": []string{"Failure, failed, renal, acute"}, "description": "the index entry that leads to the code"}}))}),
		"DRGInfo": obj([]string{"drg", "version", "title", "mdcs"}, Schema{"drg": tInt, "version": tInt, "fiscal_year": tInt, "title": tString,
			"mdc": tIntNull, "mdc_title": tString, "mdcs": arr(tInt), "type": tString, "base_drg": tInt, "weight": tNum, "gmlos": tNum, "amlos": tNum}),
		"Versions": obj([]string{"items"}, Schema{"mce": tBool, "note": tString, "items": arr(obj(nil, Schema{"version": tInt, "name": tString,
			"fiscal_year": tInt, "from": tDate, "to": tDate, "current": tBool, "weights": tBool, "dx_titles": tBool, "pr_titles": tBool, "poa_exempt": tBool}))}),
		"Code":         code,
		"Evidence":     obj([]string{"kind"}, Schema{"kind": Schema{"enum": []string{"lab", "vital", "med", "order", "note", "documented_dx", "measurement"}}, "name": tString, "loinc": tString, "value": Schema{"type": []string{"number", "string"}}, "unit": tString, "reference_range": tString, "time": tTime, "source": tString, "context": tString, "route": tString, "dose": tString, "note_type": tString, "author_role": tString, "text": tString, "code": tString, "poa": tString}),
		"EncounterDRG": drg,
		"EncounterInput": func() Schema {
			s := obj([]string{"account"}, encounterProps(false))
			s["additionalProperties"] = false
			return s
		}(),
		"Encounter":         obj([]string{"id", "status", "account", "row_version"}, encounterProps(true)),
		"EncounterGrouping": obj([]string{"encounter", "result"}, Schema{"encounter": Ref("Encounter"), "result": Ref("GroupResult"), "note": tString}),
		"FinalizeInput": obj(nil, Schema{"pdx": Ref("Code"), "admit_dx": Ref("Code"), "sdx": codeList("secondary diagnosis", claim.MaxSDX),
			"procedures":      codeList("procedure", claim.MaxProcedures),
			"override_reason": Schema{"type": "string", "maxLength": 1000, "description": "finalize over blocking checks; audited with the items overridden"}}),
		"FinalizeCheck": obj([]string{"encounter_id", "blocking", "warnings", "can_finalize", "checks"}, Schema{"encounter_id": tString, "row_version": tInt,
			"blocking": arr(Ref("CheckItem")), "warnings": arr(Ref("CheckItem")), "can_finalize": tBool, "drg": Ref("EncounterDRG"),
			"baseline_drg": Ref("EncounterDRG"), "checks": arr(tString), "note": tString,
			"queries": arr(obj(nil, Schema{"id": tString, "condition": tString, "state": tString}))}),
		"CheckItem": obj([]string{"kind", "field", "message"}, Schema{"kind": Schema{"enum": []string{"mce", "query_open", "query_draft", "ungroupable",
			"unsupported_diagnosis", "not_grouped", "validation_unavailable", "in_house", "no_pdx"}}, "field": tString, "code": tString, "message": tString}),
		"CodingWorklist": obj([]string{"items", "total", "next_cursor"}, Schema{"total": tInt, "next_cursor": tString, "items": arr(obj(nil, Schema{
			"encounter_id": tString, "account": tString, "facility": tString, "payer": tString, "service_line": tString,
			"attending_provider": Schema{"type": "object"}, "admit_date": tDate, "discharge_date": tDate, "days_since_discharge": tInt,
			"working_drg": Ref("EncounterDRG"), "baseline_drg": Ref("EncounterDRG"), "open_queries": tInt, "draft_queries": tInt, "answered_queries": tInt}))}),
		"User": obj([]string{"id", "name", "role"}, Schema{"id": tInt, "name": tString, "role": Schema{"enum": []string{"coder", "cdi", "finance", "admin"}}, "disabled": tBool, "created_at": tTime,
			"version": Schema{"type": "integer", "description": "row version: the ETag, for If-Match"}}),
		"UserInput": obj([]string{"name", "role"}, Schema{"name": tString, "role": Schema{"enum": []string{"coder", "cdi", "finance", "admin"}},
			"expires_at":      Schema{"type": "string", "format": "date-time", "description": "expiry of the first API token (default: none)"},
			"expires_in_days": Schema{"type": "integer", "minimum": 1, "maximum": 3650, "description": "expiry of the first API token in days from now"}}),
		"TokenExpiry": obj(nil, Schema{"expires_at": Schema{"type": "string", "format": "date-time", "description": "expiry of the token (default: none)"},
			"expires_in_days": Schema{"type": "integer", "minimum": 1, "maximum": 3650, "description": "expiry in days from now"}}),
		"Token": obj([]string{"id", "user_id", "hash_prefix", "created_at", "expired"}, Schema{"id": tInt, "user_id": tInt,
			"hash_prefix": Schema{"type": "string", "description": "first 8 hex digits of the token's SHA-256 (as in the audit log); the secret is never stored"},
			"created_at":  tTime, "expires_at": tTime, "expired": tBool}),
		"UserPatch": obj(nil, Schema{"role": Schema{"enum": []string{"coder", "cdi", "finance", "admin"}}, "disabled": tBool}),
		"NewToken":  obj([]string{"user", "token"}, Schema{"user": Ref("User"), "token": Schema{"type": "string", "description": "shown once; store it safely"}}),
		"AuditEntry": obj([]string{"id", "at", "actor", "entity", "entity_id", "action"}, Schema{"id": tInt, "at": tTime, "actor_id": tInt, "actor": tString,
			"actor_role": tString, "entity": tString, "entity_id": tString, "action": tString,
			"before": Schema{"description": "changed fields before (JSON)"}, "after": Schema{"description": "changed fields after (JSON)"}}),
	}
}
