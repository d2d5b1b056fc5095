package api_test

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	cdipkg "github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/tables"
)

// Every CDI route driven with every opportunity kind the engine can produce: encounters
// generated from the rule file (each rule met with and without its documentation, met with
// unspecified documentation, contradicted, each conflict group documented both ways,
// non-provider documentation, a missing POA) and edge cases. No request may answer 5xx.

// firstValidCode returns the first code of version 43.1 with one of the prefixes, "" if none.
func firstValidCode(t *testing.T, prefixes []string) string {
	t.Helper()
	c, _ := catalog(t)
	var out []string
	for code, recs := range c.MSDRG.Dx {
		if _, ok := tables.Pick(recs, tables.Version(431)); ok && slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(code, p) }) {
			out = append(out, code)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return slices.Min(out)
}

// meetingEvidence returns evidence meeting every indicator of a rule's criteria the generator
// can write: values beyond each threshold, a rise or drop or ratio within its window,
// abnormal score components, medications and orders by name, a note with the first phrase of
// each note indicator.
func meetingEvidence(r *cdipkg.Rules, rule *cdipkg.Rule, at time.Time) []map[string]any {
	var out []map[string]any
	var phrases []string
	for _, id := range criterionIndicators(r, &rule.Criteria, nil) {
		ind := r.Indicators[id]
		if ind == nil {
			continue
		}
		if sc := r.Scores[ind.Score]; sc != nil {
			for _, comp := range sc.Components {
				sel := r.Selectors[comp.Of]
				if !numericSelector(sel) || len(comp.Points) == 0 {
					continue
				}
				worst := comp.Points[len(comp.Points)-1].Value
				x := worst * 1.2
				if comp.Lower {
					x = worst * 0.8
				}
				out = append(out, numericItem(sel, x, at), numericItem(sel, x, at.Add(2*time.Hour)))
			}
			continue
		}
		sel := r.Selectors[ind.Of]
		if sel == nil {
			continue
		}
		if len(ind.TextAny) > 0 || len(sel.TextAny) > 0 {
			p := append(slices.Clone(ind.TextAny), sel.TextAny...)
			phrases = append(phrases, p[0])
		}
		if !numericSelector(sel) {
			if len(sel.Names) > 0 && len(sel.Kind) > 0 && (sel.Kind[0] == "med" || sel.Kind[0] == "order") {
				out = append(out, map[string]any{"kind": sel.Kind[0], "name": sel.Names[0], "route": "IV", "time": at.Format(time.RFC3339), "source": "MAR"})
			}
			continue
		}
		base := 1.0
		if p := sel.Plausible; len(p) == 2 {
			base = p[0] + (p[1]-p[0])*0.05
		}
		switch {
		case ind.Change != nil:
			d := ind.Change.Amount * 2
			if ind.Change.Direction == "drop" {
				out = append(out, numericItem(sel, base+d, at), numericItem(sel, base, at.Add(12*time.Hour)))
			} else {
				out = append(out, numericItem(sel, base, at), numericItem(sel, base+d, at.Add(12*time.Hour)))
			}
		case ind.Ratio != nil:
			out = append(out, numericItem(sel, base, at), numericItem(sel, base*ind.Ratio.Min*1.5, at.Add(12*time.Hour)))
		case ind.Value != nil:
			v, s := *ind.Value, max(ind.Scale, 1e-3)
			x := v + s
			if ind.Op == "<" || ind.Op == "<=" {
				x = v - s/2
			}
			out = append(out, numericItem(sel, x, at), numericItem(sel, x, at.Add(time.Hour)))
		}
	}
	if len(phrases) > 0 {
		out = append(out, map[string]any{"kind": "note", "note_type": "progress note", "author_role": "physician", "source": "progress note",
			"text": "Patient with " + strings.Join(phrases, "; ") + ".", "time": at.Add(3 * time.Hour).Format(time.RFC3339)})
	}
	return out
}

// cdiEncounter is an encounter body with the given codes (pdx first) and evidence.
func cdiEncounter(account string, codes []string, evidence []map[string]any) map[string]any {
	pdx := "I10"
	if len(codes) > 0 {
		pdx, codes = codes[0], codes[1:]
	}
	sdx := []any{}
	for _, c := range codes {
		sdx = append(sdx, map[string]any{"code": c, "poa": "Y"})
	}
	if evidence == nil {
		evidence = []map[string]any{}
	}
	return map[string]any{"account": account, "facility": "MAIN", "admit_date": "2026-05-04", "discharge_date": "2026-05-08", "payer": "MEDICARE",
		"attending_provider": map[string]any{"id": "P1"}, "age": 72, "sex": "M", "pdx": map[string]any{"code": pdx, "poa": "Y"}, "sdx": sdx,
		"evidence": evidence}
}

// documented is a documented diagnosis by a provider (or another role).
func documented(code, role string, at time.Time) map[string]any {
	return map[string]any{"kind": "documented_dx", "code": code, "author_role": role, "note_type": "progress note", "source": "progress note",
		"time": at.Format(time.RFC3339)}
}

// generatedEncounters returns the named encounters of the no-5xx test, generated from the
// rules.
func generatedEncounters(t *testing.T, r *cdipkg.Rules) map[string]map[string]any {
	at := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	out := map[string]map[string]any{}
	for _, id := range r.RuleIDs() {
		rule := r.Rules[id]
		meet := meetingEvidence(r, rule, at)
		doc, unspec := firstValidCode(t, rule.Documented), firstValidCode(t, rule.Unspecified)
		out[id+"/met"] = cdiEncounter(id+"/met", nil, meet)
		if unspec != "" {
			out[id+"/met-unspecified"] = cdiEncounter(id+"/met-unspecified", []string{"I10", unspec}, append(slices.Clone(meet), documented(unspec, "physician", at)))
		}
		if doc != "" {
			out[id+"/met-documented"] = cdiEncounter(id+"/met-documented", []string{"I10", doc}, append(slices.Clone(meet), documented(doc, "physician", at)))
			out[id+"/against"] = cdiEncounter(id+"/against", []string{"I10", doc}, append(againstEvidence(r, rule, at), documented(doc, "physician", at)))
			out[id+"/documentation-only"] = cdiEncounter(id+"/documentation-only", []string{doc}, []map[string]any{documented(doc, "physician", at)})
			out[id+"/nurse-only"] = cdiEncounter(id+"/nurse-only", nil, append(slices.Clone(meet), documented(doc, "nurse", at)))
		}
	}
	for _, gid := range slices.Sorted(func(yield func(string) bool) {
		for k := range r.ConflictGroups {
			if !yield(k) {
				return
			}
		}
	}) {
		g := r.ConflictGroups[gid]
		var ev []map[string]any
		for i, m := range g.Members {
			if c := firstValidCode(t, m); c != "" {
				ev = append(ev, documented(c, "physician", at.Add(time.Duration(i)*time.Hour)))
			}
		}
		out["conflict/"+gid] = cdiEncounter("conflict/"+gid, nil, ev)
		for _, iid := range g.Indicators {
			if sel := r.Selectors[r.Indicators[iid].Of]; numericSelector(sel) && r.Indicators[iid].Value != nil {
				ev = append(ev, numericItem(sel, *r.Indicators[iid].Value, at))
			}
		}
		out["conflict/"+gid+"/with-indicators"] = cdiEncounter("conflict/"+gid+"/with-indicators", nil, ev)
	}
	// Missing POA on hospital-acquired-condition codes.
	missing := cdiEncounter("poa-missing", []string{"J189", "L89154", "T8141XA"}, nil)
	missing["sdx"] = []any{map[string]any{"code": "L89154"}, map[string]any{"code": "T8141XA", "poa": "U"}}
	out["poa-missing"] = missing
	return out
}

// edgeEncounters are malformed or unusual encounters.
func edgeEncounters() map[string]any {
	at := "2026-05-04T08:00:00Z"
	lab := func(name string, v any, unit string) map[string]any {
		return map[string]any{"kind": "lab", "name": name, "value": v, "unit": unit, "time": at, "source": "LAB"}
	}
	many := []any{}
	for i := 0; i < 30; i++ {
		many = append(many, map[string]any{"code": []string{"J9601", "N179", "E43", "D62", "A419", "I5021", "E871", "G9341", "K219", "I10"}[i%10], "poa": "Y"})
	}
	return map[string]any{
		"30 diagnoses": func() map[string]any {
			e := cdiEncounter("edge-30", []string{"J189"}, []map[string]any{lab("Creatinine", 1.0, "mg/dL"), lab("Creatinine", 2.1, "mg/dL")})
			e["sdx"] = many
			return e
		}(),
		"empty evidence": cdiEncounter("edge-empty", []string{"J189", "J9601"}, nil),
		"no codes":       map[string]any{"account": "edge-nocodes", "facility": "MAIN", "admit_date": "2026-05-04", "evidence": []any{lab("Creatinine", 2.5, "mg/dL")}},
		"units missing": cdiEncounter("edge-units", []string{"J189", "J9601"}, []map[string]any{lab("Creatinine", 1.0, ""), lab("Creatinine", 3.0, ""),
			{"kind": "vital", "name": "SpO2", "value": 80, "time": at, "source": "ED"}, lab("Sodium", 120, "")}),
		"unknown units": cdiEncounter("edge-badunits", []string{"J189", "N179"}, []map[string]any{lab("Creatinine", 1.0, "furlongs"), lab("Creatinine", 9.0, "µg/cubit")}),
		"huge values": cdiEncounter("edge-huge", []string{"J189", "J9601", "N179"}, []map[string]any{lab("Creatinine", 1e308, "mg/dL"), lab("Creatinine", -1e308, "mg/dL"),
			lab("Sodium", math.MaxFloat64, "mmol/L"), {"kind": "vital", "name": "SpO2", "value": 1e300, "unit": "%", "time": at, "source": "ED"},
			{"kind": "vital", "name": "Respiratory rate", "value": -1e300, "time": at, "source": "ED"}}),
		"text for numbers": cdiEncounter("edge-text", []string{"J189", "J9601"}, []map[string]any{lab("Creatinine", "see note", "mg/dL"),
			{"kind": "vital", "name": "SpO2", "value": "", "time": at, "source": "ED"}}),
		"no time or source": cdiEncounter("edge-notime", []string{"J189", "J9601"}, []map[string]any{{"kind": "vital", "name": "SpO2", "value": 95, "unit": "%"},
			{"kind": "documented_dx", "code": "J9601", "author_role": "physician"}}),
		"duplicate codes": cdiEncounter("edge-dups", []string{"J9601", "J9601", "J9601", "N179", "N179"}, []map[string]any{documented("J9601", "physician", time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)),
			documented("J9601", "physician", time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))}),
		"unknown codes": cdiEncounter("edge-unknown", []string{"J189", "ZZZ999", "J96"}, []map[string]any{documented("ZZZ999", "physician", time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)),
			documented("Q", "physician", time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))}),
		"unknown documented code": cdiEncounter("edge-unknown-doc", []string{"J189"}, []map[string]any{documented("ZZZ999", "nurse", time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))}),
		"evidence before admission": cdiEncounter("edge-early", []string{"J189", "J9601"}, []map[string]any{{"kind": "vital", "name": "SpO2", "value": 85, "unit": "%",
			"time": "2019-01-01T00:00:00Z", "source": "ED"}}),
		"huge note": cdiEncounter("edge-note", []string{"J189"}, []map[string]any{{"kind": "note", "author_role": "physician", "source": "note", "time": at,
			"text": strings.Repeat("acute respiratory failure with hypoxia; SpO2 85% on room air; confusion; poor intake; ", 2000)}}),
	}
}

// TestCDIRoutesNever5xx drives create, review (POST and GET), validation, draft (the plan's
// format and open-ended), lint, send and close over every generated and edge encounter, under
// both settings variants, and asserts that no request answers 5xx and that every
// opportunity kind the engine knows was produced.
func TestCDIRoutesNever5xx(t *testing.T) {
	kinds := map[string]bool{}
	reasons := map[string]bool{}
	for _, patch := range settingsVariants {
		rules := rulesFor(t, patch)
		ts := newCDIServer(t, &clock{t: time.Date(2026, 5, 9, 12, 0, 0, 0, time.UTC)}, api.CDIConfig{Rules: rules})
		encs := map[string]any{}
		for k, v := range generatedEncounters(t, rules) {
			encs[k] = v
		}
		for k, v := range edgeEncounters() {
			encs[k] = v
		}
		ok := func(name string, r reply) reply {
			t.Helper()
			if r.StatusCode >= 500 {
				t.Errorf("%s: %s %s: %d %.300s", name, r.Request.Method, r.Request.URL.Path, r.StatusCode, r.body)
			}
			return r
		}
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range encs {
				if !yield(k) {
					return
				}
			}
		}) {
			r := ok(name, ts.do("POST", "/v1/encounters", cdi, encs[name]))
			if r.StatusCode != 201 {
				continue
			}
			var e struct{ ID string }
			json.Unmarshal(r.body, &e)
			base := "/v1/encounters/" + e.ID
			rr := ok(name, ts.do("POST", base+"/review", cdi, nil))
			ok(name, ts.do("GET", base+"/review", coder, nil))
			ok(name, ts.do("GET", base+"/validation", coder, nil))
			if rr.StatusCode != 200 {
				t.Errorf("%s: review %d %.300s", name, rr.StatusCode, rr.body)
				continue
			}
			var rv api.CDIReview
			json.Unmarshal(rr.body, &rv)
			for _, o := range rv.Review.Opportunities {
				kinds[o.Kind], reasons[o.Reason] = true, true
				for _, format := range []string{"", cdipkg.FormatOpenEnded, cdipkg.FormatYesNo} {
					body := map[string]any{"opportunity_id": o.ID}
					if format != "" {
						body["format"] = format
					}
					d := ok(name+"/"+o.ID+"/"+format, ts.do("POST", base+"/queries", cdi, body))
					if d.StatusCode != 201 {
						if strings.Contains(string(d.body), "the generated draft") {
							t.Errorf("%s: the generator drafted a query the linter refuses for %s (%s): %.400s", name, o.ID, format, d.body)
						}
						continue
					}
					var qd api.QueryDraft
					json.Unmarshal(d.body, &qd)
					if !qd.Lint.OK {
						t.Errorf("%s: draft %s (%s) not compliant: %+v", name, o.ID, format, qd.Lint.Violations)
					}
					q := qd.Query
					ok(name, ts.do("POST", "/v1/queries/lint", cdi, map[string]any{"encounter_id": e.ID, "format": q.Format, "purpose": q.Purpose,
						"reason": q.Reason, "reason_text": q.ReasonText, "intro": q.Intro, "indicators": q.Indicators, "question": q.Question,
						"options": q.Options, "channel": q.Channel, "provider": q.Provider}))
					ok(name, ts.edit("POST", "/v1/queries/"+q.ID+"/send", cdi, map[string]any{}))
					ok(name, ts.edit("POST", "/v1/queries/"+q.ID+"/close", cdi, map[string]any{"reason": "withdrawn"}))
				}
			}
			ok(name, ts.do("POST", base+"/queries", cdi, map[string]any{"opportunity_id": "rule:no_such_rule"}))
			ok(name, ts.do("POST", base+"/queries", cdi, map[string]any{"opportunity_id": strings.Repeat("x", 5000)}))
			ok(name, ts.do("POST", base+"/queries", cdi, `{"opportunity_id": 7}`))
		}
	}
	for _, k := range []string{cdipkg.KindNewDiagnosis, cdipkg.KindSpecificity, cdipkg.KindConflict, cdipkg.KindClinicalValidation} {
		if !kinds[k] {
			t.Errorf("no %s opportunity was produced", k)
		}
	}
	for _, r := range []string{cdipkg.ReasonIndicatorsWithoutDiagnosis, cdipkg.ReasonUnspecifiedDocumentation, cdipkg.ReasonNonProviderDocumentation,
		cdipkg.ReasonConflictingDocumentation, cdipkg.ReasonMissingPOA, cdipkg.ReasonIndicatorsDoNotSupport} {
		if !reasons[r] {
			t.Errorf("no opportunity for reason %s was produced", r)
		}
	}
	t.Logf("opportunity kinds %v, reasons %v", kinds, reasons)
}
