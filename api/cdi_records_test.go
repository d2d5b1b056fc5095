package api_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	cdipkg "github.com/msdrg-cdi/drg/cdi"
)

// Encounters written like the real de-identified admissions of issue 21 (lab names,
// microbiology reports, medication administrations and the codes the hospital assigned), each
// created and reviewed over HTTP as a CDI specialist would.

// accountSeq numbers the accounts of the record encounters.
var accountSeq atomic.Int64

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
	enc["account"] = fmt.Sprintf("%v-%d", enc["account"], accountSeq.Add(1))
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

// septicPicture is SIRS with organ dysfunction and no infection of its own: temperature 38.6,
// heart rate 112, WBC 14.6, lactate 3.0, MAP 62 and platelets 95 (SOFA 3). Whether sepsis is
// queried depends on the infection the rest of the record shows.
func septicPicture() []ev {
	return []ev{
		vital("Temperature", 38.6, "Cel", at(0, 4)), vital("Heart rate", 112, "/min", at(0, 4)),
		vital("MAP", 62, "mmHg", at(0, 5)), lab("WBC", 14.6, "K/uL", at(0, 5)),
		lab("Lactate", 3.0, "mmol/L", at(0, 5)), lab("Platelets", 95, "K/uL", at(0, 5)),
	}
}

// course is an antimicrobial given every interval hours, n times, from the admission.
func course(name, route, dose string, n int, every float64) []ev {
	var out []ev
	for i := range n {
		out = append(out, med(name, route, dose, at(0, 6+float64(i)*every)))
	}
	return out
}

// TestSepsisFromCulturesAndProphylaxis: a culture is read as the microbiology laboratory
// reports it, prophylaxis regimens are not treatment and antibiotics alone establish no
// infection (issue 21 item 7). The positive rows show the same picture does raise the sepsis
// query with a true infection.
func TestSepsisFromCulturesAndProphylaxis(t *testing.T) {
	ts := newTestServer(t)
	ceftriaxone := course("Ceftriaxone", "IV", "1 g", 3, 24)
	urine := func(report string) []ev { return []ev{micro("URINE CULTURE", "urine", report, at(0, 5))} }
	for _, c := range []struct {
		name     string
		evidence []ev
		fires    bool
	}{
		{"urine culture < 10,000 CFU/mL", slices.Concat(urine("<10,000 CFU/mL"), ceftriaxone), false},
		{"urine culture 10,000-50,000 organisms/mL of E. coli", slices.Concat(urine("ESCHERICHIA COLI. 10,000-50,000 ORGANISMS/ML."), ceftriaxone), false},
		{"urine culture no growth", slices.Concat(urine("NO GROWTH"), ceftriaxone), false},
		{"yeast in urine", slices.Concat(urine("YEAST. >100,000 ORGANISMS/ML."), ceftriaxone), false},
		{"mixed flora", slices.Concat(urine("MIXED BACTERIAL FLORA ( >= 3 COLONY TYPES), CONSISTENT WITH SKIN AND/OR GENITAL CONTAMINATION"), ceftriaxone), false},
		{"one blood culture set of coagulase-negative staphylococci", slices.Concat([]ev{
			micro("BLOOD CULTURE", "blood", "STAPHYLOCOCCUS, COAGULASE NEGATIVE", at(0, 5)),
			micro("BLOOD CULTURE", "blood", "NO GROWTH", at(0, 5.2))}, course("Vancomycin", "IV", "1250 mg", 3, 12)), false},
		{"once-daily single-strength TMP-SMX with a culture pending", slices.Concat([]ev{
			micro("BLOOD CULTURE", "blood", "pending", at(0, 5))}, course("Sulfamethoxazole-trimethoprim SS", "PO", "1 tab", 4, 24)), false},
		{"ciprofloxacin 500 mg daily in cirrhosis (SBP prophylaxis)", slices.Concat([]ev{dx("K7031"),
			micro("BLOOD CULTURE", "blood", "pending", at(0, 5))}, course("Ciprofloxacin", "PO", "500 mg", 4, 24)), false},
		{"antibiotics alone: IV vancomycin and cefepime without culture or documented infection", slices.Concat(
			course("Vancomycin", "IV", "1 g", 4, 12), course("Cefepime", "IV", "2 g", 4, 12)), false},
		{"E. coli > 100,000 CFU/mL treated", slices.Concat(urine("ESCHERICHIA COLI >100,000 CFU/mL"), ceftriaxone), true},
		{"coagulase-negative staphylococci in two blood culture sets", slices.Concat([]ev{
			micro("BLOOD CULTURE", "blood", "STAPHYLOCOCCUS, COAGULASE NEGATIVE", at(0, 5)),
			micro("BLOOD CULTURE", "blood", "STAPHYLOCOCCUS, COAGULASE NEGATIVE", at(0, 5.2))}, course("Vancomycin", "IV", "1250 mg", 3, 12)), true},
		{"TMP-SMX DS twice daily (treatment) with a culture pending", slices.Concat([]ev{
			micro("BLOOD CULTURE", "blood", "pending", at(0, 5))}, course("Sulfamethoxazole-trimethoprim DS", "PO", "1 tab", 4, 12)), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rev := reviewRecord(t, ts, record("SEP", "R4182", nil, septicPicture(), c.evidence))
			status, explain := ruleStatus(rev, "sepsis_sofa")
			if got := findOpp(rev, "rule:sepsis_sofa") != nil; got != c.fires {
				t.Errorf("sepsis opportunity %v, want %v (%s: %s)", got, c.fires, status, explain)
			}
		})
	}
}

// TestSOFAAgainstChronicBaseline: in cirrhosis with chronic thrombocytopenia and
// hyperbilirubinemia the platelets and bilirubin of the stay are the patient's baseline;
// only a worsening beyond them counts (issue 21 item 7).
func TestSOFAAgainstChronicBaseline(t *testing.T) {
	ts := newTestServer(t)
	uti := []ev{dx("N390"), dx("K7030"), micro("URINE CULTURE", "urine", "ESCHERICHIA COLI >100,000 CFU/mL", at(0, 5)),
		vital("Temperature", 38.4, "Cel", at(0, 4)), vital("Heart rate", 96, "/min", at(0, 4)), vital("MAP", 76, "mmHg", at(0, 4))}
	uti = append(uti, course("Ceftriaxone", "IV", "1 g", 3, 24)...)
	for _, c := range []struct {
		name      string
		platelets []float64
		bilirubin []float64
		fires     bool
	}{
		{"chronic thrombocytopenia and hyperbilirubinemia of cirrhosis", []float64{70, 62, 66}, []float64{2.6, 3.1, 2.8}, false},
		{"platelets and bilirubin worse than the cirrhotic baseline", []float64{90, 60, 35}, []float64{2.4, 4.5, 7.2}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs := slices.Clone(uti)
			for i, p := range c.platelets {
				evs = append(evs, lab("Platelets", p, "K/uL", at(i, 6)))
			}
			for i, b := range c.bilirubin {
				evs = append(evs, lab("Bilirubin, total", b, "mg/dL", at(i, 6)))
			}
			rev := reviewRecord(t, ts, record("CIRR", "N390", []string{"K7030"}, evs))
			status, explain := ruleStatus(rev, "sepsis_sofa")
			if got := findOpp(rev, "rule:sepsis_sofa") != nil; got != c.fires {
				t.Errorf("sepsis opportunity %v, want %v (%s: %s)", got, c.fires, status, explain)
			}
		})
	}
}

// utiSepsis is the encounter of issue 21 item 4: a urinary tract infection with
// temperature 39.1, heart rate 118, respiratory rate 24, WBC 17.8, lactate 3.1, MAP 68, IV
// piperacillin-tazobactam and an E. coli urine culture. SOFA rises one point only
// (cardiovascular), so Sepsis-3's SOFA criterion alone would not query it.
func utiSepsis(pdx string, extra ...ev) map[string]any {
	evs := []ev{dx("N390"),
		vital("Temperature", 39.1, "Cel", at(0, 3)), vital("Heart rate", 118, "/min", at(0, 3)),
		vital("Respiratory rate", 24, "/min", at(0, 3)), vital("MAP", 68, "mmHg", at(0, 3)),
		lab("WBC", 17.8, "K/uL", at(0, 4)), lab("Lactate", 3.1, "mmol/L", at(0, 4)),
		micro("Urine culture", "urine", "Escherichia coli", at(0, 4))}
	evs = append(evs, course("Piperacillin-tazobactam", "IV", "4.5 g", 4, 8)...)
	return record("UTI", pdx, nil, evs, extra)
}

// rulesWithFacility returns the default rules with a facility on the given sepsis
// definition.
func rulesWithFacility(t *testing.T, facility, definition string) *cdipkg.Rules {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(cdipkg.DefaultRulesJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	doc["facilities"] = map[string]any{facility: map[string]any{"settings": map[string]any{"sepsis_definition": definition}}}
	b, _ := json.Marshal(doc)
	r, err := cdipkg.ParseRules(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSepsisQueryUnderBothDefinitions: SIRS with a documented or treated infection and a
// lactate > 2 or hypotension raises the sepsis clarification query under Sepsis-2 and
// Sepsis-3, with options sepsis (severe sepsis as the record supports), localized infection
// without sepsis, other and clinically undetermined; the query drafts and passes the linter.
// No query for an infection without SIRS, nor (Sepsis-3) for SIRS without organ signs; the
// facility's definition still validates a coded sepsis (issue 21 item 4).
func TestSepsisQueryUnderBothDefinitions(t *testing.T) {
	ts := startServer(t, func() time.Time { return fixedNow }, api.CDIConfig{Rules: rulesWithFacility(t, "SIRS", "sepsis-2")})
	for _, facility := range []string{"MAIN", "SIRS"} {
		t.Run(facility, func(t *testing.T) {
			rule := map[string]string{"MAIN": "sepsis_sofa", "SIRS": "sepsis_sirs"}[facility]
			enc := utiSepsis("N390")
			enc["facility"] = facility
			created := ts.do("POST", "/v1/encounters", cdi, enc).expect(t, 201).json(t)
			id := created["id"].(string)
			rev := decode[api.CDIReview](t, ts.do("POST", "/v1/encounters/"+id+"/review", cdi, nil).expect(t, 200)).Review
			opp := findOpp(rev, "rule:"+rule)
			if opp == nil {
				status, explain := ruleStatus(rev, rule)
				t.Fatalf("no sepsis query (%s: %s)", status, explain)
			}
			if !opp.Principal || opp.Candidates[0].Code != "A419" {
				t.Errorf("sepsis with a UTI present on admission as the reason for admission: principal %v, candidates %+v", opp.Principal, opp.Candidates)
			}
			d := decode[api.QueryDraft](t, ts.do("POST", "/v1/encounters/"+id+"/queries", cdi, map[string]any{"opportunity_id": opp.ID}).expect(t, 201))
			if !d.Lint.OK {
				t.Errorf("draft not compliant: %+v", d.Lint)
			}
			var texts, kinds []string
			for _, o := range d.Query.Options {
				texts, kinds = append(texts, o.Text), append(kinds, o.Kind)
			}
			for _, want := range []string{"Sepsis", "Severe sepsis with acute organ dysfunction", "Localized infection without sepsis"} {
				if !slices.Contains(texts, want) {
					t.Errorf("options %q lack %q", texts, want)
				}
			}
			for _, want := range []string{cdipkg.OptionOther, cdipkg.OptionUndetermined} {
				if !slices.Contains(kinds, want) {
					t.Errorf("option kinds %q lack %q", kinds, want)
				}
			}
			for _, o := range d.Query.Options {
				if o.Kind == cdipkg.OptionDiagnosis && len(o.Codes) > 0 && len(o.Indicators) == 0 {
					t.Errorf("option %q cites no indicator", o.Text)
				}
			}
		})
	}

	t.Run("no SIRS: an infection with a lactate of 3.1 only", func(t *testing.T) {
		enc := record("NOSIRS", "N390", nil, []ev{dx("N390"), vital("Temperature", 37.2, "Cel", at(0, 3)), vital("Heart rate", 84, "/min", at(0, 3)),
			lab("WBC", 9.1, "K/uL", at(0, 4)), lab("Lactate", 3.1, "mmol/L", at(0, 4)), micro("Urine culture", "urine", "Escherichia coli", at(0, 4))},
			course("Ceftriaxone", "IV", "1 g", 3, 24))
		for _, facility := range []string{"MAIN", "SIRS"} {
			enc["facility"] = facility
			rev := reviewRecord(t, ts, enc)
			if findOpp(rev, "rule:sepsis_sofa") != nil || findOpp(rev, "rule:sepsis_sirs") != nil {
				t.Errorf("%s: sepsis query without SIRS", facility)
			}
		}
	})
	t.Run("SIRS without organ signs (Sepsis-3)", func(t *testing.T) {
		enc := record("NOORGAN", "N390", nil, []ev{dx("N390"), vital("Temperature", 38.9, "Cel", at(0, 3)), vital("Heart rate", 112, "/min", at(0, 3)),
			vital("MAP", 84, "mmHg", at(0, 3)), lab("WBC", 15.2, "K/uL", at(0, 4)), lab("Lactate", 1.6, "mmol/L", at(0, 4)),
			lab("Creatinine", 0.9, "mg/dL", at(0, 4)), micro("Urine culture", "urine", "Escherichia coli", at(0, 4))},
			course("Ceftriaxone", "IV", "1 g", 3, 24))
		if rev := reviewRecord(t, ts, enc); findOpp(rev, "rule:sepsis_sofa") != nil {
			t.Error("sepsis query for SIRS without organ dysfunction")
		}
	})
	t.Run("the facility's definition validates a coded sepsis", func(t *testing.T) {
		enc := utiSepsis("A419", dx("A419"))
		rev := reviewRecord(t, ts, enc) // Sepsis-3: SOFA rises one point only
		if findOpp(rev, "cv:sepsis_sofa") == nil {
			status, explain := ruleStatus(rev, "sepsis_sofa")
			t.Errorf("coded sepsis with a SOFA rise of 1 not sent to clinical validation under Sepsis-3 (%s: %s)", status, explain)
		}
		enc = utiSepsis("A419", dx("A419"))
		enc["facility"] = "SIRS"
		if rev := reviewRecord(t, ts, enc); findOpp(rev, "cv:sepsis_sirs") != nil {
			t.Error("coded sepsis meeting Sepsis-2 sent to clinical validation at a Sepsis-2 facility")
		}
	})
}

// TestSepsisPrincipalOnlyWhenReasonForAdmission: sepsis is proposed as principal diagnosis
// only when its infection was present on admission and the reason for admission supports it
// (ICD-10-CM I.C.1.d); otherwise it is a secondary diagnosis (issue 21 item 7).
func TestSepsisPrincipalOnlyWhenReasonForAdmission(t *testing.T) {
	ts := newTestServer(t)
	late := record("LATE", "S72001A", nil, septicPicture()[:0], []ev{
		vital("Temperature", 38.9, "Cel", at(4, 3)), vital("Heart rate", 121, "/min", at(4, 3)), vital("MAP", 61, "mmHg", at(4, 3)),
		lab("WBC", 16.1, "K/uL", at(4, 4)), lab("Lactate", 3.4, "mmol/L", at(4, 4)), lab("Platelets", 88, "K/uL", at(4, 4)),
		micro("Urine culture", "urine", "ESCHERICHIA COLI >100,000 CFU/mL", at(4, 4)),
		med("Cefepime", "IV", "2 g", at(4, 6)), med("Cefepime", "IV", "2 g", at(5, 6)), med("Cefepime", "IV", "2 g", at(6, 6))})
	pneumonia := record("PNA", "J189", nil, []ev{dx("J189"),
		vital("Temperature", 37.4, "Cel", at(0, 3)), vital("Heart rate", 88, "/min", at(0, 3)), vital("MAP", 82, "mmHg", at(0, 3)),
		lab("WBC", 11.2, "K/uL", at(0, 4)), lab("Lactate", 1.3, "mmol/L", at(0, 4)),
		vital("Temperature", 39.0, "Cel", at(4, 3)), vital("Heart rate", 124, "/min", at(4, 3)), vital("MAP", 60, "mmHg", at(4, 3)),
		lab("WBC", 19.4, "K/uL", at(4, 4)), lab("Lactate", 3.8, "mmol/L", at(4, 4))},
		course("Ceftriaxone", "IV", "1 g", 6, 24))
	for _, c := range []struct {
		name      string
		enc       map[string]any
		principal bool
	}{
		{"pneumonia on admission, sepsis on day 4", pneumonia, false},
		{"UTI admitted with sepsis present on admission", utiSepsis("N390"), true},
		{"fever as the reason for admission, infection present on admission", utiSepsis("R509"), true},
		{"admitted for a hip fracture, UTI present on admission", utiSepsis("S72001A"), false},
		{"admitted for a hip fracture, urosepsis on day 4", late, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rev := reviewRecord(t, ts, c.enc)
			opp := findOpp(rev, "rule:sepsis_sofa")
			if opp == nil {
				status, explain := ruleStatus(rev, "sepsis_sofa")
				t.Fatalf("no sepsis query (%s: %s)", status, explain)
			}
			if opp.Principal != c.principal {
				t.Errorf("principal %v, want %v (POA %s; impact %+v)", opp.Principal, c.principal, opp.POA, opp.Impact)
			}
		})
	}
}

// TestCKDStageFromHistory: CKD documented without stage (N18.9) with an eGFR of 24 today
// raises the stage opportunity when the record shows reduced eGFR for at least 3 months
// (KDIGO) — from stored results at least 90 days apart or from a note stating the values over
// the last year — citing the values with their dates; not when a normal value lies between
// them or the values span less than 3 months (issue 21 item 5).
func TestCKDStageFromHistory(t *testing.T) {
	ts := newTestServer(t)
	stored := func(v float64, date string) ev {
		return ev{"kind": "lab", "name": "eGFR", "value": v, "unit": "mL/min/1.73m2", "time": date + "T09:00:00Z", "source": "outpatient lab"}
	}
	today := lab("eGFR", 24, "mL/min/1.73m2", at(0, 6))
	note := ev{"kind": "note", "note_type": "progress note", "author_role": "physician", "time": at(1, 9),
		"text": "A/P: Pneumonia improving on ceftriaxone. CKD - eGFR 22-26 over the last year per PCP records, Cr stable."}
	for _, c := range []struct {
		name     string
		evidence []ev
		dates    []string // dates the opportunity must cite (values of those days)
	}{
		{"stored values 6 and 3 months before", []ev{stored(28, "2025-11-10"), stored(26, "2026-02-02"), today}, []string{"2025-11-10", "2026-05-04"}},
		{"a progress note's year of eGFR", []ev{today, note}, []string{"2025-05-"}},
		{"a normal value between the reduced ones", []ev{stored(45, "2025-12-01"), stored(72, "2026-02-20"), today}, nil},
		{"reduced values one month apart", []ev{stored(31, "2026-04-02"), today}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			rev := reviewRecord(t, ts, record("CKD", "J189", []string{"N189"}, c.evidence, []ev{dx("N189")}))
			opp := findOpp(rev, "rule:chronic_kidney_disease_stage")
			status, explain := ruleStatus(rev, "chronic_kidney_disease_stage")
			if c.dates == nil {
				if opp != nil {
					t.Fatalf("stage opportunity without 3 months of reduced eGFR: %s", opp.Explain)
				}
				return
			}
			if opp == nil {
				t.Fatalf("no stage opportunity (%s: %s)", status, explain)
			}
			if len(opp.Candidates) == 0 || opp.Candidates[0].Code != "N184" || !slices.Equal(opp.Replaces, []string{"N189"}) {
				t.Errorf("candidates %+v replacing %v, want N184 replacing N189", opp.Candidates, opp.Replaces)
			}
			var cited []string
			for _, ct := range opp.Indicators {
				if ct.Indicator == "egfr_lt_60_3_months" && ct.Value.IsNum {
					cited = append(cited, fmt.Sprintf("%s=%v", ct.Time.Format("2006-01-02"), ct.Value.Num))
				}
			}
			for _, d := range c.dates {
				if !slices.ContainsFunc(cited, func(s string) bool { return strings.HasPrefix(s, d) }) {
					t.Errorf("the eGFR history cited %v lacks the value of %s", cited, d)
				}
			}
		})
	}
}
