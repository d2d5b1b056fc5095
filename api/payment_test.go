package api_test

import (
	"strings"
	"testing"
)

// TestGroupPayment: POST /v1/group answers the transfer adjustment in the record's payment
// block: DRG 291 (post-acute; FY2026 weight 1.2838, GMLOS 3.8) discharged to a SNF after one
// day is paid 2 / 3.8 = 0.5263 of the DRG, adjusted weight 0.6757 (spec worked example); with
// home health and condition code 42 it is no transfer.
func TestGroupPayment(t *testing.T) {
	ts := newTestServer(t)
	base := `"discharge_date":"2026-05-01","age":70,"sex":"M","length_of_stay":1,"pdx":{"code":"I5023","poa":"Y"},"sdx":[{"code":"J9601","poa":"Y"}]`
	tests := []struct {
		name, extra        string
		transfer           string
		fraction, adjusted float64
		formula            string
	}{
		{"SNF", `"discharge_status":3`, "post_acute", 0.5263, 0.6757, "fraction = min(1, 2 / GMLOS 3.8) = 0.5263"},
		{"home health CC 42", `"discharge_status":6,"condition_codes":["42"]`, "none", 1, 1.2838, "condition code 42"},
		{"IPPS hospital", `"discharge_status":2`, "acute", 0.5263, 0.6757, "acute transfer"},
	}
	for _, tt := range tests {
		r := ts.do("POST", "/v1/group", coder, "{"+tt.extra+","+base+"}").expect(t, 200).json(t)
		if path(r, "final.drg") != 291.0 || path(r, "weight_year") != 2026.0 || path(r, "payment.transfer") != tt.transfer ||
			path(r, "payment.fraction") != tt.fraction || path(r, "payment.adjusted_weight") != tt.adjusted ||
			!strings.Contains(path(r, "payment.formula").(string), tt.formula) {
			t.Errorf("%s: final %v payment %v", tt.name, path(r, "final.drg"), r["payment"])
		}
	}
	// condition_codes must be a list of strings.
	p := ts.do("POST", "/v1/group", coder, `{"discharge_status":6,"condition_codes":42,`+base+"}").expect(t, 422).problem(t)
	if len(p.Errors) == 0 || p.Errors[0].Field != "condition_codes" {
		t.Errorf("problem %+v", p)
	}
}
