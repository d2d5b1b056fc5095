package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/msdrg-cdi/drg/batch"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/parity"
)

func init() {
	commands["parity"] = command{"compare grouper (or --mce editor) output with the CMS oracle files", runParity}
}

// lineReader reads the lines of a plain or gzip file.
type lineReader struct {
	f  *os.File
	zr *gzip.Reader
	sc *bufio.Scanner
}

func openLines(path string) (*lineReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	lr := &lineReader{f: f}
	br := bufio.NewReaderSize(f, 1<<20)
	var r io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		if lr.zr, err = gzip.NewReader(br); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = lr.zr
	}
	lr.sc = bufio.NewScanner(r)
	lr.sc.Buffer(make([]byte, 1<<20), 1<<26)
	return lr, nil
}

// Close closes the file (and the gzip reader).
func (l *lineReader) Close() error {
	if l.zr != nil {
		l.zr.Close()
	}
	return l.f.Close()
}

func runParity(e *env) int {
	fs := newFlags(e, "parity", "--claims FILE --expected FILE [--mce] [--data DIR]")
	data := fs.String("data", "", "data directory (default: $DRG_DATA, ./data, ../shared/cms)")
	claimsPath := fs.String("claims", "", "claims in the oracle TSV format (gzip ok)")
	expectedPath := fs.String("expected", "", "the CMS records, JSON Lines (gzip ok)")
	withMCE := fs.Bool("mce", false, "compare Medicare Code Editor records instead of grouper records")
	if st, ok := parseFlags(fs, e.args); !ok {
		return st
	}
	if *claimsPath == "" || *expectedPath == "" {
		fs.Usage()
		return usageError(e, "parity: --claims and --expected are required")
	}
	cat, err := loadCatalog(e, *data)
	if err != nil {
		return fail(e, "%v", err)
	}
	claims, err := openLines(*claimsPath)
	if err != nil {
		return fail(e, "%v", err)
	}
	defer claims.Close()
	expected, err := openLines(*expectedPath)
	if err != nil {
		return fail(e, "%v", err)
	}
	defer expected.Close()

	var add func(line int, want []byte, c *claim.Claim) error
	var report func()
	if *withMCE {
		rep, fn, err := newMCEParity(cat)
		if err != nil {
			return fail(e, "%v", err)
		}
		add, report = fn, func() { printMCEParity(e, rep) }
	} else {
		eng := grouper.New(cat.MSDRG)
		rep := parity.NewGrouperReport()
		add = func(line int, want []byte, c *claim.Claim) error {
			if err := batch.ChooseVersion(c, 0, cat.MSDRG.Versions); err != nil {
				return err
			}
			r, err := eng.Group(c, grouper.Options{})
			if err != nil {
				return err
			}
			return rep.Add(line, want, r)
		}
		report = func() { printGrouperParity(e, rep) }
	}
	line := 0
	for claims.sc.Scan() {
		line++
		if !expected.sc.Scan() {
			return fail(e, "%s has fewer records than %s (stopped at line %d)", *expectedPath, *claimsPath, line)
		}
		c, err := claim.ParseTSV(claims.sc.Text())
		if err != nil {
			return fail(e, "%s line %d: %v", *claimsPath, line, err)
		}
		if err := add(line, expected.sc.Bytes(), c); err != nil {
			return fail(e, "line %d: %v", line, err)
		}
	}
	if err := claims.sc.Err(); err != nil {
		return fail(e, "read %s: %v", *claimsPath, err)
	}
	if expected.sc.Scan() {
		return fail(e, "%s has more records than %s", *expectedPath, *claimsPath)
	}
	report()
	return exitOK
}

func printGrouperParity(e *env, r *parity.GrouperReport) {
	w := e.stdout
	fmt.Fprintf(w, "claims compared:          %d\n", r.Claims)
	fmt.Fprintf(w, "final DRG agreement:      %.3f%%\n", parity.Pct(r.FinalDRG, r.Claims))
	fmt.Fprintf(w, "initial DRG agreement:    %.3f%%\n", parity.Pct(r.InitialDRG, r.Claims))
	fmt.Fprintf(w, "MDC agreement:            %.3f%%\n", parity.Pct(r.MDC, r.Claims))
	fmt.Fprintf(w, "return code agreement:    %.3f%%\n", parity.Pct(r.GRC, r.Claims))
	fmt.Fprintf(w, "full record agreement:    %.3f%%\n", parity.Pct(r.Full, r.Claims))
	printMismatches(w, r.FieldDiffs, r.Listed)
	fmt.Fprintln(w, r.Summary())
}

func printMismatches(w io.Writer, fieldDiffs map[string]int, listed []parity.Mismatch) {
	if len(fieldDiffs) > 0 {
		fields := make([]string, 0, len(fieldDiffs))
		for f := range fieldDiffs {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		fmt.Fprintln(w, "fields that differ (records):")
		for _, f := range fields {
			fmt.Fprintf(w, "  %-28s %d\n", f, fieldDiffs[f])
		}
	}
	if len(listed) > 0 {
		fmt.Fprintf(w, "first %d mismatches:\n", len(listed))
	}
	for _, m := range listed {
		fmt.Fprintf(w, "  line %d (id %s):\n", m.Line, m.ID)
		for _, d := range m.Diffs {
			fmt.Fprintf(w, "    %s: want %s, got %s\n", d.Path, d.Want, d.Got)
		}
	}
}
