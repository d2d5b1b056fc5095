package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/internal/shared"
)

// drg runs one command line in-process and returns its exit status and streams.
func drg(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	st := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return st, out.String(), errb.String()
}

// dataDir is ../shared/cms, laid out as a data directory.
func dataDir(t *testing.T) string { return shared.DataDir(t) }

func oracleTSV(t *testing.T, n int) string {
	t.Helper()
	f, err := os.Open(shared.Path(t, "oracle/public_claims.tsv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	sc := bufio.NewScanner(zr)
	for i := 0; (n <= 0 || i < n) && sc.Scan(); i++ {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}

func TestTablesInfo(t *testing.T) {
	st, out, errs := drg(t, "", "tables", "info", "--data", dataDir(t))
	if st != 0 {
		t.Fatalf("exit %d: %s", st, errs)
	}
	versions := regexp.MustCompile(`(?m)^  v4\d\.\d  `).FindAllString(out, -1)
	if len(versions) != 8 {
		t.Errorf("%d versions listed, want 8:\n%s", len(versions), out)
	}
	m := regexp.MustCompile(`(?m)^  v43\.1\s+2026-04-01\s+2026-09-30\s+(\d+)\s+(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no v43.1 row with its window:\n%s", out)
	}
	var dx, pr int
	fmt.Sscan(m[1], &dx)
	fmt.Sscan(m[2], &pr)
	if dx < 74500 || dx > 74900 || pr < 83100 || pr > 83500 {
		t.Errorf("v43.1 counts dx %d pr %d, want ≈74.7k and ≈83.3k", dx, pr)
	}
}

// TestBadDataDirectory: a missing directory, a truncated or corrupt grouper file and a file
// of the wrong type each give one clear line and a non-zero exit.
func TestBadDataDirectory(t *testing.T) {
	real, err := os.ReadFile(shared.Path(t, "cms/msdrg/msdrg_combined.bin"))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(content []byte) string {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "msdrg"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, "msdrg", "msdrg_combined.bin"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	corrupt := append([]byte(nil), real[:4000000]...)
	for i := 1000; i < 2000; i++ {
		corrupt[i] = 0xff
	}
	tests := []struct {
		name, dir, want string
	}{
		{"missing directory", filepath.Join(t.TempDir(), "nope"), "nope"},
		{"truncated", mk(real[:len(real)/3]), "msdrg_combined.bin"},
		{"corrupt", mk(corrupt), "msdrg_combined.bin"},
		{"wrong type (zip)", mk([]byte("PK\x03\x04 this is a zip archive, not grouper data")), "msdrg_combined.bin"},
		{"wrong type (text)", mk([]byte("<html><body>Not found</body></html>\n")), "msdrg_combined.bin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, args := range [][]string{{"tables", "info", "--data", tc.dir}, {"group", "--data", tc.dir}} {
				st, _, errs := drg(t, "", args...)
				if st == 0 {
					t.Fatalf("%v: exit 0", args)
				}
				lines := strings.Split(strings.TrimSpace(errs), "\n")
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "drg: ") || !strings.Contains(lines[0], tc.want) {
					t.Errorf("%v: want one line naming %q, got %q", args, tc.want, errs)
				}
			}
		})
	}
}

func TestGroupFormats(t *testing.T) {
	data := dataDir(t)
	jsonl := `{"id":"a","discharge_date":"2026-05-01","sex":"M","discharge_status":1,"pdx":{"code":"I50.23","poa":"Y"},"sdx":[{"code":"J96.01","poa":"Y"}]}` + "\n"
	csv := "id,discharge_date,sex,discharge_status,pdx,sdx,procedures\na,2026-05-01,M,1,I5023:Y,J9601:Y,\n"
	tsv := "a\t\t70\tM\t1\tNON_EXEMPT\tI5023:Y\t\tJ9601:Y\t\t20260501\t3\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(tsv))
	zw.Close()
	for _, tc := range []struct{ name, in string }{{"jsonl", jsonl}, {"csv", csv}, {"tsv", tsv}, {"tsv.gz", gz.String()}} {
		t.Run(tc.name, func(t *testing.T) {
			st, out, errs := drg(t, tc.in, "group", "--data", data, "--quiet")
			if st != 0 {
				t.Fatalf("exit %d: %s", st, errs)
			}
			if !strings.HasPrefix(out, `{"id":"a","version":431,"discharge_date":"2026-05-01","initial":{"drg":291,`) || !strings.Contains(out, `"weight":`) {
				t.Errorf("output %s", out)
			}
		})
	}
	t.Run("files and csv output", func(t *testing.T) {
		dir := t.TempDir()
		in, out := filepath.Join(dir, "claims.csv"), filepath.Join(dir, "out.csv")
		os.WriteFile(in, []byte(csv), 0o644)
		st, _, errs := drg(t, "", "group", "--data", data, "--in", in, "--out", out)
		if st != 0 {
			t.Fatalf("exit %d: %s", st, errs)
		}
		b, _ := os.ReadFile(out)
		if got := string(b); !strings.HasPrefix(got, "id,version,final_drg,") || !strings.Contains(got, "\na,431,291,5,MEDICAL,MCC,") {
			t.Errorf("csv output %q", got)
		}
		if !strings.Contains(errs, "1 claims, 1 grouped, 0 errors") {
			t.Errorf("summary %q", errs)
		}
	})
}

// TestGroupMalformedLines: a file with 5 % malformed lines gives error records in place and
// the right summary, and the run succeeds.
func TestGroupMalformedLines(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(oracleTSV(t, 2000)), "\n")
	for i := 10; i < len(lines); i += 20 {
		switch (i / 20) % 3 {
		case 0:
			lines[i] = "broken line without tabs"
		case 1:
			cols := strings.Split(lines[i], "\t")
			cols[2] = "seventy" // age
			lines[i] = strings.Join(cols, "\t")
		case 2:
			cols := strings.Split(lines[i], "\t")
			cols[1], cols[10] = "", "" // no version and no discharge date
			lines[i] = strings.Join(cols, "\t")
		}
	}
	st, out, errs := drg(t, strings.Join(lines, "\n")+"\n", "group", "--data", dataDir(t))
	if st != 0 {
		t.Fatalf("exit %d: %s", st, errs)
	}
	recs := strings.Split(strings.TrimSpace(out), "\n")
	if len(recs) != 2000 {
		t.Fatalf("%d records", len(recs))
	}
	for i := 10; i < len(lines); i += 20 {
		field := []string{`"field":"line"`, `"field":"age"`, `"field":"discharge_date"`}[(i/20)%3]
		if want := fmt.Sprintf(`{"line":%d,`, i+1); !strings.HasPrefix(recs[i], want) || !strings.Contains(recs[i], field) {
			t.Errorf("record %d = %s, want an error record for line %d naming %s", i+1, recs[i], i+1, field)
		}
	}
	if !strings.Contains(errs, "2000 claims, 1900 grouped, 100 errors (age 33, discharge_date 33, line 34)") {
		t.Errorf("summary %q", errs)
	}
}

// TestGroupWorkersByteIdentical: one worker and all cores give the same bytes on the oracle set.
func TestGroupWorkersByteIdentical(t *testing.T) {
	in := oracleTSV(t, 0)
	st1, one, errs := drg(t, in, "group", "--data", dataDir(t), "--workers", "1", "--quiet")
	if st1 != 0 {
		t.Fatal(errs)
	}
	st2, many, errs := drg(t, in, "group", "--data", dataDir(t), "--workers", "8", "--quiet")
	if st2 != 0 {
		t.Fatal(errs)
	}
	if strings.Count(one, "\n") != 34000 || one != many {
		t.Errorf("outputs differ (%d vs %d bytes) or wrong count", len(one), len(many))
	}
}

func TestParityCommand(t *testing.T) {
	dir := t.TempDir()
	claims, expected := filepath.Join(dir, "c.tsv"), filepath.Join(dir, "e.jsonl")
	os.WriteFile(claims, []byte(oracleTSV(t, 300)), 0o644)
	f, _ := os.Open(shared.Path(t, "oracle/public_expected.jsonl.gz"))
	defer f.Close()
	zr, _ := gzip.NewReader(f)
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var b strings.Builder
	for i := 0; i < 300 && sc.Scan(); i++ {
		line := sc.Text()
		if i == 5 { // plant one mismatch: the comparison must see it
			line = strings.Replace(line, `"final":{"drg":`, `"final":{"drg":1`, 1)
		}
		b.WriteString(line + "\n")
	}
	os.WriteFile(expected, []byte(b.String()), 0o644)
	st, out, errs := drg(t, "", "parity", "--data", dataDir(t), "--claims", claims, "--expected", expected)
	if st != 0 {
		t.Fatalf("exit %d: %s", st, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "parity: 300 claims, final DRG 99.67%, full record 99.67%" {
		t.Errorf("last line %q", last)
	}
	if !strings.Contains(out, "line 6 (id c101-5):") || !strings.Contains(out, "final.drg: want 1") {
		t.Errorf("mismatch not listed:\n%s", out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"group", "--format", "xml"}, {"group", "--nope"}, {"parity"}, {"tables"}, {"group", "--version", "12"}} {
		if st, _, _ := drg(t, "", args...); st != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, st, exitUsage)
		}
	}
}

// TestGroupInterrupt sends SIGINT to a real drg process mid-run: it stops with status 130,
// reports the count, and the output is an intact, ordered prefix of the full output.
func TestGroupInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "drg")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	in := filepath.Join(dir, "claims.tsv")
	f, _ := os.Create(in)
	w := bufio.NewWriter(f)
	base := strings.Split(strings.TrimSpace(oracleTSV(t, 0)), "\n")
	for i := 0; i < 600000; i++ {
		cols := strings.SplitN(base[i%len(base)], "\t", 2)
		fmt.Fprintf(w, "n%d\t%s\n", i, cols[1])
	}
	w.Flush()
	f.Close()
	outPath := filepath.Join(dir, "out.jsonl")
	cmd := exec.Command(bin, "group", "--data", dataDir(t), "--in", in, "--out", outPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until output is being written, then interrupt.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(outPath); err == nil && fi.Size() > 5<<20 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no output after 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != exitInterrupted {
		t.Fatalf("exit %d (%v), want %d; stderr %s", code, err, exitInterrupted, stderr.String())
	}
	m := regexp.MustCompile(`interrupted after (\d+) claims`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no count reported: %s", stderr.String())
	}
	var n int
	fmt.Sscan(m[1], &n)
	b, _ := os.ReadFile(outPath)
	recs := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if n == 0 || n >= 600000 || len(recs) != n || !strings.HasSuffix(string(b), "}\n") {
		t.Fatalf("reported %d, file holds %d records (complete last line: %v)", n, len(recs), strings.HasSuffix(string(b), "}\n"))
	}
	for _, i := range []int{0, n / 2, n - 1} {
		if want := fmt.Sprintf(`{"id":"n%d",`, i); !strings.HasPrefix(recs[i], want) {
			t.Errorf("record %d starts %.40s, want %s", i, recs[i], want)
		}
	}
}

func TestMCECommands(t *testing.T) {
	data := dataDir(t)
	in := oracleTSV(t, 50)
	st, out, errs := drg(t, in, "mce", "--data", data, "--quiet")
	if st != 0 {
		t.Fatalf("exit %d: %s", st, errs)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	if !strings.HasPrefix(first, `{"id":"c101-0","version":431,"edit_type":"PREPAYMENT","edits":{"UNSPECIFIED":2},`) ||
		!strings.Contains(first, `"text":"SDX T69029A: unspecified code where a more specific code is available"`) {
		t.Errorf("mce record %s", first)
	}
	st, out, errs = drg(t, in, "group", "--mce", "--data", data, "--quiet")
	if st != 0 {
		t.Fatalf("exit %d: %s", st, errs)
	}
	var rec struct {
		Final struct{ DRG int } `json:"final"`
		MCE   struct {
			EditType string `json:"edit_type"`
		} `json:"mce"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &rec); err != nil || rec.Final.DRG != 844 || rec.MCE.EditType != "PREPAYMENT" {
		t.Errorf("group --mce record %+v, %v", rec, err)
	}
	dir := t.TempDir()
	claims, expected := filepath.Join(dir, "c.tsv"), filepath.Join(dir, "e.jsonl")
	os.WriteFile(claims, []byte(in), 0o644)
	f, _ := os.Open(shared.Path(t, "oracle/public_mce.jsonl.gz"))
	defer f.Close()
	zr, _ := gzip.NewReader(f)
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var b strings.Builder
	for i := 0; i < 50 && sc.Scan(); i++ {
		b.WriteString(sc.Text() + "\n")
	}
	os.WriteFile(expected, []byte(b.String()), 0o644)
	st, out, errs = drg(t, "", "parity", "--mce", "--data", data, "--claims", claims, "--expected", expected)
	if st != 0 || !strings.HasSuffix(strings.TrimSpace(out), "parity: 50 claims, edit type 100.00%, full record 100.00%") {
		t.Errorf("exit %d, output %s %s", st, out, errs)
	}
}
