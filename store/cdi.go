package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/msdrg-cdi/drg/cdi"
)

// CDI records: the latest review of each encounter (opportunities, denial-risk flags and
// clinical-validation findings, kept as the API's JSON document) and every record of every
// provider query. Query records are append-only — the database refuses UPDATE and DELETE on
// them (a trigger, as for the audit log) — and AppendQuery refuses a record whose content
// differs from the content frozen when its version was sent: a sent query can only change
// state, and an edit after sending is a new version.

// ErrImmutable reports a change to the content of a sent query version.
var ErrImmutable = fmt.Errorf("%w: a sent query is immutable (edit it to create a new version)", ErrConflict)

// Audit entities of the CDI records.
const (
	EntityCDIReview = "cdi_review"
	EntityCDIQuery  = "cdi_query"
)

type cdiReviewRow struct {
	EncounterID         string    `gorm:"primaryKey;size:32"`
	EncounterRowVersion int       `gorm:"not null"`
	ReviewedAt          time.Time `gorm:"not null"`
	ReviewedBy          string    `gorm:"size:200;not null;default:''"`
	Summary             string    `gorm:"type:text;not null;default:''"` // JSON read by the worklist
	Doc                 string    `gorm:"type:text;not null;default:''"` // JSON: the whole review
}

// TableName names the table of cdi_reviews rows.
func (cdiReviewRow) TableName() string { return "cdi_reviews" }

// cdiQueryRow is the head of a query: where its latest version stands, for lists and filters.
type cdiQueryRow struct {
	ID            string     `gorm:"primaryKey;size:32"`
	EncounterID   string     `gorm:"size:32;not null;index"`
	Version       int        `gorm:"not null"`
	State         string     `gorm:"size:16;not null;index"`
	OpportunityID string     `gorm:"size:128;not null;default:''"`
	ProviderID    string     `gorm:"size:64;not null;default:'';index"`
	AuthorID      string     `gorm:"size:64;not null;default:'';index"`
	SentAt        *time.Time `gorm:"index"`
	LatestSeq     int64      `gorm:"not null"`
	CreatedAt     time.Time  `gorm:"not null"`
	UpdatedAt     time.Time  `gorm:"not null"`
}

// TableName names the table of cdi_queries rows.
func (cdiQueryRow) TableName() string { return "cdi_queries" }

// cdiQueryRecordRow is one state of one version of a query (append-only).
type cdiQueryRecordRow struct {
	Seq         int64     `gorm:"primaryKey"`
	QueryID     string    `gorm:"size:32;not null;uniqueIndex:ux_cdi_query_records_step,priority:1"`
	Version     int       `gorm:"not null;uniqueIndex:ux_cdi_query_records_step,priority:2"`
	Step        int       `gorm:"not null;uniqueIndex:ux_cdi_query_records_step,priority:3"` // audit events so far
	State       string    `gorm:"size:16;not null"`
	ContentHash string    `gorm:"size:64;not null;default:''"`
	At          time.Time `gorm:"not null"`
	Doc         string    `gorm:"type:text;not null"` // JSON cdi.Query
}

// TableName names the table of cdi_query_records rows.
func (cdiQueryRecordRow) TableName() string { return "cdi_query_records" }

// migrateCDI creates the CDI tables and the append-only triggers of the query records.
func (s *Store) migrateCDI(db *gorm.DB) error {
	if err := db.AutoMigrate(&cdiReviewRow{}, &cdiQueryRow{}, &cdiQueryRecordRow{}); err != nil {
		return fmt.Errorf("migrate CDI tables: %w", err)
	}
	if err := s.appendOnly(db, "cdi_query_records"); err != nil {
		return fmt.Errorf("migrate CDI tables: %w", err)
	}
	return nil
}

// CDIReview is the stored latest review of an encounter. Summary and Doc are JSON documents of
// the API (the worklist reads Summary; GET …/review returns Doc).
type CDIReview struct {
	EncounterID string `json:"encounter_id"`
	// EncounterRowVersion is the row version of the encounter reviewed: a later change of the
	// encounter makes the review stale.
	EncounterRowVersion int             `json:"encounter_row_version"`
	ReviewedAt          time.Time       `json:"reviewed_at"`
	ReviewedBy          string          `json:"reviewed_by"`
	Summary             json.RawMessage `json:"-"`
	Doc                 json.RawMessage `json:"-"`
}

func (r *cdiReviewRow) review() *CDIReview {
	out := &CDIReview{EncounterID: r.EncounterID, EncounterRowVersion: r.EncounterRowVersion, ReviewedAt: r.ReviewedAt.UTC(),
		ReviewedBy: r.ReviewedBy}
	if r.Summary != "" {
		out.Summary = json.RawMessage(r.Summary)
	}
	if r.Doc != "" {
		out.Doc = json.RawMessage(r.Doc)
	}
	return out
}

// SaveCDIReview stores an encounter's latest review (replacing the previous one) and audits it
// with auditAfter (a summary: the review itself stays in the table).
func (tx *Tx) SaveCDIReview(actor Actor, r *CDIReview, auditAfter any) error {
	row := cdiReviewRow{EncounterID: r.EncounterID, EncounterRowVersion: r.EncounterRowVersion, ReviewedAt: r.ReviewedAt.UTC(),
		ReviewedBy: r.ReviewedBy, Summary: string(r.Summary), Doc: string(r.Doc)}
	// One statement, atomic on both databases: simultaneous first reviews of an encounter
	// cannot both insert (a duplicate key on PostgreSQL), and a review of an older row
	// version of the encounter, finishing late, does not replace the review of a newer one.
	err := tx.db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "encounter_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"encounter_row_version", "reviewed_at", "reviewed_by", "summary", "doc"}),
		Where: clause.Where{Exprs: []clause.Expression{
			clause.Expr{SQL: "cdi_reviews.encounter_row_version <= excluded.encounter_row_version"}}},
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save CDI review: %w", err)
	}
	return tx.Audit(actor, EntityCDIReview, r.EncounterID, "review", nil, auditAfter)
}

// GetCDIReview returns the latest review of an encounter (ErrNotFound when never reviewed).
func (s *Store) GetCDIReview(ctx context.Context, encounterID string) (*CDIReview, error) {
	var row cdiReviewRow
	if err := s.r.WithContext(ctx).Where("encounter_id = ?", encounterID).Take(&row).Error; err != nil {
		return nil, notFound(err, "CDI review of the encounter")
	}
	return row.review(), nil
}

// CDIWorklistFilter selects the encounters of the CDI worklist; zero fields match everything.
type CDIWorklistFilter struct {
	Statuses  []Status // default: open and discharged (not final)
	Facility  string
	Unit      string
	Payer     string
	Attending string
}

// CDIWorklistItem is an encounter of the worklist (without its evidence), its latest review
// summary (nil when never reviewed) and the latest record of each of its queries.
type CDIWorklistItem struct {
	Encounter *Encounter
	Review    *CDIReview // Doc is not loaded
	Queries   []cdi.Query
}

// CDIWorklist returns the encounters matching f with their review summaries and queries, in
// creation order. The caller ranks and pages them.
func (s *Store) CDIWorklist(ctx context.Context, f CDIWorklistFilter) ([]CDIWorklistItem, error) {
	db := s.r.WithContext(ctx)
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = []Status{StatusOpen, StatusDischarged}
	}
	st := make([]string, len(statuses))
	for i, x := range statuses {
		st[i] = string(x)
	}
	q := db.Model(&encounterRow{}).Omit("evidence").Where("status IN ?", st)
	for col, v := range map[string]string{"facility": f.Facility, "unit": f.Unit, "payer": f.Payer, "attending_id": f.Attending} {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	var rows []encounterRow
	if err := q.Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("CDI worklist: %w", err)
	}
	if len(rows) == 0 {
		return []CDIWorklistItem{}, nil
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	byEnc := map[string][]codeRow{}
	reviews := map[string]*CDIReview{}
	queries := map[string][]cdi.Query{}
	for chunk := range slices.Chunk(ids, 500) {
		var codes []codeRow
		if err := db.Where("encounter_id IN ? AND code_set = ?", chunk, setWorking).Order("encounter_id, kind, seq").Find(&codes).Error; err != nil {
			return nil, fmt.Errorf("CDI worklist codes: %w", err)
		}
		for _, c := range codes {
			byEnc[c.EncounterID] = append(byEnc[c.EncounterID], c)
		}
		var revs []cdiReviewRow
		if err := db.Omit("doc").Where("encounter_id IN ?", chunk).Find(&revs).Error; err != nil {
			return nil, fmt.Errorf("CDI worklist reviews: %w", err)
		}
		for i := range revs {
			reviews[revs[i].EncounterID] = revs[i].review()
		}
		qs, err := latestQueryRecords(db.Where("encounter_id IN ?", chunk))
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			queries[q.EncounterID] = append(queries[q.EncounterID], q)
		}
	}
	out := make([]CDIWorklistItem, len(rows))
	for i := range rows {
		e, err := fromRows(&rows[i], byEnc[rows[i].ID])
		if err != nil {
			return nil, err
		}
		out[i] = CDIWorklistItem{Encounter: e, Review: reviews[e.ID], Queries: queries[e.ID]}
	}
	return out, nil
}

// latestQueryRecords returns the latest record of each query whose head the scope selects
// (a gorm condition on cdi_queries).
func latestQueryRecords(scope *gorm.DB) ([]cdi.Query, error) {
	var heads []cdiQueryRow
	if err := scope.Model(&cdiQueryRow{}).Order("id").Find(&heads).Error; err != nil {
		return nil, fmt.Errorf("read queries: %w", err)
	}
	return recordsOf(scope.Session(&gorm.Session{NewDB: true}), heads)
}

// recordsOf loads the latest records of heads, in the heads' order.
func recordsOf(db *gorm.DB, heads []cdiQueryRow) ([]cdi.Query, error) {
	if len(heads) == 0 {
		return []cdi.Query{}, nil
	}
	seqs := make([]int64, len(heads))
	for i := range heads {
		seqs[i] = heads[i].LatestSeq
	}
	bySeq := map[int64]*cdiQueryRecordRow{}
	for chunk := range slices.Chunk(seqs, 500) {
		var recs []cdiQueryRecordRow
		if err := db.Model(&cdiQueryRecordRow{}).Where("seq IN ?", chunk).Find(&recs).Error; err != nil {
			return nil, fmt.Errorf("read query records: %w", err)
		}
		for i := range recs {
			bySeq[recs[i].Seq] = &recs[i]
		}
	}
	out := make([]cdi.Query, 0, len(heads))
	for _, h := range heads {
		r, ok := bySeq[h.LatestSeq]
		if !ok {
			return nil, fmt.Errorf("query %s: latest record %d is missing", h.ID, h.LatestSeq)
		}
		q, err := r.query()
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

func (r *cdiQueryRecordRow) query() (cdi.Query, error) {
	var q cdi.Query
	if err := json.Unmarshal([]byte(r.Doc), &q); err != nil {
		return q, fmt.Errorf("decode query record %d: %w", r.Seq, err)
	}
	return q, nil
}

// QueryFilter selects queries by their latest version; zero fields match everything.
type QueryFilter struct {
	States      []string // draft, sent, answered, escalated, closed
	EncounterID string
	ProviderID  string // the provider queried
	AuthorID    string // the CDI specialist
	SentBefore  time.Time
	Sent        bool // only queries sent at least once (statistics)
}

// ListQueries returns the latest record of the latest version of each query matching f, by
// query id (creation order), at most limit (1–1000; 0 or less: every match), after a cursor.
func (s *Store) ListQueries(ctx context.Context, f QueryFilter, limit int, cursor string) ([]cdi.Query, string, error) {
	db := s.r.WithContext(ctx)
	q := db.Model(&cdiQueryRow{})
	if cursor != "" {
		var after string
		if err := decodeCursor(cursor, &after); err != nil {
			return nil, "", err
		}
		q = q.Where("id > ?", after)
	}
	if len(f.States) > 0 {
		q = q.Where("state IN ?", f.States)
	}
	for col, v := range map[string]string{"encounter_id": f.EncounterID, "provider_id": f.ProviderID, "author_id": f.AuthorID} {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	if !f.SentBefore.IsZero() {
		q = q.Where("sent_at IS NOT NULL AND sent_at <= ?", f.SentBefore.UTC())
	}
	if f.Sent {
		q = q.Where("sent_at IS NOT NULL")
	}
	q = q.Order("id")
	if limit > 0 {
		q = q.Limit(clampLimit(limit) + 1)
	}
	var heads []cdiQueryRow
	if err := q.Find(&heads).Error; err != nil {
		return nil, "", fmt.Errorf("list queries: %w", err)
	}
	next := ""
	if limit > 0 && len(heads) > clampLimit(limit) {
		heads = heads[:clampLimit(limit)]
		next = encodeCursor(heads[len(heads)-1].ID)
	}
	out, err := recordsOf(db, heads)
	return out, next, err
}

// QueryVersions returns the latest record of every version of a query, oldest version first
// (ErrNotFound when there is no such query).
func (s *Store) QueryVersions(ctx context.Context, id string) ([]cdi.Query, error) {
	return queryVersions(s.r.WithContext(ctx), id)
}

func queryVersions(db *gorm.DB, id string) ([]cdi.Query, error) {
	var recs []cdiQueryRecordRow
	if err := db.Where("query_id = ?", id).Order("version, step").Find(&recs).Error; err != nil {
		return nil, fmt.Errorf("read query %s: %w", id, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: query %s", ErrNotFound, id)
	}
	var out []cdi.Query
	for i := range recs {
		if i+1 < len(recs) && recs[i+1].Version == recs[i].Version {
			continue
		}
		q, err := recs[i].query()
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// QueryHistory returns every record of a query (each state of each version), oldest first.
func (s *Store) QueryHistory(ctx context.Context, id string) ([]cdi.Query, error) {
	var recs []cdiQueryRecordRow
	if err := s.r.WithContext(ctx).Where("query_id = ?", id).Order("seq").Find(&recs).Error; err != nil {
		return nil, fmt.Errorf("read query %s: %w", id, err)
	}
	out := make([]cdi.Query, 0, len(recs))
	for i := range recs {
		q, err := recs[i].query()
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// QueryVersions is Store.QueryVersions inside the transaction; the query's head is locked
// until the transaction ends (PostgreSQL; SQLite transactions hold the write lock).
func (tx *Tx) QueryVersions(id string) ([]cdi.Query, error) {
	var head cdiQueryRow
	if err := tx.forUpdate().Where("id = ?", id).Take(&head).Error; err != nil {
		return nil, notFound(err, "query")
	}
	return queryVersions(tx.db, id)
}

// AppendQuery stores a new record of a query (a value returned by a cdi lifecycle step) and
// audits it under action. It refuses with ErrConflict a record that does not follow the
// stored ones (a step not after the latest of its version, a version that does not follow the
// latest or does not name the one it supersedes), and with ErrImmutable a record of a sent
// version whose content differs from the content frozen when it was sent.
func (tx *Tx) AppendQuery(actor Actor, q *cdi.Query, action string) error {
	if q.ID == "" || q.EncounterID == "" || q.Version < 1 || len(q.Audit) == 0 {
		return fmt.Errorf("%w: a query record needs an id, an encounter, a version and an audit trail", ErrInvalid)
	}
	if q.ContentHash != "" && q.ContentHash != q.QueryContent.Hash() {
		return ErrImmutable
	}
	step := len(q.Audit)
	var head cdiQueryRow
	err := tx.forUpdate().Where("id = ?", q.ID).Take(&head).Error
	exists := err == nil
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("read query %s: %w", q.ID, err)
	}
	switch {
	case !exists && q.Version != 1:
		return fmt.Errorf("%w: query %s does not exist: its first version must be 1", ErrConflict, q.ID)
	case exists && q.Version > head.Version+1:
		return fmt.Errorf("%w: query %s is at version %d: version %d does not follow", ErrConflict, q.ID, head.Version, q.Version)
	case exists && q.Version == head.Version+1:
		if q.Supersedes != fmt.Sprintf("%s@v%d", q.ID, head.Version) {
			return fmt.Errorf("%w: version %d of query %s must supersede version %d", ErrConflict, q.Version, q.ID, head.Version)
		}
	}
	if exists {
		var prev cdiQueryRecordRow
		err := tx.db.Where("query_id = ? AND version = ?", q.ID, q.Version).Order("step DESC").Take(&prev).Error
		switch {
		case err == nil:
			if step <= prev.Step {
				return fmt.Errorf("%w: query %s version %d is already at step %d (concurrent change): read it again", ErrConflict, q.ID, q.Version, prev.Step)
			}
			if prev.ContentHash != "" && q.ContentHash != prev.ContentHash {
				return ErrImmutable
			}
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return fmt.Errorf("read query %s: %w", q.ID, err)
		}
	}
	doc, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("encode query: %w", err)
	}
	t := now()
	rec := cdiQueryRecordRow{QueryID: q.ID, Version: q.Version, Step: step, State: q.State, ContentHash: q.ContentHash, At: t, Doc: string(doc)}
	if err := tx.db.Create(&rec).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return fmt.Errorf("%w: query %s changed concurrently: read it again", ErrConflict, q.ID)
		}
		return fmt.Errorf("store query record: %w", err)
	}
	if !exists || q.Version >= head.Version {
		h := cdiQueryRow{ID: q.ID, EncounterID: q.EncounterID, Version: q.Version, State: q.State, OpportunityID: q.OpportunityID,
			LatestSeq: rec.Seq, CreatedAt: t, UpdatedAt: t}
		if q.Provider != nil {
			h.ProviderID = q.Provider.ID
		}
		if q.Author != nil {
			h.AuthorID = q.Author.ID
		}
		if !q.SentAt.IsZero() {
			s := q.SentAt.UTC()
			h.SentAt = &s
		}
		if !exists {
			if err := tx.db.Create(&h).Error; err != nil {
				if errors.Is(err, gorm.ErrDuplicatedKey) {
					return fmt.Errorf("%w: query %s created concurrently", ErrConflict, q.ID)
				}
				return fmt.Errorf("store query: %w", err)
			}
		} else {
			h.CreatedAt = head.CreatedAt
			if h.SentAt == nil {
				h.SentAt = head.SentAt // a new draft version keeps the first sending time
			}
			if err := tx.db.Model(&cdiQueryRow{}).Where("id = ?", q.ID).Select("*").Omit("id").Updates(&h).Error; err != nil {
				return fmt.Errorf("store query: %w", err)
			}
		}
	}
	return tx.Audit(actor, EntityCDIQuery, q.ID, action, nil, map[string]any{
		"version": q.Version, "state": q.State, "encounter_id": q.EncounterID, "opportunity_id": q.OpportunityID,
		"step": step, "record": rec.Seq, "content_hash": q.ContentHash})
}

// QueriesForStats returns, for every query sent at least once (filtered by provider or
// specialist), the latest record of each of its versions: what cdi.ComputeStats reads.
func (s *Store) QueriesForStats(ctx context.Context, providerID, authorID string) ([]cdi.Query, error) {
	db := s.r.WithContext(ctx)
	heads := db.Model(&cdiQueryRow{}).Select("id").Where("sent_at IS NOT NULL")
	if providerID != "" {
		heads = heads.Where("provider_id = ?", providerID)
	}
	if authorID != "" {
		heads = heads.Where("author_id = ?", authorID)
	}
	latest := db.Model(&cdiQueryRecordRow{}).Select("MAX(seq)").Where("query_id IN (?)", heads).Group("query_id, version")
	var recs []cdiQueryRecordRow
	if err := db.Where("seq IN (?)", latest).Order("seq").Find(&recs).Error; err != nil {
		return nil, fmt.Errorf("query statistics: %w", err)
	}
	out := make([]cdi.Query, 0, len(recs))
	for i := range recs {
		q, err := recs[i].query()
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// OpenQueryOn returns the id of a query on an encounter's opportunity whose latest version is
// not closed ("" when there is none).
func (tx *Tx) OpenQueryOn(encounterID, opportunityID string) (string, error) {
	var heads []cdiQueryRow
	if err := tx.db.Where("encounter_id = ? AND opportunity_id = ? AND state <> ?", encounterID, opportunityID, cdi.StateClosed).
		Order("id").Find(&heads).Error; err != nil {
		return "", fmt.Errorf("read queries: %w", err)
	}
	if len(heads) == 0 {
		return "", nil
	}
	return heads[0].ID, nil
}

// QueryTag returns the version tag of a query (its ETag): the number of records stored for it,
// which every change of the query raises (records are append-only).
func (s *Store) QueryTag(ctx context.Context, id string) (int, error) {
	return queryTag(s.r.WithContext(ctx), id)
}

// QueryTag is Store.QueryTag inside the transaction, the query's head locked until it ends
// (PostgreSQL; SQLite transactions hold the write lock).
func (tx *Tx) QueryTag(id string) (int, error) {
	var head cdiQueryRow
	if err := tx.forUpdate().Where("id = ?", id).Take(&head).Error; err != nil {
		return 0, notFound(err, "query")
	}
	return queryTag(tx.db, id)
}

func queryTag(db *gorm.DB, id string) (int, error) {
	var n int64
	if err := db.Model(&cdiQueryRecordRow{}).Where("query_id = ?", id).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("read query %s: %w", id, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("query: %w", ErrNotFound)
	}
	return int(n), nil
}
