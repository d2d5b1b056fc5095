package claim

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDecodeReportsEveryField(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string // "field: message fragment", in order
	}{
		{"valid", `{"account":"A","age":70,"evidence":[{"kind":"lab","time":"2026-05-01T08:00:00Z"}]}`, nil},
		{"types and unknown fields together", `{"account":"A","age":"seventy","discharge_status":"home","sex":1,"colour":"red","pdx":{"code":"I10","poa":2}}`,
			[]string{"age: must be a whole number, not the text \"seventy\"", "sex: must be a string, not the number 1", "discharge_status: must be a whole number",
				"pdx.poa: must be a string, not the number 2", "colour: unknown field"}},
		{"array elements by index", `{"account":"A","sdx":[{"code":"I10"},{"code":5},{"code":"E119","poa":"Y","x":1}]}`,
			[]string{"sdx[1].code: must be a string", "sdx[2].x: unknown field"}},
		{"dates and times in words", `{"account":"A","discharge_date":"2026-13-01","evidence":[{"kind":"lab","time":"yesterday"},{"kind":"lab","time":"2026-05-01T08:00:00"}]}`,
			[]string{"discharge_date: invalid date \"2026-13-01\": want YYYY-MM-DD", "evidence[0].time: not a date and time: \"yesterday\"; write it as 2026-05-01T08:00:00"}},
		{"fractional integer", `{"account":"A","age":70.5}`, []string{"age: must be a whole number, not 70.5"}},
		{"out of range", `{"account":"A","age":1e40}`, []string{"age: must be a whole number"}},
		{"object expected", `{"account":"A","pdx":"I10"}`, []string{"pdx: must be an object, not the text \"I10\""}},
		{"case-insensitive names as encoding/json, reported by their name", `{"Account":"A","AGE":"x"}`, []string{"age: must be a whole number"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e Encounter
			err := Decode([]byte(tc.body), &e, DecodeOptions{Location: func() *time.Location { return time.UTC }})
			fes := AsFieldErrors(err)
			if len(fes) != len(tc.want) {
				t.Fatalf("errors %v, want %d: %q", err, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if got := fes[i].Error(); !strings.HasPrefix(got, w) {
					t.Errorf("error %d = %q, want prefix %q", i, got, w)
				}
				if strings.Contains(fes[i].Message, "2006") || strings.Contains(fes[i].Message, "Z07") {
					t.Errorf("error %q shows a Go layout", fes[i])
				}
			}
			if e.Account != "A" {
				t.Errorf("the valid fields are not decoded: account %q", e.Account)
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, body := range []string{`{"account":`, `[1,2]`, `"text"`, `{"a":1} {"b":2}`, `{"account":"A",}`} {
		var e Encounter
		var me *MalformedError
		if err := Decode([]byte(body), &e, DecodeOptions{}); !errors.As(err, &me) {
			t.Errorf("%s: err %v, want a MalformedError", body, err)
		}
	}
}

func TestDecodeTimestampZone(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	tests := []struct {
		in   string
		loc  *time.Location
		want string // RFC 3339 instant
	}{
		{"2026-05-01T08:00:00", chicago, "2026-05-01T13:00:00Z"}, // CDT, UTC-5
		{"2026-01-15T08:00:00", chicago, "2026-01-15T14:00:00Z"}, // CST, UTC-6
		{"2026-05-01 08:00", chicago, "2026-05-01T13:00:00Z"},
		{"202605010800", chicago, "2026-05-01T13:00:00Z"},
		{"2026-05-01T08:00:00", nil, "2026-05-01T08:00:00Z"},      // no zone given: UTC
		{"2026-05-01T08:00:00Z", chicago, "2026-05-01T08:00:00Z"}, // an explicit zone wins
		{"2026-05-01T08:00:00-04:00", chicago, "2026-05-01T12:00:00Z"},
		{"2026-05-01T08:00:00.250+0000", chicago, "2026-05-01T08:00:00.25Z"},
	}
	for _, tc := range tests {
		body := `{"account":"A","evidence":[{"kind":"lab","time":"` + tc.in + `"}]}`
		var e Encounter
		asked := 0
		loc := func() *time.Location { asked++; return tc.loc }
		if err := Decode([]byte(body), &e, DecodeOptions{Location: loc}); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := e.Evidence[0].Time.UTC().Format(time.RFC3339Nano); got != tc.want {
			t.Errorf("%s in %v = %s, want %s", tc.in, tc.loc, got, tc.want)
		}
		if zoned := strings.ContainsAny(tc.in[10:], "Z+-"); zoned && asked != 0 || !zoned && asked != 1 {
			t.Errorf("%s: the zone was asked %d times", tc.in, asked)
		}
	}
	// Without a zone to read them in, timestamps without one are errors asking for it.
	var e Encounter
	err = Decode([]byte(`{"account":"A","evidence":[{"kind":"lab","time":"2026-05-01T08:00:00"},{"kind":"lab","time":"2026-05-01T08:00:00Z"}]}`), &e, DecodeOptions{})
	if fes := AsFieldErrors(err); len(fes) != 1 || fes[0].Field != "evidence[0].time" || !strings.Contains(fes[0].Message, "has no time zone: write it with its zone, e.g. 2026-05-01T08:00:00Z") {
		t.Errorf("no zone: %v", err)
	}
}

func TestParseDateTimestamps(t *testing.T) {
	for in, want := range map[string]string{"2026-05-01": "2026-05-01", "20260501": "2026-05-01", "2026-05-01T23:30:00": "2026-05-01",
		"2026-05-01T23:30:00-05:00": "2026-05-01", "2026-05-01T08:00:00Z": "2026-05-01"} {
		if d, err := ParseDate(in); err != nil || d.String() != want {
			t.Errorf("ParseDate(%q) = %v, %v; want %s", in, d, err, want)
		}
	}
	if _, err := ParseDate("May 1"); err == nil || !strings.Contains(err.Error(), "want YYYY-MM-DD") {
		t.Errorf("ParseDate(May 1) err = %v", err)
	}
}

func TestErrorsMerge(t *testing.T) {
	var none Errors
	es := Errors{{Field: "age", Message: "must be a whole number"}}
	got := es.Merge(nil, none, Errors{{Field: "age", Message: "required"}, {Field: "sex", Message: "must be one of M F U"}},
		&FieldError{Field: "pdx.poa", Message: "must be one of Y N U W 1"}, errors.New("plain"))
	if got.Error() != "age: must be a whole number; sex: must be one of M F U; pdx.poa: must be one of Y N U W 1; body: plain" {
		t.Errorf("Merge = %v", got)
	}
	if none.Merge(nil, none).Err() != nil {
		t.Error("merging nothing gives an error")
	}
}
