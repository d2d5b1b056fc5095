package sso

import (
	"slices"
	"testing"
)

func TestClaimValues(t *testing.T) {
	claims := map[string]any{
		"groups":                     []any{"a", "b", 3},
		"role":                       "admin",
		"realm_access":               map[string]any{"roles": []any{"drg-coder"}},
		"https://example.org/roles":  []any{"x"},
		"https://example.org/nested": map[string]any{"no": "path"},
		"count":                      7,
	}
	for _, c := range []struct {
		name string
		want []string
	}{
		{"groups", []string{"a", "b"}},
		{"role", []string{"admin"}},
		{"realm_access.roles", []string{"drg-coder"}},
		{"https://example.org/roles", []string{"x"}},
		{"realm_access.missing", nil},
		{"groups.x", nil},
		{"count", nil},
		{"absent", nil},
	} {
		if got := claimValues(claims, c.name); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"#/worklist":                     "#/worklist",
		"#/encounters/01H?tab=q":         "#/encounters/01H?tab=q",
		"https://evil.example/":          "",
		"//evil.example":                 "",
		"#/x\r\nSet-Cookie: a=b":         "",
		"":                               "",
		"/ui/#/x":                        "",
		"#/" + string(make([]byte, 500)): "",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
