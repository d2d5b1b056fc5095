package grouper

import (
	"slices"
	"strings"
)

func (x *dxState) mark(ph phase) {
	if ph == phaseInitial {
		x.flags |= fUsedInitial
		x.affects = AffectsInitial
		return
	}
	x.flags |= fUsedFinal
	x.affects = finalAffects(x.affects)
}

func finalAffects(a Affects) Affects {
	if a == AffectsInitial || a == AffectsBoth {
		return AffectsBoth
	}
	return AffectsFinal
}

func (p *prState) mark(ph phase) {
	if ph == phaseInitial {
		p.flags |= pUsedInitial
		p.affects = AffectsInitial
		return
	}
	p.flags |= pUsedFinal
	p.affects = finalAffects(p.affects)
}

func (p *prState) markedIn(ph phase) bool {
	if ph == phaseInitial {
		return p.flags&pUsedInitial != 0
	}
	return p.flags&pUsedFinal != 0
}

func (p *prState) has(a attr) bool {
	return a.prefix == pfxNone && slices.Contains(p.attrs, a.name)
}

func (p *prState) hasAll(as []attr) bool {
	for _, a := range as {
		if !p.has(a) {
			return false
		}
	}
	return true
}

// markPhase runs the four marking steps of a phase (§9).
func (s *state) markPhase(ph phase) {
	s.markDiagnoses(ph)
	if !s.opt.SkipAffects {
		s.markProcedures(ph)
	}
	s.markDiagnosisFunctions(ph)
	s.markProcedureFunctions(ph)
}

// markDiagnoses is diagnosis marking and severity usage (§9.1).
func (s *state) markDiagnoses(ph phase) {
	c := s.c
	res := &s.res[ph]
	if !s.opt.SkipAffects {
		// L: matched attributes de-duplicated by name, ordered by name.
		var buf [64]attr
		l := buf[:0]
		for _, a := range res.m.acc {
			dup := false
			for _, b := range l {
				if b.name == a.name {
					dup = true
					break
				}
			}
			if !dup {
				l = append(l, a)
			}
		}
		slices.SortFunc(l, func(a, b attr) int { return strings.Compare(c.byID[a.name], c.byID[b.name]) })
		for i := range s.nsdx {
			x := s.sdx[i]
			for k, a := range l {
				if a.prefix == pfxONLY && a.name == c.idIncident {
					continue
				}
				if (a.prefix == pfxPDX || a.prefix == pfxANY) && c.hasFold(s.pdx.ops(), c.fold[a.name]) {
					continue
				}
				f := c.fold[a.name]
				hit := false
				if (f == c.foldMCC || f == c.foldCC) && x.flags&(fSuppressed|fPDXExcluded|fDiedExcluded) == 0 {
					switch severityOf(x.sev) {
					case MCC:
						hit = c.byID[a.name] == "MCC"
					case CC:
						hit = c.byID[a.name] == "CC"
					}
				}
				if !hit && (a.prefix == pfxSDX || a.prefix == pfxANY) && c.hasFold(x.ops(), f) {
					hit = true
				}
				if hit {
					x.mark(ph)
					l = slices.Delete(l, k, k+1)
					break
				}
			}
		}
		if ph == phaseFinal && s.res[phaseFinal].m.r.drg != s.res[phaseInitial].m.r.drg {
			for i := range s.nsdx {
				if x := s.sdx[i]; x.hasMetFlag() {
					x.mark(ph)
				}
			}
		}
		if ph == phaseInitial {
			s.pdx.affects = AffectsInitial
		} else {
			s.pdx.affects = AffectsBoth
			s.pdx.flags |= fUsedInitial | fUsedFinal
		}
	}
	for i := range s.nsdx {
		x := s.sdx[i]
		x.usage[ph] = s.usage(x, ph)
	}
}

// hasMetFlag reports whether a reported HAC entry of x has its criteria met.
func (x *dxState) hasMetFlag() bool {
	for _, k := range x.rep[:x.nrep] {
		if x.hac[k].status == HACCriteriaMet {
			return true
		}
	}
	return false
}

// usage is the severity usage of an SDX in a phase (§9.1 step 4).
func (s *state) usage(x *dxState, ph phase) Usage {
	excl := x.flags&fPDXExcluded != 0
	dth := x.flags&fDiedExcluded != 0
	sup := x.flags&fSuppressed != 0 && s.c.logic.excludedByLogic
	sev := severityOf(x.sev)
	var u Usage
	switch {
	case dth && !excl:
		u = Neither
	case (excl || dth) && sev == MCC:
		u = MCCExcluded
	case (excl || dth) && sev == CC:
		u = CCExcluded
	case sup && sev == MCC:
		u = MCCExcludedByDRGLogic
	case sup && sev == CC:
		u = CCExcludedByDRGLogic
	case sev == MCC:
		u = UsageMCC
	case sev == CC:
		u = UsageCC
	default:
		u = Neither
	}
	if ph == phaseFinal && !sup && x.hasMetFlag() {
		u = Neither
	}
	return u
}

// markProcedures is procedure marking (§9.2).
func (s *state) markProcedures(ph phase) {
	c := s.c
	res := &s.res[ph]
	m := res.m
	mdc := s.pdx.mdc
	if m.r.reroute != 0 {
		mdc = m.r.reroute
	}
	if m.r.drg >= 981 && m.r.drg <= 989 {
		mdc = 29
	}
	hide := mdcBit(mdc)
	visible := func(p *prState) bool { return p.suppr&hide == 0 }
	var principal *prState
	if s.first >= 0 {
		principal = s.pr[s.first]
	}
	isOR := func(p *prState) bool { return !c.logic.principalNeedsOR || p.isOR }

	var pabuf [64]attr
	pa := pabuf[:0]
	for _, a := range m.acc {
		if a.prefix != pfxNone || a.name == c.idMCC || a.name == c.idCC || a.name == c.idNonCC {
			continue
		}
		if !slices.Contains(pa, a) {
			pa = append(pa, a)
		}
	}
	success := false
	if len(pa) > 0 {
		step2 := true
		if principal != nil && isOR(principal) && visible(principal) && principal.hasAll(pa) {
			principal.mark(ph)
			if !c.logic.fusionMarking || principal.flags&pFusionCounted == 0 {
				success = true
				step2 = false
			}
		}
		if step2 {
			for i := range s.npr {
				p := s.pr[i]
				if p != principal && visible(p) && p.hasAll(pa) {
					p.mark(ph)
					success = true
					break
				}
			}
		}
		if !success && step2 {
			for i := range s.ncl {
				if hasAllAttrs(s.cl[i].attrs, pa) {
					s.markCluster(i, ph)
					success = true
					break
				}
			}
		}
	}
	if !success {
		for k, a := range m.acc {
			if a.prefix != pfxNone || slices.Contains(m.acc[:k], a) {
				continue
			}
			var hbuf [maxProcs]*prState
			h := hbuf[:0]
			for i := range s.npr {
				if p := s.pr[i]; p.has(a) && visible(p) {
					h = append(h, p)
				}
			}
			if a.name == c.idRevision && len(h) > 0 {
				clusterHas := false
				for i := range s.ncl {
					if slices.Contains(s.cl[i].attrs, a.name) {
						clusterHas = true
						break
					}
				}
				if clusterHas {
					if principal != nil && principal.has(a) {
						principal.mark(ph)
					} else {
						h[0].mark(ph)
					}
					continue
				}
			}
			fusionsMarked := false
			if len(h) >= 2 && c.logic.fusionMarking && mdc == 8 {
				for i := range s.npr {
					if p := s.pr[i]; p.flags&pFusionCounted != 0 {
						p.mark(ph)
						fusionsMarked = true
					}
				}
			}
			if len(h) >= 2 && !fusionsMarked {
				if principal != nil && principal.has(a) && isOR(principal) && visible(principal) {
					principal.mark(ph)
				} else {
					for i := range s.npr {
						if p := s.pr[i]; p != principal && p.has(a) && visible(p) {
							p.mark(ph)
							break
						}
					}
				}
				continue
			}
			if len(h) > 0 {
				h[0].mark(ph)
				continue
			}
			for i := range s.ncl {
				if slices.Contains(s.cl[i].attrs, a.name) {
					s.markCluster(i, ph)
					break
				}
			}
		}
	}
	if ph == phaseFinal && s.res[phaseFinal].m.r.drg != s.res[phaseInitial].m.r.drg {
		for i := range s.npr {
			p := s.pr[i]
			if p.hacUsage == 0 || !visible(p) {
				continue
			}
			for k, n := range procUsageHAC {
				if p.hacUsage&(1<<k) != 0 && s.hacMet(n) {
					p.affects = finalAffects(p.affects)
				}
			}
		}
	}
}

func hasAllAttrs(attrs []uint16, as []attr) bool {
	for _, a := range as {
		if a.prefix != pfxNone || !slices.Contains(attrs, a.name) {
			return false
		}
	}
	return true
}

// markCluster marks the procedures of formed cluster i (the first of each distinct code).
func (s *state) markCluster(i int, ph phase) {
	for j := range s.npr {
		p := s.pr[j]
		if p.clusters&(1<<i) == 0 {
			continue
		}
		first := true
		for k := range j {
			if q := s.pr[k]; q.clusters&(1<<i) != 0 && q.code == p.code {
				first = false
				break
			}
		}
		if first {
			p.mark(ph)
		}
	}
}

// hacMet reports whether some SDX has an entry of HAC n with criteria met.
func (s *state) hacMet(n int) bool {
	for i := range s.nsdx {
		x := s.sdx[i]
		for k := range x.nhac {
			if x.hac[k].number == n && x.hac[k].status == HACCriteriaMet {
				return true
			}
		}
	}
	return false
}

// markDiagnosisFunctions is diagnosis function marking (§9.3).
func (s *state) markDiagnosisFunctions(ph phase) {
	c := s.c
	count := 0
	if s.pdx.flags&fTraumaSite != 0 {
		s.pdx.mark(ph)
		count = 1
	}
	if pre := s.res[ph].pre; pre != nil {
		siteMatched := false
		for _, a := range pre.acc {
			if a.prefix == pfxNone && slices.Contains(c.siteNames[:], a.name) {
				siteMatched = true
				break
			}
		}
		if siteMatched {
			for i := 0; i < s.nsdx && count < 2; i++ {
				if x := s.sdx[i]; x.flags&fTraumaSite != 0 {
					x.mark(ph)
					count++
				}
			}
		}
	}
	if s.res[ph].m.r.drg == 794 {
		for i := range s.nsdx {
			if x := s.sdx[i]; x.flags&fNonIncident != 0 {
				x.mark(ph)
			}
		}
	}
}

// markProcedureFunctions is procedure function marking (§9.4).
func (s *state) markProcedureFunctions(ph phase) {
	c := s.c
	acc := s.res[ph].m.acc
	hasName := func(id uint16) bool {
		for _, a := range acc {
			if a.prefix == pfxNone && a.name == id {
				return true
			}
		}
		return false
	}
	anyOf := func(ids [4]uint16) bool {
		for _, id := range ids {
			if hasName(id) {
				return true
			}
		}
		return false
	}
	if anyOf(c.stentNames) {
		for i := range s.npr {
			if p := s.pr[i]; p.flags&pStentCounted != 0 {
				p.mark(ph)
			}
		}
		var with uint16
		switch {
		case hasName(c.idArterial) && hasName(c.idNORdrugstent):
			with = c.idNORdrugstent
		case hasName(c.idArterial) && hasName(c.idNORstent):
			with = c.idNORstent
		}
		if with != 0 {
			for i := range s.npr {
				p := s.pr[i]
				if !p.markedIn(ph) && slices.Contains(p.attrs, c.idArterial) && slices.Contains(p.attrs, with) {
					p.mark(ph)
				}
			}
		}
	}
	if anyOf(c.vesselNames) {
		for i := range s.npr {
			if p := s.pr[i]; p.flags&pVesselCounted != 0 {
				p.mark(ph)
			}
		}
	}
}
