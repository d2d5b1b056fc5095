package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/audit"
	"github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/store"
	"github.com/msdrg-cdi/drg/web"
)

func init() {
	commands["serve"] = command{"run the HTTP service (REST API, encounters, users, audit)", runServe}
}

// dbFlagDefault is the database of serve and users: $DRG_DB, else ./drg.db.
func dbFlagDefault() string {
	if v := os.Getenv("DRG_DB"); v != "" {
		return v
	}
	return store.DefaultDSN
}

func runServe(e *env) int {
	fs := newFlags(e, "serve", "[--addr 127.0.0.1:8080] [--db sqlite:./drg.db|postgres://…] [--data DIR]")
	addr := fs.String("addr", envOr("DRG_ADDR", "127.0.0.1:8080"), "listen address (default: $DRG_ADDR, else 127.0.0.1:8080)")
	dsn := fs.String("db", dbFlagDefault(), "database: sqlite:PATH or a postgres:// URL (default: $DRG_DB, else sqlite:./drg.db)")
	data := fs.String("data", "", "data directory (default: $DRG_DATA, ./data, ../shared/cms)")
	logFormat := fs.String("log", "json", "log format on stderr: json or text")
	accessLog := fs.Bool("access-log", true, "log one line per request (method, route, status, time; never the URL or body)")
	cdiRules := fs.String("cdi-rules", "", "CDI rules file replacing the built-in rules (JSON, see cdi/RULES.md)")
	riskRules := fs.String("risk-rules", "", "denial-risk rules file replacing the built-in ones (JSON, the layout of audit/risk_rules.json)")
	escHours := fs.Float64("query-escalation-hours", api.DefaultEscalationHours, "hours a sent CDI query may wait for an answer before it is overdue and escalated")
	escTo := fs.String("query-escalate-to", api.DefaultEscalateTo, "who overdue CDI queries are escalated to")
	tzName := fs.String("time-zone", envOr("DRG_TIME_ZONE", ""), "IANA time zone of timestamps sent without one, for facilities without their own setting (default: $DRG_TIME_ZONE, else the server's local zone)")
	if st, ok := parseFlags(fs, e.args); !ok {
		return st
	}
	if fs.NArg() > 0 {
		return usageError(e, "serve: unexpected argument %q", fs.Arg(0))
	}
	var h slog.Handler
	switch *logFormat {
	case "json":
		h = slog.NewJSONHandler(e.stderr, nil)
	case "text":
		h = slog.NewTextHandler(e.stderr, nil)
	default:
		return usageError(e, "serve: --log must be json or text")
	}
	log := slog.New(h)
	cdiCfg := api.CDIConfig{EscalationHours: *escHours, EscalateTo: *escTo}
	var zone *time.Location
	if *tzName != "" {
		var err error
		if zone, err = api.LoadTimeZone(*tzName); err != nil {
			return usageError(e, "serve: --time-zone: %v", err)
		}
	}
	if *escHours <= 0 {
		return usageError(e, "serve: --query-escalation-hours must be positive")
	}
	if *cdiRules != "" {
		b, err := os.ReadFile(*cdiRules)
		if err != nil {
			return fail(e, "%v", err)
		}
		if cdiCfg.Rules, err = cdi.ParseRules(b); err != nil {
			return fail(e, "%s: %v", *cdiRules, err)
		}
	}
	if *riskRules != "" {
		b, err := os.ReadFile(*riskRules)
		if err != nil {
			return fail(e, "%v", err)
		}
		if cdiCfg.RiskRules, err = audit.ParseRiskRules(b); err != nil {
			return fail(e, "%s: %v", *riskRules, err)
		}
	}

	start := time.Now()
	cat, err := loadCatalog(e, *data)
	if err != nil {
		return fail(e, "%v", err)
	}
	eng := grouper.New(cat.MSDRG)
	if err := eng.Prepare(); err != nil {
		return fail(e, "%v", err)
	}
	go func() {
		if err := cat.PreloadTitles(); err != nil {
			log.Warn("code titles could not be loaded", "err", err.Error())
		}
	}()
	st, err := store.Open(e.ctx, *dsn, store.Options{Logger: log})
	if err != nil {
		return fail(e, "%v", err)
	}
	defer st.Close()
	srv, err := api.New(api.Config{Catalog: cat, Store: st, Engine: eng, Logger: log, AccessLog: *accessLog, CDI: cdiCfg,
		TimeZone: zone})
	if err != nil {
		return fail(e, "%v", err)
	}
	if err := srv.Register(web.Routes()...); err != nil {
		return fail(e, "%v", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail(e, "%v", err)
	}
	if hint, err := firstAdminHint(e.ctx, st, *dsn); err != nil {
		return fail(e, "%v", err)
	} else if hint != "" {
		log.Warn(hint)
	}
	log.Info("listening", "addr", ln.Addr().String(), "ui", "http://"+ln.Addr().String()+"/ui/", "db", st.Dialect(),
		"grouper_versions", len(cat.MSDRG.Versions), "startup_ms", time.Since(start).Milliseconds())
	if err := srv.Serve(e.ctx, ln); err != nil {
		return fail(e, "%v", err)
	}
	if err := st.Close(); err != nil {
		return fail(e, "close database: %v", err)
	}
	log.Info("stopped")
	return exitOK
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// describeDSN names a database for messages without its password.
func describeDSN(dsn string) string {
	if strings.HasPrefix(dsn, "sqlite:") {
		return dsn
	}
	return fmt.Sprintf("PostgreSQL (%s)", store.DialectPostgres)
}

// firstAdminHint returns, when the database has no enabled admin user (a new installation),
// the warning that tells how to create one; "" otherwise. The DSN is repeated only for SQLite
// (a PostgreSQL DSN may hold a password).
func firstAdminHint(ctx context.Context, st *store.Store, dsn string) (string, error) {
	users, err := st.ListUsers(ctx)
	if err != nil {
		return "", err
	}
	for _, u := range users {
		if u.Role == store.RoleAdmin && !u.Disabled {
			return "", nil
		}
	}
	cmd := "drg users add --name NAME --role admin"
	if strings.HasPrefix(dsn, "sqlite:") {
		cmd = "drg users add --db " + dsn + " --name NAME --role admin"
	}
	return fmt.Sprintf("no enabled admin user in the database (%d users): create the first one with `%s`; it prints the API token to sign in with", len(users), cmd), nil
}
