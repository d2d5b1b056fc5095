// Package sso is single sign-on for the web interface of drg serve: the OpenID Connect
// authorization code flow with PKCE against the hospital's identity provider (coreos/go-oidc
// verifies the ID token: signature against the provider's published keys, issuer, audience =
// our client id, expiry; golang.org/x/oauth2 runs the code exchange).
//
//	GET /auth/config    whether single sign-on is configured (the sign-in page asks)
//	GET /auth/login     starts a sign-in: state, nonce and PKCE verifier are kept in the
//	                    database (the provider's answer may reach another instance) and the
//	                    browser goes to the provider
//	GET /auth/callback  the provider's answer: code exchange, ID token verification, role
//	                    mapping, user created or updated, database session started
//
// The user's role comes from one claim of the ID token (--oidc-role-claim, e.g. groups) through
// the role map (--oidc-role-map); it is evaluated at every sign-in, so a change at the provider
// applies at the user's next sign-in. A user whose claim maps to no role gets a page saying
// so, and the sessions they had end. Sessions themselves are the api package's.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/store"
)

// Config is the OpenID Connect client configuration.
type Config struct {
	Issuer       string // the provider's issuer URL (discovery at Issuer/.well-known/openid-configuration)
	ClientID     string
	ClientSecret string
	// PublicURL is the external base URL of the service (https://drg.example.org), from which
	// the redirect URL PublicURL/auth/callback is made; it must be registered at the provider.
	// Empty: taken from each request (Host, and X-Forwarded-Proto from a reverse proxy).
	PublicURL string
	RoleClaim string   // ID token claim holding the groups or roles (default "groups")
	RoleMap   RoleMap  // claim values → drg roles (required)
	Scopes    []string // scopes requested (default openid, profile, email, groups)
	// HTTPClient calls the provider (default: a client with a 15 s timeout).
	HTTPClient *http.Client
}

// DefaultScopes are requested when Config.Scopes is empty.
var DefaultScopes = []string{oidc.ScopeOpenID, "profile", "email", "groups"}

// Paths of the sign-in routes.
const (
	LoginPath    = "/auth/login"
	CallbackPath = "/auth/callback"
	ConfigPath   = "/auth/config"
	loginCookie  = "__Host-drg_login" // the state of the sign-in in progress, bound to the browser
)

// Service runs the sign-in flow of one provider for a server.
type Service struct {
	cfg Config
	srv *api.Server
	st  *store.Store
	log *slog.Logger

	mu       sync.Mutex
	provider *oidc.Provider // discovered on first use, then kept
}

// New checks the configuration and returns the service. The provider is contacted at the
// first sign-in (and retried at the next if it cannot be reached), so that drg starts while
// the provider is down; Discover checks it at start-up.
func New(cfg Config, srv *api.Server, log *slog.Logger) (*Service, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("OIDC issuer %q: want an http(s) URL", cfg.Issuer)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("OIDC: a client id is required")
	}
	if len(cfg.RoleMap) == 0 {
		return nil, errors.New("OIDC: a role map is required (group=role,…): without it nobody could sign in")
	}
	if cfg.PublicURL != "" {
		p, err := url.Parse(cfg.PublicURL)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, fmt.Errorf("public URL %q: want an http(s) URL such as https://drg.example.org", cfg.PublicURL)
		}
		cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "groups"
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{cfg: cfg, srv: srv, st: srv.Store(), log: log}, nil
}

func (s *Service) clientContext(ctx context.Context) context.Context {
	ctx = oidc.ClientContext(ctx, s.cfg.HTTPClient)
	return context.WithValue(ctx, oauth2.HTTPClient, s.cfg.HTTPClient)
}

// Discover fetches the provider's configuration (once; later calls return it).
func (s *Service) Discover(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	p, err := oidc.NewProvider(s.clientContext(ctx), s.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OIDC discovery at %s: %w", s.cfg.Issuer, err)
	}
	s.provider = p
	return p, nil
}

func (s *Service) oauth2Config(p *oidc.Provider, r *http.Request) *oauth2.Config {
	base := s.cfg.PublicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return &oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: base + CallbackPath, Scopes: s.cfg.Scopes}
}

// Routes returns the sign-in routes. With a nil service single sign-on is off: /auth/config
// says so and /auth/login answers a page explaining it.
func Routes(s *Service) []api.Route {
	html := map[string]api.Schema{"text/html": {"type": "string"}}
	page := func(status int, d string) map[int]api.Response {
		return map[int]api.Response{status: {Description: d, Content: html}}
	}
	tags := []string{"sign-in"}
	cfgHandler := func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"oidc": false}) }
	login := func(c *gin.Context) {
		writePage(c, http.StatusNotFound, "Single sign-on is not configured",
			"This drg service has no identity provider configured. Sign in with an API token, or ask your administrator to start drg serve with --oidc-issuer.")
	}
	callback := login
	if s != nil {
		cfgHandler = func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"oidc": true, "login_url": LoginPath}) }
		login, callback = s.handleLogin, s.handleCallback
	}
	return []api.Route{
		{Method: http.MethodGet, Path: ConfigPath, Public: true, Tags: tags, Summary: "Whether single sign-on (OpenID Connect) is configured",
			Responses: api.OK("oidc: true with the sign-in URL, or false", api.Schema{"type": "object",
				"properties": api.Schema{"oidc": api.Schema{"type": "boolean"}, "login_url": api.Schema{"type": "string"}}}), Handler: cfgHandler},
		{Method: http.MethodGet, Path: LoginPath, Public: true, Tags: tags, Summary: "Start single sign-on: redirect to the identity provider",
			Description: "Authorization code flow with PKCE (S256), state and nonce. next is the interface page to return to (#/…).",
			Params:      []api.Param{{Name: "next", Description: "interface route to open after sign-in, e.g. #/worklist", Schema: api.Schema{"type": "string"}}},
			Responses: map[int]api.Response{http.StatusFound: {Description: "to the identity provider"},
				http.StatusBadGateway: {Description: "the identity provider cannot be reached", Content: html}},
			Handler: login},
		{Method: http.MethodGet, Path: CallbackPath, Public: true, Tags: tags, Summary: "The identity provider's answer: verify, map the role, start the session",
			Description: "Exchanges the code (with the PKCE verifier), verifies the ID token (signature, issuer, audience, expiry, nonce), maps the role claim, " +
				"creates the user on first sign-in or updates the role, starts a session (cookie " + api.SessionCookie + ") and redirects to the interface. " +
				"Refusals are pages that say why (403 when no role is mapped to the user's groups).",
			Params: []api.Param{{Name: "code", Schema: api.Schema{"type": "string"}}, {Name: "state", Schema: api.Schema{"type": "string"}}},
			Responses: func() map[int]api.Response {
				r := page(http.StatusForbidden, "signed in at the provider, but no drg role (or the user is disabled)")
				r[http.StatusSeeOther] = api.Response{Description: "signed in: to the interface"}
				r[http.StatusUnauthorized] = api.Response{Description: "the ID token is not valid (signature, audience, expiry, nonce) or the provider refused", Content: html}
				r[http.StatusBadRequest] = api.Response{Description: "unknown, used or expired sign-in state: start again", Content: html}
				return r
			}(),
			Handler: callback},
	}
}

// randomString returns n random bytes, base64url.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// safeNext keeps a return target that is a route of the interface (#/…), else "".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "#/") || len(next) > 400 || strings.ContainsAny(next, "\r\n\\") {
		return ""
	}
	return next
}

func (s *Service) handleLogin(c *gin.Context) {
	p, err := s.Discover(c.Request.Context())
	if err != nil {
		s.log.Warn("OIDC provider unreachable", "err", err.Error())
		writePage(c, http.StatusBadGateway, "The identity provider cannot be reached",
			"drg could not read the identity provider's configuration. Try again in a minute; if it persists, tell your administrator (the server log has the details).")
		return
	}
	state, nonce, verifier := randomString(32), randomString(32), oauth2.GenerateVerifier()
	if err := s.st.SaveLogin(c.Request.Context(), state, store.LoginState{Verifier: verifier, Nonce: nonce, Next: safeNext(c.Query("next"))}); err != nil {
		api.Logger(c).Error("save sign-in state", "err", err.Error())
		writePage(c, http.StatusInternalServerError, "Sign-in failed", "drg could not record the sign-in. Try again; the server log has the details.")
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: loginCookie, Value: state, Path: "/", MaxAge: int(store.LoginTTL.Seconds()),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, s.oauth2Config(p, c.Request).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
}

// refusal is a sign-in that ends on a page.
type refusal struct {
	status        int
	title, detail string
}

func (r *refusal) Error() string { return r.title + ": " + r.detail }

func (s *Service) handleCallback(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: loginCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	u, secret, next, err := s.callback(c)
	if err != nil {
		var r *refusal
		if !errors.As(err, &r) {
			api.Logger(c).Error("sign-in failed", "err", err.Error())
			r = &refusal{http.StatusInternalServerError, "Sign-in failed", "drg could not complete the sign-in. Try again; the server log has the details."}
		} else {
			api.Logger(c).Warn("sign-in refused", "status", r.status, "reason", r.title)
		}
		writePage(c, r.status, r.title, r.detail)
		return
	}
	s.srv.SetSessionCookie(c, secret)
	api.Logger(c).Info("signed in", "user_id", u.ID, "role", u.Role)
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, "/ui/"+next)
}

// callback checks the provider's answer and signs the user in.
func (s *Service) callback(c *gin.Context) (store.User, string, string, error) {
	ctx := c.Request.Context()
	if e := c.Query("error"); e != "" {
		return store.User{}, "", "", &refusal{http.StatusUnauthorized, "The identity provider did not sign you in",
			fmt.Sprintf("It answered %q: %s", e, c.Query("error_description"))}
	}
	startAgain := &refusal{http.StatusBadRequest, "This sign-in cannot be completed",
		"It expired, was already used, or was started in another browser. Start again from the sign-in page."}
	state, code := c.Query("state"), c.Query("code")
	cookie, err := c.Cookie(loginCookie)
	if err != nil || state == "" || code == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(state)) != 1 {
		return store.User{}, "", "", startAgain
	}
	login, err := s.st.TakeLogin(ctx, state)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, "", "", startAgain
	}
	if err != nil {
		return store.User{}, "", "", err
	}
	p, err := s.Discover(ctx)
	if err != nil {
		return store.User{}, "", "", &refusal{http.StatusBadGateway, "The identity provider cannot be reached", err.Error()}
	}
	pctx := s.clientContext(ctx)
	tok, err := s.oauth2Config(p, c.Request).Exchange(pctx, code, oauth2.VerifierOption(login.Verifier))
	if err != nil {
		return store.User{}, "", "", &refusal{http.StatusUnauthorized, "The identity provider did not confirm the sign-in", "The code exchange failed: " + err.Error()}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return store.User{}, "", "", &refusal{http.StatusUnauthorized, "The identity provider sent no ID token", "Check that the client is an OpenID Connect client with the openid scope."}
	}
	idt, err := p.VerifierContext(pctx, &oidc.Config{ClientID: s.cfg.ClientID}).Verify(pctx, raw)
	if err != nil {
		return store.User{}, "", "", &refusal{http.StatusUnauthorized, "The sign-in token was not accepted", tokenProblem(err)}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(login.Nonce)) != 1 {
		return store.User{}, "", "", &refusal{http.StatusUnauthorized, "The sign-in token was not accepted", "Its nonce does not match this sign-in (a replayed token)."}
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return store.User{}, "", "", &refusal{http.StatusUnauthorized, "The sign-in token was not accepted", "Its claims cannot be read."}
	}
	id := store.ExternalIdentity{Issuer: idt.Issuer, Subject: idt.Subject, Name: userName(claims, idt.Subject)}
	groups := claimValues(claims, s.cfg.RoleClaim)
	role, _, ok := s.cfg.RoleMap.Role(groups)
	if !ok {
		if err := s.st.RefuseSignIn(ctx, id, "no role mapped to "+s.cfg.RoleClaim+" "+strings.Join(groups, ",")); err != nil {
			return store.User{}, "", "", err
		}
		have := "none"
		if len(groups) > 0 {
			have = strings.Join(groups, ", ")
		}
		return store.User{}, "", "", &refusal{http.StatusForbidden, "You have no access to drg",
			fmt.Sprintf("You signed in as %s, but none of your %s (%s) is given a drg role. Access is granted by group: ask your administrator "+
				"to add you to one of the groups %s, or to map your group to a role (drg serve --oidc-role-map).",
				id.Name, s.cfg.RoleClaim, have, strings.Join(groupNames(s.cfg.RoleMap), ", "))}
	}
	u, secret, err := s.st.SignIn(ctx, id, role, "oidc", s.srv.SessionPolicy())
	if errors.Is(err, store.ErrUnauthenticated) {
		return store.User{}, "", "", &refusal{http.StatusForbidden, "Your drg account is disabled",
			"An administrator disabled your account in drg. Ask them to enable it (Admin page or PATCH /v1/users/{id})."}
	}
	if err != nil {
		return store.User{}, "", "", err
	}
	return u, secret, login.Next, nil
}

func groupNames(m RoleMap) []string {
	out := make([]string, len(m))
	for i, e := range m {
		out[i] = e.Group
	}
	return out
}

// tokenProblem says in plain words why go-oidc rejected an ID token.
func tokenProblem(err error) string {
	var exp *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &exp):
		return fmt.Sprintf("It expired at %s (check the clocks of this server and of the identity provider).", exp.Expiry.UTC().Format(time.RFC3339))
	case strings.Contains(msg, "expected audience"):
		return "It was issued for another application (audience), not for this drg client id."
	case strings.Contains(msg, "different provider"):
		return "It was issued by another identity provider (issuer)."
	case strings.Contains(msg, "signature"):
		return "Its signature does not verify against the identity provider's keys (a forged or altered token)."
	}
	return "It failed verification: " + msg
}

// userName is the name of a new user: preferred_username, email, name, else the subject.
func userName(claims map[string]any, subject string) string {
	for _, k := range []string{"preferred_username", "email", "name"} {
		if v, ok := claims[k].(string); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return subject
}
