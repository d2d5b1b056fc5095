package mce

import (
	"fmt"
	"math/bits"
	"strings"
)

// EditID identifies one edit of the Medicare Code Editor, numbered as in the CMS catalogue (1 … 44).
type EditID uint8

// The MCE edits in canonical CMS order (the order of counters and legacy edit strings).
const (
	InvalidCode EditID = iota + 1
	SexConflict
	AgeConflict
	QuestionableAdmission
	ManifestationAsPDX
	NonspecificPDX
	ECodeAsPDX
	UnacceptablePDX
	DuplicateOfPDX
	MedicareIsSecondaryPayer
	RequiresSDX
	NonspecificOR
	OpenBiopsy
	NonCovered
	Bilateral
	LimitedCoverageLVRS
	LimitedCoverage
	LimitedCoverageLungTransplant
	QuestionableObstetricAdmission
	LimitedCoverageHeartLungTransplant
	LimitedCoverageHeartTransplant
	LimitedCoverageHeartImplant
	LimitedCoverageIntestineTransplant
	LimitedCoverageLiverTransplant
	InvalidAdmitDx
	InvalidAge
	InvalidSex
	InvalidDischargeStatus
	LimitedCoverageKidneyTransplant
	LimitedCoveragePancreasTransplant
	TypeOfAgeConflict
	InvalidPOA
	LimitedCoverageArtificialHeart
	WrongProcedurePerformed
	InconsistentWithLOS
	Unspecified
	DxUnused1
	DxUnused2
	DxUnused3
	DxUnused4
	DxUnused5
	SgUnused1
	SgUnused2
	SgUnused3

	// NumEdits is one more than the largest edit number: the size of per-edit arrays.
	NumEdits
)

// CodeType says which kind of code an edit is reported on.
type CodeType uint8

// Code types of the catalogue.
const (
	OnNone CodeType = iota // claim-level edit
	OnDx                   // diagnoses
	OnProc                 // procedures
	OnBoth                 // diagnoses and procedures
)

// PaymentType is the CMS payment category of an edit, which determines the claim's edit type.
type PaymentType uint8

// Payment types of the catalogue.
const (
	PayNone PaymentType = iota
	Prepayment
	Postpayment
)

// String renders the payment type as CMS does (NONE, PREPAYMENT, POSTPAYMENT).
func (p PaymentType) String() string {
	switch p {
	case Prepayment:
		return "PREPAYMENT"
	case Postpayment:
		return "POSTPAYMENT"
	}
	return "NONE"
}

// MarshalText renders the payment type as String does.
func (p PaymentType) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// Applicability says for which ICD version of the claim an edit exists.
type Applicability uint8

// Applicabilities of the catalogue.
const (
	AllICD Applicability = iota
	ICD9Only
	ICD10Only
)

// EditInfo describes one edit of the catalogue.
type EditInfo struct {
	Edit     EditID
	Name     string // CMS enumeration name, e.g. DUPLICATE_OF_PDX
	CodeType CodeType
	Payment  PaymentType
	Applies  Applicability
	Title    string // short human title
	Rule     string // what the edit means, used in messages ("duplicate of the principal diagnosis")
}

// Catalogue lists every MCE edit in canonical order; Catalogue[i].Edit == EditID(i+1).
var Catalogue = []EditInfo{
	{InvalidCode, "INVALID_CODE", OnBoth, Prepayment, AllICD, "Invalid code",
		"not a valid code on the discharge date"},
	{SexConflict, "SEX_CONFLICT", OnBoth, Prepayment, AllICD, "Sex conflict",
		"inconsistent with the patient's sex"},
	{AgeConflict, "AGE_CONFLICT", OnDx, Prepayment, AllICD, "Age conflict",
		"inconsistent with the patient's age"},
	{QuestionableAdmission, "QUESTIONABLE_ADMISSION", OnDx, Prepayment, AllICD, "Questionable admission",
		"principal diagnosis that is usually not a reason for inpatient admission"},
	{ManifestationAsPDX, "MANIFESTATION_AS_PDX", OnDx, Prepayment, AllICD, "Manifestation code as principal diagnosis",
		"manifestation code not allowed as principal diagnosis; sequence the underlying condition first"},
	{NonspecificPDX, "NONSPECIFIC_PDX", OnDx, Postpayment, AllICD, "Non-specific principal diagnosis",
		"non-specific principal diagnosis for a patient discharged alive"},
	{ECodeAsPDX, "E_CODE_AS_PDX", OnDx, Prepayment, AllICD, "External cause code as principal diagnosis",
		"external cause code not allowed as principal diagnosis"},
	{UnacceptablePDX, "UNACCEPTABLE_PDX", OnDx, Prepayment, AllICD, "Unacceptable principal diagnosis",
		"not acceptable as principal diagnosis"},
	{DuplicateOfPDX, "DUPLICATE_OF_PDX", OnDx, Prepayment, AllICD, "Duplicate of principal diagnosis",
		"duplicate of the principal diagnosis"},
	{MedicareIsSecondaryPayer, "MEDICARE_IS_SECONDARY_PAYER", OnDx, Postpayment, AllICD, "Medicare as secondary payer",
		"injury code that may indicate another payer is primary (Medicare as secondary payer)"},
	{RequiresSDX, "REQUIRES_SDX", OnDx, Prepayment, AllICD, "Requires secondary diagnosis",
		"acceptable as principal diagnosis only with a secondary diagnosis, and the claim has none"},
	{NonspecificOR, "NONSPECIFIC_OR", OnProc, Postpayment, AllICD, "Non-specific O.R. procedure",
		"non-specific operating room procedure and no specific O.R. procedure on the claim"},
	{OpenBiopsy, "OPEN_BIOPSY", OnProc, Postpayment, AllICD, "Open biopsy check",
		"open biopsy procedure (verify that a closed biopsy was not performed)"},
	{NonCovered, "NON_COVERED", OnProc, Prepayment, AllICD, "Non-covered procedure",
		"procedure not covered by Medicare (in the circumstances of this claim)"},
	{Bilateral, "BILATERAL", OnProc, Postpayment, AllICD, "Bilateral procedure",
		"bilateral or multiple major joint procedures of the lower extremities with a musculoskeletal (MDC 8) principal diagnosis"},
	{LimitedCoverageLVRS, "LIMITED_COVERAGE_LVRS", OnProc, Prepayment, ICD9Only, "Limited coverage: LVRS",
		"lung volume reduction surgery, covered only under limited conditions"},
	{LimitedCoverage, "LIMITED_COVERAGE", OnProc, Prepayment, ICD10Only, "Limited coverage",
		"procedure covered by Medicare only under limited conditions"},
	{LimitedCoverageLungTransplant, "LIMITED_COVERAGE_LUNG_TRANSPLANT", OnProc, Prepayment, ICD9Only, "Limited coverage: lung transplant",
		"lung transplant, covered only under limited conditions"},
	{QuestionableObstetricAdmission, "QUESTIONABLE_OBSTETRIC_ADMISSION", OnProc, Prepayment, ICD10Only, "Questionable obstetric admission",
		"delivery procedure without a secondary diagnosis describing the delivery outcome"},
	{LimitedCoverageHeartLungTransplant, "LIMITED_COVERAGE_COMBINATION_HEART_LUNG_TRANSPLANT", OnProc, Prepayment, AllICD, "Limited coverage: heart-lung transplant",
		"combined heart-lung transplant, covered only under limited conditions"},
	{LimitedCoverageHeartTransplant, "LIMITED_COVERAGE_HEART_TRANSPLANT", OnProc, Prepayment, AllICD, "Limited coverage: heart transplant",
		"heart transplant, covered only under limited conditions"},
	{LimitedCoverageHeartImplant, "LIMITED_COVERAGE_HEART_IMPLANT", OnProc, Prepayment, AllICD, "Limited coverage: heart implant",
		"implantable heart assist system, covered only under limited conditions"},
	{LimitedCoverageIntestineTransplant, "LIMITED_COVERAGE_INTESTINE_MULTI_VISCERAL_TRANSPLANT", OnProc, Prepayment, AllICD, "Limited coverage: intestine / multi-visceral transplant",
		"intestine or multi-visceral transplant, covered only under limited conditions"},
	{LimitedCoverageLiverTransplant, "LIMITED_COVERAGE_LIVER_TRANSPLANT", OnProc, Prepayment, AllICD, "Limited coverage: liver transplant",
		"liver transplant, covered only under limited conditions"},
	{InvalidAdmitDx, "INVALID_ADMIT_DX", OnNone, PayNone, AllICD, "Invalid admitting diagnosis",
		"not a valid diagnosis code on the discharge date"},
	{InvalidAge, "INVALID_AGE", OnNone, Prepayment, AllICD, "Invalid age",
		"age must be 0–124 years"},
	{InvalidSex, "INVALID_SEX", OnNone, Prepayment, AllICD, "Invalid sex",
		"sex must be M or F (or U for discharges after 2024-09-30)"},
	{InvalidDischargeStatus, "INVALID_DISCHARGE_STATUS", OnNone, Prepayment, AllICD, "Invalid discharge status",
		"not a valid patient discharge status code on the discharge date"},
	{LimitedCoverageKidneyTransplant, "LIMITED_COVERAGE_KIDNEY_TRANSPLANT", OnProc, Prepayment, AllICD, "Limited coverage: kidney transplant",
		"kidney transplant, covered only under limited conditions"},
	{LimitedCoveragePancreasTransplant, "LIMITED_COVERAGE_PANCREAS_TRANSPLANT", OnProc, Prepayment, AllICD, "Limited coverage: pancreas transplant",
		"pancreas transplant, covered only under limited conditions"},
	{TypeOfAgeConflict, "TYPE_OF_AGE_CONFLICT", OnDx, PayNone, AllICD, "Type of age conflict",
		"age group of an age conflict"},
	{InvalidPOA, "INVALID_POA", OnDx, PayNone, AllICD, "Invalid POA",
		"invalid present-on-admission indicator"},
	{LimitedCoverageArtificialHeart, "LIMITED_COVERAGE_ARTIFICIAL_HEART", OnProc, Prepayment, AllICD, "Limited coverage: artificial heart",
		"artificial heart, covered only under limited conditions (clinical trial)"},
	{WrongProcedurePerformed, "WRONG_PROCEDURE_PERFORMED", OnDx, Prepayment, AllICD, "Wrong procedure performed",
		"wrong procedure performed (surgery on the wrong patient, body part or with the wrong procedure)"},
	{InconsistentWithLOS, "INCONSISTENT_WITH_LENGTH_OF_STAY", OnProc, Prepayment, AllICD, "Inconsistent with length of stay",
		"procedure requires a longer length of stay"},
	{Unspecified, "UNSPECIFIED", OnDx, Prepayment, AllICD, "Unspecified code",
		"unspecified code where a more specific code is available"},
	{DxUnused1, "DX_UNUSED_1", OnDx, Prepayment, AllICD, "Unused", "unused"},
	{DxUnused2, "DX_UNUSED_2", OnDx, Prepayment, AllICD, "Unused", "unused"},
	{DxUnused3, "DX_UNUSED_3", OnDx, Prepayment, AllICD, "Unused", "unused"},
	{DxUnused4, "DX_UNUSED_4", OnDx, Prepayment, AllICD, "Unused", "unused"},
	{DxUnused5, "DX_UNUSED_5", OnDx, Prepayment, AllICD, "Unused", "unused"},
	{SgUnused1, "SG_UNUSED_1", OnProc, Prepayment, AllICD, "Unused", "unused"},
	{SgUnused2, "SG_UNUSED_2", OnProc, Prepayment, AllICD, "Unused", "unused"},
	{SgUnused3, "SG_UNUSED_3", OnProc, Prepayment, AllICD, "Unused", "unused"},
}

// catalogue is Catalogue indexed by EditID (entry 0 unused).
var catalogue [NumEdits]EditInfo

// editByName maps CMS names to edits.
var editByName = map[string]EditID{}

// Derived per-ICD-version tables: which edits exist, and the code edits making up the
// legacy dx and procedure edit strings.
var (
	applicable [2]EditSet // [0] ICD-10, [1] ICD-9
	dxString   [2][]EditID
	prString   [2][]EditID
	payPrepay  EditSet // edits of payment type PREPAYMENT
	payPostpay EditSet // edits of payment type POSTPAYMENT
)

func init() {
	for i, e := range Catalogue {
		if int(e.Edit) != i+1 {
			panic(fmt.Sprintf("mce: catalogue entry %d is %s", i, e.Name))
		}
		catalogue[e.Edit] = e
		editByName[e.Name] = e.Edit
		switch e.Payment {
		case Prepayment:
			payPrepay |= 1 << e.Edit
		case Postpayment:
			payPostpay |= 1 << e.Edit
		}
		for v, other := range [2]Applicability{ICD9Only, ICD10Only} {
			if e.Applies == other {
				continue
			}
			applicable[v] |= 1 << e.Edit
			if e.CodeType == OnDx || e.CodeType == OnBoth {
				dxString[v] = append(dxString[v], e.Edit)
			}
			if e.CodeType == OnProc || e.CodeType == OnBoth {
				prString[v] = append(prString[v], e.Edit)
			}
		}
	}
}

// icdIndex maps an ICD version to the index of the per-version tables (9 → 1, other → 0).
func icdIndex(icd int) int {
	if icd == 9 {
		return 1
	}
	return 0
}

// Info returns the catalogue entry of e.
func (e EditID) Info() EditInfo {
	if e > 0 && e < NumEdits {
		return catalogue[e]
	}
	return EditInfo{Edit: e, Name: e.String()}
}

// String returns the CMS name of the edit (e.g. DUPLICATE_OF_PDX).
func (e EditID) String() string {
	if e > 0 && e < NumEdits {
		return catalogue[e].Name
	}
	return fmt.Sprintf("EditID(%d)", int(e))
}

// Payment returns the payment type of the edit.
func (e EditID) Payment() PaymentType { return e.Info().Payment }

// AppliesTo reports whether the edit exists for claims coded in ICD version icd (9, or any
// other value for ICD-10).
func (e EditID) AppliesTo(icd int) bool { return applicable[icdIndex(icd)].Has(e) }

// MarshalText renders the edit by its CMS name.
func (e EditID) MarshalText() ([]byte, error) {
	if e == 0 || e >= NumEdits {
		return nil, fmt.Errorf("mce: marshal edit %d: not in the catalogue", int(e))
	}
	return []byte(e.String()), nil
}

// UnmarshalText parses a CMS edit name.
func (e *EditID) UnmarshalText(b []byte) error {
	v, err := ParseEdit(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// ParseEdit returns the edit with the CMS name s (case-insensitive, e.g. "unspecified").
func ParseEdit(s string) (EditID, error) {
	if e, ok := editByName[strings.ToUpper(strings.TrimSpace(s))]; ok {
		return e, nil
	}
	return 0, fmt.Errorf("unknown MCE edit %q", s)
}

// EditSet is a set of edits, e.g. a suppression list.
type EditSet uint64

// NewEditSet returns the set of the given edits.
func NewEditSet(edits ...EditID) EditSet {
	var s EditSet
	for _, e := range edits {
		s = s.With(e)
	}
	return s
}

// ParseEditSet parses a list of CMS edit names separated by commas or spaces.
func ParseEditSet(s string) (EditSet, error) {
	var set EditSet
	for _, name := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		e, err := ParseEdit(name)
		if err != nil {
			return 0, fmt.Errorf("parse edit list: %w", err)
		}
		set = set.With(e)
	}
	return set, nil
}

// With returns the set with e added; values outside the catalogue are ignored.
func (s EditSet) With(e EditID) EditSet {
	if e == 0 || e >= NumEdits {
		return s
	}
	return s | 1<<e
}

// Has reports whether e is in the set.
func (s EditSet) Has(e EditID) bool { return e < 64 && s&(1<<e) != 0 }

// Len returns the number of edits in the set.
func (s EditSet) Len() int { return bits.OnesCount64(uint64(s)) }

// List returns the edits of the set in catalogue order.
func (s EditSet) List() []EditID {
	out := make([]EditID, 0, s.Len())
	for x := uint64(s); x != 0; x &= x - 1 {
		out = append(out, EditID(bits.TrailingZeros64(x)))
	}
	return out
}

// String renders the set as a comma-separated list of CMS names.
func (s EditSet) String() string {
	names := make([]string, 0, s.Len())
	for _, e := range s.List() {
		names = append(names, e.String())
	}
	return strings.Join(names, ",")
}
