package api_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	cdipkg "github.com/msdrg-cdi/drg/cdi"
)

// Encounters written like the real de-identified admissions of issue 21 (lab names,
// microbiology reports, medication administrations and the codes the hospital assigned), each
// created and reviewed over HTTP as a CDI specialist would.

// recAdmit is the admission day of the record tests.
var recAdmit = time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)

// at is a time of the stay: day d (0 = admission day) at hour h.
func at(d int, h float64) string {
	return recAdmit.Add(time.Duration(d)*24*time.Hour + time.Duration(h*float64(time.Hour))).Format(time.RFC3339)
}

// ev is an evidence item of a record encounter.
type ev map[string]any

func lab(name string, value any, unit, t string) ev {
	e := ev{"kind": "lab", "name": name, "value": value, "time": t, "source": "LAB"}
	if unit != "" {
		e["unit"] = unit
	}
	return e
}

func micro(name, specimen string, report any, t string) ev {
	return ev{"kind": "lab", "name": name, "specimen": specimen, "value": report, "time": t, "source": "microbiology"}
}

func vital(name string, value float64, unit, t string) ev {
	return ev{"kind": "vital", "name": name, "value": value, "unit": unit, "time": t, "source": "flowsheet"}
}

func med(name, route, dose, t string) ev {
	return ev{"kind": "med", "name": name, "route": route, "dose": dose, "time": t, "source": "eMAR"}
}

func dx(code string) ev {
	return ev{"kind": "documented_dx", "code": code, "author_role": "physician", "note_type": "H&P", "time": at(0, 12)}
}

// record is an encounter body: a principal diagnosis, secondary diagnoses and the evidence.
func record(account, pdx string, sdx []string, evidence ...[]ev) map[string]any {
	enc := map[string]any{"account": account, "facility": "MAIN", "admit_date": recAdmit.Format("2006-01-02"),
		"age": 68, "sex": "M", "attending_provider": map[string]any{"id": "P1"}}
	if pdx != "" {
		enc["pdx"] = map[string]any{"code": pdx, "poa": "Y"}
	}
	var ds []map[string]any
	for _, c := range sdx {
		ds = append(ds, map[string]any{"code": c, "poa": "Y"})
	}
	if ds != nil {
		enc["sdx"] = ds
	}
	var all []ev
	for _, l := range evidence {
		all = append(all, l...)
	}
	enc["evidence"] = all
	return enc
}

// reviewRecord creates the encounter and reviews it over HTTP.
func reviewRecord(t *testing.T, ts *testServer, enc map[string]any) *cdipkg.Review {
	t.Helper()
	created := ts.do("POST", "/v1/encounters", cdi, enc).expect(t, 201).json(t)
	rv := decode[api.CDIReview](t, ts.do("POST", "/v1/encounters/"+created["id"].(string)+"/review", cdi, nil).expect(t, 200))
	return rv.Review
}

// ruleStatus returns the status of a rule in a review.
func ruleStatus(rev *cdipkg.Review, rule string) (string, string) {
	for _, r := range rev.Rules {
		if r.Rule == rule {
			return r.Status, r.Explain
		}
	}
	return "", ""
}

// creatinineSeries is one creatinine a day from the admission.
func creatinineSeries(values ...float64) []ev {
	var out []ev
	for i, v := range values {
		out = append(out, lab("Creatinine", v, "mg/dL", at(i, 6)))
	}
	return out
}

// TestAKIFromRoundingAndDilution: KDIGO's creatinine criteria need a change above the
// assay's reporting step from a plausible baseline, and a fall from a normal value is no
// injury (issue 21 item 8). A rise of 0.5 in a day and a fall from a high peak still are.
func TestAKIFromRoundingAndDilution(t *testing.T) {
	ts := newTestServer(t)
	for _, c := range []struct {
		name   string
		values []float64
		fires  bool
	}{
		{"0.2 and 0.3 alternating: the lab's reporting step", []float64{0.2, 0.3, 0.2, 0.3, 0.3}, false},
		{"0.3 to 0.5: within the normal range from an implausible baseline", []float64{0.3, 0.4, 0.5}, false},
		{"steady fall 1.0 to 0.3 with fluids", []float64{1.0, 0.8, 0.6, 0.5, 0.4, 0.3}, false},
		{"fall 1.2 to 0.6: from a normal value", []float64{1.2, 0.9, 0.6}, false},
		{"rise 0.9 to 1.4 in a day", []float64{0.9, 1.4, 1.3}, true},
		{"0.4 to 0.9: a real rise from a low baseline", []float64{0.4, 0.9}, true},
		{"fall from 2.6 to 1.1: injury present on admission", []float64{2.6, 1.8, 1.1}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rev := reviewRecord(t, ts, record("AKI-"+c.name[:8], "J189", nil, creatinineSeries(c.values...)))
			status, explain := ruleStatus(rev, "acute_kidney_injury")
			if got := findOpp(rev, "rule:acute_kidney_injury") != nil; got != c.fires {
				t.Errorf("creatinine %v: AKI opportunity %v, want %v (%s: %s)", c.values, got, c.fires, status, explain)
			}
		})
	}
}

var _ = fmt.Sprintf
var _ = json.Marshal
var _ = slices.Contains[[]string]
var _ = strings.Contains
