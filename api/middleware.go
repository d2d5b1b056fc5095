package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/store"
)

// Keys of values the middleware stores in the gin context.
const (
	ctxRequestID = "drg.request_id"
	ctxRoute     = "drg.route" // the route's OpenAPI path: a label without identifiers
	ctxUser      = "drg.user"
	ctxLogger    = "drg.logger"
	ctxServer    = "drg.server"
)

// UserFrom returns the authenticated caller of a request (false on public routes).
func UserFrom(c *gin.Context) (store.User, bool) {
	v, ok := c.Get(ctxUser)
	if !ok {
		return store.User{}, false
	}
	u, ok := v.(store.User)
	return u, ok
}

// ActorFrom returns the caller as the actor of the changes it makes.
func ActorFrom(c *gin.Context) store.Actor {
	u, _ := UserFrom(c)
	return store.ActorOf(u)
}

// logger returns the request's logger (request id attached), made on first use.
func logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(ctxLogger); ok {
		return l.(*slog.Logger)
	}
	base := slog.Default()
	if s, ok := c.Get(ctxServer); ok {
		base = s.(*Server).log
	}
	l := base.With("request_id", c.GetString(ctxRequestID))
	c.Set(ctxLogger, l)
	return l
}

// Logger returns the request's logger: the server's, with the request id attached. Never
// log PHI with it (names, account numbers, dates of birth, codes with free text); identify
// encounters by their opaque id.
func Logger(c *gin.Context) *slog.Logger { return logger(c) }

// recovery turns a panic into a logged 500 problem; it is the outermost middleware.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler { //nolint:errorlint // sentinel value compared as net/http does
			panic(v)
		}
		s.log.Error("panic serving request", "request_id", c.GetString(ctxRequestID), "route", c.GetString(ctxRoute),
			"panic", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
		if !c.Writer.Written() {
			WriteProblem(c, http.StatusInternalServerError, KindInternal, "internal error; the request id identifies it in the server log")
		}
		c.Abort()
	}()
	c.Next()
}

// observe assigns the request id, counts the request in flight, and after it logs one line
// (method, route pattern, status, duration — never the URL, whose path or query may hold
// identifiers or search text) and records the metrics.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	id := c.GetHeader("X-Request-ID")
	if !validRequestID(id) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-ID", id)
	c.Set(ctxServer, s)
	s.metrics.inFlight.Inc()
	c.Next()
	s.metrics.inFlight.Dec()
	d := time.Since(start)
	route := c.GetString(ctxRoute)
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	s.metrics.observe(c.Request.Method, route, status, d)
	if s.quiet && status < 500 {
		return
	}
	attrs := []any{"request_id", id, "method", c.Request.Method, "route", route, "status", status,
		"ms", float64(d.Microseconds()) / 1000, "bytes", c.Writer.Size()}
	if u, ok := UserFrom(c); ok {
		attrs = append(attrs, "user_id", u.ID)
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(c.Request.Context(), level, "request", attrs...)
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// routeSetup is the first handler of every registered route: it labels the request with the
// route, bounds the body, sets the route's deadlines and gives the handler a context that ends
// with them (database work stops when the client can no longer be answered).
func (s *Server) routeSetup(r *Route) gin.HandlerFunc {
	limit := r.MaxBody
	if limit <= 0 {
		limit = s.cfg.MaxBody
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = defaultWriteTimeout
	}
	phi := phiReads[r.Method+" "+r.Path]
	return func(c *gin.Context) {
		c.Set(ctxRoute, r.Path)
		if phi != "" {
			defer s.recordRead(c, r, phi)
		}
		if c.Request.ContentLength > limit {
			WriteProblem(c, http.StatusRequestEntityTooLarge, KindTooLarge, fmt.Sprintf("request body larger than %d bytes", limit))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		if r.Timeout > 0 {
			rc := http.NewResponseController(c.Writer)
			deadline := time.Now().Add(r.Timeout)
			_ = rc.SetReadDeadline(deadline)
			_ = rc.SetWriteDeadline(deadline)
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), timeout)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// authenticate admits requests with a valid bearer token, or without an Authorization header
// the session cookie (session.go), of one of the route's roles: no or an invalid token is
// 401, a valid token of another role is 403.
func (s *Server) authenticate(r *Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		if h == "" {
			if secret, err := c.Cookie(SessionCookie); err == nil && secret != "" {
				s.authenticateSession(c, r, secret)
				return
			}
		}
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			c.Header("WWW-Authenticate", `Bearer realm="drg"`)
			WriteProblem(c, http.StatusUnauthorized, KindUnauthenticated, "an API token is required: Authorization: Bearer <token>")
			return
		}
		u, err := s.cfg.Store.Authenticate(c.Request.Context(), strings.TrimSpace(token))
		if err != nil {
			if errors.Is(err, store.ErrUnauthenticated) {
				c.Header("WWW-Authenticate", `Bearer realm="drg", error="invalid_token"`)
				WriteProblem(c, http.StatusUnauthorized, KindUnauthenticated, "the API token is not valid")
				return
			}
			WriteError(c, err)
			return
		}
		c.Set(ctxUser, u)
		s.checkRole(c, r, u)
	}
}

// checkRole answers 403 when the route does not admit the user's role.
func (s *Server) checkRole(c *gin.Context, r *Route, u store.User) {
	if !r.allows(u.Role) {
		WriteProblem(c, http.StatusForbidden, KindForbidden, fmt.Sprintf("role %s may not call %s %s", u.Role, r.Method, r.Path))
	}
}
