package tables

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/msdrg-cdi/drg/claim"
)

// InfoReport is what `drg tables info` prints: what a Catalog holds.
type InfoReport struct {
	Dir     string               `json:"dir"`
	Grouper []GrouperVersionInfo `json:"grouper"`
	// MCE describes the Medicare Code Editor tables (nil when the data directory has none).
	MCE     *MCEInfo      `json:"mce,omitempty"`
	Weights []WeightsInfo `json:"weights"`
	// TransferStatuses names the discharge-status table of transfers in use.
	TransferStatuses string       `json:"transfer_statuses,omitempty"`
	Titles           []TitlesInfo `json:"titles"`
	Index            []IndexInfo  `json:"index"`
	POA              []POAInfo    `json:"poa"`
	HCC              []HCCInfo    `json:"hcc"`
	Files            []FileInfo   `json:"files"`
	Warnings         []string     `json:"warnings"`
}

// MCEInfo describes the Medicare Code Editor tables as GrouperVersionInfo describes a grouper
// version: the release, the discharge dates it edits and its code tables.
type MCEInfo struct {
	Version   Version    `json:"version"`    // release, e.g. 43.1
	Through   claim.Date `json:"through"`    // last discharge date the tables edit
	DxCodes   int        `json:"dx_codes"`   // ICD-10-CM codes with edit attributes
	PrCodes   int        `json:"pr_codes"`   // ICD-10-PCS codes with edit attributes
	ICD9Codes int        `json:"icd9_codes"` // ICD-9-CM diagnosis and procedure codes
	AgeGroups int        `json:"age_groups"` // newborn, pediatric, maternity, adult
	Statuses  int        `json:"statuses"`   // valid patient discharge statuses
	Error     string     `json:"error,omitempty"`
}

// GrouperVersionInfo describes one grouper version of the loaded data.
type GrouperVersionInfo struct {
	Version Version    `json:"version"`
	From    claim.Date `json:"from"`     // first discharge date of the version's window
	To      claim.Date `json:"to"`       // last discharge date
	DxCodes int        `json:"dx_codes"` // diagnosis codes with a record for the version
	PrCodes int        `json:"pr_codes"` // procedure keys (ICD-10-PCS codes and cluster ids) with a record
	DRGs    int        `json:"drgs"`     // DRGs with a title in the version
}

// WeightsInfo describes one Table 5 and, when loaded, the transfer flags of its year.
type WeightsInfo struct {
	FiscalYear int `json:"fiscal_year"`
	DRGs       int `json:"drgs"`
	// TransferFlags is whether the year's transfer flags are loaded; PostAcute and SpecialPay
	// count the flagged DRGs.
	TransferFlags bool `json:"transfer_flags"`
	PostAcute     int  `json:"post_acute_drgs,omitempty"`
	SpecialPay    int  `json:"special_pay_drgs,omitempty"`
}

// TitlesInfo describes one year of code titles.
type TitlesInfo struct {
	Kind       TitleKind `json:"kind"`
	FiscalYear int       `json:"fiscal_year"`
	Codes      int       `json:"codes"` // all codes, headers included
	Valid      int       `json:"valid"` // codes valid for submission
	Error      string    `json:"error"` // load error, when the file could not be read
}

// IndexInfo describes the ICD-10-CM Alphabetic Index of one year.
type IndexInfo struct {
	FiscalYear int      `json:"fiscal_year"`
	Files      []string `json:"files"`   // base names of the files read
	Entries    int      `json:"entries"` // searchable entries (those leading to a code)
	Error      string   `json:"error"`   // load error, when the files could not be read
}

// POAInfo describes one POA-exempt list.
type POAInfo struct {
	FiscalYear int `json:"fiscal_year"`
	Codes      int `json:"codes"`
}

// HCCInfo describes the CMS-HCC maps of one payment year.
type HCCInfo struct {
	Year       int            `json:"year"`
	LabelsYear int            `json:"labels_year"`
	Models     []HCCModelInfo `json:"models"`
}

// HCCModelInfo describes one risk-adjustment model.
type HCCModelInfo struct {
	Name        string `json:"name"`
	DxCodes     int    `json:"dx_codes"`    // diagnosis codes mapped
	HCCs        int    `json:"hccs"`        // distinct HCCs mapped to
	Hierarchies int    `json:"hierarchies"` // parent → child rows
	Labels      int    `json:"labels"`
}

// Info describes the catalog. It loads every title year and the Alphabetic Index (to count
// codes and entries), which takes a few seconds on the full data set.
func Info(c *Catalog) InfoReport {
	r := InfoReport{Dir: c.Dir, Files: c.Files, Warnings: c.Warnings}
	for _, v := range c.MSDRG.Versions {
		from, to := VersionWindow(v)
		dx, pr := CodeCounts(c.MSDRG, v)
		drgs := 0
		for n := range c.MSDRG.DRGTitles {
			if _, ok := Title(c.MSDRG.DRGTitles, n, v); ok {
				drgs++
			}
		}
		r.Grouper = append(r.Grouper, GrouperVersionInfo{Version: v, From: from, To: to, DxCodes: dx, PrCodes: pr, DRGs: drgs})
	}
	if m, err := c.MCE(); err == nil {
		r.MCE = &MCEInfo{Version: Version(m.Version), DxCodes: len(m.Dx), PrCodes: len(m.Pr), ICD9Codes: len(m.ICD9Dx) + len(m.ICD9Pr),
			AgeGroups: len(m.Ages), Statuses: len(m.DischargeStatuses)}
		if d, err := claim.ParseDate(strconv.Itoa(m.Termination)); err == nil {
			r.MCE.Through = d
		}
	} else if !errors.Is(err, ErrNoMCE) {
		r.MCE = &MCEInfo{Error: err.Error()}
	}
	years := slices.Collect(maps.Keys(c.Weights))
	for fy := range c.Transfer {
		if c.Weights[fy] == nil {
			years = append(years, fy)
		}
	}
	slices.Sort(years)
	for _, fy := range years {
		wi := WeightsInfo{FiscalYear: fy}
		if w := c.Weights[fy]; w != nil {
			wi.DRGs = w.Len()
		}
		if t := c.Transfer[fy]; t != nil {
			wi.TransferFlags = true
			wi.PostAcute, wi.SpecialPay = t.Counts()
		}
		r.Weights = append(r.Weights, wi)
	}
	if c.Statuses != nil {
		r.TransferStatuses = c.Statuses.Name()
	}
	_ = c.PreloadTitles() // errors are reported per year below
	for _, k := range []TitleKind{ICD10CM, ICD10PCS} {
		for _, fy := range c.TitleYears(k) {
			ti := TitlesInfo{Kind: k, FiscalYear: fy}
			if t, err := c.Titles(k, fy); err != nil {
				ti.Error = err.Error()
			} else {
				ti.Codes, ti.Valid = t.Len(), t.ValidLen()
			}
			r.Titles = append(r.Titles, ti)
		}
	}
	for _, fy := range c.IndexYears() {
		ii := IndexInfo{FiscalYear: fy}
		if x, err := c.AlphaIndex(fy); err != nil {
			ii.Error = err.Error()
		} else {
			ii.Entries = x.Len()
			for _, f := range x.Files {
				ii.Files = append(ii.Files, filepath.Base(f))
			}
		}
		r.Index = append(r.Index, ii)
	}
	for _, fy := range slices.Sorted(maps.Keys(c.POA)) {
		r.POA = append(r.POA, POAInfo{FiscalYear: fy, Codes: c.POA[fy].Len()})
	}
	for _, y := range slices.Sorted(maps.Keys(c.HCC)) {
		h := c.HCC[y]
		hi := HCCInfo{Year: y, LabelsYear: h.LabelsYear}
		for _, n := range h.ModelNames() {
			m := h.models[n]
			hi.Models = append(hi.Models, HCCModelInfo{
				Name: n, DxCodes: m.Len(), HCCs: len(m.HCCList()), Hierarchies: m.HierarchyLen(), Labels: m.LabelsLen(),
			})
		}
		r.HCC = append(r.HCC, hi)
	}
	return r
}

// WriteText renders the report for humans.
func (r InfoReport) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	section := func(title string) {
		tw.Flush()
		fmt.Fprintf(ew, "\n%s\n", title)
	}
	fmt.Fprintf(ew, "Data directory: %s\n", r.Dir)

	section("MS-DRG grouper versions (" + GrouperFile + ")")
	fmt.Fprintln(tw, "  version\tdischarges from\tthrough\tdx codes\tpr keys\tDRGs")
	for _, g := range r.Grouper {
		fmt.Fprintf(tw, "  v%s\t%s\t%s\t%d\t%d\t%d\n", g.Version, g.From, g.To, g.DxCodes, g.PrCodes, g.DRGs)
	}

	section("Medicare Code Editor (" + MCEFile + ")")
	switch m := r.MCE; {
	case m == nil:
		fmt.Fprintln(tw, "  none: drg mce, drg group --mce and the MCE of the API are unavailable")
	case m.Error != "":
		fmt.Fprintf(tw, "  error: %s\n", m.Error)
	default:
		fmt.Fprintln(tw, "  release\tdischarges through\tdx codes\tpr codes\tICD-9 codes\tage groups\tdischarge statuses")
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\t%d\t%d\n", m.Version, m.Through, m.DxCodes, m.PrCodes, m.ICD9Codes, m.AgeGroups, m.Statuses)
	}

	section("Table 5 weights (" + Table5Dir + "/) and transfer flags (" + TransferDir + "/)")
	if len(r.Weights) == 0 {
		fmt.Fprintln(tw, "  none")
	}
	for _, x := range r.Weights {
		weights := "no weights"
		if x.DRGs > 0 {
			weights = fmt.Sprintf("%d DRGs", x.DRGs)
		}
		flags := "no transfer flags"
		if x.TransferFlags {
			flags = fmt.Sprintf("transfer flags: %d post-acute, %d special-pay DRGs", x.PostAcute, x.SpecialPay)
		}
		fmt.Fprintf(tw, "  FY%d\t%s\t%s\n", x.FiscalYear, weights, flags)
	}
	if r.TransferStatuses != "" {
		fmt.Fprintf(tw, "  transfer discharge statuses: %s\n", r.TransferStatuses)
	}

	section("Code titles (" + ICD10CMDir + "/, " + ICD10PCSDir + "/)")
	if len(r.Titles) == 0 {
		fmt.Fprintln(tw, "  none")
	}
	for _, x := range r.Titles {
		if x.Error != "" {
			fmt.Fprintf(tw, "  %s\tFY%d\terror: %s\n", x.Kind, x.FiscalYear, x.Error)
			continue
		}
		fmt.Fprintf(tw, "  %s\tFY%d\t%d codes\t%d valid\n", x.Kind, x.FiscalYear, x.Codes, x.Valid)
	}

	section("ICD-10-CM Alphabetic Index (" + ICD10CMDir + "/index_YYYY/)")
	if len(r.Index) == 0 {
		fmt.Fprintln(tw, "  none: code search uses the code titles only")
	}
	for _, x := range r.Index {
		if x.Error != "" {
			fmt.Fprintf(tw, "  FY%d\terror: %s\n", x.FiscalYear, x.Error)
			continue
		}
		fmt.Fprintf(tw, "  FY%d\t%d entries\t%s\n", x.FiscalYear, x.Entries, strings.Join(x.Files, ", "))
	}

	section("POA-exempt lists (" + POADir + "/)")
	if len(r.POA) == 0 {
		fmt.Fprintln(tw, "  none")
	}
	for _, x := range r.POA {
		fmt.Fprintf(tw, "  FY%d\t%d codes\n", x.FiscalYear, x.Codes)
	}

	section("CMS-HCC maps (" + HCCDir + "/)")
	if len(r.HCC) == 0 {
		fmt.Fprintln(tw, "  none")
	}
	for _, h := range r.HCC {
		note := ""
		if h.LabelsYear != 0 && h.LabelsYear != h.Year {
			note = fmt.Sprintf(" (labels of %d)", h.LabelsYear)
		}
		fmt.Fprintf(tw, "  %d%s\n", h.Year, note)
		for _, m := range h.Models {
			fmt.Fprintf(tw, "    %s\t%d dx codes\t%d HCCs\t%d hierarchy rows\t%d labels\n", m.Name, m.DxCodes, m.HCCs, m.Hierarchies, m.Labels)
		}
	}

	section("Files")
	for _, f := range r.Files {
		fmt.Fprintf(tw, "  %s\t%d bytes\tsha256 %s\n", f.Path, f.Size, f.SHA256)
	}
	tw.Flush()
	if len(r.Warnings) > 0 {
		fmt.Fprintf(ew, "\nWarnings\n")
		for _, m := range r.Warnings {
			fmt.Fprintf(ew, "  %s\n", strings.TrimSpace(m))
		}
	}
	return ew.err
}

// errWriter remembers the first write error so WriteText can report it once.
type errWriter struct {
	w   io.Writer
	err error
}

// Write implements io.Writer, swallowing errors after the first.
func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, nil
}
