package store

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentFirstReviews: simultaneous first reviews of an encounter all succeed (no
// duplicate key on PostgreSQL), the latest review is one of them, each is audited, and a
// review of an older row version never replaces a newer one (issue 22 item 3).
func TestConcurrentFirstReviews(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		actor := Actor{Name: "spec", Role: RoleCDI}
		const encounters, writers = 4, 8
		ids := make([]string, encounters)
		for i := range ids {
			e, err := s.CreateEncounter(ctx, actor, &Encounter{Account: fmt.Sprintf("R-%d", i), Unit: "4W"})
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = e.ID
		}
		var wg sync.WaitGroup
		errs := make(chan error, encounters*writers)
		start := make(chan struct{})
		for _, id := range ids {
			for w := range writers {
				wg.Go(func() {
					<-start
					sum := json.RawMessage(fmt.Sprintf(`{"w":%d}`, w))
					errs <- s.Tx(ctx, func(tx *Tx) error {
						return tx.SaveCDIReview(actor, &CDIReview{EncounterID: id, EncounterRowVersion: 1, ReviewedAt: time.Now(), ReviewedBy: "spec",
							Summary: sum, Doc: sum}, map[string]int{"w": w})
					})
				})
			}
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent review: %v", err)
			}
		}
		for _, id := range ids {
			r, err := s.GetCDIReview(ctx, id)
			if err != nil || len(r.Summary) == 0 {
				t.Errorf("review of %s: %v", id, err)
			}
			if rows, _, err := s.ListAudit(ctx, AuditFilter{Entity: EntityCDIReview, EntityID: id}, 100, ""); err != nil || len(rows) != writers {
				t.Errorf("audit of the reviews of %s: %v, %d rows, want %d", id, err, len(rows), writers)
			}
		}
		// A late review of an older version of the encounter does not replace the newer one.
		for _, v := range []int{3, 2} {
			err := s.Tx(ctx, func(tx *Tx) error {
				doc := json.RawMessage(fmt.Sprintf(`{"v":%d}`, v))
				return tx.SaveCDIReview(actor, &CDIReview{EncounterID: ids[0], EncounterRowVersion: v, ReviewedAt: time.Now(), ReviewedBy: "spec",
					Summary: doc, Doc: doc}, nil)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if r, err := s.GetCDIReview(ctx, ids[0]); err != nil || r.EncounterRowVersion != 3 {
			t.Errorf("latest review after a stale one: %v, version %d, want 3", err, r.EncounterRowVersion)
		}
	})
}
