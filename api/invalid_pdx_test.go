package api_test

import (
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/api"
	cdipkg "github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/store"
)

// TestReviewFlagsInvalidPDX: a principal diagnosis the version does not recognize groups to
// DRG 999; the review says so as the coder's first item, naming the code, why it is invalid
// and the valid codes that may replace it — before an invalid secondary diagnosis and the
// specificity hints (issue 21 item 10).
func TestReviewFlagsInvalidPDX(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, pdx, want string
		replacement     string
	}{
		{"a heading (needs more characters)", "I50.2", "I502", "I5023"},
		{"a made-up code", "Q999ZZ", "Q999ZZ", ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := cdiFixtureEncounter(t, "01_arf_hypoxic_positive")
			enc["account"] = "INV-" + string(rune('A'+i))
			enc["pdx"] = map[string]any{"code": tc.pdx, "poa": "Y"}
			enc["sdx"] = []any{map[string]any{"code": "E119", "poa": "Y"}, map[string]any{"code": "N18", "poa": "Y"}, map[string]any{"code": "I10", "poa": "Y"}}
			e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", coder, enc).expect(t, 201))
			rv := decode[api.CDIReview](t, ts.do("POST", "/v1/encounters/"+e.ID+"/review", cdi, nil).expect(t, 200))
			if rv.Review.Working == nil || rv.Review.Working.DRG != 999 {
				t.Fatalf("working %+v, want DRG 999", rv.Review.Working)
			}
			h := rv.Review.Hints
			if len(h) < 2 {
				t.Fatalf("hints %+v: want the invalid PDX first, then the invalid SDX N18", h)
			}
			top := h[0]
			if top.Kind != cdipkg.HintInvalidCode || top.Role != "pdx" || top.Code != tc.want ||
				!strings.Contains(top.Message, "principal diagnosis") || !strings.Contains(top.Message, "DRG 999") {
				t.Errorf("first hint %+v", top)
			}
			if tc.replacement != "" && !strings.Contains(top.Message, tc.replacement) {
				t.Errorf("first hint %q does not name the replacement %s", top.Message, tc.replacement)
			}
			if h[1].Kind != cdipkg.HintInvalidCode || h[1].Role != "sdx" || h[1].Code != "N18" {
				t.Errorf("second hint %+v", h[1])
			}
			// The stored review says it too.
			got := decode[api.CDIReview](t, ts.do("GET", "/v1/encounters/"+e.ID+"/review", coder, nil).expect(t, 200))
			if len(got.Review.Hints) == 0 || got.Review.Hints[0].Code != tc.want {
				t.Errorf("stored review hints %+v", got.Review.Hints)
			}
		})
	}
}
