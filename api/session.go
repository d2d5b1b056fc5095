package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/store"
)

// Browser sessions. The web interface signs in through single sign-on (package sso), which
// starts a session stored in the database and hands the browser its secret in a cookie
// (HttpOnly: scripts cannot read it; Secure: HTTPS only, browsers accept it on http://localhost;
// SameSite=Lax: not sent with cross-site subresource requests or form posts; __Host- prefix:
// no Domain, path /, so a sibling host cannot plant one). Every route that takes a bearer
// token also takes the cookie when no Authorization header is sent. A request with the cookie
// that changes something (any method but GET, HEAD, OPTIONS) must also carry the session's
// CSRF token in X-CSRF-Token: a page of another site can make the browser send the cookie,
// but cannot read the token (GET /auth/session gives it to the interface's own scripts).

// Names of the session cookie and of the CSRF header.
const (
	SessionCookie = "__Host-drg_session"
	CSRFHeader    = "X-CSRF-Token"
)

// Default session limits (Config.Sessions): signed out after 30 minutes without a request
// (workstation automatic log-off) and 12 hours after sign-in (a shift), whichever comes first.
const (
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 12 * time.Hour
)

const ctxSession = "drg.session" // a signedIn, when the caller used the session cookie

// signedIn is a session the request was authenticated with.
type signedIn struct {
	secret string
	sess   store.Session
}

// csrfToken is the CSRF token of a session: an HMAC of a fixed label keyed by the session
// secret, so that no instance needs to store it and only holders of the secret can make it.
func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("drg csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// SetSessionCookie hands a new session's secret to the browser, kept at most until the
// session's absolute limit.
func (s *Server) SetSessionCookie(c *gin.Context, secret string) {
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", MaxAge: int(s.cfg.Sessions.Absolute.Seconds()),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
}

func clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
}

// SessionPolicy returns the session limits of the server.
func (s *Server) SessionPolicy() store.SessionPolicy { return s.cfg.Sessions }

// authenticateSession admits a request signed in with the session cookie: an unknown or ended
// session is 401 (and the cookie is cleared), a change without the CSRF token 403.
func (s *Server) authenticateSession(c *gin.Context, r *Route, secret string) {
	sess, err := s.cfg.Store.SessionByID(c.Request.Context(), secret, s.cfg.Sessions)
	if err != nil {
		if !errors.Is(err, store.ErrUnauthenticated) {
			WriteError(c, err)
			return
		}
		clearSessionCookie(c)
		detail := "not signed in (the session is unknown or was signed out): sign in again"
		if errors.Is(err, store.ErrSessionEnded) {
			detail = "the session has ended (idle or time limit): sign in again"
		}
		c.Header("WWW-Authenticate", `Bearer realm="drg"`)
		WriteProblem(c, http.StatusUnauthorized, KindUnauthenticated, detail)
		return
	}
	c.Set(ctxUser, sess.User)
	c.Set(ctxSession, signedIn{secret, sess})
	if !safeMethod(c.Request.Method) && !hmac.Equal([]byte(c.GetHeader(CSRFHeader)), []byte(csrfToken(secret))) {
		WriteProblem(c, http.StatusForbidden, KindForbidden,
			"a change made with the session cookie must carry the session's CSRF token in "+CSRFHeader+" (GET /auth/session): reload the page")
		return
	}
	s.checkRole(c, r, sess.User)
}

// SessionInfo is the answer of GET /auth/session.
type SessionInfo struct {
	User store.User `json:"user"`
	// Method is how the caller signed in: "token" (Authorization header) or "session".
	Method string `json:"method"`
	// CSRFToken goes in X-CSRF-Token on every change made with the session cookie.
	CSRFToken   string     `json:"csrf_token,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	IdleSeconds int        `json:"idle_timeout_seconds,omitempty"`
}

// sessionOf returns the session a request was authenticated with (false: a bearer token).
func sessionOf(c *gin.Context) (signedIn, bool) {
	v, ok := c.Get(ctxSession)
	if !ok {
		return signedIn{}, false
	}
	si, ok := v.(signedIn)
	return si, ok
}

func (s *Server) handleSession(c *gin.Context) {
	u, _ := UserFrom(c)
	si, ok := sessionOf(c)
	if !ok {
		c.JSON(http.StatusOK, SessionInfo{User: u, Method: "token"})
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, SessionInfo{User: u, Method: "session", CSRFToken: csrfToken(si.secret), ExpiresAt: &si.sess.ExpiresAt,
		IdleSeconds: int(s.cfg.Sessions.Idle.Seconds())})
}

func (s *Server) handleSignOut(c *gin.Context) {
	if si, ok := sessionOf(c); ok {
		if err := s.cfg.Store.EndSession(c.Request.Context(), si.secret); err != nil && !errors.Is(err, store.ErrNotFound) {
			WriteError(c, err)
			return
		}
		clearSessionCookie(c)
	}
	c.Status(http.StatusNoContent)
}

// sessionRoutes are GET /auth/session and POST /auth/logout.
func (s *Server) sessionRoutes() []Route {
	tags := []string{"sign-in"}
	s.AddSchema("SessionInfo", obj([]string{"user", "method"}, Schema{"user": Ref("User"), "method": Schema{"enum": []string{"token", "session"}},
		"csrf_token": tString, "expires_at": tTime, "idle_timeout_seconds": tInt}))
	return []Route{
		{Method: http.MethodGet, Path: "/auth/session", Roles: AllRoles, Tags: tags, Summary: "The caller and, for a browser session, its CSRF token and limits",
			Description: "With the session cookie (" + SessionCookie + "): the user, csrf_token (send it in " + CSRFHeader + " with every change), the absolute expiry " +
				"and the idle timeout. With a bearer token: the user and method token.",
			Responses: OK("the caller", Ref("SessionInfo")), Handler: s.handleSession},
		{Method: http.MethodPost, Path: "/auth/logout", Roles: AllRoles, Tags: tags, Summary: "Sign out: end the browser session",
			Description: "Deletes the session on every instance and clears the cookie; needs " + CSRFHeader + ". With a bearer token nothing happens (tokens are revoked by admins).",
			Responses:   map[int]Response{http.StatusNoContent: {Description: "signed out"}}, Handler: s.handleSignOut},
	}
}
