package parity

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/msdrg-cdi/drg/grouper"
)

// MaxListed is the number of mismatching records kept for display.
const MaxListed = 20

// Mismatch is one record that differs, with its field-level diff.
type Mismatch struct {
	Line  int    `json:"line"`
	ID    string `json:"id"`
	Diffs []Diff `json:"diffs"`
}

// GrouperReport accumulates the comparison of grouper records.
type GrouperReport struct {
	Claims     int
	FinalDRG   int // records whose final DRG agrees
	InitialDRG int
	MDC        int // initial and final MDC agree
	GRC        int // initial and final return code agree
	Full       int // every oracle field agrees
	FieldDiffs map[string]int
	Listed     []Mismatch

	tokens *Tokens
}

// NewGrouperReport returns an empty report.
func NewGrouperReport() *GrouperReport {
	return &GrouperReport{tokens: NewTokens(), FieldDiffs: map[string]int{}}
}

// Add compares one oracle record (JSON) with the product's result for the same claim.
func (r *GrouperReport) Add(line int, want []byte, got *grouper.Result) error {
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
	special := map[string]Special{"hacs": func(path string, want any) (string, bool) {
		i := dxIndex(path)
		if i < 0 || i >= len(got.Dx) {
			return "(absent)", true
		}
		l := got.Dx[i].HACs
		keys := make([]string, l.Len())
		for k := range keys {
			e := l.At(k)
			keys[k] = fmt.Sprintf("%d|%s|%s|%s", e.Number, e.Status, e.List, e.Description)
		}
		ws, _ := want.(string)
		return l.String(), !r.tokens.Match(JavaListTokens(ws), keys)
	}}
	diffs := CompareJSON(w, g, special)
	r.Claims++
	bad := map[string]bool{}
	for _, d := range diffs {
		field := fieldName(d.Path)
		bad[field] = true
		r.FieldDiffs[field]++
	}
	if !bad["final.drg"] {
		r.FinalDRG++
	}
	if !bad["initial.drg"] {
		r.InitialDRG++
	}
	if !bad["initial.mdc"] && !bad["final.mdc"] {
		r.MDC++
	}
	if !bad["initial.grc"] && !bad["final.grc"] {
		r.GRC++
	}
	if len(diffs) == 0 {
		r.Full++
	} else if len(r.Listed) < MaxListed {
		id, _ := w["id"].(string)
		r.Listed = append(r.Listed, Mismatch{Line: line, ID: id, Diffs: diffs})
	}
	return nil
}

// dxIndex extracts i from a path "dx[i].hacs".
func dxIndex(path string) int {
	a, b := strings.IndexByte(path, '['), strings.IndexByte(path, ']')
	if a < 0 || b < a {
		return -1
	}
	i, err := strconv.Atoi(path[a+1 : b])
	if err != nil {
		return -1
	}
	return i
}

// fieldName drops list indexes from a path: dx[3].hacs → dx.hacs.
func fieldName(path string) string {
	var b strings.Builder
	skip := false
	for _, c := range path {
		switch {
		case c == '[':
			skip = true
		case c == ']':
			skip = false
		case !skip:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Pct returns n/total as a percentage (100 for an empty total).
func Pct(n, total int) float64 {
	if total == 0 {
		return 100
	}
	return 100 * float64(n) / float64(total)
}

// Summary is the report's last line.
func (r *GrouperReport) Summary() string {
	return fmt.Sprintf("parity: %d claims, final DRG %.2f%%, full record %.2f%%", r.Claims, Pct(r.FinalDRG, r.Claims), Pct(r.Full, r.Claims))
}
