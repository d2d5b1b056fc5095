package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Browser sessions of the web interface and single sign-on (OpenID Connect) identities.
//
// A session is a random secret held by the browser in a cookie; the database keeps its
// SHA-256 only (like API tokens), with the user, the absolute expiry and the last time it was
// used (idle expiry). Every instance sharing the database accepts every session. The user's
// role and disabled flag are read with the session on each request: a change takes effect at
// once on every instance.

type sessionRow struct {
	ID         string    `gorm:"primaryKey;size:64"` // hex SHA-256 of the session secret
	UserID     int64     `gorm:"not null;index"`
	Method     string    `gorm:"size:16;not null"` // how the user signed in: "oidc"
	CreatedAt  time.Time `gorm:"not null"`
	LastSeenAt time.Time `gorm:"not null"`
	ExpiresAt  time.Time `gorm:"not null;index"`
}

// TableName names the table of web_sessions rows.
func (sessionRow) TableName() string { return "web_sessions" }

// loginRow is a sign-in in progress: between the redirect to the identity provider and its
// answer (the callback may reach another instance).
type loginRow struct {
	ID        string    `gorm:"primaryKey;size:64"` // hex SHA-256 of the OAuth state
	Verifier  string    `gorm:"size:128;not null"`  // PKCE code verifier
	Nonce     string    `gorm:"size:128;not null"`
	Next      string    `gorm:"size:512;not null;default:''"`
	CreatedAt time.Time `gorm:"not null;index"`
}

// TableName names the table of oidc_logins rows.
func (loginRow) TableName() string { return "oidc_logins" }

// identityRow links an identity of an OpenID provider (issuer, subject) to a user.
type identityRow struct {
	ID        int64     `gorm:"primaryKey"`
	Issuer    string    `gorm:"size:512;not null;uniqueIndex:ux_identity,priority:1"`
	Subject   string    `gorm:"size:255;not null;uniqueIndex:ux_identity,priority:2"`
	UserID    int64     `gorm:"not null;index"`
	CreatedAt time.Time `gorm:"not null"`
}

// TableName names the table of user_identities rows.
func (identityRow) TableName() string { return "user_identities" }

func migrateAccess(db *gorm.DB) error {
	if err := db.AutoMigrate(&sessionRow{}, &loginRow{}, &identityRow{}, &jobRunRow{}); err != nil {
		return fmt.Errorf("migrate session tables: %w", err)
	}
	return nil
}

// sessionPrefix starts every session secret.
const sessionPrefix = "drgs_"

// ErrSessionEnded is wrapped by ErrUnauthenticated errors of sessions that existed but timed
// out (idle or absolute limit), so that the interface can say so.
var ErrSessionEnded = errors.New("the session has ended")

// Session is a signed-in browser.
type Session struct {
	User       User
	Method     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute limit
}

// SessionPolicy bounds sessions: Idle without a request, Absolute since sign-in.
type SessionPolicy struct {
	Idle     time.Duration
	Absolute time.Duration
}

// sessionTouchEvery is how stale a session's last-use time may get before a request writes it
// again: a request does not cost a write each time; idle expiry is exact to this much.
const sessionTouchEvery = time.Minute

// ExternalIdentity is a user as an identity provider sees them.
type ExternalIdentity struct {
	Issuer  string // the provider (OpenID issuer URL)
	Subject string // the provider's stable id of the user
	Name    string // display / user name wanted for a new user (preferred_username, email, …)
}

// SignInActor is the actor of users created and updated by single sign-on.
var SignInActor = Actor{Name: "sso"}

// SignIn signs in a user of an identity provider with the role the provider's claims map to,
// in one transaction: the user is created on first sign-in (named after the identity, made
// unique when the name is taken), later sign-ins set the role to the mapped one (the provider
// is the source of truth for its users' roles), and a new session is started. A disabled user
// is ErrUnauthenticated. It returns the user and the session secret for the cookie.
func (s *Store) SignIn(ctx context.Context, id ExternalIdentity, role Role, method string, p SessionPolicy) (User, string, error) {
	if id.Issuer == "" || id.Subject == "" || len(id.Issuer) > 512 || len(id.Subject) > 255 {
		return User{}, "", fmt.Errorf("%w: an identity needs an issuer and a subject", ErrInvalid)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return User{}, "", err
	}
	secret, hash, err := newSessionSecret()
	if err != nil {
		return User{}, "", err
	}
	var u User
	err = s.Tx(ctx, func(tx *Tx) error {
		row, err := tx.identityUser(id, role)
		if err != nil {
			return err
		}
		if row.Disabled {
			return fmt.Errorf("%w: user %q is disabled in drg", ErrUnauthenticated, row.Name)
		}
		u = row.user()
		t := now()
		if err := tx.db.Create(&sessionRow{ID: hash, UserID: u.ID, Method: method, CreatedAt: t, LastSeenAt: t,
			ExpiresAt: t.Add(p.Absolute)}).Error; err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		return tx.Audit(ActorOf(u), "user", fmt.Sprint(u.ID), "sign_in", nil,
			map[string]string{"method": method, "issuer": id.Issuer, "session": hash[:8]})
	})
	if err != nil {
		return User{}, "", err
	}
	return u, secret, nil
}

// identityUser returns the user linked to an identity, created or given the role.
func (tx *Tx) identityUser(id ExternalIdentity, role Role) (userRow, error) {
	var link identityRow
	err := tx.db.Where("issuer = ? AND subject = ?", id.Issuer, id.Subject).Take(&link).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return userRow{}, fmt.Errorf("read identity: %w", err)
	}
	var row userRow
	if err == nil {
		if err := tx.forUpdate().First(&row, link.UserID).Error; err != nil {
			return userRow{}, notFound(err, "user of the identity")
		}
		if row.Role != string(role) {
			before := row.user()
			row.Role = string(role)
			row.Version = max(row.Version, 1) + 1
			if err := tx.db.Save(&row).Error; err != nil {
				return userRow{}, fmt.Errorf("update user role: %w", err)
			}
			if err := tx.Audit(SignInActor, "user", fmt.Sprint(row.ID), "update", before, row.user()); err != nil {
				return userRow{}, err
			}
		}
		return row, nil
	}
	name, err := tx.freeUserName(id)
	if err != nil {
		return userRow{}, err
	}
	row = userRow{Name: name, Role: string(role), Version: 1}
	if err := tx.db.Create(&row).Error; err != nil {
		return userRow{}, fmt.Errorf("create user: %w", err)
	}
	if err := tx.db.Create(&identityRow{Issuer: id.Issuer, Subject: id.Subject, UserID: row.ID}).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) { // the same person signing in twice at once
			return userRow{}, fmt.Errorf("%w: this identity was linked concurrently: sign in again", ErrConflict)
		}
		return userRow{}, fmt.Errorf("link identity: %w", err)
	}
	return row, tx.Audit(SignInActor, "user", fmt.Sprint(row.ID), "create", nil,
		map[string]any{"user": row.user(), "issuer": id.Issuer, "subject": id.Subject})
}

// freeUserName returns the identity's name, or the subject when it has none, made unique
// among users by a suffix: a provider's user never takes over an existing local user by name.
func (tx *Tx) freeUserName(id ExternalIdentity) (string, error) {
	base := strings.TrimSpace(id.Name)
	if base == "" {
		base = id.Subject
	}
	if len(base) > 180 {
		base = base[:180]
	}
	for i := 0; i < 100; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s (%d)", base, i+1)
		}
		var n int64
		if err := tx.db.Model(&userRow{}).Where("name = ?", name).Count(&n).Error; err != nil {
			return "", fmt.Errorf("read users: %w", err)
		}
		if n == 0 {
			return name, nil
		}
	}
	return "", fmt.Errorf("%w: no free user name for %q", ErrConflict, base)
}

// RefuseSignIn records a sign-in the provider accepted but drg refuses (reason: no role
// mapped, …): the identity's user, if any, loses its open sessions, and the refusal is audited.
func (s *Store) RefuseSignIn(ctx context.Context, id ExternalIdentity, reason string) error {
	return s.Tx(ctx, func(tx *Tx) error {
		var link identityRow
		entity, entityID := "identity", HashToken(id.Issuer + " " + id.Subject)[:16]
		switch err := tx.db.Where("issuer = ? AND subject = ?", id.Issuer, id.Subject).Take(&link).Error; {
		case err == nil:
			entity, entityID = "user", fmt.Sprint(link.UserID)
			if err := tx.db.Where("user_id = ?", link.UserID).Delete(&sessionRow{}).Error; err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return fmt.Errorf("read identity: %w", err)
		}
		return tx.Audit(SignInActor, entity, entityID, "sign_in_refused", nil,
			map[string]string{"issuer": id.Issuer, "subject": id.Subject, "name": id.Name, "reason": reason})
	})
}

func newSessionSecret() (secret, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("generate session: %w", err)
	}
	secret = sessionPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashToken(secret), nil
}

// SessionByID returns the session of a secret and its (enabled) user; it records the use
// (idle expiry). Unknown secrets, ended sessions and disabled users are ErrUnauthenticated;
// a session past a limit also wraps ErrSessionEnded and is deleted.
func (s *Store) SessionByID(ctx context.Context, secret string, p SessionPolicy) (Session, error) {
	if !strings.HasPrefix(secret, sessionPrefix) || len(secret) > 100 {
		return Session{}, ErrUnauthenticated
	}
	hash := HashToken(secret)
	var row sessionRow
	err := s.r.WithContext(ctx).Where("id = ?", hash).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Session{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, fmt.Errorf("read session: %w", err)
	}
	t := now()
	if !t.Before(row.ExpiresAt) || (p.Idle > 0 && t.Sub(row.LastSeenAt) >= p.Idle) {
		if err := s.Tx(ctx, func(tx *Tx) error { return tx.db.Where("id = ?", hash).Delete(&sessionRow{}).Error }); err != nil {
			return Session{}, fmt.Errorf("end session: %w", err)
		}
		return Session{}, fmt.Errorf("%w: %w", ErrUnauthenticated, ErrSessionEnded)
	}
	u, err := s.GetUser(ctx, row.UserID)
	if err != nil {
		return Session{}, err
	}
	if u.Disabled {
		return Session{}, ErrUnauthenticated
	}
	if t.Sub(row.LastSeenAt) >= sessionTouchEvery {
		err := s.Tx(ctx, func(tx *Tx) error {
			return tx.db.Model(&sessionRow{}).Where("id = ?", hash).Update("last_seen_at", t).Error
		})
		if err != nil {
			return Session{}, fmt.Errorf("record session use: %w", err)
		}
		row.LastSeenAt = t
	}
	return Session{User: u, Method: row.Method, CreatedAt: row.CreatedAt.UTC(), LastSeenAt: row.LastSeenAt.UTC(),
		ExpiresAt: row.ExpiresAt.UTC()}, nil
}

// EndSession signs a session out (deletes it) and audits it; an unknown secret is ErrNotFound.
func (s *Store) EndSession(ctx context.Context, secret string) error {
	hash := HashToken(secret)
	return s.Tx(ctx, func(tx *Tx) error {
		var row sessionRow
		if err := tx.db.Where("id = ?", hash).Take(&row).Error; err != nil {
			return notFound(err, "session")
		}
		if err := tx.db.Where("id = ?", hash).Delete(&sessionRow{}).Error; err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		var u userRow
		if err := tx.db.First(&u, row.UserID).Error; err != nil {
			return notFound(err, "user")
		}
		return tx.Audit(ActorOf(u.user()), "user", fmt.Sprint(u.ID), "sign_out", nil, map[string]string{"session": hash[:8]})
	})
}

// LoginState is a sign-in in progress, kept between the redirect to the identity provider and
// the provider's answer.
type LoginState struct {
	Verifier string // PKCE code verifier
	Nonce    string // expected nonce of the ID token
	Next     string // where the browser goes after sign-in
}

// LoginTTL bounds how long a sign-in in progress is kept.
const LoginTTL = 10 * time.Minute

// SaveLogin stores a sign-in in progress under its OAuth state value.
func (s *Store) SaveLogin(ctx context.Context, state string, l LoginState) error {
	if len(l.Verifier) > 128 || len(l.Nonce) > 128 || len(l.Next) > 512 {
		return fmt.Errorf("%w: sign-in state too long", ErrInvalid)
	}
	return s.Tx(ctx, func(tx *Tx) error {
		row := loginRow{ID: HashToken(state), Verifier: l.Verifier, Nonce: l.Nonce, Next: l.Next, CreatedAt: now()}
		if err := tx.db.Create(&row).Error; err != nil {
			return fmt.Errorf("save sign-in state: %w", err)
		}
		return nil
	})
}

// TakeLogin returns and deletes the sign-in in progress of a state value: each can be used
// once. An unknown, used or expired (LoginTTL) state is ErrNotFound.
func (s *Store) TakeLogin(ctx context.Context, state string) (LoginState, error) {
	var out LoginState
	err := s.Tx(ctx, func(tx *Tx) error {
		var row loginRow
		if err := tx.db.Where("id = ?", HashToken(state)).Take(&row).Error; err != nil {
			return notFound(err, "sign-in state")
		}
		res := tx.db.Where("id = ?", row.ID).Delete(&loginRow{})
		if res.Error != nil {
			return fmt.Errorf("delete sign-in state: %w", res.Error)
		}
		if res.RowsAffected != 1 || now().Sub(row.CreatedAt) > LoginTTL {
			return fmt.Errorf("sign-in state: %w", ErrNotFound)
		}
		out = LoginState{Verifier: row.Verifier, Nonce: row.Nonce, Next: row.Next}
		return nil
	})
	return out, err
}

// PurgeSessions deletes the sessions past their limits and the sign-ins in progress older
// than LoginTTL, and returns how many rows went.
func (s *Store) PurgeSessions(ctx context.Context, p SessionPolicy) (int64, error) {
	var n int64
	err := s.Tx(ctx, func(tx *Tx) error {
		t := now()
		q := tx.db.Where("expires_at <= ?", t)
		if p.Idle > 0 {
			q = q.Or("last_seen_at <= ?", t.Add(-p.Idle))
		}
		res := q.Delete(&sessionRow{})
		if res.Error != nil {
			return fmt.Errorf("purge sessions: %w", res.Error)
		}
		n = res.RowsAffected
		res = tx.db.Where("created_at <= ?", t.Add(-LoginTTL)).Delete(&loginRow{})
		if res.Error != nil {
			return fmt.Errorf("purge sign-in states: %w", res.Error)
		}
		n += res.RowsAffected
		return nil
	})
	return n, err
}
