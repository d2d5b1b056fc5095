package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	cdipkg "github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/store"
	"github.com/msdrg-cdi/drg/tables"
)

// Encounters generated from the rule file: every code a clinical validation rule validates,
// with evidence of the kinds its criteria need that does not meet them, so that new rules and
// codes are covered without writing a scenario for each.

// settingsVariants are the facility settings under which every rule of the default rule file
// is evaluated by one of them (sepsis-3 or sepsis-2, ASPEN or GLIM malnutrition criteria).
var settingsVariants = []string{
	``,
	`{"settings": {"sepsis_definition": "sepsis-2", "malnutrition_criteria": "glim"}}`,
}

// rulesFor returns the default rules with a settings patch applied.
func rulesFor(t *testing.T, patch string) *cdipkg.Rules {
	t.Helper()
	r := cdipkg.DefaultRules()
	if patch == "" {
		return r
	}
	r, err := r.Override([]byte(patch))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// validatedCodes returns the codes of version 43.1 a clinical validation rule validates: its
// documented codes and the unspecified codes it would code itself (its candidates).
func validatedCodes(t *testing.T, rule *cdipkg.Rule) []string {
	t.Helper()
	c, _ := catalog(t)
	prefixed := func(code string, ps []string) bool {
		return slices.ContainsFunc(ps, func(p string) bool { return strings.HasPrefix(code, p) })
	}
	var cands []string
	for _, cd := range rule.Candidates {
		cands = append(cands, cd.Codes...)
	}
	var out []string
	for code, recs := range c.MSDRG.Dx {
		if _, ok := tables.Pick(recs, tables.Version(431)); !ok {
			continue
		}
		unspec := prefixed(code, rule.Unspecified)
		if prefixed(code, rule.Documented) && !unspec || unspec && slices.Contains(cands, code) {
			out = append(out, code)
		}
	}
	slices.Sort(out)
	return out
}

// criterionIndicators lists the indicators a criterion uses outside "not" branches, named
// criteria expanded.
func criterionIndicators(r *cdipkg.Rules, c *cdipkg.Criterion, dst []string) []string {
	if c == nil {
		return dst
	}
	if c.Indicator != "" {
		if g := r.Criteria[c.Indicator]; g != nil && r.Indicators[c.Indicator] == nil {
			return criterionIndicators(r, g, dst)
		}
		if !slices.Contains(dst, c.Indicator) {
			dst = append(dst, c.Indicator)
		}
	}
	for _, l := range [][]cdipkg.Criterion{c.All, c.Any, c.Of} {
		for i := range l {
			dst = criterionIndicators(r, &l[i], dst)
		}
	}
	return dst
}

// againstValue returns a value of a selector on the wrong side of an indicator's threshold
// (op and value), within the selector's plausible range, or false when the indicator does
// not compare one value with a threshold.
func againstValue(sel *cdipkg.Selector, op string, v, scale float64) (float64, bool) {
	if scale <= 0 {
		scale = 1
	}
	var x float64
	switch op {
	case "<", "<=":
		x = v + scale
	case ">", ">=":
		x = v - scale
		if x <= 0 {
			x = v / 2
		}
	default:
		return 0, false
	}
	if p := sel.Plausible; len(p) == 2 {
		x = min(max(x, p[0]), p[1])
	}
	return x, true
}

// numericItem is an evidence item of a numeric selector at time at.
func numericItem(sel *cdipkg.Selector, value float64, at time.Time) map[string]any {
	kind := "lab"
	if len(sel.Kind) > 0 && sel.Kind[0] != "" {
		kind = sel.Kind[0]
	}
	ev := map[string]any{"kind": kind, "name": sel.Names[0], "value": value, "unit": sel.Unit, "time": at.Format(time.RFC3339),
		"source": "flowsheet"}
	if kind == "lab" {
		ev["source"] = "LAB"
	}
	if len(sel.Specimens) > 0 {
		ev["specimen"] = sel.Specimens[0]
	}
	return ev
}

// numericSelector reports whether a selector picks measured values by name (lab, vital sign,
// measurement).
func numericSelector(sel *cdipkg.Selector) bool {
	if sel == nil || len(sel.Names) == 0 {
		return false
	}
	return slices.ContainsFunc(sel.Kind, func(k string) bool { return k == "lab" || k == "vital" || k == "measurement" })
}

// againstEvidence returns evidence of the kinds a rule's criteria need, none meeting its
// indicator: a value on the wrong side of each threshold, a stable series for each change or
// ratio, a normal value of each component of the scores they use. Indicators over orders,
// medications or codes get nothing; when no value was written (criteria on notes only), a
// physician note meets the first note indicator alone (part of the criteria).
func againstEvidence(r *cdipkg.Rules, rule *cdipkg.Rule, at time.Time) []map[string]any {
	out := valuesAgainst(r, rule, at)
	if len(out) > 0 {
		return out
	}
	for _, id := range criterionIndicators(r, &rule.Criteria, nil) {
		if ind := r.Indicators[id]; ind != nil && len(ind.TextAny) > 0 && r.Selectors[ind.Of] != nil && slices.Contains(r.Selectors[ind.Of].Kind, "note") {
			return []map[string]any{{"kind": "note", "note_type": "progress note", "author_role": "physician", "text": "Patient reports " + ind.TextAny[0] + ".",
				"time": at.Format(time.RFC3339), "source": "progress note"}}
		}
	}
	return nil
}

func valuesAgainst(r *cdipkg.Rules, rule *cdipkg.Rule, at time.Time) []map[string]any {
	var out []map[string]any
	for _, id := range criterionIndicators(r, &rule.Criteria, nil) {
		ind := r.Indicators[id]
		if ind == nil {
			continue
		}
		if ind.Score != "" {
			if sc := r.Scores[ind.Score]; sc != nil {
				for _, comp := range sc.Components {
					sel := r.Selectors[comp.Of]
					if !numericSelector(sel) || len(comp.Points) == 0 {
						continue
					}
					op := ">="
					if comp.Lower {
						op = "<"
					}
					if x, ok := againstValue(sel, op, comp.Points[0].Value, comp.Points[0].Value/4); ok {
						out = append(out, numericItem(sel, x, at))
					}
				}
			}
			continue
		}
		sel := r.Selectors[ind.Of]
		if !numericSelector(sel) {
			continue
		}
		switch {
		case ind.Change != nil || ind.Ratio != nil:
			x := 1.0
			if p := sel.Plausible; len(p) == 2 {
				x = p[0] + (p[1]-p[0])*0.05
			}
			out = append(out, numericItem(sel, x, at), numericItem(sel, x, at.Add(24*time.Hour)))
		case ind.Value != nil:
			if x, ok := againstValue(sel, ind.Op, *ind.Value, ind.Scale); ok {
				out = append(out, numericItem(sel, x, at))
			}
		}
	}
	return out
}

// validationEncounter is an encounter coding code as principal (pdx) or secondary diagnosis,
// documented by the attending in a progress note, with the given evidence.
func validationEncounter(account, code, role string, evidence []map[string]any) map[string]any {
	evidence = append(slices.Clone(evidence), map[string]any{"kind": "documented_dx", "code": code, "author_role": "physician",
		"note_type": "progress note", "source": "progress note", "time": "2026-05-05T09:00:00Z"})
	e := map[string]any{"account": account, "facility": "MAIN", "admit_date": "2026-05-04",
		"payer": "MEDICARE", "attending_provider": map[string]any{"id": "P1"}, "age": 72, "sex": "F",
		"pdx": map[string]any{"code": "I10", "poa": "Y"}, "sdx": []any{map[string]any{"code": code, "poa": "Y"}}}
	if role == "pdx" {
		e["pdx"], e["sdx"] = map[string]any{"code": code, "poa": "Y"}, []any{}
	}
	e["evidence"] = evidence
	return e
}

// TestClinicalValidationDraftsEveryRuleCode drafts, over HTTP, the clinical validation query of
// every code every validation rule of the rule file validates, coded as principal and as
// secondary diagnosis, under every setting that enables a rule. With values of the kinds the
// criteria need and against them, the opportunity is contradicted and the draft is compliant:
// it cites those values and offers to confirm or to rule out the diagnosis, other and
// clinically undetermined. Without any such data it is "no evidence available": the draft is
// a 422 saying there is nothing to cite — never a 500. The validation report says the same.
func TestClinicalValidationDraftsEveryRuleCode(t *testing.T) {
	at := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	tested := map[string]int{}
	for _, patch := range settingsVariants {
		rules := rulesFor(t, patch)
		ts := newCDIServer(t, &clock{t: time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)}, api.CDIConfig{Rules: rules})
		for _, id := range rules.RuleIDs() {
			rule := rules.Rules[id]
			if !rule.ClinicalValidation {
				continue
			}
			against := againstEvidence(rules, rule, at)
			for _, code := range validatedCodes(t, rule) {
				for _, sc := range []struct {
					role, what string
					evidence   []map[string]any
				}{{"sdx", "against", against}, {"pdx", "against", against}, {"sdx", "nothing", nil}} {
					name := fmt.Sprintf("%s/%s/%s/%s", id, code, sc.role, sc.what)
					if checkValidationDraft(t, ts, name, id, code, validationEncounter(name, code, sc.role, sc.evidence), len(sc.evidence) > 0) {
						tested[id]++
					}
				}
			}
		}
	}
	for _, id := range cdipkg.DefaultRules().RuleIDs() {
		if cdipkg.DefaultRules().Rules[id].ClinicalValidation && tested[id] == 0 {
			t.Errorf("rule %s: no code validated under any setting", id)
		}
	}
	t.Logf("validation drafts per rule: %v", tested)
}

// checkValidationDraft creates the encounter, reviews it, drafts the clinical validation query
// of rule id and reads the validation report; false when the rule is not evaluated under the
// server's settings.
func checkValidationDraft(t *testing.T, ts *testServer, name, id, code string, enc map[string]any, values bool) bool {
	t.Helper()
	e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, enc).expect(t, 201))
	rv := decode[api.CDIReview](t, ts.do("POST", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200))
	for _, r := range rv.Review.Rules {
		if r.Rule == id && r.Status == cdipkg.StatusNotEvaluated {
			return false
		}
	}
	opp := findOpp(rv.Review, "cv:"+id)
	if opp == nil || !slices.Contains(opp.Replaces, code) {
		t.Errorf("%s: no clinical validation opportunity for %s: %+v", name, code, opp)
		return false
	}
	wantNoEvidence := !values
	if values && opp.Validation == cdipkg.ValidationNoEvidence {
		// The rule's criteria need data the generator cannot write (notes, orders): the
		// record holds none of it.
		wantNoEvidence = true
		t.Logf("%s: no numeric indicator; no evidence available", name)
	}
	r := ts.do("POST", "/v1/encounters/"+e.ID+"/queries", cdi, map[string]any{"opportunity_id": opp.ID})
	if wantNoEvidence {
		if opp.Validation != cdipkg.ValidationNoEvidence || opp.Query.Format != "" {
			t.Errorf("%s: validation %q with plan %q, want no_evidence and no plan", name, opp.Validation, opp.Query.Format)
		}
		if r.StatusCode != 422 {
			t.Errorf("%s: draft status %d, want 422: %.300s", name, r.StatusCode, r.body)
		} else if p := r.problem(t); !strings.Contains(p.Detail, "no evidence available") || len(p.Errors) == 0 || p.Errors[0].Field != "opportunity_id" {
			t.Errorf("%s: draft refusal %+v", name, p)
		}
	} else {
		if opp.Validation != cdipkg.ValidationContradicted && opp.Validation != cdipkg.ValidationInsufficient {
			t.Errorf("%s: validation %q, want contradicted or insufficient", name, opp.Validation)
		}
		if r.StatusCode != 201 {
			t.Errorf("%s: draft status %d, want 201: %.500s", name, r.StatusCode, r.body)
		} else {
			d := decode[api.QueryDraft](t, r)
			checkValidationQuery(t, name, &d.Query.QueryContent, d.Lint)
		}
	}
	rep := decode[api.ValidationReport](t, ts.do("GET", "/v1/encounters/"+e.ID+"/validation", coder, nil).expect(t, 200))
	for _, f := range rep.Findings {
		if f.Code != code {
			continue
		}
		if f.Status != api.ValidationUnsupported || f.Evidence != opp.Validation || f.OpportunityID != opp.ID {
			t.Errorf("%s: finding %s %s evidence %q opportunity %q, want unsupported %q %s", name, f.Code, f.Status, f.Evidence, f.OpportunityID, opp.Validation, opp.ID)
		}
		if wantNoEvidence != (f.Query == nil) || wantNoEvidence && !strings.Contains(f.NoQuery, "no evidence available") {
			t.Errorf("%s: finding query %v, no_query %q", name, f.Query != nil, f.NoQuery)
		}
		if q := f.Query; q != nil {
			lint := decode[api.LintAnswer](t, ts.do("POST", "/v1/queries/lint", cdi, map[string]any{"encounter_id": e.ID,
				"format": q.Format, "purpose": q.Purpose, "reason": q.Reason, "reason_text": q.ReasonText, "intro": q.Intro,
				"indicators": q.Indicators, "question": q.Question, "options": q.Options, "channel": q.Channel, "provider": q.Provider}).expect(t, 200))
			checkValidationQuery(t, name+" (validation report)", q, lint.LintResult)
		}
	}
	return true
}

// checkValidationQuery: a compliant clinical validation query citing a clinical indicator,
// offering to confirm and to rule out the documented diagnosis, other and undetermined.
func checkValidationQuery(t *testing.T, name string, q *cdipkg.QueryContent, lint cdipkg.LintResult) {
	t.Helper()
	if !lint.OK {
		t.Errorf("%s: draft not compliant: %+v", name, lint.Violations)
	}
	if q.Purpose != cdipkg.PurposeClinicalValidation || q.Reason != cdipkg.QueryReasonClinicalValidation {
		t.Errorf("%s: purpose %s reason %s", name, q.Purpose, q.Reason)
	}
	if !slices.ContainsFunc(q.Indicators, func(c cdipkg.Cite) bool { return c.Clinical() }) {
		t.Errorf("%s: the draft cites no clinical indicator: %+v", name, q.Indicators)
	}
	kinds := map[string]bool{}
	for _, o := range q.Options {
		switch {
		case o.Kind == cdipkg.OptionDiagnosis && o.Action == cdipkg.ActionRemove:
			kinds["ruled out"] = true
		case o.Kind == cdipkg.OptionDiagnosis && o.Documented:
			kinds["confirmed"] = true
		default:
			kinds[o.Kind] = true
		}
	}
	for _, k := range []string{"confirmed", "ruled out", cdipkg.OptionOther, cdipkg.OptionUndetermined} {
		if !kinds[k] {
			t.Errorf("%s: no %q option in %+v", name, k, q.Options)
		}
	}
}

// TestValidationContradictedOrNoEvidence tells a coded diagnosis the record contradicts from
// one the record holds no data for, over HTTP: acute respiratory failure with SpO2 95 % on room
// air and respiratory rate 18 is contradicted and queried citing those values; with no
// respiratory value at all, and malnutrition without any nutrition assessment, there is no
// evidence available and no query is drafted (422 naming why), while the finding stays
// unsupported for the coder.
func TestValidationContradictedOrNoEvidence(t *testing.T) {
	ts := newCDIServer(t, &clock{t: time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)}, api.CDIConfig{})
	vital := func(name string, v float64, unit, context string) map[string]any {
		return map[string]any{"kind": "vital", "name": name, "value": v, "unit": unit, "context": context, "time": "2026-05-04T08:00:00Z", "source": "ED triage"}
	}
	for _, c := range []struct {
		name, code, opp, want string
		evidence              []map[string]any
		cites                 []string // names of the clinical indicators the draft cites
	}{
		{"ARF, normal SpO2 and respiratory rate", "J9601", "cv:acute_respiratory_failure", cdipkg.ValidationContradicted,
			[]map[string]any{vital("SpO2", 95, "%", "room air"), vital("Respiratory rate", 18, "/min", "")}, []string{"SpO2", "Respiratory rate"}},
		{"ARF, no respiratory value at all", "J9601", "cv:acute_respiratory_failure", cdipkg.ValidationNoEvidence,
			[]map[string]any{vital("Heart rate", 80, "/min", "")}, nil},
		{"malnutrition, no nutrition assessment", "E43", "cv:malnutrition_aspen", cdipkg.ValidationNoEvidence, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, validationEncounter(c.name, c.code, "sdx", c.evidence)).expect(t, 201))
			rv := decode[api.CDIReview](t, ts.do("POST", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200))
			opp := findOpp(rv.Review, c.opp)
			if opp == nil || opp.Validation != c.want {
				t.Fatalf("opportunity %s: %+v, want validation %s", c.opp, opp, c.want)
			}
			var f *api.ValidationFinding
			for i := range rv.Validation.Findings {
				if rv.Validation.Findings[i].Code == c.code {
					f = &rv.Validation.Findings[i]
				}
			}
			if f == nil || f.Status != api.ValidationUnsupported || f.Evidence != c.want {
				t.Fatalf("finding %+v, want unsupported, evidence %s", f, c.want)
			}
			n := map[string]int{cdipkg.ValidationContradicted: rv.Validation.Contradicted, cdipkg.ValidationNoEvidence: rv.Validation.NoEvidence}
			if n[c.want] != 1 || rv.Validation.Unsupported != 1 {
				t.Errorf("report counts %+v", rv.Validation)
			}
			r := ts.do("POST", "/v1/encounters/"+e.ID+"/queries", cdi, map[string]any{"opportunity_id": c.opp})
			if c.want == cdipkg.ValidationNoEvidence {
				p := r.expect(t, 422).problem(t)
				if !strings.Contains(p.Detail, "no evidence available") || f.Query != nil || f.NoQuery == "" {
					t.Errorf("no-evidence draft: %+v; finding query %v no_query %q", p, f.Query, f.NoQuery)
				}
				return
			}
			d := decode[api.QueryDraft](t, r.expect(t, 201))
			checkValidationQuery(t, c.name, &d.Query.QueryContent, d.Lint)
			var cited []string
			for _, ct := range d.Query.Indicators {
				if ct.Clinical() {
					cited = append(cited, ct.Name)
				}
			}
			if !slices.Equal(cited, c.cites) {
				t.Errorf("cites %v, want %v", cited, c.cites)
			}
		})
	}
}
