package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/batch"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/tables"
)

func init() {
	commands["group"] = command{"group claims from a file (TSV, JSON Lines, CSV; gzip ok) into JSON Lines or CSV", runGroup}
}

// batchFlags are the flags shared by group and mce.
type batchFlags struct {
	data, in, out, format, outFormat, version string
	workers                                   int
	quiet                                     bool
}

func (b *batchFlags) register(fs interface {
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&b.data, "data", "", "data directory (default: $DRG_DATA, ./data, ../shared/cms)")
	fs.StringVar(&b.in, "in", "-", "input file, - for stdin (gzip detected)")
	fs.StringVar(&b.out, "out", "-", "output file, - for stdout")
	fs.StringVar(&b.format, "format", "", "input format: tsv, jsonl or csv (default: from the file name, else sniffed)")
	fs.StringVar(&b.outFormat, "out-format", "", "output format: jsonl or csv (default: from --out name, else jsonl)")
	fs.StringVar(&b.version, "version", "", "force a grouper version (e.g. 431 or 43.1); default: the claim's version, else its discharge date")
	fs.IntVar(&b.workers, "workers", 0, "worker goroutines (default: all cores)")
	fs.BoolVar(&b.quiet, "quiet", false, "no progress bar and no summary on stderr")
}

// resolve checks the flags and returns the input format, output format and forced version.
func (b *batchFlags) resolve() (claim.Format, batch.OutputFormat, tables.Version, error) {
	in := claim.FormatUnknown
	var err error
	switch {
	case b.format != "":
		if in, err = claim.ParseFormat(b.format); err != nil {
			return 0, 0, 0, err
		}
	case b.in != "-":
		in = claim.FormatFromName(b.in)
	}
	out := batch.OutJSONL
	of := b.outFormat
	if of == "" && strings.HasSuffix(strings.TrimSuffix(strings.ToLower(b.out), ".gz"), ".csv") {
		of = "csv"
	}
	switch strings.ToLower(of) {
	case "", "jsonl", "ndjson", "json":
	case "csv":
		out = batch.OutCSV
	default:
		return 0, 0, 0, fmt.Errorf("unknown output format %q: want jsonl or csv", of)
	}
	var v tables.Version
	if b.version != "" {
		if v, err = tables.ParseVersion(b.version); err != nil {
			return 0, 0, 0, err
		}
	}
	return in, out, v, nil
}

func runGroup(e *env) int {
	fs := newFlags(e, "group", "[--data DIR] [--in FILE|-] [--out FILE|-] [--format tsv|jsonl|csv] [--out-format jsonl|csv] [--version N] [--explain] [--mce]")
	var bf batchFlags
	bf.register(fs)
	explain := fs.Bool("explain", false, "add the explanation of each grouping to the JSON output")
	withMCE := fs.Bool("mce", false, "run the Medicare Code Editor first and add its edits to each record (JSON: an mce object; CSV: mce_edit_type, mce_edits and mce_messages columns)")
	codeOrder := fs.Bool("code-order", false, "CMS tie-breaker CODE_ORDER instead of CLINICAL_SIGNIFICANCE")
	if st, ok := parseFlags(fs, e.args); !ok {
		return st
	}
	if fs.NArg() > 0 {
		return usageError(e, "group: unexpected argument %q (use --in)", fs.Arg(0))
	}
	inFormat, outFormat, forced, err := bf.resolve()
	if err != nil {
		return usageError(e, "group: %v", err)
	}
	cat, err := loadCatalog(e, bf.data)
	if err != nil {
		return fail(e, "%v", err)
	}
	if forced != 0 && !cat.MSDRG.HasVersion(forced) {
		return usageError(e, "group: grouper version %s is not loaded", forced)
	}
	opt := grouper.Options{Explain: *explain}
	if *codeOrder {
		opt.TieBreaker = grouper.CodeOrder
	}
	p := &batch.GroupProcessor{
		Engine: grouper.New(cat.MSDRG), Options: opt, Version: forced, Loaded: cat.MSDRG.Versions,
		Weights: cat, Format: outFormat, Describe: cat.DescribeInvalid,
	}
	if *withMCE {
		ed, csvEd, err := newEditor(cat)
		if err != nil {
			return fail(e, "%v", err)
		}
		p.MCE, p.MCECSV = ed, csvEd
	}
	return runBatch(e, bf, inFormat, p, p.Encoder())
}

// batchMemoryLimit is the Go heap limit of batch runs unless GOMEMLIMIT is set: the tables of
// all versions stay well below it, and it keeps the garbage of a long run from doubling the
// resident memory.
const batchMemoryLimit = 240 << 20

// runBatch streams the input through p and reports the summary.
func runBatch(e *env, bf batchFlags, inFormat claim.Format, p batch.Processor, enc batch.Encoder) int {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(batchMemoryLimit)
	}
	in, size, err := openInput(e, bf.in)
	if err != nil {
		return fail(e, "%v", err)
	}
	defer in.Close()
	out, err := createOutput(e, bf.out)
	if err != nil {
		return fail(e, "%v", err)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	opt := batch.Options{Format: inFormat, Workers: bf.workers}
	if !bf.quiet && isTerminal(e.stderr) {
		opt.Progress = progressBar(e.stderr, size)
	}
	sum, runErr := batch.Run(e.ctx, in, w, p, enc, opt)
	flushErr := w.Flush()
	closeErr := out.Close()
	if runErr != nil && !errors.Is(runErr, batch.ErrInterrupted) {
		// the cause first (a header error lists the expected columns), then the summary
		fmt.Fprintf(e.stderr, "drg: %v\n", runErr)
		if !bf.quiet {
			fmt.Fprintln(e.stderr, "drg: "+sum.String())
		}
		return exitFailure
	}
	if !bf.quiet {
		fmt.Fprintln(e.stderr, "drg: "+sum.String())
	}
	switch {
	case errors.Is(runErr, batch.ErrInterrupted):
		if flushErr != nil || closeErr != nil {
			return fail(e, "interrupted, and writing the output failed: %v", errors.Join(flushErr, closeErr))
		}
		fmt.Fprintf(e.stderr, "drg: interrupted after %d claims; the output holds them, in order\n", sum.Lines)
		return exitInterrupted
	case flushErr != nil:
		return fail(e, "write output: %v", flushErr)
	case closeErr != nil:
		return fail(e, "write output: %v", closeErr)
	case sum.Lines == 0:
		fmt.Fprintln(e.stderr, "drg: warning: the input holds no claims: nothing was processed")
		return exitFailure
	case sum.Grouped == 0:
		fmt.Fprintf(e.stderr, "drg: no claim was processed: all %d input lines are error records (each record's error names the field)\n", sum.Lines)
		return exitFailure
	}
	return exitOK
}

// progressBar renders progress on a terminal: share of input read, claims, rate and ETA.
func progressBar(w io.Writer, size int64) func(batch.Progress) {
	return func(p batch.Progress) {
		rate := 0.0
		if s := p.Elapsed.Seconds(); s > 0 {
			rate = float64(p.Lines) / s
		}
		line := fmt.Sprintf("%d claims, %.0f claims/s", p.Lines, rate)
		if size > 0 && p.BytesRead > 0 {
			frac := float64(p.BytesRead) / float64(size)
			if frac > 1 {
				frac = 1
			}
			eta := time.Duration(float64(p.Elapsed) * (1 - frac) / frac).Round(time.Second)
			bar := strings.Repeat("█", int(frac*30)) + strings.Repeat("░", 30-int(frac*30))
			line = fmt.Sprintf("%s %5.1f%% %s, ETA %s", bar, 100*frac, line, eta)
		}
		if p.Done {
			fmt.Fprintf(w, "\r\033[K")
			return
		}
		fmt.Fprintf(w, "\r\033[K%s", line)
	}
}
