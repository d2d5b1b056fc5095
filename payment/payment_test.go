package payment

import (
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
)

func ip(n int) *int { return &n }

// Table 5 rows of FY2026 (../shared/cms/table5/msdrg_fy2026_weights_los.csv and
// ../shared/cms/transfer/msdrg_fy2026_transfer_flags.csv) used by the worked cases.
var (
	drg010 = Input{FiscalYear: 2026, Weight: 7.1757, GMLOS: 5.9, Flags: &Flags{}}                                  // not post-acute
	drg291 = Input{FiscalYear: 2026, Weight: 1.2838, GMLOS: 3.8, Flags: &Flags{PostAcute: true}}                   // post-acute
	drg023 = Input{FiscalYear: 2026, Weight: 5.7303, GMLOS: 7.1, Flags: &Flags{PostAcute: true, SpecialPay: true}} // special pay
	drg024 = Input{FiscalYear: 2026, Weight: 3.9119, GMLOS: 3.7, Flags: &Flags{PostAcute: true, SpecialPay: true}} // special pay
	drg981 = Input{FiscalYear: 2026, Weight: 4.6918, GMLOS: 8.4, Flags: &Flags{PostAcute: true}}                   // post-acute
)

func with(base Input, status, los int, cc ...string) Input {
	base.DischargeStatus, base.LOS, base.ConditionCodes = ip(status), ip(los), cc
	base.DischargeDate = claim.Date{Year: 2026, Month: 5, Day: 1}
	return base
}

// TestComputeWorkedCases checks the transfer adjustment of worked cases against hand
// calculations (spec/transfer_payment.md): per_diem_days = max(LOS, 1) + 1; per diem
// fraction = min(1, days / GMLOS); special pay min(1, 0.5 + 0.5 × days / GMLOS); adjusted
// weight = weight × fraction, both to 4 decimals.
func TestComputeWorkedCases(t *testing.T) {
	tab, err := DefaultStatuses()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		in       Input
		status   Kind // status_transfer
		paid     Kind
		method   Method
		days     int
		fraction float64
		adjusted float64
		formula  string // substring of the formula
	}{
		// 02 IPPS hospital, DRG 010 (no flag), LOS 2: days 3; 3 / 5.9 = 0.50847 → 0.5085; 7.1757 × 0.5085 = 3.64884 → 3.6488.
		{"acute transfer of a non-flagged DRG", with(drg010, 2, 2), Acute, Acute, PerDiem, 3, 0.5085, 3.6488, "fraction = min(1, 3 / GMLOS 5.9) = 0.5085"},
		// 66 CAH, DRG 291, LOS 1: days 2; 2 / 3.8 = 0.52632 → 0.5263; 1.2838 × 0.5263 = 0.67566 → 0.6757 (spec worked example).
		{"acute transfer to a CAH", with(drg291, 66, 1), Acute, Acute, PerDiem, 2, 0.5263, 0.6757, "critical access hospital"},
		// 03 SNF, DRG 291, LOS 1: the spec's worked example, 0.5263 and 0.6757.
		{"post-acute DRG to a SNF", with(drg291, 3, 1), PostAcute, PostAcute, PerDiem, 2, 0.5263, 0.6757, "SNF with Medicare certification"},
		// 03 SNF, DRG 291, LOS 2: days 3; 3 / 3.8 = 0.78947 → 0.7895; 1.2838 × 0.7895 = 1.01356 → 1.0136.
		{"post-acute DRG to a SNF, LOS 2", with(drg291, 3, 2), PostAcute, PostAcute, PerDiem, 3, 0.7895, 1.0136, "= 0.7895"},
		// 03 SNF, DRG 291, LOS 3: days 4 ≥ GMLOS 3.8: min(1, 1.0526) = 1; 1.2838.
		{"per-diem days ≥ GMLOS: no reduction", with(drg291, 3, 3), PostAcute, PostAcute, PerDiem, 4, 1, 1.2838, "no reduction"},
		// 61 swing bed, DRG 291, LOS 0: days max(0, 1) + 1 = 2; 0.5263; 0.6757.
		{"LOS 0 to a swing bed", with(drg291, 61, 0), PostAcute, PostAcute, PerDiem, 2, 0.5263, 0.6757, "max(LOS 0, 1) + 1 = 2"},
		// 62 IRF, DRG 981, LOS 4: days 5; 5 / 8.4 = 0.59524 → 0.5952; 4.6918 × 0.5952 = 2.79256 → 2.7926.
		{"post-acute DRG to an IRF", with(drg981, 62, 4), PostAcute, PostAcute, PerDiem, 5, 0.5952, 2.7926, "inpatient rehabilitation"},
		// 63 LTCH, DRG 291, LOS 1: 0.5263; 0.6757.
		{"post-acute DRG to an LTCH", with(drg291, 63, 1), PostAcute, PostAcute, PerDiem, 2, 0.5263, 0.6757, "long-term care hospital"},
		// 65 psychiatric, DRG 291, LOS 2: 0.7895; 1.0136.
		{"post-acute DRG to a psychiatric unit", with(drg291, 65, 2), PostAcute, PostAcute, PerDiem, 3, 0.7895, 1.0136, "psychiatric"},
		// 05 cancer center, DRG 291, LOS 1: 0.5263; 0.6757.
		{"post-acute DRG to a cancer center", with(drg291, 5, 1), PostAcute, PostAcute, PerDiem, 2, 0.5263, 0.6757, "cancer center"},
		// 06 home health, no condition code, DRG 291, LOS 1: 0.5263; 0.6757.
		{"home health without condition code", with(drg291, 6, 1), PostAcute, PostAcute, PerDiem, 2, 0.5263, 0.6757, "home health agency"},
		// 06 home health with condition code 42: no transfer, full weight 1.2838.
		{"home health with condition code 42", with(drg291, 6, 1, "42"), None, None, "", 0, 1, 1.2838, "condition code 42"},
		// 86 home health (planned readmission form) with condition code 43: no transfer.
		{"home health with condition code 43", with(drg291, 86, 1, "07", "43"), None, None, "", 0, 1, 1.2838, "condition code 43"},
		// 50 hospice, DRG 291, LOS 2: 0.7895; 1.0136.
		{"post-acute DRG to hospice", with(drg291, 50, 2), PostAcute, PostAcute, PerDiem, 3, 0.7895, 1.0136, "hospice"},
		// 03 SNF, special-pay DRG 023, LOS 1: days 2; 0.5 + 0.5 × 2 / 7.1 = 0.64085 → 0.6408; 5.7303 × 0.6408 = 3.67198 → 3.6720.
		{"special-pay DRG to a SNF", with(drg023, 3, 1), PostAcute, PostAcute, SpecialPay, 2, 0.6408, 3.6720, "0.5 + 0.5 × 2 / GMLOS 7.1"},
		// 62 IRF, special-pay DRG 024, LOS 2: days 3; 0.5 + 0.5 × 3 / 3.7 = 0.90541 → 0.9054; 3.9119 × 0.9054 = 3.54183 → 3.5418.
		{"special-pay DRG to an IRF", with(drg024, 62, 2), PostAcute, PostAcute, SpecialPay, 3, 0.9054, 3.5418, "special-pay DRG"},
		// 02 IPPS hospital, special-pay DRG 023, LOS 1: an acute transfer is per diem whatever the DRG: 2 / 7.1 = 0.28169 → 0.2817; 5.7303 × 0.2817 = 1.61423 → 1.6142.
		{"acute transfer of a special-pay DRG is per diem", with(drg023, 2, 1), Acute, Acute, PerDiem, 2, 0.2817, 1.6142, "fraction = min(1, 2 / GMLOS 7.1)"},
		// 03 SNF, DRG 010 (not post-acute): no transfer payment, full 7.1757.
		{"non-flagged DRG to a SNF", with(drg010, 3, 1), PostAcute, None, "", 2, 1, 7.1757, "not a post-acute DRG in FY2026"},
		// 01 home: never a transfer.
		{"discharged home", with(drg291, 1, 1), None, None, "", 0, 1, 1.2838, "not a transfer: discharge status 01"},
		// 64 Medicaid-only nursing facility: not a transfer.
		{"Medicaid-only nursing facility", with(drg291, 64, 1), None, None, "", 0, 1, 1.2838, "status 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tab.Compute(tt.in)
			if p.StatusTransfer != tt.status || p.Transfer != tt.paid || p.Method != tt.method || p.PerDiemDays != tt.days ||
				p.Fraction != tt.fraction || p.AdjustedWeight != tt.adjusted {
				t.Errorf("got status %s paid %s method %q days %d fraction %.4f adjusted %.4f;\nwant %s %s %q %d %.4f %.4f\n%s",
					p.StatusTransfer, p.Transfer, p.Method, p.PerDiemDays, p.Fraction, p.AdjustedWeight,
					tt.status, tt.paid, tt.method, tt.days, tt.fraction, tt.adjusted, p.Formula)
			}
			if !strings.Contains(p.Formula, tt.formula) {
				t.Errorf("formula %q lacks %q", p.Formula, tt.formula)
			}
			if p.Unknown != "" {
				t.Errorf("unknown %q", p.Unknown)
			}
		})
	}
}

// TestComputeMissingFacts: a transfer whose fraction cannot be computed says what is
// missing and shows the full weight.
func TestComputeMissingFacts(t *testing.T) {
	tab, _ := DefaultStatuses()
	noLOS := with(drg291, 3, 0)
	noLOS.LOS = nil
	noFlags := with(drg291, 3, 1)
	noFlags.Flags = nil
	noStatus := with(drg291, 3, 1)
	noStatus.DischargeStatus = nil
	hospice2017 := with(drg291, 50, 1)
	hospice2017.DischargeDate = claim.Date{Year: 2017, Month: 5, Day: 1}
	for _, tt := range []struct {
		name    string
		in      Input
		unknown string
		paid    Kind
	}{
		{"no length of stay", noLOS, "length_of_stay", PostAcute},
		{"no flags for the year", noFlags, "FY2026 transfer flags", None},
		{"no discharge status", noStatus, "discharge_status", None},
		{"hospice before 2018-10-01", hospice2017, "", None},
	} {
		p := tab.Compute(tt.in)
		if p.Unknown != tt.unknown || p.Transfer != tt.paid || p.Fraction != 1 || p.AdjustedWeight != 1.2838 {
			t.Errorf("%s: %+v", tt.name, p)
		}
	}
}

func TestParseStatuses(t *testing.T) {
	for _, tt := range []struct{ name, json, err string }{
		{"bad kind", `{"statuses":[{"codes":[2],"setting":"x","transfer":"lateral"}]}`, `t.json: statuses[0].transfer "lateral"`},
		{"duplicate", `{"statuses":[{"codes":[2],"setting":"x","transfer":"acute"},{"codes":[2],"setting":"y","transfer":"acute"}]}`, "t.json: statuses[1].codes: status 02 already in statuses[0]"},
		{"out of range", `{"statuses":[{"codes":[100],"setting":"x","transfer":"acute"}]}`, "statuses[0].codes: 100"},
		{"unknown field", `{"statuses":[{"codes":[2],"setting":"x","transfer":"acute","pay":1}]}`, `unknown field "pay"`},
		{"empty", `{}`, "t.json: no statuses"},
	} {
		_, err := ParseStatuses("t.json", []byte(tt.json))
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.err)
		}
	}
}
