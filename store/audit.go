package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// AuditEntry is one row of the append-only audit log: who changed what, when, and the values
// before and after the change.
type AuditEntry struct {
	ID        int64           `json:"id"`
	At        time.Time       `json:"at"`
	ActorID   int64           `json:"actor_id,omitempty"`
	ActorName string          `json:"actor"`
	ActorRole Role            `json:"actor_role,omitempty"`
	Entity    string          `json:"entity"` // encounter, user, …
	EntityID  string          `json:"entity_id"`
	Action    string          `json:"action"` // create, update, group, finalize, …
	Before    json.RawMessage `json:"before,omitempty"`
	After     json.RawMessage `json:"after,omitempty"`
}

// Audit appends an audit row in the transaction. before and after are stored as JSON (nil
// stores nothing); for an update, AuditDiff keeps only the fields that changed.
func (tx *Tx) Audit(actor Actor, entity, entityID, action string, before, after any) error {
	b, err := auditJSON(before)
	if err != nil {
		return err
	}
	a, err := auditJSON(after)
	if err != nil {
		return err
	}
	row := auditRow{
		At: now(), ActorName: actor.Name, ActorRole: string(actor.Role),
		Entity: entity, EntityID: entityID, Action: action, Before: b, After: a,
	}
	if actor.UserID != 0 {
		id := actor.UserID
		row.ActorID = &id
	}
	if err := tx.db.Create(&row).Error; err != nil {
		return fmt.Errorf("write audit row: %w", err)
	}
	return nil
}

func auditJSON(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return string(raw), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("audit: encode value: %w", err)
	}
	return string(b), nil
}

// AuditDiff returns the top-level JSON fields of before and after that differ, as two JSON
// objects (a field absent on one side is absent from that object). Fields named in ignore
// (timestamps, row versions) are left out.
func AuditDiff(before, after any, ignore ...string) (json.RawMessage, json.RawMessage, error) {
	bm, err := fieldsOf(before)
	if err != nil {
		return nil, nil, err
	}
	am, err := fieldsOf(after)
	if err != nil {
		return nil, nil, err
	}
	db, da := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	keys := slices.Sorted(maps.Keys(bm))
	for k := range am {
		if _, ok := bm[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if slices.Contains(ignore, k) {
			continue
		}
		b, inB := bm[k]
		a, inA := am[k]
		if inB && inA && bytes.Equal(b, a) {
			continue
		}
		if inB {
			db[k] = b
		}
		if inA {
			da[k] = a
		}
	}
	bj, _ := json.Marshal(db)
	aj, _ := json.Marshal(da)
	return bj, aj, nil
}

func fieldsOf(v any) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if v == nil {
		return m, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: encode value: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("audit: value is not a JSON object: %w", err)
	}
	return m, nil
}

// AuditFilter selects audit rows; zero fields match everything.
type AuditFilter struct {
	Entity   string
	EntityID string
	ActorID  int64
	Action   string
	Since    time.Time // inclusive
	Until    time.Time // exclusive
}

// ListAudit returns audit rows matching f, oldest first, at most limit (1–1000), after the
// cursor of a previous page; next is "" on the last page.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter, limit int, cursor string) ([]AuditEntry, string, error) {
	limit = clampLimit(limit)
	q := s.r.WithContext(ctx).Model(&auditRow{})
	if cursor != "" {
		var after int64
		if err := decodeCursor(cursor, &after); err != nil {
			return nil, "", err
		}
		q = q.Where("id > ?", after)
	}
	if f.Entity != "" {
		q = q.Where("entity = ?", f.Entity)
	}
	if f.EntityID != "" {
		q = q.Where("entity_id = ?", f.EntityID)
	}
	if f.ActorID != 0 {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		q = q.Where("at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("at < ?", f.Until.UTC())
	}
	var rows []auditRow
	if err := q.Order("id").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list audit log: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeCursor(rows[len(rows)-1].ID)
	}
	out := make([]AuditEntry, len(rows))
	for i, r := range rows {
		e := AuditEntry{ID: r.ID, At: r.At.UTC(), ActorName: r.ActorName, ActorRole: Role(r.ActorRole),
			Entity: r.Entity, EntityID: r.EntityID, Action: r.Action}
		if r.ActorID != nil {
			e.ActorID = *r.ActorID
		}
		if r.Before != "" {
			e.Before = json.RawMessage(r.Before)
		}
		if r.After != "" {
			e.After = json.RawMessage(r.After)
		}
		out[i] = e
	}
	return out, next, nil
}
