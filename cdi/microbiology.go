package cdi

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// Culture readings: what a microbiology result says, read as a microbiologist reports it.
const (
	// CultureSignificant: an organism in a significant amount for the specimen (urine at or
	// above the colony count of the rules; any true pathogen in blood).
	CultureSignificant = "significant"
	// CultureInsignificant: growth below the specimen's significant count ("< 10,000 CFU/mL").
	CultureInsignificant = "insignificant"
	// CultureNoGrowth: no growth, negative.
	CultureNoGrowth = "no_growth"
	// CultureContaminant: mixed flora, skin flora, a single blood culture set of a skin
	// commensal.
	CultureContaminant = "contaminant"
	// CultureColonization: colonisation, or an organism that is colonisation on this
	// specimen (yeast in urine).
	CultureColonization = "colonization"
	// CulturePending: not resulted yet.
	CulturePending = "pending"
	// CultureUnread: nothing the vocabulary knows (an order, a report without a result).
	CultureUnread = "unread"
)

var cultureReadings = []string{CultureSignificant, CultureInsignificant, CultureNoGrowth, CultureContaminant,
	CultureColonization, CulturePending, CultureUnread}

// Organism behaviours on a specimen (OrganismClass.In).
const (
	organismColonization         = "colonization"
	organismContaminant          = "contaminant"
	organismContaminantUnlessTwo = "contaminant_unless_repeated"
	organismSignificant          = "significant"
	defaultRepeatHours           = 48
	prophylaxisWindowHours       = 23.5
)

// Microbiology is the vocabulary a culture or microbiology result is read with (see
// RULES.md): phrases of each reading, the organisms and how each behaves on a specimen, and
// the colony counts that make growth significant per specimen.
type Microbiology struct {
	// NoGrowth, Contaminant, Colonization, Insignificant and Pending are phrases of those
	// readings ("no growth", "mixed flora", "colonization", "insignificant growth",
	// "pending").
	NoGrowth      []string `json:"no_growth"`
	Contaminant   []string `json:"contaminant"`
	Colonization  []string `json:"colonization"`
	Insignificant []string `json:"insignificant"`
	Pending       []string `json:"pending"`
	// Positive are phrases of growth whose organism is not named ("positive", "gram
	// negative rods").
	Positive []string `json:"positive"`
	// CountUnits are the units of a colony count ("CFU", "organisms/mL"): a number right
	// before one is a count.
	CountUnits []string `json:"count_units"`
	// SignificantCount is the colony count (per mL) from which growth is significant, per
	// specimen class (urine 100000); a specimen without one has no count threshold.
	SignificantCount map[string]float64 `json:"significant_count,omitempty"`
	// Organisms are the organism classes by id.
	Organisms map[string]*OrganismClass `json:"organisms"`
	// RepeatHours: a skin commensal in blood is significant when another blood culture
	// grows it within this many hours (default 48).
	RepeatHours float64 `json:"repeat_hours,omitempty"`

	noGrowth, contaminant, colonization, insignificant, pending, positive, units []string
	orgIDs                                                                       []string
}

// OrganismClass is a group of organisms that a report names and that behave alike.
type OrganismClass struct {
	// Names are the organisms' names and abbreviations ("Escherichia coli", "E. coli").
	Names []string `json:"names"`
	// In is the reading of the organism on a specimen class, when not significant:
	// "colonization" (yeast in urine), "contaminant" (coagulase-negative staphylococci in
	// urine), "contaminant_unless_repeated" (a skin commensal in one blood culture set).
	In map[string]string `json:"in,omitempty"`

	names []string
}

// ProphylaxisRegimen is an antimicrobial regimen that prevents infection rather than treats
// it, recognised by the drug, its dose and its frequency (once-daily TMP-SMX, SBP
// prophylaxis with a fluoroquinolone once daily). A selector with exclude_prophylaxis drops
// its administrations.
type ProphylaxisRegimen struct {
	Label string `json:"label"`
	// Names are words of the medication name.
	Names []string `json:"names"`
	// MaxDose is the highest single dose of the regimen, in DoseUnit, read from the dose
	// ("500 mg"); 0: any dose.
	MaxDose  float64 `json:"max_dose,omitempty"`
	DoseUnit string  `json:"dose_unit,omitempty"`
	// MaxPerDay is the most administrations of the drug in any 24 hours.
	MaxPerDay int `json:"max_per_day"`
	// FrequencyAny: the dose, name or context must state one of these frequencies (three
	// times weekly) — for drugs whose daily dosing is also a treatment.
	FrequencyAny []string `json:"frequency_any,omitempty"`
	// ExcludeRoutes: administrations by these routes are never this regimen (IV TMP-SMX
	// treats).
	ExcludeRoutes []string `json:"exclude_routes,omitempty"`
	// When restricts the regimen to patients the criterion holds for (SBP prophylaxis:
	// chronic liver disease).
	When *Criterion `json:"when,omitempty"`

	names, freq, routes []string
}

// ProphylaxisFrequency names the frequencies of a medication order: Daily (once a day or
// less often) and More (more than once a day).
type ProphylaxisFrequency struct {
	Daily []string `json:"daily"`
	More  []string `json:"more"`
}

func (m *Microbiology) compile(r *Rules) error {
	if m == nil {
		return nil
	}
	m.noGrowth, m.contaminant, m.colonization = normAll(m.NoGrowth), normAll(m.Contaminant), normAll(m.Colonization)
	m.insignificant, m.pending, m.positive = normAll(m.Insignificant), normAll(m.Pending), normAll(m.Positive)
	m.units = nil
	for _, u := range m.CountUnits {
		if u = strings.ToLower(strings.TrimSpace(u)); u != "" {
			m.units = append(m.units, u)
		}
	}
	for sp, n := range m.SignificantCount {
		if r.Specimens[sp] == nil || n <= 0 {
			return fmt.Errorf("significant_count.%s: unknown specimen or count not positive", sp)
		}
	}
	if m.RepeatHours < 0 {
		return errors.New("repeat_hours must not be negative")
	}
	m.orgIDs = slices.Sorted(maps.Keys(m.Organisms))
	for _, id := range m.orgIDs {
		o := m.Organisms[id]
		if o == nil || len(o.Names) == 0 {
			return fmt.Errorf("organisms.%s: names are required", id)
		}
		o.names = normAll(o.Names)
		for sp, how := range o.In {
			if r.Specimens[sp] == nil {
				return fmt.Errorf("organisms.%s.in: unknown specimen %q", id, sp)
			}
			switch how {
			case organismColonization, organismContaminant, organismContaminantUnlessTwo, organismSignificant:
			default:
				return fmt.Errorf("organisms.%s.in.%s: unknown %q (colonization, contaminant, contaminant_unless_repeated, significant)", id, sp, how)
			}
		}
	}
	return nil
}

func (p *ProphylaxisRegimen) compile(r *Rules) error {
	if p.Label == "" || len(p.Names) == 0 {
		return errors.New("label and names are required")
	}
	if p.MaxPerDay < 1 {
		return errors.New("max_per_day must be at least 1")
	}
	if p.MaxDose < 0 || p.MaxDose > 0 && p.DoseUnit == "" {
		return errors.New("max_dose needs a dose_unit and must not be negative")
	}
	p.names, p.freq, p.routes = normAll(p.Names), normAll(p.FrequencyAny), normAll(p.ExcludeRoutes)
	if p.When != nil {
		if err := p.When.compile(r, 0); err != nil {
			return fmt.Errorf("when: %w", err)
		}
	}
	return nil
}

// countRe reads a colony count ending right before a count unit: "< 10,000", ">100,000",
// "10,000-50,000", "10^5", "1 x 10^5", "50K".
var countRe = regexp.MustCompile(`(?i)(<=|>=|<|>|≥|≤|less than|greater than|more than|fewer than|up to)?\s*` +
	`(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(\s*k\b|\s*(?:x|\*)\s*10\s*(?:\^|\*\*|e)?\s*\d+|\s*(?:\^|\*\*)\s*\d+|e\d+)?` +
	`(?:\s*(?:-|–|to)\s*(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(\s*k\b|\s*(?:x|\*)\s*10\s*(?:\^|\*\*|e)?\s*\d+|\s*(?:\^|\*\*)\s*\d+|e\d+)?)?\s*$`)

// bareCountRe reads a colony count written without its unit ("ESCHERICHIA COLI >100,000").
var bareCountRe = regexp.MustCompile(strings.TrimSuffix(countRe.String(), `\s*$`) + `(?:\s|$|[.;,)])`)

var expRe = regexp.MustCompile(`\d+$`)

// countValue reads one number with its multiplier.
func countValue(num, mult string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.ReplaceAll(num, ",", ""), 64)
	if err != nil {
		return 0, false
	}
	m := strings.ToLower(strings.TrimSpace(mult))
	switch {
	case m == "":
	case m == "k":
		v *= 1000
	case strings.HasPrefix(m, "^") || strings.HasPrefix(m, "**"): // 10^5
		e, _ := strconv.Atoi(expRe.FindString(m))
		v = math.Pow(v, float64(e))
	default: // 1 x 10^5, 1e5
		e, _ := strconv.Atoi(expRe.FindString(m))
		v *= math.Pow(10, float64(e))
	}
	return v, true
}

// colonyCounts returns the [low, high] ranges of the colony counts a report gives.
func (m *Microbiology) colonyCounts(text string) [][2]float64 {
	low := strings.ToLower(text)
	var out [][2]float64
	for _, u := range m.units {
		from := 0
		for {
			i := strings.Index(low[from:], u)
			if i < 0 {
				break
			}
			i += from
			from = i + len(u)
			prefix := low[max(0, i-48):i]
			g := countRe.FindStringSubmatch(prefix)
			if g == nil {
				continue
			}
			if r, ok := countRange(g); ok {
				out = append(out, r)
			}
		}
	}
	if len(out) == 0 { // a count without its unit: a number of at least 1,000 in the report
		for _, g := range bareCountRe.FindAllStringSubmatch(low, -1) {
			if r, ok := countRange(g); ok && r[1] >= 1000 {
				out = append(out, r)
			}
		}
	}
	return out
}

// countRange reads a count match of countRe or bareCountRe as a [low, high] range.
func countRange(g []string) ([2]float64, bool) {
	a, ok := countValue(g[2], g[3])
	if !ok {
		return [2]float64{}, false
	}
	r := [2]float64{a, a}
	if g[4] != "" {
		if b, ok := countValue(g[4], g[5]); ok {
			r = [2]float64{math.Min(a, b), math.Max(a, b)}
		}
	}
	switch strings.TrimSpace(g[1]) {
	case "<", "<=", "≤", "less than", "fewer than", "up to":
		r = [2]float64{0, r[1]}
	case ">", ">=", "≥", "greater than", "more than":
		r = [2]float64{r[0], math.Inf(1)}
	}
	return r, true
}

// readCultures reads every lab result with a text of the encounter as a culture report.
func (fs *facts) readCultures(r *Rules) {
	m := r.Microbiology
	if m == nil {
		return
	}
	type found struct {
		org  string
		at   time.Time
		spec string
	}
	var growth []found // organisms found, for repeated blood cultures
	orgs := make([][]string, len(fs.items))
	texts := make([]string, len(fs.items))
	for i := range fs.items {
		f := &fs.items[i]
		if f.ev.Kind != claim.KindLab {
			continue
		}
		if texts[i] = cultureText(f); texts[i] == "" {
			continue
		}
		cl := splitClauses(texts[i])
		for _, id := range m.orgIDs {
			if _, ok := findPhrase(cl, m.Organisms[id].names, r); ok {
				orgs[i] = append(orgs[i], id)
				growth = append(growth, found{id, f.ev.Time, f.specimen})
			}
		}
	}
	repeat := m.RepeatHours
	if repeat == 0 {
		repeat = defaultRepeatHours
	}
	for i := range fs.items {
		f := &fs.items[i]
		if texts[i] == "" {
			continue
		}
		f.culture = m.read(f, texts[i], orgs[i], r, func(org, spec string) bool {
			n := 0
			for _, g := range growth {
				if g.org == org && r.specimens.within(g.spec, []string{spec}) &&
					(f.ev.Time.IsZero() || g.at.IsZero() || math.Abs(g.at.Sub(f.ev.Time).Hours()) <= repeat+eps) {
					n++
				}
			}
			return n >= 2
		})
	}
}

// cultureText is the report a lab result gives as a culture: its name (which may name the
// organism: "URINE CULTURE - ESCHERICHIA COLI") with its text, or with a count in a count
// unit; "" when it gives none.
func cultureText(f *fact) string {
	v := f.ev.Text
	switch {
	case f.ev.Value.IsText:
		v = f.ev.Value.Text
	case f.ev.Value.IsNum && containsAny(strings.ToLower(f.ev.Unit), []string{"cfu", "col", "org"}):
		v = f.ev.Value.String() + " " + f.ev.Unit
	}
	if strings.TrimSpace(v) == "" {
		return ""
	}
	if f.ev.Name == "" {
		return v
	}
	return f.ev.Name + ". " + v
}

// read returns the reading of one result (its culture text), given the organism classes it
// names; repeated
// reports whether the organism grew in two cultures of a specimen class near in time.
func (m *Microbiology) read(f *fact, text string, orgs []string, r *Rules, repeated func(org, specimen string) bool) string {
	cl := splitClauses(text)
	has := func(phrases []string) bool { _, ok := findPhrase(cl, phrases, r); return ok }
	threshold, counted := m.threshold(f.specimen, r)
	counts := m.colonyCounts(text)
	amount := CultureSignificant // the growth reported, by its count
	if counted && len(counts) > 0 {
		amount = CultureInsignificant
		for _, c := range counts {
			if c[0] >= threshold-eps {
				amount = CultureSignificant
			}
		}
	}
	rank := map[string]int{CultureSignificant: 5, CultureColonization: 4, CultureContaminant: 3, CultureInsignificant: 2}
	best := ""
	for _, id := range orgs {
		reading := amount
		if how, spec := m.behaviour(m.Organisms[id], f.specimen, r); how != "" && how != organismSignificant {
			switch how {
			case organismColonization:
				reading = CultureColonization
			case organismContaminant:
				reading = CultureContaminant
			case organismContaminantUnlessTwo:
				if !repeated(id, spec) {
					reading = CultureContaminant
				}
			}
			if amount == CultureInsignificant && reading != CultureSignificant {
				reading = CultureInsignificant
			}
		}
		if rank[reading] > rank[best] {
			best = reading
		}
	}
	switch {
	case best != "":
		return best
	case has(m.contaminant):
		return CultureContaminant
	case has(m.colonization):
		return CultureColonization
	case has(m.insignificant):
		return CultureInsignificant
	case has(m.positive):
		return amount
	case len(counts) > 0:
		return amount
	case has(m.noGrowth):
		return CultureNoGrowth
	case has(m.pending):
		return CulturePending
	}
	return CultureUnread
}

// threshold returns the significant colony count of a specimen class (or of the class it
// refines).
func (m *Microbiology) threshold(spec string, r *Rules) (float64, bool) {
	for s := spec; s != "" && r.Specimens[s] != nil; s = r.Specimens[s].Parent {
		if n, ok := m.SignificantCount[s]; ok {
			return n, true
		}
	}
	return 0, false
}

// behaviour returns how an organism class behaves on a specimen, and the class it was
// found for.
func (m *Microbiology) behaviour(o *OrganismClass, spec string, r *Rules) (string, string) {
	for s := spec; s != "" && r.Specimens[s] != nil; s = r.Specimens[s].Parent {
		if how, ok := o.In[s]; ok {
			return how, s
		}
	}
	return "", ""
}

// prophylactic returns, once per review, the evidence indexes of the antimicrobial
// administrations that belong to a prophylaxis regimen, with the regimen's label.
func (s *indicators) prophylactic() map[int]string {
	if s.prophylaxis != nil {
		return s.prophylaxis
	}
	s.prophylaxis = map[int]string{}
	fr := &s.rules.ProphylaxisFrequency
	daily, more := normAll(fr.Daily), normAll(fr.More)
	for ri := range s.rules.Prophylaxis {
		p := &s.rules.Prophylaxis[ri]
		if p.When != nil && !p.When.eval(s) {
			continue
		}
		var doses []*fact
		for i := range s.facts.items {
			f := &s.facts.items[i]
			if f.ev.Kind == claim.KindMed && containsAny(f.name, p.names) && !containsAny(f.route, p.routes) {
				doses = append(doses, f)
			}
		}
		perDay := maxPerDay(doses)
		for _, f := range doses {
			words := f.name + f.dose + f.context
			switch {
			case containsAny(words, more):
				continue
			case len(p.freq) > 0 && !containsAny(words, p.freq):
				continue
			case p.MaxDose > 0:
				n, u, ok := parseDose(f.ev.Dose)
				if !ok || normUnit(u) != normUnit(p.DoseUnit) || n > p.MaxDose+eps {
					continue
				}
			}
			if containsAny(words, daily) || len(p.freq) > 0 || len(doses) >= 2 && perDay <= p.MaxPerDay {
				if _, done := s.prophylaxis[f.idx]; !done {
					s.prophylaxis[f.idx] = p.Label
				}
			}
		}
	}
	return s.prophylaxis
}

// maxPerDay is the most administrations within any 24 hours.
func maxPerDay(doses []*fact) int {
	var ts []time.Time
	for _, f := range doses {
		if !f.ev.Time.IsZero() {
			ts = append(ts, f.ev.Time)
		}
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best := 0
	for i := range ts {
		n := 0
		for j := i; j < len(ts) && ts[j].Sub(ts[i]).Hours() < prophylaxisWindowHours; j++ {
			n++
		}
		best = max(best, n)
	}
	if len(ts) == 0 {
		return len(doses)
	}
	return best
}

// withReading adds the reading of a culture report to a citation's context ("read as
// significant growth").
func withReading(context, reading string) string {
	what := map[string]string{CultureSignificant: "significant growth", CultureInsignificant: "insignificant growth",
		CultureNoGrowth: "no growth", CultureContaminant: "contaminant", CultureColonization: "colonization",
		CulturePending: "pending"}[reading]
	switch {
	case what == "":
		return context
	case context == "":
		return "read as " + what
	}
	return context + "; read as " + what
}
