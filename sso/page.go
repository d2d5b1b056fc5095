package sso

import (
	"bytes"
	"html/template"

	"github.com/gin-gonic/gin"
)

// The pages of the sign-in flow: plain HTML in the interface's style, no script.
var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — drg</title>
<link rel="stylesheet" href="/ui/app.css">
</head>
<body>
<header class="top"><div class="brand"><a href="/ui/">drg</a><span class="sub">MS-DRG grouper · CDI</span></div></header>
<main id="main">
<div class="card" style="max-width:560px">
<h1>{{.Title}}</h1>
<p role="alert">{{.Detail}}</p>
<p><a href="/ui/">Back to the sign-in page</a></p>
</div>
</main>
</body>
</html>
`))

// writePage answers an HTML page with a title and an explanation.
func writePage(c *gin.Context, status int, title, detail string) {
	var b bytes.Buffer
	_ = pageTmpl.Execute(&b, struct{ Title, Detail string }{title, detail})
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Security-Policy", "default-src 'self'; style-src 'self'; frame-ancestors 'none'")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(status, "text/html; charset=utf-8", b.Bytes())
	c.Abort()
}
