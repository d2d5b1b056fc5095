package tables

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// MCEFlag is an edit flag of the Medicare Code Editor code tables (mce.bin), interned as a
// small integer so that a code's flags form a bit set.
type MCEFlag uint8

// The flags the MCE recognises. Flags from FlagCC on are recognised but read by no edit.
const (
	FlagFemale MCEFlag = iota
	FlagMale
	FlagAdult
	FlagMaternity
	FlagNewborn
	FlagPediatric
	FlagEcodePDX
	FlagManifestation
	FlagUnacceptable
	FlagReqSDX
	FlagNonspecific
	FlagQAdm
	FlagWrngProc
	FlagMSP
	FlagUnspecified
	FlagMDC08
	FlagDelout
	FlagClinTrial
	FlagDiabTypeI
	FlagNcov4
	FlagNcov5
	FlagNcov6
	FlagNcov7
	FlagNcovZ302
	FlagNcov2
	FlagNcov2AgeLt64
	FlagNcov2AgeLt78
	FlagNcov3
	FlagNcov89
	FlagNcov8
	FlagNcov9
	FlagNcov13a
	FlagNcov13b
	FlagNoncovered
	FlagNcov45
	FlagKidneyXp
	FlagNcov12AgeLe60
	FlagLcovArtHeartXpA
	FlagLcovArtHeartXpB
	FlagLcovArtHeartXp
	FlagLcov
	FlagLcovLVRS
	FlagLcovLungXp
	FlagLcovHeartLungXp
	FlagLcovHeartXp
	FlagLcovHeartSys
	FlagLcovIntXp
	FlagLcovLiverXp
	FlagLcovKidneyXp
	FlagLcovPancreasXp
	FlagCSect
	FlagVagDel
	FlagLOS
	FlagBiopsy
	FlagBilateral
	FlagORIndic
	FlagCC
	FlagBMI
	FlagObesity
	FlagLcovOther
	FlagNcov10a
	FlagNcov10b
	FlagNcov10c
	FlagNcov11
	FlagNcov45a

	// NumMCEFlags is the number of recognised flags.
	NumMCEFlags
)

// mceFlagNames holds the flag strings as written in mce.bin, indexed by MCEFlag.
var mceFlagNames = [NumMCEFlags]string{
	"female", "male", "adult", "maternity", "newborn", "pediatric", "ecodepdx", "manifestation",
	"unacceptable", "reqsdx", "nonspecific", "qadm", "wrngproc", "msp", "unspecified", "mdc08",
	"delout", "clintrial", "diabtypeI", "ncov4", "ncov5", "ncov6", "ncov7", "ncov_z302", "ncov2",
	"ncov2agelt64", "ncov2agelt78", "ncov3", "ncov89", "ncov8", "ncov9", "ncov13a", "ncov13b",
	"noncovered", "ncov45", "kidneyxp", "ncov12agele60", "lcov_artheartxpa", "lcov_artheartxpb",
	"lcov_artheartxp", "lcov", "lcov_lvrs", "lcov_lungxp", "lcov_heartlungxp", "lcov_heartxp",
	"lcov_heartsys", "lcov_intxp", "lcov_liverxp", "lcov_kidneyxp", "lcov_pancreasxp", "csect",
	"vagdel", "los", "biopsy", "bilateral", "or_indic", "cc", "bmi", "obesity", "lcov_other",
	"ncov10a", "ncov10b", "ncov10c", "ncov11", "ncov45a",
}

// mceFlagByName maps a flag string of mce.bin to its interned flag.
var mceFlagByName = func() map[string]MCEFlag {
	m := make(map[string]MCEFlag, NumMCEFlags)
	for i, n := range mceFlagNames {
		m[n] = MCEFlag(i)
	}
	return m
}()

// String returns the flag as written in mce.bin.
func (f MCEFlag) String() string {
	if f < NumMCEFlags {
		return mceFlagNames[f]
	}
	return fmt.Sprintf("MCEFlag(%d)", int(f))
}

// ParseMCEFlag returns the flag named s (exact, case-sensitive match as in mce.bin).
func ParseMCEFlag(s string) (MCEFlag, bool) {
	f, ok := mceFlagByName[s]
	return f, ok
}

// MCEFlags is a set of MCE flags.
type MCEFlags [2]uint64

// Has reports whether f is in the set.
func (s MCEFlags) Has(f MCEFlag) bool { return s[f>>6]&(1<<(f&63)) != 0 }

// Add puts f in the set.
func (s *MCEFlags) Add(f MCEFlag) { s[f>>6] |= 1 << (f & 63) }

// Union adds every flag of t to the set.
func (s *MCEFlags) Union(t MCEFlags) { s[0] |= t[0]; s[1] |= t[1] }

// IsEmpty reports whether the set holds no flag.
func (s MCEFlags) IsEmpty() bool { return s[0]|s[1] == 0 }

// List returns the flags of the set in MCEFlag order.
func (s MCEFlags) List() []MCEFlag {
	out := make([]MCEFlag, 0, bits.OnesCount64(s[0])+bits.OnesCount64(s[1]))
	for w := range s {
		for x := s[w]; x != 0; x &= x - 1 {
			out = append(out, MCEFlag(w*64+bits.TrailingZeros64(x)))
		}
	}
	return out
}

// String renders the set as "[flag flag …]".
func (s MCEFlags) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, f := range s.List() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.String())
	}
	b.WriteByte(']')
	return b.String()
}

// DateRange is an inclusive effective period; dates are integers yyyymmdd.
type DateRange struct {
	Start, End int
}

// Covers reports whether date d (yyyymmdd) lies inside the period, bounds included.
func (r DateRange) Covers(d int) bool { return r.Start <= d && d <= r.End }

// noDates is the period of a row whose dates cannot be parsed: it covers no date.
var noDates = DateRange{Start: 1, End: 0}

// MCERow is one effective period of a code in an MCE code table with the code's flags then.
type MCERow struct {
	DateRange
	Flags MCEFlags
}

// AgeGroup is one of the age groups of the MCE age-conflict edit.
type AgeGroup uint8

// Age groups, numbered as the MCE's age-conflict type digit.
const (
	AgeNewborn   AgeGroup = 1
	AgePediatric AgeGroup = 2
	AgeMaternity AgeGroup = 3
	AgeAdult     AgeGroup = 4
)

// ageGroupNames holds the upper-cased group names used as keys of MCEData.Ages.
var ageGroupNames = [...]string{AgeNewborn: "NEWBORN", AgePediatric: "PEDIATRIC", AgeMaternity: "MATERNITY", AgeAdult: "ADULT"}

// String returns the upper-cased group name (NEWBORN, PEDIATRIC, MATERNITY, ADULT).
func (g AgeGroup) String() string {
	if g >= AgeNewborn && g <= AgeAdult {
		return ageGroupNames[g]
	}
	return fmt.Sprintf("AgeGroup(%d)", int(g))
}

// AgeRow is the inclusive age range (years) of an age group during a period.
type AgeRow struct {
	DateRange
	MinAge, MaxAge int
}

// MCEData is the decoded content of the Medicare Code Editor data file mce.bin.
type MCEData struct {
	Version     int // data version reported by every MCE result (431 = release 43.1)
	Termination int // last valid discharge date and end of open periods, yyyymmdd
	DateFormat  string

	Dx, Pr         map[string][]MCERow // ICD-10-CM and ICD-10-PCS code tables, rows in file order
	ICD9Dx, ICD9Pr map[string][]MCERow // ICD-9-CM diagnosis and procedure code tables

	Ages              map[string][]AgeRow // upper-cased age group name → rows in file order
	DischargeStatuses map[int][]DateRange // valid patient discharge status → validity periods

	ages  [AgeAdult + 1][]AgeRow // Ages indexed by AgeGroup
	index [4]codeIndex           // fast lookup of the code tables, by CodeTableID
}

// CodeTableID selects one of the four code tables of MCEData.
type CodeTableID uint8

// The code tables of MCEData.
const (
	ICD10Dx CodeTableID = iota // MCEData.Dx
	ICD10Pr                    // MCEData.Pr
	ICD9Dx                     // MCEData.ICD9Dx
	ICD9Pr                     // MCEData.ICD9Pr
)

// TableFor returns the diagnosis (proc false) or procedure (proc true) table of an ICD
// version: 9 selects the ICD-9 tables, any other value the ICD-10 tables.
func TableFor(icdVersion int, proc bool) CodeTableID {
	t := ICD10Dx
	if icdVersion == 9 {
		t = ICD9Dx
	}
	if proc {
		t++
	}
	return t
}

// ErrNotMCE reports data that decodes as protobuf but is not Medicare Code Editor data.
var ErrNotMCE = errors.New("not Medicare Code Editor data (mce.bin)")

// LoadMCE reads and decodes the MCE data file at path.
func LoadMCE(path string) (*MCEData, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	d, err := DecodeMCE(b)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return d, nil
}

// DecodeMCE decodes the content of mce.bin.
func DecodeMCE(b []byte) (*MCEData, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: the data is empty", ErrNotMCE)
	}
	d := &MCEData{
		Ages: map[string][]AgeRow{}, DischargeStatuses: map[int][]DateRange{},
	}
	var (
		tableBytes  [7][]byte // raw code tables by field number 3…6, decoded once T is known
		ageBytes    []byte
		statusBytes []byte
		termination string
		seen        uint32
	)
	err := walk(b, func(f field) error {
		want := protowire.BytesType
		if f.num == 8 {
			want = protowire.VarintType
		}
		if f.num >= 1 && f.num <= 9 && f.typ != want {
			return fmt.Errorf("%w: top-level field %d has wire type %d, want %d", ErrNotMCE, f.num, f.typ, want)
		}
		// A message field that occurs more than once is merged, i.e. its contents concatenate.
		switch f.num {
		case 1:
			ageBytes = concat(ageBytes, f.bytes)
		case 2:
			statusBytes = concat(statusBytes, f.bytes)
		case 3, 4, 5, 6:
			tableBytes[f.num] = concat(tableBytes[f.num], f.bytes)
		case 7:
			d.DateFormat = f.str()
		case 8:
			d.Version = f.int32()
		case 9:
			termination = f.str()
		default:
			return nil
		}
		seen |= 1 << f.num
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrNotMCE) {
			return nil, err
		}
		return nil, fmt.Errorf("decode MCE data (truncated or not an mce.bin file): %w", err)
	}
	const required = 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<8 | 1<<9
	if seen&required != required {
		var miss []string
		names := map[int]string{1: "ageRangeRoot", 2: "dischargeStatusRoot", 3: "i10DxMasterRoot",
			4: "i10SgMasterRoot", 8: "version", 9: "terminationDate"}
		for _, n := range []int{1, 2, 3, 4, 8, 9} {
			if seen&(1<<n) == 0 {
				miss = append(miss, names[n])
			}
		}
		return nil, fmt.Errorf("%w: missing %s (truncated file?)", ErrNotMCE, strings.Join(miss, ", "))
	}
	t, ok := ParseMCEDate(termination)
	if !ok {
		return nil, fmt.Errorf("%w: termination date %q is not yyyyMMdd", ErrNotMCE, termination)
	}
	d.Termination = t
	if d.Version <= 0 {
		return nil, fmt.Errorf("%w: version %d", ErrNotMCE, d.Version)
	}

	tables := []struct {
		num  int
		id   CodeTableID
		name string
		dst  *map[string][]MCERow
	}{
		{3, ICD10Dx, "i10DxMasterRoot", &d.Dx}, {4, ICD10Pr, "i10SgMasterRoot", &d.Pr},
		{5, ICD9Dx, "i9DxMasterRoot", &d.ICD9Dx}, {6, ICD9Pr, "i9SgMasterRoot", &d.ICD9Pr},
	}
	for _, tb := range tables {
		m, err := decodeCodeMaster(tableBytes[tb.num], t)
		if err != nil {
			return nil, fmt.Errorf("decode MCE %s: %w", tb.name, err)
		}
		*tb.dst = m
		d.index[tb.id] = buildCodeIndex(m)
	}
	if len(d.Dx) == 0 || len(d.Pr) == 0 {
		return nil, fmt.Errorf("%w: the ICD-10 code tables are empty", ErrNotMCE)
	}
	if err := decodeAgeRanges(d, ageBytes, t); err != nil {
		return nil, fmt.Errorf("decode MCE ageRangeRoot: %w", err)
	}
	if err := decodeDischargeStatuses(d, statusBytes, t); err != nil {
		return nil, fmt.Errorf("decode MCE dischargeStatusRoot: %w", err)
	}
	return d, nil
}

// concat returns a followed by b, without copying when a is empty.
func concat(a, b []byte) []byte {
	if len(a) == 0 {
		return b
	}
	return append(append([]byte(nil), a...), b...)
}

// mcePeriod converts the start and end strings of a row; an empty end means the termination
// date, and unparsable dates give a period that covers no date.
func mcePeriod(start, end string, termination int) DateRange {
	s, ok := ParseMCEDate(start)
	if !ok {
		return noDates
	}
	e := termination
	if end != "" {
		if e, ok = ParseMCEDate(end); !ok {
			return noDates
		}
	}
	return DateRange{Start: s, End: e}
}

// decodeCodeMaster decodes a CodeMasterRoot into code → rows (file order).
func decodeCodeMaster(b []byte, termination int) (map[string][]MCERow, error) {
	m := map[string][]MCERow{}
	n := 0
	err := decodeList(b, 1, func(e []byte) error {
		n++
		var code, start, end string
		var row MCERow
		err := walk(e, func(f field) error {
			if f.num >= 1 && f.num <= 4 && f.typ != protowire.BytesType {
				return fmt.Errorf("field %d has wire type %d, want a string", f.num, f.typ)
			}
			switch f.num {
			case 1:
				code = f.str()
			case 2:
				start = string(f.bytes)
			case 3:
				end = string(f.bytes)
			case 4:
				if fl, ok := mceFlagByName[string(f.bytes)]; ok {
					row.Flags.Add(fl)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("entry %d: %w", n, err)
		}
		if code == "" {
			return fmt.Errorf("entry %d: no code", n)
		}
		row.DateRange = mcePeriod(start, end, termination)
		m[code] = append(m[code], row)
		return nil
	})
	return m, err
}

func decodeAgeRanges(d *MCEData, b []byte, termination int) error {
	n := 0
	return decodeList(b, 1, func(e []byte) error {
		n++
		var group, start, end string
		var row AgeRow
		err := walk(e, func(f field) error {
			switch f.num {
			case 1:
				group = f.str()
			case 2:
				row.MinAge = f.int32()
			case 3:
				row.MaxAge = f.int32()
			case 4:
				start = f.str()
			case 5:
				end = f.str()
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("entry %d: %w", n, err)
		}
		row.DateRange = mcePeriod(start, end, termination)
		key := strings.ToUpper(group)
		d.Ages[key] = append(d.Ages[key], row)
		for g := AgeNewborn; g <= AgeAdult; g++ {
			if ageGroupNames[g] == key {
				d.ages[g] = append(d.ages[g], row)
			}
		}
		return nil
	})
}

func decodeDischargeStatuses(d *MCEData, b []byte, termination int) error {
	n := 0
	return decodeList(b, 1, func(e []byte) error {
		n++
		var code int
		var start, end string
		err := walk(e, func(f field) error {
			switch f.num {
			case 1:
				code = f.int32()
			case 2:
				start = f.str()
			case 3:
				end = f.str()
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("entry %d: %w", n, err)
		}
		d.DischargeStatuses[code] = append(d.DischargeStatuses[code], mcePeriod(start, end, termination))
		return nil
	})
}

// pickMCERow returns the first row covering date d.
func pickMCERow(rows []MCERow, d int) (*MCERow, bool) {
	for i := range rows {
		if rows[i].Covers(d) {
			return &rows[i], true
		}
	}
	return nil, false
}

// Table returns the rows of code table t.
func (d *MCEData) Table(t CodeTableID) map[string][]MCERow {
	switch t {
	case ICD10Pr:
		return d.Pr
	case ICD9Dx:
		return d.ICD9Dx
	case ICD9Pr:
		return d.ICD9Pr
	}
	return d.Dx
}

// Lookup returns the flags of code in table t on date d (yyyymmdd), and whether the code
// is valid then (some row covers d; the first such row gives the flags). The code must
// already be upper-cased: keys are matched exactly.
func (d *MCEData) Lookup(t CodeTableID, code string, date int) (MCEFlags, bool) {
	if int(t) >= len(d.index) {
		return MCEFlags{}, false
	}
	x := &d.index[t]
	s := x.find(code)
	if s == nil {
		if r, ok := pickMCERow(x.other[code], date); ok {
			return r.Flags, true
		}
		return MCEFlags{}, false
	}
	if int(s.start) <= date && date <= int(s.end) {
		return s.flags, true
	}
	if r, ok := pickMCERow(x.all[s.first:s.first+s.n], date); ok {
		return r.Flags, true
	}
	return MCEFlags{}, false
}

// codeIndex is an open-addressing hash table over the codes of a code table, keyed by the
// code packed into an integer. Each slot holds the code's first row, which is all most
// codes have; the rows of all codes are in one array. It answers the per-claim lookups
// without hashing strings and mostly with one memory access.
type codeIndex struct {
	slots []indexSlot
	all   []MCERow
	shift uint
	other map[string][]MCERow // codes that do not pack (none in the shipped data)
}

// indexSlot is one entry of a codeIndex: a packed code (0 = empty slot), its first row and
// the position of all its rows in codeIndex.all.
type indexSlot struct {
	key        uint64
	flags      MCEFlags
	start, end int32
	first, n   uint32
}

// packCode packs a code of 1–8 bytes, none zero, into an integer; ok is false for codes
// that cannot be table keys.
func packCode(code string) (uint64, bool) {
	if len(code) == 0 || len(code) > 8 {
		return 0, false
	}
	var k uint64
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c == 0 {
			return 0, false
		}
		k = k<<8 | uint64(c)
	}
	return k, true
}

// slot returns the home slot of key k.
func (x *codeIndex) slot(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> x.shift }

func buildCodeIndex(m map[string][]MCERow) codeIndex {
	size := uint64(16)
	for size*7 < uint64(len(m))*10 {
		size <<= 1
	}
	x := codeIndex{slots: make([]indexSlot, size), shift: uint(64 - bits.TrailingZeros64(size))}
	n := 0
	for _, rows := range m {
		n += len(rows)
	}
	x.all = make([]MCERow, 0, n)
	for code, rows := range m {
		k, ok := packCode(code)
		if !ok {
			if x.other == nil {
				x.other = map[string][]MCERow{}
			}
			x.other[code] = rows
			continue
		}
		i := x.slot(k)
		for x.slots[i].key != 0 {
			i = (i + 1) & (size - 1)
		}
		first := rows[0].DateRange
		if first.Start > math.MaxInt32 || first.End > math.MaxInt32 || first.End < math.MinInt32 {
			first = noDates
		}
		x.slots[i] = indexSlot{key: k, flags: rows[0].Flags, start: int32(first.Start), end: int32(first.End),
			first: uint32(len(x.all)), n: uint32(len(rows))}
		x.all = append(x.all, rows...)
	}
	return x
}

// find returns the slot of code, or nil when the code does not pack or is absent.
func (x *codeIndex) find(code string) *indexSlot {
	k, ok := packCode(code)
	if !ok || len(x.slots) == 0 {
		return nil
	}
	mask := uint64(len(x.slots) - 1)
	for i := x.slot(k); ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.key == k {
			return s
		}
		if s.key == 0 {
			return nil
		}
	}
}

// AgeRange returns the age row of group g in effect on date d (yyyymmdd).
func (d *MCEData) AgeRange(g AgeGroup, date int) (AgeRow, bool) {
	if g < AgeNewborn || g > AgeAdult {
		return AgeRow{}, false
	}
	for _, r := range d.ages[g] {
		if r.Covers(date) {
			return r, true
		}
	}
	return AgeRow{}, false
}

// ValidDischargeStatus reports whether status is a valid patient discharge status on date d
// (yyyymmdd).
func (d *MCEData) ValidDischargeStatus(status, date int) bool {
	for _, r := range d.DischargeStatuses[status] {
		if r.Covers(date) {
			return true
		}
	}
	return false
}

// ParseMCEDate parses a date as the MCE does: surrounding characters up to the space are
// trimmed, then exactly eight digits yyyyMMdd with month 01–12 and day 01–31 are required; a
// day past the end of the month means the month's last day (20240230 → 20240229). The result
// is the date as the integer yyyymmdd.
func ParseMCEDate(s string) (int, bool) {
	s = JavaTrim(s)
	if len(s) != 8 {
		return 0, false
	}
	n := 0
	for i := 0; i < 8; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return NormalizeMCEDate(n/10000, n/100%100, n%100)
}

// NormalizeMCEDate checks a year, month (1–12) and day (1–31) and returns the date as the
// integer yyyymmdd, with a day past the month's end moved to the month's last day.
func NormalizeMCEDate(year, month, day int) (int, bool) {
	if year < 0 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31 {
		return 0, false
	}
	if last := mceDaysIn(year, month); day > last {
		day = last
	}
	return year*10000 + month*100 + day, true
}

// mceDaysIn returns the number of days of a month in the proleptic Gregorian calendar.
func mceDaysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// JavaTrim removes leading and trailing characters up to U+0020 (controls and space), as
// Java's String.trim does.
func JavaTrim(s string) string {
	i, j := 0, len(s)
	for i < j && s[i] <= ' ' {
		i++
	}
	for j > i && s[j-1] <= ' ' {
		j--
	}
	return s[i:j]
}
