package api_test

import (
	"bytes"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetrics scrapes /metrics after a few requests and parses it with the Prometheus text
// parser: the metric names of the hand-written exposition are kept, and the new families
// (grouping and CAC durations, batch sizes, database pool, Go runtime, process) are there.
func TestMetrics(t *testing.T) {
	ts := newTestServer(t)
	ts.do("POST", "/v1/group", coder, hfClaim).expect(t, 200)
	ts.do("POST", "/v1/group", coder, `{`).expect(t, 400)
	ts.do("POST", "/v1/group/batch", coder, "["+hfClaim+","+hfClaim+"]").expect(t, 200)
	ts.do("POST", "/v1/group/batch", coder, hfClaim+"\n"+hfClaim+"\n"+hfClaim+"\n", "Content-Type", "application/x-ndjson").expect(t, 200)
	r := ts.do("GET", "/metrics", "", nil).expect(t, 200)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, r.body)
	}
	tests := []struct {
		family string
		typ    dto.MetricType
		labels map[string]string // the series with these labels (nil: the only/first series)
		// value: counter or gauge value, histogram sample count; min: at least that (-1: any).
		value, min float64
	}{
		{"drg_http_requests_total", dto.MetricType_COUNTER, map[string]string{"method": "POST", "route": "/v1/group", "code": "200"}, 1, 0},
		{"drg_http_requests_total", dto.MetricType_COUNTER, map[string]string{"method": "POST", "route": "/v1/group", "code": "400"}, 1, 0},
		{"drg_http_requests_total", dto.MetricType_COUNTER, map[string]string{"method": "POST", "route": "/v1/group/batch", "code": "200"}, 2, 0},
		{"drg_http_request_duration_seconds", dto.MetricType_HISTOGRAM, map[string]string{"method": "POST", "route": "/v1/group", "code": "200"}, 1, 0},
		{"drg_http_request_duration_seconds", dto.MetricType_HISTOGRAM, map[string]string{"method": "POST", "route": "/v1/group", "code": "400"}, 1, 0},
		{"drg_http_requests_in_flight", dto.MetricType_GAUGE, nil, 1, 0}, // the scrape itself
		{"drg_claims_grouped_total", dto.MetricType_COUNTER, map[string]string{"endpoint": "group"}, 6, 0},
		{"drg_grouping_duration_seconds", dto.MetricType_HISTOGRAM, map[string]string{"endpoint": "group"}, 6, 0},
		{"drg_batch_claims", dto.MetricType_HISTOGRAM, map[string]string{"format": "json"}, 1, 0},
		{"drg_batch_claims", dto.MetricType_HISTOGRAM, map[string]string{"format": "jsonl"}, 1, 0},
		{"drg_cac_duration_seconds", dto.MetricType_HISTOGRAM, nil, 0, 0},
		{"drg_uptime_seconds", dto.MetricType_GAUGE, nil, -1, 0},
		{"go_sql_max_open_connections", dto.MetricType_GAUGE, map[string]string{"db_name": "writer"}, -1, 1},
		{"go_goroutines", dto.MetricType_GAUGE, nil, -1, 1},
		{"process_cpu_seconds_total", dto.MetricType_COUNTER, nil, -1, 0},
	}
	for _, tt := range tests {
		f := fams[tt.family]
		if f == nil {
			t.Errorf("%s: not exposed", tt.family)
			continue
		}
		if f.GetType() != tt.typ {
			t.Errorf("%s: type %v, want %v", tt.family, f.GetType(), tt.typ)
			continue
		}
		m := series(f, tt.labels)
		if m == nil {
			t.Errorf("%s: no series %v", tt.family, tt.labels)
			continue
		}
		var v float64
		switch tt.typ {
		case dto.MetricType_COUNTER:
			v = m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			v = m.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			v = float64(m.GetHistogram().GetSampleCount())
			if b := m.GetHistogram().GetBucket(); len(b) == 0 {
				t.Errorf("%s %v: no buckets", tt.family, tt.labels)
			}
		}
		if tt.value >= 0 && v != tt.value || v < tt.min {
			t.Errorf("%s %v = %v, want %v (at least %v)", tt.family, tt.labels, v, tt.value, tt.min)
		}
	}
}

// series returns the metric of f whose labels include want (the first when want is nil).
func series(f *dto.MetricFamily, want map[string]string) *dto.Metric {
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}
