// Package parity compares the product's grouper and MCE records with the records of the
// official CMS software (the oracle files) field by field.
//
// Every field of the oracle record is compared with the field of the same name in the
// product's record; extra product fields are ignored. One oracle field cannot be compared
// textually: the grouper's per-diagnosis "hacs" is Java's default rendering of a list of HAC
// objects ("[gov.agency.msdrg.model.v2.MsdrgHac@6cb8b7b3]"), whose hexadecimal part is a hash that
// mixes a JVM identity hash (of the HAC status enum) and so cannot be computed outside that JVM
// run. Within one oracle file the token is a deterministic function of the entry's content, so the
// comparison checks the number of entries and that oracle tokens and product entries (number,
// status, list name, description) correspond one-to-one across the whole file: a token seen with
// two different product entries, or a product entry seen with two tokens, is a mismatch.
package parity

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Diff is one field that differs.
type Diff struct {
	Path string `json:"path"`
	Want string `json:"want"`
	Got  string `json:"got"`
}

// String renders the diff on one line.
func (d Diff) String() string { return fmt.Sprintf("%s: want %s, got %s", d.Path, d.Want, d.Got) }

// Special compares a field the generic comparison cannot; it returns a non-empty message
// when the values differ. path is the field's path, want the oracle value.
type Special func(path string, want any) (got string, diff bool)

// CompareJSON compares every field of want with the same field of got (both decoded JSON),
// calling special for the fields it names (by key).
func CompareJSON(want, got any, special map[string]Special) []Diff {
	var diffs []Diff
	compareValue("", want, got, special, &diffs)
	return diffs
}

func compareValue(path string, want, got any, special map[string]Special, diffs *[]Diff) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*diffs = append(*diffs, Diff{path, render(want), render(got)})
			return
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if sp, ok := special[k]; ok {
				if gs, bad := sp(p, w[k]); bad {
					*diffs = append(*diffs, Diff{p, render(w[k]), gs})
				}
				continue
			}
			gv, present := g[k]
			if !present {
				*diffs = append(*diffs, Diff{p, render(w[k]), "(absent)"})
				continue
			}
			compareValue(p, w[k], gv, special, diffs)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			if got == nil && len(w) == 0 {
				return
			}
			*diffs = append(*diffs, Diff{path, render(want), render(got)})
			return
		}
		if len(g) != len(w) {
			*diffs = append(*diffs, Diff{path + ".length", fmt.Sprint(len(w)), fmt.Sprint(len(g))})
		}
		for i := 0; i < len(w) && i < len(g); i++ {
			compareValue(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], special, diffs)
		}
	default:
		if render(want) != render(got) {
			*diffs = append(*diffs, Diff{path, render(want), render(got)})
		}
	}
}

func render(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Tokens checks the one-to-one correspondence of oracle object tokens and product entries.
type Tokens struct {
	tok2key map[string]string
	key2tok map[string]string
}

// NewTokens returns an empty correspondence.
func NewTokens() *Tokens {
	return &Tokens{tok2key: map[string]string{}, key2tok: map[string]string{}}
}

// JavaListTokens splits a Java list rendering "[a@1, b@2]" into its elements' hash tokens.
func JavaListTokens(s string) []string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "[")
	s = strings.TrimSuffix(s, "]")
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ", ")
	for i, p := range parts {
		if at := strings.LastIndexByte(p, '@'); at >= 0 {
			parts[i] = p[at+1:]
		}
	}
	return parts
}

// Match records that the oracle entries with tokens toks are the product entries keys, in
// order; it reports false when that contradicts an earlier pairing or the counts differ.
func (t *Tokens) Match(toks, keys []string) bool {
	if len(toks) != len(keys) {
		return false
	}
	ok := true
	for i, tok := range toks {
		k := keys[i]
		if prev, seen := t.tok2key[tok]; seen && prev != k {
			ok = false
			continue
		}
		if prev, seen := t.key2tok[k]; seen && prev != tok {
			ok = false
			continue
		}
		t.tok2key[tok], t.key2tok[k] = k, tok
	}
	return ok
}
