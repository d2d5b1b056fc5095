package cacsvc

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/msdrg-cdi/drg/batch"
	"github.com/msdrg-cdi/drg/cac"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/notes"
	"github.com/msdrg-cdi/drg/tables"
)

// Response is the answer to a request: the cac.Result, each diagnosis with its CC/MCC level
// when grouped, and the grouper record of the suggestion.
type Response struct {
	ID         string          `json:"id,omitempty"`
	PDX        *Suggestion     `json:"pdx"`
	SDX        []Suggestion    `json:"sdx"`
	Procedures []Suggestion    `json:"procedures"`
	NotCoded   []cac.NotCoded  `json:"not_coded"`
	Version    int             `json:"version"`   // the grouper version whose code set was used
	CodeYear   int             `json:"code_year"` // fiscal year of the code files
	Group      json.RawMessage `json:"group,omitempty"`
	Warnings   []string        `json:"warnings,omitempty"`
}

// Suggestion is a cac.Suggestion with its severity level in the grouping (CC, MCC or NCC).
type Suggestion struct {
	cac.Suggestion
	Level string `json:"level,omitempty"`
}

// Service codes requests. Build it once with New; it is safe for concurrent use.
type Service struct {
	cat   *tables.Catalog
	group *batch.GroupProcessor
	rd    *notes.Reader
	rules cac.Rules

	mu      sync.Mutex
	engines map[int]*engineOnce // by code fiscal year
}

type engineOnce struct {
	once sync.Once
	e    *cac.Engine
	err  error
}

// New returns a service over the catalog; group groups the suggestions (nil: never grouped).
func New(cat *tables.Catalog, group *batch.GroupProcessor) (*Service, error) {
	rd, err := defaultReader()
	if err != nil {
		return nil, err
	}
	rules, err := cac.DefaultRules()
	if err != nil {
		return nil, err
	}
	return &Service{cat: cat, group: group, rd: rd, rules: rules, engines: map[int]*engineOnce{}}, nil
}

// ErrNoCodeFiles reports that the data directory holds no ICD-10 code files to code with.
var ErrNoCodeFiles = errors.New("no ICD-10-CM/PCS code files in the data directory (icd10cm/cms_YYYY_dx.zip, icd10pcs/cms_YYYY_pr.zip)")

// Engine returns the coding engine of a fiscal year's code files (the nearest loaded year
// when that year's files are absent), built on first use.
func (s *Service) Engine(fy int) (*cac.Engine, int, error) {
	fy = nearest(s.cat.TitleYears(tables.ICD10CM), fy)
	if fy == 0 {
		return nil, 0, ErrNoCodeFiles
	}
	s.mu.Lock()
	eo := s.engines[fy]
	if eo == nil {
		eo = &engineOnce{}
		s.engines[fy] = eo
	}
	s.mu.Unlock()
	eo.once.Do(func() {
		dx, err := s.cat.Titles(tables.ICD10CM, fy)
		if err != nil {
			eo.err = err
			return
		}
		pr, err := s.cat.Titles(tables.ICD10PCS, nearest(s.cat.TitleYears(tables.ICD10PCS), fy))
		if err != nil {
			eo.err = err
			return
		}
		var index cac.IndexLookup
		if x, err := s.cat.AlphaIndexFor(fy); err == nil && x != nil {
			index = func(words string) (string, string, bool) {
				for _, h := range x.Search(words, 3) {
					if h.Exact && !h.Incomplete {
						return h.Code, h.Term, true
					}
				}
				return "", "", false
			}
		}
		eo.e, eo.err = cac.NewEngineWithIndex(s.rd, s.rules, lookup(dx), lookup(pr), index)
	})
	return eo.e, fy, eo.err
}

func lookup(t *tables.CodeTitles) cac.CodeLookup {
	return func(code string) (string, bool, bool) {
		ct, ok := t.Get(code)
		return ct.Long, ct.Valid, ok
	}
}

func nearest(years []int, fy int) int {
	if len(years) == 0 {
		return 0
	}
	if slices.Contains(years, fy) {
		return fy
	}
	best := years[len(years)-1]
	for _, y := range years {
		if y <= fy {
			best = y
		}
	}
	return best
}

// version chooses the grouper version of a request: its own, else the one in effect on the
// discharge date, else the newest loaded.
func (s *Service) version(r *Request) (tables.Version, error) {
	loaded := s.cat.MSDRG.Versions
	if r.Version != 0 {
		v := tables.Version(r.Version)
		if !s.cat.MSDRG.HasVersion(v) {
			return 0, &claim.FieldError{Field: "version", Message: fmt.Sprintf("grouper version %s is not loaded (loaded: %v)", v, loaded)}
		}
		return v, nil
	}
	if !r.DischargeDate.IsZero() {
		v, err := tables.VersionForDate(r.DischargeDate, loaded)
		if err != nil {
			return 0, &claim.FieldError{Field: "discharge_date", Message: err.Error()}
		}
		return v, nil
	}
	return loaded[len(loaded)-1], nil
}

// Run codes a parsed request. Its errors are field errors (a version not loaded) or a
// failure of the data directory.
func (s *Service) Run(r *Request) (*Response, error) {
	v, err := s.version(r)
	if err != nil {
		return nil, err
	}
	e, fy, err := s.Engine(tables.VersionFiscalYear(v))
	if err != nil {
		return nil, err
	}
	res := e.Code(r.notesOf())
	out := &Response{ID: r.ID, NotCoded: res.NotCoded, Version: int(v), CodeYear: fy}
	wrap := func(ss []cac.Suggestion) []Suggestion {
		w := make([]Suggestion, len(ss))
		for i, s := range ss {
			w[i] = Suggestion{Suggestion: s}
		}
		return w
	}
	if res.PDX != nil {
		out.PDX = &Suggestion{Suggestion: *res.PDX}
	}
	out.SDX, out.Procedures = wrap(res.SDX), wrap(res.Procedures)
	if fy != tables.VersionFiscalYear(v) {
		out.Warnings = append(out.Warnings, fmt.Sprintf("codes chosen from the FY%d code files: FY%d's are not in the data directory", fy, tables.VersionFiscalYear(v)))
	}
	switch {
	case out.PDX == nil:
		out.Warnings = append(out.Warnings, "no principal diagnosis found in the notes: not grouped")
	case s.group == nil:
	case r.Age == nil || r.Sex == "" || r.DischargeStatus == nil:
		out.Warnings = append(out.Warnings, "not grouped: age, sex and discharge_status are needed")
	default:
		if err := s.groupInto(out, r, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// groupInto groups the suggestion with the exact grouper and copies each diagnosis's level.
func (s *Service) groupInto(out *Response, r *Request, v tables.Version) error {
	cl := &claim.Claim{ID: r.ID, Version: int(v), DischargeDate: r.DischargeDate, Age: r.Age, Sex: r.Sex, DischargeStatus: r.DischargeStatus,
		PDX: &claim.Dx{Code: out.PDX.Code, POA: out.PDX.POA}}
	if !r.AdmitDate.IsZero() && !r.DischargeDate.IsZero() {
		los := int(r.DischargeDate.Time().Sub(r.AdmitDate.Time()).Hours() / 24)
		cl.LengthOfStay = &los
	}
	for _, d := range out.SDX {
		cl.SDX = append(cl.SDX, claim.Dx{Code: d.Code, POA: d.POA})
	}
	for _, p := range out.Procedures {
		cl.Procedures = append(cl.Procedures, claim.Proc{Code: p.Code})
	}
	rec, err := s.group.Process(cl, nil)
	if err != nil {
		return fmt.Errorf("group the suggestion: %w", err)
	}
	out.Group = json.RawMessage(rec)
	var g struct {
		Dx []struct {
			Code, Role, Level string
		} `json:"dx"`
	}
	if json.Unmarshal(rec, &g) == nil {
		levels := map[string]string{}
		for _, d := range g.Dx {
			if d.Role == "sdx" || d.Role == "pdx" {
				levels[d.Code] = d.Level
			}
		}
		for i := range out.SDX {
			out.SDX[i].Level = levels[out.SDX[i].Code]
		}
	}
	return nil
}
