package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/store"
)

// limitedServer is a test server with the given heavy-work limits.
func limitedServer(t *testing.T, total, perUser int) *testServer {
	t.Helper()
	c, e := catalog(t)
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "drg.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := api.New(api.Config{Catalog: c, Store: st, Engine: e, Now: func() time.Time { return fixedNow },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), HeavyTotal: total, HeavyPerUser: perUser})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	ts := &testServer{t: t, URL: hs.URL, srv: srv, st: st, tokens: map[store.Role]string{}, logs: &syncBuffer{}}
	for _, r := range store.Roles {
		_, tok, err := st.CreateUser(context.Background(), store.CLIActor, "user-"+string(r), r)
		if err != nil {
			t.Fatal(err)
		}
		ts.tokens[r] = tok
	}
	return ts
}

// openBatch starts a JSON array batch as role whose body stays open until the returned
// writer is closed; the response arrives on the channel.
func (ts *testServer) openBatch(role store.Role) (*io.PipeWriter, <-chan *http.Response) {
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", ts.URL+"/v1/group/batch", pr)
	req.Header.Set("Authorization", "Bearer "+ts.tokens[role])
	req.Header.Set("Content-Type", "application/json")
	// A failing test must not leave the server waiting for the body.
	ts.t.Cleanup(func() { pw.CloseWithError(io.ErrUnexpectedEOF) })
	ch := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			ts.t.Error(err)
			close(ch)
			return
		}
		ch <- resp
	}()
	return pw, ch
}

// TestHeavyWorkLimits: batches (and other heavy requests) beyond a user's bound get 429,
// beyond the server's 503, both with Retry-After, at once; places free up when requests end
// (issue 22 item 1).
func TestHeavyWorkLimits(t *testing.T) {
	ts := limitedServer(t, 2, 1)
	small := "[" + hfClaim + "]"
	// A coder's batch in progress (its body still open) takes the coder's one place.
	a, aResp := ts.openBatch(coder)
	if _, err := io.WriteString(a, "["+hfClaim); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var r reply
	for {
		r = ts.do("POST", "/v1/group/batch", coder, small)
		if r.StatusCode == http.StatusTooManyRequests || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.expect(t, http.StatusTooManyRequests)
	if p := r.problem(t); r.Header.Get("Retry-After") == "" || !strings.Contains(p.Detail, "one user") {
		t.Errorf("429 without Retry-After or reason: %v %q", r.Header, p.Detail)
	}
	// Other heavy routes count too (the CAC body limit is above the default).
	ts.do("POST", "/v1/cac", coder, `{"notes":[{"text":"x"}]}`).expect(t, http.StatusTooManyRequests)
	// Light requests are not limited.
	ts.do("POST", "/v1/group", coder, hfClaim).expect(t, http.StatusOK)
	// A CDI batch takes the server's second place; the third caller gets 503.
	b, bResp := ts.openBatch(cdi)
	io.WriteString(b, "[")
	for {
		r = ts.do("POST", "/v1/group/batch", finance, small)
		if r.StatusCode == http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.expect(t, http.StatusServiceUnavailable)
	if p := r.problem(t); r.Header.Get("Retry-After") == "" || p.Type != "urn:drg:problem:busy" {
		t.Errorf("503 without Retry-After or type: %v %q", r.Header, p.Type)
	}
	// The batches in progress finish normally and free their places.
	io.WriteString(a, "]")
	a.Close()
	io.WriteString(b, hfClaim+"]")
	b.Close()
	for _, ch := range []<-chan *http.Response{aResp, bResp} {
		resp := <-ch
		var items []map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&items); err != nil || resp.StatusCode != 200 || len(items) != 1 || path(items[0], "final.drg") != 291.0 {
			t.Errorf("batch in progress: %d %v %v", resp.StatusCode, err, items)
		}
		resp.Body.Close()
	}
	ts.do("POST", "/v1/group/batch", finance, small).expect(t, http.StatusOK)
	ts.do("POST", "/v1/group/batch", coder, small).expect(t, http.StatusOK)
}

// TestBatchJSONStreams: a JSON array batch is answered as it is read — the first claims'
// records arrive while the request body is still open — so memory does not grow with the
// batch; the counts come in trailers (issue 22 item 1).
func TestBatchJSONStreams(t *testing.T) {
	ts := newTestServer(t)
	ts.t = t
	w, respc := ts.openBatch(coder)
	go func() {
		io.WriteString(w, "[")
		for i := range 300 {
			if i > 0 {
				io.WriteString(w, ",")
			}
			io.WriteString(w, hfClaim)
		}
		// The body stays open until the test has seen the first records.
	}()
	var resp *http.Response
	select {
	case resp = <-respc:
	case <-time.After(60 * time.Second):
		t.Fatal("no answer while the body is open: the batch is not streamed")
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	seen := make(chan int, 1)
	go func() {
		n := 0
		for {
			line, err := br.ReadString('}')
			n += strings.Count(line, `"final":`)
			if n >= 256 || err != nil {
				seen <- n
				return
			}
		}
	}()
	select {
	case n := <-seen:
		if n < 256 {
			t.Fatalf("only %d records before the body ended", n)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the first records did not arrive while the body was open: the batch is not streamed")
	}
	io.WriteString(w, "]")
	w.Close()
	rest, _ := io.ReadAll(br)
	if n := strings.Count(string(rest), `"final":`); n != 300-256 && n != 300-256+1 {
		t.Errorf("%d records after the body ended", n)
	}
	if resp.Trailer.Get("X-Claims") != "300" || resp.Trailer.Get("X-Claims-Grouped") != "300" {
		t.Errorf("trailers %v", resp.Trailer)
	}
}

// TestClaimSizeBounds: a claim holds at most 1,000 secondary diagnoses and procedures (422
// naming the field, on one claim and in a batch record), and a JSON batch claim larger than
// MaxClaimBytes or an NDJSON line without end is refused without reading it whole.
func TestClaimSizeBounds(t *testing.T) {
	ts := newTestServer(t)
	sdx := func(n int) string {
		return strings.TrimSuffix(strings.Repeat(`{"code":"E119","poa":"Y"},`, n), ",")
	}
	many := `{"discharge_date":"2026-05-01","pdx":{"code":"I5023"},"sdx":[` + sdx(1001) + `]}`
	p := ts.do("POST", "/v1/group", coder, many).expect(t, http.StatusUnprocessableEntity).problem(t)
	if fs := errorFields(p); len(fs) != 1 || fs[0] != "sdx" {
		t.Errorf("1001 sdx: fields %v", fs)
	}
	ts.do("POST", "/v1/mce", coder, many).expect(t, http.StatusUnprocessableEntity)
	ts.do("POST", "/v1/group", coder, `{"discharge_date":"2026-05-01","pdx":{"code":"I5023"},"sdx":[`+sdx(1000)+`]}`).expect(t, http.StatusOK)
	procs := `{"discharge_date":"2026-05-01","pdx":{"code":"I5023"},"procedures":[` + strings.TrimSuffix(strings.Repeat(`{"code":"02703DZ"},`, 1001), ",") + `]}`
	if fs := errorFields(ts.do("POST", "/v1/group", coder, procs).expect(t, http.StatusUnprocessableEntity).problem(t)); len(fs) != 1 || fs[0] != "procedures" {
		t.Errorf("1001 procedures: fields %v", fs)
	}
	r := ts.do("POST", "/v1/group/batch", coder, "["+hfClaim+","+many+"]").expect(t, http.StatusOK)
	if !strings.Contains(string(r.body), `"index":1`) || !strings.Contains(string(r.body), `"field":"sdx"`) {
		t.Errorf("batch record of 1001 sdx: %.300s", r.body)
	}
	nd := ts.do("POST", "/v1/group/batch", coder, hfClaim+"\n"+many+"\n", "Content-Type", "application/x-ndjson").expect(t, http.StatusOK)
	if !strings.Contains(string(nd.body), `"line":2`) || !strings.Contains(string(nd.body), `"sdx"`) {
		t.Errorf("NDJSON record of 1001 sdx: %.300s", nd.body)
	}
	huge := `{"id":"` + strings.Repeat("x", api.MaxClaimBytes) + `"}`
	ts.do("POST", "/v1/group/batch", coder, "["+huge+"]").expect(t, http.StatusRequestEntityTooLarge).problem(t)
	long := ts.do("POST", "/v1/group/batch", coder, hfClaim+"\n"+`{"id":"`+strings.Repeat("y", 2<<20)+"\n", "Content-Type", "application/x-ndjson").expect(t, http.StatusOK)
	if !strings.Contains(string(long.body), `"stream":"aborted"`) || !strings.Contains(string(long.body), "longer than") {
		t.Errorf("NDJSON line without end: %.300s", long.body)
	}
}
