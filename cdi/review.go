package cdi

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/tables"
)

// Engine reviews encounters with a rules document, the CMS tables of a catalog and the
// grouper. It is safe for concurrent use.
type Engine struct {
	cat   *tables.Catalog
	g     *grouper.Engine
	rules *Rules

	catOnce    sync.Once
	categories map[string][]string // ICD-10-CM category (3 characters) → codes, sorted

	exclMu sync.Mutex
	excl   map[int]map[string]struct{} // CC/MCC exclusion group → excluded codes
}

// NewEngine returns an engine. g may be nil (a grouper over cat.MSDRG is made) and rules may
// be nil (DefaultRules). The catalog must hold the grouper tables; weights, HCC maps and
// titles are used when present.
func NewEngine(cat *tables.Catalog, g *grouper.Engine, rules *Rules) (*Engine, error) {
	if cat == nil || cat.MSDRG == nil {
		return nil, errors.New("cdi: the catalog has no grouper tables")
	}
	if g == nil {
		g = grouper.New(cat.MSDRG)
	}
	if rules == nil {
		rules = DefaultRules()
	}
	return &Engine{cat: cat, g: g, rules: rules, excl: map[int]map[string]struct{}{}}, nil
}

// Rules returns the engine's rules document.
func (e *Engine) Rules() *Rules { return e.rules }

// ReviewOptions tune a review.
type ReviewOptions struct {
	// Now is the time of the review. It chooses the grouper version of an encounter without
	// version or discharge date (the version in effect now); zero means the admission date.
	Now time.Time
	// Rules replaces the engine's rules for this review (a facility override being tried);
	// nil means the engine's rules for the encounter's facility.
	Rules *Rules
}

// Opportunity kinds.
const (
	KindNewDiagnosis       = "new_diagnosis"       // indicators support an undocumented diagnosis
	KindSpecificity        = "specificity"         // a documented diagnosis could be more specific
	KindConflict           = "conflict"            // conflicting, non-provider or POA-incomplete documentation
	KindClinicalValidation = "clinical_validation" // a documented diagnosis lacks clinical support
)

// Opportunity reasons: why the opportunity exists (one kind has one or more reasons).
const (
	ReasonIndicatorsWithoutDiagnosis = "indicators_without_diagnosis"
	ReasonUnspecifiedDocumentation   = "unspecified_documentation"
	ReasonSiblingAtHigherLevel       = "sibling_at_higher_level"
	ReasonNonProviderDocumentation   = "non_provider_documentation"
	ReasonConflictingDocumentation   = "conflicting_documentation"
	ReasonMissingPOA                 = "missing_poa"
	ReasonIndicatorsDoNotSupport     = "indicators_do_not_support"
)

// Rule statuses in a Review.
const (
	StatusFired        = "fired"         // an opportunity was raised
	StatusNotFired     = "not_fired"     // the criteria do not hold
	StatusDocumented   = "documented"    // already documented with the indicators supporting it
	StatusNotEvaluated = "not_evaluated" // disabled by a facility setting
)

// Review is the result of reviewing one encounter: its working DRG, the opportunities found,
// and every rule's outcome with its explanation.
type Review struct {
	EncounterID  string            `json:"encounter_id,omitempty"`
	Account      string            `json:"account,omitempty"`
	Facility     string            `json:"facility,omitempty"`
	Version      int               `json:"version"`
	RulesVersion string            `json:"rules_version"`
	Settings     map[string]string `json:"settings"`
	// Working is the DRG of the working codes; nil when there is no principal diagnosis.
	Working       *WorkingDRG   `json:"working,omitempty"`
	Opportunities []Opportunity `json:"opportunities"`
	Rules         []RuleResult  `json:"rules"`
	// Warnings report evidence the engine could not use (unknown units…).
	Warnings []string `json:"warnings,omitempty"`
}

// WorkingDRG is the grouping of the encounter's working codes.
type WorkingDRG struct {
	PDX      string  `json:"pdx"`
	PDXTitle string  `json:"pdx_title,omitempty"`
	DRG      int     `json:"drg"`
	Title    string  `json:"title,omitempty"`
	MDC      int     `json:"mdc"`
	Severity string  `json:"severity"`
	Weight   float64 `json:"weight,omitempty"`
}

// RuleResult is the outcome of one condition rule, with the evaluation of its indicators.
type RuleResult struct {
	Rule       string            `json:"rule"`
	Condition  string            `json:"condition"`
	Status     string            `json:"status"`
	Kind       string            `json:"kind,omitempty"`
	Explain    string            `json:"explain"`
	Indicators []IndicatorResult `json:"indicators,omitempty"`
}

// Opportunity is one documentation opportunity of an encounter. Its ID is stable across
// reviews of the same encounter (it derives from the rule or the codes), so queries can refer
// to it.
type Opportunity struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Reason    string `json:"reason"`
	Rule      string `json:"rule,omitempty"` // rule or conflict group id
	Condition string `json:"condition"`
	// Candidates are the codes the opportunity would lead to (the primary set first).
	Candidates []CandidateCode `json:"candidates,omitempty"`
	// Replaces are documented codes the candidates replace (specificity) or that the
	// opportunity is about (clinical validation, POA).
	Replaces []string `json:"replaces,omitempty"`
	// Principal: the primary candidate would be sequenced as principal diagnosis.
	Principal bool `json:"principal,omitempty"`
	// POA is the present-on-admission value assumed for the candidates in the impact.
	POA string `json:"poa,omitempty"`
	// Indicators are the clinical facts supporting the opportunity.
	Indicators []Cite `json:"indicators"`
	// Documentation is the documentation the opportunity is about (documented codes).
	Documentation []Cite  `json:"documentation,omitempty"`
	Strength      float64 `json:"strength"`
	Explain       string  `json:"explain"`
	Impact        Impact  `json:"impact"`
	// Query is the query the opportunity leads to (see GenerateQuery).
	Query QueryPlan `json:"query"`
	// Terms name the diagnosis in question (an open-ended query must not use them, Q7).
	Terms []string `json:"terms,omitempty"`
}

// CandidateCode is a code an opportunity would lead to, with its title and its level as a
// secondary diagnosis in the review's grouper version (MCC, CC, NCC).
type CandidateCode struct {
	Code  string `json:"code"`
	Title string `json:"title,omitempty"`
	Level string `json:"level,omitempty"`
}

// docCode is a diagnosis documented in the record or present in the working codes.
type docCode struct {
	code     string
	cite     Cite
	provider bool // documented by a provider (or a working code)
	working  bool
	pdx      bool
}

// reviewCtx holds the state of one review.
type reviewCtx struct {
	e        *Engine
	enc      *claim.Encounter
	rules    *Rules
	v        tables.Version
	base     claim.Claim
	baseRes  *grouper.Result
	titles   *tables.CodeTitles
	views    []evView
	admit    time.Time
	docs     []docCode
	points   map[string][]point
	inds     map[string]*IndicatorResult
	warnings []string
}

// Review reviews an encounter: it evaluates every rule on the evidence, searches specificity,
// conflict and POA opportunities, and measures each opportunity's impact by regrouping the
// working codes with the candidate codes.
func (e *Engine) Review(enc *claim.Encounter, opt ReviewOptions) (*Review, error) {
	if enc == nil {
		return nil, errors.New("cdi: review: no encounter")
	}
	rules := opt.Rules
	if rules == nil {
		rules = e.rules.ForFacility(enc.Facility)
	}
	rc := &reviewCtx{e: e, enc: enc, rules: rules, points: map[string][]point{}, inds: map[string]*IndicatorResult{}}
	if err := rc.prepare(opt.Now); err != nil {
		return nil, err
	}
	rev := &Review{EncounterID: enc.ID, Account: enc.Account, Facility: enc.Facility, Version: int(rc.v),
		RulesVersion: rules.Version, Settings: maps.Clone(rules.Settings), Opportunities: []Opportunity{}}
	if rc.baseRes != nil {
		rev.Working = rc.working()
	}
	var opps []Opportunity
	for _, id := range rules.ruleIDs {
		res, opp := rc.evalRule(id)
		rev.Rules = append(rev.Rules, res)
		if opp != nil {
			opps = append(opps, *opp)
		}
	}
	opps = append(opps, rc.nonProviderConflicts(opps)...)
	opps = append(opps, rc.providerConflicts()...)
	opps = append(opps, rc.missingPOA()...)
	opps = append(opps, rc.specificity(opps)...)
	for i := range opps {
		rc.plan(&opps[i])
		opps[i].Impact = rc.impactOf(&opps[i])
	}
	slices.SortStableFunc(opps, func(a, b Opportunity) int {
		if c := cmp.Compare(b.score(), a.score()); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	rev.Opportunities = append(rev.Opportunities, opps...)
	rev.Warnings = rc.warnings
	return rev, nil
}

// score orders opportunities within a review: weight at stake times evidence strength.
func (o *Opportunity) score() float64 { return opportunityValue(o) * o.Strength }

// prepare normalizes the working claim, chooses the grouper version, groups the working
// codes and indexes the evidence.
func (rc *reviewCtx) prepare(now time.Time) error {
	enc := rc.enc
	c := enc.Claim
	if c.PDX != nil {
		p := *c.PDX
		c.PDX = &p
	}
	c.SDX = slices.Clone(c.SDX)
	c.Procedures = slices.Clone(c.Procedures)
	c.Normalize()
	for i := range c.SDX {
		c.SDX[i].Code = strings.ToUpper(c.SDX[i].Code)
	}
	if c.PDX != nil {
		c.PDX.Code = strings.ToUpper(c.PDX.Code)
	}
	if c.DischargeStatus == nil {
		// In-house: group as discharged home, so that "discharged alive" MCCs count.
		home := 1
		c.DischargeStatus = &home
	}
	v, err := rc.chooseVersion(&c, now)
	if err != nil {
		return err
	}
	rc.v = v
	c.Version = int(v)
	rc.base = c
	if t, err := rc.e.cat.TitlesFor(tables.ICD10CM, v); err == nil {
		rc.titles = t
	}
	if c.PDX != nil && c.PDX.Code != "" {
		res, err := rc.e.g.Group(&c, grouper.Options{})
		if err != nil {
			return fmt.Errorf("cdi: review %s: group the working codes: %w", enc.Account, err)
		}
		rc.baseRes = res
	}
	rc.admit = enc.AdmitDate.Time()
	if enc.AdmitDate.IsZero() {
		for i := range enc.Evidence {
			if t := enc.Evidence[i].Time; !t.IsZero() && (rc.admit.IsZero() || t.Before(rc.admit)) {
				rc.admit = t
			}
		}
	}
	rc.views = make([]evView, len(enc.Evidence))
	for i := range enc.Evidence {
		ev := &enc.Evidence[i]
		ctx := norm(ev.Context)
		rc.views[i] = evView{ev: ev, idx: i, name: norm(ev.Name), context: ctx, route: norm(ev.Route),
			role: normRole(ev.AuthorRole), noteTyp: norm(ev.NoteType), unit: normUnit(ev.Unit),
			prior: strings.Contains(ctx, " baseline ") || strings.Contains(ctx, " prior ") ||
				!ev.Time.IsZero() && !enc.AdmitDate.IsZero() && ev.Time.Before(rc.admit.Add(-24*time.Hour))}
	}
	rc.collectDocs()
	return nil
}

// chooseVersion takes the claim's version, else the version of the discharge date, else the
// one in effect at the review time or (without one) the admission date; a date past the
// newest loaded version uses the newest.
func (rc *reviewCtx) chooseVersion(c *claim.Claim, now time.Time) (tables.Version, error) {
	loaded := rc.e.cat.MSDRG.Versions
	if c.Version != 0 {
		if !rc.e.cat.MSDRG.HasVersion(tables.Version(c.Version)) {
			return 0, fmt.Errorf("cdi: review %s: %w", rc.enc.Account, &grouper.UnknownVersionError{Version: c.Version, Loaded: loaded})
		}
		return tables.Version(c.Version), nil
	}
	d := c.DischargeDate
	if d.IsZero() && !now.IsZero() {
		d = claim.Date{Year: now.Year(), Month: now.Month(), Day: now.Day()}
	}
	if d.IsZero() {
		d = rc.enc.AdmitDate
	}
	if d.IsZero() {
		return 0, fmt.Errorf("cdi: review %s: no version, discharge date, admission date or review time to choose the grouper version", rc.enc.Account)
	}
	v, err := tables.VersionForDate(d, loaded)
	if err != nil {
		var nl *tables.VersionNotLoadedError
		if errors.As(err, &nl) && nl.After() {
			v = loaded[len(loaded)-1]
			rc.warn(fmt.Sprintf("no grouper version loaded for %s: using the newest, %s", d, v))
			return v, nil
		}
		return 0, fmt.Errorf("cdi: review %s: %w", rc.enc.Account, err)
	}
	return v, nil
}

func (rc *reviewCtx) warn(msg string) {
	if !slices.Contains(rc.warnings, msg) {
		rc.warnings = append(rc.warnings, msg)
	}
}

func (rc *reviewCtx) working() *WorkingDRG {
	r := rc.baseRes
	w := &WorkingDRG{PDX: rc.base.PDX.Code, PDXTitle: rc.title(rc.base.PDX.Code), DRG: r.Final.DRG, Title: r.Final.DRGTitle,
		MDC: r.Final.MDC, Severity: r.Final.Severity.String()}
	w.Weight, _ = rc.weight(r.Final.DRG)
	return w
}

// title returns the long title of an ICD-10-CM code, or "".
func (rc *reviewCtx) title(code string) string {
	if rc.titles == nil {
		return ""
	}
	if t, ok := rc.titles.Get(code); ok {
		return t.Long
	}
	return ""
}

// level returns a code's CC/MCC level as a secondary diagnosis in the review's version.
func (rc *reviewCtx) level(code string) (tables.Severity, bool) {
	rec, ok := tables.Pick(rc.e.cat.MSDRG.Dx[code], rc.v)
	if !ok {
		return 0, false
	}
	return rec.Severity, true
}

func (rc *reviewCtx) candidate(code string) CandidateCode {
	c := CandidateCode{Code: code, Title: rc.title(code)}
	if l, ok := rc.level(code); ok {
		c.Level = l.String()
	}
	return c
}

// collectDocs gathers the working codes and the documented diagnoses of the record.
func (rc *reviewCtx) collectDocs() {
	if p := rc.base.PDX; p != nil && p.Code != "" {
		rc.docs = append(rc.docs, docCode{code: p.Code, provider: true, working: true, pdx: true,
			cite: Cite{Kind: CiteWorkingCode, Name: rc.nameOf(p.Code), Code: p.Code, Source: "working codes (principal)"}})
	}
	for _, d := range rc.base.SDX {
		rc.docs = append(rc.docs, docCode{code: d.Code, provider: true, working: true,
			cite: Cite{Kind: CiteWorkingCode, Name: rc.nameOf(d.Code), Code: d.Code, Source: "working codes"}})
	}
	for i := range rc.views {
		v := &rc.views[i]
		if v.ev.Kind != claim.KindDocumentedDx || v.ev.Code == "" {
			continue
		}
		code := normCode(v.ev.Code)
		p := pointOf(v)
		p.name = rc.nameOf(code)
		rc.docs = append(rc.docs, docCode{code: code, provider: claim.IsProvider(v.role),
			cite: Cite{Label: "documented diagnosis", Kind: claim.KindDocumentedDx, Evidence: p.ev, Name: p.name, Time: p.t, Source: p.source,
				AuthorRole: v.ev.AuthorRole, Code: code, PriorEncounter: p.prior}})
	}
}

func (rc *reviewCtx) nameOf(code string) string {
	if t := rc.title(code); t != "" {
		return t
	}
	return code
}

// documented reports whether a provider-documented or working code has one of the prefixes.
func (rc *reviewCtx) documented(prefixes []string) bool {
	for i := range rc.docs {
		if rc.docs[i].provider && hasCodePrefix(rc.docs[i].code, prefixes) {
			return true
		}
	}
	return false
}

// met reports whether an indicator or a named criterion holds.
func (rc *reviewCtx) met(id string) bool {
	if ind := rc.rules.Indicators[id]; ind != nil {
		return rc.indicator(id).Met
	}
	if c := rc.rules.Criteria[id]; c != nil {
		return c.eval(rc)
	}
	return false
}

// indicator evaluates an indicator once per review.
func (rc *reviewCtx) indicator(id string) *IndicatorResult {
	if r, ok := rc.inds[id]; ok {
		return r
	}
	ind := rc.rules.Indicators[id]
	pts := rc.pointsOf(ind.Of)
	if len(ind.text) > 0 {
		pts = rc.withText(pts, ind.text)
	}
	r := ind.evaluate(pts, rc.base.Age)
	rc.inds[id] = &r
	return &r
}

// pointsOf returns the facts a selector picks, once per review.
func (rc *reviewCtx) pointsOf(id string) []point {
	if p, ok := rc.points[id]; ok {
		return p
	}
	s := rc.rules.Selectors[id]
	var pts []point
	switch {
	case s.Derive != nil:
		pts = derive(s.Derive, rc.pointsOf(s.Derive.A), rc.pointsOf(s.Derive.B))
	case s.Kind == SelectCode:
		for _, d := range rc.docs {
			if d.provider && hasCodePrefix(d.code, s.Codes) {
				pts = append(pts, point{kind: d.cite.Kind, ev: d.cite.Evidence, t: d.cite.Time, name: d.cite.Name, source: d.cite.Source,
					role: d.cite.AuthorRole, code: d.code, prior: d.cite.PriorEncounter})
			}
		}
	case s.Kind == SelectProcedure:
		for _, p := range rc.base.Procedures {
			if len(s.Codes) == 0 || hasCodePrefix(strings.ToUpper(p.Code), s.Codes) {
				pt := point{kind: CiteProcedure, name: "procedure " + p.Code, code: p.Code, source: "working procedure codes"}
				if p.Date != nil {
					pt.t = p.Date.Time()
				}
				pts = append(pts, pt)
			}
		}
	default:
		for i := range rc.views {
			v := &rc.views[i]
			excerpt, ok := s.matches(v)
			if !ok {
				continue
			}
			p := pointOf(v)
			p.excerpt = excerpt
			if x, ok, why := s.convert(v); ok {
				p.v, p.hasV = x, true
			} else if why != "" {
				rc.warn(why)
			}
			pts = append(pts, p)
		}
	}
	if len(pts) == 0 && s.Fallback != "" {
		pts = rc.pointsOf(s.Fallback)
	}
	rc.points[id] = pts
	return pts
}

// withText keeps the points whose note text or text result contains one of the phrases
// outside a negated clause, with the matching clause as excerpt.
func (rc *reviewCtx) withText(pts []point, phrases []string) []point {
	var out []point
	for _, p := range pts {
		if len(p.ev) != 1 {
			continue
		}
		if clause, ok := findPhrase(rc.views[p.ev[0]].textClauses(), phrases); ok {
			p.excerpt = clause
			out = append(out, p)
		}
	}
	return out
}

// evalRule evaluates one rule and returns its result and the opportunity it raises, if any.
func (rc *reviewCtx) evalRule(id string) (RuleResult, *Opportunity) {
	rule := rc.rules.Rules[id]
	res := RuleResult{Rule: id, Condition: rule.Condition}
	if ok, why := rule.appliesTo(rc.rules.Settings); !ok {
		res.Status, res.Explain = StatusNotEvaluated, why
		return res, nil
	}
	for _, iid := range rule.indicators(rc.rules) {
		res.Indicators = append(res.Indicators, *rc.indicator(iid))
	}
	holds := rule.Criteria.eval(rc)
	crit := rule.Criteria.explain(rc)
	var specific, unspecified []docCode
	for _, d := range rc.docs {
		switch {
		case !d.provider:
		case hasCodePrefix(d.code, rule.Unspecified):
			unspecified = append(unspecified, d)
		case hasCodePrefix(d.code, rule.Documented):
			specific = append(specific, d)
		}
	}
	if len(specific) == 0 && !holds && rule.ClinicalValidation {
		// An unspecified code that the rule itself would code (AKI N17.9, malnutrition E46)
		// names the condition: without the criteria it needs clinical validation too.
		cands := rule.candidateCodes()
		for _, d := range unspecified {
			if slices.Contains(cands, d.code) {
				specific = append(specific, d)
			}
		}
	}
	if len(specific) > 0 {
		codes := docCodesList(specific)
		if holds || !rule.ClinicalValidation {
			res.Status = StatusDocumented
			res.Explain = fmt.Sprintf("already documented (%s); criteria %s", codes, crit)
			return res, nil
		}
		res.Status, res.Kind = StatusFired, KindClinicalValidation
		res.Explain = fmt.Sprintf("documented (%s) but the indicators do not meet the criteria: %s", codes, crit)
		opp := &Opportunity{ID: "cv:" + id, Kind: KindClinicalValidation, Reason: ReasonIndicatorsDoNotSupport, Rule: id,
			Condition: rule.Condition, Terms: rule.Terms, Explain: res.Explain, Strength: 0.5}
		for _, d := range uniqueDocs(specific) {
			opp.Replaces = append(opp.Replaces, d.code)
			opp.Candidates = append(opp.Candidates, rc.candidate(d.code))
		}
		for _, d := range specific {
			opp.Documentation = append(opp.Documentation, d.cite)
			if !d.working {
				opp.Indicators = append(opp.Indicators, d.cite)
			}
		}
		// The closest values the criteria found tell the provider what the record shows.
		for _, iid := range rule.Criteria.indicators(rc.rules, nil) {
			opp.Indicators = append(opp.Indicators, rc.indicator(iid).Cited...)
		}
		opp.Indicators = dedupeCites(opp.Indicators)
		return res, opp
	}
	if !holds {
		res.Status = StatusNotFired
		res.Explain = "criteria not met: " + crit
		return res, nil
	}
	res.Status = StatusFired
	opp := &Opportunity{ID: "rule:" + id, Kind: KindNewDiagnosis, Reason: ReasonIndicatorsWithoutDiagnosis, Rule: id,
		Condition: rule.Condition, Terms: rule.Terms}
	if len(unspecified) > 0 {
		opp.Kind, opp.Reason = KindSpecificity, ReasonUnspecifiedDocumentation
		for _, d := range uniqueDocs(unspecified) {
			opp.Replaces = append(opp.Replaces, d.code)
		}
		for _, d := range unspecified {
			opp.Documentation = append(opp.Documentation, d.cite)
			if !d.working {
				opp.Indicators = append(opp.Indicators, d.cite)
			}
		}
	}
	res.Kind = opp.Kind
	var margins []float64
	cand := rule.primary(rc)
	for _, iid := range rc.ruleSupport(rule) {
		r := rc.indicator(iid)
		opp.Indicators = append(opp.Indicators, r.Cited...)
		margins = append(margins, r.Margin)
	}
	opp.Indicators = dedupeCites(opp.Indicators)
	opp.Strength = strength(margins)
	if opp.Kind == KindSpecificity && rc.allDocumented(cand.Codes) {
		res.Status = StatusDocumented
		res.Explain = fmt.Sprintf("documented as %s; criteria %s; no more specific candidate is supported", strings.Join(opp.Replaces, ", "), crit)
		return res, nil
	}
	codes := slices.Clone(cand.Codes)
	if comp := firstCandidate(rule.Companions, rc); comp != nil {
		codes = append(codes, comp.Codes...)
	}
	for _, c := range codes {
		opp.Candidates = append(opp.Candidates, rc.candidate(c))
	}
	// Onset is dated by the evidence of the condition, not by what selects the code.
	var onset []Cite
	for _, iid := range rule.Criteria.supporting(rc.rules, rc, nil) {
		onset = append(onset, rc.indicator(iid).Cited...)
	}
	opp.POA = rc.assumePOA(onset)
	opp.Principal = cand.Principal && opp.POA == "Y"
	what := "new diagnosis"
	if opp.Kind == KindSpecificity {
		what = "more specific than the documented " + strings.Join(opp.Replaces, ", ")
	}
	res.Explain = fmt.Sprintf("fired (%s): %s; candidate %s (%s)", what, crit, strings.Join(codes, "+"), cand.Label)
	opp.Explain = res.Explain
	return res, opp
}

// ruleSupport returns the met indicators that make a rule's criteria hold and that select
// its primary candidate and companion codes (the sacral site of a sacral pressure injury).
func (rc *reviewCtx) ruleSupport(rule *Rule) []string {
	ids := rule.Criteria.supporting(rc.rules, rc, nil)
	if c := rule.primary(rc); c.When != nil {
		ids = c.When.supporting(rc.rules, rc, ids)
	}
	if c := firstCandidate(rule.Companions, rc); c != nil && c.When != nil {
		ids = c.When.supporting(rc.rules, rc, ids)
	}
	return ids
}

// indicators returns every indicator a rule uses: its criteria's, then those choosing its
// candidates, companions and query options.
func (rule *Rule) indicators(r *Rules) []string {
	ids := rule.Criteria.indicators(r, nil)
	for _, l := range [][]Candidate{rule.Candidates, rule.Companions} {
		for i := range l {
			ids = l[i].When.indicators(r, ids)
		}
	}
	for i := range rule.Query.Options {
		ids = rule.Query.Options[i].When.indicators(r, ids)
	}
	return ids
}

// candidateCodes returns every code of the rule's candidates.
func (rule *Rule) candidateCodes() []string {
	var out []string
	for i := range rule.Candidates {
		for _, c := range rule.Candidates[i].Codes {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// primary returns the rule's first candidate whose condition holds (the last one when none
// does, so that a rule always has a primary candidate).
func (rule *Rule) primary(env criterionEnv) *Candidate {
	if c := firstCandidate(rule.Candidates, env); c != nil {
		return c
	}
	return &rule.Candidates[len(rule.Candidates)-1]
}

func firstCandidate(l []Candidate, env criterionEnv) *Candidate {
	for i := range l {
		if l[i].When == nil || l[i].When.eval(env) {
			return &l[i]
		}
	}
	return nil
}

// assumePOA returns Y when the earliest timed indicator falls within the POA window after
// the admission date's midnight, N when it is later, Y when nothing is timed.
func (rc *reviewCtx) assumePOA(cites []Cite) string {
	var first time.Time
	for _, c := range cites {
		if !c.Time.IsZero() && !c.PriorEncounter && (first.IsZero() || c.Time.Before(first)) {
			first = c.Time
		}
	}
	if first.IsZero() || rc.admit.IsZero() {
		return "Y"
	}
	if first.Sub(rc.admit).Hours() <= rc.rules.POAWindowHours {
		return "Y"
	}
	return "N"
}

// strength combines the margins of the indicators met: each contributes 0.3 + 0.3 × margin,
// and strength = 1 − Π(1 − contribution), in [0, 1).
func strength(margins []float64) float64 {
	p := 1.0
	for _, m := range margins {
		p *= 1 - (0.3 + 0.3*math.Max(0, math.Min(1, m)))
	}
	return math.Round((1-p)*1000) / 1000
}

func uniqueDocs(ds []docCode) []docCode {
	var out []docCode
	for _, d := range ds {
		if !slices.ContainsFunc(out, func(o docCode) bool { return o.code == d.code }) {
			out = append(out, d)
		}
	}
	return out
}

func docCodesList(ds []docCode) string {
	var parts []string
	for _, d := range uniqueDocs(ds) {
		parts = append(parts, d.code)
	}
	return strings.Join(parts, ", ")
}

// dedupeCites drops repeated citations of the same facts (an item cited by two indicators
// keeps its first citation; different excerpts of one note are different facts).
func dedupeCites(cs []Cite) []Cite {
	out := cs[:0:0]
	for _, c := range cs {
		dup := slices.ContainsFunc(out, func(o Cite) bool {
			return len(c.Evidence) > 0 && slices.Equal(o.Evidence, c.Evidence) && o.Detail == c.Detail &&
				o.Value.String() == c.Value.String()
		})
		if !dup {
			out = append(out, c)
		}
	}
	return out
}
