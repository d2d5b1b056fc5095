// Package ssotest runs a real OpenID Connect provider in the test process (the in-process
// provider of github.com/oauth2-proxy/mockoidc: discovery, authorization endpoint with PKCE,
// token endpoint, RS256-signed ID tokens, JWKS) and a cookie-keeping browser for the sign-in
// flow of drg serve. Only tests use it.
package ssotest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// Provider is an OpenID provider listening on loopback.
type Provider struct {
	*mockoidc.MockOIDC

	mu         sync.Mutex
	tamper     func(claims map[string]any) // rewrites the next ID token's payload, keeping its signature
	authorizes []url.Values                // query of each authorization request
}

// Start starts a provider for the test; it stops when the test ends.
func Start(t testing.TB) *Provider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{MockOIDC: m}
	if err := m.AddMiddleware(p.middleware); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return p
}

// User queues the user of the next sign-in.
func (p *Provider) User(subject, name string, groups ...string) {
	p.QueueUser(&mockoidc.MockUser{Subject: subject, PreferredUsername: name, Email: name + "@hospital.test", Groups: groups})
}

// UserForAudience queues a user whose next ID token is issued for another client (audience).
func (p *Provider) UserForAudience(subject, name, audience string, groups ...string) {
	p.QueueUser(audienceUser{&mockoidc.MockUser{Subject: subject, PreferredUsername: name, Groups: groups}, audience})
}

type audienceUser struct {
	*mockoidc.MockUser
	aud string
}

// Claims implements mockoidc.User with the audience replaced.
func (u audienceUser) Claims(scope []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	rc := *c.RegisteredClaims
	rc.Audience = jwt.ClaimStrings{u.aud}
	return u.MockUser.Claims(scope, &mockoidc.IDTokenClaims{Nonce: c.Nonce, RegisteredClaims: &rc})
}

// TamperNext makes the token endpoint's next ID token carry a payload changed by fn while
// keeping the provider's signature of the original (what an attacker altering a token gets).
func (p *Provider) TamperNext(fn func(claims map[string]any)) {
	p.mu.Lock()
	p.tamper = fn
	p.mu.Unlock()
}

// Authorizations returns the queries of the authorization requests received so far.
func (p *Provider) Authorizations() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.authorizes...)
}

func (p *Provider) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case mockoidc.AuthorizationEndpoint:
			p.mu.Lock()
			p.authorizes = append(p.authorizes, r.URL.Query())
			p.mu.Unlock()
		case mockoidc.TokenEndpoint:
			p.mu.Lock()
			fn := p.tamper
			p.mu.Unlock()
			if fn != nil {
				rec := &recorder{header: http.Header{}, status: http.StatusOK}
				next.ServeHTTP(rec, r)
				body := rec.body.Bytes()
				if rec.status == http.StatusOK { // not a refused try (client authentication style)
					body = tamperToken(body, fn)
					p.mu.Lock()
					p.tamper = nil
					p.mu.Unlock()
				}
				for k, v := range rec.header {
					w.Header()[k] = v
				}
				w.Header().Del("Content-Length")
				w.WriteHeader(rec.status)
				w.Write(body)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

type recorder struct {
	header http.Header
	body   bytes.Buffer
	status int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(s int)           { r.status = s }

// tamperToken rewrites the payload of the id_token of a token response.
func tamperToken(resp []byte, fn func(map[string]any)) []byte {
	var m map[string]any
	if json.Unmarshal(resp, &m) != nil {
		return resp
	}
	tok, _ := m["id_token"].(string)
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return resp
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return resp
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return resp
	}
	fn(claims)
	payload, _ = json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	m["id_token"] = strings.Join(parts, ".")
	out, _ := json.Marshal(m)
	return out
}

// Browser is an HTTP client keeping cookies like a browser, Secure ones included over
// http://127.0.0.1 (as browsers do for loopback).
type Browser struct {
	Client *http.Client
	jar    *cookiejar.Jar
}

// NewBrowser returns a browser with no cookies. It follows redirects, except into the web
// interface (/ui/…): the sign-in flow's last answer is returned as is.
func NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil)
	b := &Browser{jar: jar}
	b.Client = &http.Client{Jar: secureJar{jar}, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.Path, "/ui/") || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	return b
}

// secureJar treats http URLs as https so that Secure cookies are kept and sent on loopback.
type secureJar struct{ j *cookiejar.Jar }

func httpsURL(u *url.URL) *url.URL {
	c := *u
	c.Scheme = "https"
	return &c
}

func (s secureJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	s.j.SetCookies(httpsURL(u), cookies)
}

func (s secureJar) Cookies(u *url.URL) []*http.Cookie { return s.j.Cookies(httpsURL(u)) }

// Cookie returns the value of the named cookie the browser holds for base ("" if none).
func (b *Browser) Cookie(base, name string) string {
	u, _ := url.Parse(base)
	for _, c := range b.jar.Cookies(httpsURL(u)) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// SetCookie gives the browser a cookie for base (a session carried to another instance).
func (b *Browser) SetCookie(base, name, value string) {
	u, _ := url.Parse(base)
	b.jar.SetCookies(httpsURL(u), []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// Get fetches a URL and returns the last answer with its body.
func (b *Browser) Get(t testing.TB, u string) (*http.Response, string) {
	t.Helper()
	resp, err := b.Client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// Do sends a request with the browser's cookies and returns the answer with its body.
func (b *Browser) Do(t testing.TB, method, u string, body []byte, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}
