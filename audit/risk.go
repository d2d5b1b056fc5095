package audit

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
)

// Risk flag kinds.
const (
	RiskSingleCCMCC    = "single_cc_mcc"       // the DRG depends on one CC or MCC
	RiskAuditedPDX     = "audited_pdx"         // the PDX is in a family payers commonly audit
	RiskShortStay      = "short_stay_surgical" // short stay with a high-weight surgical DRG
	RiskMCEPostPayment = "mce_postpayment"     // MCE post-payment edits
)

//go:embed risk_rules.json
var defaultRiskRules []byte

// RiskRules are the facility's denial-risk settings; DefaultRiskRules has the defaults.
type RiskRules struct {
	SingleCCMCC    bool         `json:"single_cc_mcc"`
	MCEPostPayment bool         `json:"mce_postpayment"`
	ShortStay      ShortStay    `json:"short_stay"`
	AuditedPDX     []AuditedPDX `json:"audited_pdx"`
}

// ShortStay flags stays of at most MaxLOSDays days whose DRG weight is at least MinWeight
// (surgical DRGs only when SurgicalOnly).
type ShortStay struct {
	MaxLOSDays   int     `json:"max_los_days"`
	MinWeight    float64 `json:"min_weight"`
	SurgicalOnly bool    `json:"surgical_only"`
}

// AuditedPDX is a family of principal diagnoses that payers commonly audit, by code prefix.
type AuditedPDX struct {
	Label    string   `json:"label"`
	Prefixes []string `json:"prefixes"`
}

// DefaultRiskRules returns the built-in rules.
func DefaultRiskRules() *RiskRules {
	r, err := ParseRiskRules(defaultRiskRules)
	if err != nil {
		panic(err) // the embedded file is part of the build
	}
	return r
}

// ParseRiskRules reads a rules file (the JSON layout of risk_rules.json).
func ParseRiskRules(b []byte) (*RiskRules, error) {
	var r RiskRules
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("risk rules: %w", err)
	}
	return &r, nil
}

// RiskFlag is one reason an encounter may be denied or audited.
type RiskFlag struct {
	Kind   string   `json:"kind"`
	Reason string   `json:"reason"`
	Codes  []string `json:"codes,omitempty"`
	// For single_cc_mcc: the DRG and weight without the code.
	DRGWithout    int     `json:"drg_without,omitempty"`
	WeightWithout float64 `json:"weight_without,omitempty"`
}

// RiskInput is what the flags are computed from: the claim, its grouping, a regrouping
// function (the same engine and version), Table 5 weights and the MCE result.
type RiskInput struct {
	Claim   *claim.Claim
	Result  *grouper.Result
	Regroup func(*claim.Claim) (*grouper.Result, error)
	Weight  func(drg int) (float64, bool)
	// MCEPostPayment lists the post-payment MCE edits raised on the claim.
	MCEPostPayment []string
}

// Flags returns the denial-risk flags of an encounter, with their reasons.
func (rr *RiskRules) Flags(in RiskInput) ([]RiskFlag, error) {
	var flags []RiskFlag
	r := in.Result
	weight := func(drg int) float64 {
		if in.Weight == nil {
			return 0
		}
		w, _ := in.Weight(drg)
		return w
	}
	if rr.SingleCCMCC && r.Final.DRG != 999 {
		deps, err := SingleCCMCCDependencies(in.Claim, r, in.Regroup)
		if err != nil {
			return nil, err
		}
		for _, d := range deps {
			flags = append(flags, RiskFlag{Kind: RiskSingleCCMCC, Codes: []string{d.Code}, DRGWithout: d.DRGWithout,
				WeightWithout: weight(d.DRGWithout),
				Reason: fmt.Sprintf("DRG %03d depends on the single %s %s: without it the claim groups to DRG %03d (weight %.4f → %.4f)",
					r.Final.DRG, d.Level, d.Code, d.DRGWithout, weight(r.Final.DRG), weight(d.DRGWithout))})
		}
	}
	if in.Claim.PDX != nil {
		pdx := norm(in.Claim.PDX.Code)
		for _, f := range rr.AuditedPDX {
			if slices.ContainsFunc(f.Prefixes, func(p string) bool { return strings.HasPrefix(pdx, p) }) {
				flags = append(flags, RiskFlag{Kind: RiskAuditedPDX, Codes: []string{pdx},
					Reason: fmt.Sprintf("principal diagnosis %s (%s) is commonly audited by payers: clinical support must be documented", pdx, f.Label)})
				break
			}
		}
	}
	if s := rr.ShortStay; s.MaxLOSDays > 0 && in.Claim.LengthOfStay != nil && *in.Claim.LengthOfStay <= s.MaxLOSDays &&
		(!s.SurgicalOnly || r.Final.Type == grouper.Surgical) {
		if w := weight(r.Final.DRG); w >= s.MinWeight {
			flags = append(flags, RiskFlag{Kind: RiskShortStay,
				Reason: fmt.Sprintf("length of stay %d day(s) with DRG %03d (%s, weight %.4f): short stays with high-weight surgical DRGs draw medical-necessity review",
					*in.Claim.LengthOfStay, r.Final.DRG, strings.ToLower(r.Final.Type.String()), w)})
		}
	}
	if rr.MCEPostPayment && len(in.MCEPostPayment) > 0 {
		flags = append(flags, RiskFlag{Kind: RiskMCEPostPayment, Codes: in.MCEPostPayment,
			Reason: "Medicare Code Editor post-payment edits: " + strings.Join(in.MCEPostPayment, ", ")})
	}
	return flags, nil
}

// Dependency is a secondary diagnosis the final DRG depends on alone.
type Dependency struct {
	Code       string `json:"code"`
	Level      string `json:"level"` // MCC or CC, as the code counted
	DRGWithout int    `json:"drg_without"`
}

// SingleCCMCCDependencies regroups the claim without each secondary diagnosis that counted as
// CC or MCC for the final DRG and returns those whose removal changes the DRG. The claim is
// read as it was grouped (claim.Grouped: its first 24 secondary diagnoses, the ones r
// describes), as a payer regroups the claim it received without the code it denies: a code
// past the 24th neither counted nor moves up.
func SingleCCMCCDependencies(c *claim.Claim, r *grouper.Result, regroup func(*claim.Claim) (*grouper.Result, error)) ([]Dependency, error) {
	var deps []Dependency
	c = c.Grouped()
	for i := range c.SDX {
		if 1+i >= len(r.Dx) || r.Dx[1+i].Role != "sdx" {
			return nil, fmt.Errorf("single CC/MCC dependencies: the grouping holds %d diagnoses, the claim %d", len(r.Dx), 1+len(c.SDX))
		}
		d := r.Dx[1+i]
		if d.FinalSeverity != grouper.UsageMCC && d.FinalSeverity != grouper.UsageCC {
			continue
		}
		without := *c
		without.SDX = slices.Delete(slices.Clone(c.SDX), i, i+1)
		r2, err := regroup(&without)
		if err != nil {
			return nil, fmt.Errorf("regroup without %s: %w", d.Code, err)
		}
		if r2.Final.DRG != r.Final.DRG {
			deps = append(deps, Dependency{Code: d.Code, Level: d.FinalSeverity.String(), DRGWithout: r2.Final.DRG})
		}
	}
	return deps, nil
}
