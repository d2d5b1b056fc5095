package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/api"
)

// Prefix is where the interface is served.
const Prefix = "/ui/"

// Routes returns the routes of the web interface for the service's route table: the assets
// under /ui/ and a redirect from / (both public: the pages hold no data; every figure they
// show comes from the token-protected /v1 API).
func Routes() []api.Route {
	h := Handler(Prefix)
	html := map[int]api.Response{http.StatusOK: {Description: "the page or asset", Content: map[string]api.Schema{"text/html": {"type": "string"}}}}
	return []api.Route{
		{Method: http.MethodGet, Path: "/", Public: true, Tags: []string{"web"}, Summary: "Redirect to the web interface",
			Responses: map[int]api.Response{http.StatusFound: {Description: "to /ui/"}},
			Handler:   func(c *gin.Context) { c.Redirect(http.StatusFound, Prefix) }},
		{Method: http.MethodGet, Path: "/favicon.ico", Public: true, Tags: []string{"web"}, Summary: "The interface's icon (browsers ask for it at the root)",
			Responses: map[int]api.Response{http.StatusMovedPermanently: {Description: "to /ui/favicon.svg"}},
			Handler:   func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, Prefix+"favicon.svg") }},
		{Method: http.MethodGet, Path: "/ui/{path...}", Public: true, Tags: []string{"web"}, Summary: "Web interface (HTML, CSS, JavaScript)",
			Params:    []api.Param{{Name: "path", In: "path", Description: "asset or page path", Schema: api.Schema{"type": "string"}, Required: true}},
			Responses: html, Handler: gin.WrapH(h)},
	}
}
