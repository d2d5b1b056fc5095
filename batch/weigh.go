package batch

import (
	"fmt"
	"strings"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/payment"
	"github.com/msdrg-cdi/drg/tables"
)

// WeightSource gives the Table 5 weights and transfer flags of a fiscal year and the
// discharge-status table of transfers; *tables.Catalog is one.
type WeightSource interface {
	WeightsOf(fy int) (*tables.Weights, bool)
	TransferFor(fy int) (*tables.TransferFlags, bool)
	TransferStatuses() *payment.StatusTable
	WeightYears() []int
}

// Weigh sets r's weight, GMLOS and AMLOS from the Table 5 of the fiscal year of the claim's
// discharge date (else of r's version), with the year in r.WeightYear and the transfer
// adjustment in r.Payment. When that year's table has no row for the final DRG (a DRG the
// year's grouper deleted or created) or the year is not loaded, r gets a no_weight warning
// and no weight — never a weight of 0 taken for real. DRG 998 and 999 (ungroupable) have no
// weight and no warning.
func Weigh(r *grouper.Result, c *claim.Claim, src WeightSource) {
	fy := tables.WeightYear(c.DischargeDate, tables.Version(r.Version))
	drg := r.Final.DRG
	if drg <= 0 || drg >= 998 {
		return
	}
	w, ok := src.WeightsOf(fy)
	if !ok {
		years := src.WeightYears()
		if len(years) == 0 {
			return // no weights at all: reported once at start-up
		}
		r.Warnings = append(r.Warnings, grouper.Warning{Kind: grouper.WarnNoWeight, Field: "final.drg",
			Message: fmt.Sprintf("no Table 5 weights for FY%d are loaded (loaded: %s): MS-DRG %03d is not weighed", fy, fyList(years), drg)})
		return
	}
	row, ok := w.Get(drg)
	if !ok {
		msg := fmt.Sprintf("MS-DRG %03d has no FY%d payment weight: Table 5 FY%d does not list it", drg, fy, fy)
		if vfy := tables.WeightYear(c.DischargeDate, tables.Version(r.Version)); vfy != fy {
			msg += fmt.Sprintf(" (grouped with v%s, a FY%d grouper: the DRG was deleted or renumbered for FY%d)", tables.Version(r.Version), vfy, fy)
		}
		r.Warnings = append(r.Warnings, grouper.Warning{Kind: grouper.WarnNoWeight, Field: "final.drg", Message: msg + "; not weighed"})
		return
	}
	r.Weight, r.GMLOS, r.AMLOS, r.WeightYear = row.Weight, row.GMLOS, row.AMLOS, fy
	in := payment.Input{DischargeStatus: c.DischargeStatus, LOS: c.LengthOfStay, ConditionCodes: c.ConditionCodes,
		DischargeDate: c.DischargeDate, FiscalYear: fy, Weight: row.Weight, GMLOS: row.GMLOS}
	if t, ok := src.TransferFor(fy); ok {
		if f, ok := t.Get(drg); ok {
			in.Flags = &f
		}
	}
	if st := src.TransferStatuses(); st != nil {
		p := st.Compute(in)
		r.Payment = &p
	}
}

func fyList(ys []int) string {
	parts := make([]string, len(ys))
	for i, y := range ys {
		parts[i] = fmt.Sprintf("FY%d", y)
	}
	return strings.Join(parts, ", ")
}
