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
	// Version is the row version (the ETag of the user): every change raises it.
	Version int `json:"version"`
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
	return User{ID: r.ID, Name: r.Name, Role: Role(r.Role), Disabled: r.Disabled, CreatedAt: r.CreatedAt, Version: max(r.Version, 1)}
}

// TokenOptions are the settings of a new API token.
type TokenOptions struct {
	// ExpiresAt ends the token's validity (zero: it never expires).
	ExpiresAt time.Time
}

func (o TokenOptions) expires() (*time.Time, error) {
	if o.ExpiresAt.IsZero() {
		return nil, nil
	}
	t := o.ExpiresAt.UTC().Truncate(time.Microsecond)
	if !t.After(now()) {
		return nil, fmt.Errorf("%w: the token expiry %s is in the past", ErrInvalid, t.Format(time.RFC3339))
	}
	return &t, nil
}

// tokenOpts returns the last of opts (the zero options when none).
func tokenOpts(opts []TokenOptions) TokenOptions {
	if len(opts) == 0 {
		return TokenOptions{}
	}
	return opts[len(opts)-1]
}

// Token describes a stored API token without its secret.
type Token struct {
	ID     int64 `json:"id"`
	UserID int64 `json:"user_id"`
	// HashPrefix is the first 8 hex digits of the token's SHA-256, as recorded in the audit
	// log when it was issued; the secret itself is never stored.
	HashPrefix string     `json:"hash_prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	Expired    bool       `json:"expired"`
}

func (r *tokenRow) token(t time.Time) Token {
	out := Token{ID: r.ID, UserID: r.UserID, HashPrefix: r.Hash[:min(8, len(r.Hash))], CreatedAt: r.CreatedAt.UTC()}
	if r.ExpiresAt != nil {
		e := r.ExpiresAt.UTC()
		out.ExpiresAt = &e
		out.Expired = !t.Before(e)
	}
	return out
}

// ListTokens returns the API tokens of a user (every user when userID is 0), by id, without
// their secrets.
func (s *Store) ListTokens(ctx context.Context, userID int64) ([]Token, error) {
	q := s.r.WithContext(ctx).Order("id")
	if userID != 0 {
		if _, err := s.GetUser(ctx, userID); err != nil {
			return nil, err
		}
		q = q.Where("user_id = ?", userID)
	}
	var rows []tokenRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	t := now()
	out := make([]Token, len(rows))
	for i := range rows {
		out[i] = rows[i].token(t)
	}
	return out, nil
}

// CreateUser adds a user with one new API token and returns both; the token is not stored
// and cannot be shown again. A taken name is ErrConflict.
//
// opts (at most one) may give the token an expiry.
func (s *Store) CreateUser(ctx context.Context, actor Actor, name string, role Role, opts ...TokenOptions) (User, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return User{}, "", fmt.Errorf("%w: user name must be 1 to 200 characters", ErrInvalid)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return User{}, "", err
	}
	exp, err := tokenOpts(opts).expires()
	if err != nil {
		return User{}, "", err
	}
	token, hash, err := NewToken()
	if err != nil {
		return User{}, "", err
	}
	var u User
	err = s.Tx(ctx, func(tx *Tx) error {
		row := userRow{Name: name, Role: string(role), Version: 1}
		if err := tx.db.Create(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return fmt.Errorf("%w: a user named %q exists", ErrConflict, name)
			}
			return fmt.Errorf("create user: %w", err)
		}
		if err := tx.db.Create(&tokenRow{UserID: row.ID, Hash: hash, ExpiresAt: exp}).Error; err != nil {
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

// IssueToken adds a new API token to a user (existing tokens stay valid) and returns it with
// the user (its version raised). ifVersion, when not 0, must be the user's current version
// (else ErrVersionMismatch); opts (at most one) may give the token an expiry.
func (s *Store) IssueToken(ctx context.Context, actor Actor, userID int64, ifVersion int, opts ...TokenOptions) (User, string, error) {
	exp, err := tokenOpts(opts).expires()
	if err != nil {
		return User{}, "", err
	}
	token, hash, err := NewToken()
	if err != nil {
		return User{}, "", err
	}
	var u User
	err = s.Tx(ctx, func(tx *Tx) error {
		row, err := tx.lockUser(userID, ifVersion)
		if err != nil {
			return err
		}
		if err := tx.bumpUser(&row); err != nil {
			return err
		}
		if err := tx.db.Create(&tokenRow{UserID: userID, Hash: hash, ExpiresAt: exp}).Error; err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		u = row.user()
		after := map[string]any{"token_hash_prefix": hash[:8]}
		if exp != nil {
			after["expires_at"] = exp
		}
		return tx.Audit(actor, "user", fmt.Sprint(userID), "issue_token", nil, after)
	})
	if err != nil {
		return User{}, "", err
	}
	return u, token, nil
}

// RevokeToken deletes one API token of a user (its id as ListTokens gives it) and returns the
// user (its version raised); ifVersion as for IssueToken.
func (s *Store) RevokeToken(ctx context.Context, actor Actor, userID, tokenID int64, ifVersion int) (User, error) {
	var u User
	err := s.Tx(ctx, func(tx *Tx) error {
		row, err := tx.lockUser(userID, ifVersion)
		if err != nil {
			return err
		}
		var tok tokenRow
		if err := tx.db.Where("id = ? AND user_id = ?", tokenID, userID).Take(&tok).Error; err != nil {
			return notFound(err, "token")
		}
		if err := tx.db.Delete(&tokenRow{}, tok.ID).Error; err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		if err := tx.bumpUser(&row); err != nil {
			return err
		}
		u = row.user()
		return tx.Audit(actor, "user", fmt.Sprint(userID), "revoke_token", map[string]string{"token_hash_prefix": tok.Hash[:8]}, nil)
	})
	if err == nil {
		s.tokens.clear()
	}
	return u, err
}

// lockUser reads a user for a change (locked until the transaction ends) and checks its
// version when ifVersion is not 0.
func (tx *Tx) lockUser(id int64, ifVersion int) (userRow, error) {
	var row userRow
	if err := tx.forUpdate().First(&row, id).Error; err != nil {
		return row, notFound(err, "user")
	}
	if ifVersion != 0 && max(row.Version, 1) != ifVersion {
		return row, fmt.Errorf("%w: user is at version %d, not %d", ErrVersionMismatch, max(row.Version, 1), ifVersion)
	}
	return row, nil
}

// bumpUser raises a user's version (and updated_at).
func (tx *Tx) bumpUser(row *userRow) error {
	row.Version = max(row.Version, 1) + 1
	row.UpdatedAt = now()
	if err := tx.db.Model(&userRow{}).Where("id = ?", row.ID).
		Updates(map[string]any{"version": row.Version, "updated_at": row.UpdatedAt}).Error; err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	return nil
}

// UserChange is a change to a user; nil fields are left as they are.
type UserChange struct {
	Role     *Role
	Disabled *bool
	// RevokeTokens deletes every token of the user.
	RevokeTokens bool
	// IfVersion, when not 0, must be the user's current version (else ErrVersionMismatch).
	IfVersion int
}

// UpdateUser changes a user's role or disabled flag, or revokes its tokens.
func (s *Store) UpdateUser(ctx context.Context, actor Actor, id int64, ch UserChange) (User, error) {
	var u User
	err := s.Tx(ctx, func(tx *Tx) error {
		var admins []int64
		if ch.Role != nil || ch.Disabled != nil {
			var err error
			if admins, err = tx.lockEnabledAdmins(); err != nil {
				return err
			}
		}
		row, err := tx.lockUser(id, ch.IfVersion)
		if err != nil {
			return err
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
		if enabledAdmin(before) && !enabledAdmin(row.user()) && len(admins) <= 1 {
			return ErrLastAdmin
		}
		row.Version = max(row.Version, 1) + 1
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

// ErrLastAdmin refuses a change that would leave no enabled admin: nobody could then manage
// users, grants or the audit log through the service.
var ErrLastAdmin = fmt.Errorf("%w: the last enabled admin cannot be demoted or disabled (at least one enabled admin must remain): make another user admin first", ErrConflict)

func enabledAdmin(u User) bool { return u.Role == RoleAdmin && !u.Disabled }

// lockEnabledAdmins returns the ids of the enabled admins, locked until the transaction ends
// (in id order, so that concurrent changes cannot deadlock): two admins demoting each other
// at once cannot both see the other as the admin that remains.
func (tx *Tx) lockEnabledAdmins() ([]int64, error) {
	var ids []int64
	err := tx.forUpdate().Model(&userRow{}).Where("role = ? AND disabled = ?", string(RoleAdmin), false).Order("id").Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("read admins: %w", err)
	}
	return ids, nil
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

// Authenticate returns the enabled user holding token, or ErrUnauthenticated (also when the
// token has expired). Successful look-ups are cached for tokenCacheTTL at most (user changes
// made through this Store clear the cache at once; other instances sharing the database see a
// revoked token, a disabled or demoted user within tokenCacheTTL) and never past the token's
// expiry.
func (s *Store) Authenticate(ctx context.Context, token string) (User, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 100 {
		return User{}, ErrUnauthenticated
	}
	hash := HashToken(token)
	if u, ok := s.tokens.get(hash); ok {
		return u, nil
	}
	var row authRow
	err := s.r.WithContext(ctx).Table("users").
		Select("users.id, users.name, users.role, users.disabled, users.version, users.created_at, api_tokens.expires_at AS token_expires_at").
		Joins("JOIN api_tokens ON api_tokens.user_id = users.id").
		Where("api_tokens.hash = ?", hash).
		Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return User{}, ErrUnauthenticated
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	t := time.Now()
	if row.Disabled || (row.TokenExpiresAt != nil && !t.Before(*row.TokenExpiresAt)) {
		return User{}, ErrUnauthenticated
	}
	u := User{ID: row.ID, Name: row.Name, Role: Role(row.Role), Disabled: row.Disabled, CreatedAt: row.CreatedAt, Version: max(row.Version, 1)}
	exp := t.Add(tokenCacheTTL)
	if row.TokenExpiresAt != nil && row.TokenExpiresAt.Before(exp) {
		exp = *row.TokenExpiresAt
	}
	s.tokens.put(hash, u, exp)
	return u, nil
}

// authRow is a user with the expiry of the token it authenticated with.
type authRow struct {
	ID             int64
	Name           string
	Role           string
	Disabled       bool
	Version        int
	CreatedAt      time.Time
	TokenExpiresAt *time.Time
}

// tokenCacheTTL bounds how long a revoked token, a disabled or demoted user can still be
// accepted by another instance sharing the database: each instance checks a token against the
// database at least this often (one indexed look-up per token and period).
const tokenCacheTTL = 500 * time.Millisecond

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

func (c *tokenCache) put(hash string, u User, expires time.Time) {
	c.mu.Lock()
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[hash] = cachedUser{u: u, expires: expires}
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
