package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/msdrg-cdi/drg/batch"
	"github.com/msdrg-cdi/drg/cacsvc"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
)

func init() {
	commands["cac"] = command{"computer-assisted coding: suggest codes from clinical notes (JSON Lines); `drg cac eval` scores gold test sets", runCAC}
}

func newCACService(e *env, data string) (*cacsvc.Service, error) {
	cat, err := loadCatalog(e, data)
	if err != nil {
		return nil, err
	}
	gp := &batch.GroupProcessor{Engine: grouper.New(cat.MSDRG), Loaded: cat.MSDRG.Versions, Weights: cat, Describe: cat.DescribeInvalid}
	return cacsvc.New(cat, gp)
}

func runCAC(e *env) int {
	if len(e.args) > 0 && e.args[0] == "eval" {
		e.args = e.args[1:]
		return runCACEval(e)
	}
	fs := newFlags(e, "cac", "[--data DIR] [--in FILE|-] [--out FILE|-] [--workers N] [--quiet]\n"+
		"  input: one request object per line (notes, age, sex, discharge_status, admit_date, discharge_date, version), or a JSON array of them\n"+
		"  output: one response per line, in input order; a bad line gives {\"line\":N,\"error\":…,\"errors\":[…]}")
	data := fs.String("data", "", "data directory (default: $DRG_DATA, ./data, ../shared/cms)")
	in := fs.String("in", "-", "input file, - for stdin")
	out := fs.String("out", "-", "output file, - for stdout")
	workers := fs.Int("workers", 0, "worker goroutines (default: all cores)")
	quiet := fs.Bool("quiet", false, "no progress bar and no summary on stderr")
	if st, ok := parseFlags(fs, e.args); !ok {
		return st
	}
	if fs.NArg() > 0 {
		return usageError(e, "cac: unexpected argument %q", fs.Arg(0))
	}
	svc, err := newCACService(e, *data)
	if err != nil {
		return fail(e, "%v", err)
	}
	r, size, err := openInput(e, *in)
	if err != nil {
		return fail(e, "open input: %v", err)
	}
	defer r.Close()
	w, err := createOutput(e, *out)
	if err != nil {
		return fail(e, "create output: %v", err)
	}
	var progress func(n int, done bool)
	if !*quiet && isTerminal(e.stderr) {
		start := time.Now()
		progress = func(n int, done bool) {
			if done {
				fmt.Fprint(e.stderr, "\r\033[K")
				return
			}
			fmt.Fprintf(e.stderr, "\r\033[K%d notes sets coded, %.0f/s (input %d bytes)", n, float64(n)/time.Since(start).Seconds(), size)
		}
	}
	sum, err := runCACLines(e, svc, r, w, *workers, progress)
	if cerr := w.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if !*quiet {
		fmt.Fprintf(e.stderr, "drg: %d requests, %d coded, %d errors, %.2fs, %.0f requests/s\n", sum.lines, sum.ok, sum.lines-sum.ok, sum.elapsed.Seconds(), float64(sum.lines)/max(sum.elapsed.Seconds(), 1e-9))
	}
	switch {
	case err == errInterrupted:
		return exitInterrupted
	case err != nil:
		return fail(e, "%v", err)
	}
	return exitOK
}

type cacSummary struct {
	lines, ok int
	elapsed   time.Duration
}

var errInterrupted = fmt.Errorf("interrupted")

// cacLineReader yields the requests of the input: lines of JSON, or the elements of one JSON array.
func cacLineReader(r io.Reader) (func() ([]byte, bool, error), error) {
	br := bufio.NewReaderSize(r, 1<<20)
	first, err := br.Peek(1)
	for err == nil && (first[0] == ' ' || first[0] == '\n' || first[0] == '\r' || first[0] == '\t') {
		br.ReadByte()
		first, err = br.Peek(1)
	}
	if err == nil && first[0] == '[' {
		dec := json.NewDecoder(br)
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
		return func() ([]byte, bool, error) {
			if !dec.More() {
				return nil, false, nil
			}
			var m json.RawMessage
			if err := dec.Decode(&m); err != nil {
				return nil, false, fmt.Errorf("read input: %w", err)
			}
			return m, true, nil
		}, nil
	}
	return func() ([]byte, bool, error) {
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > cacsvc.MaxBodyBytes {
				return nil, false, fmt.Errorf("read input: a line of more than %d bytes", cacsvc.MaxBodyBytes)
			}
			if len(bytes.TrimSpace(line)) > 0 {
				return line, true, nil
			}
			if err == io.EOF {
				return nil, false, nil
			}
			if err != nil {
				return nil, false, fmt.Errorf("read input: %w", err)
			}
		}
	}, nil
}

// runCACLines codes every request of r on workers and writes the responses in input order.
func runCACLines(e *env, svc *cacsvc.Service, r io.Reader, w io.Writer, workers int, progress func(int, bool)) (cacSummary, error) {
	start := time.Now()
	next, err := cacLineReader(r)
	if err != nil {
		return cacSummary{}, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type job struct {
		seq  int
		line []byte
		out  []byte
		ok   bool
	}
	jobs := make(chan *job, workers*2)
	done := make(chan *job, workers*2)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				j.out, j.ok = codeLine(svc, j.seq+1, j.line)
				j.line = nil
				done <- j
			}
		})
	}
	var readErr error
	go func() {
		defer close(jobs)
		for seq := 0; ; seq++ {
			if e.ctx.Err() != nil {
				readErr = errInterrupted
				return
			}
			line, ok, err := next()
			if err != nil {
				readErr = err
				return
			}
			if !ok {
				return
			}
			jobs <- &job{seq: seq, line: line}
		}
	}()
	go func() { wg.Wait(); close(done) }()
	bw := bufio.NewWriterSize(w, 1<<16)
	pending := map[int]*job{}
	sum := cacSummary{}
	nextSeq := 0
	lastTick := time.Now()
	var writeErr error
	for j := range done {
		pending[j.seq] = j
		for {
			p, ok := pending[nextSeq]
			if !ok {
				break
			}
			delete(pending, nextSeq)
			if writeErr == nil {
				_, writeErr = bw.Write(p.out)
			}
			sum.lines++
			if p.ok {
				sum.ok++
			}
			nextSeq++
		}
		if progress != nil && time.Since(lastTick) > 500*time.Millisecond {
			progress(sum.lines, false)
			lastTick = time.Now()
		}
	}
	if progress != nil {
		progress(sum.lines, true)
	}
	if err := bw.Flush(); writeErr == nil {
		writeErr = err
	}
	sum.elapsed = time.Since(start)
	if readErr != nil {
		return sum, readErr
	}
	if writeErr != nil {
		return sum, fmt.Errorf("write output: %w", writeErr)
	}
	return sum, nil
}

// codeLine answers one request line: the response, or an error record naming the line and
// every field at fault.
func codeLine(svc *cacsvc.Service, line int, b []byte) ([]byte, bool) {
	req, errs := cacsvc.ParseRequest(b)
	var err error
	if errs == nil {
		var resp *cacsvc.Response
		resp, err = svc.Run(req)
		if err == nil {
			out, _ := json.Marshal(resp)
			return append(out, '\n'), true
		}
		if fe := claim.AsFieldErrors(err); len(fe) > 0 {
			errs = fe
		}
	}
	rec := map[string]any{"line": line}
	if errs != nil {
		msgs := make([]string, len(errs))
		for i, fe := range errs {
			msgs[i] = fe.Error()
		}
		rec["error"] = strings.Join(msgs, "; ")
		rec["errors"] = errs
	} else {
		rec["error"] = err.Error()
	}
	out, _ := json.Marshal(rec)
	return append(out, '\n'), false
}

func runCACEval(e *env) int {
	fs := newFlags(e, "cac eval", "[--data DIR] [-v] CASES.json ...   (default: ../shared/cac/dev.json and fixtures/cac/*.json)")
	data := fs.String("data", "", "data directory (default: $DRG_DATA, ./data, ../shared/cms)")
	verbose := fs.Bool("v", false, "print each case's differences")
	if st, ok := parseFlags(fs, e.args); !ok {
		return st
	}
	files := fs.Args()
	if len(files) == 0 {
		files = defaultCaseFiles()
		if len(files) == 0 {
			return usageError(e, "cac eval: no test set given and none found (../shared/cac/dev.json, fixtures/cac/*.json)")
		}
	}
	svc, err := newCACService(e, *data)
	if err != nil {
		return fail(e, "%v", err)
	}
	var all []cacsvc.Case
	var answers []cacsvc.CaseResult
	status := exitOK
	for _, f := range files {
		cases, err := cacsvc.ReadCases(f)
		if err != nil {
			return fail(e, "%v", err)
		}
		res := cacsvc.RunCases(svc, cases)
		rep := cacsvc.Score(cases, res)
		rep.Print(e.stdout, f, *verbose)
		if len(rep.Failures) > 0 || len(rep.BadSpans) > 0 {
			status = exitFailure
		}
		all = append(all, cases...)
		answers = append(answers, res...)
	}
	if len(files) > 1 {
		cacsvc.Score(all, answers).Print(e.stdout, "all sets", false)
	}
	return status
}

// defaultCaseFiles: the shared development set and the project's own sets, when present.
func defaultCaseFiles() []string {
	var out []string
	if _, err := os.Stat("../shared/cac/dev.json"); err == nil {
		out = append(out, "../shared/cac/dev.json")
	}
	if m, _ := filepath.Glob("fixtures/cac/*.json"); len(m) > 0 {
		out = append(out, m...)
	}
	return out
}
