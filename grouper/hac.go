package grouper

// poaError maps a POA indicator to the POA error code (§10.2).
func poaError(p poa) POAError {
	switch p {
	case poaY, poaW:
		return POARecognizedYesPOA
	case poaN, poaU:
		return POARecognizedNotPOA
	}
	return POANotRecognized
}

// hacProcessing runs HAC processing between the phases (§10). It returns true when the final
// result is ungroupable (the final phase must not run).
func (s *state) hacProcessing() bool {
	if s.hosp == hospExempt {
		for i := range s.nsdx {
			x := s.sdx[i]
			if x.nhac == 0 {
				continue
			}
			x.poaErr = POAHospitalExempt
			for k := range x.nhac {
				x.hac[k].status = HACNotApplicableExempt
			}
		}
		s.reportHACFlags()
		return false
	}
	var metNumbers uint16 // HAC numbers with criteria met
	var formulaDone, formulaTrue uint16
	var hac6code *dxState
	invalidPOASeen, met6InvalidPOA := false, false
	for i := range s.nsdx {
		x := s.sdx[i]
		for k := range x.nhac {
			h := &x.hac[k]
			switch {
			case x.poa == poaY || x.poa == poaW:
				h.status = HACCriteriaNotMet
				x.poaErr = POARecognizedYesPOA
			case x.flags&fPDXExcluded != 0:
				h.status = HACNotApplicableExclusion
				x.poaErr = poaError(x.poa)
			default:
				bit := uint16(1) << uint(h.number)
				if h.number < 0 || h.number > 14 {
					bit = 0
				}
				if bit != 0 && formulaDone&bit == 0 {
					formulaDone |= bit
					if s.hacFormula(h.number) {
						formulaTrue |= bit
					}
				}
				h.status = HACCriteriaNotMet
				if bit != 0 && formulaTrue&bit != 0 {
					h.status = HACCriteriaMet
				}
				x.poaErr = poaError(x.poa)
				invalidPOA := x.poa == poaE || x.poa == poaBlank || x.poa == poaOne || x.poa == poaInvalid
				if invalidPOA {
					invalidPOASeen = true
				}
				if h.status == HACCriteriaMet {
					if h.number == 6 {
						if x.flags&fHAC6Show == 0 {
							hac6code = x
						}
						if invalidPOA {
							met6InvalidPOA = true
						}
					}
					metNumbers |= bit
				}
			}
		}
	}
	if hac6code == nil {
		for i := range s.nsdx {
			x := s.sdx[i]
			for k := range x.nhac {
				if x.hac[k].list == "hac06_show" {
					x.hac[k].status = HACCriteriaNotMet
				}
			}
		}
	}
	for i := range s.nsdx {
		x := s.sdx[i]
		for k := range x.nhac {
			h := &x.hac[k]
			if h.status != HACCriteriaMet {
				continue
			}
			x.isHAC = true
			for u, n := range procUsageHAC {
				if n != h.number {
					continue
				}
				for j := range s.npr {
					if p := s.pr[j]; p.c != nil && p.c.hacUsage&(1<<u) != 0 {
						p.hacUsage |= 1 << u
					}
				}
			}
		}
	}

	rc := OK
	if metNumbers != 0 {
		switch s.hosp {
		case hospNonExempt:
			if (metNumbers&^(1<<6) != 0 && invalidPOASeen) || (metNumbers&(1<<6) != 0 && hac6code != nil && met6InvalidPOA) {
				rc = HACMissingOnePOA
			}
		case hospUnknown:
		first:
			for i := range s.nsdx {
				x := s.sdx[i]
				if x.nhac == 0 {
					continue
				}
				switch {
				case s.nsdx >= 2:
					rc = HACStatusInvalidMultHACsPOANotYorW
				case x.poa == poaN || x.poa == poaU:
					rc = HACStatusInvalidPOANOrU
				default:
					rc = HACStatusInvalidPOAInvalidOr1
				}
				break first
			}
		}
	}
	s.reportHACFlags()
	if rc != OK {
		s.res[phaseFinal] = phaseResult{ungroupable: true, rc: rc}
		return true
	}
	return false
}

// hacFormula evaluates the criteria of HAC n for the claim: base mask without severity item,
// every item visible, SDX only (§10.2).
func (s *state) hacFormula(n int) bool {
	c := s.c
	s.noneSet.clear(c.idMCC)
	s.noneSet.clear(c.idCC)
	s.noneSet.clear(c.idNonCC)
	s.sevItem = sevItemNone
	s.inHAC = true
	s.ctx = 0
	defer func() { s.inHAC = false }()
	for _, f := range c.hacRows[n] {
		s.acc = s.acc[:0]
		if s.eval(f) {
			return true
		}
	}
	return false
}

// reportHACFlags builds the reported HAC lists (§10.4).
func (s *state) reportHACFlags() {
	zeroAll := s.c.logic.hacZeroAllEntries
	pdx11 := false
	for i := range s.nsdx {
		x := s.sdx[i]
		if x.nhac == 0 {
			continue
		}
		x.nrep = 0
		any, seen6 := false, false
	scan:
		for k := range x.nhac {
			h := &x.hac[k]
			switch {
			case h.status == HACCriteriaMet:
				if h.number == 6 {
					if seen6 {
						continue
					}
					seen6 = true
				}
				x.rep[x.nrep] = int8(k)
				x.nrep++
				any = true
			case h.status == HACCriteriaNotMet && (x.poa == poaW || x.poa == poaY):
				h.number = 0
				x.rep[x.nrep] = int8(k)
				x.nrep++
				any = true
				break scan
			case h.status == HACNotApplicableExclusion:
				x.rep[x.nrep] = int8(k)
				x.nrep++
				any = true
			case h.status == HACNotApplicableExempt:
				h.number = 0
				x.rep[x.nrep] = int8(k)
				x.nrep++
				any = true
			}
		}
		if !any {
			n := x.nhac
			if !zeroAll {
				n = 1
			}
			for k := range n {
				x.hac[k].number = 0
				x.rep[x.nrep] = int8(k)
				x.nrep++
			}
		}
		for _, k := range x.rep[:x.nrep] {
			if x.hac[k].number == 11 && x.hac[k].status == HACCriteriaMet {
				pdx11 = true
			}
		}
	}
	if s.pdx.nhac > 0 && pdx11 {
		s.pdx.nrep = 1
		s.pdx.rep[0] = 0
		s.pdx.hac[0] = hacEntry{number: 11, hac: 11, status: NotOnHACList}
	}
}
