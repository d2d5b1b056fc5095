package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/msdrg-cdi/drg/audit"
	"github.com/msdrg-cdi/drg/claim"
)

// Coding-accuracy audits: an audit is a recorded sample of final-coded encounters; each case
// keeps the coder's coding as it was when sampled and, once an auditor has coded the
// encounter, the auditor's coding and the comparison. (Not to be confused with the audit
// log, which records every change.)

// Audit case statuses.
const (
	CasePending = "pending" // sampled, not yet coded by an auditor
	CaseAudited = "audited" // the auditor's codes and the comparison are stored
)

// AuditSpec is how an audit's sample was drawn: the population (final-coded encounters
// discharged in the date range, of the facility, payer and service line when given), the
// targeting (DRGs, coders, risk flag), the size and the seed. The same spec over the same
// population draws the same sample.
type AuditSpec struct {
	Size           int        `json:"size"`
	Seed           uint64     `json:"seed"`
	DischargedFrom claim.Date `json:"discharged_from,omitzero"`
	DischargedTo   claim.Date `json:"discharged_to,omitzero"`
	Facility       string     `json:"facility,omitempty"`
	Payer          string     `json:"payer,omitempty"`
	ServiceLine    string     `json:"service_line,omitempty"`
	DRGs           []int      `json:"drgs,omitempty"`
	Coders         []string   `json:"coders,omitempty"`
	RiskFlag       string     `json:"risk_flag,omitempty"`
	// CategoryBy is what the per-category results group by: mdc (the auditor's MDC),
	// service_line or drg (the auditor's DRG).
	CategoryBy string `json:"category_by"`
}

// CodingAudit is one audit with its cases.
type CodingAudit struct {
	ID   int64     `json:"id"`
	Name string    `json:"name"`
	Spec AuditSpec `json:"spec"`
	// Population counts the eligible encounters the sample was drawn from; Size the cases
	// drawn; Audited those an auditor has coded.
	Population int         `json:"population"`
	Size       int         `json:"size"`
	Audited    int         `json:"audited"`
	CreatedBy  string      `json:"created_by"`
	CreatedAt  time.Time   `json:"created_at"`
	Cases      []AuditCase `json:"cases,omitempty"`
}

// AuditCase is one sampled encounter of an audit.
type AuditCase struct {
	AuditID     int64  `json:"audit_id"`
	EncounterID string `json:"encounter_id"`
	Account     string `json:"account,omitempty"`
	Seq         int    `json:"seq"`   // 1-based order of the draw
	Coder       string `json:"coder"` // the user who finalized the encounter
	Status      string `json:"status"`
	// Version is the grouper version of the coder's final DRG; the auditor's codes are
	// grouped with it. WeightsYear is the Table 5 year of both weights (0: not loaded, the
	// weights are 0).
	Version     int              `json:"version"`
	WeightsYear int              `json:"weights_year,omitempty"`
	CoderCoding audit.Coding     `json:"coder_coding"`
	CoderMDC    int              `json:"coder_mdc"`
	ServiceLine string           `json:"service_line,omitempty"`
	RiskFlags   []audit.RiskFlag `json:"risk_flags,omitempty"`

	Category      string            `json:"category,omitempty"` // set when audited
	AuditorCoding *audit.Coding     `json:"auditor_coding,omitempty"`
	AuditorMDC    int               `json:"auditor_mdc,omitempty"`
	Comparison    *audit.Comparison `json:"comparison,omitempty"`
	Auditor       string            `json:"auditor,omitempty"`
	AuditedAt     *time.Time        `json:"audited_at,omitempty"`
	Note          string            `json:"note,omitempty"`
	RowVersion    int               `json:"row_version"`
}

type codingAuditRow struct {
	ID          int64     `gorm:"primaryKey"`
	Name        string    `gorm:"size:200;not null;default:''"`
	Spec        string    `gorm:"type:text;not null"` // JSON AuditSpec
	Population  int       `gorm:"not null"`
	Size        int       `gorm:"not null"`
	CreatedByID *int64    //
	CreatedBy   string    `gorm:"size:200;not null"`
	CreatedAt   time.Time `gorm:"not null"`
}

// TableName names the table of coding_audits rows.
func (codingAuditRow) TableName() string { return "coding_audits" }

type auditCaseRow struct {
	ID          int64      `gorm:"primaryKey"`
	AuditID     int64      `gorm:"not null;uniqueIndex:ux_coding_audit_cases,priority:1"`
	EncounterID string     `gorm:"size:32;not null;uniqueIndex:ux_coding_audit_cases,priority:2;index"`
	Seq         int        `gorm:"not null"`
	Coder       string     `gorm:"size:200;not null;index"`
	Status      string     `gorm:"size:16;not null"`
	Data        string     `gorm:"type:text;not null"` // JSON AuditCase
	AuditorID   *int64     //
	AuditedAt   *time.Time `gorm:"index"`
	RowVersion  int        `gorm:"not null"`
}

// TableName names the table of coding_audit_cases rows.
func (auditCaseRow) TableName() string { return "coding_audit_cases" }

// migrateAudits creates the tables of coding audits and the indexes of the report scans
// (called by Open's migration).
func migrateAudits(db *gorm.DB) error {
	if err := db.AutoMigrate(&codingAuditRow{}, &auditCaseRow{}); err != nil {
		return fmt.Errorf("migrate database schema: %w", err)
	}
	for _, q := range reportIndexes {
		if err := db.Exec(q).Error; err != nil {
			return fmt.Errorf("migrate database schema: %w", err)
		}
	}
	return nil
}

func caseRow(c *AuditCase, auditorID *int64) (*auditCaseRow, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode audit case: %w", err)
	}
	return &auditCaseRow{AuditID: c.AuditID, EncounterID: c.EncounterID, Seq: c.Seq, Coder: c.Coder, Status: c.Status,
		Data: string(b), AuditorID: auditorID, AuditedAt: c.AuditedAt, RowVersion: c.RowVersion}, nil
}

func (r *auditCaseRow) auditCase() (AuditCase, error) {
	var c AuditCase
	if err := json.Unmarshal([]byte(r.Data), &c); err != nil {
		return c, fmt.Errorf("decode audit case %d/%s: %w", r.AuditID, r.EncounterID, err)
	}
	c.AuditID, c.EncounterID, c.Seq, c.Coder, c.Status, c.RowVersion = r.AuditID, r.EncounterID, r.Seq, r.Coder, r.Status, r.RowVersion
	return c, nil
}

func (r *codingAuditRow) codingAudit() (CodingAudit, error) {
	a := CodingAudit{ID: r.ID, Name: r.Name, Population: r.Population, Size: r.Size, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.Spec), &a.Spec); err != nil {
		return a, fmt.Errorf("decode audit %d spec: %w", r.ID, err)
	}
	return a, nil
}

// CreateCodingAudit stores a new audit with its sampled cases (their Seq, Coder, codings and
// flags set by the caller) and audits it, in one transaction. It returns the stored audit.
func (s *Store) CreateCodingAudit(ctx context.Context, actor Actor, a *CodingAudit) (*CodingAudit, error) {
	spec, err := json.Marshal(a.Spec)
	if err != nil {
		return nil, fmt.Errorf("encode audit spec: %w", err)
	}
	row := codingAuditRow{Name: a.Name, Spec: string(spec), Population: a.Population, Size: len(a.Cases), CreatedBy: actor.Name, CreatedAt: now()}
	if actor.UserID != 0 {
		id := actor.UserID
		row.CreatedByID = &id
	}
	var out CodingAudit
	err = s.Tx(ctx, func(tx *Tx) error {
		if err := tx.db.Create(&row).Error; err != nil {
			return fmt.Errorf("create audit: %w", err)
		}
		out, err = row.codingAudit()
		if err != nil {
			return err
		}
		rows := make([]*auditCaseRow, 0, len(a.Cases))
		for i := range a.Cases {
			c := a.Cases[i]
			c.AuditID, c.Status, c.RowVersion = row.ID, CasePending, 1
			r, err := caseRow(&c, nil)
			if err != nil {
				return err
			}
			rows = append(rows, r)
			out.Cases = append(out.Cases, c)
		}
		if len(rows) > 0 {
			if err := tx.db.CreateInBatches(rows, 200).Error; err != nil {
				return fmt.Errorf("create audit cases: %w", err)
			}
		}
		logged := out
		logged.Cases = nil
		sample := make([]string, len(out.Cases))
		for i, c := range out.Cases {
			sample[i] = c.EncounterID
		}
		return tx.Audit(actor, "coding_audit", strconv.FormatInt(row.ID, 10), "create", nil,
			struct {
				CodingAudit
				Sample []string `json:"sample"`
			}{logged, sample})
	})
	if err != nil {
		return nil, err
	}
	out.Size = len(out.Cases)
	return &out, nil
}

// auditCounts returns the audited cases per audit id.
func auditCounts(db *gorm.DB, ids []int64) (map[int64]int, error) {
	var rows []struct {
		AuditID int64
		N       int
	}
	if err := db.Model(&auditCaseRow{}).Select("audit_id, count(*) AS n").Where("audit_id IN ? AND status = ?", ids, CaseAudited).
		Group("audit_id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count audited cases: %w", err)
	}
	m := map[int64]int{}
	for _, r := range rows {
		m[r.AuditID] = r.N
	}
	return m, nil
}

// ListCodingAudits returns audits, newest first, without their cases.
func (s *Store) ListCodingAudits(ctx context.Context, limit int, cursor string) ([]CodingAudit, string, error) {
	limit = clampLimit(limit)
	db := s.r.WithContext(ctx)
	q := db.Model(&codingAuditRow{})
	if cursor != "" {
		var before int64
		if err := decodeCursor(cursor, &before); err != nil {
			return nil, "", err
		}
		q = q.Where("id < ?", before)
	}
	var rows []codingAuditRow
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list audits: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeCursor(rows[len(rows)-1].ID)
	}
	out := make([]CodingAudit, 0, len(rows))
	if len(rows) == 0 {
		return out, "", nil
	}
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	counts, err := auditCounts(db, ids)
	if err != nil {
		return nil, "", err
	}
	for i := range rows {
		a, err := rows[i].codingAudit()
		if err != nil {
			return nil, "", err
		}
		a.Audited = counts[a.ID]
		out = append(out, a)
	}
	return out, next, nil
}

// GetCodingAudit returns an audit with its cases in draw order.
func (s *Store) GetCodingAudit(ctx context.Context, id int64) (*CodingAudit, error) {
	db := s.r.WithContext(ctx)
	var row codingAuditRow
	if err := db.Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err, "audit")
	}
	a, err := row.codingAudit()
	if err != nil {
		return nil, err
	}
	var rows []auditCaseRow
	if err := db.Where("audit_id = ?", id).Order("seq").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read audit cases: %w", err)
	}
	for i := range rows {
		c, err := rows[i].auditCase()
		if err != nil {
			return nil, err
		}
		if c.Status == CaseAudited {
			a.Audited++
		}
		a.Cases = append(a.Cases, c)
	}
	a.Size = len(a.Cases)
	return &a, nil
}

// GetAuditCase returns one case of an audit.
func (s *Store) GetAuditCase(ctx context.Context, auditID int64, encounterID string) (*AuditCase, error) {
	var row auditCaseRow
	if err := s.r.WithContext(ctx).Where("audit_id = ? AND encounter_id = ?", auditID, encounterID).Take(&row).Error; err != nil {
		return nil, notFound(err, "audit case")
	}
	c, err := row.auditCase()
	return &c, err
}

// UpdateAuditCase changes one case of an audit in a transaction: it reads the case (locked),
// calls change, stores the result and appends an audit-log row (entity coding_audit_case,
// id "AUDIT/ENCOUNTER") with the changed fields. change may return an error to abort. The
// keys, the draw order, the coder and the coder's coding cannot be changed.
func (s *Store) UpdateAuditCase(ctx context.Context, actor Actor, auditID int64, encounterID, action string, change func(c *AuditCase) error) (*AuditCase, error) {
	var out AuditCase
	err := s.Tx(ctx, func(tx *Tx) error {
		var row auditCaseRow
		if err := tx.forUpdate().Where("audit_id = ? AND encounter_id = ?", auditID, encounterID).Take(&row).Error; err != nil {
			return notFound(err, "audit case")
		}
		before, err := row.auditCase()
		if err != nil {
			return err
		}
		c, _ := row.auditCase() // a copy to change
		if err := change(&c); err != nil {
			return err
		}
		c.AuditID, c.EncounterID, c.Seq, c.Coder = before.AuditID, before.EncounterID, before.Seq, before.Coder
		c.CoderCoding, c.Version = before.CoderCoding, before.Version
		c.RowVersion = before.RowVersion + 1
		var auditor *int64
		if actor.UserID != 0 {
			id := actor.UserID
			auditor = &id
		}
		nrow, err := caseRow(&c, auditor)
		if err != nil {
			return err
		}
		res := tx.db.Model(&auditCaseRow{}).Where("id = ? AND row_version = ?", row.ID, row.RowVersion).
			Select("status", "data", "auditor_id", "audited_at", "row_version").Updates(nrow)
		if res.Error != nil {
			return fmt.Errorf("update audit case: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("%w: audit case changed concurrently", ErrVersionMismatch)
		}
		out = c
		b, a, err := AuditDiff(before, c, "row_version")
		if err != nil {
			return err
		}
		return tx.Audit(actor, "coding_audit_case", fmt.Sprintf("%d/%s", auditID, encounterID), action, b, a)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// AuditCaseFilter selects audit cases; zero fields match everything.
type AuditCaseFilter struct {
	AuditID int64
	Coder   string
	Status  string
}

// ListAuditCases returns the cases matching f, newest first (the latest audit's cases first, last drawn first).
func (s *Store) ListAuditCases(ctx context.Context, f AuditCaseFilter, limit int, cursor string) ([]AuditCase, string, error) {
	limit = clampLimit(limit)
	q := s.r.WithContext(ctx).Model(&auditCaseRow{})
	if cursor != "" {
		var before int64
		if err := decodeCursor(cursor, &before); err != nil {
			return nil, "", err
		}
		q = q.Where("id < ?", before)
	}
	if f.AuditID != 0 {
		q = q.Where("audit_id = ?", f.AuditID)
	}
	if f.Coder != "" {
		q = q.Where("coder = ?", f.Coder)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var rows []auditCaseRow
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list audit cases: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeCursor(rows[len(rows)-1].ID)
	}
	out := make([]AuditCase, 0, len(rows))
	for i := range rows {
		c, err := rows[i].auditCase()
		if err != nil {
			return nil, "", err
		}
		out = append(out, c)
	}
	return out, next, nil
}
