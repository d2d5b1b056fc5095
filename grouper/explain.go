package grouper

import (
	"fmt"
	"slices"
	"strings"
)

// tracer records the path taken by one claim for the explanation.
type tracer struct {
	rows [2][]tracedRow
}

type tracedRow struct {
	mdc int
	r   *row
	ok  bool
	sev Severity
}

func (t *tracer) row(ph phase, mdc int, r *row, ok bool, sev Severity) {
	t.rows[ph] = append(t.rows[ph], tracedRow{mdc, r, ok, sev})
}

var phaseNames = [2]string{"Initial", "Final"}

// maxListedRows is how many non-matching rules of one MDC are listed before summarizing.
const maxListedRows = 12

// render writes the explanation: the path of each phase, why each SDX did or did not count as
// CC/MCC, and the HAC decisions. Coders and auditors read it; it names codes and rules.
func (t *tracer) render(s *state, r *Result) string {
	var b strings.Builder
	c := s.c
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	w("MS-DRG v%s, hospital POA status %s, tie-breaker %s.", c.version, []string{"NON_EXEMPT", "EXEMPT", "UNKNOWN"}[s.hosp],
		map[TieBreaker]string{ClinicalSignificance: "clinical significance", CodeOrder: "code order"}[s.opt.TieBreaker])
	w("Principal diagnosis %s: %s.", display(s.pdx.code), s.describePDX())
	for ph := phaseInitial; ph <= phaseFinal; ph++ {
		out := &r.Initial
		if ph == phaseFinal {
			out = &r.Final
			if s.res[phaseInitial].ungroupable {
				break
			}
			if !s.finalRan {
				w("")
				w("Final grouping: not run. HAC processing made the claim ungroupable: return code %s → DRG 999.", r.Final.GRC)
				break
			}
			if s.hosp == hospExempt || r.HACCategories == 0 {
				w("")
				w("Final grouping: no hospital-acquired condition applies, so the final DRG equals the initial DRG (%03d).", r.Final.DRG)
				continue
			}
		}
		w("")
		w("%s grouping:", phaseNames[ph])
		t.renderRows(&b, s, ph)
		pr := &s.res[ph]
		if pr.ungroupable {
			w("  → ungroupable: return code %s (DRG 999).", pr.rc)
			continue
		}
		w("  → DRG %03d %s (MDC %02d, %s, claim severity %s).", out.DRG, out.DRGTitle, out.MDC, out.Type, out.Severity)
		if used := s.usedBy(pr.m); len(used) > 0 {
			w("  The matching rule used: %s.", strings.Join(used, "; "))
		}
	}
	if s.nsdx > 0 && !s.res[phaseInitial].ungroupable {
		w("")
		w("Secondary diagnoses:")
		for i := range s.nsdx {
			x := s.sdxByInput(i)
			w("  %s", s.describeSDX(x, r))
		}
	}
	if s.nsdx > 0 && s.res[phaseInitial].ungroupable {
		w("")
		w("Secondary diagnoses were not evaluated: the claim is ungroupable before CC/MCC logic (return code %s).", r.Initial.GRC)
	}
	return strings.TrimRight(b.String(), "\n")
}

func display(code string) string {
	if code == "" {
		return "(blank)"
	}
	return code
}

func (s *state) describePDX() string {
	p := &s.pdx
	if p.flags&fValid == 0 {
		return fmt.Sprintf("not a valid ICD-10-CM code in v%s", s.c.version)
	}
	var parts []string
	switch {
	case p.c.hasGender() && p.flags&fSexUnresolved != 0:
		parts = append(parts, fmt.Sprintf("its MDC depends on sex (male %d, female %d) and sex is unknown", p.c.genderMDC[0], p.c.genderMDC[1]))
	case p.c.hasGender():
		parts = append(parts, fmt.Sprintf("MDC %02d %s (sex-specific)", p.mdc, s.c.mdcTitle.of(p.mdc)))
	default:
		parts = append(parts, fmt.Sprintf("MDC %02d %s", p.mdc, s.c.mdcTitle.of(p.mdc)))
	}
	if names := s.c.names2(p.a.ops, p.a.cats); names != "" {
		parts = append(parts, "attributes "+names)
	}
	return strings.Join(parts, "; ")
}

func (c *compiled) names2(lists ...[]uint16) string {
	var out []string
	for _, l := range lists {
		for _, id := range l {
			out = append(out, c.byID[id])
		}
	}
	return strings.Join(out, " ")
}

func mdcLabel(c *compiled, m int) string {
	if m == 0 {
		return "Pre-MDC"
	}
	if t := c.mdcTitle.of(m); t != "" {
		return fmt.Sprintf("MDC %02d %s", m, t)
	}
	return fmt.Sprintf("MDC %02d", m)
}

func (t *tracer) renderRows(b *strings.Builder, s *state, ph phase) {
	c := s.c
	rows := t.rows[ph]
	for i := 0; i < len(rows); {
		mdc := rows[i].mdc
		j := i
		for j < len(rows) && rows[j].mdc == mdc {
			j++
		}
		group := rows[i:j]
		last := group[len(group)-1]
		fmt.Fprintf(b, "  %s: %d rule(s) evaluated in rank order", mdcLabel(c, mdc), len(group))
		if !last.ok {
			b.WriteString(", none matched.\n")
		} else {
			b.WriteString(".\n")
		}
		failed := group
		if last.ok {
			failed = group[:len(group)-1]
		}
		if n := len(failed); n > 0 {
			var drgs []string
			for k, tr := range failed {
				if k == maxListedRows {
					drgs = append(drgs, fmt.Sprintf("… %d more", n-k))
					break
				}
				drgs = append(drgs, ruleLabel(tr.r))
			}
			fmt.Fprintf(b, "    not matched: %s\n", strings.Join(drgs, ", "))
		}
		if last.ok {
			r := last.r
			fmt.Fprintf(b, "    matched rank %d: %s — rule %q (severity item %s)\n", r.rank, ruleLabel(r), r.f.Expr, last.sev)
			if len(r.supp) > 0 {
				fmt.Fprintf(b, "    this rule ignores secondary diagnoses carrying %s for CC/MCC\n", strings.Join(r.f.SeveritySuppression, ", "))
			}
		}
		i = j
	}
}

func ruleLabel(r *row) string {
	switch {
	case r.reroute != 0:
		return fmt.Sprintf("reroute to MDC %02d", r.reroute)
	case r.drg == 0:
		return fmt.Sprintf("control rule %q", r.f.Expr)
	}
	return fmt.Sprintf("DRG %03d", r.drg)
}

// usedBy lists, for each attribute the matching rule tested, the codes that carry it.
func (s *state) usedBy(m *match) []string {
	c := s.c
	var out []string
	seen := map[attr]bool{}
	for _, a := range m.acc {
		if seen[a] {
			continue
		}
		seen[a] = true
		name := c.byID[a.name]
		label := name
		if a.prefix != pfxNone {
			label = prefixNames[a.prefix] + ":" + name
		}
		var who []string
		switch a.prefix {
		case pfxPDX, pfxANY:
			if p := s.pdx.a; slices.Contains(p.ops, a.name) || slices.Contains(p.cats, a.name) || slices.Contains(p.hacs, a.name) {
				who = append(who, "PDX "+s.pdx.code)
			}
		}
		switch a.prefix {
		case pfxSDX, pfxANY:
			for i := range s.nsdx {
				x := s.sdx[i]
				if slices.Contains(x.a.ops, a.name) || slices.Contains(x.a.cats, a.name) || slices.Contains(x.a.hacs, a.name) {
					who = append(who, "SDX "+x.code)
				}
			}
		case pfxNone:
			switch a.name {
			case c.idMCC, c.idCC:
				for i := range s.nsdx {
					x := s.sdx[i]
					if x.flags&(fSuppressed|fPDXExcluded|fDiedExcluded) == 0 && !x.isHAC && severityOf(x.sev).String() == name {
						who = append(who, "SDX "+x.code)
					}
				}
			case c.idALIVE, c.idDIED, c.idAMA, c.idXFRNBA, c.idInvalidDstat:
				who = append(who, "discharge status")
			case c.siteNames[0], c.siteNames[1], c.siteNames[2], c.siteNames[3], c.siteNames[4], c.siteNames[5], c.siteNames[6], c.siteNames[7]:
				for _, x := range append([]*dxState{&s.pdx}, s.sdx[:s.nsdx]...) {
					if x.flags&fTraumaSite != 0 && c.hasFold(x.a.ops, c.fold[a.name]) {
						who = append(who, x.code)
					}
				}
			default:
				for i := range s.npr {
					if p := s.pr[i]; slices.Contains(p.attrs, a.name) {
						who = append(who, "procedure "+p.code)
					}
				}
				for i := range s.ncl {
					if slices.Contains(s.cl[i].attrs, a.name) {
						who = append(who, "procedure combination "+s.cl[i].id)
					}
				}
			}
		}
		if len(who) > 0 {
			label += " (" + strings.Join(who, ", ") + ")"
		}
		out = append(out, label)
	}
	return out
}

func (s *state) sdxByInput(i int) *dxState {
	for k := range s.nsdx {
		if s.sdx[k].input == i {
			return s.sdx[k]
		}
	}
	return nil
}

// describeSDX says why a secondary diagnosis did or did not count as CC/MCC.
func (s *state) describeSDX(x *dxState, r *Result) string {
	c := s.c
	d := &r.Dx[1+x.input]
	head := fmt.Sprintf("%s (POA %s)", display(x.code), display(d.POA))
	if x.flags&fValid == 0 {
		return head + ": not a valid ICD-10-CM code in this version; ignored."
	}
	level := map[string]string{"MCC": "an MCC", "CC": "a CC", "NCC": "not a CC/MCC"}[x.sev.String()]
	var why []string
	switch {
	case x.flags&fPDXExcluded != 0:
		why = append(why, fmt.Sprintf("is %s but excluded as CC/MCC because the principal diagnosis %s lists it in its CC/MCC exclusion group (%d)", level, s.pdx.code, d.ExclusionGroup))
	case x.flags&fDiedExcluded != 0:
		why = append(why, fmt.Sprintf("is %s only when the patient is discharged alive (mccalive) and the patient died", level))
	case d.InitialSeverity == MCCExcludedByDRGLogic || d.InitialSeverity == CCExcludedByDRGLogic || d.FinalSeverity == MCCExcludedByDRGLogic || d.FinalSeverity == CCExcludedByDRGLogic:
		why = append(why, fmt.Sprintf("is %s but the DRG's own logic ignores it for severity (its attribute is part of the DRG definition: %s)", level, c.names2(x.a.ops)))
	default:
		why = append(why, "is "+level)
	}
	if x.nrep > 0 {
		var hs []string
		for _, k := range x.rep[:x.nrep] {
			h := &x.hac[k]
			hs = append(hs, fmt.Sprintf("HAC %02d %s: %s", h.hac, c.hacTitle[h.hac], hacStatusText(h.status)))
		}
		why = append(why, strings.Join(hs, "; "))
		if x.isHAC {
			why = append(why, "as a hospital-acquired condition it does not count for the final DRG's severity")
		}
	}
	why = append(why, fmt.Sprintf("usage initial %s / final %s; affects DRG: %s", d.InitialSeverity, d.FinalSeverity, d.AffectsDRG))
	return head + ": " + strings.Join(why, "; ") + "."
}

func hacStatusText(st HACEntryStatus) string {
	switch st {
	case HACCriteriaMet:
		return "criteria met (not present on admission)"
	case HACCriteriaNotMet:
		return "criteria not met"
	case HACNotApplicableExclusion:
		return "not applicable (excluded by the principal diagnosis)"
	case HACNotApplicableExempt:
		return "not applicable (hospital exempt from POA reporting)"
	}
	return "not on a HAC list"
}
