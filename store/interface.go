package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Interface message statuses.
const (
	MsgReceived = "received" // stored, not yet applied
	MsgApplied  = "applied"  // applied to its encounter (acknowledged AA)
	MsgError    = "error"    // not applied: acknowledged AE or AR, kept for a coder to see
)

// InterfaceMessage is an inbound interface message (HL7 v2) as received, with what became of
// it. The message is kept whatever happens to it, so nothing sent is lost.
type InterfaceMessage struct {
	ID         int64     `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	// Facility is the sending facility (MSH-4) and ControlID the message control id (MSH-10):
	// together they identify a message, which is applied once.
	Facility    string    `json:"facility"`
	ControlID   string    `json:"control_id"`
	Type        string    `json:"type"` // "ADT^A01"
	Status      string    `json:"status"`
	Ack         string    `json:"ack,omitempty"`          // AA, AE, AR
	ErrorField  string    `json:"error_field,omitempty"`  // "PID-18"
	Error       string    `json:"error,omitempty"`        // what was wrong
	EncounterID string    `json:"encounter_id,omitempty"` // the encounter it was applied to
	Duplicates  int       `json:"duplicates"`             // times it was received again
	Message     string    `json:"message,omitempty"`      // the message, segments on lines
	UpdatedAt   time.Time `json:"updated_at"`
}

type interfaceMessageRow struct {
	ID          int64     `gorm:"primaryKey"`
	ReceivedAt  time.Time `gorm:"not null;index"`
	Facility    string    `gorm:"size:227;not null;default:''"`
	ControlID   string    `gorm:"size:199;not null;default:''"`
	DedupKey    *string   `gorm:"size:430;uniqueIndex"` // facility + "\x00" + control id; NULL without a control id
	Type        string    `gorm:"size:16;not null;default:''"`
	Status      string    `gorm:"size:16;not null;index"`
	Ack         string    `gorm:"size:2;not null;default:''"`
	ErrorField  string    `gorm:"size:32;not null;default:''"`
	Error       string    `gorm:"type:text;not null;default:''"`
	EncounterID string    `gorm:"size:32;not null;default:''"`
	Duplicates  int       `gorm:"not null;default:0"`
	Raw         string    `gorm:"type:text;not null"`
	// Original holds the bytes received, base64, when Raw is not them (a message that was not
	// UTF-8, or held NUL bytes, is kept as text converted to UTF-8 and as received).
	Original  string    `gorm:"type:text;not null;default:''"`
	UpdatedAt time.Time `gorm:"not null"`
}

// TableName names the table of interface_messages rows.
func (interfaceMessageRow) TableName() string { return "interface_messages" }

func migrateInterface(db *gorm.DB) error {
	if err := db.AutoMigrate(&interfaceMessageRow{}); err != nil {
		return fmt.Errorf("migrate interface_messages table: %w", err)
	}
	return nil
}

func (r *interfaceMessageRow) message() *InterfaceMessage {
	return &InterfaceMessage{ID: r.ID, ReceivedAt: r.ReceivedAt, Facility: r.Facility, ControlID: r.ControlID, Type: r.Type,
		Status: r.Status, Ack: r.Ack, ErrorField: r.ErrorField, Error: r.Error, EncounterID: r.EncounterID,
		Duplicates: r.Duplicates, Message: r.Raw, UpdatedAt: r.UpdatedAt}
}

// ReceiveMessage stores a message as received, committed before it is processed. A message
// whose facility and control id were received before is not stored again: the stored one is
// returned with dup set (and its count of duplicates incremented). An empty control id is
// never a duplicate. The same message stored at the same moment by another connection is
// ErrConflict (read it again).
func (s *Store) ReceiveMessage(ctx context.Context, facility, controlID, typ string, raw []byte) (m *InterfaceMessage, dup bool, err error) {
	t := now()
	text := TextOf(raw)
	facility, controlID, typ = TextOf([]byte(facility)), TextOf([]byte(controlID)), TextOf([]byte(typ))
	row := &interfaceMessageRow{ReceivedAt: t, UpdatedAt: t, Facility: facility, ControlID: controlID, Type: typ, Status: MsgReceived, Raw: text}
	if text != string(raw) {
		row.Original = base64.StdEncoding.EncodeToString(raw)
	}
	if controlID != "" {
		k := fmt.Sprintf("%d:%s:%s", len(facility), facility, controlID)
		row.DedupKey = &k
	}
	err = s.Tx(ctx, func(tx *Tx) error {
		if row.DedupKey != nil {
			var prev interfaceMessageRow
			err := tx.forUpdate().Where("dedup_key = ?", *row.DedupKey).Take(&prev).Error
			if err == nil {
				if err := tx.db.Model(&interfaceMessageRow{}).Where("id = ?", prev.ID).
					Updates(map[string]any{"duplicates": prev.Duplicates + 1}).Error; err != nil {
					return fmt.Errorf("record a duplicate message: %w", err)
				}
				prev.Duplicates++
				m, dup = prev.message(), true
				return nil
			}
			if !errors.Is(err, gorm.ErrRecordNotFound) {
				return fmt.Errorf("look up message: %w", err)
			}
		}
		if err := tx.db.Create(row).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) { // the same message received at the same time
				return fmt.Errorf("%w: message %q of %q is being received on another connection", ErrConflict, controlID, facility)
			}
			return fmt.Errorf("store message: %w", err)
		}
		m = row.message()
		return nil
	})
	return m, dup, err
}

// TextOf returns bytes received as text the database can hold: UTF-8 as it is, other bytes
// read as ISO 8859-1 (the usual 8-bit HL7 character set), NUL bytes dropped.
func TextOf(b []byte) string {
	if utf8.Valid(b) {
		return strings.ReplaceAll(string(b), "\x00", "")
	}
	var sb strings.Builder
	for _, c := range b {
		if c != 0 {
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}

// MessageOutcome is what became of a message.
type MessageOutcome struct {
	Status, Ack, ErrorField, Error, EncounterID string
}

// SetMessageOutcome records what became of a message.
func (tx *Tx) SetMessageOutcome(id int64, o MessageOutcome) error {
	res := tx.db.Model(&interfaceMessageRow{}).Where("id = ?", id).Updates(map[string]any{"status": o.Status, "ack": o.Ack,
		"error_field": TextOf([]byte(o.ErrorField)), "error": TextOf([]byte(o.Error)), "encounter_id": o.EncounterID, "updated_at": now()})
	if res.Error != nil {
		return fmt.Errorf("record message outcome: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("%w: interface message %d", ErrNotFound, id)
	}
	return nil
}

// SetMessageOutcome records what became of a message in a transaction of its own.
func (s *Store) SetMessageOutcome(ctx context.Context, id int64, o MessageOutcome) error {
	return s.Tx(ctx, func(tx *Tx) error { return tx.SetMessageOutcome(id, o) })
}

// ListMessageErrors returns the messages not applied (status error), newest first, at most
// limit, after the cursor of a previous page.
func (s *Store) ListMessageErrors(ctx context.Context, limit int, cursor string) ([]*InterfaceMessage, string, error) {
	limit = clampLimit(limit)
	q := s.r.WithContext(ctx).Model(&interfaceMessageRow{}).Where("status = ?", MsgError)
	if cursor != "" {
		var before int64
		if err := decodeCursor(cursor, &before); err != nil {
			return nil, "", err
		}
		q = q.Where("id < ?", before)
	}
	var rows []interfaceMessageRow
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list interface errors: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeCursor(rows[len(rows)-1].ID)
	}
	out := make([]*InterfaceMessage, len(rows))
	for i := range rows {
		out[i] = rows[i].message()
	}
	return out, next, nil
}

// FindEncounterByAccount returns the id of the encounter of a facility and account number
// (ErrNotFound when there is none).
func (tx *Tx) FindEncounterByAccount(facility, account string) (string, error) {
	var row encounterRow
	if err := tx.db.Select("id").Where("facility = ? AND account = ?", facility, account).Take(&row).Error; err != nil {
		return "", notFound(err, "encounter")
	}
	return row.ID, nil
}

// LockMessage reads a message's status and encounter, locking its row until the transaction
// ends: a message applied by another connection in the meantime is seen as applied.
func (tx *Tx) LockMessage(id int64) (status, encounterID string, err error) {
	var row interfaceMessageRow
	if err := tx.forUpdate().Select("id", "status", "encounter_id").Where("id = ?", id).Take(&row).Error; err != nil {
		return "", "", notFound(err, "interface message")
	}
	return row.Status, row.EncounterID, nil
}
