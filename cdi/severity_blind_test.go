package cdi

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/tables"
)

// withLevels returns an engine over the same tables whose CC/MCC levels are rewritten by
// level: the grouper, the impacts and the candidates' levels follow the new levels.
func withLevels(t *testing.T, e *Engine, level func(tables.Severity) tables.Severity) *Engine {
	t.Helper()
	cat := *e.cat
	m := *cat.MSDRG
	m.Dx = make(map[string][]tables.DxRecord, len(e.cat.MSDRG.Dx))
	for code, recs := range e.cat.MSDRG.Dx {
		l := slices.Clone(recs)
		for i := range l {
			l[i].Severity = level(l[i].Severity)
		}
		m.Dx[code] = l
	}
	cat.MSDRG = &m
	eng, err := NewEngine(&cat, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// offered renders what a review offers, leaving out what may depend on CC/MCC levels (the
// impact, the candidates' levels and the order of opportunities, which follows the impact):
// every opportunity with its kind, codes, cited facts and query plan, the coder hints, the
// rule outcomes, and the query drafted from each opportunity.
func offered(t *testing.T, f *fixture, rev *Review) string {
	t.Helper()
	type option struct {
		Text       string
		Kind       string
		Codes      []string
		Documented bool
		Cites      []string
	}
	type opp struct {
		ID, Kind, Reason, Rule, POA string
		Principal                   bool
		Codes, Replaces             []string
		Cites, Documentation        []string
		Format, Purpose, Question   string
		Options                     []option
		Draft                       string
	}
	cite := func(c Cite) string { return c.Indicator + "=" + c.Text() }
	var opps []opp
	for i := range rev.Opportunities {
		o := &rev.Opportunities[i]
		x := opp{ID: o.ID, Kind: o.Kind, Reason: o.Reason, Rule: o.Rule, POA: o.POA, Principal: o.Principal, Codes: codesOf(o.Candidates),
			Replaces: o.Replaces, Format: o.Query.Format, Purpose: o.Query.Purpose, Question: o.Query.Question}
		for _, c := range o.Indicators {
			x.Cites = append(x.Cites, cite(c))
		}
		for _, c := range o.Documentation {
			x.Documentation = append(x.Documentation, cite(c))
		}
		for _, op := range o.Query.Options {
			xo := option{Text: op.Text, Kind: op.Kind, Codes: op.Codes, Documented: op.Documented}
			for _, r := range op.Indicators {
				xo.Cites = append(xo.Cites, cite(o.Indicators[r]))
			}
			x.Options = append(x.Options, xo)
		}
		if q, err := generate(t, f, rev, o); err == nil {
			x.Draft = q.Text()
		} else {
			x.Draft = "error: " + err.Error()
		}
		opps = append(opps, x)
	}
	slices.SortFunc(opps, func(a, b opp) int { return strings.Compare(a.ID, b.ID) })
	var rules []string
	for _, r := range rev.Rules {
		rules = append(rules, r.Rule+":"+r.Status)
	}
	var hints []string
	for _, h := range rev.Hints {
		hints = append(hints, fmt.Sprintf("%s %v", h.Code, codesOf(h.MoreSpecific)))
	}
	b, err := json.MarshalIndent(struct {
		Opportunities []opp
		Rules, Hints  []string
	}{opps, rules, hints}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSeverityBlindOptions reviews every fixture again with the CC/MCC levels of the tables
// flattened (every code a non-CC) and permuted (MCC → non-CC → CC → MCC): the opportunities,
// the indicators they cite, the options offered and the drafted queries must be identical.
// Only impact figures may change: nothing is offered because it pays more.
func TestSeverityBlindOptions(t *testing.T) {
	e := testEngine(t)
	fixtures := loadFixtures(t)
	variants := map[string]func(tables.Severity) tables.Severity{
		"flattened": func(tables.Severity) tables.Severity { return tables.NCC },
		"permuted": func(s tables.Severity) tables.Severity {
			switch s {
			case tables.MCC:
				return tables.NCC
			case tables.CC:
				return tables.MCC
			}
			return tables.CC
		},
	}
	for name, level := range variants {
		other := withLevels(t, e, level)
		impactChanged := 0
		for _, fname := range sortedKeys(fixtures) {
			f := fixtures[fname]
			rev, alt := f.review(t, e), f.review(t, other)
			if a, b := offered(t, f, rev), offered(t, f, alt); a != b {
				t.Errorf("%s levels, fixture %s: what is offered changed\nreal levels:\n%s\n%s levels:\n%s", name, fname, a, name, b)
			}
			for i := range rev.Opportunities {
				for j := range alt.Opportunities {
					if rev.Opportunities[i].ID == alt.Opportunities[j].ID && rev.Opportunities[i].Impact.DRGAfter != alt.Opportunities[j].Impact.DRGAfter {
						impactChanged++
					}
				}
			}
		}
		// The variant must really change the grouping, or the test proves nothing.
		if impactChanged == 0 {
			t.Errorf("%s levels changed no impact: the variant did not take effect", name)
		}
		t.Logf("%s levels: %d opportunities changed impact, none changed what is offered", name, impactChanged)
	}
}
