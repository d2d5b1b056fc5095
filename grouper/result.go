package grouper

import (
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/payment"
)

// Result is the grouper output for one claim. Its JSON form uses the field names and values of
// the CMS oracle records (see the README), plus titles and Table 5 figures.
type Result struct {
	ID            string     `json:"id,omitempty"`
	Version       int        `json:"version"`
	DischargeDate claim.Date `json:"discharge_date,omitzero"` // echoed from the claim
	Initial       Outcome    `json:"initial"`
	Final         Outcome    `json:"final"`
	HACStatus     HACStatus  `json:"hac_status"`
	HACCategories int        `json:"hac_categories"`
	AdmitDx       AdmitDx    `json:"admit_dx"`
	Dx            []DxResult `json:"dx"`
	Pr            []PrResult `json:"pr"`
	Weight        float64    `json:"weight,omitempty"`
	GMLOS         float64    `json:"gmlos,omitempty"`
	AMLOS         float64    `json:"amlos,omitempty"`
	// WeightYear is the fiscal year of the Table 5 that gave Weight, GMLOS and AMLOS: that of
	// the discharge date (else of the version).
	WeightYear int `json:"weight_year,omitempty"`
	// Payment is the transfer adjustment of the payment (set with the weight).
	Payment     *payment.Payment `json:"payment,omitempty"`
	Explanation string           `json:"explanation,omitempty"`
	// Warnings are remarks the reader of the result must see: codes of the claim the grouping
	// did not use, codes the version does not know (with their history when the caller adds it).
	Warnings []Warning `json:"warnings,omitempty"`
}

// Warning kinds.
const (
	// WarnNotGrouped: a code beyond the claim's capacity (24 secondary diagnoses, 25
	// procedures) that the grouping did not use.
	WarnNotGrouped = "not_grouped"
	// WarnInvalidCode: a code the grouper version does not recognize.
	WarnInvalidCode = "invalid_code"
	// WarnNoWeight: the final DRG has no payment weight in the Table 5 of the discharge's
	// fiscal year (a DRG deleted or created by that year's grouper, or a year not loaded).
	WarnNoWeight = "no_weight"
)

// Warning is one remark on a grouping.
type Warning struct {
	Kind    string `json:"kind"`           // WarnNotGrouped, WarnInvalidCode
	Field   string `json:"field"`          // the code's place in the claim: "pdx", "sdx[24]", "procedures[3]"
	Code    string `json:"code,omitempty"` // the code concerned
	Message string `json:"message"`
	// Level is the own CC/MCC level (MCC, CC, NCC) of a diagnosis not grouped.
	Level string `json:"level,omitempty"`
	// PossibleReplacements are codes valid in the version that may replace an invalid code
	// (derived from the code files: see the caller that fills them).
	PossibleReplacements []string `json:"possible_replacements,omitempty"`
}

// Outcome is the DRG assignment of one phase (initial: before HAC processing; final: after).
type Outcome struct {
	DRG          int        `json:"drg"`
	MDC          int        `json:"mdc"`
	BaseDRG      int        `json:"base_drg"`
	Type         DRGType    `json:"type"`
	GRC          ReturnCode `json:"grc"`
	Severity     Severity   `json:"severity"`     // CC/MCC level of the claim for the DRG
	SDXSeverity  Severity   `json:"sdx_severity"` // CC/MCC level the matching formula tested
	DRGTitle     string     `json:"drg_title,omitempty"`
	MDCTitle     string     `json:"mdc_title,omitempty"`
	BaseDRGTitle string     `json:"base_drg_title,omitempty"`
}

// Ungroupable reports whether the outcome is DRG 999.
func (o *Outcome) Ungroupable() bool { return o.DRG == 999 }

// DxResult reports how one diagnosis (the PDX first, then the SDX in input order) was used.
type DxResult struct {
	Code            string   `json:"code"`
	Role            string   `json:"role"` // pdx or sdx
	POA             string   `json:"poa,omitempty"`
	Recognized      bool     `json:"recognized"`
	Severity        string   `json:"level,omitempty"` // the code's own CC/MCC level (MCC, CC, NCC)
	InitialSeverity Usage    `json:"initial_severity"`
	FinalSeverity   Usage    `json:"final_severity"`
	AffectsDRG      Affects  `json:"affects_drg"`
	POAError        POAError `json:"poa_error"`
	HACs            HACList  `json:"hacs"`
	// ExclusionGroup is, for an SDX excluded as CC/MCC by the PDX, the CMS exclusion group of
	// the PDX that lists it.
	ExclusionGroup int `json:"pdx_exclusion_group,omitempty"`
}

// PrResult reports how one procedure (input order) was used.
type PrResult struct {
	Code       string   `json:"code"`
	Recognized bool     `json:"recognized"`
	IsOR       bool     `json:"is_or"`
	AffectsDRG Affects  `json:"affects_drg"`
	HACUsage   ProcHACs `json:"hac_usage"`
}

// AdmitDx is the validity flag of the admission diagnosis.
type AdmitDx uint8

// Admission diagnosis flags.
const (
	AdmitDxInvalid AdmitDx = iota
	AdmitDxValid
	AdmitDxNotGiven
)

var admitDxNames = [...]string{"DX_INVALID", "DX_VALID", "DX_NOT_GIVEN"}

// String returns the CMS name of the flag.
func (a AdmitDx) String() string { return admitDxNames[a] }

// MarshalText implements encoding.TextMarshaler.
func (a AdmitDx) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// maxReportedHACs bounds the HAC entries reported on one diagnosis (three with CMS data).
const maxReportedHACs = 4

// HACList is the list of HAC entries reported on a diagnosis; it is a value (no allocation).
type HACList struct {
	n int8
	e [maxReportedHACs]HACEntry
}

// Len returns the number of entries.
func (l *HACList) Len() int { return int(l.n) }

// At returns entry i.
func (l *HACList) At(i int) HACEntry { return l.e[i] }

// Entries returns a copy of the entries.
func (l *HACList) Entries() []HACEntry { return append([]HACEntry(nil), l.e[:l.n]...) }

func (l *HACList) add(e HACEntry) {
	if int(l.n) < len(l.e) {
		l.e[l.n] = e
		l.n++
	}
}

// String renders the list compactly, e.g. "[HAC 06 HAC_CRITERIA_MET hac06_sdx]"; entries whose
// number CMS reports as 0 are shown as "HAC 00".
func (l HACList) String() string { return string(l.appendText(nil)) }

func (l *HACList) appendText(b []byte) []byte {
	b = append(b, '[')
	for i := range int(l.n) {
		e := &l.e[i]
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, "HAC "...)
		b = append(b, byte('0'+e.Number/10), byte('0'+e.Number%10), ' ')
		b = append(b, e.Status.String()...)
		if e.List != "" {
			b = append(b, ' ')
			b = append(b, e.List...)
		}
	}
	return append(b, ']')
}

// MarshalText implements encoding.TextMarshaler.
func (l HACList) MarshalText() ([]byte, error) { return []byte(l.String()), nil }
