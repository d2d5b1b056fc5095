package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// CAC decisions: a coder's accept or reject of a computer-assisted coding suggestion, kept
// for good (a later decision on the same suggestion is a new row; the latest one holds). A
// decision names the suggestion by code, kind and the note span it rests on — the note by its
// id and the SHA-256 of its text, never the text.

// CAC decision values.
const (
	DecisionAccept = "accept"
	DecisionReject = "reject"
)

// CACDecision is one accept or reject of a suggestion.
type CACDecision struct {
	ID          int64  `json:"id"`
	EncounterID string `json:"encounter_id"`
	Code        string `json:"code"`
	// Kind is pdx, sdx or procedure.
	Kind     string `json:"kind"`
	Decision string `json:"decision"` // accept or reject
	Reason   string `json:"reason,omitempty"`
	Span     Span   `json:"span"`
	// NoteType is the type of the note of the span (discharge summary, progress note…).
	NoteType  string    `json:"note_type,omitempty"`
	ActorID   int64     `json:"actor_id,omitempty"`
	ActorName string    `json:"actor"`
	At        time.Time `json:"at"`
}

type cacDecisionRow struct {
	ID          int64     `gorm:"primaryKey"`
	EncounterID string    `gorm:"size:32;not null;index"`
	Code        string    `gorm:"size:8;not null"`
	Kind        string    `gorm:"size:10;not null"`
	Decision    string    `gorm:"size:8;not null"`
	Reason      string    `gorm:"size:500;not null;default:''"`
	NoteID      string    `gorm:"size:64;not null"`
	NoteHash    string    `gorm:"size:64;not null"`
	SpanStart   int       `gorm:"not null"`
	SpanEnd     int       `gorm:"not null"`
	NoteType    string    `gorm:"size:100;not null;default:''"`
	ActorID     *int64    `gorm:""`
	ActorName   string    `gorm:"size:200;not null"`
	At          time.Time `gorm:"not null;index"`
}

// TableName names the table of CAC decisions.
func (cacDecisionRow) TableName() string { return "cac_decisions" }

func (r *cacDecisionRow) decision() CACDecision {
	d := CACDecision{ID: r.ID, EncounterID: r.EncounterID, Code: r.Code, Kind: r.Kind, Decision: r.Decision, Reason: r.Reason,
		Span: Span{Note: r.NoteID, NoteHash: r.NoteHash, Start: r.SpanStart, End: r.SpanEnd}, NoteType: r.NoteType,
		ActorName: r.ActorName, At: r.At.UTC()}
	if r.ActorID != nil {
		d.ActorID = *r.ActorID
	}
	return d
}

func migrateCAC(db *gorm.DB) error {
	if err := db.AutoMigrate(&cacDecisionRow{}); err != nil {
		return fmt.Errorf("migrate CAC decisions: %w", err)
	}
	return nil
}

// AddCACDecision stores a decision (its id and time are set) and audits it on the encounter
// with action cac_accept or cac_reject: the user, code, kind, span and reason.
func (tx *Tx) AddCACDecision(actor Actor, d *CACDecision) error {
	d.At = now()
	row := cacDecisionRow{EncounterID: d.EncounterID, Code: d.Code, Kind: d.Kind, Decision: d.Decision, Reason: d.Reason,
		NoteID: d.Span.Note, NoteHash: d.Span.NoteHash, SpanStart: d.Span.Start, SpanEnd: d.Span.End, NoteType: d.NoteType,
		ActorName: actor.Name, At: d.At}
	if actor.UserID != 0 {
		id := actor.UserID
		row.ActorID = &id
	}
	if err := tx.db.Create(&row).Error; err != nil {
		return fmt.Errorf("store CAC decision: %w", err)
	}
	*d = row.decision()
	return tx.Audit(actor, "encounter", d.EncounterID, "cac_"+d.Decision, nil, map[string]any{
		"decision_id": d.ID, "code": d.Code, "kind": d.Kind, "decision": d.Decision, "reason": d.Reason,
		"span": d.Span, "note_type": d.NoteType})
}

// CACDecisions returns the decisions of an encounter, oldest first.
func (s *Store) CACDecisions(ctx context.Context, encounterID string) ([]CACDecision, error) {
	var rows []cacDecisionRow
	if err := s.r.WithContext(ctx).Where("encounter_id = ?", encounterID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read CAC decisions: %w", err)
	}
	out := make([]CACDecision, len(rows))
	for i := range rows {
		out[i] = rows[i].decision()
	}
	return out, nil
}

// CACDecisionCount is the number of decisions of one code, kind, note type and decision.
type CACDecisionCount struct {
	Code     string
	Kind     string
	NoteType string
	Decision string
	N        int
}

// CACDecisionCounts counts the decisions made in [from, to) by code, kind, note type and
// decision (zero times are open ends).
func (s *Store) CACDecisionCounts(ctx context.Context, from, to time.Time) ([]CACDecisionCount, error) {
	q := s.r.WithContext(ctx).Model(&cacDecisionRow{})
	if !from.IsZero() {
		q = q.Where("at >= ?", from.UTC())
	}
	if !to.IsZero() {
		q = q.Where("at < ?", to.UTC())
	}
	var out []CACDecisionCount
	err := q.Select("code, kind, note_type, decision, COUNT(*) AS n").Group("code, kind, note_type, decision").
		Order("code, kind, note_type, decision").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("count CAC decisions: %w", err)
	}
	return out, nil
}

// CheckEncounterVersion locks the encounter row until the transaction ends and checks its row
// version (ErrVersionMismatch when it differs, ErrNotFound when there is no such encounter),
// for changes that rest on the encounter as read without changing it.
func (tx *Tx) CheckEncounterVersion(id string, rowVersion int) error {
	var row encounterRow
	if err := tx.forUpdate().Select("id, row_version").Where("id = ?", id).Take(&row).Error; err != nil {
		return notFound(err, "encounter")
	}
	if row.RowVersion != rowVersion {
		return fmt.Errorf("%w: encounter is at row version %d, not %d", ErrVersionMismatch, row.RowVersion, rowVersion)
	}
	return nil
}
