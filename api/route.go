package api

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/store"
)

// Route is one endpoint of the service: what it answers, who may call it, how it is documented
// and the handler. The route table is the single source of the router, the access rules and
// the OpenAPI document; packages add endpoints with Server.Register.
type Route struct {
	Method string // GET, POST, PATCH, PUT or DELETE
	// Path in OpenAPI form, parameters in braces: /v1/encounters/{id}. A last segment
	// {name...} matches the rest of the path (static files).
	Path string
	// Roles admitted. A route must either list roles or be Public.
	Roles []store.Role
	// Public routes need no token (health, metrics, the OpenAPI document, UI assets).
	Public bool

	Summary     string
	Description string
	Tags        []string
	Params      []Param // query parameters and descriptions of path parameters
	Body        *Body   // request body, if any
	// Responses documents the success responses (and specific errors) by status; 401, 403
	// and a problem+json default are added to the document automatically.
	Responses map[int]Response

	// MaxBody bounds the request body in bytes (0: the server default).
	MaxBody int64
	// StreamBody marks a handler that reads its body as it arrives (batches): the body is not
	// read in advance to check its text (every other body is one JSON document, checked
	// before the handler runs), so the handler applies the text rules itself.
	StreamBody bool
	// Timeout replaces the server's read and write deadlines for this route (0: the server
	// defaults), e.g. for streaming batch uploads.
	Timeout time.Duration

	Handler gin.HandlerFunc
}

// Param documents one query or path parameter.
type Param struct {
	Name        string
	In          string // "query" (default) or "path"
	Description string
	Schema      Schema
	Required    bool
}

// Body documents a request body: a schema per accepted media type.
type Body struct {
	Description string
	Required    bool
	Content     map[string]Schema
}

// Response documents one response: a schema per media type (none for an empty body).
type Response struct {
	Description string
	Content     map[string]Schema
	Headers     map[string]string // header name → description
}

// Schema is a JSON Schema (OpenAPI 3.1) object.
type Schema = map[string]any

// Ref returns a reference to a named schema of the document's components.
func Ref(name string) Schema { return Schema{"$ref": "#/components/schemas/" + name} }

// JSON returns content of media type application/json with the given schema.
func JSON(s Schema) map[string]Schema { return map[string]Schema{"application/json": s} }

// OK is a 200 response with a JSON body.
func OK(description string, s Schema) map[int]Response {
	return map[int]Response{http.StatusOK: {Description: description, Content: JSON(s)}}
}

var pathParam = regexp.MustCompile(`\{([a-z_][a-z0-9_]*)(\.\.\.)?\}`)

// ginPath converts /v1/encounters/{id} to gin's /v1/encounters/:id and {p...} to *p.
func ginPath(p string) string {
	return pathParam.ReplaceAllStringFunc(p, func(m string) string {
		sub := pathParam.FindStringSubmatch(m)
		if sub[2] != "" {
			return "*" + sub[1]
		}
		return ":" + sub[1]
	})
}

// pathParams returns the parameter names of an OpenAPI path.
func pathParams(p string) []string {
	var out []string
	for _, m := range pathParam.FindAllStringSubmatch(p, -1) {
		out = append(out, m[1])
	}
	return out
}

// validate checks a route before registration.
func (r *Route) validate() error {
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
	default:
		return fmt.Errorf("route %s %s: unsupported method", r.Method, r.Path)
	}
	if !strings.HasPrefix(r.Path, "/") {
		return fmt.Errorf("route %s %s: path must start with /", r.Method, r.Path)
	}
	if r.Handler == nil {
		return fmt.Errorf("route %s %s: no handler", r.Method, r.Path)
	}
	if r.Public == (len(r.Roles) > 0) {
		return fmt.Errorf("route %s %s: declare roles or Public, not both or neither", r.Method, r.Path)
	}
	for _, role := range r.Roles {
		if !slices.Contains(store.Roles, role) {
			return fmt.Errorf("route %s %s: unknown role %q", r.Method, r.Path, role)
		}
	}
	if r.Summary == "" {
		return fmt.Errorf("route %s %s: no summary (the OpenAPI document needs one)", r.Method, r.Path)
	}
	if len(r.Responses) == 0 {
		return fmt.Errorf("route %s %s: no documented response", r.Method, r.Path)
	}
	return nil
}

// allows reports whether role may call the route.
func (r *Route) allows(role store.Role) bool { return slices.Contains(r.Roles, role) }

// Role sets for route declarations.
var (
	AllRoles      = []store.Role{store.RoleCoder, store.RoleCDI, store.RoleFinance, store.RoleAdmin}
	CodingRoles   = []store.Role{store.RoleCoder, store.RoleCDI, store.RoleAdmin} // change encounters
	FinalizeRoles = []store.Role{store.RoleCoder, store.RoleAdmin}
	AdminOnly     = []store.Role{store.RoleAdmin}
)
