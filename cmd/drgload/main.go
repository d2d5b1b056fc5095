// Command drgload is the load check of drg serve: it sends requests from concurrent clients
// over keep-alive connections for a bounded time and reports throughput and latency
// percentiles.
//
//	drgload --token TOKEN --mode group      --concurrency 32 --duration 10s
//	drgload --token TOKEN --mode encounters --concurrency 8  --duration 10s
//
// --url takes a comma-separated list of servers (several instances on one database): the
// clients are spread over them in turn, as a load balancer would. It only targets loopback
// addresses.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const groupBody = `{"id":"L1","discharge_date":"2026-05-01","age":70,"sex":"M","discharge_status":1,"pdx":{"code":"I5023","poa":"Y"},"sdx":[{"code":"J9601","poa":"Y"},{"code":"E119","poa":"Y"},{"code":"N179","poa":"N"}],"procedures":[{"code":"02703DZ"}]}`

func encounterBody(account string) []byte {
	return []byte(`{"account":"` + account + `","facility":"LOAD","admit_date":"2026-04-27","discharge_date":"2026-05-01","age":70,"sex":"M","discharge_status":1,"payer":"MEDICARE","unit":"4W","attending_provider":{"id":"P1"},"pdx":{"code":"I5023","poa":"Y"},"sdx":[{"code":"J9601","poa":"Y"},{"code":"E119","poa":"Y"}],"procedures":[{"code":"02703DZ"}],"evidence":[{"kind":"lab","name":"Creatinine","value":1.6,"unit":"mg/dL","time":"2026-04-28T06:00:00Z"}]}`)
}

func main() {
	baseList := flag.String("url", "http://127.0.0.1:8080", "server URL, or several separated by commas (instances sharing a database; clients are spread over them); loopback only")
	token := flag.String("token", os.Getenv("DRG_TOKEN"), "API token (default $DRG_TOKEN)")
	mode := flag.String("mode", "group", "group (POST /v1/group) or encounters (POST /v1/encounters)")
	conc := flag.Int("concurrency", 32, "concurrent clients")
	dur := flag.Duration("duration", 10*time.Second, "measurement time (at most 5m)")
	warm := flag.Duration("warmup", 2*time.Second, "warm-up time, not measured")
	rate := flag.Float64("rate", 0, "open loop: send this many requests per second on a fixed schedule, latency measured from each request's scheduled time (0: closed loop, each client sends as soon as its previous answer arrives)")
	flag.Parse()
	bases := strings.Split(*baseList, ",")
	for i, b := range bases {
		bases[i] = strings.TrimRight(strings.TrimSpace(b), "/")
		u, err := url.Parse(bases[i])
		if err != nil {
			fatal(err)
		}
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			fatal(fmt.Errorf("drgload only targets loopback addresses, not %q", u.Hostname()))
		}
	}
	if *dur > 5*time.Minute || *dur <= 0 || *conc <= 0 || *conc > 1024 {
		fatal(fmt.Errorf("duration must be in (0, 5m] and concurrency in [1, 1024]"))
	}
	waitReady(bases, 2*time.Minute)
	tr := &http.Transport{MaxIdleConns: *conc, MaxIdleConnsPerHost: *conc, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var seq atomic.Int64
	stamp := time.Now().UnixNano()
	request := func(base string) (*http.Request, error) {
		var body []byte
		path := "/v1/group"
		switch *mode {
		case "group":
			body = []byte(groupBody)
		case "encounters":
			path = "/v1/encounters"
			body = encounterBody(fmt.Sprintf("L%d-%d", stamp, seq.Add(1)))
		default:
			return nil, fmt.Errorf("unknown mode %q", *mode)
		}
		req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+*token)
		return req, nil
	}
	run := func(d time.Duration, record bool) ([][]time.Duration, map[int]int, time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		lat := make([][]time.Duration, *conc)
		statuses := make([]map[int]int, *conc)
		var wg sync.WaitGroup
		start := time.Now()
		var schedule chan time.Time
		if *rate > 0 {
			schedule = make(chan time.Time, 4*(*conc))
			go func() {
				defer close(schedule)
				interval := time.Duration(float64(time.Second) / *rate)
				for k := 0; ; k++ {
					at := start.Add(time.Duration(k) * interval)
					if d := time.Until(at); d > 0 {
						time.Sleep(d)
					}
					if ctx.Err() != nil {
						return
					}
					schedule <- at
				}
			}()
		}
		for w := range *conc {
			statuses[w] = map[int]int{}
			wg.Go(func() {
				for ctx.Err() == nil {
					t0 := time.Now()
					if schedule != nil {
						at, ok := <-schedule
						if !ok {
							return
						}
						t0 = at
					}
					req, err := request(bases[w%len(bases)])
					if err != nil {
						fatal(err)
					}
					resp, err := client.Do(req)
					if err != nil {
						statuses[w][-1]++
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if record {
						lat[w] = append(lat[w], time.Since(t0))
					}
					statuses[w][resp.StatusCode]++
				}
			})
		}
		wg.Wait()
		total := map[int]int{}
		for _, s := range statuses {
			for k, v := range s {
				total[k] += v
			}
		}
		return lat, total, time.Since(start)
	}
	if *warm > 0 {
		run(*warm, false)
	}
	lat, statuses, elapsed := run(*dur, true)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	ok := 0
	for code, n := range statuses {
		if code >= 200 && code < 300 {
			ok += n
		}
	}
	fmt.Printf("mode=%s rate=%.0f concurrency=%d servers=%d duration=%s requests=%d ok=%d statuses=%v\n", *mode, *rate, *conc, len(bases), elapsed.Round(time.Millisecond), len(all), ok, statuses)
	fmt.Printf("throughput %.0f req/s (2xx %.0f/s)  latency p50 %s p90 %s p99 %s max %s\n",
		float64(len(all))/elapsed.Seconds(), float64(ok)/elapsed.Seconds(),
		pct(0.50).Round(time.Microsecond), pct(0.90).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
	if ok != len(all) {
		os.Exit(1)
	}
}

// waitReady waits until every server answers GET /readyz with 200 (it loads its reference
// data first), or stops the program after timeout.
func waitReady(bases []string, timeout time.Duration) {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for _, b := range bases {
		for {
			resp, err := c.Get(b + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				fatal(fmt.Errorf("%s is not ready after %s", b, timeout))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "drgload:", err)
	os.Exit(2)
}
