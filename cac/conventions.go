package cac

import (
	"fmt"
	"slices"
	"strings"

	"github.com/msdrg-cdi/drg/notes"
)

func (c *coding) has(prefix string) bool {
	for _, d := range c.dx {
		if d.removed == "" && strings.HasPrefix(d.code, prefix) {
			return true
		}
	}
	return false
}

func (c *coding) hasAny(prefixes []string) bool {
	for _, p := range prefixes {
		if c.has(p) {
			return true
		}
	}
	return false
}

func (c *coding) hasProc(prefixes []string) bool {
	for _, p := range c.pr {
		if hasPrefixAny(p.code, prefixes) {
			return true
		}
	}
	return false
}

// derived adds the codes read from numeric findings: BMI (Z68) beside a provider-documented
// weight diagnosis (Section I.B.14), weeks of gestation (Z3A) and the outcome of delivery
// (Z37.0) on a delivery stay.
func (c *coding) derived() {
	// BMI is reported for adults, not in pregnancy (Section I.C.21.c.3)
	if (c.has("E66") || c.has("E43") || c.has("E44") || c.has("E46") || c.has("R636")) && !c.has("O") {
		if f, h := c.finding("bmi", true); f != nil {
			if code := bmiCode(f.Value); code != "" && c.valid(code) {
				c.add(&c.dx, &coded{code: code, hits: []*hit{h}, why: fmt.Sprintf("BMI %.1f with the provider-documented weight diagnosis (Section I.B.14)", f.Value)})
			}
		}
	}
	c.ulcerStage()
	if !c.has("O") {
		return
	}
	// the weeks at admission: the most advanced gestational age the notes state (earlier ages
	// are history: "GDM diagnosed at 26 weeks")
	if f, h := c.maxFinding("gestational_weeks"); f != nil {
		code := "Z3A00"
		switch w := int(f.Value); {
		case w >= 8 && w <= 42:
			code = fmt.Sprintf("Z3A%02d", w)
		case w > 42:
			code = "Z3A49"
		}
		if c.valid(code) {
			c.add(&c.dx, &coded{code: code, hits: []*hit{h}, why: "weeks of gestation on the obstetric stay (Section I.C.15.a.4)"})
		}
	}
	if c.hasProc([]string{"10D0", "10E0"}) {
		var hs []*hit
		for _, p := range c.pr {
			if hasPrefixAny(p.code, []string{"10D0", "10E0"}) {
				hs = append(hs, p.hits...)
			}
		}
		c.add(&c.dx, &coded{code: "Z370", hits: hs[:1], why: "outcome of delivery on every delivery stay: single live birth (Section I.C.15.b.5)"})
	}
}

func (c *coding) valid(code string) bool {
	_, billable, ok := c.e.dx(code)
	return ok && billable
}

// finding returns the last finding of a name in provider notes (non-report notes only when
// providerOnly), as a hit for the evidence.
func (c *coding) finding(name string, providerOnly bool) (*notes.Finding, *hit) {
	var best *notes.Finding
	var bv *noteView
	for _, v := range c.views {
		if providerOnly && (!v.provider || v.report) {
			continue
		}
		for i := range v.doc.Findings {
			f := &v.doc.Findings[i]
			if f.Name == name && (bv == nil || v.order >= bv.order) {
				best, bv = f, v
			}
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, findingHit(bv, best)
}

// maxFinding returns the finding of a name with the highest value in provider notes.
func (c *coding) maxFinding(name string) (*notes.Finding, *hit) {
	var best *notes.Finding
	var bv *noteView
	for _, v := range c.views {
		if !v.provider {
			continue
		}
		for i := range v.doc.Findings {
			f := &v.doc.Findings[i]
			if f.Name == name && f.Value <= 45 && (best == nil || f.Value > best.Value) {
				best, bv = f, v
			}
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, findingHit(bv, best)
}

func findingHit(v *noteView, f *notes.Finding) *hit {
	sent := 0
	for i, s := range v.doc.Sentences {
		if s.Start <= f.Start && f.Start < s.End {
			sent = i
		}
	}
	return &hit{note: v, m: notes.Mention{Start: f.Start, End: f.End, Text: f.Text, Sentence: sent, Assertion: notes.Present}, section: f.Section, class: classOf(f.Section)}
}

func bmiCode(v float64) string {
	switch {
	case v < 19.95:
		return "Z681"
	case v < 20:
		return "Z6820"
	case v < 40:
		return fmt.Sprintf("Z68%d", int(v))
	case v < 45:
		return "Z6841"
	case v < 50:
		return "Z6842"
	case v < 60:
		return "Z6843"
	case v < 70:
		return "Z6844"
	}
	return "Z6845"
}

// integral drops signs and symptoms routinely part of a coded condition (Section I.B.4-5).
// A condition documented only as uncertain ("likely vasovagal versus possible TIA") does not
// absorb the symptom: the symptom is what was established.
func (c *coding) integral() {
	var prefixes []string
	for _, d := range c.dx {
		if d.symptom || d.removed != "" || !slices.ContainsFunc(d.all, func(h *hit) bool { return h.m.Assertion == notes.Present }) {
			continue
		}
		prefixes = append(prefixes, c.e.integralOf[d.code]...)
	}
	for _, d := range c.dx {
		if d.symptom && d.removed == "" && (hasPrefixAny(d.code, prefixes) || strings.HasPrefix(d.code, "R") && c.explained(d)) && !c.undetermined(d) {
			d.removed = ReasonIntegral
		}
	}
}

// explained reports a symptom whose sentence links it to a coded condition named in the same
// sentence ("chest pain, most likely due to gastroesophageal reflux disease").
func (c *coding) explained(d *coded) bool {
	for _, h := range d.all {
		if !h.sentence().hasAny(c.e.explained) {
			continue
		}
		for _, o := range c.dx {
			if o == d || o.symptom || o.removed != "" {
				continue
			}
			if slices.ContainsFunc(o.all, func(x *hit) bool { return x.note == h.note && x.m.Sentence == h.m.Sentence && x.m.Start > h.m.Start }) {
				return true
			}
		}
	}
	return false
}

// conventions applies the combination rules, drops status codes of devices placed during this
// stay and long-term-use codes that do not apply (insulin in type 1 diabetes).
func (c *coding) conventions() {
	for _, r := range c.e.conv.Combine {
		ok := true
		for _, p := range r.IfAll {
			ok = ok && c.has(p)
		}
		if !ok || len(r.IfAny) > 0 && !c.hasAny(r.IfAny) || c.hasAny(r.IfNone) {
			continue
		}
		var support []*hit
		for _, d := range c.dx {
			if d.removed == "" && (hasPrefixAny(d.code, r.IfAll) || hasPrefixAny(d.code, r.IfAny)) {
				support = append(support, d.hits...)
			}
		}
		for _, d := range c.dx {
			if d.removed == "" && hasPrefixAny(d.code, r.Remove) && !slices.ContainsFunc(r.Add, func(a AddedCode) bool { return a.Code == d.code }) {
				d.removed = ReasonSuperseded
			}
		}
		for _, a := range r.Add {
			code := a.Code
			if !c.valid(code) || c.has(code) {
				continue
			}
			cd := &coded{code: code, hits: bestHits(support), why: r.Why}
			before := a.Before
			at := len(c.dx)
			for i, d := range c.dx {
				if before != "" && d.removed == "" && strings.HasPrefix(d.code, before) {
					at = i
					cd.rank = d.rank
					break
				}
			}
			cd.firstOver = r.First
			c.dx = slices.Insert(c.dx, at, cd)
		}
	}
	for _, s := range c.e.conv.StatusDroppedByProcedure {
		if c.hasProc(s.Procedures) {
			for _, d := range c.dx {
				if strings.HasPrefix(d.code, s.Status) {
					d.removed = ReasonSuperseded
				}
			}
		}
	}
	for _, d := range c.e.conv.ProcedureDroppedByProcedure {
		drop := d.Drop
		if !slices.ContainsFunc(c.pr, func(p *coded) bool { return p.code == drop }) {
			continue
		}
		if slices.ContainsFunc(c.pr, func(p *coded) bool { return p.code != drop && hasPrefixAny(p.code, d.WhenAny) }) {
			c.pr = slices.DeleteFunc(c.pr, func(p *coded) bool {
				if p.code == drop && len(p.hits) > 0 {
					h := p.hits[0]
					c.notCoded = append(c.notCoded, NotCoded{Note: h.note.doc.Note.ID, Start: h.m.Start, End: h.m.End, Text: h.m.Text, Reason: ReasonSuperseded, Code: p.code})
				}
				return p.code == drop
			})
		}
	}
	for _, m := range c.e.medRules.LongTerm {
		if len(m.NotWith) > 0 && c.hasAny(m.NotWith) {
			for _, d := range c.dx {
				if d.code == m.Code {
					d.removed = ReasonSuperseded
				}
			}
		}
	}
}

// ulcerStage completes a provider-documented pressure ulcer of unspecified stage with the
// stage a note states, a nurse's or wound nurse's included (Section I.B.14): L89.159 with
// "stage 2" → L89.152. Only one unstaged ulcer, so that the stage cannot go to another site.
func (c *coding) ulcerStage() {
	var open []*coded
	for _, d := range c.dx {
		if d.removed == "" && strings.HasPrefix(d.code, "L89") && len(d.code) == 6 && d.code[5] == '9' {
			open = append(open, d)
		}
	}
	if len(open) != 1 {
		return
	}
	var best *notes.Finding
	var bv *noteView
	for _, v := range c.views {
		for i := range v.doc.Findings {
			f := &v.doc.Findings[i]
			if f.Name == "pressure_ulcer_stage" && f.Value >= 1 && f.Value <= 4 && (bv == nil || v.order >= bv.order) {
				best, bv = f, v
			}
		}
	}
	if best == nil {
		return
	}
	code := open[0].code[:5] + string(rune('0'+int(best.Value)))
	if !c.valid(code) {
		return
	}
	open[0].code = code
	open[0].hits = append(open[0].hits, findingHit(bv, best))
	open[0].why += fmt.Sprintf("; stage %d from %s (Section I.B.14: the stage may come from a clinician other than the provider)", int(best.Value), c.whoWhere(findingHit(bv, best)))
}
