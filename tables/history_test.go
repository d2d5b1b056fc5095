package tables

import (
	"slices"
	"strings"
	"testing"
)

// TestDescribeInvalid: what the code files (FY2023–FY2026) and the grouper tables say about
// codes a version does not recognize.
func TestDescribeInvalid(t *testing.T) {
	c, err := Load(sharedCMS(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind   TitleKind
		code   string
		v      Version
		reason string
		repl   []string
	}{
		// Deleted FY2025: the placeholder X replaced by a digit, 7th character kept.
		{ICD10CM, "T8132XA", 431, "it was deleted on 2024-10-01: valid through FY2024 (grouper versions 40.0–41.1)", []string{"T81320A", "T81321A", "T81328A", "T81329A"}},
		{ICD10CM, "S301XXA", 431, "it was deleted on 2025-10-01: valid through FY2025 (grouper versions 40.0–42.1)", []string{"S3011XA", "S3012XA", "S3013XA"}},
		// Deleted FY2026 and become a heading: its new children.
		{ICD10CM, "G35", 431, "valid through FY2025 (grouper versions 40.0–42.1); in FY2026 it is a heading that needs more characters",
			[]string{"G35A", "G35B0", "G35B1", "G35B2", "G35C0", "G35C1", "G35C2", "G35D"}},
		// In a year before it was deleted, the same code is valid: nothing to say.
		{ICD10CM, "G35", 421, "", nil},
		// New in FY2026, used for an FY2025 discharge.
		{ICD10CM, "S3011XA", 421, "it takes effect with grouper version 43.0 (discharges from 2025-10-01)", nil},
		{ICD10CM, "I502", 431, "it is a heading, not a complete code: it needs more characters (FY2026)", []string{"I5020", "I5021", "I5022", "I5023"}},
		{ICD10CM, "i50.23", 431, "write it I5023: codes are upper case, without a dot", nil},
		{ICD10CM, "ZZZ99", 431, "it is not a code of any loaded ICD-10-CM code file (FY2023–FY2026)", nil},
		// A deleted procedure code: no replacement can be derived by prefix.
		{ICD10PCS, "0SG604Z", 431, "it was deleted on 2025-10-01: valid through FY2025", nil},
	}
	for _, tc := range tests {
		ic := c.DescribeInvalid(tc.kind, tc.code, tc.v)
		if tc.reason == "" && ic.Reason != "" || !strings.Contains(ic.Reason, tc.reason) {
			t.Errorf("%s in %s: reason %q, want %q", tc.code, tc.v, ic.Reason, tc.reason)
		}
		if !slices.Equal(ic.Replacements, tc.repl) || ic.More != 0 {
			t.Errorf("%s in %s: replacements %v (+%d), want %v", tc.code, tc.v, ic.Replacements, ic.More, tc.repl)
		}
	}
	// Replacements are bounded; the rest is counted.
	if ic := c.DescribeInvalid(ICD10CM, "S72", 431); len(ic.Replacements) != maxReplacements || ic.More == 0 {
		t.Errorf("S72: %d replacements, %d more", len(ic.Replacements), ic.More)
	}
	// The history reads the code files without loading their titles.
	if h := c.CodeHistory(ICD10CM, "T8132XA"); !slices.Equal(h.Valid, []int{2023, 2024}) || !slices.Equal(h.Years, []int{2023, 2024, 2025, 2026}) {
		t.Errorf("history %+v", h)
	}
	for k, lt := range c.titles {
		if lt.t.Load() != nil {
			t.Errorf("titles of %v loaded by the code history", k)
		}
	}
}
