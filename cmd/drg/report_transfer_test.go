package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportCMITransfers groups FY2026 discharges some of which end in a transfer, then runs
// drg report cmi on the records: the report's plain CMI (Σ weight ÷ discharges) and
// transfer-adjusted CMI (Σ adjusted weight ÷ Σ fraction) equal those recomputed here from the
// records' weight and payment block, and the records' fractions are the hand-calculated ones.
func TestReportCMITransfers(t *testing.T) {
	data := dataDir(t)
	hf := `"discharge_date":"2026-05-01","age":70,"sex":"M","pdx":{"code":"I5023","poa":"Y"},"sdx":[{"code":"J9601","poa":"Y"}]`
	pancreas := `"discharge_date":"2026-05-01","age":50,"sex":"M","pdx":{"code":"E1010","poa":"Y"},"procedures":[{"code":"0FYG0Z0"}]`
	claims := []struct {
		id, body string
		drg      int
		fraction float64 // hand calculation (FY2026 Table 5)
	}{
		// DRG 291 (post-acute; 1.2838, GMLOS 3.8) to a SNF, LOS 1: 2 / 3.8 = 0.5263.
		{"snf", `"discharge_status":3,"length_of_stay":1,` + hf, 291, 0.5263},
		// DRG 291 home: no transfer.
		{"home", `"discharge_status":1,"length_of_stay":1,` + hf, 291, 1},
		// DRG 291 to an IPPS hospital, LOS 2: 3 / 3.8 = 0.7895.
		{"acute", `"discharge_status":2,"length_of_stay":2,` + hf, 291, 0.7895},
		// DRG 291 to home health with condition code 42: no transfer.
		{"hh42", `"discharge_status":6,"length_of_stay":1,"condition_codes":["42"],` + hf, 291, 1},
		// DRG 010 (not post-acute; 7.1757, GMLOS 5.9) to a SNF: no transfer.
		{"pancreas-snf", `"discharge_status":3,"length_of_stay":1,` + pancreas, 10, 1},
		// DRG 010 to an IPPS hospital, LOS 2: 3 / 5.9 = 0.5085.
		{"pancreas-acute", `"discharge_status":2,"length_of_stay":2,` + pancreas, 10, 0.5085},
	}
	var in strings.Builder
	for _, c := range claims {
		in.WriteString(`{"id":"` + c.id + `",` + c.body + "}\n")
	}
	results := filepath.Join(t.TempDir(), "results.jsonl")
	if st, _, errs := drg(t, in.String(), "group", "--data", data, "--out", results, "--quiet"); st != 0 {
		t.Fatalf("drg group: exit %d: %s", st, errs)
	}
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	var sumW, sumAdj, sumFr float64
	n, transfers := 0, 0
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec struct {
			ID      string
			Final   struct{ DRG int }
			Weight  float64
			Payment struct {
				Transfer       string
				Fraction       float64
				AdjustedWeight float64 `json:"adjusted_weight"`
				Formula        string
			}
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		c := claims[i]
		if rec.ID != c.id || rec.Final.DRG != c.drg || rec.Payment.Fraction != c.fraction {
			t.Errorf("%s: DRG %d fraction %.4f (%s), want DRG %d fraction %.4f", rec.ID, rec.Final.DRG, rec.Payment.Fraction, rec.Payment.Formula, c.drg, c.fraction)
		}
		n++
		sumW += rec.Weight
		sumAdj += rec.Payment.AdjustedWeight
		sumFr += rec.Payment.Fraction
		if rec.Payment.Transfer != "none" {
			transfers++
		}
	}
	r4 := func(x float64) float64 { return math.Round(x*1e4) / 1e4 }
	st, out, errs := drg(t, "", "report", "cmi", "--data", data, "--in", results, "--format", "json", "--base-rate", "6000")
	if st != 0 {
		t.Fatalf("drg report cmi: exit %d: %s", st, errs)
	}
	var rep struct {
		Overall struct {
			Discharges             int
			CMI                    float64
			Transfers              int
			TransferAdjustedCases  float64 `json:"transfer_adjusted_cases"`
			TransferAdjustedWeight float64 `json:"transfer_adjusted_weight"`
			TransferAdjustedCMI    float64 `json:"transfer_adjusted_cmi"`
			EstimatedPayment       float64 `json:"estimated_payment"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	o := rep.Overall
	if o.Discharges != n || o.CMI != r4(sumW/float64(n)) || o.Transfers != transfers || transfers != 3 ||
		o.TransferAdjustedCases != r4(sumFr) || o.TransferAdjustedWeight != r4(sumAdj) || o.TransferAdjustedCMI != r4(sumAdj/sumFr) ||
		o.EstimatedPayment != math.Round(sumAdj*6000*100)/100 {
		t.Errorf("report %+v;\nrecomputed from the records: %d discharges, CMI %.4f, %d transfers, %.4f adjusted cases, adjusted weight %.4f, adjusted CMI %.4f",
			o, n, sumW/float64(n), transfers, sumFr, sumAdj, sumAdj/sumFr)
	}
	if o.TransferAdjustedCMI == o.CMI {
		t.Errorf("transfer-adjusted CMI equals the plain CMI %.4f", o.CMI)
	}
	st, text, _ := drg(t, "", "report", "cmi", "--data", data, "--in", results)
	if st != 0 || !strings.Contains(text, "transfer-adjusted CMI") || !strings.Contains(text, "adj. CMI") {
		t.Errorf("text report lacks the transfer-adjusted CMI:\n%s", text)
	}
	t.Logf("%d discharges: CMI %.4f, transfer-adjusted CMI %.4f over %.4f cases", n, o.CMI, o.TransferAdjustedCMI, o.TransferAdjustedCases)
}
