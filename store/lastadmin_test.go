package store

import (
	"errors"
	"sync"
	"testing"
)

// TestLastAdminRemains: the last enabled admin cannot be demoted or disabled, by itself or by
// anyone, even when two admins demote each other at the same moment (issue 22 item 8).
func TestLastAdminRemains(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		a, _, err := s.CreateUser(ctx, CLIActor, "admin-a", RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		coder := RoleCoder
		yes, no := true, false
		for _, ch := range []UserChange{{Role: &coder}, {Disabled: &yes}, {Role: &coder, Disabled: &yes}} {
			if _, err := s.UpdateUser(ctx, ActorOf(a), a.ID, ch); !errors.Is(err, ErrLastAdmin) || !errors.Is(err, ErrConflict) {
				t.Errorf("change %+v of the last admin: %v, want ErrLastAdmin", ch, err)
			}
		}
		if u, _ := s.GetUser(ctx, a.ID); u.Role != RoleAdmin || u.Disabled {
			t.Fatalf("the last admin changed: %+v", u)
		}
		// Other changes of the last admin stay possible.
		if _, err := s.UpdateUser(ctx, ActorOf(a), a.ID, UserChange{Disabled: &no}); err != nil {
			t.Errorf("enable the enabled last admin: %v", err)
		}
		b, _, err := s.CreateUser(ctx, CLIActor, "admin-b", RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		for round := range 6 {
			// Two admins demote (or disable) each other at once: exactly one change goes through.
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, pair := range [][2]User{{a, b}, {b, a}} {
				wg.Go(func() {
					ch := UserChange{Role: &coder}
					if round%2 == 1 {
						ch = UserChange{Disabled: &yes}
					}
					_, errs[i] = s.UpdateUser(ctx, ActorOf(pair[0]), pair[1].ID, ch)
				})
			}
			wg.Wait()
			ok, last := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ErrLastAdmin):
					last++
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if ok != 1 || last != 1 {
				t.Fatalf("round %d: %d changes went through, %d refused (%v), want 1 and 1", round, ok, last, errs)
			}
			users, _ := s.ListUsers(ctx)
			admins := 0
			for _, u := range users {
				if u.Role == RoleAdmin && !u.Disabled {
					admins++
				}
			}
			if admins != 1 {
				t.Fatalf("round %d: %d enabled admins", round, admins)
			}
			// Restore both.
			admin := RoleAdmin
			for _, u := range []User{a, b} {
				if _, err := s.UpdateUser(ctx, CLIActor, u.ID, UserChange{Role: &admin, Disabled: &no}); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
