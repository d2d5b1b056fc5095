package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AccessRecord is one read of protected health information: who read which records, when,
// through which route. The service records them in batches (RecordAccess) as audit rows of
// action read, list or export.
type AccessRecord struct {
	At       time.Time
	Actor    Actor
	Entity   string   // encounter, query, coding_audit, report, audit_log
	EntityID string   // the record read; "" for a list or report
	Action   string   // read, list, export
	Route    string   // METHOD and route pattern: GET /v1/encounters/{id}
	IDs      []string // the records a list or report showed (at most maxAccessIDs)
	Count    int      // how many records it showed
}

// maxAccessIDs bounds the record ids kept in one access row (a page holds at most 1,000).
const maxAccessIDs = 1000

// RecordAccess writes access records as audit rows in one transaction (chained like every
// audit row); the row's time is the time of the read.
func (s *Store) RecordAccess(ctx context.Context, recs []AccessRecord) error {
	if len(recs) == 0 {
		return nil
	}
	return s.Tx(ctx, func(tx *Tx) error {
		for _, r := range recs {
			detail := map[string]any{"route": r.Route}
			if len(r.IDs) > 0 {
				ids := r.IDs
				if len(ids) > maxAccessIDs {
					ids = ids[:maxAccessIDs]
				}
				detail["ids"] = ids
			}
			if r.Count > 0 || r.EntityID == "" {
				detail["count"] = r.Count
			}
			b, err := json.Marshal(detail)
			if err != nil {
				return fmt.Errorf("record access: %w", err)
			}
			if err := tx.auditAt(r.At, r.Actor, r.Entity, r.EntityID, r.Action, nil, json.RawMessage(b)); err != nil {
				return err
			}
		}
		return nil
	})
}
