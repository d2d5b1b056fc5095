package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/notes"
	"github.com/msdrg-cdi/drg/tables"
)

// reference answers the code, DRG and version look-ups from the catalog.
type reference struct {
	cat *tables.Catalog
	eng *grouper.Engine
	now func() time.Time

	drgOnce sync.Map // tables.Version → *drgIndex

	abbrevOnce sync.Once
	abbrev     *notes.Reader // the note reader's abbreviation table, for code search
}

func newReference(cat *tables.Catalog, eng *grouper.Engine, now func() time.Time) *reference {
	return &reference{cat: cat, eng: eng, now: now}
}

// currentVersion is the grouper version for work without a discharge date (look-ups,
// encounters still in house): the version in effect today when loaded, else the newest
// loaded one. note says which case applied when it is not today's.
func (r *reference) currentVersion() (v tables.Version, note string) {
	today := r.now().UTC()
	d := claim.Date{Year: today.Year(), Month: today.Month(), Day: today.Day()}
	if v, err := r.cat.VersionForDate(d); err == nil {
		return v, ""
	}
	vs := r.cat.MSDRG.Versions
	newest := vs[len(vs)-1]
	return newest, fmt.Sprintf("the grouper version in effect today (%s) is not loaded: the newest loaded version %s was used",
		tables.VersionAt(d), newest)
}

// lookupVersion reads ?version= or falls back to the current version.
func (s *Server) lookupVersion(c *gin.Context) (tables.Version, bool) {
	v, ok := s.versionParam(c)
	if !ok {
		return 0, false
	}
	if v == 0 {
		v, _ = s.ref.currentVersion()
	}
	return v, true
}

// CodeInfo describes one ICD-10 code for one grouper version.
type CodeInfo struct {
	Code       string `json:"code"`
	Type       string `json:"type"` // dx or pr
	Version    int    `json:"version"`
	FiscalYear int    `json:"fiscal_year"`
	Title      string `json:"title,omitempty"`
	ShortTitle string `json:"short_title,omitempty"`
	// Valid: billable in the fiscal year's code set (absent when that year's titles are not
	// loaded); headers such as I50 are not valid.
	Valid *bool `json:"valid,omitempty"`
	// Recognized: the grouper version has the code.
	Recognized bool           `json:"recognized"`
	MDC        *int           `json:"mdc,omitempty"` // as principal diagnosis
	MDCTitle   string         `json:"mdc_title,omitempty"`
	MDCBySex   map[string]int `json:"mdc_by_sex,omitempty"` // when the MDC depends on sex
	Level      string         `json:"level,omitempty"`      // CC/MCC level as secondary diagnosis: MCC, CC or NCC
	POAExempt  *bool          `json:"poa_exempt,omitempty"` // absent when the year's list is not loaded
	HCC        []HCCInfo      `json:"hcc,omitempty"`
	IsOR       *bool          `json:"is_or,omitempty"` // procedures: operating room procedure
	Versions   []CodeVersion  `json:"versions"`        // the code in every loaded grouper version
}

// HCCInfo gives the CMS-HCCs a diagnosis maps to in one model and payment year.
type HCCInfo struct {
	Year   int      `json:"year"`
	Model  string   `json:"model"`
	HCCs   []int    `json:"hccs"`
	Labels []string `json:"labels,omitempty"`
}

// CodeVersion is a code's grouper attributes in one version.
type CodeVersion struct {
	Version    int    `json:"version"`
	Recognized bool   `json:"recognized"`
	MDC        *int   `json:"mdc,omitempty"`
	Level      string `json:"level,omitempty"`
	IsOR       *bool  `json:"is_or,omitempty"`
}

func (s *Server) handleCode(kind tables.TitleKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		v, ok := s.lookupVersion(c)
		if !ok {
			return
		}
		code := strings.ToUpper(claim.NormalizeCode(strings.TrimSpace(c.Param("code"))))
		if code == "" || len(code) > 8 || strings.IndexFunc(code, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') }) >= 0 {
			WriteValidation(c, &FieldError{Field: "code", Message: "an ICD-10 code is letters and digits (a dot is allowed)"})
			return
		}
		info, found := s.ref.codeInfo(kind, code, v)
		if !found {
			WriteProblem(c, http.StatusNotFound, KindNotFound, fmt.Sprintf("%s code %s is in no loaded code set or grouper version", kind, code))
			return
		}
		c.JSON(http.StatusOK, info)
	}
}

func (r *reference) codeInfo(kind tables.TitleKind, code string, v tables.Version) (*CodeInfo, bool) {
	info := &CodeInfo{Code: code, Type: "dx", Version: int(v), FiscalYear: tables.VersionFiscalYear(v)}
	if kind == tables.ICD10PCS {
		info.Type = "pr"
	}
	found := false
	if t, err := r.cat.TitlesFor(kind, v); err == nil && t != nil {
		valid := false
		if ct, ok := t.Get(code); ok {
			info.Title, info.ShortTitle, valid, found = ct.Long, ct.Short, ct.Valid, true
		}
		info.Valid = &valid
	}
	m := r.cat.MSDRG
	for _, ver := range m.Versions {
		cv := CodeVersion{Version: int(ver)}
		if kind == tables.ICD10CM {
			if rec, ok := tables.Pick(m.Dx[code], ver); ok {
				mdc := rec.MDC
				cv.Recognized, cv.MDC, cv.Level = true, &mdc, rec.Severity.String()
			}
		} else if rec, isOR := r.procedure(code, ver); rec {
			cv.Recognized, cv.IsOR = true, &isOR
		}
		found = found || cv.Recognized
		info.Versions = append(info.Versions, cv)
		if ver == v {
			info.Recognized, info.MDC, info.Level, info.IsOR = cv.Recognized, cv.MDC, cv.Level, cv.IsOR
		}
	}
	if !found {
		return nil, false
	}
	if kind == tables.ICD10CM {
		if info.MDC != nil {
			info.MDCTitle, _ = tables.Title(m.MDCTitles, *info.MDC, v)
		}
		if g, ok := tables.Pick(m.GenderMDCs[code], v); ok && len(g.MDCBySex) > 0 {
			info.MDCBySex = map[string]int{}
			for sex, mdc := range g.MDCBySex {
				switch sex {
				case 1:
					info.MDCBySex["M"] = mdc
				case 2:
					info.MDCBySex["F"] = mdc
				}
			}
		}
		if p, ok := r.cat.POAFor(v); ok {
			ex := p.Has(code)
			info.POAExempt = &ex
		}
		years := make([]int, 0, len(r.cat.HCC))
		for y := range r.cat.HCC {
			years = append(years, y)
		}
		slices.Sort(years)
		for _, y := range years {
			h := r.cat.HCC[y]
			for _, name := range h.ModelNames() {
				model, _ := h.Model(name)
				hccs := model.HCCs(code)
				if len(hccs) == 0 {
					continue
				}
				hi := HCCInfo{Year: y, Model: name, HCCs: hccs}
				for _, n := range hccs {
					l, _ := model.Label(n)
					hi.Labels = append(hi.Labels, l)
				}
				info.HCC = append(info.HCC, hi)
			}
		}
	}
	return info, true
}

// procedure reports whether grouper version v knows a procedure code and whether it is an
// operating room procedure, by grouping it on a minimal claim (the engine is the authority on
// the OR flag, which depends on the version's rules).
func (r *reference) procedure(code string, v tables.Version) (recognized, isOR bool) {
	if _, ok := tables.Pick(r.cat.MSDRG.Pr[code], v); !ok {
		return false, false
	}
	res, err := r.eng.Group(&claim.Claim{Version: int(v), PDX: &claim.Dx{Code: "I10", POA: "Y"}, Procedures: []claim.Proc{{Code: code}}}, grouper.Options{})
	if err != nil || len(res.Pr) != 1 {
		return true, false
	}
	return res.Pr[0].Recognized, res.Pr[0].IsOR
}

// CodeMatch is one result of a code search.
type CodeMatch struct {
	Code       string `json:"code"`
	Title      string `json:"title"`
	ShortTitle string `json:"short_title"`
	// Valid: billable; false for a heading such as J18 or N17, which expands to its codes.
	Valid     bool   `json:"valid"`
	Heading   bool   `json:"heading,omitempty"`    // a category heading (not valid, codes below it)
	Match     string `json:"match"`                // code, index or title (tables.SearchCodes)
	IndexTerm string `json:"index_term,omitempty"` // the Alphabetic Index entry that leads to the code
	// Level: the diagnosis's severity as a secondary diagnosis in the version in use (CC, MCC,
	// NCC); absent for procedures and codes the version does not know.
	Level string `json:"level,omitempty"`
	// ExcludedByPDX: the pdx parameter's CC/MCC exclusion list holds the code, so it would not
	// count as a CC or MCC with that principal diagnosis.
	ExcludedByPDX bool `json:"excluded_by_pdx,omitempty"`
}

// SearchQuery are the parameters of GET /v1/codes/search.
type SearchQuery struct {
	Q     string `form:"q" binding:"required,max=200"`
	Type  string `form:"type" binding:"omitempty,oneof=dx pr"`
	Limit int    `form:"limit" binding:"omitempty,min=1,max=100"`
	// PDX is the claim's principal diagnosis, against which each result's CC/MCC exclusion is checked.
	PDX string `form:"pdx" binding:"max=8"`
}

func (s *Server) handleSearch(c *gin.Context) {
	var q SearchQuery
	if !bindQuery(c, &q) {
		return
	}
	v, ok := s.lookupVersion(c)
	if !ok {
		return
	}
	kind := tables.ICD10CM
	if q.Type == "pr" {
		kind = tables.ICD10PCS
	}
	if q.Limit == 0 {
		q.Limit = 25
	}
	t, err := s.cfg.Catalog.TitlesFor(kind, v)
	if err != nil {
		if errors.Is(err, tables.ErrNotLoaded) {
			WriteProblem(c, http.StatusServiceUnavailable, KindUnavailable, err.Error())
			return
		}
		WriteError(c, err)
		return
	}
	var idx *tables.AlphaIndex
	if kind == tables.ICD10CM {
		if idx, err = s.cfg.Catalog.AlphaIndexFor(t.FiscalYear); err != nil {
			WriteError(c, err)
			return
		}
	}
	// Clinical shorthand (CHF, AKI, CABG…) is searched written out first, then as typed ("uti"
	// would otherwise find "utility" before urinary tract infection).
	expanded := s.ref.expandAbbreviations(q.Q)
	var hits []tables.SearchHit
	if expanded != "" {
		hits = tables.SearchCodes(t, idx, expanded, q.Limit)
	}
	seen := map[string]bool{}
	for _, h := range hits {
		seen[h.Code] = true
	}
	for _, h := range tables.SearchCodes(t, idx, q.Q, q.Limit) {
		if !seen[h.Code] && len(hits) < q.Limit {
			seen[h.Code] = true
			hits = append(hits, h)
		}
	}
	pdx := strings.ToUpper(claim.NormalizeCode(strings.TrimSpace(q.PDX)))
	items := []CodeMatch{}
	for _, h := range hits {
		m := CodeMatch{Code: h.Code, Title: h.Long, ShortTitle: h.Short, Valid: h.Valid, Heading: !h.Valid, Match: h.Match, IndexTerm: h.IndexTerm}
		if kind == tables.ICD10CM && h.Valid {
			m.Level, m.ExcludedByPDX = s.ref.sdxLevel(h.Code, pdx, v)
		}
		items = append(items, m)
	}
	resp := gin.H{"items": items, "version": int(v), "fiscal_year": t.FiscalYear}
	if expanded != "" {
		resp["expanded_query"] = expanded
	}
	if idx != nil {
		resp["index_year"] = idx.FiscalYear
	}
	c.JSON(http.StatusOK, resp)
}

// sdxLevel returns the severity of a diagnosis as a secondary diagnosis in version v and
// whether principal diagnosis pdx ("" for none) excludes it as a CC/MCC.
func (r *reference) sdxLevel(code, pdx string, v tables.Version) (level string, excluded bool) {
	m := r.cat.MSDRG
	rec, ok := tables.Pick(m.Dx[code], v)
	if !ok {
		return "", false
	}
	level = rec.Severity.String()
	if pdx == "" || level == "NCC" {
		return level, false
	}
	if pe, ok := tables.Pick(m.PdxExclusions[pdx], v); ok {
		excluded = slices.Contains(m.ExclusionGroups[pe.Group], code)
	}
	return level, excluded
}

// expandAbbreviations returns a code search query with its clinical shorthand written out
// (the note reader's abbreviation table: "chf" → "congestive heart failure"), or "" when the
// query holds none.
func (r *reference) expandAbbreviations(q string) string {
	r.abbrevOnce.Do(func() {
		rd, err := notes.DefaultReader()
		if err != nil {
			slog.Warn("code search without abbreviations", "err", err)
			return
		}
		r.abbrev = rd
	})
	if r.abbrev == nil {
		return ""
	}
	got := strings.Join(r.abbrev.NormalizePhrase(q), " ")
	if got == "" || got == strings.Join(notes.Words(strings.ToLower(q)), " ") {
		return ""
	}
	return got
}

// bindQuery binds and validates query parameters into q (form tags); on failure it writes a
// problem (400 for a parameter that does not parse, 422 for a rule) and returns false.
func bindQuery(c *gin.Context, q any) bool {
	if err := c.ShouldBindQuery(q); err != nil {
		if fes := validationErrors(err); len(fes) > 0 && fes[0].Field != "body" {
			WriteValidation(c, fes...)
			return false
		}
		WriteProblem(c, http.StatusBadRequest, KindMalformed, "bad query parameter: "+err.Error())
		return false
	}
	return true
}

// DRGInfo describes one MS-DRG in one grouper version.
type DRGInfo struct {
	DRG        int      `json:"drg"`
	Version    int      `json:"version"`
	FiscalYear int      `json:"fiscal_year"`
	Title      string   `json:"title"`
	MDC        *int     `json:"mdc,omitempty"` // when the DRG belongs to one MDC
	MDCTitle   string   `json:"mdc_title,omitempty"`
	MDCs       []int    `json:"mdcs"`           // every MDC whose logic assigns the DRG
	Type       string   `json:"type,omitempty"` // SURGICAL, MEDICAL
	BaseDRG    int      `json:"base_drg,omitempty"`
	Weight     *float64 `json:"weight,omitempty"` // Table 5 of the version's fiscal year
	GMLOS      *float64 `json:"gmlos,omitempty"`
	AMLOS      *float64 `json:"amlos,omitempty"`
}

type drgIndex struct {
	once sync.Once
	m    map[int]*drgAttrs
}

type drgAttrs struct {
	mdcs    []int
	typ     string
	baseDRG int
}

// drgs returns the DRG → MDCs and type index of version v, built on first use from the
// formulas of the version.
func (r *reference) drgs(v tables.Version) map[int]*drgAttrs {
	x, _ := r.drgOnce.LoadOrStore(v, &drgIndex{})
	ix := x.(*drgIndex)
	ix.once.Do(func() {
		ix.m = map[int]*drgAttrs{}
		for _, rows := range r.cat.MSDRG.Formulas {
			for i := range rows {
				f := &rows[i]
				if _, ok := f.Rank(v); !ok || f.DRG == 0 || f.RerouteMDC != 0 {
					continue
				}
				a := ix.m[f.DRG]
				if a == nil {
					a = &drgAttrs{typ: f.Surgical, baseDRG: f.BaseDRG}
					ix.m[f.DRG] = a
				}
				if !slices.Contains(a.mdcs, f.MDC) {
					a.mdcs = append(a.mdcs, f.MDC)
				}
			}
		}
		for _, a := range ix.m {
			slices.Sort(a.mdcs)
		}
	})
	return ix.m
}

func (s *Server) handleDRG(c *gin.Context) {
	v, ok := s.lookupVersion(c)
	if !ok {
		return
	}
	n, err := strconv.Atoi(c.Param("drg"))
	if err != nil || n <= 0 || n > 999 {
		WriteValidation(c, &FieldError{Field: "drg", Message: "a DRG is a number from 1 to 999"})
		return
	}
	m := s.cfg.Catalog.MSDRG
	title, hasTitle := tables.Title(m.DRGTitles, n, v)
	attrs := s.ref.drgs(v)[n]
	if !hasTitle && attrs == nil {
		WriteProblem(c, http.StatusNotFound, KindNotFound, fmt.Sprintf("DRG %d is not in grouper version %s", n, v))
		return
	}
	info := DRGInfo{DRG: n, Version: int(v), FiscalYear: tables.VersionFiscalYear(v), Title: title, MDCs: []int{}}
	if attrs != nil {
		info.MDCs, info.Type, info.BaseDRG = attrs.mdcs, attrs.typ, attrs.baseDRG
		if len(attrs.mdcs) == 1 {
			mdc := attrs.mdcs[0]
			info.MDC = &mdc
			info.MDCTitle, _ = tables.Title(m.MDCTitles, mdc, v)
		}
	}
	if w, ok := s.cfg.Catalog.WeightsFor(v); ok {
		if row, ok := w.Get(n); ok {
			info.Weight, info.GMLOS, info.AMLOS = &row.Weight, &row.GMLOS, &row.AMLOS
		}
	}
	c.JSON(http.StatusOK, info)
}

// VersionInfo describes one loaded grouper version and the reference data of its year.
type VersionInfo struct {
	Version    int    `json:"version"`
	Name       string `json:"name"` // 43.1
	FiscalYear int    `json:"fiscal_year"`
	From       string `json:"from"`    // first discharge date of the version's window
	To         string `json:"to"`      // last discharge date
	Current    bool   `json:"current"` // used when a request gives neither version nor discharge date
	Weights    bool   `json:"weights"` // Table 5 of the fiscal year loaded
	DxTitles   bool   `json:"dx_titles"`
	PrTitles   bool   `json:"pr_titles"`
	POAExempt  bool   `json:"poa_exempt"`
}

func (s *Server) handleVersions(c *gin.Context) {
	cat := s.cfg.Catalog
	cur, note := s.ref.currentVersion()
	dxYears, prYears := cat.TitleYears(tables.ICD10CM), cat.TitleYears(tables.ICD10PCS)
	items := []VersionInfo{}
	for _, v := range cat.MSDRG.Versions {
		from, to := tables.VersionWindow(v)
		fy := tables.VersionFiscalYear(v)
		_, w := cat.WeightsFor(v)
		_, poa := cat.POAFor(v)
		items = append(items, VersionInfo{Version: int(v), Name: v.String(), FiscalYear: fy, From: from.String(), To: to.String(),
			Current: v == cur, Weights: w, DxTitles: slices.Contains(dxYears, fy), PrTitles: slices.Contains(prYears, fy), POAExempt: poa})
	}
	_, mceErr := cat.MCE()
	resp := gin.H{"items": items, "mce": mceErr == nil}
	if note != "" {
		resp["note"] = note
	}
	c.JSON(http.StatusOK, resp)
}

// Code kinds of the look-up routes.
const (
	dxKind = tables.ICD10CM
	prKind = tables.ICD10PCS
)
