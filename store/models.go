package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The gorm models are the table layout; the exported domain types (User, Encounter,
// AuditEntry) are what callers see.

type userRow struct {
	ID        int64     `gorm:"primaryKey"`
	Name      string    `gorm:"size:200;not null;uniqueIndex"`
	Role      string    `gorm:"size:16;not null"`
	Disabled  bool      `gorm:"not null;default:false"`
	Version   int       `gorm:"not null;default:1"` // row version (ETag), raised by every change
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

// TableName names the table of users rows.
func (userRow) TableName() string { return "users" }

type tokenRow struct {
	ID        int64      `gorm:"primaryKey"`
	UserID    int64      `gorm:"not null;index"`
	Hash      string     `gorm:"size:64;not null;uniqueIndex"` // hex SHA-256 of the token
	CreatedAt time.Time  `gorm:"not null"`
	ExpiresAt *time.Time // nil: no expiry
}

// TableName names the table of api_tokens rows.
func (tokenRow) TableName() string { return "api_tokens" }

type encounterRow struct {
	ID              string  `gorm:"primaryKey;size:32"`
	Facility        string  `gorm:"size:64;not null;default:'';uniqueIndex:ux_encounters_account,priority:1"`
	Account         string  `gorm:"size:64;not null;uniqueIndex:ux_encounters_account,priority:2"`
	Status          string  `gorm:"size:16;not null;index"`
	Version         int     `gorm:"not null;default:0"`
	AdmitDate       *string `gorm:"size:10"`
	DischargeDate   *string `gorm:"size:10;index"`
	LengthOfStay    *int
	Age             *int
	Sex             string `gorm:"size:1;not null;default:''"`
	DischargeStatus *int   //
	HospitalStatus  string `gorm:"size:16;not null;default:''"`
	Payer           string `gorm:"size:64;not null;default:'';index"`
	ServiceLine     string `gorm:"size:64;not null;default:''"`
	Unit            string `gorm:"size:64;not null;default:'';index"`
	AttendingID     string `gorm:"size:64;not null;default:'';index"`
	AttendingName   string `gorm:"size:200;not null;default:''"`
	Evidence        string `gorm:"type:text;not null;default:''"` // JSON array
	BaselineDRG     *int   //
	WorkingDRG      *int   `gorm:"index"`
	FinalDRG        *int   `gorm:"index"`
	Baseline        string `gorm:"type:text;not null;default:''"` // JSON DRG snapshots
	Working         string `gorm:"type:text;not null;default:''"`
	Final           string `gorm:"type:text;not null;default:''"`
	RowVersion      int    `gorm:"not null"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TableName names the table of encounters rows.
func (encounterRow) TableName() string { return "encounters" }

// Code sets of an encounter.
const (
	setWorking = "working"
	setFinal   = "final"
)

// Code kinds (the place of a code on the claim).
const (
	kindPDX     = "pdx"
	kindAdmitDx = "admit_dx"
	kindSDX     = "sdx"
	kindProc    = "pr"
)

type codeRow struct {
	ID          int64   `gorm:"primaryKey"`
	EncounterID string  `gorm:"size:32;not null;index:ix_codes_encounter,priority:1"`
	Set         string  `gorm:"column:code_set;size:8;not null;index:ix_codes_encounter,priority:2"`
	Kind        string  `gorm:"size:8;not null"`
	Seq         int     `gorm:"not null"`
	Code        string  `gorm:"size:8;not null;index"`
	POA         string  `gorm:"size:1;not null;default:''"`
	Source      string  `gorm:"size:8;not null;default:''"`
	Date        *string `gorm:"size:10"`
	Support     string  `gorm:"type:text;not null;default:''"` // JSON Span (source cac)
}

// TableName names the table of encounter_codes rows.
func (codeRow) TableName() string { return "encounter_codes" }

type auditRow struct {
	ID        int64     `gorm:"primaryKey"`
	At        time.Time `gorm:"not null;index"`
	ActorID   *int64    `gorm:"index"`
	ActorName string    `gorm:"size:200;not null"`
	ActorRole string    `gorm:"size:16;not null;default:''"`
	Entity    string    `gorm:"size:32;not null;index:ix_audit_entity,priority:1"`
	EntityID  string    `gorm:"size:64;not null;index:ix_audit_entity,priority:2"`
	Action    string    `gorm:"size:32;not null"`
	Before    string    `gorm:"type:text;not null;default:''"`
	After     string    `gorm:"type:text;not null;default:''"`
	// Hash chains the row to the one before it (chain.go): hex SHA-256 of the previous row's
	// hash and this row's canonical content.
	Hash string `gorm:"size:64;not null;default:''"`
}

// TableName names the table of audit_log rows.
func (auditRow) TableName() string { return "audit_log" }

var lockingClause = clause.Locking{Strength: "UPDATE"}

// migrateLockKey is the PostgreSQL advisory lock held while the schema is migrated ("drgmig").
const migrateLockKey = 0x6472676d6967

// migrate creates or updates the tables and the audit log's append-only triggers. On
// PostgreSQL several instances may start at once on one database: the migration runs in one
// transaction under an advisory lock, so one instance migrates and the others then find the
// schema up to date.
func (s *Store) migrate(ctx context.Context) error {
	db := s.w.WithContext(ctx)
	if s.dialect != DialectPostgres {
		return s.migrateTables(db)
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", migrateLockKey).Error; err != nil {
			return fmt.Errorf("migrate database schema: take the migration lock: %w", err)
		}
		return s.migrateTables(tx)
	})
	return err
}

func (s *Store) migrateTables(db *gorm.DB) error {
	if err := db.AutoMigrate(&userRow{}, &tokenRow{}, &encounterRow{}, &codeRow{}, &auditRow{}); err != nil {
		return fmt.Errorf("migrate database schema: %w", err)
	}
	if err := s.migrateAuditSequence(db); err != nil {
		return err
	}
	if err := migrateAccess(db); err != nil { // sessions, sign-in states, identities, job runs (sessions.go, jobs.go)
		return err
	}
	if err := s.migrateCDI(db); err != nil {
		return err
	}
	if err := migrateAudits(db); err != nil { // coding audits and report indexes (audits.go, reports.go)
		return err
	}
	if err := migrateFacilities(db); err != nil {
		return err
	}
	if err := migrateCAC(db); err != nil {
		return err
	}
	if err := migrateInterface(db); err != nil { // inbound HL7 messages (interface.go)
		return err
	}
	if err := s.chainLegacyAudit(db); err != nil {
		return err
	}
	if err := s.appendOnly(db, "audit_log"); err != nil {
		return fmt.Errorf("migrate database schema: %w", err)
	}
	return nil
}

// appendOnly installs the triggers that make a table append-only: any UPDATE, DELETE (or on
// PostgreSQL TRUNCATE) of its rows fails with "<table> is append-only". table is one of the
// store's own table names. The triggers stop mistakes and the service's own role; the table's
// owner could drop them, which the hash chain of the audit log detects (chain.go).
func (s *Store) appendOnly(db *gorm.DB, table string) error {
	var stmts []string
	switch s.dialect {
	case DialectSQLite:
		stmts = []string{
			fmt.Sprintf(`CREATE TRIGGER IF NOT EXISTS %[1]s_no_update BEFORE UPDATE ON %[1]s BEGIN SELECT RAISE(ABORT, '%[1]s is append-only'); END`, table),
			fmt.Sprintf(`CREATE TRIGGER IF NOT EXISTS %[1]s_no_delete BEFORE DELETE ON %[1]s BEGIN SELECT RAISE(ABORT, '%[1]s is append-only'); END`, table),
		}
	case DialectPostgres:
		stmts = []string{
			fmt.Sprintf(`CREATE OR REPLACE FUNCTION %[1]s_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '%[1]s is append-only'; END $$`, table),
			fmt.Sprintf(`DROP TRIGGER IF EXISTS %[1]s_append_only ON %[1]s`, table),
			fmt.Sprintf(`CREATE TRIGGER %[1]s_append_only BEFORE UPDATE OR DELETE ON %[1]s FOR EACH ROW EXECUTE FUNCTION %[1]s_append_only()`, table),
			fmt.Sprintf(`DROP TRIGGER IF EXISTS %[1]s_no_truncate ON %[1]s`, table),
			fmt.Sprintf(`CREATE TRIGGER %[1]s_no_truncate BEFORE TRUNCATE ON %[1]s FOR EACH STATEMENT EXECUTE FUNCTION %[1]s_append_only()`, table),
			fmt.Sprintf(`REVOKE UPDATE, DELETE, TRUNCATE ON %[1]s FROM PUBLIC`, table),
		}
	}
	return db.Transaction(func(tx *gorm.DB) error {
		for _, q := range stmts {
			if err := tx.Exec(q).Error; err != nil {
				return fmt.Errorf("append-only triggers of %s: %w", table, err)
			}
		}
		return nil
	})
}
