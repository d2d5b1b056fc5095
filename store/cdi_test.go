package store

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/claim"
)

// step returns the query after one more lifecycle step (an audit event), as the cdi
// functions do.
func step(q cdi.Query, action string, change func(*cdi.Query)) cdi.Query {
	q.Audit = append(slices.Clone(q.Audit), cdi.AuditEvent{At: q.CreatedAt, Actor: "s1", Action: action, Version: q.Version})
	if change != nil {
		change(&q)
	}
	return q
}

func TestCDIQueryRecords(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		actor := Actor{Name: "spec", Role: RoleCDI}
		e, err := s.CreateEncounter(ctx, actor, &Encounter{Account: "Q-1", AdmitDate: claim.Date{Year: 2026, Month: 5, Day: 4}})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 5, 5, 9, 0, 0, 0, time.UTC)
		q := cdi.Query{ID: NewID(), Version: 1, EncounterID: e.ID, OpportunityID: "rule:x", Author: &cdi.Provider{ID: "spec"},
			QueryContent: cdi.QueryContent{Question: "What condition?", Channel: "written", Provider: &cdi.Provider{ID: "P1"}},
			State:        cdi.StateDraft, CreatedAt: at, Audit: []cdi.AuditEvent{{At: at, Actor: "spec", Action: "created", Version: 1}}}
		app := func(q cdi.Query) error {
			return s.Tx(ctx, func(tx *Tx) error { return tx.AppendQuery(actor, &q, "test") })
		}
		if err := app(q); err != nil {
			t.Fatal(err)
		}
		if err := app(q); !errors.Is(err, ErrConflict) {
			t.Errorf("the same step twice: %v", err)
		}
		q = step(q, "edited", func(q *cdi.Query) { q.Question = "Which condition?" })
		if err := app(q); err != nil {
			t.Fatal(err)
		}
		sent := step(q, "sent", func(q *cdi.Query) {
			q.State, q.SentAt, q.ContentHash = cdi.StateSent, at.Add(time.Hour), q.QueryContent.Hash()
		})
		if err := app(sent); err != nil {
			t.Fatal(err)
		}
		tampered := step(sent, "edited", func(q *cdi.Query) { q.Question = "Is it sepsis?" })
		if err := app(tampered); !errors.Is(err, ErrImmutable) {
			t.Errorf("content changed after sending: %v", err)
		}
		tampered.ContentHash = tampered.QueryContent.Hash()
		if err := app(tampered); !errors.Is(err, ErrImmutable) {
			t.Errorf("content changed and re-hashed after sending: %v", err)
		}
		skip := step(sent, "created", func(q *cdi.Query) { q.Version, q.Supersedes = 3, q.ID+"@v2" })
		if err := app(skip); !errors.Is(err, ErrConflict) {
			t.Errorf("version 3 after 1: %v", err)
		}
		v2 := cdi.Query(sent)
		v2.Version, v2.State, v2.ContentHash, v2.Question = 2, cdi.StateDraft, "", "Which condition, if any?"
		v2.Audit = []cdi.AuditEvent{{At: at, Actor: "spec", Action: "created", Version: 2}}
		if err := app(v2); !errors.Is(err, ErrConflict) {
			t.Errorf("version 2 without supersedes: %v", err)
		}
		v2.Supersedes = q.ID + "@v1"
		if err := app(v2); err != nil {
			t.Fatal(err)
		}
		answered := step(sent, "answered", func(q *cdi.Query) {
			q.State, q.AnsweredAt = cdi.StateAnswered, at.Add(3*time.Hour)
			q.Answer = &cdi.Answer{Outcome: cdi.OutcomeAgree, AuthenticatedBy: "P1", At: q.AnsweredAt}
		})
		if err := app(answered); err != nil { // an older version still moves on
			t.Fatal(err)
		}

		vs, err := s.QueryVersions(ctx, q.ID)
		if err != nil || len(vs) != 2 || vs[0].State != cdi.StateAnswered || vs[1].Version != 2 || vs[0].Question != "Which condition?" {
			t.Fatalf("versions %v %+v", err, vs)
		}
		if h, err := s.QueryHistory(ctx, q.ID); err != nil || len(h) != 5 {
			t.Errorf("history %v: %d records", err, len(h))
		}
		if _, err := s.QueryVersions(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown query: %v", err)
		}
		for _, c := range []struct {
			f    QueryFilter
			want int
		}{
			{QueryFilter{}, 1}, {QueryFilter{States: []string{cdi.StateDraft}}, 1}, {QueryFilter{States: []string{cdi.StateSent}}, 0},
			{QueryFilter{EncounterID: e.ID, ProviderID: "P1", AuthorID: "spec"}, 1}, {QueryFilter{ProviderID: "P2"}, 0},
			{QueryFilter{SentBefore: at.Add(2 * time.Hour)}, 1}, {QueryFilter{SentBefore: at}, 0}, {QueryFilter{Sent: true}, 1},
		} {
			l, _, err := s.ListQueries(ctx, c.f, 10, "")
			if err != nil || len(l) != c.want {
				t.Errorf("filter %+v: %v, %d queries, want %d", c.f, err, len(l), c.want)
			}
		}
		st, err := s.QueriesForStats(ctx, "", "")
		if err != nil || len(st) != 2 || st[0].State != cdi.StateDraft && st[1].State != cdi.StateDraft {
			t.Errorf("stats records %v %+v", err, st)
		}
		err = s.Tx(ctx, func(tx *Tx) error {
			id, err := tx.OpenQueryOn(e.ID, "rule:x")
			if id != q.ID {
				t.Errorf("open query %q", id)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, sql := range []string{"UPDATE cdi_query_records SET state = 'closed'", "DELETE FROM cdi_query_records"} {
			if err := s.DB().Exec(sql).Error; err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v", sql, err)
			}
		}
	})
}

func TestCDIReviewsAndWorklist(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		actor := Actor{Name: "spec", Role: RoleCDI}
		open, err := s.CreateEncounter(ctx, actor, &Encounter{Account: "W-1", Unit: "4W", Codes: Codes{PDX: &Code{Code: "J189", POA: "Y"}},
			Evidence: []claim.Evidence{{Kind: "lab", Name: "Sodium", Value: claim.Number(128)}}})
		if err != nil {
			t.Fatal(err)
		}
		final, err := s.CreateEncounter(ctx, actor, &Encounter{Account: "W-2", Unit: "4W", DischargeDate: claim.Date{Year: 2026, Month: 5, Day: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateEncounter(ctx, actor, final.ID, 0, "finalize", func(e *Encounter) error { e.Status = StatusFinal; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetCDIReview(ctx, open.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("never reviewed: %v", err)
		}
		for i, sum := range []string{`{"n":1}`, `{"n":2}`} {
			err := s.Tx(ctx, func(tx *Tx) error {
				return tx.SaveCDIReview(actor, &CDIReview{EncounterID: open.ID, EncounterRowVersion: 1, ReviewedAt: time.Now(), ReviewedBy: "spec",
					Summary: json.RawMessage(sum), Doc: json.RawMessage(`{"doc":` + sum + `}`)}, map[string]int{"n": i})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.GetCDIReview(ctx, open.ID)
		if err != nil || string(r.Summary) != `{"n":2}` || !strings.Contains(string(r.Doc), `"n":2`) {
			t.Fatalf("latest review %v %s", err, r.Summary)
		}
		items, err := s.CDIWorklist(ctx, CDIWorklistFilter{Unit: "4W"})
		if err != nil || len(items) != 1 || items[0].Encounter.ID != open.ID || items[0].Review == nil || items[0].Review.Doc != nil ||
			items[0].Encounter.Evidence != nil || items[0].Encounter.PDX == nil {
			t.Fatalf("worklist %v %+v", err, items)
		}
		if items, err := s.CDIWorklist(ctx, CDIWorklistFilter{Statuses: []Status{StatusFinal}}); err != nil || len(items) != 1 || items[0].Review != nil {
			t.Errorf("final encounters %v %d", err, len(items))
		}
		if rows, _, err := s.ListAudit(ctx, AuditFilter{Entity: EntityCDIReview, EntityID: open.ID}, 10, ""); err != nil || len(rows) != 2 {
			t.Errorf("review audit %v %d", err, len(rows))
		}
	})
}
