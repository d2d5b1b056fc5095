package api

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/claim"
)

// Security headers of every response. API answers and the interface carry patient data, so
// none may be cached (Cache-Control: no-store: not by the browser, not by a proxy), framed by
// another page (clickjacking: CSP frame-ancestors and the older X-Frame-Options), leak the URL
// of the page that linked away (Referrer-Policy; URLs hold encounter ids), or be sniffed into
// another media type. Handlers serving active content (the interface's pages) replace the
// Content-Security-Policy with their own, which keeps frame-ancestors 'none'.
var securityHeaders = [][2]string{
	{"Content-Security-Policy", APIContentSecurityPolicy},
	{"X-Frame-Options", "DENY"},
	{"Referrer-Policy", "no-referrer"},
	{"Cache-Control", "no-store"},
	{"X-Content-Type-Options", "nosniff"},
}

// APIContentSecurityPolicy is the policy of API answers: nothing in them may load, run or be
// framed (a JSON or problem document opened in a browser stays inert).
const APIContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// secureHeaders sets the security headers before the request is handled, so that every
// answer (errors, 404 and 405 included) has them.
func secureHeaders(c *gin.Context) {
	h := c.Writer.Header()
	for _, kv := range securityHeaders {
		h.Set(kv[0], kv[1])
	}
	c.Next()
}

// checkText holds every string of a request to the text rules of claim.TextProblem: path and
// query parameters (names and values: no control character, valid UTF-8) and the strings and
// field names of the JSON body (claim.CheckJSONText: tab, line feed and carriage return allowed
// in values). A request breaking them is a 422 naming each field, before the handler runs, on
// every route — so nothing the database would refuse (PostgreSQL cannot store NUL) or silently
// alter (invalid UTF-8 becomes U+FFFD in the JSON decoder) gets that far. Streaming routes
// (Route.StreamBody) check their body as they read it (claim parsing applies the same rules).
func (s *Server) checkText(r *Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		var errs claim.Errors
		for _, p := range c.Params {
			if msg := claim.TextProblem(p.Value, false); msg != "" {
				errs = append(errs, &FieldError{Field: p.Key, Message: msg})
			}
		}
		q := c.Request.URL.Query()
		for _, k := range slices.Sorted(maps.Keys(q)) {
			if msg := claim.TextProblem(k, false); msg != "" {
				errs = append(errs, &FieldError{Field: printable(k), Message: "the parameter name " + msg})
				continue
			}
			for _, v := range q[k] {
				if msg := claim.TextProblem(v, false); msg != "" {
					errs = append(errs, &FieldError{Field: k, Message: msg})
					break
				}
			}
		}
		if len(errs) > 0 {
			WriteValidation(c, errs...)
			return
		}
		if r.StreamBody || c.Request.Body == nil || c.Request.Body == http.NoBody {
			return
		}
		b, ok := ReadBody(c)
		if !ok {
			return
		}
		c.Request.Body = io.NopCloser(bytes.NewReader(b))
		if errs := claim.CheckJSONText(b); len(errs) > 0 {
			WriteValidation(c, errs...)
		}
	}
}

// printable returns s with invalid UTF-8 and control characters replaced by U+FFFD, to name
// a field in an answer.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7F && r <= 0x9F {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
}
