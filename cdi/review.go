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
	return &Engine{cat: cat, g: g, rules: rules}, nil
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
	// Hints are the coder's items: first the working codes the version does not recognize (an
	// invalid principal diagnosis first of all), then documented codes with more specific
	// codes in their category. They are not opportunities: no query is drawn from the code
	// tables alone.
	Hints []CodingHint `json:"hints,omitempty"`
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
	// Validation says, for a clinical validation, what the record holds against the
	// criteria: contradicted, insufficient or no_evidence (then Query is empty: there is
	// nothing to cite, no query is drafted).
	Validation string `json:"validation,omitempty"`
}

// Clinical validation outcomes of a documented diagnosis whose criteria do not hold
// (Opportunity.Validation).
const (
	// ValidationContradicted: the record holds values of the kinds the criteria need, and
	// some of them do not meet their thresholds (SpO2 95 % on room air for respiratory
	// failure).
	ValidationContradicted = "contradicted"
	// ValidationInsufficient: the values present meet part of the criteria, none is against
	// them, and the rest of the data the criteria need is absent.
	ValidationInsufficient = "insufficient"
	// ValidationNoEvidence: the record holds none of the clinical data the criteria need (no
	// respiratory values at all; no note describing malnutrition): no evidence available,
	// nothing to cite, so no validation query is drafted.
	ValidationNoEvidence = "no_evidence"
)

// CandidateCode is a code an opportunity would lead to, with its title and its level as a
// secondary diagnosis in the review's grouper version (MCC, CC, NCC).
type CandidateCode struct {
	Code  string `json:"code"`
	Title string `json:"title,omitempty"`
	Level string `json:"level,omitempty"`
}

// reviewCtx holds what every stage of one review shares: the rules, the grouper version, the
// working codes and their grouping.
type reviewCtx struct {
	e        *Engine
	enc      *claim.Encounter
	rules    *Rules
	v        tables.Version
	base     claim.Claim
	baseRes  *grouper.Result
	titles   *tables.CodeTitles
	facts    *facts
	ind      *indicators
	warnings []string
}

// Review reviews an encounter in five stages, each reading only what the earlier ones
// produced: the evidence is read into facts (specimens, synonyms, documentation); indicators
// are evaluated over the facts; each condition rule is assessed on the indicators, with the
// query options its evidence supports; the assessments and the documentation become
// opportunities with their query plans; and each opportunity's impact is measured by
// regrouping the working codes.
func (e *Engine) Review(enc *claim.Encounter, opt ReviewOptions) (*Review, error) {
	if enc == nil {
		return nil, errors.New("cdi: review: no encounter")
	}
	rules := opt.Rules
	if rules == nil {
		rules = e.rules.ForFacility(enc.Facility)
	}
	rc, err := e.read(enc, rules, opt.Now)
	if err != nil {
		return nil, err
	}
	rev := &Review{EncounterID: enc.ID, Account: enc.Account, Facility: enc.Facility, Version: int(rc.v),
		RulesVersion: rules.Version, Settings: maps.Clone(rules.Settings), Opportunities: []Opportunity{}}
	if rc.baseRes != nil {
		rev.Working = rc.working()
	}
	conds := assess(rules, rc.ind, rc.facts, rc.valid)
	opps := rc.opportunities(conds)
	for i := range opps {
		opps[i].Impact = rc.impactOf(&opps[i])
	}
	slices.SortStableFunc(opps, func(a, b Opportunity) int {
		if c := cmp.Compare(b.score(), a.score()); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for i := range conds {
		rev.Rules = append(rev.Rules, conds[i].result)
	}
	rev.Opportunities = append(rev.Opportunities, opps...)
	rev.Hints = append(rc.invalidCodeHints(), rc.hints(opps)...) // an invalid PDX first
	rev.Warnings = rc.warnings
	return rev, nil
}

// read runs the first stages of a review: the working codes grouped, the evidence read into
// facts, the indicators ready to evaluate.
func (e *Engine) read(enc *claim.Encounter, rules *Rules, now time.Time) (*reviewCtx, error) {
	rc := &reviewCtx{e: e, enc: enc, rules: rules}
	if err := rc.prepare(now); err != nil {
		return nil, err
	}
	rc.facts = readFacts(enc, &rc.base, rules, rc.nameOf)
	rc.ind = newIndicators(rules, rc.facts, &rc.base, rc.operatingRoom(), rc.warn)
	return rc, nil
}

// score orders opportunities within a review: weight at stake times evidence strength.
func (o *Opportunity) score() float64 { return opportunityValue(o) * o.Strength }

// prepare normalizes the working claim, chooses the grouper version and groups the working
// codes.
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
		for _, w := range res.Warnings {
			rc.warn(w.Message) // codes past the claim's capacity, not grouped
		}
	}
	return nil
}

// operatingRoom returns the working procedure codes the grouper flags as operating room
// procedures in the review's version (the tables are the authority, not the code's look).
func (rc *reviewCtx) operatingRoom() map[string]bool {
	out := map[string]bool{}
	res := rc.baseRes
	if res == nil && len(rc.base.Procedures) > 0 {
		c := rc.base
		c.PDX, c.SDX = &claim.Dx{Code: "I10", POA: "Y"}, nil
		res, _ = rc.e.g.Group(&c, grouper.Options{})
	}
	if res != nil {
		for _, p := range res.Pr {
			if p.IsOR && p.Recognized {
				out[strings.ToUpper(p.Code)] = true
			}
		}
	}
	return out
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

func (rc *reviewCtx) nameOf(code string) string {
	if t := rc.title(code); t != "" {
		return t
	}
	return code
}

// valid reports whether a diagnosis code exists in the review's grouper version.
func (rc *reviewCtx) valid(code string) bool {
	_, ok := tables.Pick(rc.e.cat.MSDRG.Dx[code], rc.v)
	return ok
}

// level returns a code's CC/MCC level as a secondary diagnosis in the review's version. Only
// impact figures use it: what is offered never depends on it.
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

// assumePOA returns Y when the earliest timed indicator falls within the POA window after
// the admission date's midnight, N when it is later, Y when nothing is timed.
func (rc *reviewCtx) assumePOA(cites []Cite) string {
	var first time.Time
	for _, c := range cites {
		if !c.Time.IsZero() && !c.PriorEncounter && (first.IsZero() || c.Time.Before(first)) {
			first = c.Time
		}
	}
	admit := rc.facts.admit
	if first.IsZero() || admit.IsZero() {
		return "Y"
	}
	if first.Sub(admit).Hours() <= rc.rules.POAWindowHours {
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
