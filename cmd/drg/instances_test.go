package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/internal/pgtest"
	"github.com/msdrg-cdi/drg/internal/ssotest"
	"github.com/msdrg-cdi/drg/store"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// ack is an encounter write the server acknowledged (201).
type ack struct{ id, account string }

// writeLoad is a set of clients creating encounters until stopped or until their server is gone.
type writeLoad struct {
	mu       sync.Mutex
	acked    []ack
	attempts atomic.Int64
	stop     chan struct{}
	wg       sync.WaitGroup
}

// startWriters starts perAddr clients per server address, each creating encounters with
// accounts prefix<client>-<n>.
func startWriters(t *testing.T, token, prefix string, perAddr int, addrs ...string) *writeLoad {
	t.Helper()
	l := &writeLoad{stop: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second}
	for a, addr := range addrs {
		for w := range perAddr {
			l.wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-l.stop:
						return
					default:
					}
					account := fmt.Sprintf("%s%d-%d-%05d", prefix, a, w, i)
					body := `{"account":"` + account + `","facility":"MAIN","discharge_date":"2026-05-01","age":70,"sex":"F",
					"pdx":{"code":"I5023","poa":"Y"},"sdx":[{"code":"E119","poa":"Y"},{"code":"N179","poa":"N"}],
					"evidence":[{"kind":"lab","name":"Creatinine","value":1.9,"unit":"mg/dL"}]}`
					req, _ := http.NewRequest("POST", "http://"+addr+"/v1/encounters", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/json")
					l.attempts.Add(1)
					resp, err := client.Do(req)
					if err != nil {
						return // the server is gone
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						t.Errorf("write %s: %d %s", account, resp.StatusCode, b)
						return
					}
					var e struct{ ID string }
					json.Unmarshal(b, &e)
					l.mu.Lock()
					l.acked = append(l.acked, ack{e.ID, account})
					l.mu.Unlock()
				}
			})
		}
	}
	return l
}

// waitAcked waits until n writes are acknowledged or the timeout passes.
func (l *writeLoad) waitAcked(n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if l.count() >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// count returns the number of acknowledged writes so far.
func (l *writeLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// finish stops the clients and returns the acknowledged writes.
func (l *writeLoad) finish() []ack {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked
}

// call sends a JSON request with a bearer token and returns the status, the ETag and the body.
func call(t *testing.T, method, u, token string, body any, headers ...string) (int, string, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, u, err) // not Fatal: callers may be other goroutines
		return -1, "", nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag"), b
}

// auditPage reads one page of the audit log (the row numbers) and the cursor of the next.
func auditPage(t *testing.T, base, token, cursor string, limit int) ([]int64, string) {
	t.Helper()
	st, _, b := call(t, "GET", fmt.Sprintf("%s/v1/audit?limit=%d&cursor=%s", base, limit, url.QueryEscape(cursor)), token, nil)
	if st != 200 {
		t.Errorf("audit: %d %s", st, b)
		return nil, ""
	}
	var page struct {
		Items      []struct{ ID int64 }
		NextCursor string `json:"next_cursor"`
	}
	json.Unmarshal(b, &page)
	ids := make([]int64, len(page.Items))
	for i, e := range page.Items {
		ids[i] = e.ID
	}
	return ids, page.NextCursor
}

// auditIDs pages through the whole audit log of a server and returns the row numbers in order.
func auditIDs(t *testing.T, base, token string) []int64 {
	t.Helper()
	var ids []int64
	cursor := ""
	for {
		page, next := auditPage(t, base, token, cursor, 1000)
		ids = append(ids, page...)
		if next == "" {
			return ids
		}
		cursor = next
	}
}

// checkNumbering fails unless ids are first, first+1, … (no gap, no duplicate, in order).
func checkNumbering(t *testing.T, what string, ids []int64, first int64) {
	t.Helper()
	for i, id := range ids {
		if id != first+int64(i) {
			t.Fatalf("%s: position %d holds audit row %d, want %d (gap or duplicate)", what, i, id, first+int64(i))
		}
	}
}

var periodRun = regexp.MustCompile(`"msg":"periodic job ran","job":"query-escalation","period":"([^"]+)"`)

// TestOIDCFlags: single sign-on settings are checked before anything starts.
func TestOIDCFlags(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o600)
	for _, c := range []struct {
		issuer, client, secretFile, roleMap string
		err                                 string // "" when valid
		on                                  bool
	}{
		{"", "", "", "", "", false},
		{"https://idp", "drg", secret, "g=coder", "", true},
		{"https://idp", "drg", "", "g=coder", "", true}, // a public client (PKCE only)
		{"", "drg", "", "", "need --oidc-issuer", false},
		{"https://idp", "", "", "g=coder", "needs --oidc-client-id and --oidc-role-map", false},
		{"https://idp", "drg", "", "", "needs --oidc-client-id and --oidc-role-map", false},
		{"https://idp", "drg", "", "g=boss", "unknown role", false},
		{"https://idp", "drg", filepath.Join(t.TempDir(), "absent"), "g=coder", "no such file", false},
		{"https://idp", "drg", empty, "g=coder", "is empty", false},
	} {
		cfg, err := oidcConfig(c.issuer, c.client, c.secretFile, "groups", c.roleMap, "openid profile", "")
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%+v: error %v, want %q", c, err, c.err)
		case c.err == "" && (err != nil || (cfg != nil) != c.on):
			t.Errorf("%+v: %+v %v", c, cfg, err)
		case cfg != nil && c.secretFile == secret && cfg.ClientSecret != "s3cret":
			t.Errorf("secret %q", cfg.ClientSecret)
		}
	}
	if st, _, errs := drg(t, "", "serve", "--oidc-client-id", "x"); st != exitUsage || !strings.Contains(errs, "--oidc-issuer") {
		t.Errorf("serve with a client id only: %d %s", st, errs)
	}
}

// TestTwoInstancesOnPostgres starts two drg serve processes on one PostgreSQL database, with
// single sign-on against an OpenID provider in the test, and shows that they behave as one
// service: writes through one are read through the other; of two concurrent edits with the same
// If-Match exactly one wins; a session started on one is valid on the other (and a sign-in
// started on one completes on the other); the query escalation runs once per period across
// both; the audit log has no gap or duplicate under concurrent writes through both, even for a
// reader following it meanwhile; and killing one with SIGKILL in the middle of writes loses no
// acknowledged write.
func TestTwoInstancesOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dsn := pgtest.Schema(t)
	bin := buildDrg(t)
	admin := addUser(t, bin, dsn, "admin", "admin")
	cdiTok := addUser(t, bin, dsn, "cdi-specialist", "cdi")
	// The instances run as an application role that may only insert audit rows; each migrates
	// with the owner role (dsn) at start (--migrate-db).
	appDSN := appRoleDSN(t, dsn)
	idp := ssotest.Start(t)
	secretFile := filepath.Join(t.TempDir(), "oidc-secret")
	if err := os.WriteFile(secretFile, []byte(idp.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := func(name string) []string {
		return []string{"--instance", name, "--oidc-issuer", idp.Issuer(), "--oidc-client-id", idp.ClientID,
			"--oidc-client-secret-file", secretFile, "--oidc-role-map", "drg-cdi=cdi,drg-coders=coder",
			"--query-escalation-every", "1s", "--query-escalation-hours", "0.0005", // overdue 1.8 s after sending
			"--migrate-db", dsn}
	}
	var a, b *server
	var wg sync.WaitGroup // both start at once: one migrates the new schema, the other waits for it
	wg.Go(func() { a = startServer(t, bin, appDSN, flags("instance-a")...) })
	wg.Go(func() { b = startServer(t, bin, appDSN, flags("instance-b")...) })
	wg.Wait()
	if a == nil || b == nil {
		t.FailNow()
	}
	A, B := "http://"+a.addr, "http://"+b.addr

	t.Run("the service's role cannot remove audit rows", func(t *testing.T) {
		db := openGorm(t, appDSN)
		for _, q := range []string{"TRUNCATE audit_log", "DELETE FROM audit_log", "UPDATE audit_log SET action = 'x'", "ALTER TABLE audit_log DISABLE TRIGGER USER"} {
			if err := db.Exec(q).Error; err == nil {
				t.Errorf("the service's role ran %q", q)
			}
		}
		if err := openGorm(t, dsn).Exec("TRUNCATE audit_log").Error; err == nil {
			t.Error("the owner truncated the audit log")
		}
	})

	t.Run("revocation and demotion reach the other instance within a second", func(t *testing.T) {
		st, _, body := call(t, "POST", A+"/v1/users", admin, map[string]any{"name": "leaver", "role": "admin", "expires_in_days": 90})
		if st != 201 {
			t.Fatalf("create user: %d %s", st, body)
		}
		var nt api.NewToken
		json.Unmarshal(body, &nt)
		u := fmt.Sprintf("/v1/users/%d", nt.User.ID)
		within := func(what string, ok func() bool) {
			t.Helper()
			start := time.Now()
			for !ok() {
				if time.Since(start) > time.Second {
					t.Fatalf("%s: still not seen by B after 1 s", what)
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("%s seen by B after %v", what, time.Since(start).Round(time.Millisecond))
		}
		if st, _, _ := call(t, "GET", B+"/v1/users", nt.Token, nil); st != 200 { // cached on B as an admin
			t.Fatalf("admin list on B: %d", st)
		}
		_, tag, _ := call(t, "GET", A+u, admin, nil)
		if st, _, body := call(t, "PATCH", A+u, admin, map[string]any{"role": "finance"}, "If-Match", tag); st != 200 {
			t.Fatalf("demote on A: %d %s", st, body)
		}
		within("demotion", func() bool { st, _, _ := call(t, "GET", B+"/v1/users", nt.Token, nil); return st == 403 })
		_, tag, _ = call(t, "GET", A+u, admin, nil)
		if st, _, body := call(t, "DELETE", A+u+"/tokens", admin, nil, "If-Match", tag); st != 200 {
			t.Fatalf("revoke on A: %d %s", st, body)
		}
		within("revocation", func() bool { st, _, _ := call(t, "GET", B+"/v1/me", nt.Token, nil); return st == 401 })
	})

	t.Run("write through one, read through the other", func(t *testing.T) {
		st, etag, body := call(t, "POST", A+"/v1/encounters", admin, map[string]any{"account": "X-1", "facility": "MAIN",
			"discharge_date": "2026-05-01", "pdx": map[string]string{"code": "I5023", "poa": "Y"}})
		if st != 201 {
			t.Fatalf("create through A: %d %s", st, body)
		}
		var e store.Encounter
		json.Unmarshal(body, &e)
		st, etag2, body := call(t, "GET", B+"/v1/encounters/"+e.ID, admin, nil)
		var got store.Encounter
		json.Unmarshal(body, &got)
		if st != 200 || got.Account != "X-1" || etag2 != etag {
			t.Errorf("read through B: %d %s (ETag %s, A said %s)", st, body, etag2, etag)
		}
	})

	t.Run("concurrent edits with the same If-Match", func(t *testing.T) {
		st, etag, body := call(t, "POST", B+"/v1/encounters", admin, map[string]any{"account": "X-2", "facility": "MAIN"})
		if st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
		var e store.Encounter
		json.Unmarshal(body, &e)
		for round := range 10 {
			statuses := make([]int, 2)
			var next [2]string
			var wg sync.WaitGroup
			for i, base := range []string{A, B} {
				wg.Go(func() {
					statuses[i], next[i], _ = call(t, "PATCH", base+"/v1/encounters/"+e.ID, admin,
						map[string]any{"unit": fmt.Sprintf("R%d-%d", round, i)}, "If-Match", etag)
				})
			}
			wg.Wait()
			won := 0
			for i, s := range statuses {
				switch s {
				case 200:
					won++
					etag = next[i]
				case 412:
				default:
					t.Fatalf("round %d: status %d", round, s)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: statuses %v, want one 200 and one 412", round, statuses)
			}
		}
	})

	t.Run("a session started on one is valid on the other", func(t *testing.T) {
		br := ssotest.NewBrowser() // cookies are per host, not port: A and B are one site, as behind a load balancer
		idp.User("sub-hal", "hal", "drg-cdi")
		resp, body := br.Get(t, A+"/auth/login?next=%23%2Fworklist")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in on A: %d %.300s", resp.StatusCode, body)
		}
		resp, raw := br.Do(t, "GET", B+"/auth/session", nil)
		var info api.SessionInfo
		json.Unmarshal(raw, &info)
		if resp.StatusCode != 200 || info.User.Name != "hal" || info.User.Role != "cdi" {
			t.Fatalf("session on B: %d %s", resp.StatusCode, raw)
		}
		// A change through B with the CSRF token B gave, then sign-out through A ends it on B.
		resp, raw = br.Do(t, "POST", B+"/v1/encounters", []byte(`{"account":"X-3","facility":"MAIN"}`), api.CSRFHeader, info.CSRFToken)
		if resp.StatusCode != 201 {
			t.Errorf("write with the session on B: %d %s", resp.StatusCode, raw)
		}
		if resp, raw := br.Do(t, "POST", A+"/auth/logout", nil, api.CSRFHeader, info.CSRFToken); resp.StatusCode != 204 {
			t.Errorf("sign-out on A: %d %s", resp.StatusCode, raw)
		}
		if resp, _ := br.Do(t, "GET", B+"/v1/me", nil); resp.StatusCode != 401 {
			t.Errorf("session on B after sign-out on A: %d", resp.StatusCode)
		}
		// A sign-in started on A and answered to B (the load balancer chose another instance).
		idp.User("sub-ida", "ida", "drg-coders")
		step := *br.Client
		step.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		login, err := step.Get(A + "/auth/login")
		if err != nil {
			t.Fatal(err)
		}
		login.Body.Close()
		toIdP, err := step.Get(login.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		toIdP.Body.Close()
		cb, err := url.Parse(toIdP.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		cb.Host = b.addr
		if resp, body := br.Get(t, cb.String()); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback on B of a sign-in started on A: %d %.300s", resp.StatusCode, body)
		}
		if resp, raw := br.Do(t, "GET", A+"/v1/me", nil); resp.StatusCode != 200 || !strings.Contains(string(raw), `"ida"`) {
			t.Errorf("session on A: %d %s", resp.StatusCode, raw)
		}
	})

	t.Run("query escalation runs once per period across instances", func(t *testing.T) {
		fixture, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "cdi", "07_sepsis3_positive_no_shock_without_pressor.json"))
		if err != nil {
			t.Fatal(err)
		}
		var f struct{ Encounter map[string]any }
		json.Unmarshal(fixture, &f)
		delete(f.Encounter, "id")
		st, _, body := call(t, "POST", A+"/v1/encounters", cdiTok, f.Encounter)
		if st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
		var e store.Encounter
		json.Unmarshal(body, &e)
		if st, _, body := call(t, "POST", B+"/v1/encounters/"+e.ID+"/review", cdiTok, nil); st != 200 {
			t.Fatalf("review: %d %s", st, body)
		}
		st, _, body = call(t, "POST", A+"/v1/encounters/"+e.ID+"/queries", cdiTok, map[string]any{"opportunity_id": "rule:sepsis_sofa"})
		if st != 201 {
			t.Fatalf("draft: %d %s", st, body)
		}
		var d struct{ Query struct{ ID string } }
		json.Unmarshal(body, &d)
		if st, _, body := call(t, "POST", B+"/v1/queries/"+d.Query.ID+"/send", cdiTok, nil, "If-Match", `"1"`); st != 200 {
			t.Fatalf("send: %d %s", st, body)
		}
		// Overdue 1.8 s after sending; escalated at the next period by one instance.
		var q struct {
			State string
			Audit []struct{ Action, Actor string }
		}
		deadline := time.Now().Add(30 * time.Second)
		for q.State != "escalated" && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
			_, _, body := call(t, "GET", A+"/v1/queries/"+d.Query.ID, cdiTok, nil)
			var detail struct{ Query json.RawMessage }
			json.Unmarshal(body, &detail)
			json.Unmarshal(detail.Query, &q)
		}
		if q.State != "escalated" {
			t.Fatalf("query not escalated within 30 s: %+v", q)
		}
		time.Sleep(2500 * time.Millisecond) // two more periods with nothing left to escalate
		escalated := 0
		for _, ev := range q.Audit {
			if ev.Action == "escalated" {
				escalated++
			}
		}
		if escalated != 1 {
			t.Errorf("escalated %d times: %+v", escalated, q.Audit)
		}
		// Both instances proposed the periods: over both, periods ran and periods were skipped
		// because the other instance had claimed them. (Which period ran where is checked at the
		// end, once the instances have stopped.)
		ran, skipped := 0, 0
		for _, base := range []string{A, B} {
			_, _, m := call(t, "GET", base+"/metrics", "", nil)
			for _, c := range []struct {
				outcome string
				n       *int
			}{{"ran", &ran}, {"skipped", &skipped}} {
				line := fmt.Sprintf("drg_job_runs_total{job=%q,outcome=%q} ", api.JobQueryEscalation, c.outcome)
				if i := bytes.Index(m, []byte(line)); i >= 0 {
					var v int
					fmt.Sscan(string(m[i+len(line):]), &v)
					*c.n += v
				}
			}
		}
		if ran < 3 || skipped < 2 {
			t.Errorf("metrics over both instances: %d periods ran, %d skipped", ran, skipped)
		}
		t.Logf("escalation periods so far, over both instances: %d ran, %d skipped (claimed by the other)", ran, skipped)
	})

	t.Run("audit log without gap or duplicate under concurrent writes through both", func(t *testing.T) {
		before := auditIDs(t, A, admin)
		checkNumbering(t, "before", before, 1)
		// A reader follows the log while 8 clients write through both instances.
		var seen []int64
		done := make(chan struct{})
		tailer := make(chan struct{})
		go func() {
			defer close(tailer)
			cursor, caughtUp := "", false
			for n := 0; ; n++ {
				page, _ := auditPage(t, []string{A, B}[n%2], admin, cursor, 200)
				seen = append(seen, page...)
				if len(page) > 0 {
					// The cursor after the last row read (the store's cursor encoding: next_cursor
					// is empty on the last page, and a follower must go on from there).
					enc, _ := json.Marshal(page[len(page)-1])
					cursor = base64.RawURLEncoding.EncodeToString(enc)
					continue
				}
				if caughtUp { // an empty page read after the writers finished: nothing is left
					return
				}
				select {
				case <-done:
					caughtUp = true
				case <-time.After(10 * time.Millisecond):
				}
			}
		}()
		load := startWriters(t, admin, "AUD", 4, a.addr, b.addr)
		load.waitAcked(400, 60*time.Second)
		acked := load.finish()
		close(done)
		<-tailer
		all := auditIDs(t, B, admin)
		checkNumbering(t, "whole log", all, 1)
		if want := len(before) + len(acked); len(all) != want {
			t.Errorf("%d audit rows, want %d (before) + %d (acknowledged creations)", len(all), len(before), len(acked))
		}
		checkNumbering(t, "followed while written", seen, 1)
		if len(seen) != len(all) {
			t.Errorf("the reader saw %d rows of %d", len(seen), len(all))
		}
		t.Logf("%d acknowledged writes, audit rows 1..%d, the reader saw them all in order", len(acked), len(all))
	})

	t.Run("SIGKILL of one instance mid-write loses no acknowledged write", func(t *testing.T) {
		load := startWriters(t, admin, "KILL", 4, a.addr, b.addr)
		load.waitAcked(300, 30*time.Second)
		if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		a.cmd.Wait()
		load.waitAcked(load.count()+100, 10*time.Second) // B goes on
		acked := load.finish()
		viaA := 0
		for _, w := range acked {
			if strings.HasPrefix(w.account, "KILL0-") {
				viaA++
			}
			st, _, body := call(t, "GET", B+"/v1/encounters/"+w.id, admin, nil)
			var e store.Encounter
			json.Unmarshal(body, &e)
			if st != 200 || e.Account != w.account {
				t.Fatalf("acknowledged %s (%s): %d %s", w.id, w.account, st, body)
			}
		}
		if viaA < 50 {
			t.Errorf("only %d writes acknowledged by the killed instance", viaA)
		}
		checkNumbering(t, "after the kill", auditIDs(t, B, admin), 1)
		t.Logf("%d acknowledged writes (%d by the killed instance) of %d attempted, all read back through the survivor",
			len(acked), viaA, load.attempts.Load())
	})

	// Once both have stopped: each escalation period ran on at most one instance, as claimed.
	b.cmd.Process.Signal(syscall.SIGTERM)
	b.cmd.Wait()
	checkJobRuns(t, dsn, map[string]*server{"instance-a": a, "instance-b": b})

	// The audit chain written by both instances verifies; removing a row as the owner breaks it.
	out, err := exec.Command(bin, "audit", "verify", "--db", appDSN).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "audit log OK") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
	owner := openGorm(t, dsn)
	if err := owner.Exec("ALTER TABLE audit_log DISABLE TRIGGER USER; DELETE FROM audit_log WHERE id = 7; ALTER TABLE audit_log ENABLE TRIGGER USER").Error; err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(bin, "audit", "verify", "--db", appDSN).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "row 7") {
		t.Errorf("audit verify after removing row 7: %v\n%s", err, out)
	}
}

// appRoleDSN creates a role for the service (dropped at the end) and returns a DSN of dsn's
// database whose sessions run as that role.
func appRoleDSN(t *testing.T, dsn string) string {
	t.Helper()
	role := fmt.Sprintf("drg_app_%d", time.Now().UnixNano())
	db := openGorm(t, dsn)
	if err := db.Exec("CREATE ROLE " + role + " NOLOGIN").Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db := openGorm(t, dsn)
		db.Exec("DROP OWNED BY " + role)
		db.Exec("DROP ROLE " + role)
	})
	return dsn + "&role=" + role
}

// openGorm opens a PostgreSQL connection closed at the end of the test.
func openGorm(t *testing.T, dsn string) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sdb, err := db.DB(); err == nil {
			sdb.Close()
		}
	})
	return db
}

// checkJobRuns compares the escalation runs the instances logged with the claims in the
// database: no period logged twice, every logged run finished and claimed by the instance that
// logged it, every finished run logged (a run claimed by a killed instance may be unfinished).
func checkJobRuns(t *testing.T, dsn string, servers map[string]*server) {
	t.Helper()
	logged := map[int64]string{} // period (Unix seconds) → instance that logged its run
	for name, s := range servers {
		for _, m := range periodRun.FindAllStringSubmatch(s.logs.String(), -1) {
			p, err := time.Parse(time.RFC3339Nano, m[1])
			if err != nil {
				t.Fatal(err)
			}
			if other, dup := logged[p.Unix()]; dup {
				t.Errorf("period %s ran on %s and on %s", m[1], other, name)
			}
			logged[p.Unix()] = name
		}
	}
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.JobRuns(context.Background(), api.JobQueryEscalation, 1000)
	if err != nil {
		t.Fatal(err)
	}
	byInstance := map[string]int{}
	finished := 0
	for _, r := range runs {
		who, ok := logged[r.Period.Unix()]
		switch {
		case r.FinishedAt == nil && ok:
			t.Errorf("run %+v is unfinished but %s logged it", r, who)
		case r.FinishedAt != nil && (!ok || who != r.Instance):
			t.Errorf("run %+v: logged by %q", r, who)
		case r.FinishedAt != nil:
			finished++
			byInstance[r.Instance]++
		}
	}
	if finished != len(logged) || finished < 3 {
		t.Errorf("%d claimed periods, %d finished, %d logged runs", len(runs), finished, len(logged))
	}
	t.Logf("%d escalation periods claimed, %d run and logged, by instance %v; none twice", len(runs), finished, byInstance)
}
