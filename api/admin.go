package api

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/store"
)

// UserInput is the body of POST /v1/users.
type UserInput struct {
	Name string `json:"name" binding:"required,max=200"`
	Role string `json:"role" binding:"required,oneof=coder cdi finance admin"`
	TokenExpiry
}

// TokenExpiry is the optional expiry of a new API token: a time, or a number of days from now
// (not both). Without either the token does not expire.
type TokenExpiry struct {
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	ExpiresInDays int        `json:"expires_in_days,omitempty" binding:"omitempty,min=1,max=3650"`
}

// options returns the token options, or a field error.
func (e TokenExpiry) options(now time.Time) (store.TokenOptions, *FieldError) {
	switch {
	case e.ExpiresAt != nil && e.ExpiresInDays != 0:
		return store.TokenOptions{}, &FieldError{Field: "expires_at", Message: "give expires_at or expires_in_days, not both"}
	case e.ExpiresAt != nil:
		if !e.ExpiresAt.After(now) {
			return store.TokenOptions{}, &FieldError{Field: "expires_at", Message: "must be in the future"}
		}
		return store.TokenOptions{ExpiresAt: *e.ExpiresAt}, nil
	case e.ExpiresInDays != 0:
		return store.TokenOptions{ExpiresAt: now.Add(time.Duration(e.ExpiresInDays) * 24 * time.Hour)}, nil
	}
	return store.TokenOptions{}, nil
}

// UserPatch is the body of PATCH /v1/users/{id}.
type UserPatch struct {
	Role     *string `json:"role,omitempty" binding:"omitempty,oneof=coder cdi finance admin"`
	Disabled *bool   `json:"disabled,omitempty"`
}

// NewToken is a token shown once, at creation.
type NewToken struct {
	User  store.User `json:"user"`
	Token string     `json:"token"`
}

func (s *Server) handleCreateUser(c *gin.Context) {
	var in UserInput
	if !DecodeJSON(c, &in) {
		return
	}
	opt, fe := in.options(time.Now())
	if fe != nil {
		WriteValidation(c, fe)
		return
	}
	u, tok, err := s.cfg.Store.CreateUser(c.Request.Context(), ActorFrom(c), in.Name, store.Role(in.Role), opt)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("ETag", versionTag(u.Version))
	c.JSON(http.StatusCreated, NewToken{User: u, Token: tok})
}

func (s *Server) handleGetUser(c *gin.Context) {
	id, ok := userID(c)
	if !ok {
		return
	}
	u, err := s.cfg.Store.GetUser(c.Request.Context(), id)
	if err != nil {
		WriteError(c, err)
		return
	}
	writeUser(c, u)
}

func writeUser(c *gin.Context, u store.User) {
	c.Header("ETag", versionTag(u.Version))
	c.JSON(http.StatusOK, u)
}

func (s *Server) handleListTokens(c *gin.Context) {
	id, ok := userID(c)
	if !ok {
		return
	}
	ts, err := s.cfg.Store.ListTokens(c.Request.Context(), id)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": ts, "next_cursor": ""})
}

func (s *Server) handleRevokeToken(c *gin.Context) {
	id, ok := userID(c)
	if !ok {
		return
	}
	tid, err := strconv.ParseInt(c.Param("token_id"), 10, 64)
	if err != nil || tid <= 0 {
		WriteProblem(c, http.StatusNotFound, KindNotFound, "token: not found")
		return
	}
	v, ok := requireVersion(c, "user")
	if !ok {
		return
	}
	u, err := s.cfg.Store.RevokeToken(c.Request.Context(), ActorFrom(c), id, tid, v)
	if err != nil {
		WriteError(c, err)
		return
	}
	writeUser(c, u)
}

func (s *Server) handleListUsers(c *gin.Context) {
	us, err := s.cfg.Store.ListUsers(c.Request.Context())
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": us, "next_cursor": ""})
}

func userID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		WriteProblem(c, http.StatusNotFound, KindNotFound, "user: not found")
		return 0, false
	}
	return id, true
}

func (s *Server) handlePatchUser(c *gin.Context) {
	id, ok := userID(c)
	if !ok {
		return
	}
	v, ok := requireVersion(c, "user")
	if !ok {
		return
	}
	var in UserPatch
	if !DecodeJSON(c, &in) {
		return
	}
	ch := store.UserChange{Disabled: in.Disabled, IfVersion: v}
	if in.Role != nil {
		r := store.Role(*in.Role)
		ch.Role = &r
	}
	u, err := s.cfg.Store.UpdateUser(c.Request.Context(), ActorFrom(c), id, ch)
	if err != nil {
		WriteError(c, err)
		return
	}
	writeUser(c, u)
}

func (s *Server) handleIssueToken(c *gin.Context) {
	id, ok := userID(c)
	if !ok {
		return
	}
	v, ok := requireVersion(c, "user")
	if !ok {
		return
	}
	var in TokenExpiry
	if body, ok := ReadBody(c); !ok {
		return
	} else if len(bytes.TrimSpace(body)) > 0 && !decodeStrict(c, body, &in) {
		return
	} else if !Validate(c, &in) {
		return
	}
	opt, fe := in.options(time.Now())
	if fe != nil {
		WriteValidation(c, fe)
		return
	}
	u, tok, err := s.cfg.Store.IssueToken(c.Request.Context(), ActorFrom(c), id, v, opt)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("ETag", versionTag(u.Version))
	c.JSON(http.StatusCreated, NewToken{User: u, Token: tok})
}

func (s *Server) handleRevokeTokens(c *gin.Context) {
	id, ok := userID(c)
	if !ok {
		return
	}
	v, ok := requireVersion(c, "user")
	if !ok {
		return
	}
	u, err := s.cfg.Store.UpdateUser(c.Request.Context(), ActorFrom(c), id, store.UserChange{RevokeTokens: true, IfVersion: v})
	if err != nil {
		WriteError(c, err)
		return
	}
	writeUser(c, u)
}

func (s *Server) handleMe(c *gin.Context) {
	u, _ := UserFrom(c)
	c.JSON(http.StatusOK, u)
}

// AuditQuery are the filters and paging parameters of GET /v1/audit.
type AuditQuery struct {
	Entity   string `form:"entity" binding:"max=32"`
	EntityID string `form:"entity_id" binding:"max=64"`
	ActorID  int64  `form:"actor_id" binding:"omitempty,min=1"`
	Action   string `form:"action" binding:"max=32"`
	Since    string `form:"since"`
	Until    string `form:"until"`
	Limit    int    `form:"limit" binding:"omitempty,min=1,max=1000"`
	Cursor   string `form:"cursor" binding:"max=200"`
}

func (s *Server) handleAudit(c *gin.Context) {
	var q AuditQuery
	if !bindQuery(c, &q) {
		return
	}
	f := store.AuditFilter{Entity: q.Entity, EntityID: q.EntityID, ActorID: q.ActorID, Action: q.Action}
	var errs []*FieldError
	for _, p := range []struct {
		name, val string
		dst       *time.Time
	}{{"since", q.Since, &f.Since}, {"until", q.Until, &f.Until}} {
		if p.val == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, p.val)
		if err != nil {
			if d, err2 := time.Parse(time.DateOnly, p.val); err2 == nil {
				t = d
			} else {
				errs = append(errs, &FieldError{Field: p.name, Message: "must be a timestamp (2026-05-01T14:05:00Z) or a date"})
				continue
			}
		}
		*p.dst = t
	}
	if len(errs) > 0 {
		WriteValidation(c, errs...)
		return
	}
	items, next, err := s.cfg.Store.ListAudit(c.Request.Context(), f, q.Limit, q.Cursor)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": next})
}

func (s *Server) handleHealth(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) handleReady(c *gin.Context) {
	if s.draining.Load() {
		WriteProblem(c, http.StatusServiceUnavailable, KindUnavailable, "shutting down")
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		WriteProblem(c, http.StatusServiceUnavailable, KindUnavailable, "database unavailable")
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "database": s.cfg.Store.Dialect(),
		"grouper_versions": len(s.cfg.Catalog.MSDRG.Versions)})
}

func (s *Server) handleMetrics(c *gin.Context) {
	s.metricsHandler.ServeHTTP(c.Writer, c.Request)
}

func (s *Server) handleOpenAPI(c *gin.Context) {
	c.JSON(http.StatusOK, s.OpenAPI())
}

// nowMicro is the time stamp of a stored grouping.
func nowMicro(now func() time.Time) time.Time { return now().UTC().Truncate(time.Microsecond) }
