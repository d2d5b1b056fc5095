package tables

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"iter"
	"slices"
	"strings"
)

// CodeHistory is what the loaded data says about one code across fiscal years (the CMS code
// files) and grouper versions (the grouper tables).
type CodeHistory struct {
	Kind     TitleKind
	Code     string    // upper case, without a dot
	Years    []int     // fiscal years with a code file of Kind, ascending
	Valid    []int     // years in which the code is valid for submission
	Header   []int     // years in which it is a heading that needs more characters
	Versions []Version // loaded grouper versions that recognize it
}

// CodeHistory reads the history of code in every loaded code file of kind and in the grouper
// tables. It reads only the codes and their validity flags of the order files (codeYears),
// not the titles. Years whose file cannot be read are left out.
func (c *Catalog) CodeHistory(kind TitleKind, code string) CodeHistory {
	h := CodeHistory{Kind: kind, Code: strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), ".", ""))}
	for _, fy := range c.TitleYears(kind) {
		cy := c.codeYear(kind, fy)
		if cy == nil {
			continue
		}
		h.Years = append(h.Years, fy)
		if valid, ok := cy.get(h.Code); ok && valid {
			h.Valid = append(h.Valid, fy)
		} else if ok {
			h.Header = append(h.Header, fy)
		}
	}
	var set VersionSet
	if kind == ICD10CM {
		for _, r := range c.MSDRG.Dx[h.Code] {
			set |= r.Versions
		}
	} else {
		for _, r := range c.MSDRG.Pr[h.Code] {
			set |= r.Versions
		}
	}
	for _, v := range set.List() {
		if c.MSDRG.HasVersion(v) {
			h.Versions = append(h.Versions, v)
		}
	}
	return h
}

// codeYear is the codes of one order file with their validity flags, sorted by code: what
// code histories need, without the titles and their search index (a few MB a year).
type codeYear struct {
	codes []string
	valid []bool
}

// get returns whether code is valid for submission and whether the file has it at all.
func (cy *codeYear) get(code string) (valid, ok bool) {
	i, ok := slices.BinarySearch(cy.codes, code)
	if !ok {
		return false, false
	}
	return cy.valid[i], true
}

// prefixed yields the codes starting with prefix, with their validity, in code order.
func (cy *codeYear) prefixed(prefix string) iter.Seq2[string, bool] {
	return func(yield func(string, bool) bool) {
		i, _ := slices.BinarySearch(cy.codes, prefix)
		for ; i < len(cy.codes) && strings.HasPrefix(cy.codes[i], prefix); i++ {
			if !yield(cy.codes[i], cy.valid[i]) {
				return
			}
		}
	}
}

// codeYear returns the codes of the order file of kind and fy, read on first use; nil when
// the year is not loaded or its file cannot be read (Titles reports that error).
func (c *Catalog) codeYear(kind TitleKind, fy int) *codeYear {
	lt := c.titles[titleKey{kind, fy}]
	if lt == nil {
		return nil
	}
	lt.codesOnce.Do(func() {
		if t := lt.t.Load(); t != nil { // the titles are loaded: take their codes
			cy := &codeYear{codes: make([]string, len(t.byCode)), valid: make([]bool, len(t.byCode))}
			for k, i := range t.byCode {
				cy.codes[k], cy.valid[k] = t.entries[i].code, t.entries[i].valid
			}
			lt.codes = cy
			return
		}
		lt.codes, _ = readCodeYear(lt.path)
	})
	return lt.codes
}

// readCodeYear reads the codes and validity flags of a code-title zip's order file (the
// layout of ParseOrderFile).
func readCodeYear(zipPath string) (*codeYear, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", zipPath, err)
	}
	defer zr.Close()
	f, _, _ := findOrderFile(&zr.Reader)
	if f == nil {
		return nil, fmt.Errorf("load %s: no order file inside", zipPath)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("load %s!%s: %w", zipPath, f.Name, err)
	}
	defer rc.Close()
	cy := &codeYear{}
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<16)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) < 15 {
			continue
		}
		cy.codes = append(cy.codes, string(bytes.TrimRight(line[6:13], " ")))
		cy.valid = append(cy.valid, line[14] == '1')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load %s!%s: %w", zipPath, f.Name, err)
	}
	idx := make([]int, len(cy.codes))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(cy.codes[a], cy.codes[b]) })
	sorted := &codeYear{codes: make([]string, len(idx)), valid: make([]bool, len(idx))}
	for k, i := range idx {
		sorted.codes[k], sorted.valid[k] = cy.codes[i], cy.valid[i]
	}
	return sorted, nil
}

// maxReplacements bounds the possible replacements listed for an invalid code.
const maxReplacements = 20

// InvalidCode explains a code that a grouper version does not recognize.
type InvalidCode struct {
	// Reason says what the code files and the grouper tables know of the code, in words:
	// deleted (since when), not yet valid, a heading that needs more characters, written with
	// a dot or in lower case, or unknown to every loaded year.
	Reason string
	// Replacements are codes valid in the version's fiscal year that may replace it: the
	// codes of that year that extend it — for a deleted code only those new since it was
	// last valid; for a 7-character code, the same stem (placeholder X removed) with the same
	// 7th character. They are derived from the code files by prefix, not from a CMS
	// conversion table: a coder must confirm them in the Tabular List. At most 20.
	Replacements []string
	// More is the number of further replacements not listed.
	More int
}

// invalidKey caches DescribeInvalid by kind, code and version.
type invalidKey struct {
	kind TitleKind
	code string
	v    Version
}

// DescribeInvalid explains why grouper version v does not recognize code (of kind) from the
// loaded code files and grouper tables (see InvalidCode); a code the version recognizes gets
// the zero InvalidCode. Answers are cached.
func (c *Catalog) DescribeInvalid(kind TitleKind, code string, v Version) InvalidCode {
	if c.invalid == nil { // a Catalog not made by Load
		return c.describeInvalid(kind, code, v)
	}
	key := invalidKey{kind, code, v}
	if x, ok := c.invalid.Load(key); ok {
		return x.(InvalidCode)
	}
	ic := c.describeInvalid(kind, code, v)
	c.invalid.Store(key, ic)
	return ic
}

func (c *Catalog) describeInvalid(kind TitleKind, code string, v Version) InvalidCode {
	fy := VersionFiscalYear(v)
	h := c.CodeHistory(kind, code)
	var ic InvalidCode
	if h.Code == "" {
		return InvalidCode{Reason: "no code given"}
	}
	switch {
	case h.Code == code && slices.Contains(h.Versions, v):
		return InvalidCode{} // valid
	case slices.Contains(h.Versions, v):
		return InvalidCode{Reason: fmt.Sprintf("write it %s: codes are upper case, without a dot", h.Code)}
	}
	if len(h.Years) == 0 {
		return InvalidCode{Reason: fmt.Sprintf("no %s code file is loaded to tell more", kind)}
	}
	validIn := slices.Contains(h.Valid, fy)
	switch {
	case len(h.Versions) > 0 && h.Versions[0] > v:
		first := h.Versions[0]
		from, _ := VersionWindow(first)
		ic.Reason = fmt.Sprintf("it takes effect with grouper version %s (discharges from %s)", first, from)
		if validIn {
			ic.Reason += fmt.Sprintf(", an April update of FY%d", fy)
		}
	case validIn:
		ic.Reason = fmt.Sprintf("the FY%d code file lists it, but this grouper version does not recognize it", fy)
	case len(h.Valid) > 0 && h.Valid[len(h.Valid)-1] < fy:
		last := h.Valid[len(h.Valid)-1]
		ic.Reason = fmt.Sprintf("it was deleted on %d-10-01: valid through FY%d", last, last)
		if len(h.Versions) > 0 {
			ic.Reason += fmt.Sprintf(" (grouper versions %s)", versionRange(h.Versions))
		}
		if slices.Contains(h.Header, fy) {
			ic.Reason += fmt.Sprintf("; in FY%d it is a heading that needs more characters", fy)
		}
		ic.Replacements, ic.More = c.replacements(kind, h.Code, fy, last)
	case len(h.Valid) > 0:
		first := h.Valid[0]
		ic.Reason = fmt.Sprintf("it is valid from FY%d (discharges from %d-10-01)", first, first-1)
	case slices.Contains(h.Header, fy):
		ic.Reason = fmt.Sprintf("it is a heading, not a complete code: it needs more characters (FY%d)", fy)
		ic.Replacements, ic.More = c.replacements(kind, h.Code, fy, 0)
	default:
		ic.Reason = fmt.Sprintf("it is not a code of any loaded %s code file (FY%d–FY%d)", kind, h.Years[0], h.Years[len(h.Years)-1])
	}
	return ic
}

// replacements lists the valid codes of year fy that extend code and were not valid in year
// since (0: any); see InvalidCode.Replacements.
func (c *Catalog) replacements(kind TitleKind, code string, fy, since int) ([]string, int) {
	cy := c.codeYear(kind, fy)
	if cy == nil {
		return nil, 0
	}
	var old *codeYear
	if since != 0 {
		old = c.codeYear(kind, since)
	}
	stem, ext := code, byte(0)
	if kind == ICD10CM && len(code) == 7 { // the 7th character is an extension (A, D, S, …)
		stem, ext = strings.TrimRight(code[:6], "X"), code[6]
	}
	var out []string
	more := 0
	for cand, valid := range cy.prefixed(stem) {
		if !valid || cand == code || ext != 0 && (len(cand) != 7 || cand[6] != ext) {
			continue
		}
		if old != nil {
			if v, _ := old.get(cand); v {
				continue // valid already when the code was: a sibling, not a replacement
			}
		}
		if len(out) == maxReplacements {
			more++
			continue
		}
		out = append(out, cand)
	}
	return out, more
}

// versionRange renders ascending versions as "40.0–41.1" (or one version).
func versionRange(vs []Version) string {
	if len(vs) == 1 {
		return vs[0].String()
	}
	return vs[0].String() + "–" + vs[len(vs)-1].String()
}
