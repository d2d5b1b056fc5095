package parity

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/msdrg-cdi/drg/mce"
)

// MCEReport accumulates the comparison of Medicare Code Editor records.
type MCEReport struct {
	Claims     int
	EditType   int // records whose edit type agrees
	Counts     int // records whose per-edit counts agree
	Codes      int // codes (diagnoses and procedures) whose edit list agrees
	CodesTotal int
	Full       int // every oracle field agrees
	FieldDiffs map[string]int
	Listed     []Mismatch
}

// NewMCEReport returns an empty report.
func NewMCEReport() *MCEReport { return &MCEReport{FieldDiffs: map[string]int{}} }

// Add compares one oracle record (JSON) with the product's record for the same claim.
func (r *MCEReport) Add(line int, want []byte, got mce.OracleRecord) error {
	var w map[string]any
	if err := json.Unmarshal(want, &w); err != nil {
		return fmt.Errorf("expected record %d: %w", line, err)
	}
	b, err := json.Marshal(got)
	if err != nil {
		return fmt.Errorf("record %d: %w", line, err)
	}
	var g map[string]any
	if err := json.Unmarshal(b, &g); err != nil {
		return fmt.Errorf("record %d: %w", line, err)
	}
	diffs := CompareJSON(w, g, nil)
	r.Claims++
	bad := map[string]bool{}
	badCodes := map[string]bool{}
	for _, d := range diffs {
		f := fieldName(d.Path)
		bad[strings.SplitN(f, ".", 2)[0]] = true
		r.FieldDiffs[f]++
		if strings.HasPrefix(d.Path, "dx[") || strings.HasPrefix(d.Path, "pr[") {
			badCodes[d.Path[:strings.IndexByte(d.Path, ']')+1]] = true
		}
	}
	for _, list := range []string{"dx", "pr"} {
		codes, _ := w[list].([]any)
		r.CodesTotal += len(codes)
		for i := range codes {
			if !badCodes[fmt.Sprintf("%s[%d]", list, i)] && !bad[list+".length"] {
				r.Codes++
			}
		}
	}
	if !bad["edit_type"] {
		r.EditType++
	}
	if !bad["edits"] {
		r.Counts++
	}
	if len(diffs) == 0 {
		r.Full++
	} else if len(r.Listed) < MaxListed {
		id, _ := w["id"].(string)
		r.Listed = append(r.Listed, Mismatch{Line: line, ID: id, Diffs: diffs})
	}
	return nil
}

// Summary is the report's last line.
func (r *MCEReport) Summary() string {
	return fmt.Sprintf("parity: %d claims, edit type %.2f%%, full record %.2f%%", r.Claims, Pct(r.EditType, r.Claims), Pct(r.Full, r.Claims))
}
