// Package api is the HTTP service of drg: grouping, the Medicare Code Editor, code and DRG
// look-ups, encounters with their DRGs, users and the audit log, over JSON with RFC 7807
// problem responses, bearer-token access by role, Prometheus metrics and an OpenAPI 3.1
// document generated from the route table.
//
// Every endpoint is a Route (method, path, roles, documentation, handler). New(...) registers
// the built-in routes; other packages add theirs with Server.Register before serving, and the
// router, the access checks and /openapi.json all follow from the table:
//
//	srv, _ := api.New(api.Config{Catalog: cat, Store: st})
//	srv.Register(api.Route{Method: "GET", Path: "/v1/worklist", Roles: []store.Role{store.RoleCDI},
//		Summary: "CDI worklist", Responses: api.OK("the worklist", api.Ref("Worklist")), Handler: h})
//	srv.AddSchema("Worklist", api.Schema{...})
//
// Handlers read the caller with UserFrom/ActorFrom, decode bodies with DecodeJSON (strict,
// validated) and report failures with WriteError / WriteProblem / WriteValidation.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/msdrg-cdi/drg/cacsvc"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/store"
	"github.com/msdrg-cdi/drg/tables"
)

// Config is what a Server runs with.
type Config struct {
	Catalog *tables.Catalog // reference data (required)
	Store   *store.Store    // database (required)
	Engine  *grouper.Engine // grouper over Catalog.MSDRG (made when nil)
	Logger  *slog.Logger    // nil: slog.Default()
	// MaxBody is the default request body limit in bytes (default 1 MiB).
	MaxBody int64
	// AccessLog logs one line per request (errors are always logged).
	AccessLog bool
	// Now returns the current time (default time.Now); it picks the grouper version of
	// encounters still in house.
	Now func() time.Time
	// Version is the software version shown in the OpenAPI document.
	Version string
	// CDI configures the CDI endpoints (rules, risk rules, query escalation policy).
	CDI CDIConfig
	// TimeZone is the zone of timestamps written without one for facilities without their own
	// setting (PUT /v1/facilities/{code}); nil: the server's local zone.
	TimeZone *time.Location
	// Sessions bounds browser sessions (zero fields: DefaultSessionIdle, DefaultSessionMax).
	Sessions store.SessionPolicy
	// Instance names this process in the runs of periodic jobs (default host:pid).
	Instance string
	// HeavyPerUser and HeavyTotal bound the heavy requests (batches, bodies above MaxBody:
	// FHIR bundles, CAC notes) in progress per user (default 2) and overall (default 2 per
	// core, at least 4); beyond them a request is refused at once with 429 or 503 and
	// Retry-After.
	HeavyPerUser, HeavyTotal int
}

// Defaults of Config and of the HTTP server.
const (
	DefaultMaxBody      = 1 << 20
	BatchJSONMaxBody    = 64 << 20 // JSON array of up to MaxBatchClaims claims
	BatchStreamMaxBody  = 1 << 30  // NDJSON / CSV / TSV streams
	MaxBatchClaims      = 10000    // claims in one JSON array batch
	readHeaderTimeout   = 10 * time.Second
	defaultReadTimeout  = 30 * time.Second
	defaultWriteTimeout = 60 * time.Second
	batchTimeout        = 30 * time.Minute
	shutdownGrace       = 30 * time.Second
)

// Server is the HTTP service.
type Server struct {
	cfg     Config
	log     *slog.Logger
	quiet   bool
	engine  *gin.Engine
	grouper *grouper.Engine
	metrics *Metrics
	// metricsHandler serves /metrics from metrics' registry (promhttp: text format, or the
	// format the scraper negotiates).
	metricsHandler http.Handler
	tables         tablesInfo

	mu      sync.Mutex
	routes  []*Route
	keys    map[string]bool // "METHOD path"
	schemas map[string]Schema

	draining atomic.Bool
	ref      *reference
	proc     groupProcessors
	cdi      *cdiService // the CDI endpoints' service (periodic query escalation)
	cac      *cacsvc.Service
	access   *accessLog   // access audit rows (readaudit.go)
	heavy    *workLimiter // heavy requests in progress (limits.go)
}

// New returns a server with the built-in routes registered.
func New(cfg Config) (*Server, error) {
	if cfg.Catalog == nil || cfg.Store == nil {
		return nil, errors.New("api: Config needs a Catalog and a Store")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Engine == nil {
		cfg.Engine = grouper.New(cfg.Catalog.MSDRG)
	}
	if cfg.Sessions.Idle <= 0 {
		cfg.Sessions.Idle = DefaultSessionIdle
	}
	if cfg.Sessions.Absolute <= 0 {
		cfg.Sessions.Absolute = DefaultSessionMax
	}
	if cfg.Instance == "" {
		cfg.Instance = defaultInstance()
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.ContextWithFallback = true
	s := &Server{cfg: cfg, log: cfg.Logger, quiet: !cfg.AccessLog, engine: e, grouper: cfg.Engine,
		metrics: NewMetrics(), keys: map[string]bool{}, schemas: baseSchemas(), heavy: newWorkLimiter(cfg.HeavyTotal, cfg.HeavyPerUser)}
	e.Use(s.recovery, secureHeaders, s.observe)
	e.NoRoute(func(c *gin.Context) {
		WriteProblem(c, http.StatusNotFound, KindNotFound, "no such endpoint: see /openapi.json")
	})
	e.NoMethod(func(c *gin.Context) {
		WriteProblem(c, http.StatusMethodNotAllowed, KindMethod, "method not allowed on this endpoint: see /openapi.json")
	})
	if err := s.metrics.registerDB(sqlDB(cfg.Store.DB()), sqlDB(cfg.Store.ReadDB())); err != nil {
		return nil, fmt.Errorf("api: database pool metrics: %w", err)
	}
	s.metricsHandler = promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{ErrorLog: slogPromLogger{s.log}})
	s.ref = newReference(cfg.Catalog, s.grouper, cfg.Now)
	s.access = newAccessLog(s)
	if err := s.initProcessors(); err != nil {
		return nil, err
	}
	if err := s.Register(append(s.reportRoutes(), s.auditRoutes()...)...); err != nil { // reports.go, audits.go
		return nil, err
	}
	if err := s.Register(append(s.builtinRoutes(), s.sessionRoutes()...)...); err != nil {
		return nil, err
	}
	if err := s.Register(s.interfaceRoutes()...); err != nil { // interface.go
		return nil, err
	}
	if err := s.Register(s.facilityRoutes()...); err != nil { // facilities.go
		return nil, err
	}
	if err := s.registerCDI(); err != nil {
		return nil, err
	}
	cacRoutes, err := s.cacRoutes() // cac.go
	if err != nil {
		return nil, err
	}
	if err := s.Register(cacRoutes...); err != nil {
		return nil, err
	}
	return s, nil
}

// Register adds routes to the service: to the router (with their access checks, body limit
// and deadlines) and to the OpenAPI document. A route whose method and path are taken, or
// that is incomplete (no roles, summary, response or handler), is an error and nothing of
// that call is registered.
func (s *Server) Register(routes ...Route) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for i := range routes {
		r := &routes[i]
		if err := r.validate(); err != nil {
			return err
		}
		k := r.Method + " " + ginPath(r.Path)
		if s.keys[k] || seen[k] {
			return fmt.Errorf("route %s %s is already registered", r.Method, r.Path)
		}
		seen[k] = true
	}
	for i := range routes {
		r := routes[i]
		s.routes = append(s.routes, &r)
		s.keys[r.Method+" "+ginPath(r.Path)] = true
		chain := []gin.HandlerFunc{s.routeSetup(&r)}
		if !r.Public {
			chain = append(chain, s.authenticate(&r))
		}
		if r.heavy() {
			chain = append(chain, s.limitHeavy)
		}
		chain = append(chain, s.checkText(&r), r.Handler)
		s.engine.Handle(r.Method, ginPath(r.Path), chain...)
		if r.Method == http.MethodGet {
			// HEAD answers wherever GET does: the same checks and headers, no body (the
			// HTTP server discards what the handler writes).
			s.engine.Handle(http.MethodHead, ginPath(r.Path), chain...)
		}
	}
	return nil
}

// AddSchema adds a named schema to the OpenAPI document's components (referenced with Ref).
func (s *Server) AddSchema(name string, schema Schema) {
	s.mu.Lock()
	s.schemas[name] = schema
	s.mu.Unlock()
}

// Routes returns the registered routes.
func (s *Server) Routes() []Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Route, len(s.routes))
	for i, r := range s.routes {
		out[i] = *r
	}
	return out
}

// Handler returns the HTTP handler of the service.
func (s *Server) Handler() http.Handler { return s.engine }

// Store returns the server's database.
func (s *Server) Store() *store.Store { return s.cfg.Store }

// Catalog returns the server's reference data.
func (s *Server) Catalog() *tables.Catalog { return s.cfg.Catalog }

// Grouper returns the server's grouper engine.
func (s *Server) Grouper() *grouper.Engine { return s.grouper }

// Metrics returns the server's metrics, for extensions that count their own events.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Serve answers HTTP on ln until ctx is canceled, then stops accepting connections, marks
// itself not ready, and waits up to 30 s for the requests in progress to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       defaultReadTimeout,
		WriteTimeout:      defaultWriteTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.log.Info("shutting down: draining requests in progress")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := hs.Shutdown(sctx)
	s.Close() // the access rows of the requests answered
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// boolParam reads an optional boolean query parameter; a value other than true/false/1/0
// is a 400 problem (ok false).
func boolParam(c *gin.Context, name string) (v, ok bool) {
	s, present := c.GetQuery(name)
	if !present {
		return false, true
	}
	switch strings.ToLower(s) {
	case "", "true", "1", "yes":
		return true, true
	case "false", "0", "no":
		return false, true
	}
	WriteProblem(c, http.StatusBadRequest, KindMalformed, name+" must be true or false", &FieldError{Field: name, Message: "must be true or false"})
	return false, false
}
