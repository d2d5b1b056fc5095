// Command drgbench measures end-to-end batch grouping: it generates N claims by drawing
// (with replacement, fixed seed) from the oracle claims, writes them as TSV, runs
// "drg group" on the file and reports claims/s and the peak resident memory of the run.
//
//	go run ./cmd/drgbench -n 1000000
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 1_000_000, "number of claims to generate")
	claims := flag.String("claims", "../shared/oracle/public_claims.tsv.gz", "oracle claims to draw from")
	versions := flag.String("versions", "", "only draw claims of these versions (comma separated, e.g. 430,431); default all")
	drg := flag.String("drg", "", "drg binary (default: build ./cmd/drg into a temporary directory)")
	keep := flag.Bool("keep", false, "keep the generated input and the output")
	flag.Parse()
	if err := bench(*n, *claims, *versions, *drg, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "drgbench:", err)
		os.Exit(1)
	}
}

func bench(n int, claimsPath, versions, drg string, keep bool) error {
	pool, err := readClaims(claimsPath, versions)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "drgbench")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	if drg == "" {
		drg = filepath.Join(dir, "drg")
		build := exec.Command("go", "build", "-o", drg, "./cmd/drg")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build drg: %w", err)
		}
	}
	in := filepath.Join(dir, "claims.tsv")
	if err := generate(in, pool, n); err != nil {
		return err
	}
	out := filepath.Join(dir, "results.jsonl")
	cmd := exec.Command(drg, "group", "--in", in, "--out", out)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("drg group: %w", err)
	}
	elapsed := time.Since(start)
	var rssKB int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rssKB = ru.Maxrss
	}
	fi, _ := os.Stat(out)
	fmt.Printf("command: %s group --in %s --out %s\n", drg, in, out)
	fmt.Printf("claims: %d (drawn from %d oracle claims)\n", n, len(pool))
	fmt.Printf("elapsed: %.2fs (process start, table load and output included)\n", elapsed.Seconds())
	fmt.Printf("throughput: %.0f claims/s\n", float64(n)/elapsed.Seconds())
	fmt.Printf("peak RSS: %.0f MB\n", float64(rssKB)/1024)
	if fi != nil {
		fmt.Printf("output: %.0f MB\n", float64(fi.Size())/(1<<20))
	}
	if keep {
		fmt.Printf("kept %s\n", dir)
	}
	return nil
}

func readClaims(path, versions string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = zr
	}
	keep := map[string]bool{}
	for _, v := range strings.Split(versions, ",") {
		if v = strings.TrimSpace(v); v != "" {
			keep[v] = true
		}
	}
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		cols := strings.SplitN(sc.Text(), "\t", 3)
		if len(cols) < 3 || (len(keep) > 0 && !keep[cols[1]]) {
			continue
		}
		out = append(out, cols[1]+"\t"+cols[2]) // without the id
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no claims in %s for versions %q", path, versions)
	}
	return out, nil
}

func generate(path string, pool []string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		fmt.Fprintf(w, "b%d\t%s\n", i, pool[rng.IntN(len(pool))])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
