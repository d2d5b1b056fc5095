package store

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"
)

// asOwner runs statements on the audit log the way an owner of the table bypassing the
// append-only triggers would (SQLite: dropping them; PostgreSQL: disabling them).
func asOwner(t *testing.T, s *Store, stmts ...string) {
	t.Helper()
	err := s.w.Transaction(func(tx *gorm.DB) error {
		lift := []string{"DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete"}
		if s.dialect == DialectPostgres {
			lift = []string{"ALTER TABLE audit_log DISABLE TRIGGER USER"}
		}
		for _, q := range append(lift, stmts...) {
			if err := tx.Exec(q).Error; err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		if s.dialect == DialectPostgres {
			return tx.Exec("ALTER TABLE audit_log ENABLE TRIGGER USER").Error
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeAuditRows(t *testing.T, s *Store, n int) {
	t.Helper()
	for i := range n {
		err := s.Tx(ctx, func(tx *Tx) error {
			return tx.Audit(CLIActor, "encounter", fmt.Sprint(i), "update", map[string]int{"n": i}, map[string]int{"n": i + 1})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditChainDetectsTampering: the hash chain verifies after normal writes, and a changed
// row, a removed row and a removed tail are each found, naming the first broken row.
func TestAuditChainDetectsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stmts  []string
		broken int64
		says   string
	}{
		{"changed row", []string{`UPDATE audit_log SET "after" = '{"n":99}' WHERE id = 4`}, 4, "does not match its hash"},
		{"changed actor", []string{`UPDATE audit_log SET actor_name = 'someone' WHERE id = 2`}, 2, "does not match its hash"},
		{"removed row", []string{"DELETE FROM audit_log WHERE id = 3"}, 3, "row 3 is missing"},
		{"removed tail", []string{"DELETE FROM audit_log WHERE id >= 5"}, 5, "missing"},
		{"rehashed row", []string{`UPDATE audit_log SET "after" = '{"n":99}', hash = '` + strings.Repeat("0", 64) + `' WHERE id = 4`}, 4, "does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachDB(t, func(t *testing.T, s *Store) {
				writeAuditRows(t, s, 6)
				v, err := s.VerifyAudit(ctx)
				if err != nil || !v.OK() || v.Rows != 6 || v.LastID != 6 || len(v.HeadHash) != 64 {
					t.Fatalf("before tampering: %+v, %v", v, err)
				}
				asOwner(t, s, tc.stmts...)
				v, err = s.VerifyAudit(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if v.OK() || v.BrokenAt != tc.broken || !strings.Contains(v.Problem, tc.says) {
					t.Errorf("after tampering: %+v, want broken at %d (%s)", v, tc.broken, tc.says)
				}
			})
		})
	}
}

// TestAuditChainLinearAcrossInstances: two instances writing audit rows at once keep one
// linear chain (PostgreSQL: the counter's row lock orders them).
func TestAuditChainLinearAcrossInstances(t *testing.T) {
	twoInstances(t, func(t *testing.T, a, b *Store) {
		var wg sync.WaitGroup
		for w := range 8 {
			s := a
			if w%2 == 1 {
				s = b
			}
			wg.Go(func() {
				for i := range 15 {
					err := s.Tx(ctx, func(tx *Tx) error {
						for j := range 1 + rand.IntN(3) {
							if err := tx.Audit(CLIActor, "encounter", fmt.Sprintf("%d-%d", w, i), fmt.Sprint("step", j), nil, nil); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		v, err := b.VerifyAudit(ctx)
		if err != nil || !v.OK() || v.Rows < 120 {
			t.Fatalf("chain after concurrent writes: %+v, %v", v, err)
		}
	})
}

// TestAuditChainOfLegacyRows: rows written before the chain existed (empty hash) are chained
// when the schema is migrated, and new rows continue the chain.
func TestAuditChainOfLegacyRows(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		writeAuditRows(t, s, 3)
		asOwner(t, s, "UPDATE audit_log SET hash = ''", "UPDATE audit_sequence SET hash = ''")
		if v, _ := s.VerifyAudit(ctx); v.OK() {
			t.Fatal("unchained rows verified")
		}
		if err := s.migrate(ctx); err != nil {
			t.Fatal(err)
		}
		writeAuditRows(t, s, 2)
		if v, err := s.VerifyAudit(ctx); err != nil || !v.OK() || v.Rows != 5 {
			t.Fatalf("after migration: %+v, %v", v, err)
		}
	})
}
