package tables

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"iter"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// TitleKind tells ICD-10-CM (diagnosis) titles from ICD-10-PCS (procedure) titles.
type TitleKind uint8

// Title kinds.
const (
	ICD10CM TitleKind = iota + 1
	ICD10PCS
)

// MarshalText writes the kind's name.
func (k TitleKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// String returns "ICD-10-CM" or "ICD-10-PCS".
func (k TitleKind) String() string {
	switch k {
	case ICD10CM:
		return "ICD-10-CM"
	case ICD10PCS:
		return "ICD-10-PCS"
	}
	return fmt.Sprintf("TitleKind(%d)", int(k))
}

// CodeTitle is one line of a CMS order file.
type CodeTitle struct {
	Code  string // upper case, no dot
	Valid bool   // valid for submission (billable); false for headers (I50, 021, …)
	Short string // short title (≤ 60 characters)
	Long  string // long title
	Order int    // position in the tabular order (1-based, from the file)
}

// CodeTitles holds the titles of one code set (ICD-10-CM or ICD-10-PCS) for one fiscal year,
// with a word index for Search. It is immutable and safe for concurrent use.
type CodeTitles struct {
	FiscalYear int
	Kind       TitleKind
	Source     string // zip!entry it was read from

	entries []titleEntry // tabular order
	byCode  []int32      // entry indices sorted by code
	valid   int

	// Word index of the titles (short and long).
	idx wordIndex

	pool sync.Pool // *searchScratch
}

type titleEntry struct {
	code, short, long string
	order             int32
	valid             bool
}

func (e *titleEntry) title() CodeTitle {
	return CodeTitle{Code: e.code, Valid: e.valid, Short: e.short, Long: e.long, Order: int(e.order)}
}

// Get returns the titles of code (a dotted code is accepted).
func (t *CodeTitles) Get(code string) (CodeTitle, bool) {
	if i, ok := t.find(strings.ToUpper(strings.ReplaceAll(code, ".", ""))); ok {
		return t.entries[i].title(), true
	}
	return CodeTitle{}, false
}

func (t *CodeTitles) find(code string) (int32, bool) {
	k, ok := slices.BinarySearchFunc(t.byCode, code, func(i int32, c string) int {
		return strings.Compare(t.entries[i].code, c)
	})
	if !ok {
		return 0, false
	}
	return t.byCode[k], true
}

// Len returns the number of codes (headers included).
func (t *CodeTitles) Len() int { return len(t.entries) }

// ValidLen returns the number of codes valid for submission.
func (t *CodeTitles) ValidLen() int { return t.valid }

// Prefixed calls fn for every code starting with prefix (upper case, no dot), in code order,
// until fn returns false.
func (t *CodeTitles) Prefixed(prefix string, fn func(CodeTitle) bool) {
	for i := range t.prefixed(prefix) {
		if !fn(t.entries[i].title()) {
			return
		}
	}
}

// prefixed yields the indices of the entries whose code starts with prefix, in code order.
func (t *CodeTitles) prefixed(prefix string) iter.Seq[int32] {
	return func(yield func(int32) bool) {
		lo, _ := slices.BinarySearchFunc(t.byCode, prefix, func(i int32, c string) int {
			return strings.Compare(t.entries[i].code, c)
		})
		for k := lo; k < len(t.byCode) && strings.HasPrefix(t.entries[t.byCode[k]].code, prefix); k++ {
			if !yield(t.byCode[k]) {
				return
			}
		}
	}
}

// All calls fn for every code in tabular order until fn returns false.
func (t *CodeTitles) All(fn func(CodeTitle) bool) {
	for i := range t.entries {
		if !fn(t.entries[i].title()) {
			return
		}
	}
}

// orderName matches the order file inside the CMS zips: icd10cm_order_2026.txt,
// icd10pcs_order_2026.txt.
var orderName = regexp.MustCompile(`(?i)^icd10(cm|pcs)_order_(\d{4})\.txt$`)

// findOrderFile returns the order file of a CMS code-title zip with its kind and year.
func findOrderFile(zr *zip.Reader) (*zip.File, TitleKind, int) {
	for _, f := range zr.File {
		if m := orderName.FindStringSubmatch(path.Base(f.Name)); m != nil {
			k := ICD10CM
			if strings.EqualFold(m[1], "pcs") {
				k = ICD10PCS
			}
			return f, k, atoi(m[2])
		}
	}
	return nil, 0, 0
}

// titleZipName matches the data-dir names cms_2026_dx.zip and cms_2026_pr.zip.
var titleZipName = regexp.MustCompile(`(?i)^cms_(\d{4})_(dx|pr)\.zip$`)

// LoadCodeTitles reads a CMS code-title zip ("Code Descriptions in Tabular Order" for
// ICD-10-CM, "ICD-10-PCS Order File" for ICD-10-PCS). The kind and the fiscal year come from
// the order file inside (icd10cm_order_2026.txt); they must agree with the zip's name when
// that follows the data-dir pattern cms_YYYY_dx.zip / cms_YYYY_pr.zip.
func LoadCodeTitles(zipPath string) (*CodeTitles, error) {
	return loadCodeTitles(zipPath, nil)
}

// loadCodeTitles is LoadCodeTitles sharing title strings with prev (another year of the same
// code set) where they are equal, so that several loaded years cost little more memory than
// one.
func loadCodeTitles(zipPath string, prev *CodeTitles) (*CodeTitles, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", zipPath, err)
	}
	defer zr.Close()
	return readCodeTitlesZip(&zr.Reader, zipPath, prev)
}

// readCodeTitlesZip reads the order file of an opened code-title zip named name.
func readCodeTitlesZip(zr *zip.Reader, name string, prev *CodeTitles) (*CodeTitles, error) {
	f, kind, fy := findOrderFile(zr)
	if f == nil {
		return nil, fmt.Errorf("load %s: no icd10cm_order_YYYY.txt or icd10pcs_order_YYYY.txt inside; is this a CMS code-title zip?", name)
	}
	if m := titleZipName.FindStringSubmatch(filepath.Base(name)); m != nil {
		nk := ICD10CM
		if strings.EqualFold(m[2], "pr") {
			nk = ICD10PCS
		}
		if atoi(m[1]) != fy || nk != kind {
			return nil, fmt.Errorf("load %s: file name says %s FY%s but it holds %s", name, nk, m[1], f.Name)
		}
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("load %s!%s: %w", name, f.Name, err)
	}
	defer rc.Close()
	if prev != nil && prev.Kind != kind {
		prev = nil
	}
	return parseOrderFile(name+"!"+f.Name, kind, fy, rc, int(f.UncompressedSize64), prev)
}

// ParseOrderFile parses a CMS order file (icd10cm_order_YYYY.txt or icd10pcs_order_YYYY.txt):
// fixed width, one code per line —
//
//	columns  1-5   order number (zero padded)
//	column   6     blank
//	columns  7-13  code, left aligned, blank padded
//	column   14    blank
//	column   15    1 = valid for submission, 0 = header
//	column   16    blank
//	columns 17-76  short title, blank padded
//	column   77    blank
//	columns 78-    long title
//
// Lines end with CR LF or LF. Errors name the file and the line.
func ParseOrderFile(name string, kind TitleKind, fiscalYear int, r io.Reader) (*CodeTitles, error) {
	return parseOrderFile(name, kind, fiscalYear, r, 0, nil)
}

// pendingTitle is a title either shared with the previous year (s) or still in the arena.
type pendingTitle struct {
	s      string
	off, n int32
}

func parseOrderFile(name string, kind TitleKind, fy int, r io.Reader, sizeHint int, prev *CodeTitles) (*CodeTitles, error) {
	t := &CodeTitles{FiscalYear: fy, Kind: kind, Source: name}
	maxCode := 7
	if sizeHint <= 0 {
		sizeHint = 1 << 20
	}
	var arena bytes.Buffer // codes and titles not shared with prev; one string at the end
	if prev == nil {
		arena.Grow(sizeHint * 3 / 4)
	}
	type pending struct {
		code, short, long pendingTitle
		order             int32
		valid             bool
	}
	lines := make([]pending, 0, sizeHint/150)
	br := bufio.NewReaderSize(r, 1<<16)
	put := func(b []byte, shared string, ok bool) pendingTitle {
		if ok && shared == string(b) {
			return pendingTitle{s: shared}
		}
		p := pendingTitle{off: int32(arena.Len()), n: int32(len(b))}
		arena.Write(b)
		return p
	}
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes", name, lineNo, br.Size())
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
		if len(line) == 0 && err == io.EOF {
			break
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			if err == io.EOF {
				break
			}
			continue
		}
		if len(line) < 78 || line[5] != ' ' || line[13] != ' ' || line[15] != ' ' || line[76] != ' ' {
			return nil, fmt.Errorf("%s:%d: not an order-file line (want order(5) code(7) flag(1) short(60) long, blank separated)", name, lineNo)
		}
		order, perr := strconv.Atoi(string(line[0:5]))
		if perr != nil {
			return nil, fmt.Errorf("%s:%d: order number %q is not a number", name, lineNo, line[0:5])
		}
		code := bytes.TrimRight(line[6:13], " ")
		if !validCode(code, 3, maxCode) {
			return nil, fmt.Errorf("%s:%d: code %q is not an %s code", name, lineNo, line[6:13], kind)
		}
		if line[14] != '0' && line[14] != '1' {
			return nil, fmt.Errorf("%s:%d: valid flag %q: want 0 or 1", name, lineNo, line[14])
		}
		short := bytes.TrimRight(line[16:76], " ")
		long := bytes.TrimRight(line[77:], " ")
		var pe *titleEntry
		if prev != nil {
			if i, ok := prev.find(string(code)); ok {
				pe = &prev.entries[i]
			}
		}
		var p pending
		p.order, p.valid = int32(order), line[14] == '1'
		if pe != nil {
			p.code = pendingTitle{s: pe.code}
			p.long = put(long, pe.long, true)
		} else {
			p.code = put(code, "", false)
			p.long = put(long, "", false)
		}
		switch {
		case bytes.Equal(short, long):
			p.short = p.long
		case pe != nil:
			p.short = put(short, pe.short, true)
		default:
			p.short = put(short, "", false)
		}
		lines = append(lines, p)
		if err == io.EOF {
			break
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: no codes", name)
	}
	all := arena.String()
	str := func(p pendingTitle) string {
		if p.n == 0 {
			return p.s
		}
		return all[p.off : p.off+p.n]
	}
	t.entries = make([]titleEntry, len(lines))
	for i, p := range lines {
		e := &t.entries[i]
		e.code, e.short, e.long, e.order, e.valid = str(p.code), str(p.short), str(p.long), p.order, p.valid
		if e.valid {
			t.valid++
		}
	}
	t.byCode = make([]int32, len(t.entries))
	for i := range t.byCode {
		t.byCode[i] = int32(i)
	}
	slices.SortFunc(t.byCode, func(a, b int32) int { return strings.Compare(t.entries[a].code, t.entries[b].code) })
	for i := 1; i < len(t.byCode); i++ {
		if a, b := t.byCode[i-1], t.byCode[i]; t.entries[a].code == t.entries[b].code {
			return nil, fmt.Errorf("%s: code %s listed twice (orders %d and %d)", name, t.entries[a].code, t.entries[a].order, t.entries[b].order)
		}
	}
	t.buildIndex()
	return t, nil
}

// buildIndex builds the word index over short and long titles.
func (t *CodeTitles) buildIndex() {
	t.idx = buildWordIndex(len(t.entries), 14, func(i int, emit func(string)) {
		emit(t.entries[i].long)
		emit(t.entries[i].short)
	})
}

// DefaultSearchLimit is the number of results Search returns when limit ≤ 0.
const DefaultSearchLimit = 20

// Search returns up to limit codes matching q, best first.
//
// A query that looks like a code (one run of letters and digits with at least one digit,
// dots allowed, at most 7 characters) first matches codes by prefix, in code order ("I50" → I50, I501, I5020, …).
// Then titles match when every query word is a prefix of some word of the short or the long
// title ("ac kid fail" finds "Acute kidney failure, unspecified"), ranked by: fewer query
// words matched only as a prefix, then long titles holding the query words as a phrase,
// then long titles starting with the first query word, then valid (billable) codes before
// headers, then shorter long title, then tabular order. Matching ignores case and punctuation. The work is
// proportional to the postings of the matched words: a few milliseconds in the worst case
// (a one-letter query) on a full code set.
func (t *CodeTitles) Search(q string, limit int) []CodeTitle {
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	limit = min(limit, len(t.entries))
	var out []CodeTitle
	var taken []int32
	if code := codeQuery(q); code != "" {
		for i := range t.prefixed(code) {
			if len(out) == limit {
				break
			}
			out = append(out, t.entries[i].title())
			taken = append(taken, i)
		}
	}
	if len(out) >= limit {
		return out
	}
	for _, i := range t.searchWords(q, limit+len(taken)) {
		if !slices.Contains(taken, i) {
			out = append(out, t.entries[i].title())
			if len(out) == limit {
				break
			}
		}
	}
	return out
}

// codeQuery returns q upper-cased without dots when it looks like a code (letters and
// digits, at least one digit, at most 7 characters), else "".
func codeQuery(q string) string {
	c := normalizeCodeBytes([]byte(q))
	if !validCode(c, 1, 7) || !bytes.ContainsAny(c, "0123456789") {
		return ""
	}
	return string(c)
}

// searchWords returns the indices of the best limit entries whose titles match every word of
// q, best first.
func (t *CodeTitles) searchWords(q string, limit int) []int32 {
	qw := queryWords(q)
	if len(qw) == 0 {
		return nil
	}
	spans, ok := t.idx.spans(qw)
	if !ok {
		return nil
	}
	sc := getScratch(&t.pool, len(t.entries))
	defer t.pool.Put(sc)
	t.idx.match(qw, spans, sc)
	var buf []byte
	// Rank with a bounded max-heap of sort keys (lower is better).
	n := uint8(len(qw))
	top := topKeys{limit: limit}
	for i, c := range sc.count {
		if c != n {
			continue
		}
		e := &t.entries[i]
		key := uint64(n-sc.exact[i])<<56 | uint64(min(len(e.long), 0x7fff))<<32 | uint64(i)
		if n > 1 && !hasPhrase(e.long, qw, &buf) {
			key |= 1 << 55
		}
		if !hasPrefixFold(e.long, qw[0]) {
			key |= 1 << 54
		}
		if !e.valid {
			key |= 1 << 53
		}
		top.push(key)
	}
	keys := top.sorted()
	out := make([]int32, len(keys))
	for i, k := range keys {
		out[i] = int32(uint32(k))
	}
	return out
}

// hasPhrase reports whether the words of s contain qw as a phrase: consecutive words, each
// starting with the corresponding query word.
func hasPhrase(s string, qw []string, buf *[]byte) bool {
	var ok [maxQueryWords]bool // ok[k]: the last k+1 words of s matched qw[0…k]
	for w := range tokens(s, buf) {
		for k := len(qw) - 1; k >= 0; k-- {
			ok[k] = len(w) >= len(qw[k]) && string(w[:len(qw[k])]) == qw[k] && (k == 0 || ok[k-1])
		}
		if ok[len(qw)-1] {
			return true
		}
	}
	return false
}

// hasPrefixFold reports whether s starts with the lower-case ASCII word w, ignoring case.
func hasPrefixFold(s, w string) bool {
	if len(s) < len(w) {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}
