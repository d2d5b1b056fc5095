package cdi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// Selector kinds beyond the evidence kinds of claim.Evidence.
const (
	// SelectCode matches working codes (PDX, SDX) and diagnoses documented by a provider.
	SelectCode = "code"
	// SelectProcedure matches the working ICD-10-PCS procedure codes.
	SelectProcedure = "procedure"
)

// Selector picks evidence items of an encounter, and converts their values to one unit. All
// name, context and text comparisons ignore case and punctuation.
type Selector struct {
	// Kind is an evidence kind (lab, vital, med, order, note, documented_dx, measurement) or
	// "code" / "procedure" for the working codes.
	Kind string `json:"kind"`
	// Names are accepted evidence names. Labs, vitals and measurements match a name exactly;
	// other kinds match when the name contains it as whole words (see Match).
	Names []string `json:"names,omitempty"`
	// LOINC codes accepted in addition to Names.
	LOINC []string `json:"loinc,omitempty"`
	// Match forces "exact" or "contains" name matching.
	Match string `json:"match,omitempty"`
	// ContextAny: the evidence context must contain one of these phrases; "" accepts an
	// empty context.
	ContextAny []string `json:"context_any,omitempty"`
	// ContextNone: the evidence context must contain none of these phrases.
	ContextNone []string `json:"context_none,omitempty"`
	// Routes: a medication route containing one of these words (IV, intravenous…).
	Routes []string `json:"routes,omitempty"`
	// TextAny: a note text, or a text result, contains one of these phrases outside a negated
	// clause ("no accessory muscle use" does not match "accessory muscle").
	TextAny []string `json:"text_any,omitempty"`
	// AuthorRoles restricts notes and documented diagnoses to these author roles.
	AuthorRoles []string `json:"author_roles,omitempty"`
	// NoteTypes restricts notes to note types containing one of these phrases.
	NoteTypes []string `json:"note_types,omitempty"`
	// Codes are ICD-10 code prefixes for documented_dx, code and procedure kinds.
	Codes []string `json:"codes,omitempty"`
	// Unit is the unit the values are compared in.
	Unit string `json:"unit,omitempty"`
	// Units maps accepted units to their conversion to Unit: a factor, or {"factor", "offset"}
	// (°F → °C). Values in other units are ignored and reported. Default: Unit and no unit.
	Units map[string]UnitConv `json:"units,omitempty"`
	// AutoPercent treats unitless values above 1 as percents (FiO2 40 → 0.40).
	AutoPercent bool `json:"auto_percent,omitempty"`
	// Derive computes values from two other selectors instead of matching evidence.
	Derive *Derive `json:"derive,omitempty"`
	// Fallback is a selector used when this one matches nothing (a measured BMI, else one
	// derived from weight and height).
	Fallback string `json:"fallback,omitempty"`

	names, loinc, ctxAny, ctxNone, routes, text, roles, noteTypes []string
	contains                                                      bool
	units                                                         map[string]UnitConv
}

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

// Derive computes a value from a pair of values of two selectors taken close in time.
type Derive struct {
	// Op is "div" (a / b, e.g. PaO2/FiO2), "map" ((a + 2b) / 3 from systolic and diastolic
	// pressure) or "bmi" (a / b², weight in kg and height in m).
	Op string `json:"op"`
	A  string `json:"a"`
	B  string `json:"b"`
	// WithinMinutes pairs a value of A with the nearest value of B at most this far apart;
	// 0 pairs with the nearest value whatever its time (height for a BMI).
	WithinMinutes float64 `json:"within_minutes,omitempty"`
	// Name labels derived values in citations ("P/F ratio (calculated)").
	Name string `json:"name"`
}

var evidenceKinds = []string{claim.KindLab, claim.KindVital, claim.KindMed, claim.KindOrder, claim.KindNote,
	claim.KindDocumentedDx, claim.KindMeasurement, SelectCode, SelectProcedure}

func (s *Selector) compile(all map[string]*Selector) error {
	if s.Derive != nil {
		d := s.Derive
		switch d.Op {
		case "div", "map", "bmi":
		default:
			return fmt.Errorf("derive.op: unknown %q (div, map, bmi)", d.Op)
		}
		for _, ref := range []string{d.A, d.B} {
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
		if s.Kind != "" || len(s.Names) > 0 || len(s.LOINC) > 0 {
			return errors.New("a derived selector has no kind, names or loinc")
		}
	} else if !slices.Contains(evidenceKinds, s.Kind) {
		return fmt.Errorf("kind: unknown %q", s.Kind)
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
		s.contains = s.Kind != claim.KindLab && s.Kind != claim.KindVital && s.Kind != claim.KindMeasurement
	case "exact":
	case "contains":
		s.contains = true
	default:
		return fmt.Errorf("match: unknown %q (exact, contains)", s.Match)
	}
	s.names = normAll(s.Names)
	s.loinc = s.LOINC
	s.ctxAny = normAll(s.ContextAny)
	s.ctxNone = normAll(s.ContextNone)
	s.routes = normAll(s.Routes)
	s.text = normAll(s.TextAny)
	s.roles = make([]string, len(s.AuthorRoles))
	for i, r := range s.AuthorRoles {
		s.roles[i] = normRole(r)
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

// norm lowercases s and turns every run of characters other than letters and digits into one
// space, with a space at both ends so that whole-word phrases can be found with Contains.
func norm(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 && r != 'µ' && r != '°' {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	out := b.String()
	if out == " " {
		return ""
	}
	return out
}

func normAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = norm(s)
	}
	return out
}

var unitReplacer = strings.NewReplacer(" ", "", "µ", "u", "μ", "u", "°", "", "mcg", "ug", "mcmol", "umol")

// normRole canonicalizes an author role (claim.RolePhysician …): lowercase, trimmed.
func normRole(r string) string { return strings.ToLower(strings.TrimSpace(r)) }

// normUnit canonicalizes a unit: lowercase, no spaces, µ and mc as u, degree signs dropped.
func normUnit(u string) string { return unitReplacer.Replace(strings.ToLower(strings.TrimSpace(u))) }

// evView is an evidence item with its normalized strings, built once per review.
type evView struct {
	ev      *claim.Evidence
	idx     int
	name    string
	context string
	route   string
	role    string
	noteTyp string
	unit    string
	prior   bool     // from a prior encounter (labelled, or dated before the admission)
	clauses []clause // clauses of the note text or text value, built on demand
}

// clause is a clause of a text as written and normalized.
type clause struct{ raw, norm string }

func (v *evView) textClauses() []clause {
	if v.clauses == nil {
		src := v.ev.Text
		if src == "" && v.ev.Value.IsText {
			src = v.ev.Value.Text
		}
		v.clauses = splitClauses(src)
	}
	return v.clauses
}

// splitClauses splits text on sentence and clause punctuation and normalizes each clause. A
// period or comma between digits ("38.6", "100,000") does not split.
func splitClauses(s string) []clause {
	out := []clause{}
	start := 0
	flush := func(end int) {
		if raw := strings.TrimSpace(s[start:end]); raw != "" {
			if n := norm(raw); n != "" {
				out = append(out, clause{raw: raw, norm: n})
			}
		}
		start = end + 1
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.', ',':
			if i > 0 && i+1 < len(s) && isDigit(s[i-1]) && isDigit(s[i+1]) {
				continue
			}
			flush(i)
		case ';', '!', '?', '\n', ':':
			flush(i)
		}
	}
	flush(len(s))
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// negations are words that, within negationWindow words before a phrase in the same clause,
// negate it ("no accessory muscle use", "denies confusion", "not meeting criteria for severe
// malnutrition").
var negations = []string{"no", "not", "denies", "denied", "without", "negative", "absent", "never", "resolved"}

const negationWindow = 5

// findPhrase returns the first clause (as written) containing one of phrases outside a
// negated context.
func findPhrase(clauses []clause, phrases []string) (string, bool) {
	for _, cl := range clauses {
		c := cl.norm
		for _, p := range phrases {
			if p == "" {
				continue
			}
			from := 0
			for {
				i := strings.Index(c[from:], p)
				if i < 0 {
					break
				}
				i += from
				if !negated(c[:i]) {
					return cl.raw, true
				}
				from = i + 1
			}
		}
	}
	return "", false
}

func negated(before string) bool {
	words := strings.Fields(before)
	for i := len(words) - 1; i >= 0 && i >= len(words)-negationWindow; i-- {
		if slices.Contains(negations, words[i]) {
			return true
		}
	}
	return false
}

func containsAny(s string, phrases []string) bool {
	for _, p := range phrases {
		if p != "" && strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// matchName reports whether an evidence name (normalized) is one of names.
func (s *Selector) matchName(v *evView) bool {
	if len(s.names) == 0 && len(s.loinc) == 0 {
		return true
	}
	if v.ev.LOINC != "" && slices.Contains(s.loinc, v.ev.LOINC) {
		return true
	}
	if s.contains {
		return containsAny(v.name, s.names)
	}
	return slices.Contains(s.names, v.name)
}

// matches reports whether an evidence item is selected, and the excerpt of the text phrase
// that matched (for notes and text results).
func (s *Selector) matches(v *evView) (string, bool) {
	if v.ev.Kind != s.Kind {
		return "", false
	}
	if !s.matchName(v) {
		return "", false
	}
	if len(s.ctxAny) > 0 {
		ok := false
		for _, c := range s.ctxAny {
			if c == "" && v.context == "" || c != "" && strings.Contains(v.context, c) {
				ok = true
				break
			}
		}
		if !ok {
			return "", false
		}
	}
	if containsAny(v.context, s.ctxNone) {
		return "", false
	}
	if len(s.routes) > 0 && !containsAny(v.route, s.routes) {
		return "", false
	}
	if len(s.roles) > 0 && !slices.Contains(s.roles, v.role) {
		return "", false
	}
	if len(s.noteTypes) > 0 && !containsAny(v.noteTyp, s.noteTypes) {
		return "", false
	}
	if len(s.Codes) > 0 && !hasCodePrefix(normCode(v.ev.Code), s.Codes) {
		return "", false
	}
	if len(s.text) > 0 {
		clause, ok := findPhrase(v.textClauses(), s.text)
		if !ok {
			return "", false
		}
		return clause, true
	}
	return "", true
}

// point is one selected fact: an evidence item, a working code or a derived value.
type point struct {
	kind    string // cite kind (evidence kind, CiteCalculated, CiteProcedure, CiteWorkingCode)
	ev      []int  // evidence indexes (two for a derived value; none for working codes)
	t       time.Time
	v       float64
	hasV    bool
	name    string
	display claim.Value // value as documented (before conversion)
	unit    string      // unit as documented
	source  string
	context string
	role    string
	excerpt string // matched clause of a note
	code    string
	prior   bool
}

// convert returns the value of v in the selector's unit.
func (s *Selector) convert(v *evView) (float64, bool, string) {
	if !v.ev.Value.IsNum {
		return 0, false, ""
	}
	x := v.ev.Value.Num
	if len(s.units) == 0 {
		return x, true, ""
	}
	c, ok := s.units[v.unit]
	if !ok {
		return 0, false, fmt.Sprintf("%s %s ignored: unit %q not convertible to %s", v.ev.Name, v.ev.Value, v.ev.Unit, s.Unit)
	}
	if s.AutoPercent && v.unit == "" && x > 1 {
		x /= 100
	}
	return x*c.Factor + c.Offset, true, ""
}

// sourceOf names the document an evidence item comes from.
func sourceOf(e *claim.Evidence) string {
	switch {
	case e.Source != "":
		return e.Source
	case e.NoteType != "":
		return e.NoteType
	}
	switch e.Kind {
	case claim.KindLab:
		return "laboratory results"
	case claim.KindVital:
		return "vital signs flowsheet"
	case claim.KindMed:
		return "medication administration record"
	case claim.KindOrder:
		return "orders"
	case claim.KindMeasurement:
		return "flowsheet measurements"
	}
	return e.Kind
}

func pointOf(v *evView) point {
	e := v.ev
	name := e.Name
	if name == "" {
		name = e.NoteType
	}
	if name == "" {
		name = e.Kind
	}
	return point{kind: e.Kind, ev: []int{v.idx}, t: e.Time, name: name, display: e.Value, unit: e.Unit, source: sourceOf(e),
		context: e.Context, role: e.AuthorRole, code: normCode(e.Code), prior: v.prior}
}

// derive computes the values of a derived selector from the points of A and B.
func derive(d *Derive, as, bs []point) []point {
	var out []point
	for _, a := range as {
		if !a.hasV {
			continue
		}
		best, bestGap := -1, math.Inf(1)
		for j, b := range bs {
			if !b.hasV {
				continue
			}
			gap := math.Abs(a.t.Sub(b.t).Minutes())
			if a.t.IsZero() || b.t.IsZero() {
				if d.WithinMinutes > 0 {
					continue
				}
				gap = math.MaxFloat64 / 2
			}
			if d.WithinMinutes > 0 && gap > d.WithinMinutes {
				continue
			}
			if gap < bestGap {
				best, bestGap = j, gap
			}
		}
		if best < 0 {
			continue
		}
		b := bs[best]
		var x float64
		switch d.Op {
		case "div":
			if b.v == 0 {
				continue
			}
			x = a.v / b.v
		case "map":
			x = (a.v + 2*b.v) / 3
		case "bmi":
			if b.v == 0 {
				continue
			}
			x = a.v / (b.v * b.v)
		}
		x = math.Round(x*10) / 10
		p := point{kind: CiteCalculated, ev: append(slices.Clone(a.ev), b.ev...), t: a.t, v: x, hasV: true, name: d.Name,
			display: claim.Number(x), source: fmt.Sprintf("calculated from %s (%s) and %s (%s)", a.name, a.source, b.name, b.source),
			prior: a.prior}
		if a.t.IsZero() {
			p.t = b.t
		}
		out = append(out, p)
	}
	return out
}
