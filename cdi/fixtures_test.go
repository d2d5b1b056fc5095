package cdi

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// fixture is one hand-written encounter scenario of fixtures/cdi with what its review must
// find (see fixtures/cdi/README.md).
type fixture struct {
	Description   string          `json:"description"`
	RulesOverride json.RawMessage `json:"rules_override,omitempty"`
	Now           time.Time       `json:"now"`
	Encounter     claim.Encounter `json:"encounter"`
	Expect        struct {
		WorkingDRG    int                  `json:"working_drg"`
		Opportunities map[string]expectOpp `json:"opportunities"`
		Rules         map[string]string    `json:"rules"`
		// Hints are the codes with a coder hint (exact; absent: not checked).
		Hints []string `json:"hints"`
	} `json:"expect"`
}

// expectOpp is the expected content of one opportunity.
type expectOpp struct {
	Kind     string   `json:"kind"`
	Reason   string   `json:"reason"`
	Codes    []string `json:"codes"`
	Replaces []string `json:"replaces"`
	POA      string   `json:"poa"`
	// Indicators maps every indicator cited to the numeric value of its first citation
	// (null: not numeric or not checked).
	Indicators  map[string]*float64 `json:"indicators"`
	DRGBefore   int                 `json:"drg_before"`
	DRGAfter    int                 `json:"drg_after"`
	WeightDelta *float64            `json:"weight_delta"`
	HCCGained   []int               `json:"hcc_gained"`
	NoImpact    string              `json:"no_impact"`
	QueryFormat string              `json:"query_format"`
	// Queryable false: no indicator has a source and a time, so no query can be generated.
	Queryable *bool `json:"queryable"`
	// Options are the options the query plan offers, in order, each with the indicators it
	// cites (exact; absent: not checked).
	Options []expectOption `json:"options"`
}

// expectOption is an option a query plan must offer and the indicators it must cite.
type expectOption struct {
	Text       string   `json:"text"`
	Indicators []string `json:"indicators"`
}

func loadFixtures(t *testing.T) map[string]*fixture {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "fixtures", "cdi", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*fixture{}
	for _, p := range paths {
		if strings.HasPrefix(filepath.Base(p), "fhir_") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f := &fixture{}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = f
	}
	return out
}

// review reviews a fixture's encounter with the default rules and its override.
func (f *fixture) review(t *testing.T, e *Engine) *Review {
	t.Helper()
	opt := ReviewOptions{Now: f.Now}
	if len(f.RulesOverride) > 0 {
		r, err := DefaultRules().Override(f.RulesOverride)
		if err != nil {
			t.Fatalf("rules override: %v", err)
		}
		opt.Rules = r
	}
	rev, err := e.Review(&f.Encounter, opt)
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// stages runs the first stages of a review of the fixture (facts and indicators) and returns
// them, for tests that check the later stages against them.
func (f *fixture) stages(t *testing.T, e *Engine) *reviewCtx {
	t.Helper()
	rules := DefaultRules()
	if len(f.RulesOverride) > 0 {
		r, err := rules.Override(f.RulesOverride)
		if err != nil {
			t.Fatal(err)
		}
		rules = r
	}
	rc, err := e.read(&f.Encounter, rules, f.Now)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// TestFixtures reviews every scenario of fixtures/cdi with the real grouper and tables and
// checks which opportunities fire (exactly), their kind, codes, cited indicators and values,
// DRGs before and after, weight delta, HCCs gained and zero-impact reason, and rule
// statuses.
func TestFixtures(t *testing.T) {
	e := testEngine(t)
	fixtures := loadFixtures(t)
	if len(fixtures) < 30 {
		t.Errorf("%d fixtures, want at least 30", len(fixtures))
	}
	for _, name := range sortedKeys(fixtures) {
		f := fixtures[name]
		t.Run(name, func(t *testing.T) {
			rev := f.review(t, e)
			got := map[string]*Opportunity{}
			for i := range rev.Opportunities {
				got[rev.Opportunities[i].ID] = &rev.Opportunities[i]
			}
			if rev.Working == nil && f.Expect.WorkingDRG != 0 || rev.Working != nil && rev.Working.DRG != f.Expect.WorkingDRG {
				t.Errorf("working DRG = %+v, want %d", rev.Working, f.Expect.WorkingDRG)
			}
			if g, w := sortedKeys(got), sortedKeys(f.Expect.Opportunities); !slices.Equal(g, w) {
				t.Errorf("opportunities = %v, want %v", g, w)
				for _, o := range rev.Opportunities {
					t.Logf("  %s: %s", o.ID, o.Explain)
				}
			}
			for id, want := range f.Expect.Opportunities {
				if o := got[id]; o != nil {
					checkOpportunity(t, o, want)
				}
			}
			var hints []string
			for _, h := range rev.Hints {
				hints = append(hints, h.Code)
			}
			if f.Expect.Hints != nil && !slices.Equal(hints, f.Expect.Hints) {
				t.Errorf("hints = %v, want %v", hints, f.Expect.Hints)
			}
			for i := range rev.Opportunities {
				checkOptionEvidence(t, &rev.Opportunities[i])
			}
			for rule, status := range f.Expect.Rules {
				if r := ruleResult(rev, rule); r == nil || r.Status != status {
					t.Errorf("rule %s: %+v, want status %s", rule, r, status)
				}
			}
			if t.Failed() {
				for _, r := range rev.Rules {
					if r.Status != StatusNotFired && r.Status != StatusNotEvaluated {
						t.Logf("  rule %s %s: %s", r.Rule, r.Status, r.Explain)
					}
				}
			}
		})
	}
}

func checkOpportunity(t *testing.T, o *Opportunity, w expectOpp) {
	t.Helper()
	if w.Kind != "" && o.Kind != w.Kind {
		t.Errorf("%s: kind %s, want %s", o.ID, o.Kind, w.Kind)
	}
	if w.Reason != "" && o.Reason != w.Reason {
		t.Errorf("%s: reason %s, want %s", o.ID, o.Reason, w.Reason)
	}
	if w.Codes != nil && !slices.Equal(codesOf(o.Candidates), w.Codes) {
		t.Errorf("%s: candidates %v, want %v", o.ID, codesOf(o.Candidates), w.Codes)
	}
	if w.Replaces != nil && !slices.Equal(o.Replaces, w.Replaces) {
		t.Errorf("%s: replaces %v, want %v", o.ID, o.Replaces, w.Replaces)
	}
	if w.POA != "" && o.POA != w.POA {
		t.Errorf("%s: assumed POA %s, want %s", o.ID, o.POA, w.POA)
	}
	if w.Indicators != nil {
		first := map[string]Cite{}
		for _, c := range o.Indicators {
			if _, ok := first[c.Indicator]; !ok && c.Indicator != "" {
				first[c.Indicator] = c
			}
		}
		if g, wk := sortedKeys(first), sortedKeys(w.Indicators); !slices.Equal(g, wk) {
			t.Errorf("%s: indicators %v, want %v", o.ID, g, wk)
		}
		for id, v := range w.Indicators {
			c, ok := first[id]
			if v == nil || !ok {
				continue
			}
			if !c.Value.IsNum || math.Abs(c.Value.Num-*v) > 1e-6 {
				t.Errorf("%s: %s cites %s, want %v", o.ID, id, c.Value, *v)
			}
			if c.Source == "" || c.Time.IsZero() || len(c.Evidence) == 0 {
				t.Errorf("%s: %s citation lacks source, time or evidence index: %+v", o.ID, id, c)
			}
		}
	}
	im := o.Impact
	if im.DRGBefore != w.DRGBefore || im.DRGAfter != w.DRGAfter {
		t.Errorf("%s: DRG %d → %d, want %d → %d (%s)", o.ID, im.DRGBefore, im.DRGAfter, w.DRGBefore, w.DRGAfter, im.NoImpact)
	}
	if w.WeightDelta != nil && math.Abs(im.WeightDelta-*w.WeightDelta) > 1e-9 {
		t.Errorf("%s: weight delta %v, want %v", o.ID, im.WeightDelta, *w.WeightDelta)
	}
	var hccs []int
	for _, h := range im.HCCGained {
		hccs = append(hccs, h.Number)
	}
	if !slices.Equal(hccs, w.HCCGained) {
		t.Errorf("%s: HCCs gained %v, want %v", o.ID, hccs, w.HCCGained)
	}
	switch {
	case im.DRGBefore == im.DRGAfter && im.NoImpact == "":
		t.Errorf("%s: zero impact without a reason", o.ID)
	case w.NoImpact != "" && !strings.Contains(im.NoImpact, w.NoImpact):
		t.Errorf("%s: no-impact reason %q, want it to contain %q", o.ID, im.NoImpact, w.NoImpact)
	case w.NoImpact == "" && im.NoImpact != "":
		t.Errorf("%s: unexpected no-impact reason %q", o.ID, im.NoImpact)
	}
	if w.QueryFormat != "" && o.Query.Format != w.QueryFormat {
		t.Errorf("%s: query format %s, want %s", o.ID, o.Query.Format, w.QueryFormat)
	}
	if w.Options != nil {
		got := optionIndicators(o)
		if len(got) != len(w.Options) {
			t.Errorf("%s: options %+v, want %+v", o.ID, got, w.Options)
		} else {
			for i := range got {
				want := slices.Sorted(slices.Values(w.Options[i].Indicators))
				if got[i].Text != w.Options[i].Text || !slices.Equal(got[i].Indicators, want) {
					t.Errorf("%s: option %d = %+v, want %+v", o.ID, i, got[i], w.Options[i])
				}
			}
		}
	}
}

// checkOptionEvidence: every option naming a diagnosis not documented cites clinical
// indicators of its own, and no option cites documentation of a diagnosis as support.
func checkOptionEvidence(t *testing.T, o *Opportunity) {
	t.Helper()
	for _, op := range o.Query.Options {
		clinical := 0
		for _, i := range op.Indicators {
			if c := o.Indicators[i]; c.Clinical() {
				clinical++
			} else {
				t.Errorf("%s: option %q cites %s (%s), which is not a clinical indicator", o.ID, op.Text, c.Name, c.Kind)
			}
		}
		if op.Kind == OptionDiagnosis && !op.Documented && clinical == 0 {
			t.Errorf("%s: option %q names an undocumented diagnosis without clinical evidence of its own", o.ID, op.Text)
		}
	}
}

// optionIndicators lists the indicators each option of an opportunity's plan cites.
func optionIndicators(o *Opportunity) []expectOption {
	var out []expectOption
	for _, op := range o.Query.Options {
		e := expectOption{Text: op.Text, Indicators: []string{}}
		for _, i := range op.Indicators {
			if id := o.Indicators[i].Indicator; !slices.Contains(e.Indicators, id) {
				e.Indicators = append(e.Indicators, id)
			}
		}
		slices.Sort(e.Indicators)
		out = append(out, e)
	}
	return out
}

func ruleResult(rev *Review, id string) *RuleResult {
	for i := range rev.Rules {
		if rev.Rules[i].Rule == id {
			return &rev.Rules[i]
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
