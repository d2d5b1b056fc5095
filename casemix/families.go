package casemix

import (
	"slices"
	"strings"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/tables"
)

// Level is the severity level of a DRG within its family.
type Level string

// Severity levels. CC_MCC is the upper DRG of a two-way "with CC/MCC / without CC/MCC"
// split; NONE is the family's lowest DRG ("without CC/MCC", or "without MCC" in a two-way
// MCC split).
const (
	LevelMCC   Level = "MCC"
	LevelCC    Level = "CC"
	LevelCCMCC Level = "CC_MCC"
	LevelNone  Level = "NONE"
)

// levelOrder ranks levels from highest to lowest for display.
var levelOrder = []Level{LevelMCC, LevelCCMCC, LevelCC, LevelNone}

// Family is a base DRG whose DRGs split by severity, e.g. 291 Heart Failure and Shock: 291
// MCC, 292 CC, 293 NONE.
type Family struct {
	BaseDRG int      `json:"base_drg"`
	Title   string   `json:"title,omitempty"`
	Members []Member `json:"members"` // ascending DRG
}

// Member is one DRG of a family and its level.
type Member struct {
	DRG   int   `json:"drg"`
	Level Level `json:"level"`
}

// Families maps the DRGs of each grouper version to their severity family.
//
// Derivation (from the grouper's formulas, not from titles): the formula rows of a version
// are grouped by their base DRG. A base DRG with two or more DRGs is a severity family when
// its DRGs' formulas test the claim's CC/MCC level — the bare operands MCC and CC of the
// formula language. The lowest DRG of the family is the one evaluated last (the catch-all,
// "without CC/MCC" or "without MCC"); every other DRG takes its level from the operands its
// rows test: MCC only → MCC, CC only → CC, both → CC_MCC. Rows that add a non-severity
// alternative (DRG 5 "with MCC or Intestinal Transplant", DRG 29 "with CC or Spinal
// Neurostimulators") keep the level of their severity test. A family in which a DRG other
// than the lowest tests no severity is not a severity family and is left out. The formulas'
// drgSeverity field is informational in CMS data (0 for most DRGs) and is not used.
type Families struct {
	byVersion map[tables.Version]map[int]familyRef
	versions  []tables.Version // ascending
}

type familyRef struct {
	f     *Family
	level Level
}

// DeriveFamilies derives the severity families of every version of m.
func DeriveFamilies(m *tables.MSDRG) *Families {
	fs := &Families{byVersion: map[tables.Version]map[int]familyRef{}, versions: slices.Clone(m.Versions)}
	slices.Sort(fs.versions)
	mdcs := make([]int, 0, len(m.Formulas))
	for k := range m.Formulas {
		mdcs = append(mdcs, k)
	}
	slices.Sort(mdcs)
	for _, v := range fs.versions {
		fs.byVersion[v] = deriveVersion(m, v, mdcs)
	}
	return fs
}

func deriveVersion(m *tables.MSDRG, v tables.Version, mdcs []int) map[int]familyRef {
	type acc struct {
		drgs   []int
		lowest int // DRG of the family's last-evaluated row, from the first MDC the family is in
	}
	fams := map[int]*acc{}
	tests := map[int]uint8{} // DRG → severity operands its rows test (1 MCC, 2 CC)
	for _, mdc := range mdcs {
		last := map[int]int{}
		for _, f := range m.FormulasFor(mdc, v) {
			if f.DRG <= 0 || f.BaseDRG <= 0 {
				continue
			}
			a := fams[f.BaseDRG]
			if a == nil {
				a = &acc{}
				fams[f.BaseDRG] = a
			}
			if !slices.Contains(a.drgs, f.DRG) {
				a.drgs = append(a.drgs, f.DRG)
			}
			tests[f.DRG] |= severityOperands(f.Expr)
			last[f.BaseDRG] = f.DRG
		}
		for base, drg := range last {
			if fams[base].lowest == 0 {
				fams[base].lowest = drg
			}
		}
	}
	out := map[int]familyRef{}
	for base, a := range fams {
		if len(a.drgs) < 2 {
			continue
		}
		f := &Family{BaseDRG: base}
		if t, ok := tables.Title(m.BaseDRGTitles, base, v); ok {
			f.Title = t
		}
		ok := true
		slices.Sort(a.drgs)
		for _, drg := range a.drgs {
			lv := LevelNone
			if drg != a.lowest {
				switch tests[drg] {
				case 1:
					lv = LevelMCC
				case 2:
					lv = LevelCC
				case 3:
					lv = LevelCCMCC
				default:
					ok = false
				}
			}
			f.Members = append(f.Members, Member{drg, lv})
		}
		if !ok {
			continue
		}
		for _, mb := range f.Members {
			out[mb.DRG] = familyRef{f, mb.Level}
		}
	}
	return out
}

// severityOperands returns the CC/MCC level operands a formula expression tests: bit 1 for
// MCC, bit 2 for CC.
func severityOperands(expr string) uint8 {
	var bits uint8
	for tok := range strings.FieldsFuncSeq(expr, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '(' || r == ')' || r == '&' || r == '|' || r == '~'
	}) {
		switch tok {
		case "MCC":
			bits |= 1
		case "CC":
			bits |= 2
		}
	}
	return bits
}

// Lookup returns the family and level of drg in grouper version (431 = v43.1). A version
// that is not loaded (0 included) falls back to the version in effect on date when loaded,
// else the newest loaded version.
func (fs *Families) Lookup(version int, date claim.Date, drg int) (*Family, Level, bool) {
	m := fs.byVersion[tables.Version(version)]
	if m == nil {
		m = fs.fallback(date)
	}
	r, ok := m[drg]
	if !ok {
		return nil, "", false
	}
	return r.f, r.level, true
}

func (fs *Families) fallback(date claim.Date) map[int]familyRef {
	if !date.IsZero() {
		if m := fs.byVersion[tables.VersionAt(date)]; m != nil {
			return m
		}
	}
	if len(fs.versions) == 0 {
		return nil
	}
	return fs.byVersion[fs.versions[len(fs.versions)-1]]
}

// Version returns every family of a loaded version, ascending base DRG.
func (fs *Families) Version(v tables.Version) []*Family {
	var out []*Family
	for _, r := range fs.byVersion[v] {
		if !slices.Contains(out, r.f) {
			out = append(out, r.f)
		}
	}
	slices.SortFunc(out, func(a, b *Family) int { return a.BaseDRG - b.BaseDRG })
	return out
}

// DRGTitles returns a title lookup for reports: the DRG's title in version v, else in the
// newest version that has one, else "".
func DRGTitles(m *tables.MSDRG, v tables.Version) func(drg int) string {
	return func(drg int) string {
		if t, ok := tables.Title(m.DRGTitles, drg, v); ok {
			return t
		}
		for i := len(m.Versions) - 1; i >= 0; i-- {
			if t, ok := tables.Title(m.DRGTitles, drg, m.Versions[i]); ok {
				return t
			}
		}
		return ""
	}
}
