// Package store persists the service's records — users and their API tokens, encounters with
// their codes and DRGs, and the append-only audit log — in SQLite (the embedded default) or
// PostgreSQL (multi-instance deployments), through gorm.
//
// Every change that touches more than one row runs in one transaction, and the audit row that
// records it is written in that same transaction: a change is either stored with its audit
// entry or not at all. The audit table refuses UPDATE and DELETE (a database trigger).
//
// SQLite runs in WAL mode with synchronous=FULL (an acknowledged write survives a process kill
// and a power cut), a busy timeout, and a single writer connection (transactions start with
// BEGIN IMMEDIATE), so concurrent requests queue instead of failing with SQLITE_BUSY; reads use
// a separate pool that WAL lets run beside the writer.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialects.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// DefaultDSN is the database used when none is given: a SQLite file in the working directory.
const DefaultDSN = "sqlite:./drg.db"

// Errors returned by the repository functions; test with errors.Is.
var (
	ErrNotFound        = errors.New("not found")
	ErrConflict        = errors.New("conflict")           // a unique key is already taken
	ErrVersionMismatch = errors.New("version mismatch")   // optimistic concurrency check failed
	ErrUnauthenticated = errors.New("invalid API token")  // unknown token or disabled user
	ErrInvalid         = errors.New("invalid input")      // wrapped by validation errors
	ErrFinal           = errors.New("encounter is final") // codes of a finalized encounter are frozen
)

// Store is an open database. It is safe for concurrent use.
type Store struct {
	dialect string
	w       *gorm.DB // writes (SQLite: one connection)
	r       *gorm.DB // reads (SQLite: a pool beside the writer; PostgreSQL: the same pool as w)
	tokens  *tokenCache
	commits *committer // SQLite: group commit of write transactions

	closeOnce sync.Once
	closeErr  error
}

// Options tune Open.
type Options struct {
	// Logger receives slow-query and error reports from gorm (nil: silent). SQL arguments are
	// never logged: they may hold PHI.
	Logger *slog.Logger
	// ReadConns bounds the SQLite read pool (default 4).
	ReadConns int
	// NoMigrate opens the database without migrating the schema: the service's application
	// role on PostgreSQL, which may not alter tables (roles.go). The schema must be current.
	NoMigrate bool
}

// Open opens (creating if needed) the database named by dsn — "sqlite:PATH" or a
// "postgres://" / "postgresql://" URL — and migrates the schema.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	if dsn == "" {
		dsn = DefaultDSN
	}
	gcfg := &gorm.Config{Logger: gormLogger(opt.Logger), NowFunc: now, TranslateError: true}
	s := &Store{tokens: newTokenCache()}
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return nil, fmt.Errorf("open database %q: empty SQLite path", dsn)
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("open database: %w", err)
			}
		}
		s.dialect = DialectSQLite
		params := "_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate"
		w, err := gorm.Open(sqlite.Open("file:"+path+"?"+params), gcfg)
		if err != nil {
			return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
		}
		wdb, _ := w.DB()
		wdb.SetMaxOpenConns(1)
		wdb.SetMaxIdleConns(1)
		wdb.SetConnMaxLifetime(0)
		r, err := gorm.Open(sqlite.Open("file:"+path+"?_busy_timeout=10000&_foreign_keys=on&_query_only=true"), gcfg)
		if err != nil {
			_ = wdb.Close()
			return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
		}
		n := opt.ReadConns
		if n <= 0 {
			n = 4
		}
		rdb, _ := r.DB()
		rdb.SetMaxOpenConns(n)
		rdb.SetMaxIdleConns(n)
		s.w, s.r = w, r
		s.commits = newCommitter(s)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			return nil, fmt.Errorf("open database: malformed PostgreSQL URL: %w", redact(err))
		}
		s.dialect = DialectPostgres
		db, err := gorm.Open(postgres.Open(dsn), gcfg)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL database: %w", redact(err))
		}
		sdb, _ := db.DB()
		sdb.SetMaxOpenConns(16)
		sdb.SetMaxIdleConns(16)
		sdb.SetConnMaxIdleTime(5 * time.Minute)
		s.w, s.r = db, db
	default:
		return nil, fmt.Errorf("open database %q: want sqlite:PATH or a postgres:// URL", dsn)
	}
	if opt.NoMigrate {
		return s, nil
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// CheckSchema tells, for a store opened without migrating, whether the schema is current
// (the newest columns the migration adds are there and readable).
func (s *Store) CheckSchema(ctx context.Context) error {
	if !s.w.WithContext(ctx).Migrator().HasColumn(&auditRow{}, "hash") || !s.w.WithContext(ctx).Migrator().HasColumn(&auditSeqRow{}, "hash") {
		return errors.New("the database schema is not migrated: migrate it with the owner role (drg serve --migrate-db OWNER_DSN)")
	}
	return nil
}

// now is the time stamp of stored rows: UTC, microseconds (what PostgreSQL keeps).
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// redact hides a connection URL's password in an error message.
func redact(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "://"); i >= 0 {
		if j := strings.Index(msg[i:], "@"); j > 0 {
			if k := strings.Index(msg[i+3:i+j], ":"); k >= 0 {
				msg = msg[:i+3+k+1] + "xxxxx" + msg[i+j:]
			}
		}
	}
	return errors.New(msg)
}

// Dialect returns DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// DB returns the writer handle, for packages that keep their own tables in the same database
// (they migrate them with DB().AutoMigrate and write them inside Store.Tx).
func (s *Store) DB() *gorm.DB { return s.w }

// ReadDB returns the handle for read-only queries.
func (s *Store) ReadDB() *gorm.DB { return s.r }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	db, err := s.r.DB()
	if err != nil {
		return err
	}
	return db.PingContext(ctx)
}

// Close checkpoints (SQLite) and closes the database; later calls return the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	if s.commits != nil {
		s.commits.stop()
	}
	var errs []error
	if s.dialect == DialectSQLite && s.w != nil {
		_ = s.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error
	}
	seen := map[*sql.DB]bool{}
	for _, g := range []*gorm.DB{s.w, s.r} {
		if g == nil {
			continue
		}
		db, err := g.DB()
		if err != nil || seen[db] {
			continue
		}
		seen[db] = true
		errs = append(errs, db.Close())
	}
	return errors.Join(errs...)
}

// IntegrityCheck runs SQLite's PRAGMA integrity_check and returns its answer ("ok" when
// sound); on PostgreSQL it returns "ok" when the database answers.
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	if s.dialect != DialectSQLite {
		return "ok", s.Ping(ctx)
	}
	var rows []string
	if err := s.w.WithContext(ctx).Raw("PRAGMA integrity_check").Scan(&rows).Error; err != nil {
		return "", fmt.Errorf("integrity check: %w", err)
	}
	return strings.Join(rows, "\n"), nil
}

// Tx runs fn in one transaction: committed when fn returns nil, rolled back otherwise; Tx
// returns once the outcome is durable. Audit rows written through the Tx belong to the same
// transaction. On SQLite, transactions submitted at the same moment are committed together
// (each behind a savepoint, see commit.go). fn must not call Tx itself.
func (s *Store) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	if s.commits != nil {
		return s.commits.do(ctx, fn)
	}
	return s.w.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		tx := &Tx{db: db, s: s}
		if err := fn(tx); err != nil {
			return err
		}
		return tx.flushAudit()
	})
}

// Tx is an open transaction.
type Tx struct {
	db     *gorm.DB
	s      *Store
	audits []auditRow // PostgreSQL: audit rows written when the work is done (flushAudit)
}

// DB returns the transaction's gorm handle.
func (tx *Tx) DB() *gorm.DB { return tx.db }

// forUpdate locks the selected rows until the transaction ends where the database supports it
// (PostgreSQL); SQLite transactions already hold the write lock (BEGIN IMMEDIATE).
func (tx *Tx) forUpdate() *gorm.DB {
	if tx.s.dialect == DialectPostgres {
		return tx.db.Clauses(lockingClause)
	}
	return tx.db
}

// gormLogger reports errors and slow statements without their arguments.
func gormLogger(l *slog.Logger) logger.Interface {
	if l == nil {
		return logger.Discard
	}
	return &slogGorm{l: l}
}

type slogGorm struct{ l *slog.Logger }

// LogMode implements logger.Interface.
func (g *slogGorm) LogMode(logger.LogLevel) logger.Interface { return g }

// Info implements logger.Interface.
func (g *slogGorm) Info(ctx context.Context, msg string, _ ...any) { g.l.InfoContext(ctx, "db: "+msg) }

// Warn implements logger.Interface.
func (g *slogGorm) Warn(ctx context.Context, msg string, _ ...any) { g.l.WarnContext(ctx, "db: "+msg) }

// Error implements logger.Interface.
func (g *slogGorm) Error(ctx context.Context, msg string, _ ...any) {
	g.l.ErrorContext(ctx, "db: "+msg)
}

// Trace implements logger.Interface: slow statements (over 200 ms) and unexpected errors are
// logged with their duration, never with the SQL text (its literals may hold PHI).
func (g *slogGorm) Trace(ctx context.Context, begin time.Time, _ func() (string, int64), err error) {
	d := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && !errors.Is(err, gorm.ErrDuplicatedKey):
		g.l.WarnContext(ctx, "db statement failed", "err_kind", fmt.Sprintf("%T", err), "ms", d.Milliseconds())
	case d > 200*time.Millisecond:
		g.l.WarnContext(ctx, "slow db statement", "ms", d.Milliseconds())
	}
}
