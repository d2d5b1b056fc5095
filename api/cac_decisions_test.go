package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// cacSuggestion is a suggestion of POST /v1/encounters/{id}/cac as the tests read it.
type cacSuggestion struct {
	Code, Role, Status string
	Evidence           []struct {
		Note, Text string
		Start, End int
	}
	IfAccepted *struct {
		DRG    int
		Weight float64
	} `json:"if_accepted"`
	Decision *struct {
		Decision, Reason string
	}
}

func encounterCAC(t *testing.T, ts *testServer, id string) map[string]cacSuggestion {
	t.Helper()
	r := ts.do(http.MethodPost, "/v1/encounters/"+id+"/cac", coder, nil).expect(t, http.StatusOK)
	var got struct{ Suggestions []cacSuggestion }
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	out := map[string]cacSuggestion{}
	for _, s := range got.Suggestions {
		out[s.Role+":"+s.Code] = s
	}
	return out
}

// noteTexts returns the encounter's evidence texts by note id.
func noteTexts(t *testing.T, ts *testServer, id string) map[string]string {
	t.Helper()
	var e struct {
		Evidence []struct{ Kind, Text string }
	}
	if err := json.Unmarshal(ts.do(http.MethodGet, "/v1/encounters/"+id, coder, nil).expect(t, http.StatusOK).body, &e); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for i, ev := range e.Evidence {
		if ev.Kind == "note" {
			out[fmt.Sprintf("evidence[%d]", i)] = ev.Text
		}
	}
	return out
}

// checkSpans fails unless every evidence span of every suggestion is the note's bytes.
func checkSpans(t *testing.T, sugg map[string]cacSuggestion, texts map[string]string) map[string]bool {
	t.Helper()
	notes := map[string]bool{}
	for k, s := range sugg {
		for _, ev := range s.Evidence {
			txt, ok := texts[ev.Note]
			if !ok || ev.Start < 0 || ev.End > len(txt) || ev.Start >= ev.End || txt[ev.Start:ev.End] != ev.Text {
				t.Errorf("%s: span %s[%d:%d] %q is not the note's bytes", k, ev.Note, ev.Start, ev.End, ev.Text)
				continue
			}
			notes[ev.Note] = true
		}
	}
	return notes
}

// TestCACFromFHIRBundle: an encounter created from a FHIR bundle with a DocumentReference
// (text/plain) and a Composition (XHTML sections) gets both as notes and CAC suggestions with
// exact spans in each; a PDF DocumentReference is reported naming the resource, not read.
func TestCACFromFHIRBundle(t *testing.T) {
	ts := newTestServer(t)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	ds := "DISCHARGE SUMMARY\nFinal Diagnoses:\n1. Acute on chronic diastolic congestive heart failure\n2. Hypertension\n3. Persistent atrial fibrillation on chronic warfarin"
	bundle := `{"resourceType": "Bundle", "type": "collection", "entry": [
	 {"resource": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1948-01-10"}},
	 {"resource": {"resourceType": "Encounter", "id": "e1", "identifier": [{"value": "FHIR-CAC-1"}], "period": {"start": "2026-05-03", "end": "2026-05-08"},
	   "serviceProvider": {"display": "MAIN"}}},
	 {"resource": {"resourceType": "DocumentReference", "id": "ds1", "status": "current", "type": {"text": "discharge summary"}, "date": "2026-05-08T11:00:00Z",
	   "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "data": "` + b64(ds) + `"}}]}},
	 {"resource": {"resourceType": "Composition", "id": "hp1", "status": "final", "type": {"text": "H&P"}, "date": "2026-05-03T21:30:00Z", "title": "History and Physical",
	   "section": [{"title": "History of Present Illness", "text": {"div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>78F with dyspnea and leg swelling.</p></div>"}},
	    {"title": "Assessment and Plan", "text": {"div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><ol><li>Type 2 diabetes mellitus with hyperglycemia &#8211; insulin sliding scale</li><li>Acute on chronic diastolic heart failure</li></ol></div>"}}]}},
	 {"resource": {"resourceType": "DocumentReference", "id": "scan1", "status": "current", "type": {"text": "outside records"},
	   "content": [{"attachment": {"contentType": "application/pdf", "data": "JVBERi0xLjQ="}}]}}]}`
	r := ts.do(http.MethodPost, "/v1/encounters/fhir", coder, bundle, "Content-Type", "application/fhir+json").expect(t, http.StatusCreated)
	var imp struct {
		Encounter struct{ ID string }
		Errors    []struct {
			ResourceType string `json:"resource_type"`
			ID, Message  string
		}
	}
	if err := json.Unmarshal(r.body, &imp); err != nil {
		t.Fatal(err)
	}
	if len(imp.Errors) != 1 || imp.Errors[0].ID != "scan1" || !strings.Contains(imp.Errors[0].Message, "application/pdf") {
		t.Errorf("errors %+v: want the PDF DocumentReference scan1 reported", imp.Errors)
	}
	id := imp.Encounter.ID
	texts := noteTexts(t, ts, id)
	if len(texts) != 2 {
		t.Fatalf("notes %v, want the DocumentReference and the Composition", texts)
	}
	var hp string
	for _, txt := range texts {
		if strings.HasPrefix(txt, "History of Present Illness:") {
			hp = txt
		}
	}
	if !strings.Contains(hp, "Assessment and Plan:\nType 2 diabetes mellitus with hyperglycemia – insulin sliding scale") {
		t.Errorf("Composition note %q: sections and narrative not read as text", hp)
	}
	sugg := encounterCAC(t, ts, id)
	for _, want := range []string{"pdx:I110", "sdx:I5033", "sdx:I4819", "sdx:E1165"} {
		if _, ok := sugg[want]; !ok {
			t.Errorf("no suggestion %s: %v", want, sugg)
		}
	}
	if notes := checkSpans(t, sugg, texts); len(notes) != 2 {
		t.Errorf("spans in notes %v, want both notes", notes)
	}
	if e1165 := sugg["sdx:E1165"]; len(e1165.Evidence) == 0 || texts[e1165.Evidence[0].Note] != hp {
		t.Errorf("E1165 evidence %+v not in the Composition note", e1165.Evidence)
	}
	if strings.Contains(ts.logs.String(), "hyperglycemia") || strings.Contains(ts.logs.String(), "atrial fibrillation") {
		t.Error("note text in the server log")
	}
}

type auditRow struct {
	Action, Actor string
	Before, After json.RawMessage
}

func auditOf(t *testing.T, ts *testServer, id string) []auditRow {
	t.Helper()
	var page struct{ Items []auditRow }
	if err := json.Unmarshal(ts.do(http.MethodGet, "/v1/audit?entity=encounter&entity_id="+id+"&limit=1000", admin, nil).expect(t, http.StatusOK).body, &page); err != nil {
		t.Fatal(err)
	}
	return page.Items
}

// TestCACDecisions: accept puts the code into the working codes with source cac and the span
// as its support and regroups; reject keeps the codes; both are audited with the user, code,
// span and reason and never the note's text; a note added later changes the suggestions while
// the rejected one stays rejected; the CAC report counts what the audit log holds.
func TestCACDecisions(t *testing.T) {
	ts := newTestServer(t)
	ds := "Final Diagnoses:\n1. Acute on chronic diastolic congestive heart failure\n2. Hypertension\n3. Persistent atrial fibrillation on chronic warfarin"
	body := map[string]any{"account": "CACD-1", "facility": "MAIN", "admit_date": "2026-05-03", "discharge_date": "2026-05-08", "age": 78, "sex": "F", "discharge_status": 1,
		"pdx": map[string]any{"code": "I5030", "poa": "Y"}, "sdx": []any{map[string]any{"code": "I10", "poa": "Y"}},
		"evidence": []any{map[string]any{"kind": "note", "note_type": "discharge summary", "author_role": "physician", "time": "2026-05-08T11:00:00Z", "text": ds}}}
	enc := ts.do(http.MethodPost, "/v1/encounters", coder, body).expect(t, http.StatusCreated)
	id := enc.json(t)["id"].(string)
	etag := enc.Header.Get("ETag")
	ts.do(http.MethodPost, "/v1/encounters/"+id+"/group", coder, nil, "If-Match", etag).expect(t, http.StatusOK)

	sugg := encounterCAC(t, ts, id)
	af, z79 := sugg["sdx:I4819"], sugg["sdx:Z7901"]
	if af.Status != "new" || z79.Status != "new" || len(af.Evidence) == 0 || len(z79.Evidence) == 0 || af.IfAccepted == nil {
		t.Fatalf("suggestions %+v", sugg)
	}
	type span = struct {
		Note, Text string
		Start, End int
	}
	decide := func(code, kind, decision, reason string, ev span, headers ...string) reply {
		return ts.do(http.MethodPost, "/v1/encounters/"+id+"/cac/decisions", coder, map[string]any{"code": code, "kind": kind, "decision": decision, "reason": reason,
			"span": map[string]any{"note": ev.Note, "start": ev.Start, "end": ev.End}}, headers...)
	}
	cur := ts.do(http.MethodGet, "/v1/encounters/"+id, coder, nil).expect(t, http.StatusOK)
	etag = cur.Header.Get("ETag")

	// accept I48.19 (new): it enters the working codes with source cac and its span
	r := decide("I48.19", "sdx", "accept", "", af.Evidence[0], "If-Match", etag).expect(t, http.StatusCreated)
	var res struct {
		Decision struct {
			ID   int64
			Span struct {
				Note       string
				NoteSHA256 string `json:"note_sha256"`
				Start, End int
			}
		}
		Encounter struct {
			SDX []struct {
				Code, Source string
				Support      *struct {
					Note       string
					Start, End int
				}
			}
			WorkingDRG *struct{ DRG int } `json:"working_drg"`
			RowVersion int                `json:"row_version"`
		}
	}
	if err := json.Unmarshal(r.body, &res); err != nil {
		t.Fatal(err)
	}
	var got string
	for _, d := range res.Encounter.SDX {
		if d.Code == "I4819" {
			got = d.Source
			if d.Support == nil || d.Support.Note != af.Evidence[0].Note || d.Support.Start != af.Evidence[0].Start || d.Support.End != af.Evidence[0].End {
				t.Errorf("I4819 support %+v, want the span %+v", d.Support, af.Evidence[0])
			}
		}
	}
	if got != "cac" {
		t.Errorf("I4819 source %q, want cac: %s", got, r.body)
	}
	if res.Encounter.WorkingDRG == nil || res.Encounter.WorkingDRG.DRG != af.IfAccepted.DRG {
		t.Errorf("working DRG %+v, want %d as the suggestion said", res.Encounter.WorkingDRG, af.IfAccepted.DRG)
	}
	if r.Header.Get("ETag") == etag {
		t.Error("ETag unchanged after the codes changed")
	}
	// a stale If-Match is refused
	decide("Z79.01", "sdx", "reject", "on warfarin for years: not this stay", z79.Evidence[0], "If-Match", etag).expect(t, http.StatusPreconditionFailed)
	etag = r.Header.Get("ETag")
	// reject Z79.01 with a reason: no code changes
	r = decide("Z79.01", "sdx", "reject", "documented elsewhere", z79.Evidence[0], "If-Match", etag).expect(t, http.StatusCreated)
	if r.Header.Get("ETag") != etag {
		t.Errorf("a reject changed the encounter: ETag %s → %s", etag, r.Header.Get("ETag"))
	}
	// reject the PDX suggestion too
	pdx := sugg["pdx:I110"]
	decide("I110", "pdx", "reject", "", pdx.Evidence[0]).expect(t, http.StatusPreconditionRequired) // a decision needs the ETag
	decide("I110", "pdx", "reject", "", pdx.Evidence[0], "If-Match", etag).expect(t, http.StatusCreated)

	after := encounterCAC(t, ts, id)
	if after["sdx:I4819"].Status != "coded" || after["sdx:Z7901"].Status != "rejected" || after["pdx:I110"].Status != "rejected" {
		t.Errorf("statuses after the decisions: I4819 %q, Z7901 %q, I110 %q", after["sdx:I4819"].Status, after["sdx:Z7901"].Status, after["pdx:I110"].Status)
	}
	if d := after["sdx:Z7901"].Decision; d == nil || d.Reason != "documented elsewhere" {
		t.Errorf("Z7901 decision %+v", d)
	}

	// a note added later: new suggestions, the rejection stays
	later := `{"evidence": [{"kind": "note", "note_type": "progress note", "author_role": "physician", "time": "2026-05-06T09:00:00Z",
	  "text": "A/P: Acute kidney injury - creatinine up from baseline, hold lisinopril. Afib rate controlled on warfarin."}]}`
	ts.edit(http.MethodPost, "/v1/encounters/"+id+"/evidence", coder, later).expect(t, http.StatusOK)
	after = encounterCAC(t, ts, id)
	if _, ok := after["sdx:N179"]; !ok {
		t.Errorf("no N179 suggestion from the later note: %v", after)
	}
	if after["sdx:Z7901"].Status != "rejected" || after["pdx:I110"].Status != "rejected" || after["sdx:I4819"].Status != "coded" {
		t.Errorf("after the later note: Z7901 %q, I110 %q, I4819 %q", after["sdx:Z7901"].Status, after["pdx:I110"].Status, after["sdx:I4819"].Status)
	}
	texts := noteTexts(t, ts, id)
	checkSpans(t, after, texts)
	// accept the later note's suggestion: without If-Match it is refused (428), with the
	// encounter's current ETag it is taken
	aki := after["sdx:N179"]
	if len(aki.Evidence) > 0 {
		decide("N179", "sdx", "accept", "", aki.Evidence[0]).expect(t, http.StatusPreconditionRequired)
		decide("N179", "sdx", "accept", "", aki.Evidence[0], "If-Match", ts.etag("/v1/encounters/"+id, coder)).expect(t, http.StatusCreated)
	}

	// bad decisions name the field
	for _, tt := range []struct {
		name  string
		body  map[string]any
		code  int
		field string
	}{
		{"no suggestion", map[string]any{"code": "J189", "kind": "sdx", "decision": "accept", "span": map[string]any{"note": "evidence[0]", "start": 0, "end": 5}}, 422, "code"},
		{"wrong span", map[string]any{"code": "Z7901", "kind": "sdx", "decision": "accept", "span": map[string]any{"note": "evidence[0]", "start": 0, "end": 5}}, 422, "span"},
		{"not a note", map[string]any{"code": "Z7901", "kind": "sdx", "decision": "accept", "span": map[string]any{"note": "evidence[7]", "start": 0, "end": 5}}, 422, "span.note"},
		{"span beyond the note", map[string]any{"code": "Z7901", "kind": "sdx", "decision": "accept", "span": map[string]any{"note": "evidence[0]", "start": 0, "end": 100000}}, 422, "span.end"},
		{"bad kind", map[string]any{"code": "Z7901", "kind": "dx", "decision": "accept", "span": map[string]any{"note": "evidence[0]", "start": 0, "end": 5}}, 422, "kind"},
		{"bad decision", map[string]any{"code": "Z7901", "kind": "sdx", "decision": "maybe", "span": map[string]any{"note": "evidence[0]", "start": 0, "end": 5}}, 422, "decision"},
		{"no span", map[string]any{"code": "Z7901", "kind": "sdx", "decision": "accept"}, 422, "span"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := ts.edit(http.MethodPost, "/v1/encounters/"+id+"/cac/decisions", coder, tt.body).expect(t, tt.code).problem(t)
			if !slices.Contains(errorFields(p), tt.field) {
				t.Errorf("fields %v, want %s: %s", errorFields(p), tt.field, p.Detail)
			}
		})
	}
	ts.edit(http.MethodPost, "/v1/encounters/"+id+"/cac/decisions", finance, map[string]any{"code": "Z7901"}).expect(t, http.StatusForbidden)
	ts.edit(http.MethodPost, "/v1/encounters/nope/cac/decisions", coder, map[string]any{"code": "Z7901", "kind": "sdx", "decision": "accept",
		"span": map[string]any{"note": "evidence[0]", "start": 0, "end": 5}}).expect(t, http.StatusNotFound)

	// the audit log: every decision with the user, code, span and reason; no note text anywhere
	type decided struct {
		Code, Kind, Decision, Reason string
		NoteType                     string `json:"note_type"`
		Span                         struct {
			Note       string
			Start, End int
		}
	}
	var decisions []decided
	for _, a := range auditOf(t, ts, id) {
		for _, words := range []string{"atrial fibrillation", "Acute kidney injury", "lisinopril"} {
			if strings.Contains(string(a.Before)+string(a.After), words) {
				t.Errorf("audit row %s carries the note text %q", a.Action, words)
			}
		}
		if a.Action != "cac_accept" && a.Action != "cac_reject" {
			continue
		}
		var d decided
		if err := json.Unmarshal(a.After, &d); err != nil {
			t.Fatal(err)
		}
		if a.Actor == "" || d.Span.Note == "" || d.Span.End <= d.Span.Start {
			t.Errorf("audit row %s %s: no user or span", a.Action, a.After)
		}
		decisions = append(decisions, d)
	}
	want := []string{"accept I4819 sdx", "reject Z7901 sdx documented elsewhere", "reject I110 pdx", "accept N179 sdx"}
	var gotD []string
	for _, d := range decisions {
		gotD = append(gotD, strings.TrimSpace(d.Decision+" "+d.Code+" "+d.Kind+" "+d.Reason))
	}
	if !slices.Equal(gotD, want) {
		t.Errorf("audited decisions %q, want %q", gotD, want)
	}
	if strings.Contains(ts.logs.String(), "atrial fibrillation") || strings.Contains(ts.logs.String(), "Acute kidney") {
		t.Error("note text in the server log")
	}

	// the report counts the audited decisions
	day := time.Now().UTC().Format("2006-01-02")
	var rep struct {
		Total      struct{ Decisions, Accepted, Rejected int }
		ByCategory []struct {
			Key                 string
			Decisions, Accepted int
			AcceptanceRate      float64 `json:"acceptance_rate"`
		} `json:"by_category"`
		ByChapter []struct {
			Key                 string
			Decisions, Accepted int
		} `json:"by_chapter"`
		ByNoteType []struct {
			Key                           string
			Decisions, Accepted, Rejected int
		} `json:"by_note_type"`
	}
	if err := json.Unmarshal(ts.do(http.MethodGet, "/v1/reports/cac?from="+day+"&to="+day, finance, nil).expect(t, http.StatusOK).body, &rep); err != nil {
		t.Fatal(err)
	}
	acc := 0
	byCat, byType := map[string][2]int{}, map[string][2]int{}
	for _, d := range decisions {
		a := 0
		if d.Decision == "accept" {
			a = 1
			acc++
		}
		c := byCat[d.Code[:3]]
		byCat[d.Code[:3]] = [2]int{c[0] + 1, c[1] + a}
		n := byType[d.NoteType]
		byType[d.NoteType] = [2]int{n[0] + 1, n[1] + a}
	}
	if rep.Total.Decisions != len(decisions) || rep.Total.Accepted != acc || rep.Total.Rejected != len(decisions)-acc {
		t.Errorf("total %+v, want %d decisions, %d accepted", rep.Total, len(decisions), acc)
	}
	if len(rep.ByCategory) != len(byCat) {
		t.Errorf("categories %+v, want %v", rep.ByCategory, byCat)
	}
	for _, c := range rep.ByCategory {
		w := byCat[c.Key]
		if c.Decisions != w[0] || c.Accepted != w[1] || c.AcceptanceRate != float64(w[1])/float64(w[0]) {
			t.Errorf("category %+v, want %v", c, w)
		}
	}
	if len(rep.ByNoteType) != len(byType) {
		t.Errorf("note types %+v, want %v", rep.ByNoteType, byType)
	}
	for _, n := range rep.ByNoteType {
		if w := byType[n.Key]; n.Decisions != w[0] || n.Accepted != w[1] {
			t.Errorf("note type %+v, want %v", n, w)
		}
	}
	chapters := map[string]int{}
	for _, c := range rep.ByChapter {
		chapters[c.Key] = c.Decisions
	}
	if chapters["ICD-10-CM 9"] != 2 || chapters["ICD-10-CM 21"] != 1 || chapters["ICD-10-CM 14"] != 1 {
		t.Errorf("chapters %v: want circulatory 2 (I4819, I110), Z codes 1, genitourinary 1", chapters)
	}
	// another period has none; bad parameters and roles are refused
	var empty struct{ Total struct{ Decisions int } }
	_ = json.Unmarshal(ts.do(http.MethodGet, "/v1/reports/cac?from=2020-01-01&to=2020-12-31", admin, nil).expect(t, http.StatusOK).body, &empty)
	if empty.Total.Decisions != 0 {
		t.Errorf("2020: %d decisions", empty.Total.Decisions)
	}
	ts.do(http.MethodGet, "/v1/reports/cac?from=2026-13-01", finance, nil).expect(t, http.StatusBadRequest)
	ts.do(http.MethodGet, "/v1/reports/cac?form=2026-01-01", finance, nil).expect(t, http.StatusBadRequest)
	ts.do(http.MethodGet, "/v1/reports/cac", coder, nil).expect(t, http.StatusForbidden)
}
