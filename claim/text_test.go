package claim

import (
	"slices"
	"strings"
	"testing"
)

func TestCheckJSONText(t *testing.T) {
	for _, c := range []struct {
		doc    string
		fields []string
		msg    string
	}{
		{`{"a":"x\ty\nz\r","b":["ok"],"c":1,"d":null,"e":"é😀\ud83d\ude00"}`, nil, ""},
		{`{"a":"x\u0000"}`, []string{"a"}, "U+0000"},
		{"{\"a\":\"x\x00\"}", []string{"a"}, "U+0000"},
		{"{\"a\":{\"b\":[\"ok\",\"\xff\"]}}", []string{"a.b[1]"}, "not valid UTF-8"},
		{`{"a":"\ud800"}`, []string{"a"}, "unpaired"},
		{`{"a":"\udc00\ud800x"}`, []string{"a"}, "unpaired"},
		{`{"a":"\u0085","b":"\u007f","c":"\u001b"}`, []string{"a", "b", "c"}, "control character"},
		{`{"a\tb":1}`, []string{"a\ufffdb"}, "field name"},
		{`{"a":"\f"}`, []string{"a"}, "U+000C"},
		{`"\u0000"`, []string{"body"}, ""},
		{`[{"id":"x"},{"id":"\u0001"}]`, []string{"[1].id"}, ""},
		{"{\"a\":\"\xed\xa0\x80\"}", []string{"a"}, "not valid UTF-8"}, // a surrogate encoded in UTF-8
		{"{\"a\":\"\xc0\xaf\"}", []string{"a"}, "not valid UTF-8"},     // overlong
		{`{"a":"x\u0000`, []string{"a"}, ""},                           // truncated: checked as far as it goes
		{`{"a" "b"}`, nil, ""},                                         // malformed: the decoder's
	} {
		errs := CheckJSONText([]byte(c.doc))
		var fields []string
		for _, e := range errs {
			fields = append(fields, e.Field)
			if c.msg != "" && !strings.Contains(e.Message, c.msg) {
				t.Errorf("%q: %s: message %q lacks %q", c.doc, e.Field, e.Message, c.msg)
			}
		}
		if !slices.Equal(fields, c.fields) {
			t.Errorf("%.60q: fields %q, want %q", c.doc, fields, c.fields)
		}
	}
}

func TestCheckJSONTextDeep(t *testing.T) {
	doc := strings.Repeat(`{"a":[`, 4000) + `"\u0000"` + strings.Repeat("]}", 4000)
	if errs := CheckJSONText([]byte(doc)); len(errs) != 1 || !strings.HasSuffix(errs[0].Field, "a[0]") {
		t.Errorf("deep document: %d errors", len(errs))
	}
}

func TestTextProblemAndLines(t *testing.T) {
	for _, c := range []struct {
		s        string
		freeText bool
		bad      bool
	}{{"abc é", false, false}, {"a\tb", false, true}, {"a\tb\n", true, false}, {"a\x00", true, true}, {"\xff", true, true}, {"\u0085", true, true}} {
		if got := TextProblem(c.s, c.freeText) != ""; got != c.bad {
			t.Errorf("TextProblem(%q, %v) refused %v", c.s, c.freeText, got)
		}
	}
	if fe := CheckLineText([]byte("a\tb\tc\x00\r"), '\t'); fe == nil || !strings.Contains(fe.Message, "column 3") {
		t.Errorf("TSV NUL: %v", fe)
	}
	if fe := CheckLineText([]byte("a,b\xff"), ','); fe == nil || !strings.Contains(fe.Message, "column 2") {
		t.Errorf("CSV invalid UTF-8: %v", fe)
	}
	if fe := CheckLineText([]byte("a\tb\r"), '\t'); fe != nil {
		t.Errorf("clean line: %v", fe)
	}
}
