package grouper

import (
	"slices"
	"strings"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/tables"
)

func (s *state) reset(c *compiled, opt Options) {
	s.c, s.opt = c, opt
	s.pdxSet, s.sdxSet, s.noneSet = bitset{}, bitset{}, bitset{}
	for _, n := range s.touched {
		s.hid[n] = 0
	}
	s.touched = s.touched[:0]
	s.onlyIncident = false
	s.nsdx, s.npr, s.ncl, s.first = 0, 0, 0, -1
	s.nm = [2]int{}
	s.res = [2]phaseResult{}
	s.finalRan = false
	s.sevCached = false
	s.sevItem = sevItemNone
	s.inHAC = false
}

// upper returns the code upper-cased, without allocating when it already is.
func upper(code string) string {
	for i := 0; i < len(code); i++ {
		if c := code[i]; c >= 'a' && c <= 'z' {
			return strings.ToUpper(code)
		}
	}
	return code
}

// load builds the code objects and the claim mask (algorithm §4, §5).
func (s *state) load(cl *claim.Claim) {
	c := s.c
	s.sex = sexUnknown
	switch cl.Sex {
	case "M":
		s.sex = sexMale
	case "F":
		s.sex = sexFemale
	}
	s.dstat = dstatNone
	if cl.DischargeStatus != nil && validDischargeStatus(*cl.DischargeStatus) {
		s.dstat = *cl.DischargeStatus
	}
	switch cl.HospitalStatus {
	case claim.HospitalExempt:
		s.hosp = hospExempt
	case claim.HospitalUnknown:
		s.hosp = hospUnknown
	default:
		s.hosp = hospNonExempt
	}

	// Look every code up first, in tight loops without dependencies between iterations, so
	// that the CPU overlaps the cache misses of the tables (they dominate grouping).
	var dxs [maxSDX]*cdx
	var prs [maxProcs]*cpr
	for i, d := range cl.SDX {
		dxs[i] = c.diagnosis(d.Code)
	}
	pdxCode := "null"
	if cl.PDX != nil {
		pdxCode = cl.PDX.Code
	}
	pc := c.diagnosis(pdxCode)
	for i, p := range cl.Procedures {
		prs[i] = c.procedure(p.Code)
	}

	// Procedures (§4.2, §4.3), sorted by code under CLINICAL_SIGNIFICANCE.
	for i, p := range cl.Procedures {
		ps := &s.prBuf[i]
		s.pr[i] = ps
		*ps = prState{code: p.Code, input: i, c: prs[i]}
		if i == 0 {
			ps.flags = pFirstInput
		}
	}
	s.npr = len(cl.Procedures)
	if s.opt.TieBreaker == ClinicalSignificance && s.npr > 1 {
		slices.SortStableFunc(s.pr[:s.npr], func(a, b *prState) int { return strings.Compare(a.code, b.code) })
	}
	for i := range s.npr {
		if s.pr[i].flags&pFirstInput != 0 {
			s.first = i
		}
	}
	s.formClusters()
	for i := range s.npr {
		p := s.pr[i]
		if p.c != nil {
			p.attrs = p.c.attrs
			p.isOR = p.c.isOR
		} else {
			p.isOR = c.logic.orByNonOR
		}
		p.recognized = len(p.attrs) > 0
	}

	// Secondary diagnoses (§4.4).
	s.nsdx = len(cl.SDX)
	for i, d := range cl.SDX {
		x := &s.sdxBuf[i]
		s.sdx[i] = x
		*x = dxState{code: d.Code, input: i, poa: parsePOA(d.POA), mdc: -1, sev: tables.NCC}
		x.c = dxs[i]
		x.a = c.attrs[0]
		if x.c != nil && x.c.valid() {
			x.a = c.attrs[x.c.attrs]
			x.flags |= fValid
			x.sev = x.c.sev
			x.nhac = copy(x.hac[:], c.hacTmpl[x.c.hacT])
			if x.a.hac6Show {
				x.flags |= fHAC6Show
			}
		}
	}

	// Principal diagnosis (§4.5, §4.6).
	s.pdx = dxState{code: pdxCode, mdc: -1, sev: tables.NCC, a: c.attrs[0]}
	s.pdxGiven = cl.PDX != nil
	if pc != nil {
		for i := range s.nsdx {
			if c.excludes(pc, s.sdx[i].code) {
				s.sdx[i].flags |= fPDXExcluded
			}
		}
	}
	if s.dstat == 20 {
		for i := range s.nsdx {
			if x := s.sdx[i]; x.a.mccAlive {
				x.flags |= fDiedExcluded
			}
		}
	}
	if pdxCode != "" && pc != nil {
		s.pdx.c = pc
		if pc.valid() {
			s.pdx.a = c.attrs[pc.attrs]
		}
		if s.pdx.a.hac11PDX {
			s.pdx.hac[0] = hacEntry{number: 11, hac: 11, list: "hac11_pdx", status: NotOnHACList}
			s.pdx.nhac = 1
		}
		if pc.valid() {
			s.pdx.flags |= fValid
		}
		switch {
		case pc.hasGender():
			switch s.sex {
			case sexMale:
				s.pdx.mdc = int(pc.genderMDC[0])
			case sexFemale:
				s.pdx.mdc = int(pc.genderMDC[1])
			default:
				s.pdx.flags |= fSexUnresolved
				s.pdx.mdc = int(pc.genderMDC[1])
			}
		case pc.valid():
			s.pdx.mdc = int(pc.mdc)
		}
	}

	// SDX order (§4.7).
	if s.opt.TieBreaker == ClinicalSignificance && s.nsdx > 1 {
		slices.SortStableFunc(s.sdx[:s.nsdx], func(a, b *dxState) int {
			if ra, rb := sevRank(a.sev), sevRank(b.sev); ra != rb {
				return ra - rb
			}
			return strings.Compare(a.code, b.code)
		})
	}
	s.buildMask()
}

func sevRank(s tables.Severity) int {
	switch s {
	case tables.MCC:
		return 0
	case tables.CC:
		return 1
	}
	return 2
}

// formClusters finds the procedure clusters completed by the claim (§4.2).
func (s *state) formClusters() {
	if s.npr == 0 {
		return
	}
	var cands [maxClusters * 4]*ccluster
	nc := 0
	for i := range s.npr {
		if s.pr[i].c == nil {
			continue
		}
		if s.pr[i].c.clusters == nil {
			continue
		}
		for _, cl := range *s.pr[i].c.clusters {
			dup := false
			for _, x := range cands[:nc] {
				if x == cl {
					dup = true
					break
				}
			}
			if !dup && nc < len(cands) {
				cands[nc] = cl
				nc++
			}
		}
	}
	type formed struct {
		cl      *ccluster
		members uint32 // procedures (index in s.pr) whose code was chosen
	}
	var fs [maxClusters]formed
	nf := 0
	for _, cl := range cands[:nc] {
		var filled uint64
		var chosen uint32
		want := uint64(1)<<uint(cl.nslots+1) - 2 // slots 1..n
		done := false
		for j := range s.npr {
			slot, ok := cl.slots[s.pr[j].code]
			if !ok {
				continue
			}
			filled |= 1 << slot
			chosen |= 1 << j
			if filled&want == want {
				done = true
				break
			}
		}
		if !done || nf == len(fs) {
			continue
		}
		var members uint32
		for j := range s.npr {
			for k := range s.npr {
				if chosen&(1<<k) != 0 && s.pr[j].code == s.pr[k].code {
					members |= 1 << j
					break
				}
			}
		}
		fs[nf] = formed{cl, members}
		nf++
	}
	slices.SortFunc(fs[:nf], func(a, b formed) int { return strings.Compare(a.cl.id, b.cl.id) })
	for i, f := range fs[:nf] {
		s.cl[i] = f.cl
		for j := range s.npr {
			if f.members&(1<<j) != 0 {
				s.pr[j].suppr |= f.cl.suppr
				s.pr[j].clusters |= 1 << i
			}
		}
	}
	s.ncl = nf
}

func (s *state) addNone(name uint16, suppr uint32) {
	if !s.noneSet.has(name) {
		s.noneSet.set(name)
		s.hid[name] = suppr
		s.touched = append(s.touched, name)
		return
	}
	s.hid[name] &= suppr
}

// buildMask builds the attribute mask of the claim (§5), without the per-formula severity item.
func (s *state) buildMask() {
	c := s.c
	for i := range s.nsdx {
		{
			x := s.sdx[i].a
			for _, a := range x.ops {
				s.sdxSet.set(a)
			}
			for _, a := range x.cats {
				s.sdxSet.set(a)
			}
			for _, a := range x.hacs {
				s.sdxSet.set(a)
			}
		}
	}
	for i := range s.npr {
		p := s.pr[i]
		for _, a := range p.attrs {
			s.addNone(a, p.suppr)
		}
	}
	for i := range s.ncl {
		for _, a := range s.cl[i].attrs {
			s.addNone(a, 0)
		}
	}
	{
		x := s.pdx.a
		for _, a := range x.ops {
			s.pdxSet.set(a)
		}
		for _, a := range x.hacs {
			s.pdxSet.set(a)
		}
		for _, a := range x.cats {
			s.pdxSet.set(a)
		}
	}
	if s.pdx.flags&fValid == 0 {
		s.pdxSet.set(c.idInvalidPDX)
	}
	if code := s.pdx.code; code != "" {
		switch code[0] {
		case 'V', 'W', 'X', 'Y', 'v', 'w', 'x', 'y':
			s.pdxSet.set(c.idPDXEcode)
		}
	}
	if s.dstat != 20 {
		s.addNone(c.idALIVE, 0)
	}
	switch s.dstat {
	case dstatNone:
		s.addNone(c.idInvalidDstat, 0)
	case 7:
		s.addNone(c.idAMA, 0)
	case 20:
		s.addNone(c.idDIED, 0)
	case 2, 5, 66, 82, 85, 94:
		s.addNone(c.idXFRNBA, 0)
	}
	s.addNone(c.idANYDX, 0)
	if s.pdx.a.incident {
		s.onlyIncident = true
		for i := range s.nsdx {
			x := s.sdx[i]
			if x.flags&fValid != 0 && !x.a.incident {
				s.onlyIncident = false
				break
			}
		}
	}
	if s.sex == sexUnknown && s.pdx.flags&fSexUnresolved != 0 {
		s.addNone(c.idInvalidSex, 0)
	}
}

// sevItemNone marks a mask without severity item.
const sevItemNone Severity = 255

// setSeverityItem puts the per-formula severity item into the mask (§7 step 3.2).
func (s *state) setSeverityItem(sev Severity) {
	if sev == s.sevItem {
		return
	}
	s.sevItem = sev
	c := s.c
	s.noneSet.clear(c.idMCC)
	s.noneSet.clear(c.idCC)
	s.noneSet.clear(c.idNonCC)
	switch sev {
	case MCC:
		s.noneSet.set(c.idMCC)
	case CC:
		s.noneSet.set(c.idCC)
	default:
		s.noneSet.set(c.idNonCC)
	}
}
