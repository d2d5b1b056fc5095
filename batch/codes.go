package batch

import (
	"fmt"
	"strings"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/tables"
)

// Describer explains a code a grouper version does not recognize (tables.Catalog.DescribeInvalid).
type Describer func(kind tables.TitleKind, code string, v tables.Version) tables.InvalidCode

// AddInvalidCodeWarnings appends to r.Warnings one warning per code of claim c that r's
// version did not recognize (principal, secondary and admitting diagnoses, procedures),
// naming the code, the version and, from describe, why and its possible replacements.
// Empty codes are left to the grouper's return code.
func AddInvalidCodeWarnings(r *grouper.Result, c *claim.Claim, describe Describer) {
	v := tables.Version(r.Version)
	add := func(kind tables.TitleKind, field, what, code string) {
		if strings.TrimSpace(code) == "" {
			return
		}
		ic := describe(kind, code, v)
		w := grouper.Warning{Kind: grouper.WarnInvalidCode, Field: field, Code: code, PossibleReplacements: ic.Replacements}
		w.Message = fmt.Sprintf("%s %s is not a valid %s code in grouper version %s (FY%d)", what, code, kind, v, tables.VersionFiscalYear(v))
		if ic.Reason != "" {
			w.Message += ": " + ic.Reason
		}
		if len(ic.Replacements) > 0 {
			w.Message += fmt.Sprintf("; possible replacements (FY%d codes that extend it, derived from the code files: confirm in the Tabular List): %s",
				tables.VersionFiscalYear(v), strings.Join(ic.Replacements, ", "))
			if ic.More > 0 {
				w.Message += fmt.Sprintf(" and %d more", ic.More)
			}
		}
		r.Warnings = append(r.Warnings, w)
	}
	for i := range r.Dx {
		d := &r.Dx[i]
		switch {
		case d.Recognized:
		case i == 0:
			add(tables.ICD10CM, "pdx", "principal diagnosis", d.Code)
		default:
			add(tables.ICD10CM, fmt.Sprintf("sdx[%d]", i-1), fmt.Sprintf("secondary diagnosis %d,", i), d.Code)
		}
	}
	if r.AdmitDx == grouper.AdmitDxInvalid && c.AdmitDx != nil {
		add(tables.ICD10CM, "admit_dx", "admitting diagnosis", c.AdmitDx.Code)
	}
	for i := range r.Pr {
		if !r.Pr[i].Recognized {
			add(tables.ICD10PCS, fmt.Sprintf("procedures[%d]", i), fmt.Sprintf("procedure %d,", i+1), r.Pr[i].Code)
		}
	}
}
