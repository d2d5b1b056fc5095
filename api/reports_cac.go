package api

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/cac"
)

// CACRate is the count of accepted and rejected CAC suggestions of one group and the rates.
type CACRate struct {
	// Key names the group: the chapter ("ICD-10-CM 9", "ICD-10-PCS 0"), the 3-character
	// category, or the note type ("" for notes without one); empty for the total.
	Key       string `json:"key"`
	Title     string `json:"title,omitempty"`
	Decisions int    `json:"decisions"`
	Accepted  int    `json:"accepted"`
	Rejected  int    `json:"rejected"`
	// AcceptanceRate is accepted / decisions, RejectionRate rejected / decisions.
	AcceptanceRate float64 `json:"acceptance_rate"`
	RejectionRate  float64 `json:"rejection_rate"`
}

// CACReport is the answer of GET /v1/reports/cac: where coders accept and reject the
// suggestions, over the decisions made in a period.
type CACReport struct {
	From       string    `json:"from,omitempty"`
	To         string    `json:"to,omitempty"`
	Total      CACRate   `json:"total"`
	ByChapter  []CACRate `json:"by_chapter"`
	ByCategory []CACRate `json:"by_category"`
	ByNoteType []CACRate `json:"by_note_type"`
	ByKind     []CACRate `json:"by_kind"`
}

func (r *CACRate) add(decision string, n int) {
	r.Decisions += n
	if decision == "accept" {
		r.Accepted += n
	} else {
		r.Rejected += n
	}
	r.AcceptanceRate = float64(r.Accepted) / float64(r.Decisions)
	r.RejectionRate = float64(r.Rejected) / float64(r.Decisions)
}

func (s *Server) cacReportRoute() Route {
	s.AddSchema("CACReport", reportSchema(CACReport{}))
	return Route{Method: http.MethodGet, Path: "/v1/reports/cac", Roles: ReportRoles, Tags: []string{"reports", "coding"}, Timeout: reportTimeout,
		Summary: "CAC acceptance: accepted and rejected suggestions by code family (ICD-10-CM chapter or ICD-10-PCS section, 3-character category), note type and kind",
		Description: "Counts every decision of POST /v1/encounters/{id}/cac/decisions made from `from` to `to` (UTC dates, inclusive; open ends when absent): " +
			"a suggestion decided twice counts twice. The note type is that of the note of the decision's span.",
		Params:    []Param{{Name: pFrom, Schema: tDate, Description: "first day of decisions, inclusive"}, {Name: pTo, Schema: tDate, Description: "last day of decisions, inclusive"}},
		Responses: reportResponse("CACReport"), Handler: s.handleReportCAC}
}

func (s *Server) handleReportCAC(c *gin.Context) {
	q := &queryReader{c: c}
	q.check([]string{pFrom, pTo})
	from, to := q.date(pFrom), q.date(pTo)
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		q.fail(pTo, "before from")
	}
	if !q.ok() {
		return
	}
	var since, until time.Time
	out := CACReport{ByChapter: []CACRate{}, ByCategory: []CACRate{}, ByNoteType: []CACRate{}, ByKind: []CACRate{}}
	if !from.IsZero() {
		since, out.From = from.Time(), from.String()
	}
	if !to.IsZero() {
		until, out.To = to.Time().AddDate(0, 0, 1), to.String()
	}
	counts, err := s.cfg.Store.CACDecisionCounts(c.Request.Context(), since, until)
	if err != nil {
		WriteError(c, err)
		return
	}
	chapters, categories, noteTypes, kinds := map[string]*CACRate{}, map[string]*CACRate{}, map[string]*CACRate{}, map[string]*CACRate{}
	group := func(m map[string]*CACRate, key, title string) *CACRate {
		r := m[key]
		if r == nil {
			r = &CACRate{Key: key, Title: title}
			m[key] = r
		}
		return r
	}
	for _, n := range counts {
		f, err := cac.FamilyOf(n.Code, n.Kind == "procedure")
		if err != nil {
			WriteError(c, err)
			return
		}
		out.Total.add(n.Decision, n.N)
		group(chapters, f.Chapter, f.ChapterTitle).add(n.Decision, n.N)
		group(categories, f.Category, "").add(n.Decision, n.N)
		group(noteTypes, n.NoteType, "").add(n.Decision, n.N)
		group(kinds, n.Kind, "").add(n.Decision, n.N)
	}
	// Most decided first, then by key.
	sorted := func(m map[string]*CACRate) []CACRate {
		l := make([]CACRate, 0, len(m))
		for _, r := range m {
			l = append(l, *r)
		}
		slices.SortFunc(l, func(a, b CACRate) int { return cmp.Or(b.Decisions-a.Decisions, cmp.Compare(a.Key, b.Key)) })
		return l
	}
	out.ByChapter, out.ByCategory, out.ByNoteType, out.ByKind = sorted(chapters), sorted(categories), sorted(noteTypes), sorted(kinds)
	c.JSON(http.StatusOK, out)
}
