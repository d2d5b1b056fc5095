package store

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Two database roles (PostgreSQL). The owner role owns the tables and migrates the schema; the
// service runs as an application role that may read and write the working tables but may only
// INSERT into (and SELECT from) audit_log: it cannot UPDATE, DELETE or TRUNCATE audit rows, nor
// drop the triggers that refuse them. drg serve --migrate-db OWNER_DSN migrates with the owner
// role, grants the application role of --db its rights (Grant), and then serves as the
// application role without migrating (Options.NoMigrate).

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// CurrentRole returns the database role the store is connected as ("" on SQLite).
func (s *Store) CurrentRole(ctx context.Context) (string, error) {
	if s.dialect != DialectPostgres {
		return "", nil
	}
	var role string
	if err := s.r.WithContext(ctx).Raw("SELECT current_user").Scan(&role).Error; err != nil {
		return "", fmt.Errorf("read the database role: %w", err)
	}
	return role, nil
}

// OwnsAuditLog reports whether the store's role owns audit_log (PostgreSQL): such a role can
// drop the append-only triggers, so the service should run as another role (Grant).
func (s *Store) OwnsAuditLog(ctx context.Context) (bool, error) {
	if s.dialect != DialectPostgres {
		return false, nil
	}
	var owns bool
	err := s.r.WithContext(ctx).Raw(`SELECT COALESCE(bool_or(pg_get_userbyid(c.relowner) = current_user), false)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relname = 'audit_log' AND n.nspname = current_schema()`).Scan(&owns).Error
	if err != nil {
		return false, fmt.Errorf("read the owner of audit_log: %w", err)
	}
	return owns, nil
}

// Grant gives the application role what the service needs on the store's schema (run by the
// owner role, after migrating): SELECT, INSERT, UPDATE and DELETE on every table except
// audit_log, SELECT and INSERT only on audit_log, and the use of the schema's sequences. It
// revokes UPDATE, DELETE and TRUNCATE on audit_log from the role and from PUBLIC. Run again
// after each migration (drg serve --migrate-db does).
func (s *Store) Grant(ctx context.Context, appRole string) error {
	if s.dialect != DialectPostgres {
		return fmt.Errorf("%w: database roles are a PostgreSQL feature", ErrInvalid)
	}
	if appRole == "" {
		return fmt.Errorf("%w: no application role to grant", ErrInvalid)
	}
	owner, err := s.CurrentRole(ctx)
	if err != nil {
		return err
	}
	if owner == appRole {
		return fmt.Errorf("%w: the application role %q is the owner role: give the service a role of its own", ErrInvalid, appRole)
	}
	var schema string
	if err := s.w.WithContext(ctx).Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		return fmt.Errorf("grant: read the schema: %w", err)
	}
	r, sc := quoteIdent(appRole), quoteIdent(schema)
	stmts := []string{
		"GRANT USAGE ON SCHEMA " + sc + " TO " + r,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + sc + " TO " + r,
		"REVOKE ALL ON audit_log FROM PUBLIC",
		"REVOKE ALL ON audit_log FROM " + r,
		"GRANT SELECT, INSERT ON audit_log TO " + r,
		"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA " + sc + " TO " + r,
	}
	return s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, q := range stmts {
			if err := tx.Exec(q).Error; err != nil {
				return fmt.Errorf("grant the application role: %w", err)
			}
		}
		return nil
	})
}
