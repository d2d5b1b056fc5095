package mce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// OracleRecord is the MCE result in the wire format of the CMS oracle (public_mce.jsonl):
// {"id","version","edit_type","edits":{EDIT:count,…},"dx":[{"code","edits"}],"pr":[…]}.
type OracleRecord struct {
	ID       string       `json:"id"`
	Version  int          `json:"version"`
	EditType string       `json:"edit_type"`
	Edits    EditCounts   `json:"edits"`
	Dx       []OracleCode `json:"dx"`
	Pr       []OracleCode `json:"pr"`
}

// OracleCode is one diagnosis or procedure of an OracleRecord with its edits as the CMS
// software prints a list ("[UNSPECIFIED, AGE_CONFLICT]").
type OracleCode struct {
	Code  string `json:"code"`
	Edits string `json:"edits"`
}

// EditCount is the number of times an edit was raised on a claim.
type EditCount struct {
	Edit  EditID
	Count int
}

// EditCounts lists the raised edits with their counts in catalogue order; it is written as a
// JSON object keyed by CMS edit name.
type EditCounts []EditCount

// MarshalJSON writes the counts as an object in catalogue order.
func (ec EditCounts) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range ec {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(c.Edit.String())
		b.WriteString(`":`)
		b.WriteString(strconv.Itoa(c.Count))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object of edit name → count, keeping the object's order.
func (ec *EditCounts) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("edit counts: %w", err)
	}
	if tok == nil {
		*ec = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("edit counts: want an object, got %v", tok)
	}
	out := EditCounts{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("edit counts: %w", err)
		}
		e, err := ParseEdit(tok.(string))
		if err != nil {
			return fmt.Errorf("edit counts: %w", err)
		}
		var n int
		if err := dec.Decode(&n); err != nil {
			return fmt.Errorf("edit counts: %s: %w", e, err)
		}
		out = append(out, EditCount{e, n})
	}
	*ec = out
	return nil
}

// Raised returns the edits raised on the claim with their counts, in catalogue order.
func (r *Result) Raised() EditCounts {
	out := EditCounts{}
	for x := EditID(1); x < NumEdits; x++ {
		if r.Counts[x] > 0 {
			out = append(out, EditCount{x, r.Counts[x]})
		}
	}
	return out
}

// Record renders the result as the CMS MCE prints it for claim id (the oracle record).
// Procedures are listed without edits, as in the CMS output.
func (r *Result) Record(id string) OracleRecord {
	rec := OracleRecord{
		ID: id, Version: r.Version, EditType: r.EditType.String(), Edits: r.Raised(),
		Dx: make([]OracleCode, len(r.Dx)), Pr: make([]OracleCode, len(r.Pr)),
	}
	for i := range r.Dx {
		rec.Dx[i] = OracleCode{r.Dx[i].Code, r.Dx[i].EditList()}
	}
	for i := range r.Pr {
		// The CMS MCE prints every procedure's edit list empty: procedure edits show only
		// in the counters (and in the legacy procedure edit strings). See Result.Pr for
		// the edits raised on each procedure.
		rec.Pr[i] = OracleCode{r.Pr[i].Code, "[]"}
	}
	return rec
}

// EditList renders the code's edits as the CMS software prints a Java list:
// "[]", "[UNSPECIFIED]", "[UNACCEPTABLE_PDX, AGE_CONFLICT]".
func (c *CodeEdits) EditList() string {
	if c.n == 0 {
		return "[]"
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, e := range c.Edits() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.String())
	}
	b.WriteByte(']')
	return b.String()
}

// LegacyString renders the code's edits as the MCE's fixed-width edit string of a claim in
// ICD version icd: one character per code edit of the catalogue ('1' raised, '0' not), the
// TYPE_OF_AGE_CONFLICT position holding the age group digit (1–4) of an age conflict.
func (c *CodeEdits) LegacyString(icd int) string {
	order := dxString[icdIndex(icd)]
	if c.Role == RoleProcedure {
		order = prString[icdIndex(icd)]
	}
	b := make([]byte, len(order))
	for i, e := range order {
		switch {
		case e == TypeOfAgeConflict && c.Has(AgeConflict):
			b[i] = '0' + byte(c.AgeConflictType)
		case c.Has(e):
			b[i] = '1'
		default:
			b[i] = '0'
		}
	}
	return string(b)
}
