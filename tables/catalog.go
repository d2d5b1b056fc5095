package tables

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/payment"
)

// Catalog is everything loaded from one data directory: the MS-DRG grouper tables (all
// versions) and the optional reference sets — code titles, Table 5 weights, POA-exempt lists
// and CMS-HCC maps — with the checksums of the files read. A Catalog is immutable after Load
// and safe for concurrent use.
//
// Loading strategy (measured, see BenchmarkLoad): Load decodes the grouper file (≈0.3 s,
// the bulk of start-up) while a second goroutine reads the small optional sets (weights, POA
// lists, HCC maps) and checksums every file. The code-title zips are only opened and checked
// at Load; their titles and search index (≈0.17 s and ≈20 MB per code set and year) are built
// on first use of Titles, once per year (sync.Once), sharing unchanged title strings with an
// already loaded year. PreloadTitles builds them all in the background for servers that want
// every first request to be fast.
type Catalog struct {
	Dir   string // the data directory
	MSDRG *MSDRG // decoded msdrg/msdrg_combined.bin, all versions

	Weights  map[int]*Weights       // Table 5 by fiscal year
	Transfer map[int]*TransferFlags // Table 5 transfer flags by fiscal year
	// Statuses is the discharge-status table of transfers (the data directory's
	// transfer/transfer_statuses.json, else the built-in one).
	Statuses *payment.StatusTable
	POA      map[int]*POAExempt // POA-exempt lists by fiscal year
	HCC      map[int]*HCCMap    // CMS-HCC maps by payment year

	Files    []FileInfo // every data file found, sorted by path
	Warnings []string   // missing optional sets, reported once by the caller

	titles map[titleKey]*lazyTitles

	mce *lazyMCE

	index []*lazyIndex // ICD-10-CM Alphabetic Index by year (icd10cm/index_YYYY/)

	invalid *sync.Map // invalidKey → InvalidCode (DescribeInvalid)
}

// lazyMCE decodes mce/mce.bin once, on first use.
type lazyMCE struct {
	path string // "" when absent
	once sync.Once
	data *MCEData
	err  error
}

// MCE returns the Medicare Code Editor tables, decoding mce/mce.bin on first use (most commands
// never need them). It returns ErrNoMCE when the data directory has none.
func (c *Catalog) MCE() (*MCEData, error) {
	m := c.mce
	if m == nil {
		return nil, ErrNoMCE
	}
	m.once.Do(func() {
		if m.path == "" {
			m.err = ErrNoMCE
			return
		}
		m.data, m.err = LoadMCE(m.path)
	})
	return m.data, m.err
}

// FileInfo identifies a data file by size and SHA-256.
type FileInfo struct {
	Path   string `json:"path"` // relative to the data directory, slash separated
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
}

type titleKey struct {
	kind TitleKind
	fy   int
}

// lazyTitles loads one code-title zip on first use: its titles, or only its codes (for code
// histories).
type lazyTitles struct {
	path string
	once sync.Once
	t    atomic.Pointer[CodeTitles]
	err  error

	codesOnce sync.Once
	codes     *codeYear
}

// ErrNotLoaded reports a reference set (a year of titles, weights, …) absent from the data
// directory.
var ErrNotLoaded = errors.New("not in the data directory")

// Load reads the data directory dir. The grouper file msdrg/msdrg_combined.bin is mandatory:
// when it is missing, truncated, corrupt or of the wrong type, Load returns one error naming
// the file (wrapping ErrNotMSDRG for content problems) and no Catalog. Optional sets that are
// absent become Warnings; optional files that are present but malformed are errors too (no
// command runs with silently partial tables).
func Load(dir string) (*Catalog, error) {
	c := &Catalog{
		Dir: dir, Weights: map[int]*Weights{}, Transfer: map[int]*TransferFlags{}, POA: map[int]*POAExempt{}, HCC: map[int]*HCCMap{},
		titles: map[titleKey]*lazyTitles{}, mce: &lazyMCE{}, invalid: &sync.Map{},
	}
	grouperPath := filepath.Join(dir, filepath.FromSlash(GrouperFile))
	b, err := os.ReadFile(grouperPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("load %s: grouper data missing; %s", grouperPath, HowToObtain)
		}
		return nil, fmt.Errorf("load %s: %w", grouperPath, err)
	}
	var (
		wg       sync.WaitGroup
		optErr   error
		grouperH string
	)
	wg.Go(func() {
		grouperH = sha256Hex(b)
		optErr = c.loadOptional()
	})
	c.MSDRG, err = decodeGrouperFile(b)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", grouperPath, err)
	}
	if optErr != nil {
		return nil, optErr
	}
	c.Files = append(c.Files, FileInfo{Path: GrouperFile, Size: int64(len(b)), SHA256: grouperH})
	slices.SortFunc(c.Files, func(a, b FileInfo) int { return strings.Compare(a.Path, b.Path) })
	c.warnUncovered()
	return c, nil
}

// decodeGrouperFile checks that b is msdrg_combined.bin and decodes it; every failure wraps
// ErrNotMSDRG and fits on one line. A panic of the decoder is turned into an error.
func decodeGrouperFile(b []byte) (m *MSDRG, err error) {
	if err := sniffGrouper(b); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: corrupt data (decoder panic: %v)", ErrNotMSDRG, r)
		}
	}()
	m, err = DecodeMSDRG(b)
	if err != nil && !errors.Is(err, ErrNotMSDRG) {
		err = fmt.Errorf("%w: truncated or corrupt (%v)", ErrNotMSDRG, err)
	}
	return m, err
}

// grouperFields is the number of top-level fields of msdrg.Root; the shipped file has each
// of 1…16 exactly once, in order (data format §1).
const grouperFields = 16

// sniffGrouper recognizes the usual wrong files (an archive, a text file, the MCE data, a
// truncated download) before decoding, to name the problem precisely.
func sniffGrouper(b []byte) error {
	switch {
	case len(b) == 0:
		return fmt.Errorf("%w: the file is empty", ErrNotMSDRG)
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return fmt.Errorf("%w: it is a zip or jar archive; run \"drg tables import\" on the archive to extract runtime_buffers/msdrg_combined.bin", ErrNotMSDRG)
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		return fmt.Errorf("%w: it is gzip-compressed; decompress it first", ErrNotMSDRG)
	case looksLikeText(b):
		return fmt.Errorf("%w: it is a text file", ErrNotMSDRG)
	}
	var seen [grouperFields + 1]int
	mce := 0
	err := walk(b, func(f field) error {
		if f.num == 8 && f.typ == 0 || f.num == 9 && f.typ == 2 && len(f.bytes) == 8 {
			mce++
		}
		if f.num >= 1 && f.num <= grouperFields && f.typ == 2 {
			seen[f.num]++
		}
		return nil
	})
	if mce == 2 {
		return fmt.Errorf("%w: it is Medicare Code Editor data (mce.bin), which belongs in %s", ErrNotMSDRG, MCEFile)
	}
	if err != nil {
		return fmt.Errorf("%w: truncated or corrupt (%v)", ErrNotMSDRG, err)
	}
	var missing []string
	for n := 1; n <= grouperFields; n++ {
		if seen[n] == 0 {
			missing = append(missing, fmt.Sprint(n))
		}
	}
	if len(missing) == grouperFields {
		return fmt.Errorf("%w: no grouper table in it", ErrNotMSDRG)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: truncated or incomplete (top-level tables %s missing)", ErrNotMSDRG, strings.Join(missing, ", "))
	}
	return nil
}

// looksLikeText reports whether the first bytes of b are printable ASCII or UTF-8 text.
func looksLikeText(b []byte) bool {
	head := bytes.TrimPrefix(b[:min(len(b), 512)], utf8BOM)
	for _, c := range head {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f {
			return false
		}
	}
	if len(head) == 512 {
		head = head[:len(head)-utf8.UTFMax] // a character may be cut at the end
	}
	return utf8.Valid(head)
}

// loadOptional reads the optional sets and checksums their files.
func (c *Catalog) loadOptional() error {
	steps := []func() error{c.loadWeights, c.loadTransfer, c.loadTitleIndex, c.loadIndexDirs, c.loadPOA, c.loadHCC, c.addMCE}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// glob lists the regular files of subdir matching pattern, sorted.
func (c *Catalog) glob(subdir, pattern string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(c.Dir, subdir, pattern))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", filepath.Join(c.Dir, subdir), err)
	}
	var out []string
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
			out = append(out, m)
		}
	}
	return out, nil
}

// addFile checksums a file the loader did not otherwise read fully.
func (c *Catalog) addFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	c.addFileInfo(path, n, hex.EncodeToString(h.Sum(nil)))
	return nil
}

func (c *Catalog) addFileInfo(path string, size int64, sum string) {
	rel, err := filepath.Rel(c.Dir, path)
	if err != nil {
		rel = path
	}
	c.Files = append(c.Files, FileInfo{Path: filepath.ToSlash(rel), Size: size, SHA256: sum})
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// loadYearFiles parses files (one per fiscal year) into byYear, recording each file; a second
// file for a year is an error naming both.
func loadYearFiles[T any](c *Catalog, files []string, what string, parse func(string, []byte) (T, error), year func(T) (int, string), byYear map[int]T) error {
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("load %s: %w", p, err)
		}
		v, err := parse(p, b)
		if err != nil {
			return err
		}
		fy, _ := year(v)
		if old, ok := byYear[fy]; ok {
			_, first := year(old)
			return fmt.Errorf("load %s: a second %s for FY%d (first: %s); keep one file per fiscal year", p, what, fy, first)
		}
		byYear[fy] = v
		c.addFileInfo(p, int64(len(b)), sha256Hex(b))
	}
	return nil
}

func (c *Catalog) loadWeights() error {
	files, err := c.glob(Table5Dir, "*.csv")
	if err != nil {
		return err
	}
	if err := loadYearFiles(c, files, "Table 5", ParseWeights, func(w *Weights) (int, string) { return w.FiscalYear, w.Source }, c.Weights); err != nil {
		return err
	}
	if len(files) == 0 {
		c.warn("no Table 5 weights (%s/*.csv): results will carry no weight, GMLOS or AMLOS", Table5Dir)
	}
	return nil
}

// loadTitleIndex registers the code-title zips; their content is loaded on first use.
func (c *Catalog) loadTitleIndex() error {
	for _, k := range []struct {
		dir  string
		kind TitleKind
	}{{ICD10CMDir, ICD10CM}, {ICD10PCSDir, ICD10PCS}} {
		files, err := c.glob(k.dir, "*.zip")
		if err != nil {
			return err
		}
		for _, p := range files {
			kind, fy, err := inspectTitleZip(p)
			if err != nil {
				return err
			}
			if kind != k.kind {
				return fmt.Errorf("load %s: holds %s titles but is in %s/", p, kind, k.dir)
			}
			key := titleKey{kind, fy}
			if old := c.titles[key]; old != nil {
				return fmt.Errorf("load %s: a second %s title file for FY%d (first: %s)", p, kind, fy, old.path)
			}
			c.titles[key] = &lazyTitles{path: p}
			if err := c.addFile(p); err != nil {
				return err
			}
		}
		if len(files) == 0 {
			c.warn("no %s code titles (%s/*.zip): titles and code search are unavailable", k.kind, k.dir)
		}
	}
	return nil
}

// inspectTitleZip opens a code-title zip's directory and returns what it holds.
func inspectTitleZip(p string) (TitleKind, int, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return 0, 0, fmt.Errorf("load %s: %w", p, err)
	}
	defer zr.Close()
	f, kind, fy := findOrderFile(&zr.Reader)
	if f == nil {
		return 0, 0, fmt.Errorf("load %s: no icd10cm_order_YYYY.txt or icd10pcs_order_YYYY.txt inside; is this a CMS code-title zip?", p)
	}
	if m := titleZipName.FindStringSubmatch(filepath.Base(p)); m != nil && atoi(m[1]) != fy {
		return 0, 0, fmt.Errorf("load %s: file name says FY%s but it holds %s", p, m[1], f.Name)
	}
	return kind, fy, nil
}

func (c *Catalog) loadPOA() error {
	files, err := c.glob(POADir, "*.zip")
	if err != nil {
		return err
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("load %s: %w", p, err)
		}
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return fmt.Errorf("load %s: %w", p, err)
		}
		l, err := readPOAZip(zr, p)
		if err != nil {
			return err
		}
		if m := poaZipName.FindStringSubmatch(filepath.Base(p)); m != nil && 2000+atoi(m[1]) != l.FiscalYear {
			return fmt.Errorf("load %s: file name says FY20%s but it holds the FY%d list", p, m[1], l.FiscalYear)
		}
		if old := c.POA[l.FiscalYear]; old != nil {
			return fmt.Errorf("load %s: a second POA-exempt list for FY%d (first: %s)", p, l.FiscalYear, old.Source)
		}
		c.POA[l.FiscalYear] = l
		c.addFileInfo(p, int64(len(b)), sha256Hex(b))
	}
	if len(files) == 0 {
		c.warn("no POA-exempt lists (%s/*.zip): POA-exempt checks are unavailable", POADir)
	}
	return nil
}

var hccFileName = regexp.MustCompile(`^ra_(dx_to_cc|hierarchies|labels)_(\d{4})\.csv$`)

func (c *Catalog) loadHCC() error {
	files, err := c.glob(HCCDir, "ra_*.csv")
	if err != nil {
		return err
	}
	byKind := map[string]map[int]string{"dx_to_cc": {}, "hierarchies": {}, "labels": {}}
	for _, p := range files {
		if m := hccFileName.FindStringSubmatch(filepath.Base(p)); m != nil {
			byKind[m[1]][atoi(m[2])] = p
		}
	}
	dx := byKind["dx_to_cc"]
	if len(dx) == 0 {
		c.warn("no CMS-HCC maps (%s/ra_dx_to_cc_YYYY.csv): HCC features are unavailable", HCCDir)
		return nil
	}
	labelYears := slices.Sorted(maps.Keys(byKind["labels"]))
	for _, year := range slices.Sorted(maps.Keys(dx)) {
		hier := byKind["hierarchies"][year]
		if hier == "" {
			c.warn("CMS-HCC %d: no %s/ra_hierarchies_%d.csv: HCC hierarchies are unavailable for %d", year, HCCDir, year, year)
		}
		lab := byKind["labels"][year]
		if lab == "" && len(labelYears) > 0 {
			near := nearestYear(labelYears, year)
			lab = byKind["labels"][near]
			c.warn("CMS-HCC %d: no %s/ra_labels_%d.csv: using the labels of %d", year, HCCDir, year, near)
		} else if lab == "" {
			c.warn("CMS-HCC %d: no %s/ra_labels_%d.csv: HCC labels are unavailable", year, HCCDir, year)
		}
		h, err := LoadHCC(year, dx[year], hier, lab)
		if err != nil {
			return err
		}
		c.HCC[year] = h
	}
	for _, p := range files {
		if err := c.addFile(p); err != nil {
			return err
		}
	}
	return nil
}

// nearestYear returns the year of years closest to y, the later one on a tie.
func nearestYear(years []int, y int) int {
	best := years[0]
	for _, x := range years[1:] {
		if d, bd := abs(x-y), abs(best-y); d < bd || d == bd && x > best {
			best = x
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (c *Catalog) addMCE() error {
	p := filepath.Join(c.Dir, filepath.FromSlash(MCEFile))
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		c.warn("no Medicare Code Editor data (%s): MCE edits are unavailable", MCEFile)
		return nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("load %s: %w", p, err)
	}
	if _, err := mceVersion(b); err != nil { // structure only; decoded on first use
		return fmt.Errorf("load %s: %w", p, err)
	}
	c.mce.path = p
	c.addFileInfo(p, int64(len(b)), sha256Hex(b))
	return nil
}

// ErrNoMCE is returned by features that need the Medicare Code Editor data when it is absent.
var ErrNoMCE = errors.New("no Medicare Code Editor data in the data directory (" + MCEFile + "): download the MCE software (Java) zip from the CMS MS-DRG page and run \"drg tables import <zip>\"")

func (c *Catalog) warn(format string, args ...any) {
	c.Warnings = append(c.Warnings, fmt.Sprintf(format, args...))
}

// warnUncovered warns about loaded grouper versions whose fiscal year has no weights or
// titles (when the set is present at all; a missing set has its own warning).
func (c *Catalog) warnUncovered() {
	check := func(what string, has func(fy int) bool, any bool) {
		if !any {
			return
		}
		var miss []string
		for _, fy := range c.fiscalYears() {
			if !has(fy) {
				miss = append(miss, fmt.Sprintf("FY%d", fy))
			}
		}
		if len(miss) > 0 {
			c.warn("no %s for %s (grouper versions of those years are loaded)", what, strings.Join(miss, ", "))
		}
	}
	check("Table 5 weights", func(fy int) bool { return c.Weights[fy] != nil }, len(c.Weights) > 0)
	for _, k := range []TitleKind{ICD10CM, ICD10PCS} {
		ys := c.TitleYears(k)
		check(k.String()+" titles", func(fy int) bool { return slices.Contains(ys, fy) }, len(ys) > 0)
	}
	check("POA-exempt list", func(fy int) bool { return c.POA[fy] != nil }, len(c.POA) > 0)
}

// fiscalYears returns the fiscal years of the loaded grouper versions, ascending.
func (c *Catalog) fiscalYears() []int {
	var out []int
	for _, v := range c.MSDRG.Versions {
		if fy := VersionFiscalYear(v); !slices.Contains(out, fy) {
			out = append(out, fy)
		}
	}
	return out
}

// VersionForDate selects the loaded grouper version for discharge date d (see VersionForDate).
func (c *Catalog) VersionForDate(d claim.Date) (Version, error) {
	return VersionForDate(d, c.MSDRG.Versions)
}

// WeightsFor returns the Table 5 of version v's fiscal year.
func (c *Catalog) WeightsFor(v Version) (*Weights, bool) {
	w, ok := c.Weights[VersionFiscalYear(v)]
	return w, ok
}

// POAFor returns the POA-exempt list of version v's fiscal year.
func (c *Catalog) POAFor(v Version) (*POAExempt, bool) {
	p, ok := c.POA[VersionFiscalYear(v)]
	return p, ok
}

// TitleYears returns the fiscal years with a title file of kind, ascending.
func (c *Catalog) TitleYears(kind TitleKind) []int {
	var out []int
	for k := range c.titles {
		if k.kind == kind {
			out = append(out, k.fy)
		}
	}
	slices.Sort(out)
	return out
}

// Titles returns the code titles of kind for fiscal year fy, loading them on first use
// (concurrent callers wait for one load). A year without a file gives an error wrapping
// ErrNotLoaded; a corrupt file gives its load error, on every call.
func (c *Catalog) Titles(kind TitleKind, fy int) (*CodeTitles, error) {
	lt := c.titles[titleKey{kind, fy}]
	if lt == nil {
		return nil, fmt.Errorf("%s titles for FY%d: %w (years present: %v)", kind, fy, ErrNotLoaded, c.TitleYears(kind))
	}
	lt.once.Do(func() {
		t, err := loadCodeTitles(lt.path, c.loadedTitles(kind, fy))
		if err != nil {
			lt.err = err
			return
		}
		lt.t.Store(t)
	})
	return lt.t.Load(), lt.err
}

// TitlesFor returns the code titles of kind for version v's fiscal year.
func (c *Catalog) TitlesFor(kind TitleKind, v Version) (*CodeTitles, error) {
	return c.Titles(kind, VersionFiscalYear(v))
}

// loadedTitles returns an already loaded year of kind, the nearest to fy, or nil.
func (c *Catalog) loadedTitles(kind TitleKind, fy int) *CodeTitles {
	var best *CodeTitles
	for k, lt := range c.titles {
		if k.kind != kind || k.fy == fy {
			continue
		}
		if t := lt.t.Load(); t != nil && (best == nil || abs(t.FiscalYear-fy) < abs(best.FiscalYear-fy)) {
			best = t
		}
	}
	return best
}

// PreloadTitles loads every title year now, and the Alphabetic Index: one goroutine per code
// set, newest year first, so each year shares strings with the previous one, and one for the
// index. It returns the first load error.
func (c *Catalog) PreloadTitles() error {
	kinds := []TitleKind{ICD10CM, ICD10PCS}
	errs := make([]error, len(kinds)+1)
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, fy := range c.IndexYears() {
			if _, err := c.AlphaIndex(fy); err != nil && errs[len(kinds)] == nil {
				errs[len(kinds)] = err
			}
		}
	})
	for i, k := range kinds {
		wg.Go(func() {
			years := c.TitleYears(k)
			for j := len(years) - 1; j >= 0; j-- {
				if _, err := c.Titles(k, years[j]); err != nil && errs[i] == nil {
					errs[i] = err
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
