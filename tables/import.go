package tables

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// Kinds of data files, as reported by Import.
const (
	KindGrouper        = "msdrg"           // msdrg/msdrg_combined.bin
	KindMCE            = "mce"             // mce/mce.bin
	KindTable5         = "table5"          // table5/msdrg_fyYYYY_weights_los.csv
	KindTransferFlags  = "transfer-flags"  // transfer/msdrg_fyYYYY_transfer_flags.csv
	KindICD10CM        = "icd10cm"         // icd10cm/cms_YYYY_dx.zip
	KindICD10PCS       = "icd10pcs"        // icd10pcs/cms_YYYY_pr.zip
	KindPOA            = "poa"             // poa/POAexemptCodesFYyy.zip
	KindHCCDxMap       = "hcc-dx-to-cc"    // hcc/ra_dx_to_cc_YYYY.csv
	KindHCCHierarchies = "hcc-hierarchies" // hcc/ra_hierarchies_YYYY.csv
	KindHCCLabels      = "hcc-labels"      // hcc/ra_labels_YYYY.csv
	KindICD10CMIndex   = "icd10cm-index"   // icd10cm/index_YYYY/ICD10CM_YYYY_Index.csv.gz (and the other parts)
)

const (
	maxNesting      = 3         // archives inside archives inside archives
	maxResourceSize = 512 << 20 // refuse absurd archive entries (zip bombs)
	importFileMode  = 0o644     // mode of the files Import writes
	importDirMode   = 0o755     // mode of the directories Import creates
	grouperResource = "msdrg_combined.bin"
	mceResource     = "mce.bin"
	grouperInJar    = "runtime_buffers/" + grouperResource
)

// Imported describes one data file written by Import.
type Imported struct {
	Source string // the path given, with "!entry" for each archive level it was found in
	Kind   string // one of the Kind constants
	Dest   string // written path relative to the destination directory, slash separated
	Size   int64
	SHA256 string
	Detail string // what verification found, e.g. "MS-DRG versions 40.0 … 43.1 (8)"
}

// MCEVerifier checks the content of an mce.bin before Import copies it: by default a full
// decode. Tests replace it.
var MCEVerifier func(mceBin []byte) error = func(b []byte) error {
	_, err := DecodeMCE(b)
	return err
}

// mceVersion returns field 8 (version) of an mce.bin.
func mceVersion(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, errors.New("not Medicare Code Editor data: the file is empty")
	}
	version, tables := -1, 0
	err := walk(b, func(f field) error {
		switch {
		case f.num == 8 && f.typ == protowire.VarintType:
			version = f.int32()
		case f.typ == protowire.BytesType:
			tables++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("not Medicare Code Editor data: truncated or corrupt (%v)", err)
	}
	if version <= 0 || tables == 0 {
		return 0, errors.New("not Medicare Code Editor data: no version field (8) or no table")
	}
	return version, nil
}

// candidate is a verified file waiting to be written.
type candidate struct {
	Imported
	data []byte
}

// Import verifies CMS data files as downloaded and copies them into destDir with the data
// directory layout (data_sources.md). Each path may be:
//
//   - a zip or jar holding runtime_buffers/msdrg_combined.bin and/or mce.bin, at any depth of
//     nested archives (the CMS software zip holds the jars): the resources are extracted;
//   - a bare msdrg_combined.bin or mce.bin (recognized by content, whatever its name);
//   - an ICD-10-CM or ICD-10-PCS code-title zip (holding icd10cm_order_YYYY.txt or
//     icd10pcs_order_YYYY.txt) or a CDC POA-exempt zip (POAexemptCodesFYyy.txt): copied whole;
//   - a Table 5 CSV (header msdrg,weight,gmlos,amlos) or a CMS-HCC CSV (dx-to-cc map,
//     hierarchies or labels; the year from the file name);
//   - a file of the ICD-10-CM Alphabetic Index as CSV, gzip-compressed or not (Index,
//     External Cause Index, Neoplasm Table, Table of Drugs; the year from the file name):
//     copied to icd10cm/index_YYYY/.
//
// Every file is decoded and checked before anything is written; the first unrecognized or
// invalid file aborts the import with an error naming it, and nothing is written. Files are
// written atomically (temporary file + rename).
func Import(paths []string, destDir string) ([]Imported, error) {
	var all []candidate
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", p, err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("import %s: not a regular file", p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", p, err)
		}
		cs, err := identify(p, filepath.Base(p), b, 0)
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
	}
	byDest := map[string]*candidate{}
	for i := range all {
		c := &all[i]
		if old := byDest[c.Dest]; old != nil {
			if bytes.Equal(old.data, c.data) {
				continue
			}
			return nil, fmt.Errorf("import: %s and %s both provide %s with different content; import one of them", old.Source, c.Source, c.Dest)
		}
		byDest[c.Dest] = c
	}
	var out []Imported
	for i := range all {
		c := &all[i]
		if byDest[c.Dest] != c {
			continue
		}
		if err := writeAtomic(filepath.Join(destDir, filepath.FromSlash(c.Dest)), c.data); err != nil {
			return out, fmt.Errorf("import %s: %w", c.Source, err)
		}
		out = append(out, c.Imported)
	}
	return out, nil
}

func newCandidate(source, kind, dest, detail string, data []byte) candidate {
	return candidate{Imported: Imported{
		Source: source, Kind: kind, Dest: dest, Size: int64(len(data)), SHA256: sha256Hex(data), Detail: detail,
	}, data: data}
}

var (
	yearIn4   = regexp.MustCompile(`(?:^|[^0-9])(20\d\d)(?:[^0-9]|$)`)
	archiveRe = regexp.MustCompile(`(?i)\.(zip|jar)$`)
)

// identify recognizes one file (source names it for messages, name is its base name).
func identify(source, name string, b []byte, depth int) ([]candidate, error) {
	if bytes.HasPrefix(b, []byte("PK\x03\x04")) || bytes.HasPrefix(b, []byte("PK\x05\x06")) {
		return identifyArchive(source, b, depth)
	}
	if err := sniffGrouper(b); err == nil || strings.EqualFold(name, grouperResource) && !looksLikeText(b) {
		m, err := decodeGrouperFile(b)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", source, err)
		}
		return []candidate{newCandidate(source, KindGrouper, GrouperFile, grouperDetail(m), b)}, nil
	}
	if v, err := mceVersion(b); err == nil && !looksLikeText(b) || strings.EqualFold(name, mceResource) {
		if err := MCEVerifier(b); err != nil {
			return nil, fmt.Errorf("import %s: %w", source, err)
		}
		return []candidate{newCandidate(source, KindMCE, MCEFile, fmt.Sprintf("MCE data version %d", v), b)}, nil
	}
	if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		return identifyGzip(source, name, b)
	}
	if looksLikeText(b) {
		return identifyCSV(source, name, b, b)
	}
	return nil, fmt.Errorf("import %s: unrecognized file: not MS-DRG grouper data, MCE data, a CMS zip or jar, a Table 5 CSV, a CMS-HCC CSV or an ICD-10-CM index CSV", source)
}

// identifyArchive looks inside a zip or jar.
func identifyArchive(source string, b []byte, depth int) ([]candidate, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("import %s: corrupt zip archive: %w", source, err)
	}
	if f, kind, fy := findOrderFile(zr); f != nil {
		t, err := readCodeTitlesZip(zr, source, nil)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		dest, k := fmt.Sprintf("%s/cms_%d_dx.zip", ICD10CMDir, fy), KindICD10CM
		if kind == ICD10PCS {
			dest, k = fmt.Sprintf("%s/cms_%d_pr.zip", ICD10PCSDir, fy), KindICD10PCS
		}
		detail := fmt.Sprintf("%s FY%d: %d codes, %d valid", kind, fy, t.Len(), t.ValidLen())
		return []candidate{newCandidate(source, k, dest, detail, b)}, nil
	}
	if f, fy := findPOAList(zr); f != nil {
		l, err := readPOAZip(zr, source)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		dest := fmt.Sprintf("%s/POAexemptCodesFY%02d.zip", POADir, fy%100)
		return []candidate{newCandidate(source, KindPOA, dest, fmt.Sprintf("POA-exempt FY%d: %d codes", fy, l.Len()), b)}, nil
	}
	var out []candidate
	for _, f := range zr.File {
		base := path.Base(f.Name)
		isRes := strings.EqualFold(base, grouperResource) || strings.EqualFold(base, mceResource)
		isArchive := archiveRe.MatchString(base) && depth < maxNesting
		if f.FileInfo().IsDir() || !isRes && !isArchive {
			continue
		}
		src := source + "!" + f.Name
		if f.UncompressedSize64 > maxResourceSize {
			return nil, fmt.Errorf("import %s: entry too large (%d bytes)", src, f.UncompressedSize64)
		}
		inner, err := readZipEntry(f)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", src, err)
		}
		if isArchive {
			if !bytes.HasPrefix(inner, []byte("PK")) {
				continue
			}
			cs, err := identifyArchive(src, inner, depth+1)
			if err != nil && !errors.Is(err, errNothingInside) {
				return nil, err
			}
			out = append(out, cs...)
			continue
		}
		cs, err := identify(src, base, inner, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	if len(out) == 0 {
		if depth > 0 {
			return nil, errNothingInside
		}
		return nil, fmt.Errorf("import %s: %w: no %s, %s, ICD-10 order file or POA-exempt list inside", source, errNothingInside, grouperInJar, mceResource)
	}
	return out, nil
}

// errNothingInside reports an archive without any data file; nested archives (other jars of
// the CMS software) are skipped silently.
var errNothingInside = errors.New("unrecognized archive")

func readZipEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	buf.Grow(int(f.UncompressedSize64))
	if _, err := buf.ReadFrom(rc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// identifyGzip recognizes a gzip-compressed CSV (the ICD-10-CM index files come so); the
// compressed bytes are what is written.
func identifyGzip(source, name string, b []byte) ([]candidate, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("import %s: corrupt gzip file: %w", source, err)
	}
	text, err := io.ReadAll(io.LimitReader(zr, maxResourceSize+1))
	if err != nil {
		return nil, fmt.Errorf("import %s: corrupt gzip file: %w", source, err)
	}
	if len(text) > maxResourceSize || !looksLikeText(text) {
		return nil, fmt.Errorf("import %s: unrecognized gzip file: not a CSV of the ICD-10-CM index", source)
	}
	return identifyCSV(source, name, text, b)
}

// identifyIndex recognizes a file of the ICD-10-CM Alphabetic Index by its header (and, for
// the two parts sharing one, by its codes: the External Cause Index codes are V00–Y99),
// checks it and places it in icd10cm/index_YYYY/ (the year from the file name).
func identifyIndex(source string, part *indexPart, text, raw []byte, year int) ([]candidate, error) {
	if year == 0 {
		return nil, fmt.Errorf("import %s: ICD-10-CM index file without a year in the file name; rename it ICD10CM_YYYY_%s.csv.gz", source, part.name)
	}
	if part.name == "Index" && externalCauseCodes(text) {
		part = indexPartNamed("ExternalIndex")
	}
	ext := ".csv"
	if bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		ext = ".csv.gz"
	}
	dest := fmt.Sprintf("%s/index_%d/ICD10CM_%d_%s%s", ICD10CMDir, year, year, part.name, ext)
	x := &AlphaIndex{FiscalYear: year}
	if err := x.readCSV(source, bytes.NewReader(text), part); err != nil {
		return nil, fmt.Errorf("import %w", err)
	}
	detail := fmt.Sprintf("ICD-10-CM index FY%d, %s: %d entries with a code", year, part.name, len(x.entries))
	return []candidate{newCandidate(source, KindICD10CMIndex, dest, detail, raw)}, nil
}

// externalCauseCodes reports whether most codes of an index CSV are external cause codes.
func externalCauseCodes(text []byte) bool {
	ext, all := 0, 0
	for line := range bytes.Lines(text) {
		line = bytes.TrimRight(line, "\r\n")
		i := bytes.LastIndexByte(line, ',')
		if i < 0 || i == len(line)-1 {
			continue
		}
		all++
		if c := line[i+1]; c >= 'V' && c <= 'Y' {
			ext++
		}
	}
	return all > 0 && ext*10 >= all*9
}

// identifyCSV recognizes Table 5, CMS-HCC and ICD-10-CM index CSV files by their header; b is
// the text, raw the bytes to write (b, or its gzip form).
func identifyCSV(source, name string, b, raw []byte) ([]candidate, error) {
	header := ""
	sc := bufio.NewScanner(bytes.NewReader(bytes.TrimPrefix(b, utf8BOM)))
	for sc.Scan() {
		t := strings.TrimSpace(sc.Text())
		if t != "" && !strings.HasPrefix(t, "#") {
			header = strings.ToLower(strings.ReplaceAll(t, " ", ""))
			break
		}
	}
	year := 0
	if m := yearIn4.FindStringSubmatch(name); m != nil {
		year = atoi(m[1])
	}
	for i := range indexParts {
		if header == strings.ToLower(strings.Join(indexParts[i].header, ",")) {
			return identifyIndex(source, &indexParts[i], b, raw, year)
		}
	}
	needYear := func(what string) error {
		if year == 0 {
			return fmt.Errorf("import %s: %s without a year in the file name; rename it %s", source, what,
				map[string]string{KindHCCDxMap: "ra_dx_to_cc_YYYY.csv", KindHCCHierarchies: "ra_hierarchies_YYYY.csv", KindHCCLabels: "ra_labels_YYYY.csv"}[what])
		}
		return nil
	}
	switch header {
	case strings.Join(table5Header, ","):
		w, err := ParseWeights(source, b)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		dest := fmt.Sprintf("%s/msdrg_fy%d_weights_los.csv", Table5Dir, w.FiscalYear)
		return []candidate{newCandidate(source, KindTable5, dest, fmt.Sprintf("Table 5 FY%d: %d DRGs", w.FiscalYear, w.Len()), b)}, nil
	case strings.Join(transferHeader, ","):
		f, err := ParseTransferFlags(source, b)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		pa, sp := f.Counts()
		dest := fmt.Sprintf("%s/msdrg_fy%d_transfer_flags.csv", TransferDir, f.FiscalYear)
		return []candidate{newCandidate(source, KindTransferFlags, dest, fmt.Sprintf("transfer flags FY%d: %d DRGs, %d post-acute, %d special pay", f.FiscalYear, f.Len(), pa, sp), b)}, nil
	case strings.Join(hccDxHeader, ","):
		if err := needYear(KindHCCDxMap); err != nil {
			return nil, err
		}
		h := &HCCMap{Year: year, models: map[string]*HCCModel{}}
		if err := h.parseDxToCC(source, b); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		detail := fmt.Sprintf("CMS-HCC %d dx map: models %s", year, strings.Join(h.ModelNames(), ", "))
		return []candidate{newCandidate(source, KindHCCDxMap, fmt.Sprintf("%s/ra_dx_to_cc_%d.csv", HCCDir, year), detail, b)}, nil
	case strings.Join(hccHierHeader, ","), strings.Join(hccLabelHeader, ","):
		kind, base, parse := KindHCCHierarchies, "ra_hierarchies", (*HCCMap).parseHierarchies
		if header == strings.Join(hccLabelHeader, ",") {
			kind, base, parse = KindHCCLabels, "ra_labels", (*HCCMap).parseLabels
		}
		if err := needYear(kind); err != nil {
			return nil, err
		}
		if err := parse(&HCCMap{models: map[string]*HCCModel{}}, source, b); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		dest := fmt.Sprintf("%s/%s_%d.csv", HCCDir, base, year)
		return []candidate{newCandidate(source, kind, dest, fmt.Sprintf("CMS-HCC %d %s", year, strings.TrimPrefix(kind, "hcc-")), b)}, nil
	}
	return nil, fmt.Errorf("import %s: unrecognized text file (first line %q): want a Table 5 CSV (%s), a transfer-flag CSV (msdrg,post_acute,special_pay), a CMS-HCC CSV (%s, %s or %s) or an ICD-10-CM index CSV (%s)",
		source, header, strings.Join(table5Header, ","), strings.Join(hccDxHeader, ","), strings.Join(hccHierHeader, ","), strings.Join(hccLabelHeader, ","),
		strings.Join(indexParts[0].header, ","))
}

// grouperDetail summarizes decoded grouper data for Import.
func grouperDetail(m *MSDRG) string {
	vs := m.Versions
	newest := vs[len(vs)-1]
	dx, pr := CodeCounts(m, newest)
	return fmt.Sprintf("MS-DRG versions %s … %s (%d); v%s: %d diagnosis codes, %d procedure keys", vs[0], newest, len(vs), newest, dx, pr)
}

// CodeCounts returns the number of diagnosis codes and of procedure keys (ICD-10-PCS codes
// and cluster ids) with a record applicable to version v (Pick).
func CodeCounts(m *MSDRG, v Version) (dx, pr int) {
	for _, recs := range m.Dx {
		if _, ok := Pick(recs, v); ok {
			dx++
		}
	}
	for _, recs := range m.Pr {
		if _, ok := Pick(recs, v); ok {
			pr++
		}
	}
	return dx, pr
}

// writeAtomic writes data to path through a temporary file in the same directory.
func writeAtomic(p string, data []byte) error {
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, importDirMode); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(p)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(importFileMode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
