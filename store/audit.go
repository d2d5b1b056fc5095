package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"
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
	return tx.auditAt(time.Time{}, actor, entity, entityID, action, before, after)
}

// auditAt is Audit with the time of the event (zero: now).
func (tx *Tx) auditAt(at time.Time, actor Actor, entity, entityID, action string, before, after any) error {
	if at.IsZero() {
		at = now()
	}
	b, err := auditJSON(before)
	if err != nil {
		return err
	}
	a, err := auditJSON(after)
	if err != nil {
		return err
	}
	row := auditRow{
		At: at.UTC().Truncate(time.Microsecond), ActorName: actor.Name, ActorRole: string(actor.Role),
		Entity: entity, EntityID: entityID, Action: action, Before: b, After: a,
	}
	if actor.UserID != 0 {
		id := actor.UserID
		row.ActorID = &id
	}
	tx.audits = append(tx.audits, row) // numbered, chained and written at the end (flushAudit)
	return nil
}

// Gap-free audit numbering on PostgreSQL. A sequence (serial column) hands out numbers that
// rolled-back transactions never use (gaps) and that concurrent transactions commit out of
// order (a reader paging by id can pass a number whose row commits later and never see it).
// The audit rows of a transaction are therefore numbered from the one-row counter
// audit_sequence when the transaction's work is done, just before it commits: the counter's
// row lock is held until the commit, so numbers are taken one transaction at a time, in
// commit order, and a rollback gives them back. Taking the counter last also keeps it out of
// lock-order deadlocks (a transaction holding it waits for no other row). The counter also
// holds the hash of the last row, the head of the hash chain (chain.go): with the lock, the
// chain is linear however many instances write. SQLite uses the same counter (its single
// writer already serialises the transactions).

// auditSeqRow is the counter of the audit log's row numbers and the head of its hash chain.
type auditSeqRow struct {
	Name string `gorm:"primaryKey;size:32"`
	Last int64  `gorm:"not null"`
	Hash string `gorm:"size:64;not null;default:''"`
}

// TableName names the table of the audit numbering counter.
func (auditSeqRow) TableName() string { return "audit_sequence" }

const auditSeqName = "audit_log"

// migrateAuditSequence creates the counter, starting after the rows already in the log.
func (s *Store) migrateAuditSequence(db *gorm.DB) error {
	if err := db.AutoMigrate(&auditSeqRow{}); err != nil {
		return fmt.Errorf("migrate audit numbering: %w", err)
	}
	err := db.Exec(`INSERT INTO audit_sequence (name, last, hash) SELECT ?, COALESCE(MAX(id), 0), '' FROM audit_log WHERE true
		ON CONFLICT (name) DO NOTHING`, auditSeqName).Error
	if err != nil {
		return fmt.Errorf("migrate audit numbering: %w", err)
	}
	return nil
}

// flushAudit numbers, chains and writes the audit rows the transaction collected.
func (tx *Tx) flushAudit() error {
	n := len(tx.audits)
	if n == 0 {
		return nil
	}
	var head auditSeqRow
	err := tx.db.Raw("UPDATE audit_sequence SET last = last + ? WHERE name = ? RETURNING name, last, hash", n, auditSeqName).Scan(&head).Error
	if err != nil {
		return fmt.Errorf("number audit rows: %w", err)
	}
	if head.Last < int64(n) {
		return fmt.Errorf("number audit rows: the audit_sequence counter is missing")
	}
	prev := head.Hash
	for i := range tx.audits {
		tx.audits[i].ID = head.Last - int64(n) + 1 + int64(i)
		prev = chainHash(prev, &tx.audits[i])
		tx.audits[i].Hash = prev
	}
	if err := tx.db.Create(&tx.audits).Error; err != nil {
		return fmt.Errorf("write audit rows: %w", err)
	}
	if err := tx.db.Exec("UPDATE audit_sequence SET hash = ? WHERE name = ?", prev, auditSeqName).Error; err != nil {
		return fmt.Errorf("advance the audit chain: %w", err)
	}
	tx.audits = nil
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
