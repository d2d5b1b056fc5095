package grouper

// rowSeverity computes the severity of one formula row and leaves the SUPPRESSED marks of the
// eligible SDX as the row defines them (§7 step 3.1).
func (s *state) rowSeverity(r *row, ph phase) Severity {
	if len(r.supp) == 0 && s.sevCached && s.sevPhase == ph {
		return s.sevCache // the previous row also had no suppression: same marks, same severity
	}
	c := s.c
	sev := NonCC
	for i := range s.nsdx {
		x := s.sdx[i]
		if ph == phaseFinal && x.isHAC {
			continue
		}
		x.flags &^= fSuppressed
		if len(r.supp) > 0 {
			for _, f := range r.supp {
				if c.hasFold(x.a.ops, f) {
					x.flags |= fSuppressed
					break
				}
			}
		}
		if x.flags&(fSuppressed|fPDXExcluded|fDiedExcluded) == 0 {
			if v := severityOf(x.sev); v > sev {
				sev = v
			}
		}
	}
	s.sevCached, s.sevPhase, s.sevCache = len(r.supp) == 0, ph, sev
	return sev
}

// evalMDC evaluates the formulas of MDC m in rank order and returns the first match (§7).
func (s *state) evalMDC(m int, ph phase) (*match, bool) {
	var rows []*row
	if m >= 0 && m <= maxMDC {
		rows = s.c.mdcRows[m]
	}
	slot := &s.matches[ph][s.nm[ph]]
	if s.nm[ph] < len(s.matches[ph])-1 {
		s.nm[ph]++
	}
	slot.r, slot.rc, slot.acc = nil, OK, slot.acc[:0]
	slot.sev = NonCC
	s.ctx = m
	skippedLast := false
	for _, r := range rows {
		if s.trace == nil && !s.present(r.req) {
			skippedLast = true
			continue
		}
		skippedLast = false
		sev := s.rowSeverity(r, ph)
		s.setSeverityItem(sev)
		s.acc = s.acc[:0]
		s.rc = OK
		ok := s.eval(r.expr)
		if s.trace != nil {
			s.trace.row(ph, m, r, ok, sev)
		}
		slot.sev = sev
		if ok {
			slot.r = r
			slot.rc = s.rc
			slot.acc = append(slot.acc, s.acc...)
			return slot, true
		}
	}
	if skippedLast {
		// No row matched: the marks and severity are those of the last row (§7 step 4).
		slot.sev = s.rowSeverity(rows[len(rows)-1], ph)
	}
	return slot, false
}

// present reports whether every required atom is visible in the current context.
func (s *state) present(req []attr) bool {
	for _, a := range req {
		if !s.visible(a.prefix, a.name) {
			return false
		}
	}
	return true
}

// group runs one grouping phase (§8).
func (s *state) group(ph phase) *phaseResult {
	pr := &s.res[ph]
	*pr = phaseResult{}
	pr.stops[0] = 0
	pr.nstops = 1
	stop := func(m int) {
		if pr.nstops < len(pr.stops) {
			pr.stops[pr.nstops] = m
			pr.nstops++
		}
	}
	fail := func(rc ReturnCode) *phaseResult {
		pr.ungroupable, pr.rc = true, rc
		return pr
	}
	// reroute follows a match's reroute, at most twice (a failing return code ends the phase).
	reroute := func(m *match) (*match, ReturnCode) {
		r, _ := s.evalMDC(m.r.reroute, ph)
		if r.r != nil && r.rc != OK {
			return nil, r.rc
		}
		if r.r != nil && r.r.reroute != 0 {
			r, _ = s.evalMDC(r.r.reroute, ph)
			if r.r != nil && r.rc != OK {
				return nil, r.rc
			}
		}
		return r, OK
	}

	pre, ok := s.evalMDC(0, ph)
	if ok && pre.rc != OK {
		return fail(pre.rc)
	}
	sev := pre.sev
	var rer, pdxr *match
	if ok {
		pr.pre = pre
		if pre.r.reroute != 0 {
			r, rc := reroute(pre)
			if rc != OK {
				return fail(rc)
			}
			stop(pre.r.reroute)
			rer, sev = r, r.sev
		}
	} else {
		p, _ := s.evalMDC(s.pdx.mdc, ph)
		if p.r != nil && p.rc != OK {
			return fail(p.rc)
		}
		stop(s.pdx.mdc)
		pdxr, sev = p, p.sev
		if p.r != nil && p.r.reroute != 0 {
			r, rc := reroute(p)
			if rc != OK {
				return fail(rc)
			}
			stop(p.r.reroute)
			rer, sev = r, r.sev
		}
	}
	var m *match
	switch {
	case rer != nil && rer.r != nil:
		m = rer
	case pdxr != nil:
		m = pdxr
	default:
		m = pre
	}
	if m == nil || m.r == nil || m.r.reroute != 0 {
		// The reference fails with an internal error; cannot happen with the CMS data.
		return fail(OK)
	}
	pr.m = m
	pr.sev = sev
	if m.r.drg == 998 {
		pr.sev = SevNone
	}
	mdc := s.pdx.mdc
	last := pr.stops[pr.nstops-1]
	switch {
	case last == 29:
		mdc = pr.stops[pr.nstops-2]
		for _, st := range pr.stops[:pr.nstops] {
			if st == 25 {
				mdc = 25
			}
		}
		for _, st := range pr.stops[:pr.nstops] {
			if st == 24 {
				mdc = 24
			}
		}
	case last != 0:
		mdc = last
	}
	pr.mdc = mdc
	return pr
}

// run executes the whole pipeline (§3).
func (s *state) run() {
	ini := s.group(phaseInitial)
	if ini.ungroupable {
		return
	}
	s.markPhase(phaseInitial)
	if s.hacProcessing() {
		return
	}
	s.finalRan = true
	fin := s.group(phaseFinal)
	if fin.ungroupable {
		return
	}
	s.markPhase(phaseFinal)
}
