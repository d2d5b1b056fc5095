package sso

import (
	"fmt"
	"slices"
	"strings"

	"github.com/msdrg-cdi/drg/store"
)

// RoleMap maps the values of the identity provider's role claim (groups, app roles) to drg
// roles. Its entries are in the order given: a user holding several mapped groups gets the role
// of the first entry that matches, so list the most privileged group first when that is wanted.
type RoleMap []RoleMapping

// RoleMapping is one entry: members of Group get Role.
type RoleMapping struct {
	Group string
	Role  store.Role
}

// ParseRoleMap reads "group=role,group=role,…". A group name may hold "=" (the role is after
// the last one) but not ",". Roles are coder, cdi, finance and admin; a group mapped twice is
// an error.
func ParseRoleMap(s string) (RoleMap, error) {
	var m RoleMap
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		i := strings.LastIndex(item, "=")
		if i <= 0 {
			return nil, fmt.Errorf("role map entry %q: want group=role", item)
		}
		group, role := strings.TrimSpace(item[:i]), strings.TrimSpace(item[i+1:])
		r, err := store.ParseRole(role)
		if err != nil {
			return nil, fmt.Errorf("role map entry %q: unknown role %q: want coder, cdi, finance or admin", item, role)
		}
		if slices.ContainsFunc(m, func(e RoleMapping) bool { return e.Group == group }) {
			return nil, fmt.Errorf("role map: group %q is mapped twice", group)
		}
		m = append(m, RoleMapping{Group: group, Role: r})
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("role map is empty: want group=role,…")
	}
	return m, nil
}

// Role returns the role of the first entry whose group is among groups, and that group.
func (m RoleMap) Role(groups []string) (store.Role, string, bool) {
	for _, e := range m {
		if slices.Contains(groups, e.Group) {
			return e.Role, e.Group, true
		}
	}
	return "", "", false
}

// String renders the map in the format ParseRoleMap reads.
func (m RoleMap) String() string {
	parts := make([]string, len(m))
	for i, e := range m {
		parts[i] = e.Group + "=" + string(e.Role)
	}
	return strings.Join(parts, ",")
}

// claimValues reads the role claim from an ID token's claims: a string or an array of strings,
// at the top level under its exact name, else along a dotted path (Keycloak's
// "realm_access.roles"). Other values give nothing.
func claimValues(claims map[string]any, name string) []string {
	v, ok := claims[name]
	if !ok && strings.Contains(name, ".") {
		var cur any = claims
		for _, k := range strings.Split(name, ".") {
			obj, isObj := cur.(map[string]any)
			if !isObj {
				cur = nil
				break
			}
			cur = obj[k]
		}
		v = cur
	}
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
