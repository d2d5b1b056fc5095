package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

const cacStay = `{"age": 78, "sex": "F", "discharge_status": 1, "admit_date": "2026-05-03", "discharge_date": "2026-05-08",
 "notes": [
  {"id": "hp", "note_type": "H&P", "author_role": "resident", "time": "2026-05-03T21:30:00Z",
   "text": "HPI: 78F w/ h/o HTN, chronic afib on warfarin p/w dyspnea.\nA/P:\n1. CHF exacerbation - IV furosemide\n2. r/o ACS"},
  {"id": "ds", "note_type": "discharge summary", "author_role": "physician", "time": "2026-05-08T11:00:00Z",
   "text": "DISCHARGE SUMMARY\nFinal Diagnoses:\n1. Acute on chronic diastolic congestive heart failure\n2. Hypertension\n3. Persistent atrial fibrillation, on chronic warfarin\nHospital Course: Troponin flat - ACS excluded. Diuresed with IV furosemide.\nDischarge meds: warfarin 5 mg daily, furosemide 40 mg daily."}
 ]}`

func TestCACStay(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do(http.MethodPost, "/v1/cac", coder, cacStay).expect(t, http.StatusOK)
	m := r.json(t)
	if got := path(m, "pdx.code"); got != "I110" {
		t.Errorf("pdx %v, want I110 (hypertension with heart failure sequenced first): %s", got, r.body)
	}
	var sdx []string
	for _, s := range m["sdx"].([]any) {
		sdx = append(sdx, s.(map[string]any)["code"].(string))
	}
	for _, want := range []string{"I5033", "I4819", "Z7901"} {
		if !slices.Contains(sdx, want) {
			t.Errorf("sdx %v lacks %s", sdx, want)
		}
	}
	for _, never := range []string{"I10", "I214", "I249", "R0600", "R0602"} {
		if slices.Contains(sdx, never) {
			t.Errorf("sdx %v holds %s", sdx, never)
		}
	}
	if got := path(m, "group.final.drg"); got != float64(291) {
		t.Errorf("group.final.drg %v, want 291", got)
	}
	// every span is the note's bytes
	texts := map[string]string{}
	for _, n := range []string{"hp", "ds"} {
		i := strings.Index(cacStay, `"id": "`+n+`"`)
		j := strings.Index(cacStay[i:], `"text": "`) + i + len(`"text": "`)
		k := strings.Index(cacStay[j:], `"}`) + j
		texts[n] = strings.ReplaceAll(cacStay[j:k], `\n`, "\n")
	}
	checked := 0
	for _, key := range []string{"sdx", "procedures"} {
		for _, s := range m[key].([]any) {
			for _, ev := range s.(map[string]any)["evidence"].([]any) {
				e := ev.(map[string]any)
				st, en := int(e["start"].(float64)), int(e["end"].(float64))
				if texts[e["note"].(string)][st:en] != e["text"] {
					t.Errorf("%s: span %v[%d:%d] %q is not the note's bytes", key, e["note"], st, en, e["text"])
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Error("no evidence spans")
	}
	if strings.Contains(ts.logs.String(), "Persistent atrial fibrillation") || strings.Contains(ts.logs.String(), "furosemide") {
		t.Error("note text in the server log")
	}
	ts.do(http.MethodPost, "/v1/cac", finance, cacStay).expect(t, http.StatusForbidden)
}

func TestCACBadInput(t *testing.T) {
	ts := newTestServer(t)
	big := strings.Repeat("Pneumonia. ", 2<<20/11+1)
	var many []string
	for i := range 200 {
		many = append(many, fmt.Sprintf(`{"id":"n%d","text":"Pneumonia."}`, i))
	}
	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"empty body", ``, 422, "body"},
		{"not JSON", `{"notes": [`, 422, "body"},
		{"no notes", `{"age": 70}`, 422, "notes"},
		{"empty notes", `{"notes": []}`, 422, "notes"},
		{"empty note", `{"notes": [{"id": "n1", "text": ""}]}`, 422, "notes[0].text"},
		{"whitespace note", `{"notes": [{"id": "n1", "text": "  \n\t "}]}`, 422, "notes[0].text"},
		{"non-text bytes", `{"notes": [{"id": "n1", "text": "\u0000\u0001\u0002"}]}`, 422, "notes[0].text"},
		{"missing text", `{"notes": [{"id": "n1"}]}`, 422, "notes[0].text"},
		{"text not a string", `{"notes": [{"id": "n1", "text": 5}]}`, 422, "notes[0].text"},
		{"missing id", `{"notes": [{"text": "Pneumonia."}]}`, 422, "notes[0].id"},
		{"id twice", `{"notes": [{"id": "a", "text": "Pneumonia."}, {"id": "a", "text": "Sepsis."}]}`, 422, "notes[1].id"},
		{"2 MB note", `{"notes": [{"id": "n1", "text": "` + big + `"}]}`, 422, "notes[0].text"},
		{"200 notes", `{"notes": [` + strings.Join(many, ",") + `]}`, 422, "notes"},
		{"invalid UTF-8", "{\"notes\": [{\"id\": \"n1\", \"text\": \"Pneumonia \xff\xfe.\"}]}", 422, "notes[0].text"},
		{"bad time", `{"notes": [{"id": "n1", "time": "yesterday", "text": "Pneumonia."}]}`, 422, "notes[0].time"},
		{"bad sex and age", `{"sex": "X", "age": -1, "notes": [{"id": "n1", "text": "Pneumonia."}]}`, 422, "sex"},
		{"version not loaded", `{"version": 999, "notes": [{"id": "n1", "text": "Pneumonia."}]}`, 422, "version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do(http.MethodPost, "/v1/cac", coder, tt.body)
			if r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %.300s", r.StatusCode, tt.status, r.body)
			}
			p := r.problem(t)
			if !slices.Contains(errorFields(p), tt.field) {
				t.Errorf("fields %v, want %s: %s", errorFields(p), tt.field, p.Detail)
			}
		})
	}
	// every error at once
	r := ts.do(http.MethodPost, "/v1/cac", coder, `{"sex": "X", "notes": [{"id": "a", "text": ""}, {"id": "a", "text": "ok text"}]}`).expect(t, 422)
	if f := errorFields(r.problem(t)); len(f) != 3 {
		t.Errorf("fields %v: want sex, notes[0].text and notes[1].id", f)
	}
	if strings.Contains(ts.logs.String(), "Pneumonia") {
		t.Error("note text in the server log")
	}
}

func TestCACWithoutDemographicsIsNotGrouped(t *testing.T) {
	ts := newTestServer(t)
	m := ts.do(http.MethodPost, "/v1/cac", cdi, `{"notes": [{"id": "n1", "note_type": "discharge summary", "text": "DISCHARGE DIAGNOSES:\n1. Community-acquired pneumonia\n2. Hypertension on lisinopril"}]}`).expect(t, http.StatusOK).json(t)
	if path(m, "pdx.code") != "J189" {
		t.Errorf("pdx %v, want J189", path(m, "pdx.code"))
	}
	if m["group"] != nil {
		t.Errorf("grouped without demographics: %v", m["group"])
	}
	if w, _ := m["warnings"].([]any); len(w) == 0 {
		t.Error("no warning saying why the suggestion is not grouped")
	}
}

func TestEncounterCAC(t *testing.T) {
	ts := newTestServer(t)
	body := `{"account":"CAC-1","facility":"MAIN","admit_date":"2026-05-03","discharge_date":"2026-05-08","age":78,"sex":"F","discharge_status":1,
	 "pdx":{"code":"I5030","poa":"Y"},"sdx":[{"code":"I10","poa":"Y"}],
	 "evidence":[{"kind":"lab","name":"BNP","value":1420,"unit":"pg/mL","time":"2026-05-03T22:00:00Z"},
	  {"kind":"note","note_type":"discharge summary","author_role":"physician","time":"2026-05-08T11:00:00Z",
	   "text":"Final Diagnoses:\n1. Acute on chronic diastolic congestive heart failure\n2. Hypertension\n3. Persistent atrial fibrillation on chronic warfarin"}]}`
	enc := ts.do(http.MethodPost, "/v1/encounters", coder, body).expect(t, http.StatusCreated).json(t)
	id := enc["id"].(string)
	var got struct {
		Suggestions []struct {
			Code, Role, Status string
			Conflicts          []string
			Evidence           []struct {
				Note, Text string
				Start, End int
			}
			IfAccepted *struct{ DRG int } `json:"if_accepted"`
		}
	}
	r := ts.do(http.MethodPost, "/v1/encounters/"+id+"/cac", coder, nil).expect(t, http.StatusOK)
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, s := range got.Suggestions {
		status[s.Role+":"+s.Code] = s.Status
		for _, ev := range s.Evidence {
			if ev.Note != "evidence[1]" || ev.Start >= ev.End {
				t.Errorf("%s: evidence %+v does not point into evidence[1]", s.Code, ev)
			}
		}
		if s.Status != "coded" && s.IfAccepted == nil {
			t.Errorf("%s (%s): no grouping if accepted", s.Code, s.Status)
		}
	}
	want := map[string]string{"pdx:I110": "conflicting", "sdx:I5033": "conflicting", "sdx:I4819": "new", "sdx:Z7901": "new"}
	for k, v := range want {
		if status[k] != v {
			t.Errorf("%s: status %q, want %q (all: %v)", k, status[k], v, status)
		}
	}
	// no notes: a clear 422 naming the evidence
	noNotes := `{"account":"CAC-2","facility":"MAIN","discharge_date":"2026-05-08","age":70,"sex":"M","discharge_status":1,"pdx":{"code":"J189","poa":"Y"}}`
	enc2 := ts.do(http.MethodPost, "/v1/encounters", coder, noNotes).expect(t, http.StatusCreated).json(t)
	p := ts.do(http.MethodPost, "/v1/encounters/"+enc2["id"].(string)+"/cac", coder, nil).expect(t, http.StatusUnprocessableEntity).problem(t)
	if !slices.Contains(errorFields(p), "evidence") {
		t.Errorf("fields %v, want evidence", errorFields(p))
	}
	ts.do(http.MethodPost, "/v1/encounters/"+id+"/cac", finance, nil).expect(t, http.StatusForbidden)
	ts.do(http.MethodPost, "/v1/encounters/nope/cac", coder, nil).expect(t, http.StatusNotFound)
}

// TestNoteFindingsFeedCDI: an echo note's ejection fraction and a progress note's year of eGFR
// are clinical evidence the CDI review cites, quoted with the note and its span.
func TestNoteFindingsFeedCDI(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, body, quote, code string
	}{
		{"heart failure type from the echo", `{"account":"NF-1","facility":"MAIN","admit_date":"2026-05-03","discharge_date":"2026-05-08","age":74,"sex":"M","discharge_status":1,
		  "pdx":{"code":"I509","poa":"Y"},
		  "evidence":[{"kind":"lab","name":"BNP","value":1850,"unit":"pg/mL","time":"2026-05-03T20:00:00Z"},
		   {"kind":"med","name":"furosemide","route":"IV","dose":"40 mg","time":"2026-05-03T21:00:00Z"},
		   {"kind":"med","name":"furosemide","route":"IV","dose":"40 mg","time":"2026-05-04T09:00:00Z"},
		   {"kind":"note","note_type":"echo report","author_role":"physician","time":"2026-05-04T13:00:00Z","text":"TRANSTHORACIC ECHO\nLV moderately dilated. LVEF 25-30% by biplane. Global hypokinesis."},
		   {"kind":"note","note_type":"progress note","author_role":"physician","time":"2026-05-05T09:00:00Z","text":"A/P: Heart failure - diuresing well on IV furosemide."}]}`,
			`LVEF 25-30%`, "I502"},
		{"CKD stage from a year of eGFR", `{"account":"NF-2","facility":"MAIN","admit_date":"2026-05-03","discharge_date":"2026-05-08","age":71,"sex":"F","discharge_status":1,
		  "pdx":{"code":"J189","poa":"Y"},"sdx":[{"code":"N189","poa":"Y"}],
		  "evidence":[{"kind":"note","note_type":"progress note","author_role":"physician","time":"2026-05-05T09:00:00Z","text":"A/P: Pneumonia improving. CKD - eGFR 22-26 over the last year per PCP records, Cr at baseline 2.4."}]}`,
			`eGFR 22-26`, "N184"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ts.do(http.MethodPost, "/v1/encounters", cdi, tt.body).expect(t, http.StatusCreated).json(t)
			r := ts.do(http.MethodPost, "/v1/encounters/"+e["id"].(string)+"/review", cdi, nil).expect(t, http.StatusOK)
			var rv struct {
				Review struct {
					Opportunities []json.RawMessage `json:"opportunities"`
				} `json:"review"`
			}
			if err := json.Unmarshal(r.body, &rv); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, o := range rv.Review.Opportunities {
				s := string(o)
				if strings.Contains(s, tt.code) && strings.Contains(s, "note evidence[") && strings.Contains(s, tt.quote) {
					found = true
				}
			}
			if !found {
				t.Errorf("no opportunity with %s citing the note's %q: %.3000s", tt.code, tt.quote, r.body)
			}
		})
	}
}
