package cac

import (
	"slices"
	"strings"
)

// rankOf orders a mention as a candidate for the principal diagnosis (Section II): the
// principal-diagnosis line of the discharge summary first, then its diagnosis list in order,
// the reason for admission, its assessment, its hospital course; earlier notes after.
func (c *coding) rankOf(h *hit) [3]int {
	last := -1
	for _, v := range c.views {
		if v.final && v.provider && !v.report {
			last = max(last, v.order)
		}
	}
	if last < 0 {
		last = c.lastProv
	}
	note := 1
	if h.note.order == last {
		note = 0
	}
	sec := 9
	switch {
	case h.class == "final" && (strings.Contains(h.heading, "principal") || strings.Contains(h.heading, "primary")):
		sec = 0
	case h.class == "final" && c.e.secondary[h.heading]:
		sec = 6
	case h.class == "final":
		sec = 1
	case h.section == "reason for admission":
		sec = 2
	case h.section == "assessment and plan":
		sec = 3
	case h.section == "chief complaint":
		sec = 4
	case h.section == "hospital course":
		sec = 5
	case h.class == "history":
		sec = 8
	}
	return [3]int{note, sec, h.m.Start}
}

func (c *coding) bestRank(d *coded) [3]int {
	best := [3]int{9, 99, 1 << 30}
	for _, h := range d.all {
		if r := c.rankOf(h); less(r, best) {
			best = r
		}
	}
	return best
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// neverPrincipal: codes the conventions keep out of the first position (status and history
// Z codes, severe sepsis R65.2-, manifestation codes, adverse effects and underdosing).
func neverPrincipal(code string) bool {
	switch {
	case strings.HasPrefix(code, "Z") && !strings.HasPrefix(code, "Z51") && !strings.HasPrefix(code, "Z38"),
		strings.HasPrefix(code, "R652"), strings.HasPrefix(code, "F028"),
		strings.HasPrefix(code, "V"), strings.HasPrefix(code, "W"), strings.HasPrefix(code, "X"), strings.HasPrefix(code, "Y"):
		return true
	case len(code) == 7 && code[0] == 'T' && (code[5] == '5' || code[5] == '6') && code[1] >= '3' && code[1] <= '5':
		return true
	}
	return false
}

// complicationCodes are the intraoperative and postprocedural complication categories.
var complicationCodes = []string{"T80", "T81", "T82", "T83", "T84", "T85", "T86", "T87", "T88", "K91", "J95", "I97", "N99", "G97", "H59", "H95", "M96", "E89", "D78", "L76"}

var sepsisCodes = []string{"A40", "A41", "A021", "A227", "A267", "A327", "A427", "A5486", "B377", "O85", "T8144", "P36"}

// undetermined reports a symptom whose best-ranked mention's sentence compares diagnoses
// or says no cause was found.
func (c *coding) undetermined(d *coded) bool {
	var best *hit
	for _, h := range d.all {
		if best == nil || less(c.rankOf(h), c.rankOf(best)) {
			best = h
		}
	}
	return best != nil && best.sentence().hasAny(c.e.contrast)
}

// sequence chooses the principal diagnosis and orders the secondary diagnoses.
func (c *coding) sequence() {
	var live []*coded
	for _, d := range c.dx {
		if d.removed == "" {
			live = append(live, d)
		} else if len(d.hits) > 0 {
			h := d.hits[0]
			c.notCoded = append(c.notCoded, NotCoded{Note: h.note.doc.Note.ID, Start: h.m.Start, End: h.m.End, Text: h.m.Text, Reason: d.removed, Code: d.code})
		}
	}
	ranks := map[*coded][3]int{}
	for _, d := range live {
		ranks[d] = c.bestRank(d)
	}
	slices.SortStableFunc(live, func(a, b *coded) int {
		ra, rb := ranks[a], ranks[b]
		if less(ra, rb) {
			return -1
		}
		if less(rb, ra) {
			return 1
		}
		return 0
	})
	// a complication of care that arose after admission (postoperative ileus) is not the
	// reason for the admission
	pdx := -1
	for _, allowN := range []bool{false, true} {
		for i, d := range live {
			if !neverPrincipal(d.code) && (allowN || !d.poaN || !hasPrefixAny(d.code, complicationCodes)) {
				pdx = i
				break
			}
		}
		if pdx >= 0 {
			break
		}
	}
	pick := func(pred func(d *coded) bool) {
		for i, d := range live {
			if pred(d) && !neverPrincipal(d.code) {
				pdx = i
				return
			}
		}
	}
	// a symptom listed first and followed by comparative or contrasting diagnoses, or whose
	// cause was not found, stays first (Section II.E, II.A)
	if pdx >= 0 && !live[pdx].symptom {
		top := ranks[live[pdx]]
		for i, d := range live {
			if r := ranks[d]; d.symptom && r[0] == top[0] && r[1] <= top[1] && c.undetermined(d) {
				pdx = i
				break
			}
		}
	}
	if pdx >= 0 {
		p := live[pdx]
		obstetric := slices.ContainsFunc(live, func(d *coded) bool { return strings.HasPrefix(d.code, "O") })
		switch {
		case obstetric && !strings.HasPrefix(p.code, "O"):
			pick(func(d *coded) bool { return strings.HasPrefix(d.code, "O") })
		case slices.ContainsFunc(live, func(d *coded) bool { return hasPrefixAny(d.code, c.e.conv.PrincipalFirst.Codes) }):
			i := slices.IndexFunc(live, func(d *coded) bool { return hasPrefixAny(d.code, c.e.conv.PrincipalFirst.Codes) })
			pdx = i
		case !strings.HasPrefix(p.code, "O") && slices.ContainsFunc(live, func(d *coded) bool { return hasPrefixAny(d.code, sepsisCodes) && !d.poaN }):
			pick(func(d *coded) bool { return hasPrefixAny(d.code, sepsisCodes) && !d.poaN })
		}
		p = live[pdx]
		for i, d := range live {
			if len(d.firstOver) > 0 && hasPrefixAny(p.code, d.firstOver) {
				pdx = i
				break
			}
		}
		// code first: the etiology before its manifestation
		for range 3 {
			p = live[pdx]
			moved := false
			for _, cf := range c.e.conv.CodeFirst {
				if !strings.HasPrefix(p.code, cf.Code) {
					continue
				}
				// the best-ranked etiology, a primary neoplasm before a secondary one
				best := -1
				for i, d := range live {
					if !hasPrefixAny(d.code, cf.First) {
						continue
					}
					if best < 0 || secondaryNeoplasm(live[best].code) && !secondaryNeoplasm(d.code) {
						best = i
					}
				}
				if best >= 0 {
					pdx, moved = best, true
					break
				}
			}
			if !moved {
				break
			}
		}
	}
	c.dx = nil
	if pdx >= 0 {
		p := live[pdx]
		p.pos = -1
		c.dx = append(c.dx, p)
		live = slices.Delete(live, pdx, pdx+1)
	}
	// secondary diagnoses: conditions before status and long-term-use codes, each group in
	// documentation order
	slices.SortStableFunc(live, func(a, b *coded) int {
		za, zb := strings.HasPrefix(a.code, "Z"), strings.HasPrefix(b.code, "Z")
		switch {
		case za && !zb:
			return 1
		case zb && !za:
			return -1
		}
		return 0
	})
	c.dx = append(c.dx, live...)
}

// result builds the response.
func (c *coding) result() Result {
	var r Result
	title := func(lookup CodeLookup, code string) string {
		t, _, _ := lookup(code)
		return t
	}
	for i, d := range c.dx {
		s := Suggestion{Code: d.code, Title: title(c.e.dx, d.code), Why: d.why, POA: "Y"}
		if d.poaN {
			s.POA = "N"
		}
		for _, h := range d.hits {
			s.Evidence = append(s.Evidence, h.evidence())
		}
		if i == 0 {
			if d.why == "" || !strings.Contains(d.why, "Section II") {
				s.Why = strings.TrimPrefix(s.Why+"; principal diagnosis: the condition established after study chiefly responsible for the admission (Section II)", "; ")
			}
			r.PDX = &s
			continue
		}
		r.SDX = append(r.SDX, s)
	}
	for _, p := range c.pr {
		s := Suggestion{Code: p.code, Title: title(c.e.pr, p.code), Why: p.why}
		for _, h := range p.hits {
			s.Evidence = append(s.Evidence, h.evidence())
		}
		r.Procedures = append(r.Procedures, s)
	}
	type spanKey struct {
		note       string
		start, end int
	}
	seen := map[spanKey]bool{}
	for _, n := range c.notCoded {
		k := spanKey{n.Note, n.Start, n.End}
		if seen[k] || n.Start >= n.End {
			continue
		}
		seen[k] = true
		r.NotCoded = append(r.NotCoded, n)
	}
	if r.SDX == nil {
		r.SDX = []Suggestion{}
	}
	if r.Procedures == nil {
		r.Procedures = []Suggestion{}
	}
	if r.NotCoded == nil {
		r.NotCoded = []NotCoded{}
	}
	return r
}

// secondaryNeoplasm: C77–C79, metastases.
func secondaryNeoplasm(code string) bool { return code >= "C77" && code < "C80" }
