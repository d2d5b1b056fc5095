package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/store"
)

func TestUsersAdd(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "drg.db")
	st, out, errs := drg(t, "", "users", "add", "--db", dsn, "--name", "first-admin", "--role", "admin")
	if st != 0 {
		t.Fatalf("exit %d: %s", st, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	if !strings.HasPrefix(token, "drg_") || len(token) != 47 {
		t.Fatalf("last line %q is not a token:\n%s", token, out)
	}
	s, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Authenticate(context.Background(), token)
	s.Close()
	if err != nil || u.Name != "first-admin" || u.Role != store.RoleAdmin {
		t.Errorf("token authenticates %+v, %v", u, err)
	}
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"users", "add", "--db", dsn, "--name", "first-admin", "--role", "coder"}, exitFailure}, // name taken
		{[]string{"users", "add", "--db", dsn, "--name", "x", "--role", "boss"}, exitUsage},
		{[]string{"users", "add", "--db", dsn, "--role", "coder"}, exitUsage},
		{[]string{"users", "add", "--db", "mysql://x", "--name", "x", "--role", "coder"}, exitFailure},
		{[]string{"users"}, exitUsage},
		{[]string{"users", "remove"}, exitUsage},
	}
	for _, tc := range tests {
		if st, _, _ := drg(t, "", tc.args...); st != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.args, st, tc.code)
		}
	}
	st, out, _ = drg(t, "", "users", "list", "--db", dsn)
	if st != 0 || !strings.Contains(out, "first-admin") || !strings.Contains(out, "admin") {
		t.Errorf("list: %d %s", st, out)
	}
}

// server is a drg serve process.
type server struct {
	cmd  *exec.Cmd
	addr string
	logs *lockedBuffer // its stderr
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServer runs bin serve on a free loopback port, with more flags, and waits until it
// listens.
func startServer(t *testing.T, bin, dsn string, flags ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", dsn, "--data", dataDir(t), "--access-log=false"}, flags...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	s := &server{cmd: cmd, logs: &lockedBuffer{}}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteString(line + "\n")
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				addrc <- rec.Addr
			}
		}
	}()
	select {
	case s.addr = <-addrc:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("server did not start")
	}
	return s
}

// buildDrg builds the drg binary into a temporary directory.
func buildDrg(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "drg")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// addUser runs drg users add and returns the new user's token.
func addUser(t *testing.T, bin, dsn, name, role string) string {
	t.Helper()
	out, err := exec.Command(bin, "users", "add", "--db", dsn, "--name", name, "--role", role).Output()
	if err != nil {
		t.Fatalf("users add %s: %v", name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// TestSIGKILLDurability: 8 clients write encounters; the server is killed with SIGKILL in the
// middle; after a restart on the same SQLite file every acknowledged write is there and the
// database passes PRAGMA integrity_check.
func TestSIGKILLDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildDrg(t)
	dbPath := filepath.Join(dir, "drg.db")
	dsn := "sqlite:" + dbPath
	token := addUser(t, bin, dsn, "loader", "coder")

	srv := startServer(t, bin, dsn)
	if !strings.Contains(srv.logs.String(), "no enabled admin user in the database (1 users)") { // only the coder
		t.Errorf("serve does not say how to create the first admin:\n%s", srv.logs.String())
	}
	client := &http.Client{Timeout: 10 * time.Second}
	load := startWriters(t, token, "K", 8, srv.addr)
	// Kill in the middle of the load, once a good number of writes are acknowledged.
	load.waitAcked(400, 20*time.Second)
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()
	acked := load.finish()
	n := len(acked)
	t.Logf("%d writes acknowledged of %d attempted before SIGKILL", n, load.attempts.Load())
	if n < 100 {
		t.Fatalf("only %d writes acknowledged", n)
	}

	// Restart on the same file: every acknowledged write is there.
	srv = startServer(t, bin, dsn)
	for _, a := range acked {
		req, _ := http.NewRequest("GET", "http://"+srv.addr+"/v1/encounters/"+a.id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Account string }
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 200 || e.Account != a.account {
			t.Errorf("acknowledged encounter %s (%s): status %d, account %q", a.id, a.account, resp.StatusCode, e.Account)
		}
	}
	// Stop it cleanly (SIGTERM drains) and check the file.
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Errorf("server after SIGTERM: %v\n%s", err, srv.logs.String())
	}
	s, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if res, err := s.IntegrityCheck(context.Background()); err != nil || res != "ok" {
		t.Errorf("integrity_check: %q, %v", res, err)
	}
	if _, err := os.Stat(dbPath); err != nil {
		t.Error(err)
	}
}

// TestFirstAdminHint: a new database (or one whose admins are all disabled) makes serve say how
// to create the first admin; an enabled admin silences it; a PostgreSQL DSN is not repeated.
func TestFirstAdminHint(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "drg.db")
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hint := func(dsn string) string {
		t.Helper()
		h, err := firstAdminHint(ctx, st, dsn)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	want := "`drg users add --db " + dsn + " --name NAME --role admin`"
	if h := hint(dsn); !strings.Contains(h, want) || !strings.Contains(h, "(0 users)") {
		t.Errorf("empty database: %q", h)
	}
	if h := hint("postgres://drg:secret@db/drg"); strings.Contains(h, "secret") || !strings.Contains(h, "`drg users add --name NAME --role admin`") {
		t.Errorf("postgres: %q", h)
	}
	if _, _, err := st.CreateUser(ctx, store.CLIActor, "coder1", store.RoleCoder); err != nil {
		t.Fatal(err)
	}
	admin, _, err := st.CreateUser(ctx, store.CLIActor, "admin1", store.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if h := hint(dsn); h != "" {
		t.Errorf("with an admin: %q", h)
	}
	// The service refuses to disable the last admin (store.ErrLastAdmin); an admin removed
	// outside it (single sign-on demotion, the database) leaves the same state.
	if err := st.DB().Exec("UPDATE users SET disabled = ? WHERE id = ?", true, admin.ID).Error; err != nil {
		t.Fatal(err)
	}
	if h := hint(dsn); !strings.Contains(h, "(2 users)") {
		t.Errorf("admin disabled: %q", h)
	}
}

// TestAuditVerifyCommand: drg audit verify passes on an untouched SQLite log and exits 1
// naming the row after one is changed; drg users add --expires and drg users tokens.
func TestAuditVerifyCommand(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "drg.db")
	for _, name := range []string{"a", "b", "c"} {
		if st, _, errs := drg(t, "", "users", "add", "--db", dsn, "--name", name, "--role", "coder", "--expires", "30d"); st != 0 {
			t.Fatalf("users add: %d %s", st, errs)
		}
	}
	if st, _, _ := drg(t, "", "users", "add", "--db", dsn, "--name", "d", "--role", "coder", "--expires", "soon"); st != exitUsage {
		t.Errorf("--expires soon: exit %d", st)
	}
	st, out, _ := drg(t, "", "users", "tokens", "--db", dsn, "--name", "b")
	if st != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, " b ") || !strings.Contains(out, "valid") {
		t.Errorf("users tokens: %d\n%s", st, out)
	}
	st, out, errs := drg(t, "", "audit", "verify", "--db", dsn)
	if st != 0 || !strings.Contains(out, "audit log OK: 3 rows") {
		t.Fatalf("verify: %d %s %s", st, out, errs)
	}
	s, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET actor_name = 'nobody' WHERE id = 2"} {
		if err := s.DB().Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	st, out, errs = drg(t, "", "audit", "verify", "--db", dsn)
	if st != exitFailure || !strings.Contains(out, "BROKEN at row 2") || !strings.Contains(errs, "row 2") {
		t.Errorf("verify after tampering: %d %s %s", st, out, errs)
	}
}
