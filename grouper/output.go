package grouper

import (
	"slices"
	"strings"

	"github.com/msdrg-cdi/drg/claim"
)

// output builds the result record (§12).
func (s *state) output(cl *claim.Claim, r *Result) {
	c := s.c
	r.ID = cl.ID
	r.DischargeDate = cl.DischargeDate
	r.Version = int(c.version)
	r.Weight, r.GMLOS, r.AMLOS, r.WeightYear, r.Payment, r.Explanation = 0, 0, 0, 0, nil, ""
	ini, fin := &s.res[phaseInitial], &s.res[phaseFinal]
	if ini.ungroupable {
		r.Initial = s.ungroupable(ini.rc)
		r.Final = r.Initial
	} else {
		r.Initial = s.outcome(ini)
		if fin.ungroupable {
			r.Final = s.ungroupable(fin.rc)
		} else {
			r.Final = s.outcome(fin)
		}
		if !s.finalRan {
			for i := range s.nsdx {
				x := s.sdx[i]
				x.usage[phaseFinal] = s.usageAfterHACUngroupable(x)
			}
		}
	}

	// HAC summary (§12.4).
	var numbers uint32
	for i := range s.nsdx {
		x := s.sdx[i]
		for _, k := range x.rep[:x.nrep] {
			if h := &x.hac[k]; h.status == HACCriteriaMet && h.number >= 0 && h.number < 32 {
				numbers |= 1 << uint(h.number)
			}
		}
	}
	r.HACCategories = popcount(numbers)
	switch {
	case s.hosp == hospExempt || r.HACCategories == 0:
		r.HACStatus = HACNotApplicable
	case r.Initial.DRG == r.Final.DRG:
		r.HACStatus = HACFinalDRGNoChange
	case r.Final.DRG == 999:
		r.HACStatus = HACFinalDRGUngroupable
	default:
		r.HACStatus = HACFinalDRGChanges
	}

	r.AdmitDx = AdmitDxNotGiven
	if cl.AdmitDx != nil && cl.AdmitDx.Code != "" && !strings.EqualFold(cl.AdmitDx.Code, "null") {
		r.AdmitDx = AdmitDxInvalid
		if d := c.diagnosis(cl.AdmitDx.Code); d != nil && d.valid() {
			r.AdmitDx = AdmitDxValid
		}
	}

	// Diagnoses: PDX, then SDX in input order.
	r.Dx = slices.Grow(r.Dx[:0], 1+s.nsdx)[:1+s.nsdx]
	pdx := &r.Dx[0]
	pdxCode := s.pdx.code
	if !s.pdxGiven {
		pdxCode = ""
	}
	poaIn := ""
	if cl.PDX != nil {
		poaIn = cl.PDX.POA
	}
	*pdx = DxResult{Code: pdxCode, Role: "pdx", POA: poaIn, Recognized: s.pdx.flags&fValid != 0,
		Severity: levelName(&s.pdx), AffectsDRG: s.pdx.affects, POAError: POANotChecked}
	s.hacList(&s.pdx, &pdx.HACs)
	for i := range s.nsdx {
		x := s.sdx[i]
		d := &r.Dx[1+x.input]
		*d = DxResult{Code: x.code, Role: "sdx", POA: cl.SDX[x.input].POA, Recognized: x.flags&fValid != 0,
			Severity: levelName(x), InitialSeverity: x.usage[phaseInitial], FinalSeverity: x.usage[phaseFinal],
			AffectsDRG: x.affects, POAError: x.poaErr}
		s.hacList(x, &d.HACs)
		if x.flags&fPDXExcluded != 0 && s.pdx.c != nil {
			d.ExclusionGroup = c.exclusionGroupID(s.pdx.c)
		}
	}

	r.Pr = slices.Grow(r.Pr[:0], s.npr)[:s.npr]
	if r.Pr == nil {
		r.Pr = noProcedures
	}
	for i := range s.npr {
		p := s.pr[i]
		r.Pr[p.input] = PrResult{Code: p.code, Recognized: p.recognized, IsOR: p.isOR,
			AffectsDRG: p.affects, HACUsage: ProcHACs(p.hacUsage)}
	}
}

func levelName(x *dxState) string {
	if x.flags&fValid == 0 {
		return ""
	}
	return x.sev.String()
}

func popcount(x uint32) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// hacList renders the reported HAC entries of a code, sorted by number (stable).
func (s *state) hacList(x *dxState, l *HACList) {
	*l = HACList{}
	for _, k := range x.rep[:x.nrep] {
		h := &x.hac[k]
		l.add(HACEntry{Number: h.number, Status: h.status, List: h.list, Description: s.c.hacTitle[h.hac]})
	}
	slices.SortStableFunc(l.e[:l.n], func(a, b HACEntry) int { return a.Number - b.Number })
}

// usageAfterHACUngroupable is the final severity usage of an SDX when HAC processing made the
// final DRG ungroupable (§12.1).
func (s *state) usageAfterHACUngroupable(x *dxState) Usage {
	sev := severityOf(x.sev)
	switch {
	case x.flags&fPDXExcluded != 0:
		switch sev {
		case MCC:
			return MCCExcluded
		case CC:
			return CCExcluded
		}
		return Neither
	case x.flags&fSuppressed != 0 && s.c.logic.excludedByLogic:
		switch sev {
		case MCC:
			return MCCExcludedByDRGLogic
		case CC:
			return CCExcludedByDRGLogic
		}
		return Neither
	case x.flags&fDiedExcluded != 0:
		return Neither
	case x.hasMetFlag():
		return Neither
	case sev == MCC:
		return UsageMCC
	case sev == CC:
		return UsageCC
	}
	return Neither
}

// outcome builds the result of a grouped phase (§8, §12.3).
func (s *state) outcome(pr *phaseResult) Outcome {
	c := s.c
	m := pr.m
	o := Outcome{DRG: m.r.drg, BaseDRG: m.r.baseDRG, MDC: pr.mdc, Type: m.r.typ, GRC: OK, Severity: pr.sev, SDXSeverity: NonCC}
	for _, a := range m.acc {
		if a.name == c.idMCC {
			o.SDXSeverity = MCC
			break
		}
		if a.name == c.idCC {
			o.SDXSeverity = CC
		}
	}
	o.DRGTitle, o.BaseDRGTitle, o.MDCTitle = c.drgTitle.of(o.DRG), c.baseTitle.of(o.BaseDRG), c.mdcTitle.of(o.MDC)
	return o
}

// ungroupable is the DRG 999 result with a return code (§2.1).
func (s *state) ungroupable(rc ReturnCode) Outcome {
	c := s.c
	return Outcome{DRG: 999, BaseDRG: 999, MDC: 0, Type: TypeNone, GRC: rc, Severity: SevNone, SDXSeverity: NonCC,
		DRGTitle: c.drgTitle.of(999), BaseDRGTitle: c.baseTitle.of(999), MDCTitle: c.mdcTitle.of(0)}
}

// noProcedures renders an empty procedure list as [] rather than null.
var noProcedures = []PrResult{}
