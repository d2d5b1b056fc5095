// Package web is the browser interface of drg serve: a small single-page application (HTML,
// CSS and JavaScript modules, no build step) embedded in the binary. It talks to the service
// only through the documented /v1 HTTP API with the user's token, so everything it shows is
// also available to scripts.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Files holds the interface's assets (index.html, app.css, JavaScript modules).
var Files, _ = fs.Sub(static, "static")

// ContentSecurityPolicy is the policy of the interface's pages: scripts, styles and images of
// its own origin only, and never inside a frame of another page (clickjacking).
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// Handler serves the interface under prefix (e.g. "/ui/"): assets by name, index.html for
// every other path so that the application's own routes can be bookmarked.
func Handler(prefix string) http.Handler {
	files := http.FileServerFS(Files)
	return http.StripPrefix(strings.TrimSuffix(prefix, "/"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name == "" || !exists(name) {
			r = r.Clone(r.Context())
			r.URL.Path = "/"
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", ContentSecurityPolicy)
		files.ServeHTTP(w, r)
	}))
}

func exists(name string) bool {
	f, err := Files.Open(name)
	if err != nil {
		return false
	}
	st, err := f.Stat()
	f.Close()
	return err == nil && !st.IsDir()
}
