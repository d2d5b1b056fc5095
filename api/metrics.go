package api

import (
	"bytes"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
)

// Metrics holds the service's Prometheus metrics (github.com/prometheus/client_golang), each
// server in its own registry so that several servers in one process (tests, instances) do not
// share counters. The names of the metrics the service exposed before client_golang are kept
// (drg_http_requests_total, drg_http_request_duration_seconds, drg_http_requests_in_flight,
// drg_claims_grouped_total, drg_claims_edited_total, drg_job_runs_total, drg_uptime_seconds)
// so that dashboards keep working. It is safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	requests  *prometheus.CounterVec   // by method, route, code
	latency   *prometheus.HistogramVec // by method, route, code
	inFlight  prometheus.Gauge
	grouped   *prometheus.CounterVec   // claims grouped, by endpoint
	edited    *prometheus.CounterVec   // claims edited by the MCE, by endpoint
	jobRuns   *prometheus.CounterVec   // by job, outcome
	grouping  *prometheus.HistogramVec // one claim's grouping, by endpoint
	cac       prometheus.Histogram     // one CAC run
	batchSize *prometheus.HistogramVec // claims in one batch request, by format
}

// latencyBuckets are the upper bounds (seconds) of the request latency histogram (the
// buckets of the hand-written exposition this replaces).
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// groupingBuckets are the upper bounds (seconds) of one claim's grouping time: tens of
// microseconds typically, milliseconds with the explanation or the code editor.
var groupingBuckets = []float64{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1}

// batchBuckets are the upper bounds of the claims-per-batch histogram (a JSON array holds at
// most MaxBatchClaims; streams are unbounded).
var batchBuckets = []float64{1, 10, 100, 1000, 10000, 100000, 1000000}

// NewMetrics returns empty metrics with the Go runtime and process collectors registered.
func NewMetrics() *Metrics {
	started := time.Now()
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "drg_http_requests_total",
			Help: "HTTP requests served, by method, route and status code."}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "drg_http_request_duration_seconds",
			Help: "Time to serve HTTP requests, by method, route and status code.", Buckets: latencyBuckets},
			[]string{"method", "route", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "drg_http_requests_in_flight",
			Help: "HTTP requests being served."}),
		grouped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "drg_claims_grouped_total",
			Help: "Claims grouped, by endpoint."}, []string{"endpoint"}),
		edited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "drg_claims_edited_total",
			Help: "Claims run through the Medicare Code Editor."}, []string{"endpoint"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "drg_job_runs_total",
			Help: "Periodic job periods by outcome: ran here, skipped (claimed by another instance or earlier), failed."},
			[]string{"job", "outcome"}),
		grouping: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "drg_grouping_duration_seconds",
			Help:    "Time to group one claim (with weights, warnings and, when asked, the explanation and the code editor), by endpoint.",
			Buckets: groupingBuckets}, []string{"endpoint"}),
		cac: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "drg_cac_duration_seconds",
			Help:    "Time to code one CAC request (reading the notes, suggesting codes, grouping the suggestion).",
			Buckets: latencyBuckets}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "drg_batch_claims",
			Help: "Claims in one batch grouping request, by body format (json array, jsonl, csv, tsv).", Buckets: batchBuckets},
			[]string{"format"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.grouped, m.edited, m.jobRuns, m.grouping, m.cac, m.batchSize,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "drg_uptime_seconds", Help: "Seconds since the server started."},
			func() float64 { return time.Since(started).Round(time.Second).Seconds() }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry returns the registry /metrics exposes; packages may register their own collectors
// in it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// registerDB adds the connection-pool statistics (go_sql_* metrics, label db_name) of the
// database handles: "writer" and, when it is another pool (SQLite), "reader".
func (m *Metrics) registerDB(w, r *sql.DB) error {
	if w != nil {
		if err := m.reg.Register(collectors.NewDBStatsCollector(w, "writer")); err != nil {
			return err
		}
	}
	if r != nil && r != w {
		return m.reg.Register(collectors.NewDBStatsCollector(r, "reader"))
	}
	return nil
}

// observe records one finished request.
func (m *Metrics) observe(method, route string, code int, d time.Duration) {
	c := statusText(code)
	m.requests.WithLabelValues(method, route, c).Inc()
	m.latency.WithLabelValues(method, route, c).Observe(d.Seconds())
}

// statusText renders an HTTP status code as a label value without allocating for the
// common ones.
func statusText(code int) string {
	switch code {
	case 200:
		return "200"
	case 201:
		return "201"
	case 204:
		return "204"
	case 400:
		return "400"
	case 401:
		return "401"
	case 403:
		return "403"
	case 404:
		return "404"
	case 422:
		return "422"
	}
	return strconv.Itoa(code)
}

// JobRun counts one period of periodic job job ending with outcome (ran, skipped, failed).
func (m *Metrics) JobRun(job, outcome string) { m.jobRuns.WithLabelValues(job, outcome).Inc() }

// WriteText renders every metric in the Prometheus text format (version 0.0.4), as /metrics
// answers a client that asks for no other format.
func (m *Metrics) WriteText(b *bytes.Buffer) {
	mfs, err := m.reg.Gather()
	enc := expfmt.NewEncoder(b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		_ = enc.Encode(mf)
	}
	if err != nil {
		b.WriteString("# gather error: " + err.Error() + "\n")
	}
}

// sqlDB returns the connection pool behind a gorm handle (nil when there is none).
func sqlDB(g *gorm.DB) *sql.DB {
	if g == nil {
		return nil
	}
	db, err := g.DB()
	if err != nil {
		return nil
	}
	return db
}

// slogPromLogger logs promhttp's errors (a metric that could not be gathered or written).
type slogPromLogger struct{ log *slog.Logger }

// Println implements promhttp.Logger.
func (l slogPromLogger) Println(v ...any) { l.log.Error("metrics: " + fmt.Sprint(v...)) }
