package api

import "github.com/msdrg-cdi/drg/cdi"

// cdiSchemas are the OpenAPI components of the CDI endpoints.
func cdiSchemas() map[string]Schema {
	cite := obj([]string{"indicator", "name", "kind"}, Schema{"indicator": tString, "label": tString,
		"kind": Schema{"enum": cdi.CiteKinds(),
			"description": "what the fact is (required): imaging (echo ejection fraction, chest X-ray, CT…), pathology and procedure reports are clinical findings like labs; documented_dx and working_code are documentation of a diagnosis and never support an option"},
		"evidence": Schema{"type": "array", "items": tInt, "description": "indexes into the encounter's evidence"},
		"name":     tString, "value": Schema{"type": []string{"number", "string"}}, "unit": tString, "time": tTime, "source": tString,
		"context": tString, "author_role": tString, "detail": tString, "code": tString, "prior_encounter": tBool})
	option := obj([]string{"text", "kind"}, Schema{"text": tString,
		"kind":       Schema{"enum": []string{"diagnosis", "other", "undetermined", "not_significant", "integral", "yes", "no"}},
		"codes":      Schema{"type": "array", "items": tString, "description": "codes the option leads to (not shown to the provider)"},
		"documented": tBool, "indicators": Schema{"type": "array", "items": tInt, "description": "indexes into the query's indicators: the clinical evidence supporting this option (Q5)"},
		"action": Schema{"enum": []string{"", "add", "replace", "remove", "poa"}}, "poa": tString})
	format := Schema{"enum": []string{"multiple_choice", "yes_no", "open_ended"}}
	purpose := Schema{"enum": []string{"new_diagnosis", "specificity", "clinical_validation", "confirm_documented", "poa", "cause_effect", "conflict"}}
	reason := Schema{"enum": []string{"conflicting", "incomplete", "ambiguous", "illegible", "clinically_inconsistent", "specificity", "clinical_validation", "poa", "cause_effect"}}
	provider := obj([]string{"id"}, Schema{"id": tString, "name": tString})
	contentProps := func() Schema {
		return Schema{"format": format, "purpose": purpose, "reason": reason, "reason_text": tString, "intro": tString,
			"indicators": arr(Ref("Cite")), "question": tString, "options": arr(Ref("QueryOption")),
			"channel": Schema{"enum": []string{"written", "verbal"}}, "provider": provider}
	}
	queryProps := contentProps()
	for k, v := range (Schema{"id": tString, "version": tInt, "supersedes": Schema{"type": "string", "description": "id@vN of the previous version"},
		"encounter_id": tString, "account": tString, "admit_date": tDate, "opportunity_id": tString, "condition": tString,
		"diagnoses": arr(tString), "replaces": arr(tString), "poa": tString, "principal": tBool, "author": provider,
		"state":      Schema{"enum": []string{"draft", "sent", "answered", "escalated", "closed"}},
		"created_at": tTime, "sent_at": tTime, "answered_at": tTime, "escalated_at": tTime, "closed_at": tTime, "close_reason": tString,
		"content_hash": Schema{"type": "string", "description": "SHA-256 of the content, frozen when sent (Q10)"},
		"verbal":       Ref("VerbalRecord"),
		"answer": obj([]string{"outcome", "authenticated_by", "at"}, Schema{"outcome": Schema{"enum": []string{"agree", "disagree", "other", "undetermined"}},
			"option": tInt, "text": tString, "codes": arr(tString), "authenticated_by": tString, "at": tTime}),
		"escalation": obj([]string{"to", "reason", "at"}, Schema{"to": tString, "reason": tString, "at": tTime}),
		"effect":     Ref("QueryEffect"),
		"audit":      arr(obj([]string{"at", "actor", "action", "version"}, Schema{"at": tTime, "actor": tString, "action": tString, "version": tInt, "detail": tString})),
		"overdue":    Schema{"type": "boolean", "description": "sent and unanswered for longer than the escalation policy"},
		"text":       Schema{"type": "string", "description": "the provider-facing text"}}) {
		queryProps[k] = v
	}
	impact := obj([]string{"version", "weight_delta"}, Schema{"version": tInt, "drg_before": tInt, "title_before": tString, "severity_before": tString,
		"drg_after": tInt, "title_after": tString, "severity_after": tString, "weight_before": tNum, "weight_after": tNum,
		"weight_delta": Schema{"type": "number", "description": "after − before; negative for clinical validation (the weight at risk)"},
		"weights_fy":   tInt, "hcc_gained": arr(obj(nil, Schema{"hcc": tInt, "label": tString})), "hcc_year": tInt,
		"codes_added": arr(tString), "codes_removed": arr(tString), "pdx_after": tString,
		"no_impact": Schema{"type": "string", "description": "why the DRG does not change (zero impact is reported as such)"}})
	riskFlag := obj([]string{"kind", "reason"}, Schema{"kind": Schema{"enum": []string{"single_cc_mcc", "audited_pdx", "short_stay_surgical", "mce_postpayment"}},
		"reason": tString, "codes": arr(tString), "drg_without": tInt, "weight_without": tNum})
	indicatorFinding := obj([]string{"id", "label"}, Schema{"id": tString, "label": tString, "facts": arr(tString)})
	worklistRow := obj([]string{"account", "status", "priority"}, Schema{"encounter_id": tString, "account": tString, "facility": tString,
		"unit": tString, "payer": tString, "service_line": tString, "provider": tString, "admit_date": tDate, "days_since_admission": tInt,
		"working_drg": tInt, "working_title": tString, "working_weight": tNum,
		"top_opportunity": obj(nil, Schema{"id": tString, "kind": tString, "condition": tString, "code": tString, "drg_after": tInt,
			"weight_delta": tNum, "hcc_gained": tInt, "strength": tNum, "no_impact": tString}),
		"opportunities": tInt, "conditions": arr(tString), "open_queries": tInt, "escalated_queries": tInt,
		"status":   Schema{"enum": []string{"escalated", "query_open", "answered", "opportunities", "no_opportunity", "not_reviewed"}},
		"priority": tNum, "encounter_status": Schema{"enum": []string{"open", "discharged"}}, "risk_flags": arr(Ref("RiskFlag")),
		"unsupported_diagnoses": Schema{"type": "integer", "description": "coded diagnoses the clinical validation found unsupported"},
		"reviewed_at":           tTime, "review_stale": tBool})
	lintResult := obj([]string{"ok"}, Schema{"ok": tBool, "violations": arr(Ref("Violation")),
		"rules": Schema{"type": "array", "items": tString, "description": "violated rule ids, each once, in Q order"}})
	return map[string]Schema{
		"Cite":         cite,
		"QueryOption":  option,
		"VerbalRecord": obj([]string{"conducted_by", "conducted_with", "at"}, Schema{"conducted_by": tString, "conducted_with": tString, "at": tTime, "notes": tString}),
		"QueryPlan":    obj([]string{"format", "purpose", "reason", "reason_text", "question"}, Schema{"format": format, "purpose": purpose, "reason": reason, "reason_text": tString, "question": tString, "options": arr(Ref("QueryOption"))}),
		"QueryContent": func() Schema { s := obj(nil, contentProps()); s["additionalProperties"] = false; return s }(),
		"Query":        obj([]string{"id", "version", "encounter_id", "state", "audit"}, queryProps),
		"QueryEffect": obj([]string{"weight_delta"}, Schema{"drg_before": tInt, "drg_after": tInt, "weight_before": tNum, "weight_after": tNum,
			"weight_delta": tNum, "codes_added": arr(tString), "codes_removed": arr(tString), "poa_changed": arr(tString), "note": tString}),
		"Impact":   impact,
		"RiskFlag": riskFlag,
		"Opportunity": obj([]string{"id", "kind", "reason", "condition", "strength", "impact", "query"}, Schema{"id": Schema{"type": "string", "description": "stable across reviews: rule:<rule>, cv:<rule>, conflict:<group>, conflict:non_provider:<code>, poa:<code>"},
			"kind":   Schema{"enum": []string{"new_diagnosis", "specificity", "conflict", "clinical_validation"}},
			"reason": tString, "rule": tString, "condition": tString,
			"candidates": arr(obj([]string{"code"}, Schema{"code": tString, "title": tString, "level": tString})),
			"replaces":   arr(tString), "principal": tBool, "poa": tString, "indicators": arr(Ref("Cite")), "documentation": arr(Ref("Cite")),
			"strength": Schema{"type": "number", "description": "evidence strength in [0, 1)"}, "explain": tString, "impact": Ref("Impact"),
			"query": Ref("QueryPlan"), "terms": arr(tString),
			"validation": Schema{"enum": []string{"contradicted", "insufficient", "no_evidence"},
				"description": "clinical validation: values present and against the criteria, part of them met and the rest absent, or no data of the kinds they need (no query plan: nothing to cite)"}}),
		"EngineReview": obj([]string{"version", "rules_version", "opportunities", "rules"}, Schema{"encounter_id": tString, "account": tString, "facility": tString,
			"version": tInt, "rules_version": tString, "settings": Schema{"type": "object", "additionalProperties": tString},
			"working":       obj([]string{"pdx", "drg"}, Schema{"pdx": tString, "pdx_title": tString, "drg": tInt, "title": tString, "mdc": tInt, "severity": tString, "weight": tNum}),
			"opportunities": arr(Ref("Opportunity")),
			"rules": arr(obj([]string{"rule", "status", "explain"}, Schema{"rule": tString, "condition": tString,
				"status": Schema{"enum": []string{"fired", "not_fired", "documented", "not_evaluated"}}, "kind": tString, "explain": tString,
				"indicators": arr(obj([]string{"id", "met"}, Schema{"id": tString, "label": tString, "met": tBool, "cited": arr(Ref("Cite")), "margin": tNum, "explain": tString}))})),
			"hints": arr(obj([]string{"code", "more_specific", "count", "message"}, Schema{"code": tString, "title": tString,
				"more_specific": arr(obj([]string{"code"}, Schema{"code": tString, "title": tString})), "count": tInt,
				"message": Schema{"type": "string", "description": "coder hint read from the code titles: not an opportunity, never a query"}})),
			"warnings": arr(tString)}),
		"ValidationFinding": obj([]string{"code", "role", "status", "explain", "depends"}, Schema{"code": tString, "title": tString,
			"role": Schema{"enum": []string{"pdx", "sdx"}}, "level": Schema{"enum": []string{"MCC", "CC", "NCC", ""}},
			"status": Schema{"enum": []string{"supported", "unsupported", "not_validated"}}, "rules": arr(tString), "condition": tString, "explain": tString,
			"missing": arr(indicatorFinding), "contradicting": arr(indicatorFinding),
			"drg_without": Schema{"type": "integer", "description": "the DRG regrouped without the code"}, "title_without": tString,
			"weight_without": tNum, "weight_delta": tNum, "depends": Schema{"type": "boolean", "description": "the DRG changes without the code"},
			"opportunity_id": Schema{"type": "string", "description": "the clinical validation opportunity to query"},
			"query":          Ref("QueryContent"),
			"evidence": Schema{"enum": []string{"contradicted", "insufficient", "no_evidence"},
				"description": "unsupported only: values present and against the criteria; part of them met and the rest absent; or no evidence available (no data of the kinds they need, no query)"},
			"no_query": Schema{"type": "string", "description": "why an unsupported finding has no query to propose"}}),
		"ValidationReport": obj([]string{"version", "findings", "supported", "unsupported", "not_validated"}, Schema{"version": tInt,
			"working_drg": tInt, "working_weight": tNum, "findings": arr(Ref("ValidationFinding")), "supported": tInt, "unsupported": tInt, "not_validated": tInt,
			"contradicted": tInt, "insufficient": tInt, "no_evidence": tInt}),
		"CDIReview": obj([]string{"encounter_id", "encounter_row_version", "reviewed_at", "review", "risk_flags", "validation"}, Schema{
			"encounter_id": tString, "encounter_row_version": tInt, "reviewed_at": tTime, "reviewed_by": tString,
			"stale":  Schema{"type": "boolean", "description": "the encounter changed after the review"},
			"review": Ref("EngineReview"), "risk_flags": arr(Ref("RiskFlag")), "validation": Ref("ValidationReport")}),
		"WorklistRow": worklistRow,
		"FHIRBundle": Schema{"type": "object", "required": []string{"resourceType"}, "description": "FHIR R4 Bundle (resources read: Patient, Encounter, Condition, Procedure, Observation, MedicationAdministration, DocumentReference with an inline text/plain attachment, Composition section narratives, Practitioner)",
			"properties": Schema{"resourceType": Schema{"const": "Bundle"}, "entry": arr(obj(nil, Schema{"fullUrl": tString, "resource": Schema{"type": "object"}}))}},
		"EvidenceImport": obj([]string{"encounter", "loaded", "errors"}, Schema{"encounter": Ref("Encounter"), "loaded": tInt, "duplicates": tInt,
			"errors": arr(obj([]string{"index", "message"}, Schema{"index": Schema{"type": "integer", "description": "bundle entry or evidence array index"},
				"resource_type": tString, "id": tString, "message": tString}))}),
		"QueryCreate": obj([]string{"opportunity_id"}, Schema{"opportunity_id": tString,
			"format":  Schema{"enum": []string{"multiple_choice", "yes_no", "open_ended"}, "description": "default: the opportunity's; open_ended asks without naming the diagnosis"},
			"channel": Schema{"enum": []string{"written", "verbal"}}, "provider": provider}),
		"Violation":  obj([]string{"rule", "message"}, Schema{"rule": Schema{"type": "string", "examples": []string{"Q3"}}, "field": tString, "message": tString}),
		"LintResult": lintResult,
		"LintProblem": func() Schema {
			s := obj([]string{"type", "title", "status", "rules", "violations"}, Schema{"type": tString, "title": tString, "status": tInt, "detail": tString,
				"request_id": tString, "errors": arr(obj(nil, Schema{"field": tString, "message": tString})),
				"rules": arr(tString), "violations": arr(Ref("Violation"))})
			return s
		}(),
		"QueryDraft": obj([]string{"query", "lint"}, Schema{"query": Ref("Query"), "lint": Ref("LintResult")}),
		"QueryLintInput": func() Schema {
			p := contentProps()
			p["query_id"] = Schema{"type": "string", "description": "lint as an edit of this query"}
			p["encounter_id"] = tString
			p["diagnoses"] = Schema{"type": "array", "items": tString, "description": "names of the diagnosis in question (Q7)"}
			return obj(nil, p)
		}(),
		"QuerySend": obj(nil, Schema{"verbal": Ref("VerbalRecord")}),
		"QueryAnswerInput": obj([]string{"outcome"}, Schema{"outcome": Schema{"enum": []string{"agree", "disagree", "other", "undetermined"}},
			"option":           Schema{"type": "integer", "description": "index of the option chosen"},
			"text":             Schema{"type": "string", "description": "the provider's answer"},
			"codes":            Schema{"type": "array", "items": tString, "description": "ICD-10-CM codes derived from a free-text answer"},
			"poa":              Schema{"enum": []string{"Y", "N", "U", "W", "1"}},
			"principal":        tBool,
			"authenticated_by": Schema{"type": "string", "description": "provider who authenticated the answer (default: the provider queried)"},
			"at":               Schema{"type": "string", "format": "date-time", "description": "answer time (default now)"},
			"close":            Schema{"type": "boolean", "description": "apply and close (default true)"}}),
		"QueryAnswerResult": obj([]string{"query"}, Schema{"query": Ref("Query"), "effect": Ref("QueryEffect"), "encounter": Ref("Encounter"), "note": tString}),
		"QueryDetail":       obj([]string{"query", "versions"}, Schema{"query": Ref("Query"), "versions": arr(Ref("Query")), "history": arr(Ref("Query"))}),
		"QueryStats": obj([]string{"by", "items"}, Schema{"by": Schema{"enum": []string{"provider", "specialist"}}, "items": arr(obj([]string{"key", "sent"}, Schema{
			"key": tString, "sent": tInt, "answered": tInt, "agreed": tInt, "disagreed": tInt, "other": tInt, "undetermined": tInt, "escalated": tInt, "open": tInt,
			"response_rate": tNum, "agreement_rate": tNum, "median_response_hours": tNum}))}),
		"EscalationRun": obj([]string{"policy", "escalated"}, Schema{"policy": obj(nil, Schema{"hours": tNum, "to": tString}), "escalated": arr(Ref("Query"))}),
	}
}
