// Package payment computes the transfer adjustment of an IPPS DRG payment: which discharges are
// acute or post-acute transfers (42 CFR 412.4), read from a discharge-status table kept as data
// (transfer_statuses.json, embedded; a data directory may replace it), and the per-diem
// fraction the CMS IPPS Pricer applies to a short stay that ends in a transfer (see
// ../shared/spec/transfer_payment.md). It is pure: values in, values out.
package payment

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/msdrg-cdi/drg/claim"
)

// Kind is the transfer kind of a discharge status or of a paid discharge.
type Kind string

// Transfer kinds.
const (
	None      Kind = "none"       // not a transfer: full DRG payment
	Acute     Kind = "acute"      // to another IPPS hospital or a CAH (412.4(b)): every MS-DRG
	PostAcute Kind = "post_acute" // to a post-acute setting (412.4(c)): post-acute DRGs only
)

// Method is the arithmetic applied to a transfer.
type Method string

// Transfer payment methods.
const (
	PerDiem    Method = "per_diem"    // fraction = min(1, per_diem_days / GMLOS)
	SpecialPay Method = "special_pay" // fraction = min(1, 0.5 + 0.5 × per_diem_days / GMLOS)
)

// StatusRow is one row of the discharge-status table: the UB-04 patient discharge status
// codes of one setting and the transfer kind the regulation gives them.
type StatusRow struct {
	Codes     []int  `json:"codes"`
	Setting   string `json:"setting"`
	Transfer  Kind   `json:"transfer"`
	Rule      string `json:"rule"`
	AppliesTo string `json:"applies_to"`
	// NotTransferConditionCodes are claim condition codes that make the status no transfer
	// (home health: 42 care not related, 43 care began after day 3).
	NotTransferConditionCodes []string `json:"not_transfer_condition_codes,omitempty"`
	ConditionCodeNote         string   `json:"condition_code_note,omitempty"`
	// From is the first discharge date the row applies to (hospice: 2018-10-01); zero: always.
	From claim.Date `json:"from,omitzero"`
}

// StatusTable is the discharge-status table. Statuses it does not list are not transfers.
type StatusTable struct {
	Source   string      `json:"source"`
	Statuses []StatusRow `json:"statuses"`

	name   string
	byCode map[int]int // status code → index in Statuses
}

// Name returns where the table was read from.
func (t *StatusTable) Name() string { return t.name }

//go:embed transfer_statuses.json
var defaultStatuses []byte

// DefaultStatusesName names the embedded table in messages and reports.
const DefaultStatusesName = "payment/transfer_statuses.json (built in)"

var defaultTable = sync.OnceValues(func() (*StatusTable, error) {
	return ParseStatuses(DefaultStatusesName, defaultStatuses)
})

// DefaultStatuses returns the built-in discharge-status table.
func DefaultStatuses() (*StatusTable, error) { return defaultTable() }

// ParseStatuses reads a discharge-status table (the format of transfer_statuses.json). Errors
// name the file and the row: an unknown transfer kind, a code outside 1–99, a code listed
// twice, a row without codes or setting.
func ParseStatuses(name string, b []byte) (*StatusTable, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	t := &StatusTable{name: name, byCode: map[int]int{}}
	if err := dec.Decode(t); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(t.Statuses) == 0 {
		return nil, fmt.Errorf("%s: no statuses", name)
	}
	for i, r := range t.Statuses {
		where := fmt.Sprintf("%s: statuses[%d]", name, i)
		if r.Transfer != Acute && r.Transfer != PostAcute {
			return nil, fmt.Errorf("%s.transfer %q: want acute or post_acute", where, r.Transfer)
		}
		if len(r.Codes) == 0 || strings.TrimSpace(r.Setting) == "" {
			return nil, fmt.Errorf("%s: codes and setting are required", where)
		}
		for _, c := range r.Codes {
			if c < 1 || c > 99 {
				return nil, fmt.Errorf("%s.codes: %d is not a discharge status (01–99)", where, c)
			}
			if j, dup := t.byCode[c]; dup {
				return nil, fmt.Errorf("%s.codes: status %02d already in statuses[%d]", where, c, j)
			}
			t.byCode[c] = i
		}
	}
	return t, nil
}

// Classify returns the transfer kind of discharge status st on discharge date d with the
// claim's condition codes, the table row that says so (nil: not listed, no transfer) and, when
// a condition code or the row's start date made a listed status no transfer, why.
func (t *StatusTable) Classify(st int, conditionCodes []string, d claim.Date) (Kind, *StatusRow, string) {
	i, ok := t.byCode[st]
	if !ok {
		return None, nil, ""
	}
	r := &t.Statuses[i]
	for _, cc := range conditionCodes {
		if slices.Contains(r.NotTransferConditionCodes, strings.TrimSpace(cc)) {
			return None, r, fmt.Sprintf("condition code %s: not a transfer (%s)", strings.TrimSpace(cc), r.ConditionCodeNote)
		}
	}
	if !r.From.IsZero() && !d.IsZero() && d.Before(r.From) {
		return None, r, fmt.Sprintf("a transfer only for discharges from %s", r.From)
	}
	return r.Transfer, r, ""
}

// Flags are the Table 5 transfer flags of an MS-DRG in one fiscal year.
type Flags struct {
	PostAcute  bool
	SpecialPay bool
}

// PaidAs returns how a discharge of status kind k with a DRG of flags f is paid: the transfer
// kind applied (None when the status is a post-acute transfer but the DRG is not a post-acute
// DRG) and the method.
func PaidAs(k Kind, f Flags) (Kind, Method) {
	switch {
	case k == Acute:
		return Acute, PerDiem
	case k == PostAcute && f.PostAcute && f.SpecialPay:
		return PostAcute, SpecialPay
	case k == PostAcute && f.PostAcute:
		return PostAcute, PerDiem
	}
	return None, ""
}

// PerDiemDays returns the Pricer's per-diem days of a stay of los covered days:
// max(los, 1) + 1.
func PerDiemDays(los int) int { return max(los, 1) + 1 }

// Fraction returns the share of the full DRG payment paid for a transfer by method m after
// perDiemDays per-diem days, with the DRG's geometric mean length of stay gmlos: per diem
// min(1, days / GMLOS), special pay min(1, 0.5 + 0.5 × days / GMLOS), rounded to 4 decimals
// (the value the grouping record shows and the case count sums). A GMLOS of 0 (unknown)
// gives 1.
func Fraction(m Method, perDiemDays int, gmlos float64) float64 {
	if gmlos <= 0 {
		return 1
	}
	r := float64(perDiemDays) / gmlos
	if m == SpecialPay {
		r = 0.5 + 0.5*r
	}
	return round4(math.Min(1, r))
}

// AdjustedWeight returns the transfer-adjusted weight fraction × weight, rounded to 4
// decimals.
func AdjustedWeight(fraction, weight float64) float64 { return round4(fraction * weight) }

// Input is what the transfer adjustment of one discharge needs.
type Input struct {
	DischargeStatus *int // UB-04 patient discharge status; nil: unknown
	// LOS is the number of covered days (discharge date − admission date); nil: unknown.
	LOS            *int
	ConditionCodes []string
	DischargeDate  claim.Date
	FiscalYear     int     // of the Table 5 that gave Weight and GMLOS
	Weight         float64 // the DRG's payment weight (0: none)
	GMLOS          float64
	// Flags are the DRG's transfer flags in FiscalYear; nil when that year's flags are not
	// loaded.
	Flags *Flags
}

// Payment is the transfer adjustment of one discharge, as the grouping record shows it.
type Payment struct {
	FiscalYear      int    `json:"fiscal_year"`
	DischargeStatus *int   `json:"discharge_status,omitempty"`
	Setting         string `json:"setting,omitempty"` // of the discharge status, when a transfer setting
	Rule            string `json:"rule,omitempty"`    // the 42 CFR 412.4 paragraph
	// StatusTransfer is what the discharge status is (after condition codes); Transfer is how
	// this discharge is paid (a post-acute status with a DRG that is not post-acute: none).
	StatusTransfer Kind    `json:"status_transfer"`
	Transfer       Kind    `json:"transfer"`
	Method         Method  `json:"method,omitempty"`
	LOS            *int    `json:"length_of_stay,omitempty"`
	PerDiemDays    int     `json:"per_diem_days,omitempty"`
	GMLOS          float64 `json:"gmlos,omitempty"`
	// Fraction is the share of the full DRG payment (and the transfer-adjusted case count),
	// rounded to 4 decimals; AdjustedWeight = Weight × Fraction, rounded to 4 decimals.
	Fraction       float64 `json:"fraction"`
	Weight         float64 `json:"weight"`
	AdjustedWeight float64 `json:"adjusted_weight"`
	Formula        string  `json:"formula"`
	// Unknown says what was missing when a transfer's fraction could not be computed (the full
	// weight is then shown, fraction 1).
	Unknown string `json:"unknown,omitempty"`
}

// Compute applies the table to one discharge.
func (t *StatusTable) Compute(in Input) Payment {
	p := Payment{FiscalYear: in.FiscalYear, DischargeStatus: in.DischargeStatus, LOS: in.LOS,
		StatusTransfer: None, Transfer: None, Fraction: 1, Weight: in.Weight, AdjustedWeight: round4(in.Weight)}
	if in.DischargeStatus == nil {
		p.Formula = "full DRG payment: no discharge status, so no transfer can be recognised"
		p.Unknown = "discharge_status"
		return p
	}
	st := *in.DischargeStatus
	kind, row, why := t.Classify(st, in.ConditionCodes, in.DischargeDate)
	p.StatusTransfer = kind
	if row != nil {
		p.Setting, p.Rule = row.Setting, row.Rule
	}
	if kind == None {
		p.Formula = fmt.Sprintf("not a transfer: discharge status %02d", st)
		if row != nil {
			p.Formula += " (" + row.Setting + ")"
		}
		if why != "" {
			p.Formula += ", " + why
		}
		p.Formula += "; full DRG payment"
		return p
	}
	if in.LOS != nil {
		// Shown for every transfer status, so that a report can weigh it with another
		// year's flags and GMLOS.
		p.PerDiemDays = PerDiemDays(*in.LOS)
	}
	if kind == PostAcute && in.Flags == nil {
		p.Formula = fmt.Sprintf("discharge status %02d is a post-acute transfer (%s, %s) but the FY%d transfer flags are not loaded; full DRG payment shown", st, row.Setting, row.Rule, in.FiscalYear)
		p.Unknown = fmt.Sprintf("FY%d transfer flags", in.FiscalYear)
		return p
	}
	var f Flags
	if in.Flags != nil {
		f = *in.Flags
	}
	paid, m := PaidAs(kind, f)
	if paid == None {
		p.Formula = fmt.Sprintf("discharge status %02d is a post-acute transfer (%s, %s), but the DRG is not a post-acute DRG in FY%d: full DRG payment", st, row.Setting, row.Rule, in.FiscalYear)
		return p
	}
	p.Transfer, p.Method = paid, m
	if in.LOS == nil {
		p.Formula = fmt.Sprintf("%s transfer (status %02d, %s, %s) but the length of stay is unknown: give length_of_stay or the admission date; full DRG payment shown", paid, st, row.Setting, row.Rule)
		p.Unknown = "length_of_stay"
		return p
	}
	if in.GMLOS <= 0 {
		p.Formula = fmt.Sprintf("%s transfer (status %02d, %s, %s) but the DRG has no FY%d GMLOS; full DRG payment shown", paid, st, row.Setting, row.Rule, in.FiscalYear)
		p.Unknown = "gmlos"
		return p
	}
	p.GMLOS = in.GMLOS
	fr := Fraction(m, p.PerDiemDays, in.GMLOS)
	p.Fraction, p.AdjustedWeight = fr, AdjustedWeight(fr, in.Weight)
	los := fmt.Sprintf("per-diem days = max(LOS %d, 1) + 1 = %d", *in.LOS, p.PerDiemDays)
	what := fmt.Sprintf("%s transfer (status %02d, %s, %s)", strings.ReplaceAll(string(paid), "_", "-"), st, row.Setting, row.Rule)
	var calc string
	if m == SpecialPay {
		calc = fmt.Sprintf("special-pay DRG: fraction = min(1, 0.5 + 0.5 × %d / GMLOS %s)", p.PerDiemDays, fmtNum(in.GMLOS))
	} else {
		calc = fmt.Sprintf("fraction = min(1, %d / GMLOS %s)", p.PerDiemDays, fmtNum(in.GMLOS))
	}
	p.Formula = fmt.Sprintf("%s; %s; %s = %.4f; adjusted weight = %.4f × %.4f = %.4f", what, los, calc, p.Fraction, in.Weight, p.Fraction, p.AdjustedWeight)
	if fr >= 1 {
		p.Formula += " (no reduction: paid in full)"
	}
	return p
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func fmtNum(x float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", x), "0"), ".")
}
