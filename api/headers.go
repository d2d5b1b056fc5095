package api

import (
	"github.com/gin-gonic/gin"
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
