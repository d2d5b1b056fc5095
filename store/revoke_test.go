package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/internal/pgtest"
)

// twoInstances opens two stores on one database (the two instances of a deployment): a SQLite
// file, and a PostgreSQL schema when DRG_TEST_POSTGRES is set.
func twoInstances(t *testing.T, fn func(t *testing.T, a, b *Store)) {
	t.Helper()
	for _, db := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "drg.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.Schema(t) }},
	} {
		t.Run(db.name, func(t *testing.T) {
			dsn := db.dsn(t)
			var ss [2]*Store
			for i := range ss {
				s, err := Open(ctx, dsn, Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				ss[i] = s
			}
			fn(t, ss[0], ss[1])
		})
	}
}

// refusedWithin polls Authenticate on s until the token is refused, and fails the test when it
// is still accepted after limit.
func refusedWithin(t *testing.T, s *Store, token string, limit time.Duration, what string) {
	t.Helper()
	start := time.Now()
	for {
		_, err := s.Authenticate(ctx, token)
		if errors.Is(err, ErrUnauthenticated) {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if time.Since(start) > limit {
			t.Fatalf("%s: the other instance still accepts the token after %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRevocationReachesOtherInstances: a token revoked, a user disabled or demoted on one
// instance is refused (or seen with its new role) by another instance that had it cached,
// within a second.
func TestRevocationReachesOtherInstances(t *testing.T) {
	twoInstances(t, func(t *testing.T, a, b *Store) {
		u, tok, err := a.CreateUser(ctx, CLIActor, "remote", RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		// Another admin remains when this one is demoted (the last one cannot be: ErrLastAdmin).
		if _, _, err := a.CreateUser(ctx, CLIActor, "other-admin", RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Authenticate(ctx, tok); err != nil { // cached on b
			t.Fatal(err)
		}
		// Demotion.
		role := RoleFinance
		if _, err := a.UpdateUser(ctx, CLIActor, u.ID, UserChange{Role: &role}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for {
			got, err := b.Authenticate(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if got.Role == RoleFinance {
				break
			}
			if time.Since(start) > time.Second {
				t.Fatalf("the other instance still sees role %s a second after the demotion", got.Role)
			}
			time.Sleep(20 * time.Millisecond)
		}
		// Disabling.
		yes := true
		if _, err := a.UpdateUser(ctx, CLIActor, u.ID, UserChange{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		refusedWithin(t, b, tok, time.Second, "disabled user")
		no := false
		if _, err := a.UpdateUser(ctx, CLIActor, u.ID, UserChange{Disabled: &no}); err != nil {
			t.Fatal(err)
		}
		// Revocation of every token, and of one token.
		if _, err := b.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := a.UpdateUser(ctx, CLIActor, u.ID, UserChange{RevokeTokens: true}); err != nil {
			t.Fatal(err)
		}
		refusedWithin(t, b, tok, time.Second, "revoked tokens")
		_, tok2, err := a.IssueToken(ctx, CLIActor, u.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Authenticate(ctx, tok2); err != nil {
			t.Fatal(err)
		}
		ts, err := a.ListTokens(ctx, u.ID)
		if err != nil || len(ts) != 1 {
			t.Fatalf("tokens %+v, %v", ts, err)
		}
		if _, err := a.RevokeToken(ctx, CLIActor, u.ID, ts[0].ID, 0); err != nil {
			t.Fatal(err)
		}
		refusedWithin(t, b, tok2, time.Second, "revoked token")
	})
}

// TestTokenExpiry: a token with an expiry works until it, is refused after it (even from the
// cache), lists as expired, and an expiry in the past is refused.
func TestTokenExpiry(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		if _, _, err := s.CreateUser(ctx, CLIActor, "late", RoleCoder, TokenOptions{ExpiresAt: time.Now().Add(-time.Minute)}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("expiry in the past: %v", err)
		}
		u, tok, err := s.CreateUser(ctx, CLIActor, "brief", RoleCoder, TokenOptions{ExpiresAt: time.Now().Add(300 * time.Millisecond)})
		if err != nil {
			t.Fatal(err)
		}
		_, forever, err := s.IssueToken(ctx, CLIActor, u.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, tok); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
		time.Sleep(400 * time.Millisecond)
		if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("after expiry: %v", err)
		}
		if _, err := s.Authenticate(ctx, forever); err != nil {
			t.Fatalf("token without expiry: %v", err)
		}
		ts, err := s.ListTokens(ctx, u.ID)
		if err != nil || len(ts) != 2 {
			t.Fatalf("tokens %+v, %v", ts, err)
		}
		if !ts[0].Expired || ts[0].ExpiresAt == nil || ts[1].Expired || ts[1].ExpiresAt != nil || len(ts[0].HashPrefix) != 8 {
			t.Errorf("tokens %+v", ts)
		}
	})
}
