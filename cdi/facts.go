package cdi

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// Stage 1 of a review: the evidence of the encounter read once into facts — each item with
// its normalized name, canonical name, resolved specimen and whether it predates the stay —
// and the diagnoses documented in the record or present in the working codes.

// fact is one evidence item with its normalized strings.
type fact struct {
	ev       *claim.Evidence
	idx      int
	name     string // normalized name
	key      string // canonical name (compact, synonyms applied)
	baseKey  string // canonical name without the specimen words of the name
	specimen string // resolved specimen class of a lab result ("" unknown)
	context  string
	source   string
	route    string
	dose     string
	role     string
	noteTyp  string
	unit     string
	prior    bool     // from a prior encounter (labelled, or dated before the admission)
	culture  string   // reading of a lab result with a text, as a culture report (Culture…)
	clauses  []clause // clauses of the note text or text value, built on demand
}

// clause is a clause of a text as written and normalized.
type clause struct{ raw, norm string }

func (f *fact) textClauses() []clause {
	if f.clauses == nil {
		src := f.ev.Text
		if src == "" && f.ev.Value.IsText {
			src = f.ev.Value.Text
		}
		f.clauses = splitClauses(src)
	}
	return f.clauses
}

// docCode is a diagnosis documented in the record or present in the working codes.
type docCode struct {
	code     string
	cite     Cite
	provider bool // documented by a provider (or a working code)
	working  bool
	pdx      bool
}

// facts is the evidence of one encounter, read.
type facts struct {
	items []fact
	docs  []docCode
	admit time.Time
}

// readFacts reads the encounter's evidence with the rules' names and specimens. admit is
// the start of the stay (the admission date, else the earliest evidence).
func readFacts(enc *claim.Encounter, base *claim.Claim, r *Rules, nameOf func(string) string) *facts {
	fs := &facts{admit: enc.AdmitDate.Time()}
	if enc.AdmitDate.IsZero() {
		for i := range enc.Evidence {
			if t := enc.Evidence[i].Time; !t.IsZero() && (fs.admit.IsZero() || t.Before(fs.admit)) {
				fs.admit = t
			}
		}
	}
	fs.items = make([]fact, len(enc.Evidence))
	for i := range enc.Evidence {
		ev := &enc.Evidence[i]
		ctx := norm(ev.Context)
		name := norm(ev.Name)
		f := fact{ev: ev, idx: i, name: name, key: r.canonical(ev.Name), context: ctx, source: norm(ev.Source),
			route: norm(ev.Route), dose: norm(ev.Dose), role: normRole(ev.AuthorRole), noteTyp: norm(ev.NoteType),
			unit: normUnit(ev.Unit),
			prior: strings.Contains(ctx, " baseline ") || strings.Contains(ctx, " prior ") ||
				!ev.Time.IsZero() && !enc.AdmitDate.IsZero() && ev.Time.Before(fs.admit.Add(-24*time.Hour))}
		f.baseKey = r.canonical(r.specimens.strip(name))
		if ev.Kind == claim.KindLab {
			f.specimen = specimenOf(ev, name, ctx, f.source, &r.specimens)
		}
		fs.items[i] = f
	}
	fs.inheritSpecimens(r)
	fs.readCultures(r)
	fs.collectDocs(base, nameOf)
	return fs
}

// specimenOf resolves the specimen of a lab result: its specimen field, else its LOINC code,
// else the specimen words of its name, context or source ("pH, urine"; "LAB urinalysis").
func specimenOf(ev *claim.Evidence, name, ctx, source string, x *specimenIndex) string {
	if ev.Specimen != "" {
		if c := x.classify(norm(ev.Specimen)); c != "" {
			return c
		}
	}
	if c, ok := x.loinc[ev.LOINC]; ok {
		return c
	}
	if c := x.classify(name); c != "" {
		return c
	}
	if c := x.classify(ctx); c != "" {
		return c
	}
	return x.classify(source)
}

// inheritSpecimens gives a lab result of unknown or generic specimen the specimen that a
// "Specimen Type" result taken at the same time names (blood gas panels send the specimen as
// a result of its own: "Specimen Type: ART.").
func (fs *facts) inheritSpecimens(r *Rules) {
	if len(r.specTypes) == 0 {
		return
	}
	type typed struct {
		t     time.Time
		class string
	}
	var types []typed
	for i := range fs.items {
		f := &fs.items[i]
		if f.ev.Kind != claim.KindLab || f.ev.Time.IsZero() || !f.ev.Value.IsText ||
			!slices.Contains(r.specTypes, f.key) && !slices.Contains(r.specTypes, f.baseKey) {
			continue
		}
		if c := r.specimens.classify(norm(f.ev.Value.Text)); c != "" {
			types = append(types, typed{f.ev.Time, c})
		}
	}
	for i := range fs.items {
		f := &fs.items[i]
		if f.ev.Kind != claim.KindLab || f.ev.Time.IsZero() {
			continue
		}
		for _, ty := range types {
			if math.Abs(f.ev.Time.Sub(ty.t).Minutes()) <= 2 && (f.specimen == "" || r.specimens.refines(ty.class, f.specimen)) {
				f.specimen = ty.class
				break
			}
		}
	}
}

// collectDocs gathers the working codes and the documented diagnoses of the record.
func (fs *facts) collectDocs(base *claim.Claim, nameOf func(string) string) {
	if p := base.PDX; p != nil && p.Code != "" {
		fs.docs = append(fs.docs, docCode{code: p.Code, provider: true, working: true, pdx: true,
			cite: Cite{Kind: CiteWorkingCode, Name: nameOf(p.Code), Code: p.Code, Source: "working codes (principal)"}})
	}
	for _, d := range base.SDX {
		fs.docs = append(fs.docs, docCode{code: d.Code, provider: true, working: true,
			cite: Cite{Kind: CiteWorkingCode, Name: nameOf(d.Code), Code: d.Code, Source: "working codes"}})
	}
	for i := range fs.items {
		f := &fs.items[i]
		if f.ev.Kind != claim.KindDocumentedDx || f.ev.Code == "" {
			continue
		}
		code := normCode(f.ev.Code)
		p := pointOf(f)
		fs.docs = append(fs.docs, docCode{code: code, provider: claim.IsProvider(f.role),
			cite: Cite{Label: "documented diagnosis", Kind: claim.KindDocumentedDx, Evidence: p.ev, Name: nameOf(code), Time: p.t,
				Source: p.source, AuthorRole: f.ev.AuthorRole, Code: code, PriorEncounter: p.prior}})
	}
}

// documented reports whether a provider-documented or working code has one of the prefixes.
func (fs *facts) documented(prefixes []string) bool {
	for i := range fs.docs {
		if fs.docs[i].provider && hasCodePrefix(fs.docs[i].code, prefixes) {
			return true
		}
	}
	return false
}

// providerDocumented reports whether a provider documented (or the working codes hold) code.
func (fs *facts) providerDocumented(code string) bool {
	for i := range fs.docs {
		if fs.docs[i].provider && fs.docs[i].code == code {
			return true
		}
	}
	return false
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

// negationWindow is how many words before a phrase a negation reaches.
const negationWindow = 5

// findPhrase returns the first clause (as written) containing one of phrases outside a
// negated context: a negation word within negationWindow words before the phrase ("no
// accessory muscle use", "denies confusion") or a negating phrase right after it ("confused
// at baseline").
func findPhrase(clauses []clause, phrases []string, r *Rules) (string, bool) {
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
				if !negated(c[:i], c[i+len(p)-1:], r) {
					return cl.raw, true
				}
				from = i + 1
			}
		}
	}
	return "", false
}

func negated(before, after string, r *Rules) bool {
	words := strings.Fields(before)
	window := " " + strings.Join(words[max(0, len(words)-negationWindow):], " ") + " "
	for _, n := range r.negBefore {
		if n != "" && strings.Contains(window, " "+n+" ") {
			return true
		}
	}
	for _, a := range r.negAfter {
		if a != "" && strings.HasPrefix(after, a) {
			return true
		}
	}
	return false
}

// point is one selected fact: an evidence item, a working code or a derived value.
type point struct {
	kind    string // cite kind (evidence kind, CiteCalculated, CiteProcedure, CiteWorkingCode)
	ev      []int  // evidence indexes (two or more for a derived value; none for working codes)
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

func pointOf(f *fact) point {
	e := f.ev
	name := e.Name
	if name == "" {
		name = e.NoteType
	}
	if name == "" {
		name = e.Kind
	}
	display, unit := e.Value, e.Unit
	if display.IsZero() && e.Kind == claim.KindMed && e.Dose != "" {
		display = claim.Text(e.Dose)
	}
	if e.Specimen != "" && e.Kind == claim.KindLab && !strings.Contains(strings.ToLower(name), strings.ToLower(e.Specimen)) {
		name += " (" + e.Specimen + ")"
	}
	return point{kind: e.Kind, ev: []int{f.idx}, t: e.Time, name: name, display: display, unit: unit, source: sourceOf(e),
		context: e.Context, role: e.AuthorRole, code: normCode(e.Code), prior: f.prior}
}

// derive computes the values of a derived selector from the points of its operands.
func derive(d *Derive, operands [][]point) []point {
	if d.Op == "sum" {
		return deriveSum(d, operands)
	}
	as, bs := operands[0], operands[1]
	var out []point
	for _, a := range as {
		if !a.hasV {
			continue
		}
		b, ok := nearest(a, bs, d.WithinMinutes)
		if !ok {
			continue
		}
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

// nearest returns the valued point of bs nearest in time to a, at most within minutes apart
// (0: whatever the distance, untimed values included).
func nearest(a point, bs []point, within float64) (point, bool) {
	best, bestGap := -1, math.Inf(1)
	for j, b := range bs {
		if !b.hasV {
			continue
		}
		gap := math.Abs(a.t.Sub(b.t).Minutes())
		if a.t.IsZero() || b.t.IsZero() {
			if within > 0 {
				continue
			}
			gap = math.MaxFloat64 / 2
		}
		if within > 0 && gap > within {
			continue
		}
		if gap < bestGap {
			best, bestGap = j, gap
		}
	}
	if best < 0 {
		return point{}, false
	}
	return bs[best], true
}

// deriveSum adds, for each timed value of the first operand, the values of the other operands
// nearest in time within the window (all operands must be present).
func deriveSum(d *Derive, operands [][]point) []point {
	within := d.WithinMinutes
	if within <= 0 {
		within = 1
	}
	var out []point
	for _, a := range operands[0] {
		if !a.hasV || a.t.IsZero() {
			continue
		}
		sum, ev, ok := a.v, slices.Clone(a.ev), true
		for _, l := range operands[1:] {
			b, found := nearest(a, l, within)
			if !found {
				ok = false
				break
			}
			sum += b.v
			ev = append(ev, b.ev...)
		}
		if !ok {
			continue
		}
		out = append(out, point{kind: CiteCalculated, ev: ev, t: a.t, v: sum, hasV: true, name: d.Name, display: claim.Number(sum),
			source: "calculated from " + a.source, prior: a.prior})
	}
	return out
}
