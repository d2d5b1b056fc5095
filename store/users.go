package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// Role is what a user may do; every API route declares the roles it admits.
type Role string

// Roles.
const (
	RoleCoder   Role = "coder"   // HIM coders: code, group and finalize encounters
	RoleCDI     Role = "cdi"     // CDI specialists: review encounters, add codes, query
	RoleFinance Role = "finance" // finance: read encounters, DRGs and reports
	RoleAdmin   Role = "admin"   // administrators: users, audit log, everything else
)

// Roles lists every role.
var Roles = []Role{RoleCoder, RoleCDI, RoleFinance, RoleAdmin}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: unknown role %q: want coder, cdi, finance or admin", ErrInvalid, s)
}

// User is a person or system that calls the API.
type User struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Actor is who makes a change, as recorded in the audit log.
type Actor struct {
	UserID int64 // 0 for the command line
	Name   string
	Role   Role
}

// ActorOf returns the actor for a user.
func ActorOf(u User) Actor { return Actor{UserID: u.ID, Name: u.Name, Role: u.Role} }

// CLIActor is the actor of changes made with the drg command line on the database host.
var CLIActor = Actor{Name: "cli"}

// tokenPrefix starts every token so that leaked tokens are recognizable (secret scanners).
const tokenPrefix = "drg_"

// NewToken returns a new random API token (256 bits) and its storage hash.
func NewToken() (token, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("generate token: %w", err)
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token), nil
}

// HashToken returns the hex SHA-256 of a token: what the database stores. A 256-bit random
// token needs no salt or slow hash: it cannot be guessed from its hash.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (r *userRow) user() User {
	return User{ID: r.ID, Name: r.Name, Role: Role(r.Role), Disabled: r.Disabled, CreatedAt: r.CreatedAt}
}

// CreateUser adds a user with one new API token and returns both; the token is not stored
// and cannot be shown again. A taken name is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, actor Actor, name string, role Role) (User, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return User{}, "", fmt.Errorf("%w: user name must be 1 to 200 characters", ErrInvalid)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return User{}, "", err
	}
	token, hash, err := NewToken()
	if err != nil {
		return User{}, "", err
	}
	var u User
	err = s.Tx(ctx, func(tx *Tx) error {
		row := userRow{Name: name, Role: string(role)}
		if err := tx.db.Create(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return fmt.Errorf("%w: a user named %q exists", ErrConflict, name)
			}
			return fmt.Errorf("create user: %w", err)
		}
		if err := tx.db.Create(&tokenRow{UserID: row.ID, Hash: hash}).Error; err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		u = row.user()
		return tx.Audit(actor, "user", fmt.Sprint(u.ID), "create", nil, u)
	})
	if err != nil {
		return User{}, "", err
	}
	return u, token, nil
}

// IssueToken adds a new API token to a user (existing tokens stay valid) and returns it.
func (s *Store) IssueToken(ctx context.Context, actor Actor, userID int64) (string, error) {
	token, hash, err := NewToken()
	if err != nil {
		return "", err
	}
	err = s.Tx(ctx, func(tx *Tx) error {
		var row userRow
		if err := tx.db.First(&row, userID).Error; err != nil {
			return notFound(err, "user")
		}
		if err := tx.db.Create(&tokenRow{UserID: userID, Hash: hash}).Error; err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		return tx.Audit(actor, "user", fmt.Sprint(userID), "issue_token", nil, map[string]string{"token_hash_prefix": hash[:8]})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// UserChange is a change to a user; nil fields are left as they are.
type UserChange struct {
	Role     *Role
	Disabled *bool
	// RevokeTokens deletes every token of the user.
	RevokeTokens bool
}

// UpdateUser changes a user's role or disabled flag, or revokes its tokens.
func (s *Store) UpdateUser(ctx context.Context, actor Actor, id int64, ch UserChange) (User, error) {
	var u User
	err := s.Tx(ctx, func(tx *Tx) error {
		var row userRow
		if err := tx.forUpdate().First(&row, id).Error; err != nil {
			return notFound(err, "user")
		}
		before := row.user()
		if ch.Role != nil {
			if _, err := ParseRole(string(*ch.Role)); err != nil {
				return err
			}
			row.Role = string(*ch.Role)
		}
		if ch.Disabled != nil {
			row.Disabled = *ch.Disabled
		}
		if err := tx.db.Save(&row).Error; err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if ch.RevokeTokens {
			if err := tx.db.Where("user_id = ?", id).Delete(&tokenRow{}).Error; err != nil {
				return fmt.Errorf("revoke tokens: %w", err)
			}
		}
		u = row.user()
		action := "update"
		if ch.RevokeTokens {
			action = "revoke_tokens"
		}
		return tx.Audit(actor, "user", fmt.Sprint(id), action, before, u)
	})
	if err == nil {
		s.tokens.clear()
	}
	return u, err
}

// GetUser returns one user.
func (s *Store) GetUser(ctx context.Context, id int64) (User, error) {
	var row userRow
	if err := s.r.WithContext(ctx).First(&row, id).Error; err != nil {
		return User{}, notFound(err, "user")
	}
	return row.user(), nil
}

// ListUsers returns every user, by id.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	var rows []userRow
	if err := s.r.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]User, len(rows))
	for i := range rows {
		out[i] = rows[i].user()
	}
	return out, nil
}

// Authenticate returns the enabled user holding token, or ErrUnauthenticated. Successful
// look-ups are cached for a few seconds (user changes made through this Store clear the
// cache at once; other instances see them within tokenCacheTTL).
func (s *Store) Authenticate(ctx context.Context, token string) (User, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 100 {
		return User{}, ErrUnauthenticated
	}
	hash := HashToken(token)
	if u, ok := s.tokens.get(hash); ok {
		return u, nil
	}
	var row userRow
	err := s.r.WithContext(ctx).
		Joins("JOIN api_tokens ON api_tokens.user_id = users.id").
		Where("api_tokens.hash = ?", hash).
		Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return User{}, ErrUnauthenticated
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	if row.Disabled {
		return User{}, ErrUnauthenticated
	}
	u := row.user()
	s.tokens.put(hash, u)
	return u, nil
}

// tokenCacheTTL bounds how long a revoked token or disabled user can still be accepted by
// another instance sharing the database.
const tokenCacheTTL = 10 * time.Second

type tokenCache struct {
	mu sync.RWMutex
	m  map[string]cachedUser
}

type cachedUser struct {
	u       User
	expires time.Time
}

func newTokenCache() *tokenCache { return &tokenCache{m: map[string]cachedUser{}} }

func (c *tokenCache) get(hash string) (User, bool) {
	c.mu.RLock()
	e, ok := c.m[hash]
	c.mu.RUnlock()
	if !ok || time.Now().After(e.expires) {
		return User{}, false
	}
	return e.u, true
}

func (c *tokenCache) put(hash string, u User) {
	c.mu.Lock()
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[hash] = cachedUser{u: u, expires: time.Now().Add(tokenCacheTTL)}
	c.mu.Unlock()
}

func (c *tokenCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// notFound turns gorm's not-found error into ErrNotFound naming what was looked for.
func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("read %s: %w", what, err)
}
