package tables

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DRGWeight is one row of IPPS Table 5: the relative weight and the geometric and arithmetic
// mean lengths of stay of an MS-DRG.
type DRGWeight struct {
	DRG    int
	Weight float64
	GMLOS  float64
	AMLOS  float64
}

// Weights is the Table 5 of one fiscal year.
type Weights struct {
	FiscalYear int
	Source     string // file it was read from

	rows  []DRGWeight // ascending DRG
	index [1000]int16 // DRG → position in rows + 1; 0 = absent
}

// Get returns the row of MS-DRG drg.
func (w *Weights) Get(drg int) (DRGWeight, bool) {
	if drg <= 0 || drg >= len(w.index) || w.index[drg] == 0 {
		return DRGWeight{}, false
	}
	return w.rows[w.index[drg]-1], true
}

// Len returns the number of DRGs in the table.
func (w *Weights) Len() int { return len(w.rows) }

// All returns the rows in ascending DRG order; the slice must not be modified.
func (w *Weights) All() []DRGWeight { return w.rows }

// table5Header is the header row of a Table 5 CSV (data_sources.md).
var table5Header = []string{"msdrg", "weight", "gmlos", "amlos"}

var (
	fyInName    = regexp.MustCompile(`(?i)(?:^|[^a-z])fy[ _-]?(20\d\d)(?:[^0-9]|$)`)
	fyInComment = regexp.MustCompile(`(?i)\bFY[ ]?(20\d\d)\b`)
)

// LoadWeights reads a Table 5 CSV file. See ParseWeights for the format and the fiscal-year
// rule.
func LoadWeights(path string) (*Weights, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return ParseWeights(path, b)
}

// ParseWeights parses the content of a Table 5 CSV named name: optional comment lines
// starting with '#', the header msdrg,weight,gmlos,amlos, then one row per DRG (DRG 1…999,
// weight > 0, GMLOS and AMLOS ≥ 0, no duplicate DRG).
//
// The fiscal year is taken from the file name ("msdrg_fy2026_weights_los.csv" → 2026; the
// letters "fy" followed by a 4-digit year); when the name has none, from the first comment
// mentioning "FY2026" or "FY 2026". Name and comment must agree when both give a year; a file
// giving none is rejected. Errors name the file and, for content errors, the line.
func ParseWeights(name string, content []byte) (*Weights, error) {
	fy, err := weightsFiscalYear(name, content)
	if err != nil {
		return nil, err
	}
	w := &Weights{FiscalYear: fy, Source: name}
	err = readDRGCSV(name, content, table5Header, func(line int, rec []string) error {
		row, err := parseWeightRow(rec)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if w.index[row.DRG] != 0 {
			return fmt.Errorf("%s:%d: MS-DRG %03d listed twice", name, line, row.DRG)
		}
		w.rows = append(w.rows, row)
		w.index[row.DRG] = int16(len(w.rows))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(w.rows) == 0 {
		return nil, fmt.Errorf("%s: no MS-DRG rows", name)
	}
	if !slices.IsSortedFunc(w.rows, func(a, b DRGWeight) int { return a.DRG - b.DRG }) {
		slices.SortFunc(w.rows, func(a, b DRGWeight) int { return a.DRG - b.DRG })
		for i, r := range w.rows {
			w.index[r.DRG] = int16(i + 1)
		}
	}
	return w, nil
}

func parseWeightRow(rec []string) (DRGWeight, error) {
	if len(rec) != 4 {
		return DRGWeight{}, fmt.Errorf("%d fields, want 4 (msdrg,weight,gmlos,amlos)", len(rec))
	}
	var row DRGWeight
	drg, err := strconv.Atoi(strings.TrimSpace(rec[0]))
	if err != nil || drg < 1 || drg > 999 {
		return row, fmt.Errorf("msdrg %q: want a number from 1 to 999", rec[0])
	}
	row.DRG = drg
	for i, dst := range []*float64{&row.Weight, &row.GMLOS, &row.AMLOS} {
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[i+1]), 64)
		if err != nil || v < 0 || v != v || v > 1e6 {
			return row, fmt.Errorf("%s %q: want a non-negative number", table5Header[i+1], rec[i+1])
		}
		*dst = v
	}
	if row.Weight == 0 {
		return row, fmt.Errorf("weight of MS-DRG %03d is 0", drg)
	}
	return row, nil
}

func weightsFiscalYear(name string, content []byte) (int, error) {
	fromName := 0
	if m := fyInName.FindStringSubmatch(filepath.Base(name)); m != nil {
		fromName, _ = strconv.Atoi(m[1])
	}
	fromComment := 0
	for line := range bytes.Lines(content) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 {
			continue
		}
		if t[0] != '#' {
			break
		}
		if m := fyInComment.FindSubmatch(t); m != nil {
			fromComment, _ = strconv.Atoi(string(m[1]))
			break
		}
	}
	switch {
	case fromName != 0 && fromComment != 0 && fromName != fromComment:
		return 0, fmt.Errorf("%s: file name says FY%d but its comment says FY%d", name, fromName, fromComment)
	case fromName != 0:
		return fromName, nil
	case fromComment != 0:
		return fromComment, nil
	}
	return 0, fmt.Errorf("%s: cannot tell the fiscal year: name the file msdrg_fyYYYY_weights_los.csv or start it with a comment line mentioning FYYYYY", name)
}

// utf8BOM starts CSV files saved by some spreadsheet programs.
var utf8BOM = []byte("\xef\xbb\xbf")

// equalFold reports whether the trimmed fields equal want, ignoring case.
func equalFold(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !strings.EqualFold(strings.TrimSpace(got[i]), want[i]) {
			return false
		}
	}
	return true
}

// readDRGCSV reads a per-DRG CSV file of the data directory (Table 5 weights, transfer flags):
// optional '#' comment lines, the header want (case-insensitive), then one row per DRG, passed
// to row with its line number. Blank lines are skipped. Errors name the file and line.
func readDRGCSV(name string, content []byte, want []string, row func(line int, rec []string) error) error {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(content, utf8BOM)))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header := true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		line, _ := r.FieldPos(0)
		if header {
			header = false
			if !equalFold(rec, want) {
				return fmt.Errorf("%s:%d: header %q: want %s", name, line, strings.Join(rec, ","), strings.Join(want, ","))
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if err := row(line, rec); err != nil {
			return err
		}
	}
	if header {
		return fmt.Errorf("%s: no header line %s", name, strings.Join(want, ","))
	}
	return nil
}
