package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/store"
)

// bigEncounter is a five-day stay with 200 evidence items (vitals every 6 h, daily labs,
// medication administrations, orders, notes by several roles and documented diagnoses) and
// eight working codes, so that most rules evaluate many values and several opportunities are
// regrouped.
func bigEncounter() map[string]any {
	start := time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return start.Add(time.Duration(h) * time.Hour) }
	num := func(kind, name string, v float64, unit string, h int, src string) claim.Evidence {
		return claim.Evidence{Kind: kind, Name: name, Value: claim.Number(v), Unit: unit, Time: at(h), Source: src}
	}
	var ev []claim.Evidence
	for i := range 16 { // 96 vitals
		h := i * 6
		ev = append(ev,
			claim.Evidence{Kind: "vital", Name: "SpO2", Value: claim.Number(float64(87 + i%6)), Unit: "%", Context: "room air", Time: at(h), Source: "flowsheet"},
			num("vital", "Respiratory rate", float64(22+i%9), "/min", h, "flowsheet"),
			num("vital", "Heart rate", float64(88+i%20), "/min", h, "flowsheet"),
			num("vital", "Temperature", 37.2+float64(i%4)*0.5, "°C", h, "flowsheet"),
			num("vital", "SBP", float64(84+i%30), "mmHg", h, "flowsheet"),
			num("vital", "DBP", float64(50+i%15), "mmHg", h, "flowsheet"))
	}
	for d := range 5 { // 50 labs
		h := d*24 + 1
		ev = append(ev,
			num("lab", "Creatinine", 1.0+0.2*float64(d), "mg/dL", h, "LAB"), num("lab", "Sodium", float64(131-d), "mmol/L", h, "LAB"),
			num("lab", "Hemoglobin", 12.8-0.6*float64(d), "g/dL", h, "LAB"), num("lab", "WBC", 13.5+float64(d), "K/uL", h, "LAB"),
			num("lab", "Lactate", 1.8+0.3*float64(d), "mmol/L", h, "LAB"), num("lab", "Platelets", float64(160-15*d), "K/uL", h, "LAB"),
			num("lab", "Total bilirubin", 1.1, "mg/dL", h, "LAB"), num("lab", "BNP", float64(300+150*d), "pg/mL", h, "LAB"),
			num("lab", "Glucose", float64(140+10*d), "mg/dL", h, "LAB"), num("lab", "BUN", float64(30+8*d), "mg/dL", h, "LAB"))
	}
	for d := range 5 { // 20 administrations
		h := d*24 + 3
		ev = append(ev,
			claim.Evidence{Kind: "med", Name: "Ceftriaxone", Route: "IV", Dose: "1 g", Time: at(h), Source: "MAR"},
			claim.Evidence{Kind: "med", Name: "Vancomycin", Route: "IV", Dose: "1250 mg", Time: at(h + 1), Source: "MAR"},
			claim.Evidence{Kind: "med", Name: "Furosemide", Route: "IV", Dose: "40 mg", Time: at(h + 2), Source: "MAR"},
			claim.Evidence{Kind: "med", Name: "Norepinephrine", Route: "IV infusion", Dose: "4 mcg/min", Time: at(h + 4), Source: "MAR"})
	}
	ev = append(ev, // 6 orders and measurements
		claim.Evidence{Kind: "order", Name: "BiPAP", Time: at(2), Source: "orders"},
		claim.Evidence{Kind: "order", Name: "Fluid restriction 1.5 L", Time: at(26), Source: "orders"},
		claim.Evidence{Kind: "order", Name: "Transfuse 1 unit PRBC", Time: at(80), Source: "orders"},
		num("measurement", "Weight", 118, "kg", 1, "flowsheet"), num("measurement", "Height", 170, "cm", 1, "flowsheet"),
		claim.Evidence{Kind: "lab", Name: "Sputum culture", Value: claim.Text("Pseudomonas aeruginosa, moderate growth"), Time: at(50), Source: "microbiology"})
	notes := []string{"Tachypneic with accessory muscle use. Started BiPAP.", "Patient confused and disoriented overnight, CAM positive.",
		"Poor oral intake for two weeks, unintentional weight loss of 8%, temporal wasting.", "Chest X-ray with pulmonary vascular congestion.",
		"Melena this morning, one episode.", "No chest pain. Denies nausea.", "Skin intact, no pressure injury.", "Family meeting held, full code."}
	for i := range 16 { // 16 notes
		role := []string{"physician", "nurse", "dietitian", "advanced_practice"}[i%4]
		ev = append(ev, claim.Evidence{Kind: "note", NoteType: "progress note", AuthorRole: role, Time: at(4 + i*7),
			Text: fmt.Sprintf("Day %d. %s %s", i/3+1, notes[i%len(notes)], notes[(i+3)%len(notes)])})
	}
	for i, c := range []string{"J189", "I509", "N179", "D649", "E119", "G9340", "I10", "E785", "E43", "K922", "N189", "J449"} { // 12
		role := "physician"
		if c == "E43" {
			role = "dietitian"
		}
		ev = append(ev, claim.Evidence{Kind: "documented_dx", Code: c, AuthorRole: role, NoteType: "progress note", Time: at(6 + i)})
	}
	sdx := []map[string]string{}
	for _, c := range []string{"I509", "N179", "D649", "E119", "G9340", "I10", "N189"} {
		sdx = append(sdx, map[string]string{"code": c, "poa": "Y"})
	}
	return map[string]any{"account": "BENCH-1", "facility": "MAIN", "admit_date": "2026-05-04", "age": 74, "sex": "M",
		"unit": "ICU", "payer": "MEDICARE", "attending_provider": map[string]string{"id": "P1"},
		"pdx": map[string]string{"code": "J189", "poa": "Y"}, "sdx": sdx, "evidence": ev[:200]}
}

// BenchmarkReviewEndpoint measures POST /v1/encounters/{id}/review on a 200-item evidence
// encounter through the whole handler chain: token check, reading the encounter from SQLite,
// the CDI review (every rule, every opportunity regrouped), the risk flags (regrouping without
// each CC/MCC), the clinical validation, and storing the review with its audit row (issue 7
// budget: 50 ms).
func BenchmarkReviewEndpoint(b *testing.B) {
	ts := newCDIServer(b, &clock{t: time.Date(2026, 5, 8, 12, 0, 0, 0, time.UTC)}, api.CDIConfig{})
	var e store.Encounter
	r := ts.do("POST", "/v1/encounters", cdi, bigEncounter())
	if r.StatusCode != 201 {
		b.Fatalf("create: %d %s", r.StatusCode, r.body)
	}
	if err := jsonUnmarshal(r.body, &e); err != nil || len(e.Evidence) != 200 {
		b.Fatalf("%v: %d evidence items", err, len(e.Evidence))
	}
	h := ts.srv.Handler()
	tok := "Bearer " + ts.tokens[cdi]
	review := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/encounters/"+e.ID+"/review", nil)
		req.Header.Set("Authorization", tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		return w
	}
	var rv api.CDIReview
	if err := jsonUnmarshal(review().Body.Bytes(), &rv); err != nil || len(rv.Review.Opportunities) < 8 {
		b.Fatalf("%v: %d opportunities", err, len(rv.Review.Opportunities))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		review()
	}
	b.ReportMetric(float64(len(rv.Review.Opportunities)), "opportunities")
}
