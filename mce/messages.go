package mce

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/msdrg-cdi/drg/tables"
)

// Message is one raised edit explained for coders.
type Message struct {
	// Edit is the edit explained; 0 for notes about the run itself (invalid discharge
	// date, skipped code edits).
	Edit EditID `json:"edit,omitzero"`
	// Role is the place of the code on the claim; 0 for claim-level edits and notes.
	Role    Role        `json:"role,omitzero"`
	Index   int         `json:"index"`          // position of the code in Result.Dx or Result.Pr; -1 when not applicable
	Code    string      `json:"code,omitempty"` // the code the edit is raised on; empty for claim-level edits
	Counted bool        `json:"counted"`        // false for the informational conflicts of the admitting diagnosis and for notes
	Payment PaymentType `json:"payment"`
	// Text names the code and the rule, e.g. "SDX N390: duplicate of the principal
	// diagnosis".
	Text string `json:"text"`
}

// Messages explains every edit of the result: the diagnoses in claim order, the admitting
// diagnosis, the procedures, then the claim-level edits.
func (r *Result) Messages() []Message {
	var out []Message
	if r.EditType == EditTypeInvalidDischargeDate {
		return append(out, Message{Index: -1, Text: fmt.Sprintf(
			"claim: the discharge date is missing or outside %s … %s; the MCE edited nothing",
			isoDate(minDischargeDate), isoDate(r.terminationDate()))})
	}
	for i := range r.Dx {
		out = r.codeMessages(out, &r.Dx[i], i)
	}
	if r.AdmitDx != nil {
		out = r.codeMessages(out, r.AdmitDx, -1)
	}
	for i := range r.Pr {
		out = r.codeMessages(out, &r.Pr[i], i)
	}
	for _, x := range [...]EditID{InvalidSex, InvalidDischargeStatus, InvalidAge} {
		if r.Counts[x] > 0 {
			out = append(out, Message{Edit: x, Index: -1, Counted: true, Payment: x.Payment(),
				Text: "claim: " + r.claimDetail(x)})
		}
	}
	if r.CodeEditsSkipped {
		out = append(out, Message{Index: -1, Text: "claim: age and discharge status are required for the " +
			"diagnosis and procedure edits; only the validation edits were run"})
	}
	return out
}

// codeMessages appends the messages of the edits raised on code c.
func (r *Result) codeMessages(out []Message, c *CodeEdits, index int) []Message {
	code := c.Code
	switch {
	case isBlank(code):
		code = "(blank)"
	case tables.JavaTrim(code) != code || !strconv.CanBackquote(code) || strings.ContainsAny(code, "`"):
		code = strconv.Quote(code) // make stray spaces and control characters visible
	}
	for _, x := range c.Edits() {
		counted := c.Role != RoleAdmitDx || x == InvalidAdmitDx
		text := c.Role.String() + " " + code + ": " + r.codeDetail(c, x)
		if !counted {
			text += " (informational: not counted for the admitting diagnosis)"
		}
		out = append(out, Message{Edit: x, Role: c.Role, Index: index, Code: c.Code,
			Counted: counted, Payment: x.Payment(), Text: text})
	}
	return out
}

// codeDetail explains edit x on code c: the catalogue rule, with the facts of the claim for
// the edits that compare the code with them.
func (r *Result) codeDetail(c *CodeEdits, x EditID) string {
	rule := x.Info().Rule
	switch x {
	case InvalidCode, InvalidAdmitDx:
		if c.Role == RolePDX && c.Valid {
			return "the principal diagnosis is blank or all zeros"
		}
		return fmt.Sprintf("not a valid %s code on the discharge date %s", r.codeSystem(c.Role), isoDate(r.DischargeDate))
	case SexConflict:
		which := "female-only"
		if c.Flags.Has(tables.FlagMale) {
			which = "male-only"
		}
		return fmt.Sprintf("%s: %s code, patient sex %s", rule, which, r.sexText())
	case AgeConflict:
		g := c.AgeConflictType
		if row, ok := r.data.AgeRange(g, r.DischargeDate); ok {
			return fmt.Sprintf("%s: %s code (ages %d–%d), patient age %d", rule, groupText(g), row.MinAge, row.MaxAge, r.age)
		}
		return fmt.Sprintf("%s: %s code, patient age %d", rule, groupText(g), r.age)
	case InconsistentWithLOS:
		limit := 5
		if r.ICDVersion == 9 {
			limit = 4
		}
		return fmt.Sprintf("%s (at least %d days; length of stay %d)", rule, limit, r.los)
	case NonspecificPDX:
		return fmt.Sprintf("%s (discharge status %d)", rule, r.status)
	}
	return rule
}

// claimDetail explains a claim-level edit.
func (r *Result) claimDetail(x EditID) string {
	switch x {
	case InvalidSex:
		return fmt.Sprintf("sex %s is invalid: %s", r.sexText(), x.Info().Rule)
	case InvalidAge:
		if !r.hasAge {
			return "age is missing: " + x.Info().Rule
		}
		return fmt.Sprintf("age %d is invalid: %s", r.age, x.Info().Rule)
	case InvalidDischargeStatus:
		if !r.hasStatus {
			return "discharge status is missing"
		}
		return fmt.Sprintf("discharge status %d is %s", r.status, x.Info().Rule)
	}
	return x.Info().Rule
}

// codeSystem names the code system of a role for the claim's ICD version.
func (r *Result) codeSystem(role Role) string {
	switch {
	case role == RoleProcedure && r.ICDVersion == 9:
		return "ICD-9-CM procedure"
	case role == RoleProcedure:
		return "ICD-10-PCS"
	case r.ICDVersion == 9:
		return "ICD-9-CM diagnosis"
	}
	return "ICD-10-CM"
}

// sexText renders the claim's sex for messages.
func (r *Result) sexText() string {
	switch r.sex {
	case sexMale:
		return "M"
	case sexFemale:
		return "F"
	case sexUnknown:
		return "U (unknown)"
	}
	return strconv.Quote(r.sexRaw)
}

// terminationDate returns the last valid discharge date of the data.
func (r *Result) terminationDate() int {
	if r.data == nil {
		return 0
	}
	return r.data.Termination
}

var groupTexts = [...]string{tables.AgeNewborn: "newborn", tables.AgePediatric: "pediatric",
	tables.AgeMaternity: "maternity", tables.AgeAdult: "adult"}

// groupText names an age group in lower case.
func groupText(g tables.AgeGroup) string {
	if int(g) < len(groupTexts) && g > 0 {
		return groupTexts[g]
	}
	return g.String()
}

// isoDate renders a yyyymmdd integer as YYYY-MM-DD.
func isoDate(d int) string {
	return fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100)
}
