package cdi

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/msdrg-cdi/drg/claim"
)

// Selector kinds beyond the evidence kinds of claim.Evidence.
const (
	// SelectCode matches working codes (PDX, SDX) and diagnoses documented by a provider.
	SelectCode = "code"
	// SelectProcedure matches the working ICD-10-PCS procedure codes.
	SelectProcedure = "procedure"
)

// Selector picks facts of an encounter (evidence items, working codes or derived values) and
// converts their values to one unit. Name, context and text comparisons ignore case and
// punctuation; names also go through the rules' synonym table.
type Selector struct {
	// Kind is one evidence kind or a list of them (lab, vital, med, order, note,
	// documented_dx, measurement), or "code" / "procedure" for the working codes. BMI, weight
	// and height are accepted as vital signs or measurements: ["measurement", "vital"].
	Kind Kinds `json:"kind"`
	// Names are accepted evidence names. Labs, vitals and measurements match a name exactly
	// (after synonyms, without case, spaces or punctuation, and without the specimen words
	// of the name: "Creatinine, serum" is creatinine measured on serum); other kinds match
	// when the name contains one of them as whole words.
	Names []string `json:"names,omitempty"`
	// LOINC codes accepted in addition to Names.
	LOINC []string `json:"loinc,omitempty"`
	// Match forces "exact" or "contains" name matching.
	Match string `json:"match,omitempty"`
	// Specimens are the specimen classes accepted (see Rules.Specimens): "arterial" for a
	// PaO2. Without it a lab selector accepts the default classes (blood) and results of
	// unknown specimen, never urine or other fluids.
	Specimens []string `json:"specimens,omitempty"`
	// SpecimenRequired refuses results whose specimen is unknown (a pO2 without specimen is
	// not a PaO2).
	SpecimenRequired bool `json:"specimen_required,omitempty"`
	// ContextAny: the evidence context must contain one of these phrases; "" accepts an
	// empty context.
	ContextAny []string `json:"context_any,omitempty"`
	// ContextNone: neither the context, the source nor the note type contains one of these
	// phrases ("prophylaxis", "anesthesia record").
	ContextNone []string `json:"context_none,omitempty"`
	// SourceAny: the source contains one of these phrases (results of the microbiology
	// laboratory, whatever their name).
	SourceAny []string `json:"source_any,omitempty"`
	// Routes: a medication route containing one of these words (IV, intravenous…); ""
	// accepts a medication without route.
	Routes []string `json:"routes,omitempty"`
	// ExcludeWords: an item whose name, route or dose contains one of these words is not
	// selected (nebulized saline, phenylephrine nasal spray, a bolus).
	ExcludeWords []string `json:"exclude_words,omitempty"`
	// TextAny: a note text, or a text result, contains one of these phrases outside a negated
	// clause ("no accessory muscle use" does not match "accessory muscle").
	TextAny []string `json:"text_any,omitempty"`
	// AuthorRoles restricts notes and documented diagnoses to these author roles.
	AuthorRoles []string `json:"author_roles,omitempty"`
	// NoteTypes restricts notes to note types containing one of these phrases.
	NoteTypes []string `json:"note_types,omitempty"`
	// Codes are ICD-10 code prefixes for documented_dx, code and procedure kinds.
	Codes []string `json:"codes,omitempty"`
	// OperatingRoom keeps only the procedures the grouper tables flag as operating room
	// procedures in the review's version.
	OperatingRoom bool `json:"operating_room,omitempty"`
	// DoseValue reads a medication's value from its dose ("0.08 mcg/kg/min"), so that an
	// infusion rate can be compared.
	DoseValue bool `json:"dose_value,omitempty"`
	// Unit is the unit the values are compared in.
	Unit string `json:"unit,omitempty"`
	// Units maps accepted units to their conversion to Unit: a factor, or {"factor", "offset"}
	// (°F → °C). Values in other units are ignored and reported. Default: Unit and no unit.
	Units map[string]UnitConv `json:"units,omitempty"`
	// AutoPercent treats unitless values above 1 as percents (FiO2 40 → 0.40).
	AutoPercent bool `json:"auto_percent,omitempty"`
	// Plausible is the [min, max] range of values this measurement can take (after
	// conversion); a value outside is another measurement mislabelled and is ignored.
	Plausible []float64 `json:"plausible,omitempty"`
	// Derive computes values from other selectors instead of matching evidence.
	Derive *Derive `json:"derive,omitempty"`
	// Culture keeps the lab results whose reading as a culture report is one of these
	// (significant, insignificant, no_growth, contaminant, colonization, pending, unread;
	// see Rules.Microbiology).
	Culture []string `json:"culture,omitempty"`
	// ExcludeProphylaxis drops the medication administrations of a prophylaxis regimen
	// (Rules.Prophylaxis).
	ExcludeProphylaxis bool `json:"exclude_prophylaxis,omitempty"`
	// Fallback is a selector used when this one matches nothing (a measured BMI, else one
	// derived from weight and height).
	Fallback string `json:"fallback,omitempty"`

	keys                                                                 []string // canonical names
	names, ctxAny, ctxNone, srcAny, routes, text, roles, noteTypes, excl []string
	contains, routeNone                                                  bool
	units                                                                map[string]UnitConv
}

// Kinds is one selector kind or several; in JSON a string or a list of strings.
type Kinds []string

// UnmarshalJSON reads a string or a list of strings.
func (k *Kinds) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*k = Kinds{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return errors.New("kind: want a kind or a list of kinds")
	}
	*k = l
	return nil
}

// MarshalJSON writes a single kind as a string.
func (k Kinds) MarshalJSON() ([]byte, error) {
	if len(k) == 1 {
		return json.Marshal(k[0])
	}
	return json.Marshal([]string(k))
}

// Has reports whether kind is one of the kinds.
func (k Kinds) Has(kind string) bool { return slices.Contains(k, kind) }

// UnitConv converts a value to a selector's unit: v × Factor + Offset. In JSON it is a number
// (the factor) or an object {"factor": f, "offset": o}.
type UnitConv struct {
	Factor float64 `json:"factor"`
	Offset float64 `json:"offset,omitempty"`
}

// UnmarshalJSON accepts a number or an object.
func (u *UnitConv) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err == nil {
		*u = UnitConv{Factor: f}
		return nil
	}
	type plain UnitConv
	var p plain
	if err := strictUnmarshal(b, &p); err != nil {
		return fmt.Errorf("unit conversion: want a number or {\"factor\", \"offset\"}: %w", err)
	}
	*u = UnitConv(p)
	return nil
}

// Derive computes a value from values of other selectors taken close in time.
type Derive struct {
	// Op is "div" (a / b, e.g. PaO2/FiO2), "map" ((a + 2b) / 3 from systolic and diastolic
	// pressure), "bmi" (a / b², weight in kg and height in m) or "sum" (the values of every
	// selector of Of at the same time: the three components of a Glasgow coma scale).
	Op string `json:"op"`
	A  string `json:"a,omitempty"`
	B  string `json:"b,omitempty"`
	// Of lists the selectors of a sum.
	Of []string `json:"of,omitempty"`
	// WithinMinutes pairs a value of A with the nearest value of B at most this far apart;
	// 0 pairs with the nearest value whatever its time (height for a BMI).
	WithinMinutes float64 `json:"within_minutes,omitempty"`
	// Name labels derived values in citations ("P/F ratio (calculated)").
	Name string `json:"name"`
}

var evidenceKinds = []string{claim.KindLab, claim.KindVital, claim.KindMed, claim.KindOrder, claim.KindNote,
	claim.KindDocumentedDx, claim.KindMeasurement, SelectCode, SelectProcedure}

// valueKinds are the kinds whose names match exactly.
var valueKinds = []string{claim.KindLab, claim.KindVital, claim.KindMeasurement}

func (s *Selector) compile(r *Rules) error {
	all := r.Selectors
	if s.Derive != nil {
		d := s.Derive
		refs := []string{d.A, d.B}
		switch d.Op {
		case "div", "map", "bmi":
		case "sum":
			if len(d.Of) < 2 || d.A != "" || d.B != "" {
				return errors.New("derive: a sum adds the selectors of \"of\" (at least two), not a and b")
			}
			refs = d.Of
		default:
			return fmt.Errorf("derive.op: unknown %q (div, map, bmi, sum)", d.Op)
		}
		for _, ref := range refs {
			t := all[ref]
			if t == nil {
				return fmt.Errorf("derive: unknown selector %q", ref)
			}
			if t.Derive != nil || t.Fallback != "" {
				return fmt.Errorf("derive: selector %q is itself derived", ref)
			}
		}
		if d.Name == "" {
			return errors.New("derive.name is required")
		}
		if len(s.Kind) > 0 || len(s.Names) > 0 || len(s.LOINC) > 0 {
			return errors.New("a derived selector has no kind, names or loinc")
		}
	} else {
		if len(s.Kind) == 0 {
			return errors.New("kind is required")
		}
		for _, k := range s.Kind {
			if !slices.Contains(evidenceKinds, k) {
				return fmt.Errorf("kind: unknown %q", k)
			}
		}
	}
	if s.Fallback != "" {
		t := all[s.Fallback]
		if t == nil {
			return fmt.Errorf("fallback: unknown selector %q", s.Fallback)
		}
		if t.Fallback != "" {
			return fmt.Errorf("fallback: selector %q has a fallback itself", s.Fallback)
		}
	}
	switch s.Match {
	case "":
		s.contains = !slices.ContainsFunc(s.Kind, func(k string) bool { return slices.Contains(valueKinds, k) })
	case "exact":
	case "contains":
		s.contains = true
	default:
		return fmt.Errorf("match: unknown %q (exact, contains)", s.Match)
	}
	for _, sp := range s.Specimens {
		if r.Specimens[sp] == nil {
			return fmt.Errorf("specimens: unknown specimen %q", sp)
		}
	}
	for _, c := range s.Culture {
		if !slices.Contains(cultureReadings, c) {
			return fmt.Errorf("culture: unknown reading %q (%s)", c, strings.Join(cultureReadings, ", "))
		}
	}
	if len(s.Culture) > 0 && r.Microbiology == nil {
		return errors.New("culture: the rules have no microbiology vocabulary")
	}
	if len(s.Plausible) != 0 && (len(s.Plausible) != 2 || s.Plausible[0] >= s.Plausible[1]) {
		return errors.New("plausible: want [min, max]")
	}
	s.names = normAll(s.Names)
	s.keys = nil
	for _, n := range s.Names {
		s.keys = append(s.keys, r.canonical(n))
	}
	s.ctxAny = normAll(s.ContextAny)
	s.ctxNone = normAll(s.ContextNone)
	s.srcAny = normAll(s.SourceAny)
	s.routes = normAll(s.Routes)
	s.routeNone = slices.Contains(s.Routes, "")
	s.excl = normAll(s.ExcludeWords)
	s.text = normAll(s.TextAny)
	s.roles = make([]string, len(s.AuthorRoles))
	for i, role := range s.AuthorRoles {
		s.roles[i] = normRole(role)
	}
	s.noteTypes = normAll(s.NoteTypes)
	normCodes(s.Codes)
	s.units = map[string]UnitConv{}
	for u, c := range s.Units {
		if c.Factor == 0 {
			return fmt.Errorf("units.%s: factor 0", u)
		}
		s.units[normUnit(u)] = c
	}
	if len(s.units) == 0 && s.Unit != "" {
		s.units[normUnit(s.Unit)] = UnitConv{Factor: 1}
		s.units[""] = UnitConv{Factor: 1}
	}
	return nil
}

var unitReplacer = strings.NewReplacer(" ", "", "µ", "u", "μ", "u", "°", "", "mcg", "ug", "mcmol", "umol")

// normRole canonicalizes an author role (claim.RolePhysician …): lowercase, trimmed.
func normRole(r string) string { return strings.ToLower(strings.TrimSpace(r)) }

// normUnit canonicalizes a unit: lowercase, no spaces, µ and mc as u, degree signs dropped; a
// unit field that says there is none ("None", "N/A", "null") is no unit.
func normUnit(u string) string {
	n := unitReplacer.Replace(strings.ToLower(strings.TrimSpace(u)))
	switch n {
	case "none", "null", "n/a", "na", "nan", "-":
		return ""
	}
	return n
}

func containsAny(s string, phrases []string) bool {
	for _, p := range phrases {
		if p != "" && strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// matchName reports whether an evidence name is one of the selector's names.
func (s *Selector) matchName(f *fact) bool {
	if len(s.names) == 0 && len(s.LOINC) == 0 {
		return true
	}
	if f.ev.LOINC != "" && slices.Contains(s.LOINC, f.ev.LOINC) {
		return true
	}
	if s.contains {
		return containsAny(f.name, s.names)
	}
	return slices.Contains(s.keys, f.key) || slices.Contains(s.keys, f.baseKey)
}

// matchSpecimen reports whether a lab result's specimen is one the selector accepts.
func (s *Selector) matchSpecimen(f *fact, x *specimenIndex) bool {
	if f.ev.Kind != claim.KindLab {
		return true
	}
	if f.specimen == "" {
		return !s.SpecimenRequired
	}
	if len(s.Specimens) > 0 {
		return x.within(f.specimen, s.Specimens)
	}
	return x.within(f.specimen, x.defaults)
}

// matches reports whether a fact is selected, and the excerpt of the text phrase that matched
// (for notes and text results).
func (s *Selector) matches(f *fact, r *Rules) (string, bool) {
	if !s.Kind.Has(f.ev.Kind) || !s.matchName(f) || !s.matchSpecimen(f, &r.specimens) {
		return "", false
	}
	if len(s.ctxAny) > 0 {
		ok := false
		for _, c := range s.ctxAny {
			if c == "" && f.context == "" || c != "" && strings.Contains(f.context, c) {
				ok = true
				break
			}
		}
		if !ok {
			return "", false
		}
	}
	if containsAny(f.context, s.ctxNone) || containsAny(f.source, s.ctxNone) || containsAny(f.noteTyp, s.ctxNone) {
		return "", false
	}
	if len(s.srcAny) > 0 && !containsAny(f.source, s.srcAny) {
		return "", false
	}
	if len(s.routes) > 0 && !(s.routeNone && f.route == "") && !containsAny(f.route, s.routes) {
		return "", false
	}
	if len(s.excl) > 0 && (containsAny(f.name, s.excl) || containsAny(f.route, s.excl) || containsAny(f.dose, s.excl)) {
		return "", false
	}
	if len(s.roles) > 0 && !slices.Contains(s.roles, f.role) {
		return "", false
	}
	if len(s.noteTypes) > 0 && !containsAny(f.noteTyp, s.noteTypes) {
		return "", false
	}
	if len(s.Codes) > 0 && f.ev.Kind == claim.KindDocumentedDx && !hasCodePrefix(normCode(f.ev.Code), s.Codes) {
		return "", false
	}
	if len(s.Culture) > 0 && (f.ev.Kind != claim.KindLab || !slices.Contains(s.Culture, f.culture)) {
		return "", false
	}
	if len(s.text) > 0 {
		clause, ok := findPhrase(f.textClauses(), s.text, r)
		if !ok {
			return "", false
		}
		return clause, true
	}
	return "", true
}

// value returns the value of a fact in the selector's unit; why explains a value that
// cannot be used.
func (s *Selector) value(f *fact) (x float64, ok bool, why string) {
	v, unit, shown := f.ev.Value, f.unit, f.ev.Unit
	if !v.IsNum && s.DoseValue {
		if n, u, ok := parseDose(f.ev.Dose); ok {
			v, unit, shown = claim.Number(n), normUnit(u), u
		}
	}
	if !v.IsNum {
		return 0, false, ""
	}
	x = v.Num
	if len(s.units) > 0 {
		c, ok := s.units[unit]
		if !ok {
			return 0, false, fmt.Sprintf("%s %s ignored: unit %q not convertible to %s", f.ev.Name, v, shown, s.Unit)
		}
		if s.AutoPercent && unit == "" && x > 1 {
			x /= 100
		}
		x = x*c.Factor + c.Offset
	}
	if len(s.Plausible) == 2 && (x < s.Plausible[0] || x > s.Plausible[1]) {
		return 0, false, fmt.Sprintf("%s %s ignored: outside the plausible range of %s", f.ev.Name, v, strings.TrimSpace(fmtNum(s.Plausible[0])+"-"+fmtNum(s.Plausible[1])+" "+s.Unit))
	}
	return x, true, ""
}

// parseDose reads "0.08 mcg/kg/min" as 0.08 and "mcg/kg/min".
func parseDose(dose string) (float64, string, bool) {
	d := strings.TrimSpace(dose)
	i := 0
	for i < len(d) && (isDigit(d[i]) || d[i] == '.') {
		i++
	}
	if i == 0 {
		return 0, "", false
	}
	n, err := strconv.ParseFloat(d[:i], 64)
	if err != nil {
		return 0, "", false
	}
	return n, strings.TrimSpace(d[i:]), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
