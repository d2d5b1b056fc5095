package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

var policy = SessionPolicy{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}

// TestSignInAndSessions: the first sign-in of an identity creates its user with the mapped
// role (never taking over a local user of the same name); later sign-ins follow the role the
// provider maps now; sessions are found by their secret only, end at sign-out, at the idle and
// the absolute limit, and with a disabled user.
func TestSignInAndSessions(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		if _, _, err := s.CreateUser(ctx, CLIActor, "alice", RoleAdmin); err != nil { // a local user named alike
			t.Fatal(err)
		}
		id := ExternalIdentity{Issuer: "https://idp.example", Subject: "sub-1", Name: "alice"}
		u, secret, err := s.SignIn(ctx, id, RoleCoder, "oidc", policy)
		if err != nil {
			t.Fatal(err)
		}
		if u.Name != "alice (2)" || u.Role != RoleCoder || !strings.HasPrefix(secret, "drgs_") {
			t.Fatalf("first sign-in: %+v %q", u, secret)
		}
		sess, err := s.SessionByID(ctx, secret, policy)
		if err != nil || sess.User.ID != u.ID || sess.User.Role != RoleCoder || sess.Method != "oidc" ||
			sess.ExpiresAt.Sub(sess.CreatedAt) != policy.Absolute {
			t.Fatalf("session: %+v %v", sess, err)
		}
		// The provider now maps the user to cdi: same user, new role, and the open session
		// reads the new role at once.
		u2, secret2, err := s.SignIn(ctx, id, RoleCDI, "oidc", policy)
		if err != nil || u2.ID != u.ID || u2.Role != RoleCDI {
			t.Fatalf("second sign-in: %+v %v", u2, err)
		}
		if sess, err := s.SessionByID(ctx, secret, policy); err != nil || sess.User.Role != RoleCDI {
			t.Errorf("first session after the role change: %+v %v", sess, err)
		}
		for _, bad := range []string{"", "drgs_nope", secret + "x", "drg_" + secret[5:], strings.Repeat("drgs_", 30)} {
			if _, err := s.SessionByID(ctx, bad, policy); !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("secret %q: %v", bad, err)
			}
		}
		// Sign-out ends that session only.
		if err := s.EndSession(ctx, secret2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByID(ctx, secret2, policy); !errors.Is(err, ErrUnauthenticated) || errors.Is(err, ErrSessionEnded) {
			t.Errorf("signed-out session: %v", err)
		}
		if err := s.EndSession(ctx, secret2); !errors.Is(err, ErrNotFound) {
			t.Errorf("second sign-out: %v", err)
		}
		// Limits: idle and absolute, found by the stored times (no waiting).
		for _, c := range []struct {
			name, column string
			age          time.Duration
			ended        bool
		}{
			{"recent use", "last_seen_at", 29 * time.Minute, false},
			{"idle", "last_seen_at", 31 * time.Minute, true},
			{"absolute", "expires_at", time.Second, true},
		} {
			_, sec, err := s.SignIn(ctx, id, RoleCDI, "oidc", policy)
			if err != nil {
				t.Fatal(err)
			}
			at := now().Add(-c.age)
			if c.column == "expires_at" {
				at = now().Add(-c.age)
			}
			if err := s.w.Model(&sessionRow{}).Where("id = ?", HashToken(sec)).Update(c.column, at).Error; err != nil {
				t.Fatal(err)
			}
			_, err = s.SessionByID(ctx, sec, policy)
			if got := errors.Is(err, ErrSessionEnded); got != c.ended || (!c.ended && err != nil) {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		// Disabled users have no session and cannot sign in.
		disabled := true
		if _, err := s.UpdateUser(ctx, CLIActor, u.ID, UserChange{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByID(ctx, secret, policy); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("session of a disabled user: %v", err)
		}
		if _, _, err := s.SignIn(ctx, id, RoleCDI, "oidc", policy); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("sign-in of a disabled user: %v", err)
		}
		// A refused sign-in (no role mapped any more) ends the user's sessions.
		enabled := false
		s.UpdateUser(ctx, CLIActor, u.ID, UserChange{Disabled: &enabled})
		_, sec, err := s.SignIn(ctx, id, RoleCDI, "oidc", policy)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RefuseSignIn(ctx, id, "no role mapped"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByID(ctx, sec, policy); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("session after a refused sign-in: %v", err)
		}
		if err := s.RefuseSignIn(ctx, ExternalIdentity{Issuer: id.Issuer, Subject: "never-seen"}, "no role mapped"); err != nil {
			t.Errorf("refusal of an unknown identity: %v", err)
		}
		entries, _, err := s.ListAudit(ctx, AuditFilter{}, 1000, "")
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, e := range entries {
			actions[e.Action]++
		}
		if actions["sign_in"] != 6 || actions["sign_out"] != 1 || actions["sign_in_refused"] != 2 {
			t.Errorf("audited actions %v", actions)
		}
		if _, _, err := s.SignIn(ctx, ExternalIdentity{Issuer: id.Issuer}, RoleCDI, "oidc", policy); !errors.Is(err, ErrInvalid) {
			t.Errorf("identity without subject: %v", err)
		}
		if _, _, err := s.SignIn(ctx, id, "boss", "oidc", policy); !errors.Is(err, ErrInvalid) {
			t.Errorf("unknown role: %v", err)
		}
	})
}

// TestLoginStateAndPurge: a sign-in in progress is used once and expires; the purge removes
// ended sessions and stale sign-ins only.
func TestLoginStateAndPurge(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		want := LoginState{Verifier: "v", Nonce: "n", Next: "#/worklist"}
		if err := s.SaveLogin(ctx, "state-1", want); err != nil {
			t.Fatal(err)
		}
		if got, err := s.TakeLogin(ctx, "state-1"); err != nil || got != want {
			t.Errorf("take: %+v %v", got, err)
		}
		if _, err := s.TakeLogin(ctx, "state-1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second take: %v", err)
		}
		if err := s.SaveLogin(ctx, "state-old", want); err != nil {
			t.Fatal(err)
		}
		s.w.Model(&loginRow{}).Where("id = ?", HashToken("state-old")).Update("created_at", now().Add(-LoginTTL-time.Second))
		if _, err := s.TakeLogin(ctx, "state-old"); !errors.Is(err, ErrNotFound) {
			t.Errorf("expired take: %v", err)
		}
		if err := s.SaveLogin(ctx, "x", LoginState{Next: strings.Repeat("a", 600)}); !errors.Is(err, ErrInvalid) {
			t.Errorf("long next: %v", err)
		}
		id := ExternalIdentity{Issuer: "https://idp.example", Subject: "s", Name: "bob"}
		_, live, _ := s.SignIn(ctx, id, RoleCoder, "oidc", policy)
		_, idle, _ := s.SignIn(ctx, id, RoleCoder, "oidc", policy)
		s.w.Model(&sessionRow{}).Where("id = ?", HashToken(idle)).Update("last_seen_at", now().Add(-time.Hour))
		s.SaveLogin(ctx, "stale", want)
		s.w.Model(&loginRow{}).Where("id = ?", HashToken("stale")).Update("created_at", now().Add(-time.Hour))
		s.SaveLogin(ctx, "fresh", want)
		n, err := s.PurgeSessions(ctx, policy)
		if err != nil || n != 3 { // the idle session, the stale and the expired sign-in
			t.Errorf("purged %d, %v", n, err)
		}
		if _, err := s.SessionByID(ctx, live, policy); err != nil {
			t.Errorf("live session purged: %v", err)
		}
		if _, err := s.TakeLogin(ctx, "fresh"); err != nil {
			t.Errorf("fresh sign-in purged: %v", err)
		}
	})
}

// TestClaimJobRun: of many concurrent claims of one period exactly one wins; each period is
// claimed once; the outcome is recorded.
func TestClaimJobRun(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		p1 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
		p2 := p1.Add(15 * time.Minute)
		for _, p := range []time.Time{p1, p2} {
			var wg sync.WaitGroup
			var mu sync.Mutex
			won := []string{}
			for i := range 8 {
				wg.Go(func() {
					ok, err := s.ClaimJobRun(ctx, "escalation", p, fmt.Sprintf("instance-%d", i))
					if err != nil {
						t.Error(err)
					}
					if ok {
						mu.Lock()
						won = append(won, fmt.Sprint(i))
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(won) != 1 {
				t.Errorf("period %s claimed by %v", p, won)
			}
		}
		if ok, err := s.ClaimJobRun(ctx, "purge", p1, "a"); !ok || err != nil { // another job, same period
			t.Errorf("other job: %v %v", ok, err)
		}
		if err := s.FinishJobRun(ctx, "escalation", p1, "escalated 2"); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishJobRun(ctx, "escalation", p1.Add(time.Hour), ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("finish of an unclaimed run: %v", err)
		}
		runs, err := s.JobRuns(ctx, "escalation", 10)
		if err != nil || len(runs) != 2 || !runs[0].Period.Equal(p1) || runs[0].Result != "escalated 2" || runs[0].FinishedAt == nil ||
			!runs[1].Period.Equal(p2) || runs[1].FinishedAt != nil || !strings.HasPrefix(runs[0].Instance, "instance-") {
			t.Errorf("runs %+v %v", runs, err)
		}
		if _, err := s.ClaimJobRun(ctx, "", p1, "a"); !errors.Is(err, ErrInvalid) {
			t.Errorf("empty job name: %v", err)
		}
	})
}
