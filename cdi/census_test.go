package cdi

import (
	"fmt"
	"maps"
	"slices"
	"testing"
)

// TestFixtureCensus counts the opportunities of every fixture by kind and checks the queries
// drafted from them: every option naming a diagnosis not yet documented cites clinical
// indicators, and only those its own support criterion finds (never the documentation of
// the diagnosis being clarified, never the query's indicators wholesale).
func TestFixtureCensus(t *testing.T) {
	e := testEngine(t)
	kinds, kinds48 := map[string]int{}, map[string]int{}
	options, specific, cited := 0, 0, 0
	for name, f := range loadFixtures(t) {
		rev := f.review(t, e)
		rc := f.stages(t, e)
		for i := range rev.Opportunities {
			o := &rev.Opportunities[i]
			kinds[o.Kind+"/"+o.Reason]++
			if name < "49" {
				kinds48[o.Kind+"/"+o.Reason]++
			}
			q, err := generate(t, f, rev, o)
			if err != nil {
				t.Errorf("%s %s: %v", name, o.ID, err)
				continue
			}
			for _, op := range q.Options {
				if op.Kind != OptionDiagnosis || op.Documented {
					continue
				}
				options++
				clinical := 0
				for _, r := range op.Indicators {
					if q.Indicators[r].Clinical() {
						clinical++
					}
				}
				if clinical > 0 {
					cited++
				}
				if clinical > 0 && clinical == len(op.Indicators) && ownSupport(rc, o, q.Indicators, op) {
					specific++
				} else {
					t.Errorf("%s %s: option %q does not cite evidence of its own: %v", name, o.ID, op.Text, op.Indicators)
				}
			}
		}
	}
	count := func(m map[string]int) []string {
		var lines []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			lines = append(lines, fmt.Sprintf("%s %d", k, m[k]))
		}
		return lines
	}
	t.Logf("opportunities by kind/reason, fixtures 01-48: %v", count(kinds48))
	t.Logf("opportunities by kind/reason, all fixtures: %v", count(kinds))
	t.Logf("drafted options naming an undocumented diagnosis: %d; citing clinical indicators: %d; citing only the evidence of their own support: %d (%.1f %%)",
		options, cited, specific, 100*float64(specific)/float64(max(options, 1)))
	if options < 40 {
		t.Errorf("only %d drafted options checked", options)
	}
}

// ownSupport reports whether the facts an option cites are exactly those that its template's
// support criterion finds in the record (evaluated again, apart from the review).
func ownSupport(rc *reviewCtx, o *Opportunity, cites []Cite, op Option) bool {
	rule := rc.rules.Rules[o.Rule]
	if rule == nil {
		return false
	}
	for _, ot := range rule.Query.Options {
		if ot.Text != op.Text {
			continue
		}
		want := rc.ind.clinicalCites(ot.Support)
		if len(want) == 0 {
			return false
		}
		for _, r := range op.Indicators {
			if !slices.ContainsFunc(want, func(w Cite) bool { return sameFact(&w, &cites[r]) }) {
				return false
			}
		}
		return true
	}
	return false
}
