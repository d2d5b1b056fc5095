package claim

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary lines to every claim parser: they must never panic, and a claim
// the TSV parser accepts must survive a round trip through TSVLine.
func FuzzParse(f *testing.F) {
	f.Add("c1\t431\t70\tM\t1\tNON_EXEMPT\tI5023:Y\tR0602\tJ9601:Y,E119:\t02703DZ\t20260415\t4")
	f.Add("\t\t\t\t\t\t\t\t\t\t\t")
	f.Add(`{"id":"a","version":431,"discharge_date":"2026-05-01","pdx":{"code":"I50.23","poa":"Y"},"sdx":[{"code":"J9601"}]}`)
	f.Add(`{"age":"seventy"}`)
	f.Add(`a,431,"I50.23",Y,"J9601:Y;E119:",02703DZ`)
	header, err := ParseCSVHeader([]byte("id,version,pdx,pdx_poa,sdx,procedures"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if c, err := ParseTSV(line); err == nil {
			again, err := ParseTSV(TSVLine(c))
			if err != nil {
				t.Fatalf("round trip of %q: %v", line, err)
			}
			if TSVLine(again) != TSVLine(c) {
				t.Fatalf("round trip changed %q", line)
			}
		} else if AsFieldErrors(err) == nil {
			t.Fatalf("untyped TSV error %v", err)
		}
		if _, err := ParseJSON([]byte(line)); err != nil && AsFieldErrors(err) == nil {
			t.Fatalf("untyped JSON error %v", err)
		}
		if _, err := header.ParseCSV([]byte(line)); err != nil && AsFieldErrors(err) == nil {
			t.Fatalf("untyped CSV error %v", err)
		}
		_ = SniffFormat([]byte(line))
		_, _ = ParseCSVHeader([]byte(strings.ToLower(line)))
	})
}

func TestParseErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, line, field string
		parse             func(string) error
	}{
		{"tsv columns", "a\tb", "line", func(s string) error { _, err := ParseTSV(s); return err }},
		{"tsv age", "c1\t431\tseventy\tM\t1\t\tI10:Y\t\t\t\t20260415\t4", "age", func(s string) error { _, err := ParseTSV(s); return err }},
		{"tsv date", "c1\t431\t70\tM\t1\t\tI10:Y\t\t\t\t20261345\t4", "discharge_date", func(s string) error { _, err := ParseTSV(s); return err }},
		{"json type", `{"age":"seventy"}`, "age", func(s string) error { _, err := ParseJSON([]byte(s)); return err }},
		{"json unknown field", `{"pdxx":{"code":"I10"}}`, "pdxx", func(s string) error { _, err := ParseJSON([]byte(s)); return err }},
		{"json sdx poa type", `{"sdx":[{"code":"I10","poa":1}]}`, "sdx[0].poa", func(s string) error { _, err := ParseJSON([]byte(s)); return err }},
		{"json date", `{"discharge_date":"2026-13-01"}`, "discharge_date", func(s string) error { _, err := ParseJSON([]byte(s)); return err }},
		{"json syntax", `{"pdx":`, "line", func(s string) error { _, err := ParseJSON([]byte(s)); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fes := AsFieldErrors(tc.parse(tc.line))
			if len(fes) == 0 || fes[0].Field != tc.field {
				t.Fatalf("errors %v, want field %q", fes, tc.field)
			}
		})
	}
}

func TestJSONNormalizesDots(t *testing.T) {
	c, err := ParseJSON([]byte(`{"pdx":{"code":"I50.23"},"sdx":[{"code":"J96.01","poa":"Y"}],"procedures":[{"code":"02703DZ"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.PDX.Code != "I5023" || c.SDX[0].Code != "J9601" {
		t.Errorf("codes %s %s", c.PDX.Code, c.SDX[0].Code)
	}
}

func TestEncounterJSON(t *testing.T) {
	in := `{"account":"ACCT-1","discharge_date":"2026-05-01","pdx":{"code":"J18.9","poa":"Y"},"attending_provider":{"id":"P1"},` +
		`"evidence":[{"kind":"lab","name":"Creatinine","value":1.6,"unit":"mg/dL","time":"2026-04-28T06:00:00Z"},{"kind":"lab","name":"Culture","value":"MRSA"}]}`
	var e Encounter
	if err := json.Unmarshal([]byte(in), &e); err != nil {
		t.Fatal(err)
	}
	if e.Account != "ACCT-1" || e.PDX.Code != "J18.9" || !e.Evidence[0].Value.IsNum || e.Evidence[0].Value.Num != 1.6 || e.Evidence[1].Value.Text != "MRSA" {
		t.Fatalf("decoded %+v", e)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"value":1.6`) || !strings.Contains(string(b), `"value":"MRSA"`) || !strings.Contains(string(b), `"discharge_date":"2026-05-01"`) {
		t.Errorf("encoded %s", b)
	}
}
