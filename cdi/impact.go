package cdi

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/tables"
)

// Impact is what documenting an opportunity would change: the DRG and relative weight before
// and after regrouping the working codes with the candidate codes, and the CMS-HCC (V28)
// categories gained. When the DRG does not change, NoImpact says why.
type Impact struct {
	Version        int     `json:"version"`
	DRGBefore      int     `json:"drg_before,omitempty"`
	TitleBefore    string  `json:"title_before,omitempty"`
	SeverityBefore string  `json:"severity_before,omitempty"`
	DRGAfter       int     `json:"drg_after,omitempty"`
	TitleAfter     string  `json:"title_after,omitempty"`
	SeverityAfter  string  `json:"severity_after,omitempty"`
	WeightBefore   float64 `json:"weight_before,omitempty"`
	WeightAfter    float64 `json:"weight_after,omitempty"`
	// WeightDelta is WeightAfter − WeightBefore (negative for a clinical validation
	// opportunity: the weight at risk if the diagnosis is not supported).
	WeightDelta float64 `json:"weight_delta"`
	// WeightsFY is the fiscal year of the Table 5 used; 0 when no weights are loaded for the
	// version (the DRGs are still computed).
	WeightsFY int `json:"weights_fy,omitempty"`
	// HCCGained are the CMS-HCC V28 categories the candidates add after hierarchies.
	HCCGained []HCC `json:"hcc_gained,omitempty"`
	HCCYear   int   `json:"hcc_year,omitempty"`
	// Codes of the what-if claim compared with the working codes.
	CodesAdded   []string `json:"codes_added,omitempty"`
	CodesRemoved []string `json:"codes_removed,omitempty"`
	PDXAfter     string   `json:"pdx_after,omitempty"`
	// NoImpact explains a zero DRG impact ("an MCC is already present (J9601)").
	NoImpact string `json:"no_impact,omitempty"`
}

// HCC is a CMS-HCC category.
type HCC struct {
	Number int    `json:"hcc"`
	Label  string `json:"label,omitempty"`
}

// HCCModelName is the risk-adjustment model used for HCC impact.
const HCCModelName = "CMS-HCC V28"

// whatIf is a change of the working codes.
type whatIf struct {
	add       []claim.Dx
	remove    []string
	principal bool              // add[0] becomes the principal diagnosis, the PDX moves to SDX
	setPOA    map[string]string // code → POA
}

// impactOf measures an opportunity's impact.
func (rc *reviewCtx) impactOf(o *Opportunity) Impact {
	var w whatIf
	switch {
	case o.Kind == KindClinicalValidation:
		w.remove = o.Replaces
	case o.Reason == ReasonMissingPOA:
		w.setPOA = map[string]string{}
		for _, c := range o.Replaces {
			w.setPOA[c] = "Y"
		}
	case o.Reason == ReasonConflictingDocumentation:
		// The member documented last is measured; the others leave the working codes.
		if n := len(o.Candidates); n > 0 {
			w.add = []claim.Dx{{Code: o.Candidates[n-1].Code, POA: o.POA}}
			for _, c := range o.Candidates[:n-1] {
				w.remove = append(w.remove, c.Code)
			}
		}
	case len(o.Candidates) == 0:
		return Impact{Version: int(rc.v), NoImpact: "open-ended query: the impact depends on the provider's answer"}
	default:
		poa := o.POA
		for _, r := range o.Replaces {
			if p := rc.poaOf(r); p != "" {
				poa = p
			}
		}
		for _, c := range o.Candidates {
			w.add = append(w.add, claim.Dx{Code: c.Code, POA: poa})
		}
		w.remove = o.Replaces
		w.principal = o.Principal
	}
	imp := rc.regroup(w)
	if o.Reason == ReasonMissingPOA && imp.NoImpact != "" {
		n := rc.regroup(whatIf{setPOA: map[string]string{o.Replaces[0]: "N"}})
		if n.DRGAfter != 0 && n.DRGAfter != imp.DRGAfter {
			imp.NoImpact = ""
			imp.DRGAfter, imp.TitleAfter, imp.SeverityAfter = n.DRGAfter, n.TitleAfter, n.SeverityAfter
			imp.WeightAfter, imp.WeightDelta = n.WeightAfter, n.WeightDelta
		}
	}
	return imp
}

// poaOf returns the POA of a working code, or "".
func (rc *reviewCtx) poaOf(code string) string {
	if p := rc.base.PDX; p != nil && p.Code == code {
		return p.POA
	}
	for _, d := range rc.base.SDX {
		if d.Code == code {
			return d.POA
		}
	}
	return ""
}

// regroup groups the working codes changed by w and compares with the working DRG.
func (rc *reviewCtx) regroup(w whatIf) Impact {
	imp := Impact{Version: int(rc.v)}
	if rc.baseRes == nil && !w.principal {
		imp.NoImpact = "no working principal diagnosis: the DRG cannot be computed until one is coded"
		return imp
	}
	c := rc.base
	c.SDX = nil
	var pdx *claim.Dx
	if rc.base.PDX != nil && rc.base.PDX.Code != "" {
		p := *rc.base.PDX
		pdx = &p
	}
	pdxRemoved := pdx != nil && slices.Contains(w.remove, pdx.Code)
	for _, d := range rc.base.SDX {
		if !slices.Contains(w.remove, d.Code) {
			c.SDX = append(c.SDX, d)
		}
	}
	add := w.add
	switch {
	case w.principal && len(add) > 0:
		if pdx != nil && !pdxRemoved {
			c.SDX = append([]claim.Dx{{Code: pdx.Code, POA: "Y"}}, c.SDX...)
		}
		pdx = &claim.Dx{Code: add[0].Code, POA: add[0].POA}
		add = add[1:]
	case pdxRemoved && len(add) > 0:
		pdx = &claim.Dx{Code: add[0].Code, POA: pdx.POA}
		add = add[1:]
	case pdxRemoved:
		if len(c.SDX) == 0 {
			imp.NoImpact = "removing the only diagnosis leaves nothing to group"
			return imp
		}
		p := c.SDX[0]
		pdx, c.SDX = &p, c.SDX[1:]
	}
	// Added codes go first: the grouper reads the first 24 secondary diagnoses, and a coder
	// sequences a newly documented diagnosis where it counts.
	var added []claim.Dx
	for _, d := range add {
		if d.Code == pdx.Code || slices.ContainsFunc(c.SDX, func(x claim.Dx) bool { return x.Code == d.Code }) ||
			slices.ContainsFunc(added, func(x claim.Dx) bool { return x.Code == d.Code }) {
			continue
		}
		added = append(added, d)
	}
	c.SDX = append(added, c.SDX...)
	for i := range c.SDX {
		if p, ok := w.setPOA[c.SDX[i].Code]; ok {
			c.SDX[i].POA = p
		}
	}
	c.PDX = pdx
	after, err := rc.e.g.Group(&c, grouper.Options{})
	if err != nil {
		imp.NoImpact = "regrouping failed: " + err.Error()
		return imp
	}
	imp.DRGAfter, imp.TitleAfter, imp.SeverityAfter = after.Final.DRG, after.Final.DRGTitle, after.Final.Severity.String()
	imp.PDXAfter = pdx.Code
	imp.CodesAdded, imp.CodesRemoved = codeDiff(&rc.base, &c)
	wAfter, okAfter := rc.weight(after.Final.DRG)
	if ws, ok := rc.e.cat.WeightsFor(rc.v); ok {
		imp.WeightsFY = ws.FiscalYear
	}
	imp.WeightAfter = wAfter
	if rc.baseRes != nil {
		b := rc.baseRes.Final
		imp.DRGBefore, imp.TitleBefore, imp.SeverityBefore = b.DRG, b.DRGTitle, b.Severity.String()
		wBefore, okBefore := rc.weight(b.DRG)
		imp.WeightBefore = wBefore
		if okBefore && okAfter {
			imp.WeightDelta = math.Round((wAfter-wBefore)*10000) / 10000
		}
	}
	imp.HCCGained, imp.HCCYear = rc.hccGained(&c)
	if imp.DRGAfter == imp.DRGBefore {
		imp.NoImpact = rc.whyNoImpact(w, &c, after)
	}
	return imp
}

// codeDiff lists the diagnosis codes of b absent from a, and of a absent from b.
func codeDiff(a, b *claim.Claim) (added, removed []string) {
	codes := func(c *claim.Claim) []string {
		var l []string
		if c.PDX != nil {
			l = append(l, c.PDX.Code)
		}
		for _, d := range c.SDX {
			l = append(l, d.Code)
		}
		return l
	}
	ca, cb := codes(a), codes(b)
	for _, x := range cb {
		if !slices.Contains(ca, x) {
			added = append(added, x)
		}
	}
	for _, x := range ca {
		if !slices.Contains(cb, x) {
			removed = append(removed, x)
		}
	}
	return added, removed
}

// weight returns the relative weight of a DRG in the Table 5 of the review's version.
func (rc *reviewCtx) weight(drg int) (float64, bool) {
	ws, ok := rc.e.cat.WeightsFor(rc.v)
	if !ok {
		rc.warn(fmt.Sprintf("no Table 5 weights for FY%d: weight deltas are not computed", tables.VersionFiscalYear(rc.v)))
		return 0, false
	}
	row, ok := ws.Get(drg)
	return row.Weight, ok
}

// hccModel returns the V28 model of the version's fiscal year, else of the newest year loaded.
func (rc *reviewCtx) hccModel() (*tables.HCCModel, int) {
	fy := tables.VersionFiscalYear(rc.v)
	years := make([]int, 0, len(rc.e.cat.HCC))
	for y := range rc.e.cat.HCC {
		years = append(years, y)
	}
	slices.Sort(years)
	if _, ok := rc.e.cat.HCC[fy]; !ok && len(years) > 0 {
		fy = years[len(years)-1]
	}
	h := rc.e.cat.HCC[fy]
	if h == nil {
		return nil, 0
	}
	m, ok := h.Model(HCCModelName)
	if !ok {
		return nil, 0
	}
	return m, fy
}

// hccSet returns the HCCs of a claim's diagnoses after the model's hierarchies.
func hccSet(m *tables.HCCModel, c *claim.Claim) []int {
	var set []int
	addCode := func(code string) {
		for _, h := range m.HCCs(code) {
			if !slices.Contains(set, h) {
				set = append(set, h)
			}
		}
	}
	if c.PDX != nil {
		addCode(c.PDX.Code)
	}
	for _, d := range c.SDX {
		addCode(d.Code)
	}
	var out []int
	for _, h := range set {
		dropped := false
		for _, p := range set {
			if p != h && slices.Contains(m.Excludes(p), h) {
				dropped = true
				break
			}
		}
		if !dropped {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

func (rc *reviewCtx) hccGained(after *claim.Claim) ([]HCC, int) {
	m, year := rc.hccModel()
	if m == nil {
		return nil, 0
	}
	before := hccSet(m, &rc.base)
	var out []HCC
	for _, h := range hccSet(m, after) {
		if !slices.Contains(before, h) {
			l, _ := m.Label(h)
			out = append(out, HCC{Number: h, Label: l})
		}
	}
	return out, year
}

// whyNoImpact explains why the what-if claim groups to the working DRG.
func (rc *reviewCtx) whyNoImpact(w whatIf, c *claim.Claim, after *grouper.Result) string {
	drg := after.Final.DRG
	pdxReplaced := rc.base.PDX != nil && slices.Contains(w.remove, rc.base.PDX.Code) && len(w.add) > 0
	switch {
	case (w.principal || pdxReplaced) && len(w.add) > 0:
		return fmt.Sprintf("DRG %03d also with %s as principal diagnosis", drg, w.add[0].Code)
	case len(w.setPOA) > 0:
		return fmt.Sprintf("DRG %03d whatever the present-on-admission status", drg)
	case len(w.add) == 0 && len(w.remove) > 0:
		return fmt.Sprintf("DRG %03d also without %s", drg, strings.Join(w.remove, ", "))
	}
	if rc.baseRes == nil {
		return ""
	}
	if added, removed := codeDiff(&rc.base, c); len(added)+len(removed) == 0 {
		return fmt.Sprintf("the working codes already reflect %s: nothing changes", codesOfDx(w.add))
	}
	baseMCC, baseCC := severityCodes(rc.baseRes)
	var reasons []string
	for _, d := range w.add {
		r, ok := dxResult(after, d.Code)
		if !ok {
			continue
		}
		var why string
		switch r.FinalSeverity {
		case grouper.MCCExcluded, grouper.CCExcluded:
			why = fmt.Sprintf("%s is excluded as a CC/MCC with principal diagnosis %s", d.Code, c.PDX.Code)
		case grouper.MCCExcludedByDRGLogic, grouper.CCExcludedByDRGLogic:
			why = fmt.Sprintf("%s is not counted as a CC/MCC by the logic of DRG %03d", d.Code, drg)
		case grouper.UsageMCC:
			if len(baseMCC) > 0 {
				why = fmt.Sprintf("an MCC is already present (%s): %s adds nothing", strings.Join(baseMCC, ", "), d.Code)
			} else {
				why = fmt.Sprintf("DRG %03d has no MCC split", drg)
			}
		case grouper.UsageCC:
			switch {
			case len(baseMCC) > 0:
				why = fmt.Sprintf("an MCC is already present (%s): the CC %s adds nothing", strings.Join(baseMCC, ", "), d.Code)
			case len(baseCC) > 0:
				why = fmt.Sprintf("a CC is already present (%s): %s adds nothing", strings.Join(baseCC, ", "), d.Code)
			default:
				why = fmt.Sprintf("DRG %03d has no CC split", drg)
			}
		default:
			switch {
			case hacMet(r):
				why = fmt.Sprintf("%s with POA %s is a hospital-acquired condition: it does not count as a CC/MCC", d.Code, d.POA)
			case r.Severity == "NCC" || r.Severity == "":
				why = fmt.Sprintf("%s is not a CC or MCC", d.Code)
			default:
				why = fmt.Sprintf("%s does not count as a CC/MCC here", d.Code)
			}
		}
		if !slices.Contains(reasons, why) {
			reasons = append(reasons, why)
		}
	}
	if len(reasons) == 0 {
		return fmt.Sprintf("DRG %03d either way", drg)
	}
	if len(w.remove) > 0 && len(w.add) > 0 {
		lr, okR := rc.level(w.remove[0])
		la, okA := rc.level(w.add[0].Code)
		if okR && okA && lr == la {
			reasons = append(reasons, fmt.Sprintf("the replaced %s has the same level (%s)", w.remove[0], lr))
		}
	}
	return strings.Join(reasons, "; ")
}

func codesOfDx(ds []claim.Dx) string {
	l := make([]string, len(ds))
	for i, d := range ds {
		l[i] = d.Code
	}
	return strings.Join(l, ", ")
}

func severityCodes(r *grouper.Result) (mcc, cc []string) {
	for _, d := range r.Dx {
		switch d.FinalSeverity {
		case grouper.UsageMCC:
			mcc = append(mcc, d.Code)
		case grouper.UsageCC:
			cc = append(cc, d.Code)
		}
	}
	return mcc, cc
}

func dxResult(r *grouper.Result, code string) (*grouper.DxResult, bool) {
	for i := range r.Dx {
		if r.Dx[i].Code == code && r.Dx[i].Role == "sdx" {
			return &r.Dx[i], true
		}
	}
	return nil, false
}

func hacMet(r *grouper.DxResult) bool {
	for i := range r.HACs.Len() {
		if r.HACs.At(i).Status == grouper.HACCriteriaMet {
			return true
		}
	}
	return false
}
