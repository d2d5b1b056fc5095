package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/store"
)

// longSDX are 30 secondary diagnoses: a CC (E871) among the first 24, and past the 24th a CC
// (N179) and another (D62) the grouper cannot see.
var longSDX = []string{
	"E119", "I10", "E785", "Z7984", "E871", "K219", "F329", "G4733", "N400", "Z87891",
	"E039", "I2510", "Z955", "E1122", "I4891", "J449", "M170", "H2513", "Z7901", "G8929",
	"R739", "K5900", "L989", "Z86718", "N179", "D62", "Z6841", "E6601", "I480", "E876",
}

// TestMoreThan24Diagnoses drives an encounter with 30 secondary diagnoses through every
// stage over HTTP (issue 21 item 0): creation, grouping, review, validation, a query draft,
// the reports. None answers a 5xx; the first 24 are grouped as CMS does and the answer says
// that diagnoses 25–30 were not grouped.
func TestMoreThan24Diagnoses(t *testing.T) {
	ts := newTestServer(t)
	enc := cdiFixtureEncounter(t, "01_arf_hypoxic_positive")
	var sdx []map[string]any
	for _, c := range longSDX {
		sdx = append(sdx, map[string]any{"code": c, "poa": "Y"})
	}
	enc["sdx"] = sdx
	enc["discharge_date"] = "2026-05-08"
	enc["discharge_status"] = 1
	e := decode[store.Encounter](t, ts.do("POST", "/v1/encounters", cdi, enc).expect(t, 201))
	base := "/v1/encounters/" + e.ID

	notGrouped := func(stage string, body []byte) {
		t.Helper()
		s := string(body)
		for i := 25; i <= 30; i++ {
			if code := longSDX[i-1]; !strings.Contains(s, code) || !strings.Contains(s, fmt.Sprintf("secondary diagnosis %d", i)) {
				t.Errorf("%s: no warning that secondary diagnosis %d (%s) was not grouped: %.400s", stage, i, code, s)
			}
		}
	}
	notGrouped("group", ts.edit("POST", base+"/group", coder, nil).expect(t, 200).body)
	rv := ts.do("POST", base+"/review", cdi, nil).expect(t, 200)
	notGrouped("review", rv.body)
	notGrouped("stored review", ts.do("GET", base+"/review", cdi, nil).expect(t, 200).body)
	val := ts.do("GET", base+"/validation", cdi, nil).expect(t, 200)
	notGrouped("validation", val.body)
	vr := decode[api.ValidationReport](t, val)
	for _, f := range vr.Findings {
		if f.Code == "N179" || f.Code == "D62" {
			t.Errorf("validation judges %s, which was not grouped: %+v", f.Code, f)
		}
	}

	review := decode[api.CDIReview](t, rv)
	// The DRG rests on the one CC among the first 24 (E871): a payer denying it regroups
	// the claim it received, where N179 (25th) does not move up.
	single := false
	for _, f := range review.RiskFlags {
		if f.Kind == "single_cc_mcc" && len(f.Codes) == 1 && f.Codes[0] == "E871" && f.DRGWithout == 195 {
			single = true
		}
		if f.Kind == "single_cc_mcc" && (f.Codes[0] == "N179" || f.Codes[0] == "D62") {
			t.Errorf("risk flag on a code not grouped: %+v", f)
		}
	}
	if !single || review.Review.Working.DRG != 194 {
		t.Errorf("working DRG %d, risk flags %+v: want DRG 194 resting on E871 alone", review.Review.Working.DRG, review.RiskFlags)
	}
	if len(review.Review.Opportunities) == 0 {
		t.Fatalf("review without opportunities: %s", rv.body)
	}
	// The new-diagnosis opportunity drafts; no opportunity's draft fails with a 5xx.
	drafted := false
	for _, o := range review.Review.Opportunities {
		d := ts.do("POST", base+"/queries", cdi, map[string]any{"opportunity_id": o.ID})
		if o.ID == "rule:acute_respiratory_failure" {
			d.expect(t, 201)
			drafted = true
		}
		if d.StatusCode >= 500 {
			t.Errorf("draft from %s: status %d: %.300s", o.ID, d.StatusCode, d.body)
		}
	}
	if !drafted {
		t.Errorf("no acute respiratory failure opportunity: %s", rv.body)
	}
	for _, p := range []string{"/v1/worklist", "/v1/reports/denial-risk", "/v1/reports/severity", "/v1/reports/cdi-impact", "/v1/reports/distribution"} {
		if r := ts.do("GET", p, admin, nil); r.StatusCode != 200 {
			t.Errorf("%s: status %d: %.300s", p, r.StatusCode, r.body)
		}
	}
	ts.edit("POST", base+"/finalize", coder, nil).expect(t, 200)
	if r := ts.do("POST", base+"/cac", coder, nil); r.StatusCode != 200 {
		t.Errorf("cac: status %d: %.300s", r.StatusCode, r.body)
	}
}
