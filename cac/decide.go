package cac

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/msdrg-cdi/drg/notes"
)

// coded is a code the coding run holds, with what supports it.
type coded struct {
	code    string
	why     string
	hits    []*hit // supporting mentions, best first
	all     []*hit // every supporting mention
	poaN    bool
	rank    int // principal-diagnosis rank: lower is more likely the reason for admission
	pos     int // sequence position
	symptom bool
	removed string // why a convention removed it
	// firstOver: this code is sequenced before a principal diagnosis matching these prefixes
	firstOver []string
}

type coding struct {
	e         *Engine
	views     []*noteView
	hits      []*hit
	dx        []*coded
	pr        []*coded
	notCoded  []NotCoded
	lastProv  int // order of the last provider note
	firstProv int
	hours     float64
	// finalList: a provider's final diagnosis list exists
	finalList bool
}

func (c *coding) run() {
	c.lastProv, c.firstProv = -1, 1<<30
	for _, v := range c.views {
		if v.provider && !v.report {
			c.lastProv = max(c.lastProv, v.order)
			c.firstProv = min(c.firstProv, v.order)
		}
	}
	c.hours = c.ventilationHours()
	for _, h := range c.hits {
		if h.class == "final" {
			c.finalList = true
		}
	}
	byConcept := map[int][]*hit{}
	var order []int
	for _, h := range c.hits {
		switch h.kind {
		case 'd':
			cc := &c.e.concepts[h.idx]
			h.code, h.refined = refineCode(cc.code, cc.refine, h.scope(), -1, h.m.Assertion)
			if _, ok := byConcept[h.idx]; !ok {
				order = append(order, h.idx)
			}
			byConcept[h.idx] = append(byConcept[h.idx], h)
		case 'p':
			p := &c.e.procs[h.idx]
			h.code, h.refIdx = refineAt(p.code, p.refine, h.scope(), c.hours, h.m.Assertion)
			h.refined = h.refIdx >= 0
		}
	}
	for _, i := range order {
		c.decideConcept(&c.e.concepts[i], byConcept[i])
	}
	c.indexFallback()
	c.procedures()
	c.longTermDrugs()
	c.derived()
	c.integral()
	c.conventions()
	c.pregnancy()
	c.sequence()
}

// provider reports a mention a coder can code from: a provider's note that is not a report.
func (h *hit) provider() bool { return h.note.provider && !h.note.report }

// resolvedTrigger: a "resolved" condition was present during the stay.
func resolvedTrigger(t string) bool {
	t = strings.ToLower(t)
	return strings.Contains(t, "resol") || strings.Contains(t, "improv")
}

// decideConcept applies the coding policy to the mentions of one diagnosis concept.
func (c *coding) decideConcept(cc *compiledConcept, hs []*hit) {
	var prov []*hit
	for _, h := range hs {
		if h.provider() {
			prov = append(prov, h)
		}
	}
	if len(prov) == 0 {
		c.skip(hs[0], ReasonNonProvider)
		return
	}
	// the decisive mention: the last assertion about the condition in an assessment, a
	// hospital course or a diagnosis list, in time order
	var last *hit
	var support []*hit
	// within a note, its diagnosis list is the provider's conclusion: it speaks after the
	// narrative ("no recurrent syncope on telemetry" does not undo "1. Syncope")
	prov = slices.Clone(prov)
	slices.SortStableFunc(prov, func(a, b *hit) int {
		if a.note.order != b.note.order {
			return a.note.order - b.note.order
		}
		fa, fb := a.class == "final", b.class == "final"
		switch {
		case fa && !fb:
			return 1
		case fb && !fa:
			return -1
		}
		return a.m.Start - b.m.Start
	})
	established := false // a present mention so far: "resolved" then means treated and better
	for _, h := range prov {
		if h.class != "final" && h.class != "assess" {
			continue
		}
		a := h.m.Assertion
		switch {
		case (a == notes.Present || a == notes.Uncertain) && c.cancerHistory(cc, h):
			a = notes.Historical
			h.m.Assertion = notes.Historical
		case a == notes.Historical && strings.HasPrefix(cc.code, "C") && h.scope().hasAny(c.e.active):
			a = notes.Present // "status post lumpectomy, receiving adjuvant chemotherapy"
			h.m.Assertion = notes.Present
		}
		if a == notes.Historical && resolvedTrigger(h.m.Trigger) && !c.cancerHistory(cc, h) {
			if established {
				a = notes.Present
			} else {
				a = notes.RuledOut // "ileus concern resolved" after "?post-op ileus"
				h.m.Assertion = notes.RuledOut
			}
		}
		if a == notes.Present {
			established = true
		}
		switch a {
		case notes.Present, notes.Uncertain:
			last = h
			support = append(support, h)
		case notes.Negated, notes.RuledOut:
			last = h
		case notes.Historical:
			if cc.Class == "status" {
				last = h
				support = append(support, h)
			}
		}
	}
	treated := c.treated(cc)
	switch {
	case last == nil:
		c.undecided(cc, prov, treated)
		return
	case (last.m.Assertion == notes.Negated || last.m.Assertion == notes.RuledOut) && c.otherCodeStands(last, support):
		// "aspiration pneumonia ruled out" rules out that pneumonia, not the community-acquired
		// one the same note diagnoses; "choledocholithiasis ruled out" leaves the calculous
		// cholecystitis of the diagnosis list
		c.skip(last, string(last.m.Assertion))
		support = slices.DeleteFunc(support, func(h *hit) bool { return h.code == last.code })
		last = support[len(support)-1]
	case last.m.Assertion == notes.Negated || last.m.Assertion == notes.RuledOut:
		c.skip(last, string(last.m.Assertion))
		return
	case last.m.Assertion == notes.Uncertain && !last.note.final && last.note.order != c.lastProv && last.class != "final":
		c.skip(last, string(notes.Uncertain))
		return
	}
	if cc.Class == "symptom" || cc.Class == "finding" {
		// listed by a provider at discharge; the reason for admission counts only when the
		// stay has no final diagnosis list (a symptom the work-up explained is not coded)
		listed := false
		for _, h := range support {
			if h.class == "final" || !c.finalList && (h.section == "reason for admission" || h.section == "chief complaint" && cc.Class == "symptom") {
				listed = true
			}
		}
		if !listed {
			c.skip(last, ReasonNotListed)
			return
		}
	}
	c.addDx(cc, support, "")
}

// otherCodeStands reports a mention of the concept with another code, present or uncertain,
// in the note of the ruling-out mention or a later one.
func (c *coding) otherCodeStands(out *hit, support []*hit) bool {
	for _, h := range support {
		if h.code != "" && h.code != out.code && h.note.order >= out.note.order {
			return true
		}
	}
	return false
}

// undecided: the concept appears only in histories, medication lists or exam and result
// sections of provider notes.
func (c *coding) undecided(cc *compiledConcept, prov []*hit, treated bool) {
	var hist []*hit
	for _, h := range prov {
		if h.class == "history" || h.class == "meds" || h.m.Assertion == notes.Historical && h.class != "other" {
			hist = append(hist, h)
		}
	}
	if len(hist) == 0 {
		c.skip(prov[len(prov)-1], reasonOf(prov[len(prov)-1], ReasonNotListed))
		return
	}
	var current, past []*hit
	for _, h := range hist {
		switch a := h.m.Assertion; {
		case (a == notes.Present || a == notes.Uncertain) && strings.HasPrefix(cc.code, "C") && h.class == "history" && (c.cancerHistory(cc, h) || !h.scope().hasAny(c.e.active)):
			past = append(past, h) // a malignancy in the past history is history unless active (I.C.2.d)
		case a == notes.Present || a == notes.Uncertain:
			current = append(current, h)
		case a == notes.Historical && !resolvedTrigger(h.m.Trigger) && (cc.Chronic || cc.Class == "status") && !c.pastOnly(cc, h):
			current = append(current, h) // "h/o HTN" on lisinopril is current hypertension
		case a == notes.Historical:
			past = append(past, h)
		}
	}
	switch {
	case cc.Class == "status" && len(current)+len(past) > 0:
		c.addDx(cc, append(current, past...), "status documented in the history")
	case cc.Chronic && len(current) > 0 && treated:
		c.addDx(cc, current, "chronic condition documented in the history and still treated (Section III)")
	case cc.history != "" && len(past) > 0:
		c.add(&c.dx, &coded{code: cc.history, hits: past, why: "personal history: the condition is not current (Section I.C.21.c.4)"})
	case len(past) > 0:
		c.skip(past[0], string(notes.Historical))
	case len(current) > 0:
		c.skip(current[0], ReasonNotListed)
	default:
		c.skip(hist[0], reasonOf(hist[0], string(notes.Historical)))
	}
}

// pastOnly: a chronic condition written as history is past when its sentence says it
// resolved or was treated to no evidence of disease; a malignancy written as history is past
// unless the sentence says it is active (Section I.C.2.d).
func (c *coding) pastOnly(cc *compiledConcept, h *hit) bool {
	sc := h.scope()
	if sc.hasAny(c.e.resolved) {
		return true
	}
	return strings.HasPrefix(cc.code, "C") && !hematologic(cc.code) && !sc.hasAny(c.e.active)
}

// hematologic: lymphoma, leukemia and myeloma (C81–C96) "in remission" have codes of their own;
// the remission is not history.
func hematologic(code string) bool { return code >= "C81" && code < "C97" }

// cancerHistory: a malignancy whose sentence says its treatment is over and it has not
// come back ("finished treatment in 2015", "no evidence of recurrence") is history, wherever
// the sentence stands, unless the sentence says it is active (Section I.C.2.d).
func (c *coding) cancerHistory(cc *compiledConcept, h *hit) bool {
	cancer := strings.HasPrefix(cc.code, "C") && !hematologic(cc.code)
	if !cancer && !hasPrefixAny(cc.code, c.e.conv.HistoryWhenResolved) {
		return false
	}
	sc := h.scope()
	return sc.hasAny(c.e.resolved) && !sc.hasAny(c.e.active)
}

func reasonOf(h *hit, def string) string {
	switch h.m.Assertion {
	case notes.Negated, notes.Family, notes.Hypothetical, notes.RuledOut, notes.Uncertain:
		return string(h.m.Assertion)
	case notes.Historical:
		return string(notes.Historical)
	}
	return def
}

// treated reports one of the concept's drugs in a provider note.
func (c *coding) treated(cc *compiledConcept) bool {
	if len(cc.meds) == 0 {
		return false
	}
	for _, h := range c.hits {
		if h.kind == 'm' && h.provider() && cc.meds[c.e.meds[h.idx].name] && h.m.Assertion != notes.Negated {
			return true
		}
	}
	return false
}

func (c *coding) addDx(cc *compiledConcept, support []*hit, why string) {
	// The latest note that names the condition decides its codes: where notes disagree
	// ("chronic afib" in the H&P, "persistent atrial fibrillation" at discharge; a "posterior
	// circulation?" TIA in a progress note, a "possible TIA" at discharge) the later wins.
	// Within that note every detailed code is kept (diabetes with hyperglycemia and with
	// neuropathy; "pneumococcal" bacteremia and pneumonia) and plain mentions give way to them.
	decisive, refined := -1, false
	for _, h := range support {
		if h.code != "" && h.note.order > decisive {
			decisive = h.note.order
		}
	}
	for _, h := range support {
		if h.code != "" && h.note.order == decisive && h.refined {
			refined = true
		}
	}
	if decisive < 0 {
		c.skip(support[len(support)-1], ReasonUnspecified)
		return
	}
	codes, byCode := groupBy(support, func(h *hit) (string, bool) {
		return h.code, h.code != "" && h.note.order == decisive && (!refined || h.refined)
	})
	for _, code := range codes {
		hs := byCode[code]
		w := why
		if w == "" {
			w = c.whyOf(hs)
		}
		cd := &coded{code: code, why: w, hits: bestHits(hs), all: hs, symptom: cc.Class == "symptom" || cc.Class == "finding"}
		cd.poaN = c.poaNot(hs)
		c.add(&c.dx, cd)
	}
}

// add merges a code into a list (one entry per code, supports joined).
func (c *coding) add(list *[]*coded, cd *coded) {
	for _, x := range *list {
		if x.code == cd.code {
			x.hits = bestHits(append(x.hits, cd.hits...))
			x.all = append(x.all, cd.all...)
			x.poaN = x.poaN && cd.poaN
			return
		}
	}
	if cd.all == nil {
		cd.all = cd.hits
	}
	*list = append(*list, cd)
}

// bestHits orders supporting mentions: diagnosis lists first, then later notes; three at most.
func bestHits(hs []*hit) []*hit {
	hs = slices.Clone(hs)
	slices.SortStableFunc(hs, func(a, b *hit) int {
		ra, rb := classRank(a.class), classRank(b.class)
		if ra != rb {
			return ra - rb
		}
		return b.note.order - a.note.order
	})
	hs = slices.CompactFunc(hs, func(a, b *hit) bool { return a == b })
	if len(hs) > 3 {
		hs = hs[:3]
	}
	return hs
}

func classRank(c string) int {
	switch c {
	case "final":
		return 0
	case "assess":
		return 1
	case "history":
		return 2
	case "meds":
		return 3
	}
	return 4
}

// whoWhere names a mention's note and section.
func (c *coding) whoWhere(h *hit) string {
	who := "a provider note"
	if h.note.final {
		who = "the discharge summary"
	}
	if h.note.doc.Note.Type != "" {
		who = "the " + strings.ToLower(h.note.doc.Note.Type)
	}
	where := h.section
	if where == "" || where == "other" {
		where = "text"
	}
	return fmt.Sprintf("%s (%s)", who, where)
}

func (c *coding) whyOf(support []*hit) string {
	h := support[len(support)-1]
	s := "documented in " + c.whoWhere(h)
	if h.m.Assertion == notes.Uncertain {
		s += "; uncertain diagnosis documented at discharge, coded as if established (Sections II.H, III.C)"
	}
	return s
}

// poaNot: the condition arose after admission — the provider says so ("developed on
// hospital day 2", "postoperative") and the earliest provider note does not mention it.
func (c *coding) poaNot(support []*hit) bool {
	first := support[0]
	for _, h := range support {
		if h.note.order == c.firstProv && len(c.views) > 1 {
			return false
		}
		if h.before(first) {
			first = h
		}
	}
	for _, h := range support {
		if h.scope().hasAny(c.e.poaNot) {
			return true
		}
	}
	return false
}

func (c *coding) skip(h *hit, reason string) {
	code := h.code
	c.notCoded = append(c.notCoded, NotCoded{Note: h.note.doc.Note.ID, Start: h.m.Start, End: h.m.End, Text: h.m.Text, Reason: reason, Code: code})
}

// procedures: performed during this stay, as a provider note says. When a procedure is
// named several times, the mentions that state its details (a refinement) choose its code.
func (c *coding) procedures() {
	var performed []*hit
	for _, h := range c.hits {
		if h.kind != 'p' {
			continue
		}
		if !h.note.provider || h.note.report && !strings.Contains(strings.ToLower(h.note.doc.Note.Type), "procedure") {
			continue
		}
		switch {
		case h.m.Assertion != notes.Present:
			c.skip(h, string(h.m.Assertion))
			continue
		case h.class == "history" || h.class == "meds" || h.class == "other" || h.class == "final":
			// a diagnosis list names devices and past operations as statuses
			if h.section == "past surgical history" || h.section == "past medical history" {
				c.skip(h, string(notes.Historical))
			}
			continue
		case h.code == "":
			c.skip(h, ReasonUnspecified)
			continue
		case c.pastYear(h):
			c.skip(h, string(notes.Historical)) // "cath 2019 without obstructive CAD"
			continue
		}
		performed = append(performed, h)
	}
	order, byProc := groupBy(performed, func(h *hit) (int, bool) { return h.idx, true })
	for _, i := range order {
		// the mention that states the most detail chooses the code ("right total knee
		// arthroplasty, cemented" in the operative note over "POD1 R TKA")
		hs := byProc[i]
		best := -1
		for _, h := range hs {
			if h.refIdx >= 0 && (best < 0 || h.refIdx < best) {
				best = h.refIdx
			}
		}
		for _, h := range hs {
			if best >= 0 && h.refIdx != best {
				continue
			}
			why := c.e.procs[h.idx].Why
			if why == "" {
				why = "performed during this stay"
			}
			why += "; documented in " + c.whoWhere(h)
			c.add(&c.pr, &coded{code: h.code, hits: []*hit{h}, why: why})
		}
	}
}

// longTermDrugs: Z79 codes of drugs the patient takes at home or leaves on.
func (c *coding) longTermDrugs() {
	for _, h := range c.hits {
		if h.kind != 'm' || !h.provider() {
			continue
		}
		med := c.e.meds[h.idx]
		if med.code == "" || h.m.Assertion == notes.Negated || h.m.Assertion == notes.Hypothetical || h.m.Assertion == notes.Family {
			continue
		}
		if c.temporary(h) {
			continue
		}
		listed := h.class == "meds" || c.inMedList(h)
		if len(med.sections) > 0 {
			listed = slices.Contains(med.sections, h.section)
		}
		if !listed && !c.itemScope(h).hasAny(c.e.chronicCues) {
			continue
		}
		c.add(&c.dx, &coded{code: med.code, hits: []*hit{h}, why: "long-term (current) drug use documented (policy item 6, Section I.C.21.c.3)"})
	}
}

// temporary reports a drug given for a short time: a temporary cue ("x 5 days", "taper",
// "drip") in the drug's own item of a list — between the commas around it — or, outside a
// list, in its sentence.
func (c *coding) temporary(h *hit) bool { return c.itemScope(h).hasAny(c.e.tempCue) }

// itemScope is the drug's own item of a list: the words between the commas, semicolons or
// line ends around it, within its sentence.
func (c *coding) itemScope(h *hit) *scope {
	text := h.note.doc.Note.Text
	sent := h.note.doc.Sentences[h.m.Sentence]
	lo, hi := itemBounds(text, sent.Start, sent.End, h.m.Start, h.m.End)
	words := notes.Words(text[lo:hi])
	toks := make([]notes.Token, len(words))
	for i, w := range words {
		toks[i] = notes.Token{Norm: w}
	}
	return newScope(nil, 0, 0, toks)
}

// inMedList reports a drug in a numbered or bulleted list whose lead-in sentence names
// medications ("… to continue her previous home medications, which are: 1. Actos 45 mg").
func (c *coding) inMedList(h *hit) bool {
	d := h.note.doc
	if !d.Sentences[h.m.Sentence].ListItem {
		return false
	}
	for i := h.m.Sentence - 1; i >= 0; i-- {
		s := d.Sentences[i]
		if s.Section != d.Sentences[h.m.Sentence].Section {
			return false
		}
		if s.ListItem {
			continue
		}
		for _, t := range d.Tokens[s.TokStart:s.TokEnd] {
			if t.Norm == "medications" || t.Norm == "meds" || t.Norm == "medication" {
				return true
			}
		}
		return false
	}
	return false
}

// groupBy groups hits by key (those whose key is not ok are left out), keys in first-seen
// order.
func groupBy[K comparable](hs []*hit, key func(*hit) (K, bool)) ([]K, map[K][]*hit) {
	var order []K
	groups := map[K][]*hit{}
	for _, h := range hs {
		k, ok := key(h)
		if !ok {
			continue
		}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], h)
	}
	return order, groups
}

// pastYear reports a bare year before the note's own in the procedure's list item ("cath
// 2019", "TKA in 2022", "CABG 6/2021"): a past operation, not one of this stay. A full date
// ("placed on 09/05/2007") is the procedure's date and does not count: transcriptions keep
// their original dates.
func (c *coding) pastYear(h *hit) bool {
	if h.note.doc.Note.Time.IsZero() {
		return false
	}
	year := h.note.doc.Note.Time.Year()
	text := h.note.doc.Note.Text
	sent := h.note.doc.Sentences[h.m.Sentence]
	lo, hi := itemBounds(text, sent.Start, sent.End, h.m.Start, h.m.End)
	for _, m := range bareYear.FindAllStringSubmatch(text[lo:hi], -1) {
		if y, _ := strconv.Atoi(m[2]); y >= 1950 && y < year {
			return true
		}
	}
	return false
}

// bareYear is a year not preceded by a day and month ("2019", "6/2021", not "09/05/2007").
var bareYear = regexp.MustCompile(`(^|[^/\d]|[^/\d]\d{1,2}/)((?:19|20)\d\d)\b`)

// itemBounds widens [lo, hi) to the list item around it: up to the commas, semicolons or line
// ends, within the sentence and at most itemReach bytes on each side.
func itemBounds(text string, sentStart, sentEnd, lo, hi int) (int, int) {
	const itemReach = 300
	minLo, maxHi := max(sentStart, lo-itemReach), min(sentEnd, hi+itemReach)
	for lo > minLo && !strings.ContainsRune(",;\n", rune(text[lo-1])) {
		lo--
	}
	for hi < maxHi && !strings.ContainsRune(",;\n", rune(text[hi])) {
		hi++
	}
	return lo, hi
}
