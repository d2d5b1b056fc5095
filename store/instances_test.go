package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/msdrg-cdi/drg/internal/pgtest"
)

// TestAuditNumbersHaveNoGaps: under concurrent writers, some of whose transactions roll back
// after writing their audit row, the audit log is numbered 1…N without gap or duplicate and in
// commit order.
func TestAuditNumbersHaveNoGaps(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		errRollback := errors.New("rolled back on purpose")
		var wg sync.WaitGroup
		var mu sync.Mutex
		committed := 0
		for w := range 8 {
			wg.Go(func() {
				for i := range 15 {
					fail := i%3 == 0
					err := s.Tx(ctx, func(tx *Tx) error {
						if err := tx.Audit(CLIActor, "test", fmt.Sprintf("%d-%d", w, i), "write", nil, map[string]int{"i": i}); err != nil {
							return err
						}
						if err := tx.Audit(CLIActor, "test", fmt.Sprintf("%d-%d", w, i), "second", nil, nil); err != nil {
							return err
						}
						if fail {
							return errRollback
						}
						return nil
					})
					switch {
					case fail && !errors.Is(err, errRollback):
						t.Errorf("rolled-back transaction: %v", err)
					case !fail && err != nil:
						t.Error(err)
					case !fail:
						mu.Lock()
						committed += 2
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		entries, _, err := s.ListAudit(ctx, AuditFilter{}, 1000, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != committed {
			t.Fatalf("%d audit rows, %d committed", len(entries), committed)
		}
		for i, e := range entries {
			if e.ID != int64(i+1) {
				t.Fatalf("row %d has number %d: gap or duplicate", i+1, e.ID)
			}
			if e.Action == "second" && (i == 0 || entries[i-1].EntityID != e.EntityID) {
				t.Errorf("the rows of one transaction are not consecutive at %d", e.ID)
			}
		}
	})
}

// TestConcurrentOpenPostgres: several instances starting at once on one new PostgreSQL schema
// all migrate it without error (one at a time, under the migration lock).
func TestConcurrentOpenPostgres(t *testing.T) {
	dsn := pgtest.Schema(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := Open(context.Background(), dsn, Options{})
			if err != nil {
				t.Errorf("concurrent open: %v", err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
}
