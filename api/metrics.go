package api

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics holds the service's Prometheus metrics and renders them in the text exposition
// format (version 0.0.4). It is safe for concurrent use; recording is a few atomic adds.
type Metrics struct {
	mu       sync.RWMutex
	requests map[requestKey]*atomic.Uint64
	latency  map[string]*histogram // by "METHOD route"
	counters map[string]*counter   // extra counters by full name with labels
	inFlight atomic.Int64
	started  time.Time
}

type requestKey struct {
	method, route string
	code          int
}

type counter struct {
	name, help, labels string
	v                  atomic.Uint64
}

// latencyBuckets are the upper bounds (seconds) of the request latency histogram.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type histogram struct {
	counts [15]atomic.Uint64 // one per bucket, then +Inf
	sumNs  atomic.Uint64
	count  atomic.Uint64
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i, _ := slices.BinarySearch(latencyBuckets, s)
	h.counts[i].Add(1)
	h.sumNs.Add(uint64(d))
	h.count.Add(1)
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{requests: map[requestKey]*atomic.Uint64{}, latency: map[string]*histogram{},
		counters: map[string]*counter{}, started: time.Now()}
}

// observe records one finished request.
func (m *Metrics) observe(method, route string, code int, d time.Duration) {
	k := requestKey{method, route, code}
	hk := method + " " + route
	m.mu.RLock()
	c, h := m.requests[k], m.latency[hk]
	m.mu.RUnlock()
	if c == nil || h == nil {
		m.mu.Lock()
		if c = m.requests[k]; c == nil {
			c = &atomic.Uint64{}
			m.requests[k] = c
		}
		if h = m.latency[hk]; h == nil {
			h = &histogram{}
			m.latency[hk] = h
		}
		m.mu.Unlock()
	}
	c.Add(1)
	h.observe(d)
}

// Counter returns the counter called name with the given labels ("endpoint=\"group\""),
// creating it on first use; help describes the metric.
func (m *Metrics) Counter(name, help, labels string) *atomic.Uint64 {
	key := name + "{" + labels + "}"
	m.mu.RLock()
	c := m.counters[key]
	m.mu.RUnlock()
	if c != nil {
		return &c.v
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c = m.counters[key]; c == nil {
		c = &counter{name: name, help: help, labels: labels}
		m.counters[key] = c
	}
	return &c.v
}

// WriteText renders every metric in the Prometheus text format.
func (m *Metrics) WriteText(b *bytes.Buffer) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b.WriteString("# HELP drg_http_requests_total HTTP requests served, by method, route and status code.\n")
	b.WriteString("# TYPE drg_http_requests_total counter\n")
	keys := make([]requestKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b requestKey) int {
		if a.route != b.route {
			return cmpStr(a.route, b.route)
		}
		if a.method != b.method {
			return cmpStr(a.method, b.method)
		}
		return a.code - b.code
	})
	for _, k := range keys {
		fmt.Fprintf(b, "drg_http_requests_total{method=%q,route=%q,code=\"%d\"} %d\n", k.method, k.route, k.code, m.requests[k].Load())
	}
	b.WriteString("# HELP drg_http_request_duration_seconds Time to serve HTTP requests, by method and route.\n")
	b.WriteString("# TYPE drg_http_request_duration_seconds histogram\n")
	hkeys := make([]string, 0, len(m.latency))
	for k := range m.latency {
		hkeys = append(hkeys, k)
	}
	slices.Sort(hkeys)
	for _, k := range hkeys {
		method, route, _ := cutSpace(k)
		h := m.latency[k]
		var cum uint64
		for i := range len(latencyBuckets) + 1 {
			cum += h.counts[i].Load()
			le := "+Inf"
			if i < len(latencyBuckets) {
				le = strconv.FormatFloat(latencyBuckets[i], 'g', -1, 64)
			}
			fmt.Fprintf(b, "drg_http_request_duration_seconds_bucket{method=%q,route=%q,le=%q} %d\n", method, route, le, cum)
		}
		fmt.Fprintf(b, "drg_http_request_duration_seconds_sum{method=%q,route=%q} %s\n", method, route,
			strconv.FormatFloat(float64(h.sumNs.Load())/1e9, 'g', -1, 64))
		fmt.Fprintf(b, "drg_http_request_duration_seconds_count{method=%q,route=%q} %d\n", method, route, h.count.Load())
	}
	b.WriteString("# HELP drg_http_requests_in_flight HTTP requests being served.\n# TYPE drg_http_requests_in_flight gauge\n")
	fmt.Fprintf(b, "drg_http_requests_in_flight %d\n", m.inFlight.Load())
	ckeys := make([]string, 0, len(m.counters))
	for k := range m.counters {
		ckeys = append(ckeys, k)
	}
	slices.Sort(ckeys)
	last := ""
	for _, k := range ckeys {
		c := m.counters[k]
		if c.name != last {
			fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s counter\n", c.name, c.help, c.name)
			last = c.name
		}
		fmt.Fprintf(b, "%s{%s} %d\n", c.name, c.labels, c.v.Load())
	}
	b.WriteString("# HELP drg_uptime_seconds Seconds since the server started.\n# TYPE drg_uptime_seconds gauge\n")
	fmt.Fprintf(b, "drg_uptime_seconds %d\n", int64(math.Round(time.Since(m.started).Seconds())))
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cutSpace(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
