package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/msdrg-cdi/drg/batch"
	"github.com/msdrg-cdi/drg/casemix"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/tables"
)

func init() {
	commands["report"] = command{"case mix and finance reports (cmi, drg-mix, severity, cdi-impact, mismatches, version-impact) over drg group output", runReport}
}

// reportKinds are the report subcommands with their one-line descriptions.
var reportKinds = []struct{ name, summary string }{
	{"cmi", "case mix index overall and --by month|quarter|fy|mdc|service-line|provider|payer|facility"},
	{"drg-mix", "top DRGs by volume and by total weight, with the change against the prior period"},
	{"severity", "share of discharges at each CC/MCC level of every DRG family with severity splits"},
	{"cdi-impact", "baseline vs working vs final DRG of CDI-reviewed encounters; weight impact per query, specialist, provider"},
	{"mismatches", "encounters whose final DRG differs from the CDI working DRG, by category"},
	{"version-impact", "regroup a claim file under two grouper versions: DRG shifts and CMI change with one weight year"},
}

// reportFlags are the flags shared by the report subcommands.
type reportFlags struct {
	data, in, out, format          string
	from, to                       string
	facility, payer, service, prov string
	weightsYear                    int
	baseRate                       float64
	workers                        int
}

func (f *reportFlags) register(fs *flag.FlagSet, attrs bool) {
	fs.StringVar(&f.data, "data", "", "data directory (default: $DRG_DATA, ./data, ../shared/cms)")
	fs.StringVar(&f.in, "in", "-", "input file, - for stdin (gzip detected)")
	fs.StringVar(&f.out, "out", "-", "output file, - for stdout")
	fs.StringVar(&f.format, "format", "text", "output format: text, csv or json")
	fs.StringVar(&f.from, "from", "", "first discharge date (YYYY-MM-DD), inclusive")
	fs.StringVar(&f.to, "to", "", "last discharge date (YYYY-MM-DD), inclusive")
	fs.IntVar(&f.weightsYear, "weights-year", 0, "weigh every discharge with this fiscal year's Table 5 (default: the discharge's fiscal year)")
	fs.Float64Var(&f.baseRate, "base-rate", 0, "add the expected-payment estimate: relative weight × this base rate (no wage index, outlier or transfer adjustment)")
	fs.IntVar(&f.workers, "workers", 0, "reader goroutines (default: all cores)")
	if attrs {
		fs.StringVar(&f.facility, "facility", "", "only these facilities (comma-separated)")
		fs.StringVar(&f.payer, "payer", "", "only these payers (comma-separated)")
		fs.StringVar(&f.service, "service-line", "", "only these service lines (comma-separated)")
		fs.StringVar(&f.prov, "provider", "", "only these attending providers, by id (comma-separated)")
	}
}

// filter builds the discharge filter of the flags.
func (f *reportFlags) filter() (casemix.Filter, error) {
	var flt casemix.Filter
	var err error
	if f.from != "" {
		if flt.From, err = claim.ParseDate(f.from); err != nil {
			return flt, fmt.Errorf("--from: %w", err)
		}
	}
	if f.to != "" {
		if flt.To, err = claim.ParseDate(f.to); err != nil {
			return flt, fmt.Errorf("--to: %w", err)
		}
	}
	flt.Facilities, flt.Payers = list(f.facility), list(f.payer)
	flt.ServiceLines, flt.Providers = list(f.service), list(f.prov)
	if err := flt.Validate(); err != nil {
		return flt, err
	}
	switch f.format {
	case "text", "csv", "json":
	default:
		return flt, fmt.Errorf("--format %q: want text, csv or json", f.format)
	}
	if f.baseRate < 0 {
		return flt, fmt.Errorf("--base-rate %v is negative", f.baseRate)
	}
	return flt, nil
}

func list(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func runReport(e *env) int {
	if len(e.args) == 0 || e.args[0] == "-h" || e.args[0] == "--help" {
		fmt.Fprintln(e.stderr, "usage: drg report <kind> --in results.jsonl [flags]   (drg report <kind> -h for its flags)")
		for _, k := range reportKinds {
			fmt.Fprintf(e.stderr, "  %-15s %s\n", k.name, k.summary)
		}
		if len(e.args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	kind, args := e.args[0], e.args[1:]
	switch kind {
	case "cmi":
		return reportCMI(e, args)
	case "drg-mix", "mix":
		return reportMix(e, args)
	case "severity":
		return reportSeverity(e, args)
	case "cdi-impact", "cdi":
		return reportCDI(e, args)
	case "mismatches", "mismatch":
		return reportMismatches(e, args)
	case "version-impact":
		return reportVersion(e, args)
	}
	return usageError(e, "report: unknown report %q (want cmi, drg-mix, severity, cdi-impact, mismatches or version-impact)", kind)
}

// reportSetup parses the flags of a discharge report and loads the catalog; the weights are
// the catalog's Table 5 tables with the forced --weights-year, which must be loaded.
func reportSetup(e *env, kind, synopsis string, args []string, extra func(fs *flag.FlagSet)) (*reportFlags, casemix.Filter, *tables.Catalog, casemix.Weights, int, bool) {
	var w casemix.Weights
	fs := newFlags(e, "report "+kind, synopsis)
	rf := &reportFlags{}
	rf.register(fs, true)
	if extra != nil {
		extra(fs)
	}
	if st, ok := parseFlags(fs, args); !ok {
		return nil, casemix.Filter{}, nil, w, st, false
	}
	if fs.NArg() > 0 {
		return nil, casemix.Filter{}, nil, w, usageError(e, "report %s: unexpected argument %q (use --in)", kind, fs.Arg(0)), false
	}
	flt, err := rf.filter()
	if err != nil {
		return nil, flt, nil, w, usageError(e, "report %s: %v", kind, err), false
	}
	cat, err := loadCatalog(e, rf.data)
	if err != nil {
		return nil, flt, nil, w, fail(e, "%v", err), false
	}
	w = casemix.Weights{Tables: cat.Weights, Year: rf.weightsYear, Transfer: cat.Transfer}
	if err := w.Validate(); err != nil {
		return nil, flt, nil, w, usageError(e, "report %s: --weights-year: %v", kind, err), false
	}
	return rf, flt, cat, w, 0, true
}

const dischargeSynopsis = "--in results.jsonl [--from DATE] [--to DATE] [--facility F] [--payer P] [--service-line S] [--provider ID] [--weights-year YYYY] [--base-rate X] [--format text|csv|json] [--out FILE]"

func reportCMI(e *env, args []string) int {
	var by string
	rf, flt, _, w, st, ok := reportSetup(e, "cmi", "[--by month,quarter,fy,mdc,service-line,provider,payer,facility] "+dischargeSynopsis, args,
		func(fs *flag.FlagSet) { fs.StringVar(&by, "by", "", "groupings, comma-separated: "+dimensionList()) })
	if !ok {
		return st
	}
	dims, err := casemix.ParseDimensions(by)
	if err != nil {
		return usageError(e, "report cmi: --by: %v", err)
	}
	opt := casemix.CMIOptions{Filter: flt, Weights: w, By: dims, BaseRate: rf.baseRate}
	b, stats, code, ok := readReport(e, rf, func() (*casemix.CMIBuilder, error) { return casemix.NewCMIBuilder(opt) })
	if !ok {
		return code
	}
	r := b.Report()
	r.ErrorRecords = stats.ErrorRecords
	warnMissingYears(e, &r.Excluded)
	return writeReport(e, rf, r)
}

func reportMix(e *env, args []string) int {
	var top int
	var priorFrom, priorTo string
	rf, flt, cat, w, st, ok := reportSetup(e, "drg-mix", "[--top N] [--prior-from DATE --prior-to DATE] "+dischargeSynopsis, args, func(fs *flag.FlagSet) {
		fs.IntVar(&top, "top", 10, "DRGs listed in each ranking")
		fs.StringVar(&priorFrom, "prior-from", "", "first discharge date of the comparison period (default: the period of the same length before --from..--to)")
		fs.StringVar(&priorTo, "prior-to", "", "last discharge date of the comparison period")
	})
	if !ok {
		return st
	}
	var prior casemix.Period
	var err error
	if (priorFrom == "") != (priorTo == "") {
		return usageError(e, "report drg-mix: give both --prior-from and --prior-to")
	}
	if priorFrom != "" {
		if prior.From, err = claim.ParseDate(priorFrom); err == nil {
			prior.To, err = claim.ParseDate(priorTo)
		}
		if err != nil {
			return usageError(e, "report drg-mix: prior period: %v", err)
		}
	}
	opt := casemix.DRGMixOptions{Filter: flt, Weights: w, Prior: prior, Top: top, BaseRate: rf.baseRate,
		Titles: casemix.DRGTitles(cat.MSDRG, newestVersion(cat))}
	b, _, code, ok := readReport(e, rf, func() (*casemix.DRGMixBuilder, error) { return casemix.NewDRGMixBuilder(opt) })
	if !ok {
		return code
	}
	r := b.Report()
	warnMissingYears(e, &r.Excluded)
	return writeReport(e, rf, r)
}

func reportSeverity(e *env, args []string) int {
	rf, flt, cat, _, st, ok := reportSetup(e, "severity", dischargeSynopsis, args, nil)
	if !ok {
		return st
	}
	opt := casemix.SeverityOptions{Filter: flt, Families: casemix.DeriveFamilies(cat.MSDRG)}
	b, _, code, ok := readReport(e, rf, func() (*casemix.SeverityBuilder, error) { return casemix.NewSeverityBuilder(opt) })
	if !ok {
		return code
	}
	return writeReport(e, rf, b.Report())
}

func reportCDI(e *env, args []string) int {
	rf, flt, _, w, st, ok := reportSetup(e, "cdi-impact", dischargeSynopsis, args, nil)
	if !ok {
		return st
	}
	opt := casemix.CDIOptions{Filter: flt, Weights: w, BaseRate: rf.baseRate}
	b, _, code, ok := readReport(e, rf, func() (*casemix.CDIImpactBuilder, error) { return casemix.NewCDIImpactBuilder(opt) })
	if !ok {
		return code
	}
	r := b.Report()
	warnMissingYears(e, &r.Excluded)
	return writeReport(e, rf, r)
}

func reportMismatches(e *env, args []string) int {
	rf, flt, _, w, st, ok := reportSetup(e, "mismatches", dischargeSynopsis, args, nil)
	if !ok {
		return st
	}
	opt := casemix.MismatchOptions{Filter: flt, Weights: w, BaseRate: rf.baseRate}
	b, _, code, ok := readReport(e, rf, func() (*casemix.MismatchBuilder, error) { return casemix.NewMismatchBuilder(opt) })
	if !ok {
		return code
	}
	return writeReport(e, rf, b.Report())
}

func reportVersion(e *env, args []string) int {
	fs := newFlags(e, "report version-impact", "--in claims.tsv --from-version 42.1 --to-version 43.0 [--weights-year YYYY] [--in-format tsv|jsonl|csv] [--top N] [--from DATE] [--to DATE] [--base-rate X] [--format text|csv|json] [--out FILE]")
	rf := &reportFlags{}
	rf.register(fs, false)
	fromV := fs.String("from-version", "", "grouper version of the baseline (e.g. 42.1)")
	toV := fs.String("to-version", "", "grouper version to compare (e.g. 43.0)")
	inFormat := fs.String("in-format", "", "claim file format: tsv, jsonl or csv (default: from the file name, else sniffed)")
	top := fs.Int("top", 20, "DRG shifts listed")
	if st, ok := parseFlags(fs, args); !ok {
		return st
	}
	if fs.NArg() > 0 {
		return usageError(e, "report version-impact: unexpected argument %q (use --in)", fs.Arg(0))
	}
	flt, err := rf.filter()
	if err != nil {
		return usageError(e, "report version-impact: %v", err)
	}
	if *fromV == "" || *toV == "" {
		return usageError(e, "report version-impact: give --from-version and --to-version")
	}
	var vs [2]tables.Version
	for i, s := range []string{*fromV, *toV} {
		if vs[i], err = tables.ParseVersion(s); err != nil {
			return usageError(e, "report version-impact: %v", err)
		}
	}
	format := claim.FormatUnknown
	switch {
	case *inFormat != "":
		if format, err = claim.ParseFormat(*inFormat); err != nil {
			return usageError(e, "report version-impact: %v", err)
		}
	case rf.in != "-":
		format = claim.FormatFromName(rf.in)
	}
	cat, err := loadCatalog(e, rf.data)
	if err != nil {
		return fail(e, "%v", err)
	}
	for _, v := range vs {
		if !cat.MSDRG.HasVersion(v) {
			return usageError(e, "report version-impact: grouper version %s is not loaded", v)
		}
	}
	year := rf.weightsYear
	if year == 0 {
		year = tables.VersionFiscalYear(vs[1]) // the new version's year
	}
	if err := (casemix.Weights{Tables: cat.Weights, Year: year}).Validate(); err != nil {
		return usageError(e, "report version-impact: %v; pass --weights-year to choose the year", err)
	}
	w := cat.Weights[year]
	opt := casemix.VersionImpactOptions{From: vs[0], To: vs[1], Weights: w, Period: flt.Period, Top: *top,
		BaseRate: rf.baseRate, Titles: casemix.DRGTitles(cat.MSDRG, vs[1])}
	if _, err := casemix.NewVersionImpactBuilder(opt); err != nil {
		return usageError(e, "report version-impact: %v", err)
	}
	in, _, err := openInput(e, rf.in)
	if err != nil {
		return fail(e, "%v", err)
	}
	defer in.Close()
	p := &regrouper{eng: grouper.New(cat.MSDRG), opt: opt}
	sum, err := batch.Run(e.ctx, in, io.Discard, p, batch.JSONLEncoder{}, batch.Options{Format: format, Workers: rf.workers})
	if errors.Is(err, batch.ErrInterrupted) {
		fmt.Fprintln(e.stderr, "drg: interrupted")
		return exitInterrupted
	}
	if err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintf(e.stderr, "drg: report: %d claims regrouped, %d error records skipped\n", sum.Grouped, sum.Errors)
	return writeReport(e, rf, p.report())
}

// regrouper is the batch processor of version-impact: each goroutine takes a builder from
// the pool; the report merges all of them.
type regrouper struct {
	eng  *grouper.Engine
	opt  casemix.VersionImpactOptions
	pool sync.Pool
	mu   sync.Mutex
	all  []*casemix.VersionImpactBuilder
}

// Process implements batch.Processor; it writes nothing.
func (p *regrouper) Process(c *claim.Claim, dst []byte) ([]byte, error) {
	b, _ := p.pool.Get().(*casemix.VersionImpactBuilder)
	if b == nil {
		b, _ = casemix.NewVersionImpactBuilder(p.opt) // options checked by the caller
		p.mu.Lock()
		p.all = append(p.all, b)
		p.mu.Unlock()
	}
	err := b.Group(p.eng, c)
	p.pool.Put(b)
	return dst, err
}

func (p *regrouper) report() *casemix.VersionImpactReport {
	total, _ := casemix.NewVersionImpactBuilder(p.opt)
	for _, b := range p.all {
		total.Merge(b)
	}
	return total.Report()
}

// merger is a report builder of the casemix package.
type merger[B any] interface {
	Add(d *casemix.Discharge)
	Merge(o B)
}

// readReport reads the --in file into one builder per reader goroutine and merges them. ok
// is false with the exit status when it failed.
func readReport[B merger[B]](e *env, rf *reportFlags, newB func() (B, error)) (B, casemix.ReadStats, int, bool) {
	var zero B
	in, _, err := openInput(e, rf.in)
	if err != nil {
		return zero, casemix.ReadStats{}, fail(e, "%v", err), false
	}
	defer in.Close()
	workers := rf.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	bs := make([]B, workers)
	for i := range bs {
		if bs[i], err = newB(); err != nil {
			return zero, casemix.ReadStats{}, usageError(e, "report: %v", err), false
		}
	}
	stats, err := casemix.ReadDischarges(ctxReader{e.ctx, in}, workers, func(w int, d *casemix.Discharge) { bs[w].Add(d) })
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(e.stderr, "drg: interrupted")
		return zero, stats, exitInterrupted, false
	}
	if err != nil {
		return zero, stats, fail(e, "%s: %v", inputName(rf.in), err), false
	}
	for _, b := range bs[1:] {
		bs[0].Merge(b)
	}
	fmt.Fprintf(e.stderr, "drg: report: %d records read, %d error records skipped\n", stats.Records, stats.ErrorRecords)
	return bs[0], stats, 0, true
}

func inputName(path string) string {
	if path == "" || path == "-" {
		return "stdin"
	}
	return path
}

// ctxReader stops reading once ctx is canceled (SIGINT).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read implements io.Reader.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// textReport is what every casemix report can write.
type textReport interface {
	WriteText(w io.Writer) error
	WriteCSV(w io.Writer) error
}

// writeReport writes r to --out in --format.
func writeReport(e *env, rf *reportFlags, r textReport) int {
	out, err := createOutput(e, rf.out)
	if err != nil {
		return fail(e, "%v", err)
	}
	w := bufio.NewWriter(out)
	switch rf.format {
	case "csv":
		err = r.WriteCSV(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	default:
		err = r.WriteText(w)
	}
	err = errors.Join(err, w.Flush(), out.Close())
	if err != nil {
		return fail(e, "write report: %v", err)
	}
	return exitOK
}

// warnMissingYears repeats on stderr that discharges were left out for want of their
// year's weights.
func warnMissingYears(e *env, exc *casemix.Exclusions) {
	for _, fy := range slices.Sorted(maps.Keys(exc.MissingYears)) {
		fmt.Fprintf(e.stderr, "drg: warning: %d discharges of FY%d excluded: Table 5 FY%d is not loaded (pass --weights-year to weigh them with another year)\n", exc.MissingYears[fy], fy, fy)
	}
}

func newestVersion(cat *tables.Catalog) tables.Version {
	if n := len(cat.MSDRG.Versions); n > 0 {
		return cat.MSDRG.Versions[n-1]
	}
	return 0
}

func dimensionList() string {
	names := make([]string, len(casemix.Dimensions))
	for i, d := range casemix.Dimensions {
		names[i] = string(d)
	}
	return strings.Join(names, ", ")
}
