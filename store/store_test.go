package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/internal/pgtest"
)

// eachDB runs fn against a fresh SQLite file and, when DRG_TEST_POSTGRES holds a PostgreSQL
// URL, against a fresh schema of that database.
func eachDB(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, openSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, openPostgres(t))
	})
}

func openSQLite(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "drg.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openPostgres opens a store on a new schema of the database named by DRG_TEST_POSTGRES,
// dropped when the test ends; it skips the test when the variable is unset.
func openPostgres(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), pgtest.Schema(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var ctx = context.Background()

func intp(n int) *int { return &n }

func sampleEncounter(account string) *Encounter {
	return &Encounter{
		Account: account, Facility: "MAIN", Age: intp(70), Sex: "M", DischargeStatus: intp(1),
		AdmitDate: claim.Date{Year: 2026, Month: 4, Day: 27}, DischargeDate: claim.Date{Year: 2026, Month: 5, Day: 1},
		Payer: "MEDICARE", ServiceLine: "CARDIOLOGY", Unit: "4W",
		AttendingProvider: &claim.Provider{ID: "P123", Name: "Dr. Example"},
		Codes: Codes{
			PDX:        &Code{Code: "I5023", POA: "Y", Source: SourceCoder},
			SDX:        []Code{{Code: "J9601", POA: "Y", Source: SourceCDI}, {Code: "E119", POA: "Y", Source: SourceCoder}},
			Procedures: []Code{{Code: "02703DZ", Source: SourceCoder, Date: &claim.Date{Year: 2026, Month: 4, Day: 28}}},
		},
		Evidence: []claim.Evidence{{Kind: claim.KindLab, Name: "Creatinine", Value: claim.Number(1.6), Unit: "mg/dL"}},
	}
}

func TestOpenRejectsBadDSN(t *testing.T) {
	for _, dsn := range []string{"mysql://x", "sqlite:", "file.db"} {
		if _, err := Open(ctx, dsn, Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

func TestSQLitePragmas(t *testing.T) {
	s := openSQLite(t)
	var mode string
	if err := s.w.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil || mode != "wal" {
		t.Errorf("journal_mode %q (%v), want wal", mode, err)
	}
	var sync int
	s.w.Raw("PRAGMA synchronous").Scan(&sync)
	if sync != 2 {
		t.Errorf("synchronous %d, want 2 (FULL)", sync)
	}
	var timeout int
	s.r.Raw("PRAGMA busy_timeout").Scan(&timeout)
	if timeout < 5000 {
		t.Errorf("busy_timeout %d on the read pool", timeout)
	}
	if err := s.r.Exec("CREATE TABLE x (a int)").Error; err == nil {
		t.Error("the read pool accepted a write")
	}
	if got, err := s.IntegrityCheck(ctx); err != nil || got != "ok" {
		t.Errorf("integrity_check %q, %v", got, err)
	}
}

func TestUsersAndTokens(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		u, tok, err := s.CreateUser(ctx, CLIActor, "ana", RoleCoder)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok, "drg_") || len(tok) != 4+43 {
			t.Errorf("token %q", tok)
		}
		got, err := s.Authenticate(ctx, tok)
		if err != nil || got.ID != u.ID || got.Role != RoleCoder || got.Name != "ana" {
			t.Fatalf("Authenticate = %+v, %v", got, err)
		}
		// The database holds only the hash.
		var rows []tokenRow
		s.r.Find(&rows)
		if len(rows) != 1 || rows[0].Hash != HashToken(tok) || strings.Contains(rows[0].Hash, tok[4:]) {
			t.Errorf("token rows %+v", rows)
		}
		for _, bad := range []string{"", "drg_x", tok + "x", strings.ToUpper(tok)} {
			if _, err := s.Authenticate(ctx, bad); !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("Authenticate(%q) = %v", bad, err)
			}
		}
		if _, _, err := s.CreateUser(ctx, CLIActor, "ana", RoleCDI); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate name: %v", err)
		}
		if _, _, err := s.CreateUser(ctx, CLIActor, "bob", Role("boss")); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad role: %v", err)
		}
		_, tok2, err := s.IssueToken(ctx, CLIActor, u.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, tok2); err != nil {
			t.Error(err)
		}
		yes := true
		if _, err := s.UpdateUser(ctx, CLIActor, u.ID, UserChange{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("disabled user authenticated: %v", err)
		}
		no := false
		role := RoleCDI
		if _, err := s.UpdateUser(ctx, CLIActor, u.ID, UserChange{Disabled: &no, Role: &role}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Authenticate(ctx, tok); err != nil || got.Role != RoleCDI {
			t.Errorf("after role change: %+v, %v", got, err)
		}
		if _, err := s.UpdateUser(ctx, CLIActor, u.ID, UserChange{RevokeTokens: true}); err != nil {
			t.Fatal(err)
		}
		for _, tk := range []string{tok, tok2} {
			if _, err := s.Authenticate(ctx, tk); !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("revoked token accepted: %v", err)
			}
		}
		if _, err := s.UpdateUser(ctx, CLIActor, 999, UserChange{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown user: %v", err)
		}
		users, err := s.ListUsers(ctx)
		if err != nil || len(users) != 1 {
			t.Errorf("ListUsers = %v, %v", users, err)
		}
		audit, _, _ := s.ListAudit(ctx, AuditFilter{Entity: "user"}, 0, "")
		var actions []string
		for _, a := range audit {
			actions = append(actions, a.Action)
		}
		if got := strings.Join(actions, ","); got != "create,issue_token,update,update,revoke_tokens" {
			t.Errorf("user audit actions %s", got)
		}
	})
}

func TestEncounterLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		actor := Actor{UserID: 7, Name: "ana", Role: RoleCoder}
		in := sampleEncounter("ACCT-1")
		e, err := s.CreateEncounter(ctx, actor, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.ID) != 26 || e.Status != StatusDischarged || e.RowVersion != 1 {
			t.Errorf("created %s status %s row version %d", e.ID, e.Status, e.RowVersion)
		}
		got, err := s.GetEncounter(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		gb, _ := json.Marshal(got)
		eb, _ := json.Marshal(e)
		if string(gb) != string(eb) {
			t.Errorf("read back differs:\n got %s\nwant %s", gb, eb)
		}
		if _, err := s.CreateEncounter(ctx, actor, sampleEncounter("ACCT-1")); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate account: %v", err)
		}
		other := sampleEncounter("ACCT-1")
		other.Facility = "EAST"
		if _, err := s.CreateEncounter(ctx, actor, other); err != nil {
			t.Errorf("same account at another facility: %v", err)
		}
		if _, err := s.GetEncounter(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown id: %v", err)
		}

		// Optimistic concurrency.
		if _, err := s.UpdateEncounter(ctx, actor, e.ID, 5, "update", func(*Encounter) error { return nil }); !errors.Is(err, ErrVersionMismatch) {
			t.Errorf("stale row version: %v", err)
		}
		// A failing change leaves everything as it was, audit included.
		boom := errors.New("boom")
		if _, err := s.UpdateEncounter(ctx, actor, e.ID, 0, "update", func(x *Encounter) error {
			x.Unit = "ICU"
			return boom
		}); !errors.Is(err, boom) {
			t.Errorf("aborted change: %v", err)
		}
		u, err := s.UpdateEncounter(ctx, actor, e.ID, 1, "update", func(x *Encounter) error {
			x.Unit = "5E"
			x.SDX = append(x.SDX, Code{Code: "N179", POA: "N", Source: SourceQuery})
			x.WorkingDRG = &DRG{DRG: 291, MDC: 5, Type: "MEDICAL", Severity: "MCC", Version: 431, Weight: 1.2}
			x.BaselineDRG = x.WorkingDRG
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if u.Unit != "5E" || len(u.SDX) != 3 || u.SDX[2].Source != SourceQuery || u.RowVersion != 2 || u.WorkingDRG.DRG != 291 {
			t.Errorf("updated %+v", u)
		}
		// Final codes are kept apart from the working codes.
		f, err := s.UpdateEncounter(ctx, actor, e.ID, 0, "finalize", func(x *Encounter) error {
			fc := x.Codes
			fc.SDX = fc.SDX[:1]
			x.FinalCodes = &fc
			x.FinalDRG = &DRG{DRG: 292, MDC: 5, Version: 431}
			x.Status = StatusFinal
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if f.Status != StatusFinal || f.FinalCodes == nil || len(f.FinalCodes.SDX) != 1 || len(f.SDX) != 3 || f.FinalDRG.DRG != 292 {
			t.Errorf("finalized %+v", f)
		}

		audit, _, err := s.ListAudit(ctx, AuditFilter{Entity: "encounter", EntityID: e.ID}, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(audit) != 3 || audit[0].Action != "create" || audit[1].Action != "update" || audit[2].Action != "finalize" {
			t.Fatalf("audit %+v", audit)
		}
		if audit[1].ActorName != "ana" || audit[1].ActorID != 7 || audit[1].ActorRole != RoleCoder {
			t.Errorf("actor %+v", audit[1])
		}
		var before, after map[string]json.RawMessage
		json.Unmarshal(audit[1].Before, &before)
		json.Unmarshal(audit[1].After, &after)
		if string(before["unit"]) != `"4W"` || string(after["unit"]) != `"5E"` || before["account"] != nil || after["row_version"] != nil {
			t.Errorf("diff before %s after %s", audit[1].Before, audit[1].After)
		}
		if _, ok := after["working_drg"]; !ok {
			t.Errorf("diff after lacks working_drg: %s", audit[1].After)
		}
	})
}

func TestAuditIsAppendOnly(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		if _, err := s.CreateEncounter(ctx, CLIActor, sampleEncounter("A")); err != nil {
			t.Fatal(err)
		}
		if err := s.w.Exec("UPDATE audit_log SET action = 'x'").Error; err == nil {
			t.Error("UPDATE of the audit log succeeded")
		}
		if err := s.w.Exec("DELETE FROM audit_log").Error; err == nil {
			t.Error("DELETE from the audit log succeeded")
		}
		rows, _, _ := s.ListAudit(ctx, AuditFilter{}, 0, "")
		if len(rows) != 1 || rows[0].Action != "create" {
			t.Errorf("audit rows %+v", rows)
		}
	})
}

func TestListEncountersFiltersAndPages(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		var ids []string
		for i := range 23 {
			e := sampleEncounter(fmt.Sprintf("ACCT-%02d", i))
			e.Unit = []string{"4W", "5E", "ICU"}[i%3]
			e.DischargeDate = claim.Date{Year: 2026, Month: 5, Day: 1 + i}
			if i == 22 {
				e.DischargeDate = claim.Date{}
			}
			c, err := s.CreateEncounter(ctx, CLIActor, e)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		if _, err := s.UpdateEncounter(ctx, CLIActor, ids[3], 0, "group", func(x *Encounter) error {
			x.WorkingDRG = &DRG{DRG: 291}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var all []string
		cursor := ""
		for pages := 0; ; pages++ {
			page, next, err := s.ListEncounters(ctx, EncounterFilter{}, 10, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				all = append(all, e.ID)
			}
			if next == "" {
				if pages != 2 {
					t.Errorf("%d pages", pages+1)
				}
				break
			}
			cursor = next
		}
		if strings.Join(all, ",") != strings.Join(ids, ",") {
			t.Errorf("pages hold %d ids in another order", len(all))
		}
		tests := []struct {
			name string
			f    EncounterFilter
			want int
		}{
			{"unit", EncounterFilter{Unit: "ICU"}, 7},
			{"status open", EncounterFilter{Status: StatusOpen}, 1},
			{"status discharged", EncounterFilter{Status: StatusDischarged}, 22},
			{"discharge range", EncounterFilter{DischargedFrom: claim.Date{Year: 2026, Month: 5, Day: 3}, DischargedTo: claim.Date{Year: 2026, Month: 5, Day: 7}}, 5},
			{"drg", EncounterFilter{DRG: 291}, 1},
			{"payer and unit", EncounterFilter{Payer: "MEDICARE", Unit: "5E"}, 8},
			{"attending", EncounterFilter{Attending: "P999"}, 0},
		}
		for _, tc := range tests {
			got, _, err := s.ListEncounters(ctx, tc.f, 100, "")
			if err != nil || len(got) != tc.want {
				t.Errorf("%s: %d encounters (%v), want %d", tc.name, len(got), err, tc.want)
			}
		}
		if _, _, err := s.ListEncounters(ctx, EncounterFilter{}, 10, "!!"); !errors.Is(err, ErrBadCursor) {
			t.Errorf("bad cursor: %v", err)
		}
	})
}

// TestConcurrentWrites: concurrent transactions queue on the single SQLite writer instead of
// failing with SQLITE_BUSY.
func TestConcurrentWrites(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		var wg sync.WaitGroup
		errs := make(chan error, 8*40)
		for w := range 8 {
			wg.Go(func() {
				for i := range 40 {
					e, err := s.CreateEncounter(ctx, CLIActor, sampleEncounter(fmt.Sprintf("W%d-%d", w, i)))
					if err != nil {
						errs <- err
						continue
					}
					if _, err := s.UpdateEncounter(ctx, CLIActor, e.ID, 0, "update", func(x *Encounter) error {
						x.Unit = "ICU"
						return nil
					}); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		got, _, _ := s.ListEncounters(ctx, EncounterFilter{Unit: "ICU"}, 1000, "")
		if len(got) != 320 {
			t.Errorf("%d encounters, want 320", len(got))
		}
	})
}

func TestFillSources(t *testing.T) {
	prev := Codes{PDX: &Code{Code: "I5023", Source: SourceCoder}, SDX: []Code{{Code: "N179", Source: SourceCDI}}}
	next := Codes{PDX: &Code{Code: "I5023"}, SDX: []Code{{Code: "N179"}, {Code: "E119"}, {Code: "E871", Source: SourceQuery}}}
	next.FillSources(prev, SourceCoder)
	got := []string{next.PDX.Source, next.SDX[0].Source, next.SDX[1].Source, next.SDX[2].Source}
	if strings.Join(got, ",") != "coder,cdi,coder,query" {
		t.Errorf("sources %v", got)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for range 1000 {
		id := NewID()
		if len(id) != 26 || seen[id] {
			t.Fatalf("id %q repeated or malformed", id)
		}
		seen[id] = true
		if id <= prev {
			t.Errorf("ids not increasing: %s after %s", id, prev)
		}
		prev = id
	}
}

func TestRedact(t *testing.T) {
	err := redact(errors.New(`cannot parse "postgres://u:secret@host/db"`))
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("password shown: %v", err)
	}
}

// TestGroupCommitIsolation: in a group, a failing transaction is rolled back alone; the
// others commit.
func TestGroupCommitIsolation(t *testing.T) {
	s := openSQLite(t)
	mk := func(account string, fail bool) *txReq {
		return &txReq{ctx: ctx, err: make(chan error, 1), fn: func(tx *Tx) error {
			e := sampleEncounter(account)
			e.ID, e.Status, e.RowVersion = NewID(), StatusDischarged, 1
			row, codes, _ := toRows(e)
			if err := tx.db.Create(row).Error; err != nil {
				return err
			}
			if err := tx.db.Create(&codes).Error; err != nil {
				return err
			}
			if fail {
				return errors.New("refused")
			}
			return tx.Audit(CLIActor, "encounter", e.ID, "create", nil, e)
		}}
	}
	panicky := &txReq{ctx: ctx, err: make(chan error, 1), fn: func(*Tx) error { panic("bug") }}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	late := mk("G-late", false)
	late.ctx = canceled
	errs := s.commits.commit([]*txReq{mk("G-1", false), mk("G-2", true), panicky, mk("G-3", false), late})
	if errs[0] != nil || errs[1] == nil || errs[2] == nil || errs[3] != nil || !errors.Is(errs[4], context.Canceled) {
		t.Fatalf("outcomes %v", errs)
	}
	var accounts []string
	s.r.Model(&encounterRow{}).Order("account").Pluck("account", &accounts)
	var codes, audits int64
	s.r.Model(&codeRow{}).Count(&codes)
	s.r.Model(&auditRow{}).Count(&audits)
	if strings.Join(accounts, ",") != "G-1,G-3" || codes != 8 || audits != 2 {
		t.Errorf("stored accounts %v, %d codes, %d audit rows", accounts, codes, audits)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateEncounter(ctx, CLIActor, sampleEncounter("after")); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
}

// BenchmarkCreateEncounter measures encounter writes with 8 concurrent writers.
func BenchmarkCreateEncounter(b *testing.B) {
	s, err := Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "drg.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n atomic.Int64
	b.SetParallelism(4) // 4 × GOMAXPROCS writers
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.CreateEncounter(ctx, CLIActor, sampleEncounter(fmt.Sprint("B", n.Add(1)))); err != nil {
				b.Error(err)
			}
		}
	})
}
