package claim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Encounter is the unit of work of coders and CDI specialists: a claim's fields plus the
// hospital account, its people and dates, and the clinical evidence of the stay. Its JSON is
// the claim's JSON with the encounter fields added (wire conventions).
type Encounter struct {
	Claim
	Account           string     `json:"account"`
	Facility          string     `json:"facility,omitempty"`
	AdmitDate         Date       `json:"admit_date,omitzero"`
	Payer             string     `json:"payer,omitempty"`
	ServiceLine       string     `json:"service_line,omitempty"`
	Unit              string     `json:"unit,omitempty"`
	AttendingProvider *Provider  `json:"attending_provider,omitempty"`
	Evidence          []Evidence `json:"evidence,omitempty"`
}

// Provider is a clinician who documents or is queried. Only the opaque id identifies them in
// logs.
type Provider struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Evidence kinds.
const (
	KindLab          = "lab"
	KindVital        = "vital"
	KindMed          = "med"
	KindOrder        = "order"
	KindNote         = "note"
	KindDocumentedDx = "documented_dx"
	KindMeasurement  = "measurement" // height, weight, BMI
)

// EvidenceKinds lists the evidence kinds.
var EvidenceKinds = []string{KindLab, KindVital, KindMed, KindOrder, KindNote, KindDocumentedDx, KindMeasurement}

// Check reports what makes an evidence item unusable, each error naming its field relative
// to the item ("kind", "name"): an unknown kind, a documented diagnosis without its code, a
// note without text, any other item without a name or a LOINC code. It is the one rule of
// every way evidence arrives (encounter creation and change, evidence import).
func (ev *Evidence) Check() Errors {
	var errs Errors
	switch {
	case !slices.Contains(EvidenceKinds, ev.Kind):
		errs = append(errs, &FieldError{Field: "kind", Message: "must be one of " + strings.Join(EvidenceKinds, " ")})
	case ev.Kind == KindDocumentedDx:
		if strings.TrimSpace(ev.Code) == "" {
			errs = append(errs, &FieldError{Field: "code", Message: "required: a documented diagnosis needs its ICD-10-CM code"})
		}
	case ev.Kind == KindNote:
		if strings.TrimSpace(ev.Text) == "" {
			errs = append(errs, &FieldError{Field: "text", Message: "required: a note needs its text"})
		}
	case strings.TrimSpace(ev.Name) == "" && strings.TrimSpace(ev.LOINC) == "":
		errs = append(errs, &FieldError{Field: "name", Message: "required: the item needs a name or a LOINC code"})
	}
	return errs
}

// Author roles of documentation.
const (
	RolePhysician        = "physician"
	RoleAdvancedPractice = "advanced_practice" // NP/PA: can document diagnoses
	RoleNurse            = "nurse"
	RoleDietitian        = "dietitian"
	RoleTherapist        = "therapist"
	RoleOther            = "other"
)

// IsProvider reports whether a documentation author role can document diagnoses for coding.
func IsProvider(role string) bool { return role == RolePhysician || role == RoleAdvancedPractice }

// Evidence is one clinical fact of an encounter: a lab result, a vital sign, a medication
// administration, an order or treatment, a note excerpt, or a documented diagnosis.
type Evidence struct {
	Kind           string `json:"kind"`
	Name           string `json:"name,omitempty"`
	LOINC          string `json:"loinc,omitempty"`
	Value          Value  `json:"value,omitzero"`
	Unit           string `json:"unit,omitempty"`
	ReferenceRange string `json:"reference_range,omitempty"`
	// Specimen is the fluid or specimen a lab result was measured on (arterial blood, venous
	// blood, urine, CSF…): part of a lab's identity, as urine pH is not arterial pH.
	Specimen string `json:"specimen,omitempty"`
	// Method is how a value was obtained when it matters (point of care, calculated, measured).
	Method     string    `json:"method,omitempty"`
	Time       time.Time `json:"time,omitzero"`
	Source     string    `json:"source,omitempty"`  // source system or document (LAB, ED triage, MAR…)
	Context    string    `json:"context,omitempty"` // e.g. "room air", "on 4 L nasal cannula"
	Route      string    `json:"route,omitempty"`
	Dose       string    `json:"dose,omitempty"`
	NoteType   string    `json:"note_type,omitempty"`
	AuthorRole string    `json:"author_role,omitempty"`
	Author     *Provider `json:"author,omitempty"`
	Text       string    `json:"text,omitempty"`
	Code       string    `json:"code,omitempty"` // ICD-10-CM code of a documented diagnosis
	POA        string    `json:"poa,omitempty"`
}

// Value is an evidence result: a number where the result is numeric, otherwise text (culture
// results, "positive").
type Value struct {
	Num    float64
	Text   string
	IsNum  bool
	IsText bool
}

// Number returns a numeric value.
func Number(f float64) Value { return Value{Num: f, IsNum: true} }

// Text returns a text value.
func Text(s string) Value { return Value{Text: s, IsText: true} }

// IsZero reports whether no value is set.
func (v Value) IsZero() bool { return !v.IsNum && !v.IsText }

// String renders the value.
func (v Value) String() string {
	switch {
	case v.IsNum:
		return strconv.FormatFloat(v.Num, 'f', -1, 64)
	case v.IsText:
		return v.Text
	}
	return ""
}

// MarshalJSON writes a number or a string.
func (v Value) MarshalJSON() ([]byte, error) {
	switch {
	case v.IsNum:
		return json.Marshal(v.Num)
	case v.IsText:
		return json.Marshal(v.Text)
	}
	return []byte("null"), nil
}

// UnmarshalJSON reads a number, a string (numeric strings stay text) or null.
func (v *Value) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*v = Value{}
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = Text(s)
	default:
		var f float64
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("value must be a number or a string: %w", err)
		}
		*v = Number(f)
	}
	return nil
}
