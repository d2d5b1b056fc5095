package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestCACCommand(t *testing.T) {
	good := `{"age":70,"sex":"M","discharge_status":1,"discharge_date":"2026-05-06","notes":[{"id":"n1","note_type":"discharge summary","author_role":"physician","text":"DISCHARGE DIAGNOSES:\n1. Community-acquired pneumonia\n2. Hypertension on lisinopril"}]}`
	big := strings.Repeat("Pneumonia. ", 2<<20/11+1)
	var many []string
	for i := range 200 {
		many = append(many, fmt.Sprintf(`{"id":"n%d","text":"Pneumonia."}`, i))
	}
	lines := []struct {
		body  string
		field string // "" for a good line
	}{
		{good, ""},
		{`{"notes":[{"id":"n1","text":""}]}`, "notes[0].text"},
		{`{"notes":[{"id":"n1","text":"   "}]}`, "notes[0].text"},
		{`{"notes":[{"id":"n1","text":"\u0001\u0002"}]}`, "notes[0].text"},
		{`{"notes":[{"id":"n1"}]}`, "notes[0].text"},
		{`{"notes":[{"id":"a","text":"Pneumonia."},{"id":"a","text":"Sepsis."}]}`, "notes[1].id"},
		{"{\"notes\":[{\"id\":\"n1\",\"text\":\"bad \xff utf8\"}]}", "notes[0].text"},
		{`{"notes":[{"id":"n1","text":"` + big + `"}]}`, "notes[0].text"},
		{`{"notes":[` + strings.Join(many, ",") + `]}`, "notes"},
		{`not json`, "body"},
		{good, ""},
	}
	var in strings.Builder
	for _, l := range lines {
		in.WriteString(l.body + "\n")
	}
	st, out, errs := drg(t, in.String(), "cac", "--data", dataDir(t), "--quiet")
	if st != 0 {
		t.Fatalf("exit %d: %s", st, errs)
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(got) != len(lines) {
		t.Fatalf("%d output lines for %d input lines", len(got), len(lines))
	}
	for i, l := range lines {
		var rec struct {
			Line   int
			Error  string
			Errors []struct{ Field string }
			PDX    *struct{ Code string }
			Group  *struct{ Final struct{ DRG int } }
		}
		if err := json.Unmarshal([]byte(got[i]), &rec); err != nil {
			t.Fatalf("line %d: %v: %.200s", i+1, err, got[i])
		}
		if l.field == "" {
			if rec.Error != "" || rec.PDX == nil || rec.PDX.Code != "J189" || rec.Group == nil || rec.Group.Final.DRG == 0 {
				t.Errorf("line %d: %.300s", i+1, got[i])
			}
			continue
		}
		if rec.Line != i+1 || rec.Error == "" || len(rec.Errors) == 0 || rec.Errors[0].Field != l.field {
			t.Errorf("line %d: want an error naming line %d and %s, got %.300s", i+1, i+1, l.field, got[i])
		}
	}
	// the service and the CLI agree: the same request gives the same response
	st2, out2, _ := drg(t, "["+good+"]", "cac", "--data", dataDir(t), "--quiet", "--workers", "1")
	if st2 != 0 || strings.TrimSpace(out2) != got[0] {
		t.Errorf("a JSON array input gave %q, not the line's %q", out2, got[0])
	}
}
