package grouper

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/msdrg-cdi/drg/tables"
)

// DRGType is the medical/surgical classification of a DRG.
type DRGType uint8

// DRG types as the CMS grouper prints them.
const (
	TypeNone DRGType = iota
	Medical
	Surgical
)

var drgTypeNames = [...]string{"NONE", "MEDICAL", "SURGICAL"}

// String returns the CMS name of the type.
func (t DRGType) String() string { return drgTypeNames[t] }

// MarshalText implements encoding.TextMarshaler.
func (t DRGType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// ReturnCode is the grouper return code (GRC) of a result.
type ReturnCode uint8

// Return codes of the CMS grouper (algorithm §2.1).
const (
	OK                                 ReturnCode = 0
	DxCannotBePDX                      ReturnCode = 1
	InvalidAge                         ReturnCode = 3
	InvalidSex                         ReturnCode = 4
	InvalidDischargeStatus             ReturnCode = 5
	InvalidPDX                         ReturnCode = 7
	HACMissingOnePOA                   ReturnCode = 9
	HACStatusInvalidPOANOrU            ReturnCode = 10
	HACStatusInvalidPOAInvalidOr1      ReturnCode = 11
	HACStatusInvalidMultHACsPOANotYorW ReturnCode = 15
)

var returnCodeNames = map[ReturnCode]string{
	OK: "OK", DxCannotBePDX: "DX_CANNOT_BE_PDX", InvalidAge: "INVALID_AGE", InvalidSex: "INVALID_SEX",
	InvalidDischargeStatus: "INVALID_DISCHARGE_STATUS", InvalidPDX: "INVALID_PDX",
	HACMissingOnePOA: "HAC_MISSING_ONE_POA", HACStatusInvalidPOANOrU: "HAC_STATUS_INVALID_POA_N_OR_U",
	HACStatusInvalidPOAInvalidOr1:      "HAC_STATUS_INVALID_POA_INVALID_OR_1",
	HACStatusInvalidMultHACsPOANotYorW: "HAC_STATUS_INVALID_MULT_HACS_POA_NOT_Y_W",
}

// String returns the CMS name of the return code.
func (c ReturnCode) String() string {
	if s, ok := returnCodeNames[c]; ok {
		return s
	}
	return "RC_" + strconv.Itoa(int(c))
}

// MarshalText implements encoding.TextMarshaler.
func (c ReturnCode) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Severity is the CC/MCC level of a grouping result.
type Severity uint8

// Claim severity levels.
const (
	SevNone Severity = iota
	NonCC
	CC
	MCC
)

var severityNames = [...]string{"NONE", "NON_CC", "CC", "MCC"}

// String returns the CMS name of the severity.
func (s Severity) String() string { return severityNames[s] }

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func severityOf(s tables.Severity) Severity {
	switch s {
	case tables.MCC:
		return MCC
	case tables.CC:
		return CC
	}
	return NonCC
}

// Usage says how a secondary diagnosis counted for the DRG's CC/MCC level.
type Usage uint8

// Severity usages with the CMS integer values.
const (
	Neither               Usage = 0
	UsageMCC              Usage = 1
	MCCExcludedByDRGLogic Usage = 2
	CCExcludedByDRGLogic  Usage = 3
	UsageCC               Usage = 5
	MCCExcluded           Usage = 6
	CCExcluded            Usage = 7
	usageCount                  = 8
)

var usageNames = [usageCount]string{"NEITHER", "MCC", "MCC_EXCLUDED_BY_DRG_LOGIC", "CC_EXCLUDED_BY_DRG_LOGIC", "", "CC", "MCC_EXCLUDED", "CC_EXCLUDED"}

// String returns the CMS name of the usage.
func (u Usage) String() string { return usageNames[u] }

// MarshalText implements encoding.TextMarshaler.
func (u Usage) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// Affects says in which grouping phase a code influenced the DRG.
type Affects uint8

// Affects-DRG values.
const (
	AffectsNone Affects = iota
	AffectsInitial
	AffectsFinal
	AffectsBoth
)

var affectsNames = [...]string{"NONE", "INITIAL", "FINAL", "BOTH"}

// String returns the CMS name of the value.
func (a Affects) String() string { return affectsNames[a] }

// MarshalText implements encoding.TextMarshaler.
func (a Affects) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// POAError is the outcome of the present-on-admission check of a secondary diagnosis.
type POAError uint8

// POA error codes with the CMS integer values.
const (
	POANotChecked        POAError = 0
	POANotRecognized     POAError = 1
	POARecognizedNotPOA  POAError = 3
	POARecognizedYesPOA  POAError = 4
	POAHospitalExempt    POAError = 5
	poaErrorNameCapacity          = 6
)

var poaErrorNames = [poaErrorNameCapacity]string{"POA_NOT_CHECKED", "POA_NOT_RECOGNIZED", "", "POA_RECOGNIZED_NOT_POA", "POA_RECOGNIZED_YES_POA", "HOSPITAL_EXEMPT"}

// String returns the CMS name of the POA error code.
func (p POAError) String() string { return poaErrorNames[p] }

// MarshalText implements encoding.TextMarshaler.
func (p POAError) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// HACStatus summarizes what hospital-acquired conditions did to the claim.
type HACStatus uint8

// Claim HAC statuses.
const (
	HACNotApplicable HACStatus = iota
	HACFinalDRGNoChange
	HACFinalDRGChanges
	HACFinalDRGUngroupable
)

var hacStatusNames = [...]string{"NOT_APPLICABLE", "FINAL_DRG_NO_CHANGE", "FINAL_DRG_CHANGES", "FINAL_DRG_UNGROUPABLE"}

// String returns the CMS name of the status.
func (s HACStatus) String() string { return hacStatusNames[s] }

// MarshalText implements encoding.TextMarshaler.
func (s HACStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// HACEntryStatus is the status of one HAC entry of a diagnosis.
type HACEntryStatus uint8

// HAC entry statuses with the CMS integer values.
const (
	NotOnHACList              HACEntryStatus = 0
	HACCriteriaMet            HACEntryStatus = 1
	HACCriteriaNotMet         HACEntryStatus = 2
	HACNotApplicableExclusion HACEntryStatus = 3
	HACNotApplicableExempt    HACEntryStatus = 4
)

var hacEntryStatusNames = [...]string{"NOT_ON_HAC_LIST", "HAC_CRITERIA_MET", "HAC_CRITERIA_NOT_MET", "HAC_NOT_APPLICABLE_EXCLUSION", "HAC_NOT_APPLICABLE_EXEMPT"}

// String returns the CMS name of the status.
func (s HACEntryStatus) String() string { return hacEntryStatusNames[s] }

// MarshalText implements encoding.TextMarshaler.
func (s HACEntryStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// HACEntry is one hospital-acquired-condition entry reported on a diagnosis. Number is 0 when
// CMS reports the entry without a number (criteria not met with POA Y/W, exempt hospital).
type HACEntry struct {
	Number      int            `json:"number"`
	Status      HACEntryStatus `json:"status"`
	List        string         `json:"list,omitempty"`
	Description string         `json:"description,omitempty"`
}

// ProcHAC is a HAC whose criteria a procedure took part in.
type ProcHAC uint8

// Procedure HAC usages with the CMS integer values.
const (
	HAC08 ProcHAC = 1 + iota
	HAC10
	HAC11
	HAC12
	HAC13
	HAC14
)

// procUsageHAC is the HAC number of each procedure usage, in usage order.
var procUsageHAC = [6]int{8, 10, 11, 12, 13, 14}

// ProcHACs is a set of procedure HAC usages (bit i = usage i+1).
type ProcHACs uint8

// String renders the set as the CMS grouper prints it, e.g. "[HAC_10]".
func (s ProcHACs) String() string { return string(s.appendText(nil)) }

func (s ProcHACs) appendText(b []byte) []byte {
	b = append(b, '[')
	n := 0
	for i, h := range procUsageHAC {
		if s&(1<<i) != 0 {
			if n > 0 {
				b = append(b, ", "...)
			}
			b = append(b, "HAC_"...)
			b = append(b, byte('0'+h/10), byte('0'+h%10))
			n++
		}
	}
	return append(b, ']')
}

// MarshalText implements encoding.TextMarshaler.
func (s ProcHACs) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnknownVersionError reports a grouper version that is not in the loaded data.
type UnknownVersionError struct {
	Version int
	Loaded  []tables.Version
}

// Error names the version and the loaded ones.
func (e *UnknownVersionError) Error() string {
	vs := make([]string, len(e.Loaded))
	for i, v := range e.Loaded {
		vs[i] = strconv.Itoa(int(v))
	}
	return fmt.Sprintf("grouper version %d is not loaded (loaded: %s)", e.Version, strings.Join(vs, " "))
}
