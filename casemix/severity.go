package casemix

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// SeverityOptions configure the severity capture report.
type SeverityOptions struct {
	Filter   Filter
	Families *Families // DeriveFamilies of the loaded grouper tables
}

// SeverityReport gives, for each DRG family with severity splits, the share of discharges at
// each level, and the overall capture rates.
type SeverityReport struct {
	Filter Filter `json:"filter"`
	// Discharges counts the filtered discharges whose final DRG belongs to a severity family;
	// NotInFamily those whose DRG has no severity split (e.g. 003, 998, 999).
	Discharges  int `json:"discharges"`
	NotInFamily int `json:"not_in_family"`
	// Levels counts Discharges by level.
	Levels []LevelCount `json:"levels"`
	// CCMCCCaptureRate is the share of Discharges above their family's lowest DRG (MCC, CC or
	// CC_MCC). MCCCaptureRate is the share at the MCC level among the discharges of families
	// that have an MCC level (MCCFamilyDischarges).
	CCMCCCaptureRate    float64     `json:"cc_mcc_capture_rate"`
	MCCCaptureRate      float64     `json:"mcc_capture_rate"`
	MCCFamilyDischarges int         `json:"mcc_family_discharges"`
	Families            []FamilyRow `json:"families"` // by discharges, descending
	OutsideFilter       int         `json:"outside_filter"`
}

// LevelCount is the number and share of discharges at one level.
type LevelCount struct {
	Level      Level   `json:"level"`
	DRG        int     `json:"drg,omitempty"` // in a family row: the DRG of the level
	Discharges int     `json:"discharges"`
	Share      float64 `json:"share"`
}

// FamilyRow is the severity distribution of one family; Levels lists every level of the
// family, highest first, including levels without discharges.
type FamilyRow struct {
	BaseDRG    int          `json:"base_drg"`
	Title      string       `json:"title,omitempty"`
	Discharges int          `json:"discharges"`
	Levels     []LevelCount `json:"levels"`
}

// SeverityBuilder computes a SeverityReport from discharges added one at a time (not safe
// for concurrent use; Merge per-goroutine builders).
type SeverityBuilder struct {
	opt      SeverityOptions
	counts   map[int]int // final DRG → discharges in a family
	families map[int]*Family
	levels   map[int]Level
	none     int
	outside  int
}

// NewSeverityBuilder checks the options and returns an empty builder.
func NewSeverityBuilder(opt SeverityOptions) (*SeverityBuilder, error) {
	if err := opt.Filter.Validate(); err != nil {
		return nil, err
	}
	if opt.Families == nil {
		return nil, errors.New("severity report: no DRG families (grouper tables) given")
	}
	return &SeverityBuilder{opt: opt, counts: map[int]int{}, families: map[int]*Family{}, levels: map[int]Level{}}, nil
}

// SeverityCapture computes the report over ds.
func SeverityCapture(ds []Discharge, opt SeverityOptions) (*SeverityReport, error) {
	b, err := NewSeverityBuilder(opt)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		b.Add(&ds[i])
	}
	return b.Report(), nil
}

// Add counts one discharge under its final DRG's family, as defined by the discharge's
// grouper version (Families.Lookup).
func (b *SeverityBuilder) Add(d *Discharge) {
	if !b.opt.Filter.Match(d) {
		b.outside++
		return
	}
	f, lv, ok := b.opt.Families.Lookup(d.Version, d.DischargeDate, d.Final.DRG)
	if !ok {
		b.none++
		return
	}
	b.counts[d.Final.DRG]++
	if _, seen := b.levels[d.Final.DRG]; !seen {
		b.levels[d.Final.DRG] = lv
		b.families[d.Final.DRG] = f
	}
}

// Merge adds the counts of o (built with the same options).
func (b *SeverityBuilder) Merge(o *SeverityBuilder) {
	b.none += o.none
	b.outside += o.outside
	for drg, n := range o.counts {
		b.counts[drg] += n
		if _, seen := b.levels[drg]; !seen {
			b.levels[drg] = o.levels[drg]
			b.families[drg] = o.families[drg]
		}
	}
}

// Report builds the report. Families are keyed by base DRG; when discharges of different
// grouper versions meet in one family, the family's members are the union of the versions'.
func (b *SeverityBuilder) Report() *SeverityReport {
	r := &SeverityReport{Filter: b.opt.Filter, NotInFamily: b.none, OutsideFilter: b.outside}
	rows := map[int]*FamilyRow{}
	total := map[Level]int{}
	mccFamilies := map[int]bool{}
	for _, drg := range sortedKeys(b.counts) {
		n, f, lv := b.counts[drg], b.families[drg], b.levels[drg]
		row := rows[f.BaseDRG]
		if row == nil {
			row = &FamilyRow{BaseDRG: f.BaseDRG, Title: f.Title}
			rows[f.BaseDRG] = row
		}
		for _, m := range f.Members {
			if !slices.ContainsFunc(row.Levels, func(l LevelCount) bool { return l.DRG == m.DRG }) {
				row.Levels = append(row.Levels, LevelCount{Level: m.Level, DRG: m.DRG})
			}
			if m.Level == LevelMCC {
				mccFamilies[f.BaseDRG] = true
			}
		}
		for i := range row.Levels {
			if row.Levels[i].DRG == drg {
				row.Levels[i].Discharges += n
			}
		}
		row.Discharges += n
		r.Discharges += n
		total[lv] += n
	}
	for _, base := range sortedKeys(rows) {
		row := rows[base]
		slices.SortFunc(row.Levels, func(a, c LevelCount) int {
			return cmp.Or(slices.Index(levelOrder, a.Level)-slices.Index(levelOrder, c.Level), a.DRG-c.DRG)
		})
		for i := range row.Levels {
			row.Levels[i].Share = round(ratio(float64(row.Levels[i].Discharges), row.Discharges), 4)
		}
		if mccFamilies[base] {
			r.MCCFamilyDischarges += row.Discharges
		}
		r.Families = append(r.Families, *row)
	}
	slices.SortStableFunc(r.Families, func(a, c FamilyRow) int { return c.Discharges - a.Discharges })
	mcc := 0
	for _, row := range r.Families {
		for _, l := range row.Levels {
			if l.Level == LevelMCC {
				mcc += l.Discharges
			}
		}
	}
	for _, lv := range levelOrder {
		r.Levels = append(r.Levels, LevelCount{Level: lv, Discharges: total[lv], Share: round(ratio(float64(total[lv]), r.Discharges), 4)})
	}
	r.CCMCCCaptureRate = round(ratio(float64(r.Discharges-total[LevelNone]), r.Discharges), 4)
	r.MCCCaptureRate = round(ratio(float64(mcc), r.MCCFamilyDischarges), 4)
	return r
}

var severityCSVHeader = []string{"base_drg", "title", "family_discharges", "level", "drg", "discharges", "share"}

// WriteCSV writes one row per family level; the overall levels come first with base_drg
// "overall".
func (r *SeverityReport) WriteCSV(w io.Writer) error {
	cw := newCSV(w, severityCSVHeader)
	for _, l := range r.Levels {
		cw.row("overall", "", itoa(r.Discharges), string(l.Level), "", itoa(l.Discharges), f4(l.Share))
	}
	for _, f := range r.Families {
		for _, l := range f.Levels {
			cw.row(fmt.Sprintf("%03d", f.BaseDRG), f.Title, itoa(f.Discharges), string(l.Level), fmt.Sprintf("%03d", l.DRG), itoa(l.Discharges), f4(l.Share))
		}
	}
	return cw.flush()
}

// WriteText writes the report for a terminal.
func (r *SeverityReport) WriteText(w io.Writer) error {
	t := newText(w)
	t.line("Severity capture — discharges %s", filterText(&r.Filter))
	tab := [][]string{{"family", "discharges", "MCC", "CC/MCC", "CC", "none"}}
	for _, f := range r.Families {
		c := []string{fmt.Sprintf("%03d %s", f.BaseDRG, clip(f.Title, 48)), itoa(f.Discharges), "", "", "", ""}
		for _, l := range f.Levels {
			i := 2 + slices.Index(levelOrder, l.Level)
			c[i] = strings.TrimSpace(c[i] + " " + fmt.Sprintf("%s (%d)", pct(l.Share), l.Discharges))
		}
		for i := 2; i < len(c); i++ {
			if c[i] == "" {
				c[i] = "—"
			}
		}
		tab = append(tab, c)
	}
	t.table(tab)
	t.line("")
	for _, l := range r.Levels {
		t.line("%-7s %d discharges (%s)", l.Level, l.Discharges, pct(l.Share))
	}
	t.line("%d discharges outside severity families (no CC/MCC split)", r.NotInFamily)
	t.line("MCC capture %s (of %d discharges in families with an MCC level)", pct(r.MCCCaptureRate), r.MCCFamilyDischarges)
	t.line("CC/MCC capture %s over %d discharges", pct(r.CCMCCCaptureRate), r.Discharges)
	return t.err
}
