package main

import (
	"context"
	"errors"
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
	"github.com/msdrg-cdi/drg/sso"
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
	fs := newFlags(e, "serve", "[--addr 127.0.0.1:8080] [--db sqlite:./drg.db|postgres://…] [--data DIR] [--oidc-issuer URL --oidc-client-id ID --oidc-client-secret-file F --oidc-role-map 'group=role,…']")
	addr := fs.String("addr", envOr("DRG_ADDR", "127.0.0.1:8080"), "listen address (default: $DRG_ADDR, else 127.0.0.1:8080)")
	dsn := fs.String("db", dbFlagDefault(), "database: sqlite:PATH or a postgres:// URL (default: $DRG_DB, else sqlite:./drg.db)")
	migrateDSN := fs.String("migrate-db", os.Getenv("DRG_MIGRATE_DB"), "PostgreSQL URL of the owner role: migrate the schema with it and grant the role of --db (the service's, which may only insert audit rows) its rights, then serve as --db without migrating (default: $DRG_MIGRATE_DB; none: --db migrates)")
	data := fs.String("data", "", "data directory (default: $DRG_DATA, ./data, ../shared/cms)")
	logFormat := fs.String("log", "json", "log format on stderr: json or text")
	accessLog := fs.Bool("access-log", true, "log one line per request (method, route, status, time; never the URL or body)")
	cdiRules := fs.String("cdi-rules", "", "CDI rules file replacing the built-in rules (JSON, see cdi/RULES.md)")
	riskRules := fs.String("risk-rules", "", "denial-risk rules file replacing the built-in ones (JSON, the layout of audit/risk_rules.json)")
	escHours := fs.Float64("query-escalation-hours", api.DefaultEscalationHours, "hours a sent CDI query may wait for an answer before it is overdue and escalated")
	escTo := fs.String("query-escalate-to", api.DefaultEscalateTo, "who overdue CDI queries are escalated to")
	tzName := fs.String("time-zone", envOr("DRG_TIME_ZONE", ""), "IANA time zone of timestamps sent without one, for facilities without their own setting (default: $DRG_TIME_ZONE, else the server's local zone)")
	escEvery := fs.Duration("query-escalation-every", 15*time.Minute, "period of the automatic escalation of overdue queries, once per period across every instance sharing the database (0: off)")
	oidcIssuer := fs.String("oidc-issuer", "", "OpenID Connect issuer URL of the identity provider: enables single sign-on for the web interface")
	oidcClient := fs.String("oidc-client-id", "", "OpenID Connect client id registered for drg at the identity provider")
	oidcSecretFile := fs.String("oidc-client-secret-file", "", "file holding the OpenID Connect client secret (not on the command line: other users can read it in the process list)")
	oidcClaim := fs.String("oidc-role-claim", "groups", "ID token claim holding the user's groups or roles (a dotted path such as realm_access.roles reads a nested claim)")
	oidcMap := fs.String("oidc-role-map", "", "claim values to drg roles, first match wins: 'group=role,group=role' (roles: coder, cdi, finance, admin)")
	oidcScopes := fs.String("oidc-scopes", strings.Join(sso.DefaultScopes, " "), "scopes requested from the identity provider, space-separated")
	publicURL := fs.String("public-url", "", "external base URL of the service, e.g. https://drg.hospital.org (the OIDC redirect URL is this + /auth/callback); default: from each request")
	sessIdle := fs.Duration("session-idle", api.DefaultSessionIdle, "web sessions end after this long without a request")
	sessMax := fs.Duration("session-max", api.DefaultSessionMax, "web sessions end this long after sign-in")
	hl7Addr := fs.String("hl7-addr", envOr("DRG_HL7_ADDR", ""), "listen address of the inbound HL7 v2 interface (MLLP), e.g. 0.0.0.0:2575 (default: $DRG_HL7_ADDR, else off)")
	instance := fs.String("instance", "", "name of this instance in the records of periodic jobs (default host:pid)")
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
	cdiCfg := api.CDIConfig{EscalationHours: *escHours, EscalateTo: *escTo, EscalateEvery: *escEvery}
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
	if *escEvery < 0 || (*escEvery > 0 && *escEvery < time.Second) {
		return usageError(e, "serve: --query-escalation-every must be 0 (off) or at least 1s")
	}
	if *sessIdle <= 0 || *sessMax <= 0 || *sessIdle > *sessMax {
		return usageError(e, "serve: --session-idle and --session-max must be positive, the idle limit not above the absolute one")
	}
	ssoCfg, err := oidcConfig(*oidcIssuer, *oidcClient, *oidcSecretFile, *oidcClaim, *oidcMap, *oidcScopes, *publicURL)
	if err != nil {
		return usageError(e, "serve: %v", err)
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
	st, err := openServiceStore(e.ctx, *dsn, *migrateDSN, log)
	if err != nil {
		return fail(e, "%v", err)
	}
	defer st.Close()
	srv, err := api.New(api.Config{Catalog: cat, Store: st, Engine: eng, Logger: log, AccessLog: *accessLog, CDI: cdiCfg,
		TimeZone: zone, Sessions: store.SessionPolicy{Idle: *sessIdle, Absolute: *sessMax}, Instance: *instance})
	if err != nil {
		return fail(e, "%v", err)
	}
	var sign *sso.Service
	if ssoCfg != nil {
		if sign, err = sso.New(*ssoCfg, srv, log); err != nil {
			return usageError(e, "serve: %v", err)
		}
		dctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		if _, err := sign.Discover(dctx); err != nil {
			log.Warn("identity provider not reachable at start: single sign-on retries at the first sign-in", "err", err.Error())
		}
		cancel()
	}
	if err := srv.Register(append(web.Routes(), sso.Routes(sign)...)...); err != nil {
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
		"grouper_versions", len(cat.MSDRG.Versions), "sso", sign != nil, "startup_ms", time.Since(start).Milliseconds())
	hl7Done := make(chan struct{})
	if *hl7Addr != "" {
		hln, err := net.Listen("tcp", *hl7Addr)
		if err != nil {
			_ = ln.Close()
			return fail(e, "hl7: %v", err)
		}
		log.Info("hl7 listening", "hl7_addr", hln.Addr().String())
		go func() {
			defer close(hl7Done)
			if err := srv.ServeHL7(e.ctx, hln); err != nil {
				log.Error("hl7 listener stopped", "err", err.Error())
			}
		}()
	} else {
		close(hl7Done)
	}
	jctx, stopJobs := context.WithCancel(e.ctx)
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		srv.RunJobs(jctx)
	}()
	err = srv.Serve(e.ctx, ln)
	stopJobs()
	<-jobsDone // a job in progress finishes before the database closes
	<-hl7Done  // and so does a message in progress
	if err != nil {
		return fail(e, "%v", err)
	}
	if err := st.Close(); err != nil {
		return fail(e, "close database: %v", err)
	}
	log.Info("stopped")
	return exitOK
}

// openServiceStore opens the service's database. With an owner DSN (PostgreSQL) the schema is
// migrated as the owner, the service's role (that of dsn) is granted its rights, and the store
// is opened as the service's role without migrating; without one, dsn migrates, and a warning
// says when that role owns the audit log (it could then drop its append-only triggers).
func openServiceStore(ctx context.Context, dsn, ownerDSN string, log *slog.Logger) (*store.Store, error) {
	if ownerDSN == "" {
		st, err := store.Open(ctx, dsn, store.Options{Logger: log})
		if err != nil {
			return nil, err
		}
		if owns, err := st.OwnsAuditLog(ctx); err == nil && owns {
			log.Warn("the service's database role owns audit_log and could remove its protections: run the service as a role that may only insert audit rows (drg serve --db APP_DSN --migrate-db OWNER_DSN)")
		}
		return st, nil
	}
	if !strings.HasPrefix(dsn, "postgres") || !strings.HasPrefix(ownerDSN, "postgres") {
		return nil, errors.New("--migrate-db: the owner and service roles are PostgreSQL roles: give postgres:// URLs for --db and --migrate-db")
	}
	st, err := store.Open(ctx, dsn, store.Options{Logger: log, NoMigrate: true})
	if err != nil {
		return nil, err
	}
	err = func() error {
		role, err := st.CurrentRole(ctx)
		if err != nil {
			return err
		}
		owner, err := store.Open(ctx, ownerDSN, store.Options{Logger: log})
		if err != nil {
			return fmt.Errorf("migrate with the owner role: %w", err)
		}
		defer owner.Close()
		if err := owner.Grant(ctx, role); err != nil {
			return err
		}
		return st.CheckSchema(ctx)
	}()
	if err != nil {
		st.Close()
		return nil, err
	}
	log.Info("schema migrated with the owner role; serving as the application role")
	return st, nil
}

// oidcConfig makes the single sign-on configuration from the serve flags (nil without an
// issuer; an error when OIDC flags are given without one, or required ones are missing).
func oidcConfig(issuer, clientID, secretFile, claim, roleMap, scopes, publicURL string) (*sso.Config, error) {
	if issuer == "" {
		if clientID != "" || secretFile != "" || roleMap != "" {
			return nil, errors.New("--oidc-client-id, --oidc-client-secret-file and --oidc-role-map need --oidc-issuer")
		}
		return nil, nil
	}
	if clientID == "" || roleMap == "" {
		return nil, errors.New("--oidc-issuer needs --oidc-client-id and --oidc-role-map")
	}
	rm, err := sso.ParseRoleMap(roleMap)
	if err != nil {
		return nil, fmt.Errorf("--oidc-role-map: %w", err)
	}
	cfg := &sso.Config{Issuer: issuer, ClientID: clientID, RoleClaim: claim, RoleMap: rm, Scopes: strings.Fields(scopes), PublicURL: publicURL}
	if secretFile != "" {
		b, err := os.ReadFile(secretFile)
		if err != nil {
			return nil, fmt.Errorf("--oidc-client-secret-file: %w", err)
		}
		if cfg.ClientSecret = strings.TrimSpace(string(b)); cfg.ClientSecret == "" {
			return nil, fmt.Errorf("--oidc-client-secret-file: %s is empty", secretFile)
		}
	}
	return cfg, nil
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
