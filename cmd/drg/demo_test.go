package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/store"
)

// TestDemo: drg demo loads the demo facility into an empty SQLite database — discharges over
// 18 months, most finalized, the most recent left for the coders, stays in house, CDI reviews
// and queries in every state — prints one token per role, and refuses to load it twice.
func TestDemo(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "demo.db")
	st, out, errs := drg(t, "", "demo", "--db", db, "--data", dataDir(t), "--discharges", "60", "--in-house", "10")
	if st != 0 {
		t.Fatalf("exit %d: %s", st, errs)
	}
	for _, r := range store.Roles {
		if !strings.Contains(out, "  "+string(r)+" ") {
			t.Errorf("no token line for %s:\n%s", r, out)
		}
	}
	s, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	count := func(f store.EncounterFilter) int64 {
		n, err := s.CountEncounters(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(store.EncounterFilter{}); n != 70 {
		t.Errorf("%d encounters, want 70", n)
	}
	if n := count(store.EncounterFilter{Status: store.StatusOpen}); n != 10 {
		t.Errorf("%d in house, want 10", n)
	}
	final, discharged := count(store.EncounterFilter{Status: store.StatusFinal}), count(store.EncounterFilter{Status: store.StatusDischarged})
	if final < 40 || discharged < 6 || final+discharged != 60 {
		t.Errorf("%d final, %d discharged not final: want most of the 60 final and at least the latest 6 left to code", final, discharged)
	}
	// 18 months of discharges.
	first, _, _ := s.ListEncounters(ctx, store.EncounterFilter{DischargedTo: mustDate(t, "2025-04-30")}, 1000, "")
	last, _, _ := s.ListEncounters(ctx, store.EncounterFilter{DischargedFrom: mustDate(t, "2026-09-01")}, 1000, "")
	if len(first) == 0 || len(last) == 0 {
		t.Errorf("discharges do not span 18 months: %d in April 2025, %d in September 2026", len(first), len(last))
	}
	qs, _, err := s.ListQueries(ctx, store.QueryFilter{}, 1000, "")
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for _, q := range qs {
		states[q.State]++
	}
	for _, want := range []string{cdi.StateDraft, cdi.StateSent, cdi.StateAnswered, cdi.StateEscalated, cdi.StateClosed} {
		if states[want] == 0 {
			t.Errorf("no query %s: %v", want, states)
		}
	}
	if st, _, errs := drg(t, "", "demo", "--db", db, "--data", dataDir(t), "--discharges", "10", "--in-house", "0"); st != 1 || !strings.Contains(errs, "already holds the demo facility") {
		t.Errorf("second load: exit %d: %s", st, errs)
	}
}

func mustDate(t *testing.T, s string) claim.Date {
	t.Helper()
	d, err := claim.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
