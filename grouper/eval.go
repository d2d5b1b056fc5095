package grouper

// eval evaluates a formula tree against the mask with short-circuiting; true terminals
// accumulate their attributes and special terms apply their side effects (algorithm §6).
func (s *state) eval(n *node) bool {
	switch n.kind {
	case nAtom:
		if s.visible(n.prefix, n.name) {
			s.acc = append(s.acc, attr{n.prefix, n.name})
			return true
		}
		return false
	case nAnd:
		for _, k := range n.kids {
			if !s.eval(k) {
				return false
			}
		}
		return true
	case nOr:
		for _, k := range n.kids {
			if s.eval(k) {
				return true
			}
		}
		return false
	case nNot:
		return !s.eval(n.kids[0])
	case nSpecial:
		return s.special(n.special)
	}
	return false
}

// visible is the default terminal test (§6.4).
func (s *state) visible(prefix uint8, name uint16) bool {
	switch prefix {
	case pfxNone:
		if !s.noneSet.has(name) {
			return false
		}
		return s.inHAC || s.hid[name]&mdcBit(s.ctx) == 0
	case pfxPDX:
		return s.pdxSet.has(name)
	case pfxSDX:
		return s.sdxSet.has(name)
	case pfxANY:
		return s.pdxSet.has(name) || s.sdxSet.has(name)
	}
	return false
}

func (s *state) special(kind uint8) bool {
	c := s.c
	switch kind {
	case spInvalidDstat:
		if s.noneSet.has(c.idInvalidDstat) {
			s.acc = append(s.acc, attr{pfxNone, c.idInvalidDstat})
			s.rc = InvalidDischargeStatus
			return true
		}
	case spInvalidPDX:
		if s.pdxSet.has(c.idInvalidPDX) {
			s.acc = append(s.acc, attr{pfxPDX, c.idInvalidPDX})
			s.rc = InvalidPDX
			return true
		}
	case spInvalidSex:
		if s.noneSet.has(c.idInvalidSex) {
			s.acc = append(s.acc, attr{pfxNone, c.idInvalidSex})
			s.rc = InvalidSex
			return true
		}
	case spPDXEcode:
		if s.pdxSet.has(c.idPDXEcode) {
			s.acc = append(s.acc, attr{pfxPDX, c.idPDXEcode})
			s.rc = DxCannotBePDX
			return true
		}
	case spInvalidAge:
		return false
	case spMDC20FallThru:
		return s.pdx.mdc == 20
	case spIncident:
		if s.onlyIncident {
			s.acc = append(s.acc, attr{pfxONLY, c.idIncident})
			return true
		}
		if !s.inHAC && !s.pdx.a.incident {
			s.pdx.flags |= fNonIncident
			return false
		}
		for i := range s.nsdx {
			if x := s.sdx[i]; !x.a.incident {
				x.flags |= fNonIncident
				break
			}
		}
		return false
	case spMultST:
		return s.multST()
	case spBilateral:
		return s.bilateral()
	case spFourStents:
		return s.countFour(c.stentNames, func(p *prState) uint8 { return s.stentBits(p) }, pStentCounted, nil)
	case spFourDrugStents:
		return s.countFour(c.stentNames, func(p *prState) uint8 { return s.stentBits(p) }, pStentCounted, func(p *prState) bool { return p.c != nil && p.c.drugStnt })
	case spFourNonDrugStents:
		return s.countFour(c.stentNames, func(p *prState) uint8 { return s.stentBits(p) }, pStentCounted, func(p *prState) bool { return p.c != nil && p.c.stent })
	case spFourVessels:
		return s.countFour(c.vesselNames, func(p *prState) uint8 {
			if p.c == nil {
				return 0
			}
			return p.c.vessels
		}, pVesselCounted, nil)
	case spSingleFusion:
		return s.fusion(0b11, func(hits int, seen uint8) bool { return seen == 0b11 && hits >= 3 })
	case spMultFuse:
		return s.fusion(0b101, func(hits int, _ uint8) bool { return hits >= 2 })
	case spSglAnt:
		return s.fusion(0b1, func(hits int, _ uint8) bool { return hits >= 2 })
	case spSglPost1:
		return s.fusion(0b100, func(hits int, _ uint8) bool { return hits >= 2 })
	case spSglAntSectX:
		return s.fusion(0b1000, func(hits int, _ uint8) bool { return hits >= 2 })
	case spSglPostFuse:
		return s.fusion(0b10, func(hits int, _ uint8) bool { return hits >= 2 })
	}
	return false
}

func (s *state) stentBits(p *prState) uint8 {
	if p.c == nil {
		return 0
	}
	return p.c.stents
}

// multST is the significant multiple trauma test (§6.5).
func (s *state) multST() bool {
	var found uint8
	var codes [2]*dxState
	var names [2]int
	n := 0
	visit := func(x *dxState) bool {
		if n >= 2 {
			return false
		}
		avail := x.a.sites &^ found
		if avail == 0 {
			return true
		}
		for i := range 8 {
			if avail&(1<<i) != 0 {
				found |= 1 << i
				codes[n], names[n] = x, i
				n++
				break
			}
		}
		return true
	}
	if !s.inHAC {
		visit(&s.pdx)
	}
	for i := range s.nsdx {
		if !visit(s.sdx[i]) {
			break
		}
	}
	if n < 2 {
		return false
	}
	for i := range 2 {
		codes[i].flags |= fTraumaSite
		s.acc = append(s.acc, attr{pfxNone, s.c.siteNames[names[i]]})
	}
	return true
}

// bilateral is the bilateral joint procedure test (§6.5).
func (s *state) bilateral() bool {
	var found uint8
	var procs [2]*prState
	var names [2]int
	n := 0
	for i := range s.npr {
		if n >= 2 {
			break
		}
		p := s.pr[i]
		if p.c == nil {
			continue
		}
		avail := p.c.lat &^ found
		for b := range 6 {
			if avail&(1<<b) != 0 {
				found |= 1 << b
				procs[n], names[n] = p, b
				n++
				break
			}
		}
	}
	if n < 2 {
		return false
	}
	for i := range 2 {
		procs[i].flags |= pLateralPair
		s.acc = append(s.acc, attr{pfxNone, s.c.latNames[names[i]]})
	}
	return true
}

// collect adds p to the procedures to flag unless an equal procedure is already there (the
// duplicate-code quirk of §6.5).
func collect(set []*prState, p *prState) []*prState {
	for _, q := range set {
		if q == p || q.sameState(p) {
			return set
		}
	}
	return append(set, p)
}

// countFour implements FOUR_STENTS, FOUR_VESSELS and the 40.x stent variants.
func (s *state) countFour(names [4]uint16, bits func(*prState) uint8, flag uint8, extra func(*prState) bool) bool {
	count := 0
	var seen uint8
	var buf [maxProcs]*prState
	set := buf[:0]
	for i := range s.npr {
		if count >= 4 {
			break
		}
		p := s.pr[i]
		if extra != nil && !extra(p) {
			continue
		}
		b := bits(p)
		for k := range 4 {
			if b&(1<<k) != 0 {
				count += k + 1
				seen |= 1 << k
				set = collect(set, p)
			}
		}
	}
	if count < 4 {
		return false
	}
	for _, p := range set {
		p.flags |= flag
	}
	for k := range 4 {
		if seen&(1<<k) != 0 {
			s.acc = append(s.acc, attr{pfxNone, names[k]})
		}
	}
	return true
}

// fusion implements the spinal fusion counters (§6.5); names selects fusionOrder entries.
func (s *state) fusion(names uint8, ok func(hits int, seen uint8) bool) bool {
	hits := 0
	var seen uint8
	var buf [maxProcs]*prState
	set := buf[:0]
	for i := range s.npr {
		p := s.pr[i]
		if p.c == nil {
			continue
		}
		m := p.c.fusion & names
		for k := range 6 {
			if m&(1<<k) != 0 {
				hits++
				seen |= 1 << k
				set = collect(set, p)
			}
		}
	}
	if !ok(hits, seen) {
		return false
	}
	for _, p := range set {
		p.flags |= pFusionCounted
	}
	for k := range 6 {
		if seen&(1<<k) != 0 {
			s.acc = append(s.acc, attr{pfxNone, s.c.fusionNames[k]})
		}
	}
	return true
}
