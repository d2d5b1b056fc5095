package tables

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// The ICD-10-CM Alphabetic Index (Index to Diseases and Injuries, External Cause Index,
// Neoplasm Table, Table of Drugs and Chemicals) as CSV files of one fiscal year, in
// icd10cm/index_YYYY/ of the data directory (layout: ../shared/cms/icd10cm/index_2025/README.md).

// indexDirName matches the data-dir directories of the Alphabetic Index (index_2025).
var indexDirName = regexp.MustCompile(`^index_(\d{4})$`)

// indexFileName matches the index files: ICD10CM_2025_Index.csv.gz, …_ExternalIndex.csv,
// …_neoplasms.csv.gz, …_Drugs.csv.gz (gzip optional).
var indexFileName = regexp.MustCompile(`(?i)^ICD10CM_(\d{4})_(Index|ExternalIndex|neoplasms|Drugs)\.csv(\.gz)?$`)

// indexPart describes one file of the index: its name in the file name, its header, how its
// entries are labelled and which columns hold codes. Logic as data: the four files differ
// only by these.
type indexPart struct {
	name    string     // as in the file name
	label   string     // prefix of the entries' terms in results ("" for the main index)
	header  []string   // the CSV header
	see     bool       // has a See column
	columns []indexCol // code columns
}

// indexCol is a code column: its header name and the words it adds to the entry's term.
type indexCol struct {
	name, term string
}

var indexParts = []indexPart{
	{name: "Index", header: []string{"RowID", "Letter", "Level", "Term", "See", "SeeAlso", "NonEssModif", "Code"}, see: true,
		columns: []indexCol{{"Code", ""}}},
	{name: "ExternalIndex", label: "External cause: ", header: []string{"RowID", "Letter", "Level", "Term", "See", "SeeAlso", "NonEssModif", "Code"}, see: true,
		columns: []indexCol{{"Code", ""}}},
	{name: "neoplasms", label: "Neoplasm table: ",
		header: []string{"RowID", "Level", "Term", "SeeAlso", "NonEssModif", "MalignantPrimary", "MalignantSecondary", "CaInSitu", "Benign", "UncertainBehavior", "UnspecifiedBehavior"},
		columns: []indexCol{{"MalignantPrimary", "malignant primary"}, {"MalignantSecondary", "malignant secondary"}, {"CaInSitu", "carcinoma in situ"},
			{"Benign", "benign"}, {"UncertainBehavior", "uncertain behavior"}, {"UnspecifiedBehavior", "unspecified behavior"}}},
	{name: "Drugs", label: "Drugs and chemicals: ",
		header: []string{"RowID", "Letter", "Level", "Term", "SeeAlso", "NonEssModif", "PoisoningAccidental", "PoisoningIntentionalSelfHarm", "PoisoningAssault",
			"PoisoningUndetermined", "AdverseEffect", "Underdosing"},
		columns: []indexCol{{"PoisoningAccidental", "poisoning accidental (unintentional)"}, {"PoisoningIntentionalSelfHarm", "poisoning intentional self-harm"},
			{"PoisoningAssault", "poisoning assault"}, {"PoisoningUndetermined", "poisoning undetermined"}, {"AdverseEffect", "adverse effect"}, {"Underdosing", "underdosing"}}},
}

func indexPartNamed(name string) *indexPart {
	for i := range indexParts {
		if strings.EqualFold(indexParts[i].name, name) {
			return &indexParts[i]
		}
	}
	return nil
}

// AlphaIndex is the ICD-10-CM Alphabetic Index of one fiscal year: every index entry that
// leads to a code (directly or through a "see" reference), searchable by the words of its
// terms. It is immutable and safe for concurrent use.
type AlphaIndex struct {
	FiscalYear int
	Files      []string // the files read

	entries []indexEntry
	terms   wordIndex // words of the terms
	mods    wordIndex // words of the nonessential modifiers
	pool    sync.Pool // *indexScratch

	modText []string // per entry, while loading
}

// indexEntry is one searchable entry.
type indexEntry struct {
	term      string // "Failure, kidney, acute"; for "see" entries "Attack, heart → Infarct, myocardium"
	code      string // without dot or trailing dash ("N179")
	dash      bool   // the index writes the code as incomplete ("-"): the Tabular completes it
	level     uint8  // depth of the entry (0: main term)
	col       uint8  // code column (tables: malignant primary, poisoning accidental… first)
	termWords uint8  // number of words of the term (before a see arrow; main term by its first name)
}

// IndexHit is one result of AlphaIndex.Search.
type IndexHit struct {
	Code string // without dot
	Term string // the index entry that leads to it
	// Exact reports that the query names the entry exactly: every query word is a whole
	// word of its term and every word of the term is in the query.
	Exact bool
	// Incomplete reports a code the index writes with a dash: the Tabular List completes it.
	Incomplete bool
}

// Len returns the number of searchable entries.
func (x *AlphaIndex) Len() int { return len(x.entries) }

// LoadAlphaIndex reads the index files of one fiscal year (paths of any of the four parts;
// gzip detected). Each file must have its part's header; rows are checked for the level
// structure. Errors name the file and the line.
func LoadAlphaIndex(fy int, paths []string) (*AlphaIndex, error) {
	x := &AlphaIndex{FiscalYear: fy}
	for _, p := range paths {
		m := indexFileName.FindStringSubmatch(filepath.Base(p))
		if m == nil {
			return nil, fmt.Errorf("load %s: not an index file name (ICD10CM_YYYY_Index.csv.gz, _ExternalIndex, _neoplasms, _Drugs)", p)
		}
		if atoi(m[1]) != fy {
			return nil, fmt.Errorf("load %s: file name says FY%s, not FY%d", p, m[1], fy)
		}
		if err := x.readPart(p, indexPartNamed(m[2])); err != nil {
			return nil, err
		}
		x.Files = append(x.Files, p)
	}
	if len(x.entries) == 0 {
		return nil, fmt.Errorf("load ICD-10-CM index FY%d (%s): no entry with a code", fy, strings.Join(paths, ", "))
	}
	if len(x.entries) >= 1<<29 {
		return nil, fmt.Errorf("load ICD-10-CM index FY%d: %d entries, more than the search handles", fy, len(x.entries))
	}
	x.terms = buildWordIndex(len(x.entries), 5, func(i int, emit func(string)) {
		t := x.entries[i].term
		if j := strings.Index(t, " → "); j >= 0 {
			emit(t[:j]) // the words of the entry, not of the reference it follows
		} else {
			emit(t)
		}
	})
	x.mods = buildWordIndex(len(x.entries), 2, func(i int, emit func(string)) { emit(x.modText[i]) })
	x.modText = nil
	return x, nil
}

// openIndexFile opens a CSV file, gunzipping it when it is compressed.
func openIndexFile(p string) (io.ReadCloser, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, err
		}
		return struct {
			io.Reader
			io.Closer
		}{zr, f}, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{br, f}, nil
}

// rawEntry is a row of an index file before "see" references are resolved.
type rawEntry struct {
	path     []string // terms from the main term down
	names    []string // lower-case names of the entry's own term (termNames)
	words    int      // words of the path, the main term counted by its first name ("Failure, failed": 1)
	level    int
	see      string
	mods     string
	codes    []string // per code column ("" when none)
	children []int32
}

// readPart reads one index file into x.
func (x *AlphaIndex) readPart(p string, part *indexPart) error {
	rc, err := openIndexFile(p)
	if err != nil {
		return fmt.Errorf("load %s: %w", p, err)
	}
	defer rc.Close()
	if err := x.readCSV(p, rc, part); err != nil {
		return fmt.Errorf("load %w", err)
	}
	return nil
}

// indexReader returns a CSV reader of an index file positioned after its header, which it
// checks against part's (errors name the file p).
func indexReader(p string, in io.Reader, part *indexPart) (*csv.Reader, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if !equalFold(bytesTrimBOM(head), part.header) {
		return nil, fmt.Errorf("%s: header %q: want %s", p, strings.Join(head, ","), strings.Join(part.header, ","))
	}
	r.FieldsPerRecord = len(part.header)
	return r, nil
}

// readCSV reads the CSV text of one index file (named p in errors) into x.
func (x *AlphaIndex) readCSV(p string, in io.Reader, part *indexPart) error {
	r, err := indexReader(p, in, part)
	if err != nil {
		return err
	}
	r.ReuseRecord = true
	col := func(name string) int { return slices.Index(part.header, name) }
	iLevel, iTerm, iMods, iSee := col("Level"), col("Term"), col("NonEssModif"), col("See")
	codeCols := make([]int, len(part.columns))
	for k, c := range part.columns {
		codeCols[k] = col(c.name)
	}
	var rows []rawEntry
	var stack []int // index in rows of the current entry at each level
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", p, line, err)
		}
		level := atoi(rec[iLevel])
		if level < 0 || level > len(stack) || level > 15 || rec[iLevel] == "" {
			return fmt.Errorf("%s:%d: level %q after level %d", p, line, rec[iLevel], len(stack)-1)
		}
		term := strings.TrimSpace(rec[iTerm])
		e := rawEntry{level: level, mods: rec[iMods], names: termNames(term)}
		if level > 0 {
			parent := &rows[stack[level-1]]
			e.path = append(slices.Clip(parent.path), term)
			e.words = parent.words + countWords(term)
			parent.children = append(parent.children, int32(len(rows)))
		} else {
			first, _, _ := strings.Cut(term, ",") // the other names are alternatives
			e.path, e.words = []string{term}, countWords(first)
		}
		if iSee >= 0 {
			e.see = rec[iSee]
		}
		for _, c := range codeCols {
			e.codes = append(e.codes, strings.TrimSpace(rec[c]))
		}
		stack = append(stack[:level], len(rows))
		rows = append(rows, e)
	}
	res := newSeeResolver(rows)
	for i := range rows {
		e := &rows[i]
		term := part.label + strings.Join(e.path, ", ")
		for k, c := range part.columns {
			code, arrow := e.codes[k], ""
			if code == "" && part.see && e.see != "" {
				if j := res.resolve(e.see); j >= 0 {
					code, arrow = rows[j].codes[0], " → "+e.see
				}
			}
			code = strings.TrimSpace(code)
			dash := strings.HasSuffix(code, "-")
			cb := normalizeCodeBytes([]byte(strings.TrimRight(code, "-")))
			if !validCode(cb, 3, 7) {
				continue // no code, "--" (not applicable) or an instruction
			}
			code = string(cb)
			t := term
			if c.term != "" {
				t += ", " + c.term
			}
			x.entries = append(x.entries, indexEntry{term: t + arrow, code: code, dash: dash, level: uint8(min(e.level, 15)), col: uint8(k),
				termWords: uint8(min(e.words+min(countWords(c.term), 1), 255))}) // a column is one word
			x.modText = append(x.modText, e.mods)
		}
	}
	return nil
}

func bytesTrimBOM(rec []string) []string {
	if len(rec) > 0 {
		rec[0] = strings.TrimPrefix(rec[0], string(utf8BOM))
	}
	return rec
}

func countWords(s string) int {
	n := 0
	var buf []byte
	for range tokens(s, &buf) {
		n++
	}
	return n
}

// seeResolver finds the entry a "see" reference names ("Infarct, myocardium"): the main term
// by one of its names, then subterms by theirs (a term "myocardium, myocardial" answers to
// "myocardium"); a reference with a trailing instruction ("…, by site") resolves to the
// deepest entry named.
type seeResolver struct {
	rows   []rawEntry
	byName map[string][]int32 // lower-case name of a main term → rows
}

func newSeeResolver(rows []rawEntry) *seeResolver {
	r := &seeResolver{rows: rows, byName: map[string][]int32{}}
	for i := range rows {
		if rows[i].level == 0 {
			for _, n := range rows[i].names {
				r.byName[n] = append(r.byName[n], int32(i))
			}
		}
	}
	return r
}

// termNames returns the lower-case names of a term: the whole term and each comma-separated
// alternative.
func termNames(term string) []string {
	t := normSpace(term)
	out := []string{t}
	for p := range strings.SplitSeq(t, ",") {
		if p = strings.TrimSpace(p); p != "" && p != t {
			out = append(out, p)
		}
	}
	return out
}

func normSpace(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// resolve returns the row with a code the reference names, or -1.
func (r *seeResolver) resolve(ref string) int {
	var parts []string
	for p := range strings.SplitSeq(normSpace(ref), ",") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return -1
	}
	best := -1
	for _, i := range r.byName[parts[0]] {
		if j := r.walk(int(i), parts, 1); j >= 0 {
			return j
		}
		if best < 0 && r.rows[i].codes[0] != "" {
			best = int(i)
		}
	}
	return best
}

// walk descends from row i matching parts[k:], returning the row reached when every part
// matched (or the deepest one with a code when a part matches no child).
func (r *seeResolver) walk(i int, parts []string, k int) int {
	if k == len(parts) {
		if r.rows[i].codes[0] != "" {
			return i
		}
		return -1
	}
	named := false
	for _, c := range r.rows[i].children {
		names := r.rows[c].names // names[0]: the whole term, lower case
		commas := strings.Count(names[0], ",")
		n := 0
		switch {
		case commas > 0 && k+commas < len(parts) && strings.Join(parts[k:k+commas+1], ", ") == names[0]:
			n = commas + 1
		case slices.Contains(names, parts[k]):
			n = 1
		default:
			continue
		}
		if j := r.walk(int(c), parts, k+n); j >= 0 {
			return j
		}
		named = true
	}
	if !named && r.rows[i].codes[0] != "" {
		return i // "…, by site": the deepest entry named
	}
	return -1
}

// indexScratch holds the per-entry counters of one index search.
type indexScratch struct {
	searchScratch
	modOnly []uint8 // query words matched only in the modifiers
}

// Search returns up to limit index hits for the words of q, one per code, best first. Every
// query word must be a prefix of a word of the entry's term or of its nonessential
// modifiers ("(acute) (chronic)"). Ranking: fewer query words matched only as a prefix,
// fewer matched only in the modifiers, fewer words of the term left out of the query (the
// query names the entry), lower level, the table's first column (malignant primary,
// accidental poisoning), shorter term, then index order. The work is proportional to the
// postings of the matched words, as for the titles.
func (x *AlphaIndex) Search(q string, limit int) []IndexHit {
	qw := queryWords(q)
	if len(qw) == 0 || limit <= 0 {
		return nil
	}
	tspans, mspans := make([]wordSpan, len(qw)), make([]wordSpan, len(qw))
	for k, w := range qw {
		tlo, thi := x.terms.span(w)
		mlo, mhi := x.mods.span(w)
		if tlo == thi && mlo == mhi {
			return nil
		}
		tspans[k], mspans[k] = wordSpan{tlo, thi}, wordSpan{mlo, mhi}
	}
	sc, _ := x.pool.Get().(*indexScratch)
	if sc == nil {
		n := len(x.entries)
		sc = &indexScratch{searchScratch{make([]uint8, n), make([]uint8, n)}, make([]uint8, n)}
	} else {
		clear(sc.count)
		clear(sc.exact)
		clear(sc.modOnly)
	}
	defer x.pool.Put(sc)
	for k := range qw {
		x.terms.count(k, qw[k], tspans[k].lo, tspans[k].hi, &sc.searchScratch)
		// The modifiers advance the entries the term words did not: matched in modifiers only.
		cur := uint8(k)
		for w := mspans[k].lo; w < mspans[k].hi; w++ {
			isExact := uint8(0)
			if x.mods.words[w] == qw[k] {
				isExact = 1
			}
			for _, e := range x.mods.postings[x.mods.postOff[w]:x.mods.postOff[w+1]] {
				if sc.count[e] == cur {
					sc.count[e] = cur + 1
					sc.exact[e] += isExact
					sc.modOnly[e]++
				}
			}
		}
	}
	n := uint8(len(qw))
	top := topKeys{limit: limit * 4} // several entries may lead to one code
	for i, c := range sc.count {
		if c != n {
			continue
		}
		e := &x.entries[i]
		extra := int(e.termWords) - int(n-sc.modOnly[i])
		key := uint64(n-sc.exact[i])<<56 | uint64(min(sc.modOnly[i], 15))<<52 | uint64(min(max(extra, 0), 15))<<48 |
			uint64(e.level)<<44 | uint64(min(e.col, 7))<<41 | uint64(min(len(e.term), 0xfff))<<29 | uint64(i)
		top.push(key)
	}
	var out []IndexHit
	for _, k := range top.sorted() {
		e := &x.entries[k&(1<<29-1)]
		if slices.ContainsFunc(out, func(h IndexHit) bool { return h.Code == e.code }) {
			continue
		}
		exact := k>>48 == 0 // whole words, none in modifiers only, the term fully named
		out = append(out, IndexHit{Code: e.code, Term: e.term, Exact: exact, Incomplete: e.dash})
		if len(out) == limit {
			break
		}
	}
	return out
}

// lazyIndex loads the index files of one year on first use.
type lazyIndex struct {
	fy    int
	paths []string
	once  sync.Once
	x     *AlphaIndex
	err   error
}

// loadIndexDirs registers the Alphabetic Index directories (icd10cm/index_YYYY/): their files
// are checked (name, year, header) and checksummed now, read on first use.
func (c *Catalog) loadIndexDirs() error {
	dirs, err := filepath.Glob(filepath.Join(c.Dir, ICD10CMDir, "index_*"))
	if err != nil {
		return fmt.Errorf("load %s: %w", filepath.Join(c.Dir, ICD10CMDir), err)
	}
	for _, d := range dirs {
		m := indexDirName.FindStringSubmatch(filepath.Base(d))
		if st, err := os.Stat(d); m == nil || err != nil || !st.IsDir() {
			continue
		}
		fy := atoi(m[1])
		files, err := c.glob(filepath.Join(ICD10CMDir, filepath.Base(d)), "ICD10CM_*.csv*")
		if err != nil {
			return err
		}
		li := &lazyIndex{fy: fy}
		for _, p := range files {
			fm := indexFileName.FindStringSubmatch(filepath.Base(p))
			if fm == nil {
				continue
			}
			if atoi(fm[1]) != fy {
				return fmt.Errorf("load %s: file name says FY%s but it is in %s", p, fm[1], filepath.Base(d))
			}
			if err := checkIndexHeader(p, indexPartNamed(fm[2])); err != nil {
				return err
			}
			li.paths = append(li.paths, p)
			if err := c.addFile(p); err != nil {
				return err
			}
		}
		if len(li.paths) > 0 {
			c.index = append(c.index, li)
		}
	}
	if len(c.index) == 0 && len(c.TitleYears(ICD10CM)) > 0 { // without titles there is no search at all
		c.warn("no ICD-10-CM Alphabetic Index (%s/index_YYYY/ICD10CM_YYYY_Index.csv.gz): code search uses the code titles only", ICD10CMDir)
	}
	return nil
}

// checkIndexHeader checks the first line of an index file.
func checkIndexHeader(p string, part *indexPart) error {
	rc, err := openIndexFile(p)
	if err != nil {
		return fmt.Errorf("load %s: %w", p, err)
	}
	defer rc.Close()
	if _, err := indexReader(p, rc, part); err != nil {
		return fmt.Errorf("load %w", err)
	}
	return nil
}

// IndexYears returns the fiscal years with an Alphabetic Index, ascending.
func (c *Catalog) IndexYears() []int {
	out := make([]int, 0, len(c.index))
	for _, li := range c.index {
		out = append(out, li.fy)
	}
	slices.Sort(out)
	return out
}

// AlphaIndex returns the Alphabetic Index of fiscal year fy, read on first use (concurrent
// callers wait for one load). A year without files gives an error wrapping ErrNotLoaded.
func (c *Catalog) AlphaIndex(fy int) (*AlphaIndex, error) {
	for _, li := range c.index {
		if li.fy == fy {
			li.once.Do(func() { li.x, li.err = LoadAlphaIndex(li.fy, li.paths) })
			return li.x, li.err
		}
	}
	return nil, fmt.Errorf("ICD-10-CM Alphabetic Index for FY%d: %w (years present: %v)", fy, ErrNotLoaded, c.IndexYears())
}

// AlphaIndexFor returns the Alphabetic Index to search codes of fiscal year fy: that year's,
// else the latest earlier one, else the earliest later one (the index changes little from
// year to year; codes it names that the year does not have are left out by the search).
// It returns nil when no index is loaded.
func (c *Catalog) AlphaIndexFor(fy int) (*AlphaIndex, error) {
	years := c.IndexYears()
	if len(years) == 0 {
		return nil, nil
	}
	best := years[0]
	for _, y := range years {
		if y <= fy {
			best = y
		}
	}
	return c.AlphaIndex(best)
}
