package tables

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// POAExempt is the list of ICD-10-CM codes exempt from present-on-admission reporting in one
// fiscal year (CDC/NCHS POAexemptCodesFYyy).
type POAExempt struct {
	FiscalYear int
	Source     string // file it was read from

	codes []string // ascending, upper case, no dots
}

// Has reports whether code is POA-exempt; a dotted code (Z37.0) is accepted.
func (p *POAExempt) Has(code string) bool {
	_, ok := slices.BinarySearch(p.codes, strings.ToUpper(strings.ReplaceAll(code, ".", "")))
	return ok
}

// Len returns the number of exempt codes.
func (p *POAExempt) Len() int { return len(p.codes) }

// Codes returns the exempt codes in ascending order; the slice must not be modified.
func (p *POAExempt) Codes() []string { return p.codes }

var (
	// poaZipName matches the distributed zip: POAexemptCodesFY26.zip.
	poaZipName = regexp.MustCompile(`(?i)^POAexemptCodesFY(\d\d)\.zip$`)
	// poaListName matches the full list inside the zip (not the Add/Delete/Revise lists).
	poaListName = regexp.MustCompile(`(?i)^POAexemptCodesFY(\d\d)\.txt$`)
)

// LoadPOAExempt reads the POA-exempt list from a CDC zip (POAexemptCodesFYyy.zip holding
// POAexemptCodesFYyy.txt). The fiscal year comes from the name of the list inside the zip
// (FY26 → 2026), which must agree with the zip's name when that follows the CDC pattern.
func LoadPOAExempt(zipPath string) (*POAExempt, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", zipPath, err)
	}
	defer zr.Close()
	p, err := readPOAZip(&zr.Reader, zipPath)
	if err != nil {
		return nil, err
	}
	if m := poaZipName.FindStringSubmatch(filepath.Base(zipPath)); m != nil {
		if fy := 2000 + atoi(m[1]); fy != p.FiscalYear {
			return nil, fmt.Errorf("load %s: file name says FY%d but it holds the FY%d list", zipPath, fy, p.FiscalYear)
		}
	}
	return p, nil
}

func readPOAZip(zr *zip.Reader, name string) (*POAExempt, error) {
	f, fy := findPOAList(zr)
	if f == nil {
		return nil, fmt.Errorf("load %s: no POAexemptCodesFYyy.txt inside; is this the CDC POA exempt list zip?", name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("load %s!%s: %w", name, f.Name, err)
	}
	defer rc.Close()
	return ParsePOAExempt(name+"!"+f.Name, fy, rc)
}

// findPOAList returns the full exempt list of a POA zip and its fiscal year.
func findPOAList(zr *zip.Reader) (*zip.File, int) {
	for _, f := range zr.File {
		if m := poaListName.FindStringSubmatch(path.Base(f.Name)); m != nil {
			return f, 2000 + atoi(m[1])
		}
	}
	return nil, 0
}

// ParsePOAExempt parses the tab-delimited list: a header line (Order26<TAB>POAexemptCode…), then
// order<TAB>code<TAB>description per code. Codes may carry a dot; they are stored without.
// Errors name the file and the line.
func ParsePOAExempt(name string, fiscalYear int, r io.Reader) (*POAExempt, error) {
	p := &POAExempt{FiscalYear: fiscalYear, Source: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var arena strings.Builder
	type span struct{ off, n int }
	var spans []span
	line := 0
	for sc.Scan() {
		line++
		t := bytes.TrimRight(sc.Bytes(), "\r\n")
		if line == 1 {
			t = bytes.TrimPrefix(t, utf8BOM)
		}
		if len(bytes.TrimSpace(t)) == 0 {
			continue
		}
		cols := bytes.SplitN(t, []byte{'\t'}, 3)
		if line == 1 && (len(cols) > 1 && bytes.EqualFold(bytes.TrimSpace(cols[1]), []byte("POAexemptCode")) ||
			bytes.HasPrefix(bytes.ToLower(cols[0]), []byte("ord"))) {
			continue // header: Order26, OrdFY25, … then POAexemptCode
		}
		if len(cols) < 2 {
			return nil, fmt.Errorf("%s:%d: want order<TAB>code<TAB>description", name, line)
		}
		code := normalizeCodeBytes(cols[1])
		if !validCode(code, 3, 7) {
			return nil, fmt.Errorf("%s:%d: %q is not an ICD-10-CM code", name, line, cols[1])
		}
		spans = append(spans, span{arena.Len(), len(code)})
		arena.Write(code)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(spans) == 0 {
		return nil, fmt.Errorf("%s: no codes", name)
	}
	all := arena.String()
	p.codes = make([]string, len(spans))
	for i, s := range spans {
		p.codes[i] = all[s.off : s.off+s.n]
	}
	slices.Sort(p.codes)
	p.codes = slices.Compact(p.codes)
	return p, nil
}

// normalizeCodeBytes upper-cases an ICD-10 code and removes dots and surrounding blanks, in
// place.
func normalizeCodeBytes(b []byte) []byte {
	b = bytes.TrimSpace(b)
	out := b[:0]
	for _, c := range b {
		if c == '.' {
			continue
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		out = append(out, c)
	}
	return out
}

// validCode reports whether b is min…max upper-case letters and digits.
func validCode(b []byte, minLen, maxLen int) bool {
	if len(b) < minLen || len(b) > maxLen {
		return false
	}
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// atoi converts a string of digits already checked by a regular expression.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
