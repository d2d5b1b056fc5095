// Package audit measures coding accuracy both ways. It compares a coder's codes with an
// auditor's (PDX, secondary diagnoses, procedures, POA, DRG and weight), draws reproducible
// audit samples, aggregates results per coder and per category against the 95 % accuracy
// benchmark, and flags encounters at risk of payer denial. It is pure: the caller groups the
// claims and stores the results.
package audit

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/msdrg-cdi/drg/claim"
)

// AccuracyBenchmark is the customary coding-accuracy target of HIM programs.
const AccuracyBenchmark = 0.95

// Coding is one person's coding of an encounter and the DRG it groups to.
type Coding struct {
	PDX        claim.Dx     `json:"pdx"`
	SDX        []claim.Dx   `json:"sdx"`
	Procedures []claim.Proc `json:"procedures"`
	DRG        int          `json:"drg"`
	Weight     float64      `json:"weight"`
}

// Finding kinds of a comparison.
const (
	FindingPDX         = "pdx"          // principal diagnosis differs
	FindingSDXMissing  = "sdx_missing"  // the auditor coded it, the coder did not
	FindingSDXExtra    = "sdx_extra"    // the coder coded it, the auditor did not
	FindingProcMissing = "proc_missing" // procedure the auditor coded, the coder did not
	FindingProcExtra   = "proc_extra"   // procedure the coder coded, the auditor did not
	FindingPOA         = "poa"          // same diagnosis, different present-on-admission value
	FindingDRG         = "drg"          // the two codings group differently
)

// Finding is one difference between coder and auditor, routed back to the coder.
type Finding struct {
	Kind    string `json:"kind"`
	Code    string `json:"code,omitempty"`
	Coder   string `json:"coder_value,omitempty"`
	Auditor string `json:"auditor_value,omitempty"`
	Message string `json:"message"`
}

// Comparison is the result of comparing one encounter's coder and auditor codings.
type Comparison struct {
	PDXAgree bool `json:"pdx_agree"`
	// SDX and procedure agreement as counts: true positives (both), false positives (coder
	// only) and false negatives (auditor only); POA values compared and agreeing. They are in
	// the JSON so that a stored comparison can be summarized again (Summarize).
	SDXBoth         int       `json:"sdx_both"`
	SDXCoderOnly    int       `json:"sdx_coder_only"`
	SDXAuditorOnly  int       `json:"sdx_auditor_only"`
	ProcBoth        int       `json:"proc_both"`
	ProcCoderOnly   int       `json:"proc_coder_only"`
	ProcAuditorOnly int       `json:"proc_auditor_only"`
	POACompared     int       `json:"poa_compared"`
	POAAgree        int       `json:"poa_agree"`
	DRGAgree        bool      `json:"drg_agree"`
	WeightDiff      float64   `json:"weight_diff"` // coder − auditor: > 0 over-coded, < 0 under-coded
	Findings        []Finding `json:"findings"`
}

// Compare compares a coder's coding with the auditor's, the auditor being the reference.
// Codes compare without dots and case-insensitively; a code listed twice counts once.
func Compare(coder, auditor Coding) Comparison {
	var c Comparison
	cp, ap := norm(coder.PDX.Code), norm(auditor.PDX.Code)
	c.PDXAgree = cp == ap
	if !c.PDXAgree {
		c.Findings = append(c.Findings, Finding{Kind: FindingPDX, Coder: cp, Auditor: ap,
			Message: fmt.Sprintf("principal diagnosis %s; the auditor assigned %s", orNone(cp), orNone(ap))})
	}
	coderSDX, auditorSDX := dxSet(coder.SDX), dxSet(auditor.SDX)
	for _, code := range sortedKeys(auditorSDX) {
		if poa, ok := coderSDX[code]; ok {
			c.SDXBoth++
			c.POACompared++
			if poa == auditorSDX[code] {
				c.POAAgree++
			} else {
				c.Findings = append(c.Findings, Finding{Kind: FindingPOA, Code: code, Coder: poa, Auditor: auditorSDX[code],
					Message: fmt.Sprintf("%s present on admission %s; the auditor assigned %s", code, orNone(poa), orNone(auditorSDX[code]))})
			}
			continue
		}
		c.SDXAuditorOnly++
		c.Findings = append(c.Findings, Finding{Kind: FindingSDXMissing, Code: code, Auditor: auditorSDX[code],
			Message: fmt.Sprintf("secondary diagnosis %s is supported but was not coded", code)})
	}
	for _, code := range sortedKeys(coderSDX) {
		if _, ok := auditorSDX[code]; !ok {
			c.SDXCoderOnly++
			c.Findings = append(c.Findings, Finding{Kind: FindingSDXExtra, Code: code, Coder: coderSDX[code],
				Message: fmt.Sprintf("secondary diagnosis %s was coded but the auditor did not find it supported", code)})
		}
	}
	coderPr, auditorPr := procSet(coder.Procedures), procSet(auditor.Procedures)
	for _, code := range sortedKeys(auditorPr) {
		if _, ok := coderPr[code]; ok {
			c.ProcBoth++
		} else {
			c.ProcAuditorOnly++
			c.Findings = append(c.Findings, Finding{Kind: FindingProcMissing, Code: code,
				Message: fmt.Sprintf("procedure %s was performed but not coded", code)})
		}
	}
	for _, code := range sortedKeys(coderPr) {
		if _, ok := auditorPr[code]; !ok {
			c.ProcCoderOnly++
			c.Findings = append(c.Findings, Finding{Kind: FindingProcExtra, Code: code,
				Message: fmt.Sprintf("procedure %s was coded but the auditor did not find it documented", code)})
		}
	}
	c.DRGAgree = coder.DRG == auditor.DRG
	c.WeightDiff = coder.Weight - auditor.Weight
	if !c.DRGAgree {
		dir := "higher"
		if c.WeightDiff < 0 {
			dir = "lower"
		}
		c.Findings = append(c.Findings, Finding{Kind: FindingDRG, Coder: fmt.Sprintf("%03d", coder.DRG), Auditor: fmt.Sprintf("%03d", auditor.DRG),
			Message: fmt.Sprintf("DRG %03d instead of %03d (relative weight %+.4f, %s)", coder.DRG, auditor.DRG, c.WeightDiff, dir)})
	}
	return c
}

func norm(code string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), ".", ""))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func dxSet(l []claim.Dx) map[string]string {
	m := make(map[string]string, len(l))
	for _, d := range l {
		if code := norm(d.Code); code != "" {
			if _, dup := m[code]; !dup {
				m[code] = strings.ToUpper(d.POA)
			}
		}
	}
	return m
}

func procSet(l []claim.Proc) map[string]bool {
	m := make(map[string]bool, len(l))
	for _, p := range l {
		if code := norm(p.Code); code != "" {
			m[code] = true
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Candidate is an encounter that can be drawn into an audit sample.
type Candidate struct {
	EncounterID string   `json:"encounter_id"`
	Coder       string   `json:"coder"`
	DRG         int      `json:"drg"`
	RiskFlags   []string `json:"risk_flags,omitempty"` // kinds of RiskFlag
}

// SampleSpec describes an audit sample: its size, the seed that makes it reproducible, and
// optional targeting (only candidates matching every given criterion are eligible).
type SampleSpec struct {
	Size     int      `json:"size"`
	Seed     uint64   `json:"seed"`
	DRGs     []int    `json:"drgs,omitempty"`
	Coders   []string `json:"coders,omitempty"`
	RiskFlag string   `json:"risk_flag,omitempty"`
}

// Sample draws a reproducible sample without replacement: the eligible candidates are sorted
// by encounter id, shuffled with the seed (PCG) and the first Size taken. The same population,
// spec and seed always give the same sample.
func Sample(pop []Candidate, spec SampleSpec) []Candidate {
	var eligible []Candidate
	for _, c := range pop {
		if len(spec.DRGs) > 0 && !slices.Contains(spec.DRGs, c.DRG) {
			continue
		}
		if len(spec.Coders) > 0 && !slices.Contains(spec.Coders, c.Coder) {
			continue
		}
		if spec.RiskFlag != "" && !slices.Contains(c.RiskFlags, spec.RiskFlag) {
			continue
		}
		eligible = append(eligible, c)
	}
	slices.SortFunc(eligible, func(a, b Candidate) int { return cmp.Compare(a.EncounterID, b.EncounterID) })
	rng := rand.New(rand.NewPCG(spec.Seed, 0x9E3779B97F4A7C15))
	rng.Shuffle(len(eligible), func(i, j int) { eligible[i], eligible[j] = eligible[j], eligible[i] })
	if spec.Size >= 0 && spec.Size < len(eligible) {
		eligible = eligible[:spec.Size]
	}
	return eligible
}
