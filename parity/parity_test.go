package parity

import "testing"

func TestCompareJSON(t *testing.T) {
	want := map[string]any{"a": 1.0, "b": []any{map[string]any{"c": "x"}, map[string]any{"c": "y"}}, "d": "z"}
	got := map[string]any{"a": 1.0, "b": []any{map[string]any{"c": "x"}, map[string]any{"c": "Y"}}, "extra": true}
	diffs := CompareJSON(want, got, nil)
	if len(diffs) != 2 || diffs[0].Path != "b[1].c" || diffs[1].Path != "d" || diffs[1].Got != "(absent)" {
		t.Fatalf("diffs %v", diffs)
	}
	if d := CompareJSON(want, want, nil); len(d) != 0 {
		t.Fatalf("identical records differ: %v", d)
	}
}

// TestTokens: oracle object tokens must correspond one-to-one to product entries.
func TestTokens(t *testing.T) {
	tok := NewTokens()
	steps := []struct {
		toks, keys []string
		ok         bool
	}{
		{[]string{"aa"}, []string{"HAC05 NOT_MET"}, true},
		{[]string{"aa", "bb"}, []string{"HAC05 NOT_MET", "HAC06 MET"}, true},
		{[]string{"aa"}, []string{"HAC06 MET"}, false},           // token seen with another entry
		{[]string{"cc"}, []string{"HAC05 NOT_MET"}, false},       // entry seen with another token
		{[]string{"aa", "bb"}, []string{"HAC05 NOT_MET"}, false}, // counts differ
		{nil, nil, true},
	}
	for i, s := range steps {
		if got := tok.Match(s.toks, s.keys); got != s.ok {
			t.Errorf("step %d: Match = %v, want %v", i, got, s.ok)
		}
	}
	if got := JavaListTokens("[gov.agency.msdrg.model.v2.MsdrgHac@6cb8b7b3, gov.agency.msdrg.model.v2.MsdrgHac@a353cb93]"); len(got) != 2 || got[0] != "6cb8b7b3" || got[1] != "a353cb93" {
		t.Errorf("JavaListTokens = %v", got)
	}
	if got := JavaListTokens("[]"); len(got) != 0 {
		t.Errorf("empty list gives %v", got)
	}
}
