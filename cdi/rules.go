package cdi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/msdrg-cdi/drg/claim"
)

//go:embed default_rules.json
var defaultRulesJSON []byte

var (
	defaultOnce  sync.Once
	defaultRules *Rules
	defaultErr   error
)

// DefaultRules returns the rules embedded in the package (default_rules.json): typical CDI
// program thresholds for every condition the engine knows. It panics if the embedded file is
// invalid, which the package tests rule out.
func DefaultRules() *Rules {
	defaultOnce.Do(func() { defaultRules, defaultErr = ParseRules(defaultRulesJSON) })
	if defaultErr != nil {
		panic(fmt.Sprintf("cdi: embedded default rules: %v", defaultErr))
	}
	return defaultRules
}

// DefaultRulesJSON returns a copy of the embedded default rules document, e.g. to serve it
// or to start a facility's own file from it.
func DefaultRulesJSON() []byte { return slices.Clone(defaultRulesJSON) }

// Rules is a parsed, validated rules document: settings, evidence selectors, indicators,
// condition rules, conflict groups and per-facility overrides. A Rules value is immutable
// and safe for concurrent use.
type Rules struct {
	// Version labels the rules document; it is echoed in every Review.
	Version string `json:"version"`
	// Settings are facility choices that select rules, e.g. "sepsis_definition": "sepsis-3".
	Settings map[string]string `json:"settings"`
	// POAWindowHours: a new diagnosis whose first supporting indicator is within this many
	// hours of the admission date's midnight is assumed present on admission in what-if
	// regrouping.
	POAWindowHours float64 `json:"poa_window_hours"`
	// Selectors pick evidence items (and derived values) by kind, name, LOINC, context…
	Selectors map[string]*Selector `json:"selectors"`
	// Indicators are predicates over the evidence a selector picks.
	Indicators map[string]*Indicator `json:"indicators"`
	// Criteria are named criteria ("hypoxemia": any of three indicators) that rules use like
	// indicators.
	Criteria map[string]*Criterion `json:"criteria"`
	// NonProviderReportable lists code prefixes that may be reported from documentation by
	// other clinicians (BMI, coma scale…): their documentation by a nurse or dietitian alone
	// is not a conflict.
	NonProviderReportable []string `json:"non_provider_reportable"`
	// Rules are the condition rules, by id.
	Rules map[string]*Rule `json:"rules"`
	// ConflictGroups are sets of mutually exclusive diagnoses; provider documentation of two
	// members of one group is a conflict.
	ConflictGroups map[string]*ConflictGroup `json:"conflict_groups"`
	// Specificity configures the coder hints of documented unspecified codes.
	Specificity SpecificityConfig `json:"specificity"`
	// Synonyms maps a canonical evidence name to its other spellings and abbreviations
	// ("nt-probnp": ["NTproBNP", "N-terminal pro-BNP"]). Names are compared without case,
	// spaces or punctuation, and a synonym stands for its canonical name in every selector.
	Synonyms map[string][]string `json:"synonyms,omitempty"`
	// Specimens defines the specimen classes a lab result can be measured on (arterial blood,
	// venous blood, urine…): the words and LOINC codes that name each, and its parent class.
	Specimens map[string]*SpecimenClass `json:"specimens,omitempty"`
	// SpecimenTypeNames name the results whose text value gives the specimen of the results
	// taken at the same time ("Specimen Type": "ART.").
	SpecimenTypeNames []string `json:"specimen_type_names,omitempty"`
	// Negations configures the negation of note phrases.
	Negations NegationConfig `json:"negations,omitempty"`
	// Scores are organ-dysfunction scores (SOFA) that indicators can compare.
	Scores map[string]*Score `json:"scores,omitempty"`
	// Microbiology is the vocabulary culture and microbiology results are read with (no
	// growth, insignificant growth, contaminant, colonisation, organism with count).
	Microbiology *Microbiology `json:"microbiology,omitempty"`
	// Prophylaxis are the antimicrobial regimens that prevent rather than treat infection,
	// recognised by drug, dose and frequency.
	Prophylaxis []ProphylaxisRegimen `json:"prophylaxis,omitempty"`
	// ProphylaxisFrequency names once-daily and more frequent dosing in medication records.
	ProphylaxisFrequency ProphylaxisFrequency `json:"prophylaxis_frequency,omitempty"`
	// Facilities holds per-facility overrides as JSON merge patches (RFC 7386) of this
	// document; see ForFacility.
	Facilities map[string]json.RawMessage `json:"facilities,omitempty"`

	raw        []byte            // the document without facilities, for merging
	ruleIDs    []string          // sorted rule ids
	facilities map[string]*Rules // compiled facility rules
	synonyms   map[string]string // compact spelling → compact canonical name
	specimens  specimenIndex
	specTypes  []string // compact canonical names of specimen-type results
	negBefore  []string
	negAfter   []string
}

// SpecimenClass is a specimen a lab result can be measured on.
type SpecimenClass struct {
	// Parent is the broader class this one refines (arterial and venous blood refine blood).
	Parent string `json:"parent,omitempty"`
	// Words name the class in a specimen field, a result name, its context or source
	// ("arterial", "ABG", "PaO2"; "urine", "UA").
	Words []string `json:"words"`
	// LOINC codes whose system is this specimen.
	LOINC []string `json:"loinc,omitempty"`
	// Default: lab selectors without specimens accept this class (and its children) and
	// results of unknown specimen; results of other known specimens are not theirs.
	Default bool `json:"default,omitempty"`
}

// NegationConfig lists the words that negate a note phrase: Before within a few words before
// it in the same clause ("no accessory muscle use"), After right after it ("confused at
// baseline").
type NegationConfig struct {
	Before []string `json:"before,omitempty"`
	After  []string `json:"after,omitempty"`
}

// SpecificityConfig configures the coder hints on documented unspecified codes.
type SpecificityConfig struct {
	// ExcludeCategories lists ICD-10-CM code prefixes that never get a hint (e.g. Z68: a BMI
	// code is a measurement, not a less specific diagnosis).
	ExcludeCategories []string `json:"exclude_categories"`
	// MaxOptions bounds the more specific codes a coder hint lists as examples.
	MaxOptions int `json:"max_options"`
}

// ConflictGroup is a set of diagnoses that cannot all be true: each member is a list of code
// prefixes. Provider documentation matching two members is a conflict opportunity.
type ConflictGroup struct {
	Condition string     `json:"condition"`
	Members   [][]string `json:"members"`
	// Indicators are cited with the conflicting documentation when they are met (the ejection
	// fraction of a heart failure type conflict).
	Indicators []string `json:"indicators,omitempty"`
}

// Rule is one condition rule: the criteria over indicators that support a diagnosis, the
// documentation that makes it moot, and the query it leads to.
type Rule struct {
	// Condition is the clinical name shown to specialists ("Acute respiratory failure").
	Condition string `json:"condition"`
	// Terms are the words that name the diagnosis; an open-ended query must not use them
	// (Q7).
	Terms []string `json:"terms"`
	// Settings restrict the rule to facilities whose setting has one of the listed values.
	Settings map[string][]string `json:"settings,omitempty"`
	// Criteria decide whether the record supports the condition.
	Criteria Criterion `json:"criteria"`
	// Validation, when set, decides the clinical validation of a documented diagnosis instead
	// of Criteria: the facility's definition of the condition (Sepsis-3: infection with a SOFA
	// rise), while Criteria decide when a clarification query is warranted.
	Validation *Criterion `json:"validation,omitempty"`
	// Exclude, when it holds, makes the criteria inapplicable to this patient (KDIGO
	// creatinine criteria in a dialysis-dependent patient): the rule does not fire and does
	// not validate.
	Exclude *Criterion `json:"exclude,omitempty"`
	// Documented are code prefixes that mean the condition is already documented (no
	// new-diagnosis opportunity).
	Documented []string `json:"documented"`
	// Unspecified are code prefixes of less specific documentation of the condition: when one
	// is documented and the criteria hold, the opportunity is a specificity one and the
	// candidate replaces it.
	Unspecified []string `json:"unspecified,omitempty"`
	// ClinicalValidation asks for a clinical validation opportunity when a Documented code (or
	// an Unspecified code that is one of the Candidates) is present but the criteria do not
	// hold.
	ClinicalValidation bool `json:"clinical_validation,omitempty"`
	// Candidates are the codes the condition would be coded with; the first whose When holds
	// is the primary candidate used for the impact.
	Candidates []Candidate `json:"candidates"`
	// Companions are codes reported along with the diagnosis once it is documented (the BMI
	// Z code of an obesity diagnosis); the first whose When holds is added to the primary
	// candidate and to the codes of an agreeing answer.
	Companions []Candidate `json:"companions,omitempty"`
	// Query is the template of the query generated from the opportunity.
	Query QueryTemplate `json:"query"`
}

// Candidate is a code set the condition would be coded with, and when it applies.
type Candidate struct {
	Codes []string   `json:"codes"`
	Label string     `json:"label"`
	When  *Criterion `json:"when,omitempty"`
	// Principal sequences the first code as principal diagnosis when it is present on
	// admission (sepsis with a localized infection: the infection becomes secondary).
	Principal bool `json:"principal,omitempty"`
	// PrincipalWhen further requires, for the principal sequencing, that this criterion
	// holds with evidence dated within the POA window: the reason for admission supports the
	// diagnosis and what it rests on was present on admission (ICD-10-CM I.C.1.d).
	PrincipalWhen *Criterion `json:"principal_when,omitempty"`
}

// QueryTemplate describes the query generated from a rule's opportunity.
type QueryTemplate struct {
	Format   string           `json:"format"` // multiple_choice or open_ended
	Question string           `json:"question"`
	Options  []OptionTemplate `json:"options,omitempty"`
	// OpenQuestion is asked, open-ended, when the criteria hold but no option has evidence of
	// its own; without it there is no query then.
	OpenQuestion string `json:"open_question,omitempty"`
}

// OptionTemplate is a multiple-choice option. It is offered when When holds and Support
// finds clinical indicators in the record that support this option in particular (Q4, Q5);
// an option whose codes are all documented already needs no support. The indicators Support
// finds are the ones the option cites.
type OptionTemplate struct {
	Text string `json:"text"`
	// Kind is "diagnosis" (default) or "not_significant" for an answer that names no
	// diagnosis ("abnormal laboratory value without clinical significance").
	Kind    string     `json:"kind,omitempty"`
	Codes   []string   `json:"codes,omitempty"`
	When    *Criterion `json:"when,omitempty"`
	Support *Criterion `json:"support"`
}

// ParseRules parses and validates a rules document (JSON). Every reference (selector,
// indicator) must resolve, every comparator and format must be known; the error names the
// offending path. Facility overrides are applied and validated too.
func ParseRules(b []byte) (*Rules, error) {
	r, err := parseRules(b)
	if err != nil {
		return nil, err
	}
	if len(r.Facilities) == 0 {
		return r, nil
	}
	r.facilities = map[string]*Rules{}
	for _, f := range slices.Sorted(maps.Keys(r.Facilities)) {
		fr, err := r.Override(r.Facilities[f])
		if err != nil {
			return nil, fmt.Errorf("rules: facilities.%s: %w", f, err)
		}
		r.facilities[f] = fr
	}
	return r, nil
}

func parseRules(b []byte) (*Rules, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	r := &Rules{}
	if err := dec.Decode(r); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if err := r.compile(); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	delete(doc, "facilities")
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	r.raw = raw
	return r, nil
}

// Override returns the rules with a JSON merge patch (RFC 7386) applied: objects merge by
// key (selectors, indicators and rules by id), null deletes, other values replace. For
// example {"indicators": {"spo2_low": {"value": 92}}, "settings": {"sepsis_definition":
// "sepsis-2"}} changes one threshold and one setting. The result is validated like a full
// document.
func (r *Rules) Override(patch []byte) (*Rules, error) {
	var base, p any
	if err := json.Unmarshal(r.raw, &base); err != nil {
		return nil, fmt.Errorf("rules override: %w", err)
	}
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, fmt.Errorf("rules override: %w", err)
	}
	if _, ok := p.(map[string]any); !ok {
		return nil, errors.New("rules override: must be a JSON object")
	}
	merged, err := json.Marshal(mergePatch(base, p))
	if err != nil {
		return nil, fmt.Errorf("rules override: %w", err)
	}
	return parseRules(merged)
}

// ForFacility returns the rules in effect at a facility: the facility's override when the
// document has one, else r itself.
func (r *Rules) ForFacility(facility string) *Rules {
	if fr, ok := r.facilities[facility]; ok {
		return fr
	}
	return r
}

// Setting returns the value of a facility setting ("" when unset).
func (r *Rules) Setting(name string) string { return r.Settings[name] }

// RuleIDs returns the rule ids in evaluation order (sorted).
func (r *Rules) RuleIDs() []string { return slices.Clone(r.ruleIDs) }

// mergePatch applies an RFC 7386 merge patch.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	out := make(map[string]any, len(t))
	maps.Copy(out, t)
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}

// Query formats.
const (
	FormatMultipleChoice = "multiple_choice"
	FormatOpenEnded      = "open_ended"
	FormatYesNo          = "yes_no"
)

// compile validates references and prepares matchers.
func (r *Rules) compile() error {
	if r.POAWindowHours <= 0 {
		r.POAWindowHours = 48
	}
	if r.Specificity.MaxOptions <= 0 {
		r.Specificity.MaxOptions = 6
	}
	for i, p := range r.Specificity.ExcludeCategories {
		r.Specificity.ExcludeCategories[i] = normCode(p)
	}
	if err := r.compileNames(); err != nil {
		return err
	}
	if err := r.Microbiology.compile(r); err != nil {
		return fmt.Errorf("microbiology: %w", err)
	}
	for _, id := range slices.Sorted(maps.Keys(r.Selectors)) {
		s := r.Selectors[id]
		if s == nil {
			return fmt.Errorf("selectors.%s: null", id)
		}
		if err := s.compile(r); err != nil {
			return fmt.Errorf("selectors.%s: %w", id, err)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(r.Indicators)) {
		ind := r.Indicators[id]
		if ind == nil {
			return fmt.Errorf("indicators.%s: null", id)
		}
		ind.id = id
		if err := ind.compile(r); err != nil {
			return fmt.Errorf("indicators.%s: %w", id, err)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(r.Criteria)) {
		if r.Indicators[id] != nil {
			return fmt.Errorf("criteria.%s: an indicator has the same id", id)
		}
		if r.Criteria[id] == nil {
			return fmt.Errorf("criteria.%s: null", id)
		}
		if err := r.Criteria[id].compile(r, 1); err != nil {
			return fmt.Errorf("criteria.%s: %w", id, err)
		}
	}
	for i := range r.Prophylaxis {
		if err := r.Prophylaxis[i].compile(r); err != nil {
			return fmt.Errorf("prophylaxis[%d]: %w", i, err)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(r.Scores)) {
		if r.Scores[id] == nil {
			return fmt.Errorf("scores.%s: null", id)
		}
		if err := r.Scores[id].compile(r); err != nil {
			return fmt.Errorf("scores.%s: %w", id, err)
		}
	}
	normCodes(r.NonProviderReportable)
	r.ruleIDs = slices.Sorted(maps.Keys(r.Rules))
	for _, id := range r.ruleIDs {
		rule := r.Rules[id]
		if rule == nil {
			return fmt.Errorf("rules.%s: null", id)
		}
		if err := rule.compile(r); err != nil {
			return fmt.Errorf("rules.%s: %w", id, err)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(r.ConflictGroups)) {
		g := r.ConflictGroups[id]
		if g == nil || len(g.Members) < 2 {
			return fmt.Errorf("conflict_groups.%s: needs at least two members", id)
		}
		for _, m := range g.Members {
			normCodes(m)
		}
		for _, ind := range g.Indicators {
			if r.Indicators[ind] == nil {
				return fmt.Errorf("conflict_groups.%s.indicators: unknown indicator %q", id, ind)
			}
		}
	}
	return nil
}

func (rule *Rule) compile(r *Rules) error {
	if rule.Condition == "" {
		return errors.New("condition is required")
	}
	if err := rule.Criteria.compile(r, 0); err != nil {
		return fmt.Errorf("criteria: %w", err)
	}
	if rule.Exclude != nil {
		if err := rule.Exclude.compile(r, 0); err != nil {
			return fmt.Errorf("exclude: %w", err)
		}
	}
	if rule.Validation != nil {
		if !rule.ClinicalValidation {
			return errors.New("validation: applies with clinical_validation only")
		}
		if err := rule.Validation.compile(r, 0); err != nil {
			return fmt.Errorf("validation: %w", err)
		}
	}
	if len(rule.Candidates) == 0 {
		return errors.New("at least one candidate is required")
	}
	normCodes(rule.Documented)
	normCodes(rule.Unspecified)
	for name, list := range map[string][]Candidate{"candidates": rule.Candidates, "companions": rule.Companions} {
		for i := range list {
			c := &list[i]
			if len(c.Codes) == 0 {
				return fmt.Errorf("%s[%d]: codes are required", name, i)
			}
			normCodes(c.Codes)
			if c.When != nil {
				if err := c.When.compile(r, 0); err != nil {
					return fmt.Errorf("%s[%d].when: %w", name, i, err)
				}
			}
			if c.PrincipalWhen != nil {
				if !c.Principal {
					return fmt.Errorf("%s[%d].principal_when: applies with principal only", name, i)
				}
				if err := c.PrincipalWhen.compile(r, 0); err != nil {
					return fmt.Errorf("%s[%d].principal_when: %w", name, i, err)
				}
			}
		}
	}
	switch rule.Query.Format {
	case FormatMultipleChoice, FormatOpenEnded:
	case FormatYesNo:
		return errors.New("query.format: yes_no cannot introduce a new diagnosis (Q6); use multiple_choice or open_ended")
	default:
		return fmt.Errorf("query.format: unknown %q (multiple_choice, open_ended)", rule.Query.Format)
	}
	if rule.Query.Question == "" {
		return errors.New("query.question is required")
	}
	if rule.Query.Format == FormatMultipleChoice && len(rule.Query.Options) == 0 {
		return errors.New("query.options: a multiple-choice query needs options")
	}
	for i := range rule.Query.Options {
		o := &rule.Query.Options[i]
		normCodes(o.Codes)
		if o.When != nil {
			if err := o.When.compile(r, 0); err != nil {
				return fmt.Errorf("query.options[%d].when: %w", i, err)
			}
		}
		switch o.Kind {
		case "", OptionDiagnosis:
			o.Kind = OptionDiagnosis
		case OptionNotSignificant, OptionIntegral:
			if len(o.Codes) > 0 {
				return fmt.Errorf("query.options[%d]: a %s option names no codes", i, o.Kind)
			}
		default:
			return fmt.Errorf("query.options[%d].kind: unknown %q (diagnosis, not_significant, integral)", i, o.Kind)
		}
		if o.Support == nil {
			return fmt.Errorf("query.options[%d].support: every option names the indicators that support it (Q5)", i)
		}
		if err := o.Support.compile(r, 0); err != nil {
			return fmt.Errorf("query.options[%d].support: %w", i, err)
		}
	}
	return nil
}

// appliesTo reports whether the rule is enabled by the settings, and why not.
func (rule *Rule) appliesTo(settings map[string]string) (bool, string) {
	for _, k := range slices.Sorted(maps.Keys(rule.Settings)) {
		if !slices.Contains(rule.Settings[k], settings[k]) {
			return false, fmt.Sprintf("not evaluated: facility setting %s is %q (rule applies to %s)", k, settings[k], strings.Join(rule.Settings[k], ", "))
		}
	}
	return true, ""
}

func normCode(c string) string { return strings.ToUpper(claim.NormalizeCode(strings.TrimSpace(c))) }

func normCodes(cs []string) {
	for i, c := range cs {
		cs[i] = normCode(c)
	}
}

func hasCodePrefix(code string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(code, p) {
			return true
		}
	}
	return false
}
