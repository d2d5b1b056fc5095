package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/msdrg-cdi/drg/cdi"
)

// Reading for reports: encounters in pages without their evidence, and the change history of
// a page of encounters from the audit log.

// filtered applies the filter of f to a query of the encounters table.
func (f *EncounterFilter) filtered(q *gorm.DB) *gorm.DB {
	eq := func(col, v string) {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	eq("status", string(f.Status))
	eq("facility", f.Facility)
	eq("unit", f.Unit)
	eq("payer", f.Payer)
	eq("service_line", f.ServiceLine)
	eq("attending_id", f.Attending)
	if f.DRG != 0 {
		q = q.Where("working_drg = ?", f.DRG)
	}
	if f.FinalDRG != 0 {
		q = q.Where("final_drg = ?", f.FinalDRG)
	}
	if !f.DischargedFrom.IsZero() {
		q = q.Where("discharge_date >= ?", f.DischargedFrom.String())
	}
	if !f.DischargedTo.IsZero() {
		q = q.Where("discharge_date <= ?", f.DischargedTo.String())
	}
	return q
}

// ScanEncounters calls fn with the discharged encounters (those with a discharge date)
// matching f, in order of discharge date then id, one page of at most pageSize (1–1000,
// default 500) at a time, without their evidence and, unless withCodes, without their codes
// (working and final code sets left empty). Only one page is in memory at a time, and each
// page is one index range read (keyset on discharge date and id; see reportIndexes), so a
// scan costs the same per encounter over 100,000 encounters as over 1,000. The pages are read
// one after another, not from one snapshot: an encounter changed during the scan is read as
// it is when its page is read. An error from fn stops the scan and is returned.
func (s *Store) ScanEncounters(ctx context.Context, f EncounterFilter, pageSize int, withCodes bool, fn func(page []*Encounter) error) error {
	if pageSize <= 0 {
		pageSize = 500
	}
	pageSize = clampLimit(pageSize)
	db := s.r.WithContext(ctx)
	var afterDate, afterID string
	for {
		q := f.filtered(db.Model(&encounterRow{}).Omit("evidence")).Where("discharge_date IS NOT NULL")
		if afterID != "" {
			q = q.Where("(discharge_date, id) > (?, ?)", afterDate, afterID)
		}
		var rows []encounterRow
		if err := q.Order("discharge_date, id").Limit(pageSize).Find(&rows).Error; err != nil {
			return fmt.Errorf("scan encounters: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]string, len(rows))
		for i := range rows {
			ids[i] = rows[i].ID
		}
		var codes []codeRow
		if withCodes {
			if err := db.Where("encounter_id IN ?", ids).Order("encounter_id, code_set, kind, seq").Find(&codes).Error; err != nil {
				return fmt.Errorf("scan encounter codes: %w", err)
			}
		}
		byEnc := make(map[string][]codeRow, len(rows))
		for _, c := range codes {
			byEnc[c.EncounterID] = append(byEnc[c.EncounterID], c)
		}
		page := make([]*Encounter, len(rows))
		for i := range rows {
			e, err := fromRows(&rows[i], byEnc[rows[i].ID])
			if err != nil {
				return err
			}
			page[i] = e
		}
		if err := fn(page); err != nil {
			return err
		}
		if len(rows) < pageSize {
			return nil
		}
		last := rows[len(rows)-1]
		afterDate, afterID = *last.DischargeDate, last.ID
	}
}

// reportIndexes serve ScanEncounters' keyset pages, with and without a status filter.
var reportIndexes = []string{
	`CREATE INDEX IF NOT EXISTS ix_encounters_scan_status ON encounters (status, discharge_date, id)`,
	`CREATE INDEX IF NOT EXISTS ix_encounters_scan_date ON encounters (discharge_date, id)`,
}

// CountEncounters returns the number of encounters matching f.
func (s *Store) CountEncounters(ctx context.Context, f EncounterFilter) (int64, error) {
	var n int64
	if err := f.filtered(s.r.WithContext(ctx).Model(&encounterRow{})).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count encounters: %w", err)
	}
	return n, nil
}

// EncounterChanges returns the audit rows of the given encounters other than their creation
// (updates, groupings, finalizations, …), oldest first per encounter. Each row's Before and
// After hold only the fields the change touched (AuditDiff), so the state of an encounter at
// any earlier row is its current state with the later rows undone.
func (s *Store) EncounterChanges(ctx context.Context, ids []string) (map[string][]AuditEntry, error) {
	out := make(map[string][]AuditEntry, len(ids))
	db := s.r.WithContext(ctx)
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		var rows []auditRow
		if err := db.Where("entity = ? AND entity_id IN ? AND action <> ?", "encounter", chunk, "create").
			Order("id").Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("read encounter changes: %w", err)
		}
		for _, r := range rows {
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
			out[r.EntityID] = append(out[r.EntityID], e)
		}
	}
	return out, nil
}

// StateBefore returns the JSON fields of an encounter as they were before the given changes
// (its audit rows after that point, oldest first) were made: each change is undone from the
// newest, removing the fields it set and restoring those it replaced. cur is the encounter's
// current JSON object.
func StateBefore(cur map[string]json.RawMessage, changes []AuditEntry) (map[string]json.RawMessage, error) {
	st := make(map[string]json.RawMessage, len(cur))
	for k, v := range cur {
		st[k] = v
	}
	for i := len(changes) - 1; i >= 0; i-- {
		var before, after map[string]json.RawMessage
		if len(changes[i].After) > 0 {
			if err := json.Unmarshal(changes[i].After, &after); err != nil {
				return nil, fmt.Errorf("audit row %d: %w", changes[i].ID, err)
			}
		}
		if len(changes[i].Before) > 0 {
			if err := json.Unmarshal(changes[i].Before, &before); err != nil {
				return nil, fmt.Errorf("audit row %d: %w", changes[i].ID, err)
			}
		}
		for k := range after {
			delete(st, k)
		}
		for k, v := range before {
			st[k] = v
		}
	}
	return st, nil
}

// EncounterQueries returns the CDI queries of the given encounters — the latest record of the
// latest version of each, as ListQueries — by encounter, in query id order.
func (s *Store) EncounterQueries(ctx context.Context, ids []string) (map[string][]cdi.Query, error) {
	db := s.r.WithContext(ctx)
	out := make(map[string][]cdi.Query)
	for chunk := range slices.Chunk(ids, 500) {
		var heads []cdiQueryRow
		if err := db.Model(&cdiQueryRow{}).Where("encounter_id IN ?", chunk).Order("id").Find(&heads).Error; err != nil {
			return nil, fmt.Errorf("read queries: %w", err)
		}
		qs, err := recordsOf(db, heads)
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			out[q.EncounterID] = append(out[q.EncounterID], q)
		}
	}
	return out, nil
}
