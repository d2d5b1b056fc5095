package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/casemix"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/store"
	"github.com/msdrg-cdi/drg/tables"
)

// Case-mix and finance reports (GET /v1/reports/...): the casemix package's reports over the
// final-coded encounters of the store, JSON by default and CSV with Accept: text/csv (or
// format=csv).

// ReportRoles may read the case-mix and finance reports.
var ReportRoles = []store.Role{store.RoleFinance, store.RoleAdmin}

// reportTimeout bounds one report request (a report reads every encounter of its range).
const reportTimeout = 5 * time.Minute

// reportReq is the parsed query of a report request.
type reportReq struct {
	filter   casemix.Filter
	weights  casemix.Weights
	baseRate float64
	csv      bool
	// allStatuses: the report reads every discharged encounter, not only final-coded ones
	// (no not-final count).
	allStatuses bool
}

// queryReader reads query parameters, keeping the first problem.
type queryReader struct {
	c   *gin.Context
	err *FieldError
}

func (q *queryReader) fail(name, msg string) {
	if q.err == nil {
		q.err = &FieldError{Field: name, Message: msg}
	}
}

// check rejects parameters not in allowed (a misspelled filter must not silently widen a
// report).
func (q *queryReader) check(allowed []string) {
	for _, k := range slices.Sorted(maps.Keys(q.c.Request.URL.Query())) {
		if !slices.Contains(allowed, k) {
			q.fail(k, "unknown parameter: this report takes "+strings.Join(allowed, ", "))
		}
	}
}

func (q *queryReader) date(name string) claim.Date {
	s := q.c.Query(name)
	if s == "" {
		return claim.Date{}
	}
	d, err := claim.ParseDate(s)
	if err != nil {
		q.fail(name, err.Error())
	}
	return d
}

func (q *queryReader) int(name string, def, lo, hi int) int {
	s := q.c.Query(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		q.fail(name, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
	}
	return n
}

func (q *queryReader) float(name string, lo, hi float64) float64 {
	s := q.c.Query(name)
	if s == "" {
		return 0
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x < lo || x > hi {
		q.fail(name, fmt.Sprintf("must be a number from %g to %g", lo, hi))
	}
	return x
}

// list reads a parameter given as a comma-separated list, repeated, or both.
func (q *queryReader) list(name string) []string {
	var out []string
	for _, v := range q.c.QueryArray(name) {
		for part := range strings.SplitSeq(v, ",") {
			if p := strings.TrimSpace(part); p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// ok writes a 400 problem for the first bad parameter.
func (q *queryReader) ok() bool {
	if q.err != nil {
		WriteProblem(q.c, http.StatusBadRequest, KindMalformed, q.err.Field+": "+q.err.Message, q.err)
		return false
	}
	return true
}

// Report query parameters.
const (
	pFrom, pTo, pFacility, pPayer, pServiceLine, pProvider = "from", "to", "facility", "payer", "service_line", "provider"
	pWeightsYear, pBaseRate, pFormat                       = "weights_year", "base_rate", "format"
)

// filterParams are the filter parameters every discharge report takes.
var filterParams = []string{pFrom, pTo, pFacility, pPayer, pServiceLine, pProvider, pFormat}

// weighedParams are the parameters of the reports that weigh DRGs.
var weighedParams = append(slices.Clone(filterParams), pWeightsYear, pBaseRate)

// reportRequest parses the common parameters of a report; allowed lists every parameter the
// report takes (extra ones are read by the handler with q).
func (s *Server) reportRequest(c *gin.Context, allowed []string) (*reportReq, *queryReader) {
	q := &queryReader{c: c}
	q.check(allowed)
	r := &reportReq{}
	r.filter.From, r.filter.To = q.date(pFrom), q.date(pTo)
	r.filter.Facilities, r.filter.Payers = q.list(pFacility), q.list(pPayer)
	r.filter.ServiceLines, r.filter.Providers = q.list(pServiceLine), q.list(pProvider)
	if err := r.filter.Validate(); err != nil {
		q.fail(pTo, err.Error())
	}
	r.weights = casemix.Weights{Tables: s.cfg.Catalog.Weights, Transfer: s.cfg.Catalog.Transfer}
	if slices.Contains(allowed, pWeightsYear) {
		r.weights.Year = q.int(pWeightsYear, 0, 1990, 2100)
		if q.err == nil {
			if err := r.weights.Validate(); err != nil {
				q.fail(pWeightsYear, err.Error())
			}
		}
		r.baseRate = q.float(pBaseRate, 0, 1e9)
	}
	switch f := strings.ToLower(c.Query(pFormat)); f {
	case "csv":
		r.csv = true
	case "json":
	case "":
		r.csv = acceptsCSV(c.GetHeader("Accept"))
	default:
		q.fail(pFormat, "must be json or csv")
	}
	return r, q
}

// acceptsCSV reports whether an Accept header asks for text/csv (before JSON when it lists
// both).
func acceptsCSV(accept string) bool {
	csvAt, jsonAt := -1, -1
	for i, part := range strings.Split(accept, ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case "text/csv":
			if csvAt < 0 {
				csvAt = i
			}
		case "application/json":
			if jsonAt < 0 {
				jsonAt = i
			}
		}
	}
	return csvAt >= 0 && (jsonAt < 0 || csvAt < jsonAt)
}

// reportNotes are the sentences a report adds to its JSON ("notes") and CSV (X-Report-Note
// headers), and the count of discharged encounters not yet final-coded.
type reportNotes struct {
	notes    []string
	notFinal int64
}

func (n *reportNotes) add(format string, args ...any) {
	n.notes = append(n.notes, fmt.Sprintf(format, args...))
}

// merge appends the notes of o.
func (n *reportNotes) merge(o *reportNotes) { n.notes = append(n.notes, o.notes...) }

// common adds the notes every report has: the encounters of the range left out because they
// are not final-coded, and the excluded discharges.
func (s *Server) commonNotes(c *gin.Context, rq *reportReq, span casemix.Period, exc *casemix.Exclusions) (*reportNotes, error) {
	n := &reportNotes{}
	if !rq.allStatuses {
		var err error
		if n.notFinal, err = s.countNotFinal(c, rq.filter, span); err != nil {
			return nil, err
		}
	}
	if n.notFinal > 0 {
		n.add("%d discharged encounters of the date range are not final-coded and are not in this report", n.notFinal)
	}
	if exc != nil {
		loaded := slices.Sorted(maps.Keys(s.cfg.Catalog.Weights))
		for _, fy := range slices.Sorted(maps.Keys(exc.MissingYears)) {
			n.add("%d discharges of FY%d excluded: Table 5 weights of FY%d are not loaded (loaded: %s); no other year is used unless weights_year is given",
				exc.MissingYears[fy], fy, fy, yearsText(loaded))
		}
		if len(exc.NoWeight) > 0 {
			var parts []string
			total := 0
			for _, drg := range slices.Sorted(maps.Keys(exc.NoWeight)) {
				parts = append(parts, fmt.Sprintf("%03d: %d", drg, exc.NoWeight[drg]))
				total += exc.NoWeight[drg]
			}
			n.add("%d discharges excluded: final DRG without a Table 5 weight (%s)", total, strings.Join(parts, ", "))
		}
		if exc.NoDate > 0 {
			n.add("%d discharges excluded: no discharge date", exc.NoDate)
		}
	}
	if rq.baseRate > 0 {
		n.add("estimated payment = relative weight x base rate %.2f: an estimate only, without wage index, outlier, transfer, IME, DSH or any other IPPS adjustment", rq.baseRate)
	}
	return n, nil
}

// countNotFinal counts the discharged encounters of the span that pass the filter and are not
// final-coded: in the database when every attribute has at most one value, else by a scan.
func (s *Server) countNotFinal(c *gin.Context, flt casemix.Filter, span casemix.Period) (int64, error) {
	sf := storeFilter(flt, span)
	sf.Status = store.StatusDischarged
	if len(flt.Facilities) <= 1 && len(flt.Payers) <= 1 && len(flt.ServiceLines) <= 1 && len(flt.Providers) <= 1 {
		return s.cfg.Store.CountEncounters(c.Request.Context(), sf)
	}
	var n int64
	err := s.cfg.Store.ScanEncounters(c.Request.Context(), sf, reportPageSize, false, func(page []*store.Encounter) error {
		for _, e := range page {
			if d := dischargeOf(e); flt.MatchAttrs(&d) {
				n++
			}
		}
		return nil
	})
	return n, err
}

func yearsText(ys []int) string {
	if len(ys) == 0 {
		return "none"
	}
	parts := make([]string, len(ys))
	for i, y := range ys {
		parts[i] = "FY" + strconv.Itoa(y)
	}
	return strings.Join(parts, ", ")
}

// csvWriter is what every report can write as CSV.
type csvWriter interface{ WriteCSV(w io.Writer) error }

// writeReport answers with the report: JSON (its fields, then "notes" and "not_final_coded")
// or CSV (the report's WriteCSV, the notes as X-Report-Note headers).
func writeReport(c *gin.Context, rq *reportReq, name string, rep csvWriter, n *reportNotes) {
	if n == nil {
		n = &reportNotes{}
	}
	if rq.csv {
		var buf bytes.Buffer
		if err := rep.WriteCSV(&buf); err != nil {
			WriteError(c, err)
			return
		}
		for _, note := range n.notes {
			c.Writer.Header().Add("X-Report-Note", note)
		}
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, reportFileName(name, rq.filter.Period)))
		c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
		return
	}
	b, err := json.Marshal(rep)
	if err != nil {
		WriteError(c, fmt.Errorf("encode report: %w", err))
		return
	}
	notes := n.notes
	if notes == nil {
		notes = []string{}
	}
	extra, _ := json.Marshal(struct {
		Notes    []string `json:"notes"`
		NotFinal int64    `json:"not_final_coded"`
	}{notes, n.notFinal})
	c.Data(http.StatusOK, "application/json; charset=utf-8", spliceJSON(b, extra))
}

// spliceJSON appends the fields of object extra to object b.
func spliceJSON(b, extra []byte) []byte {
	b = bytes.TrimRight(b, " \n")
	inner := bytes.TrimSuffix(bytes.TrimPrefix(extra, []byte("{")), []byte("}"))
	if len(inner) == 0 {
		return b
	}
	out := append([]byte{}, b[:len(b)-1]...)
	if !bytes.HasSuffix(bytes.TrimSpace(out), []byte("{")) {
		out = append(out, ',')
	}
	out = append(out, inner...)
	return append(out, '}')
}

func reportFileName(name string, p casemix.Period) string {
	s := "drg-" + name
	if !p.From.IsZero() {
		s += "_" + p.From.String()
	}
	if !p.To.IsZero() {
		s += "_to_" + p.To.String()
	}
	return s + ".csv"
}

// badOption answers 400 for an option the casemix constructors refuse.
func badOption(c *gin.Context, err error) {
	WriteProblem(c, http.StatusBadRequest, KindMalformed, err.Error())
}

func (s *Server) handleReportCMI(c *gin.Context) {
	rq, q := s.reportRequest(c, append(slices.Clone(weighedParams), "by"))
	dims, err := casemix.ParseDimensions(strings.Join(q.list("by"), ","))
	if err != nil {
		q.fail("by", err.Error())
	}
	if !q.ok() {
		return
	}
	b, err := casemix.NewCMIBuilder(casemix.CMIOptions{Filter: rq.filter, Weights: rq.weights, By: dims, BaseRate: rq.baseRate})
	if err != nil {
		badOption(c, err)
		return
	}
	s.serveReport(c, rq, "cmi", rq.filter.Period, scanNeeds{}, b.Add, func(*reportNotes) (csvWriter, *casemix.Exclusions) {
		r := b.Report()
		return r, &r.Excluded
	})
}

// serveReport feeds the discharges of span to add, then writes the report finish returns with
// the common notes (on its exclusions, if any) and those finish adds.
func (s *Server) serveReport(c *gin.Context, rq *reportReq, name string, span casemix.Period, needs scanNeeds,
	add func(*casemix.Discharge), finish func(n *reportNotes) (csvWriter, *casemix.Exclusions)) {
	if _, err := s.scanDischarges(c.Request.Context(), rq.filter, span, needs, add); err != nil {
		WriteError(c, err)
		return
	}
	extra := &reportNotes{}
	r, excluded := finish(extra)
	n, err := s.commonNotes(c, rq, rq.filter.Period, excluded)
	if err != nil {
		WriteError(c, err)
		return
	}
	n.merge(extra)
	writeReport(c, rq, name, r, n)
}

func (s *Server) handleReportDRGMix(c *gin.Context) {
	rq, q := s.reportRequest(c, append(slices.Clone(weighedParams), "top", "prior_from", "prior_to"))
	top := q.int("top", 10, 1, 200)
	prior := casemix.Period{From: q.date("prior_from"), To: q.date("prior_to")}
	if prior.From.IsZero() != prior.To.IsZero() {
		q.fail("prior_to", "give both prior_from and prior_to, or neither (default: the period of the same length before from..to)")
	}
	if !q.ok() {
		return
	}
	opt := casemix.DRGMixOptions{Filter: rq.filter, Weights: rq.weights, Prior: prior, Top: top, BaseRate: rq.baseRate,
		Titles: casemix.DRGTitles(s.cfg.Catalog.MSDRG, s.newestVersion())}
	b, err := casemix.NewDRGMixBuilder(opt)
	if err != nil {
		badOption(c, err)
		return
	}
	span := rq.filter.Period
	if prior.IsZero() {
		prior, _ = rq.filter.Period.Prior()
	}
	if !prior.IsZero() {
		span = union(span, prior)
	}
	s.serveReport(c, rq, "drg-mix", span, scanNeeds{}, b.Add, func(n *reportNotes) (csvWriter, *casemix.Exclusions) {
		r := b.Report()
		if r.Prior == nil {
			n.add("no prior period: give a bounded from..to, or prior_from and prior_to")
		}
		return r, &r.Excluded
	})
}

// union returns the smallest period covering a and b (an open end stays open).
func union(a, b casemix.Period) casemix.Period {
	u := a
	if a.From.IsZero() || b.From.IsZero() {
		u.From = claim.Date{}
	} else if b.From.Before(a.From) {
		u.From = b.From
	}
	if a.To.IsZero() || b.To.IsZero() {
		u.To = claim.Date{}
	} else if a.To.Before(b.To) {
		u.To = b.To
	}
	return u
}

func (s *Server) newestVersion() tables.Version {
	vs := s.cfg.Catalog.MSDRG.Versions
	if len(vs) == 0 {
		return 0
	}
	return vs[len(vs)-1]
}

func (s *Server) handleReportSeverity(c *gin.Context) {
	rq, q := s.reportRequest(c, filterParams)
	if !q.ok() {
		return
	}
	b, err := casemix.NewSeverityBuilder(casemix.SeverityOptions{Filter: rq.filter, Families: s.families()})
	if err != nil {
		badOption(c, err)
		return
	}
	s.serveReport(c, rq, "severity", rq.filter.Period, scanNeeds{}, b.Add, func(*reportNotes) (csvWriter, *casemix.Exclusions) {
		return b.Report(), nil
	})
}

// cdiNotes explains where the CDI figures come from.
func cdiNotes(n *reportNotes) {
	n.add("an encounter is CDI-reviewed when a CDI specialist grouped it (or applied a query answer) before final coding; its CDI working DRG and codes are those the specialist's last such change left (from the audit log), its baseline its first grouping")
}

func (s *Server) handleReportCDIImpact(c *gin.Context) {
	rq, q := s.reportRequest(c, weighedParams)
	if !q.ok() {
		return
	}
	b, err := casemix.NewCDIImpactBuilder(casemix.CDIOptions{Filter: rq.filter, Weights: rq.weights, BaseRate: rq.baseRate})
	if err != nil {
		badOption(c, err)
		return
	}
	s.serveReport(c, rq, "cdi-impact", rq.filter.Period, scanNeeds{cdi: true}, b.Add, func(n *reportNotes) (csvWriter, *casemix.Exclusions) {
		cdiNotes(n)
		r := b.Report()
		return r, &r.Excluded
	})
}

func (s *Server) handleReportMismatches(c *gin.Context) {
	rq, q := s.reportRequest(c, weighedParams)
	if !q.ok() {
		return
	}
	b, err := casemix.NewMismatchBuilder(casemix.MismatchOptions{Filter: rq.filter, Weights: rq.weights, BaseRate: rq.baseRate})
	if err != nil {
		badOption(c, err)
		return
	}
	s.serveReport(c, rq, "mismatches", rq.filter.Period, scanNeeds{cdi: true}, b.Add, func(n *reportNotes) (csvWriter, *casemix.Exclusions) {
		cdiNotes(n)
		r := b.Report()
		return r, &r.Excluded
	})
}

func (s *Server) handleReportDistribution(c *gin.Context) {
	allowed := []string{pTo, pFacility, pPayer, pServiceLine, pProvider, pFormat, "period", "history", "threshold", "percentile", "min_discharges"}
	rq, q := s.reportRequest(c, allowed)
	period := casemix.ByQuarter
	if p := c.Query("period"); p != "" {
		d, err := casemix.ParseDimension(p)
		if err != nil || (d != casemix.ByMonth && d != casemix.ByQuarter && d != casemix.ByFiscalYear) {
			q.fail("period", "must be month, quarter or fy")
		}
		period = d
	}
	opt := casemix.DistributionOptions{Filter: rq.filter, Families: s.families(), Period: period,
		History: q.int("history", 4, 1, 40), Threshold: q.float("threshold", 0.0001, 0.9999),
		Percentile: q.float("percentile", 1, 100), MinDischarges: q.int("min_discharges", 11, 1, 1000000)}
	if !q.ok() {
		return
	}
	if opt.Filter.To.IsZero() {
		now := s.cfg.Now().UTC()
		opt.Filter.To = claim.Date{Year: now.Year(), Month: now.Month(), Day: now.Day()}
	}
	b, err := casemix.NewDistributionBuilder(opt)
	if err != nil {
		badOption(c, err)
		return
	}
	span := b.Span()
	st, err := s.scanDischarges(c.Request.Context(), rq.filter, span, scanNeeds{ccmcc: true}, b.Add)
	if err != nil {
		WriteError(c, err)
		return
	}
	rq.filter.Period = span
	n, err := s.commonNotes(c, rq, span, nil)
	if err != nil {
		WriteError(c, err)
		return
	}
	n.add("single_cc_mcc counts the secondary diagnoses that counted as CC or MCC when the final codes are regrouped with the final DRG's grouper version")
	if st.regroupErr > 0 {
		n.add("%d discharges whose final codes could not be regrouped have an unknown CC/MCC count", st.regroupErr)
	}
	writeReport(c, rq, "distribution", b.Report(), n)
}

func (s *Server) handleReportVersionImpact(c *gin.Context) {
	rq, q := s.reportRequest(c, append(slices.Clone(weighedParams), "from_version", "to_version", "codes", "top"))
	vs := s.cfg.Catalog.MSDRG.Versions
	version := func(name string, def tables.Version) tables.Version {
		s := c.Query(name)
		if s == "" {
			return def
		}
		v, err := tables.ParseVersion(s)
		if err != nil {
			q.fail(name, err.Error())
			return 0
		}
		if !slices.Contains(vs, v) {
			q.fail(name, fmt.Sprintf("grouper version %s is not loaded (loaded: %v)", v, vs))
		}
		return v
	}
	var defTo, defFrom tables.Version
	if n := len(vs); n > 0 {
		defTo = vs[n-1]
		defFrom = defTo
		if n > 1 {
			defFrom = vs[n-2]
		}
	}
	to := version("to_version", defTo)
	from := version("from_version", defFrom)
	codes := c.DefaultQuery("codes", "final")
	if codes != "final" && codes != "working" {
		q.fail("codes", "must be final (final-coded encounters, their final codes) or working (every discharged encounter, its working codes)")
	}
	top := q.int("top", 20, 1, 500)
	if !q.ok() {
		return
	}
	year := rq.weights.Year
	if year == 0 {
		year = tables.VersionFiscalYear(to)
	}
	w := s.cfg.Catalog.Weights[year]
	if w == nil {
		WriteProblem(c, http.StatusBadRequest, KindMalformed,
			fmt.Sprintf("Table 5 weights of FY%d (the year of version %s) are not loaded (loaded: %s): give weights_year to weigh both versions with a loaded year",
				year, to, yearsText(slices.Sorted(maps.Keys(s.cfg.Catalog.Weights)))),
			&FieldError{Field: pWeightsYear, Message: fmt.Sprintf("FY%d is not loaded", year)})
		return
	}
	opt := casemix.VersionImpactOptions{From: from, To: to, Weights: w, Period: rq.filter.Period, Top: top, BaseRate: rq.baseRate,
		Titles: casemix.DRGTitles(s.cfg.Catalog.MSDRG, to)}
	b, err := casemix.NewVersionImpactBuilder(opt)
	if err != nil {
		badOption(c, err)
		return
	}
	sf := storeFilter(rq.filter, rq.filter.Period)
	if codes == "final" {
		sf.Status = store.StatusFinal
	}
	skipped, regrouped := 0, 0
	err = s.cfg.Store.ScanEncounters(c.Request.Context(), sf, reportPageSize, true, func(page []*store.Encounter) error {
		for _, e := range page {
			if e.DischargeDate.IsZero() || (codes == "final" && e.FinalCodes == nil) {
				continue
			}
			d := dischargeOf(e)
			if !rq.filter.MatchAttrs(&d) {
				continue
			}
			cs := &e.Codes
			if codes == "final" {
				cs = e.FinalCodes
			}
			if err := b.Group(s.grouper, e.Claim(cs)); err != nil {
				skipped++
				continue
			}
			regrouped++
		}
		return c.Request.Context().Err()
	})
	if err != nil {
		WriteError(c, err)
		return
	}
	rq.allStatuses = codes == "working"
	n, err := s.commonNotes(c, rq, rq.filter.Period, nil)
	if err != nil {
		WriteError(c, err)
		return
	}
	n.add("%d encounters regrouped with their %s codes under v%s and v%s; both weighed with Table 5 FY%d", regrouped, codes, from, to, year)
	if skipped > 0 {
		n.add("%d encounters skipped: their codes cannot be grouped (e.g. no principal diagnosis)", skipped)
	}
	writeReport(c, rq, "version-impact", b.Report(), n)
}

// reportSchema returns the documented schema of a report: the casemix report's fields and
// the notes every report adds.
func reportSchema(v any) Schema {
	s := schemaOf(v)
	props := s["properties"].(Schema)
	props["notes"] = Schema{"type": "array", "items": tString, "description": "what the figures leave out and how they were made (missing weight years, exclusions, estimates)"}
	props["not_final_coded"] = Schema{"type": "integer", "description": "discharged encounters of the date range not yet final-coded (not in the report)"}
	s["required"] = append(s["required"].([]string), "notes", "not_final_coded")
	return s
}

// reportResponse documents a report's 200: JSON and CSV.
func reportResponse(schema string) map[int]Response {
	return map[int]Response{
		http.StatusOK: {Description: "the report (JSON; CSV with Accept: text/csv or format=csv, notes in X-Report-Note headers)",
			Content: map[string]Schema{"application/json": Ref(schema), "text/csv": {"type": "string"}},
			Headers: map[string]string{"X-Report-Note": "CSV only: one header per note (see notes in the JSON)"}},
		http.StatusBadRequest: {Description: "a parameter is malformed or refused (unknown parameter, reversed dates, weights year not loaded)", Content: problemContent},
	}
}

// Parameter documentation of the reports.
var (
	reportFilterDocs = []Param{
		{Name: pFrom, Schema: tDate, Description: "first discharge date, inclusive"},
		{Name: pTo, Schema: tDate, Description: "last discharge date, inclusive"},
		{Name: pFacility, Schema: tString, Description: "only these facilities (comma-separated or repeated)"},
		{Name: pPayer, Schema: tString, Description: "only these payers (comma-separated or repeated)"},
		{Name: pServiceLine, Schema: tString, Description: "only these service lines (comma-separated or repeated)"},
		{Name: pProvider, Schema: tString, Description: "only these attending providers, by id (comma-separated or repeated)"},
		{Name: pFormat, Schema: Schema{"enum": []string{"json", "csv"}}, Description: "overrides the Accept header"},
	}
	reportWeightDocs = []Param{
		{Name: pWeightsYear, Schema: tInt, Description: "weigh every discharge with this fiscal year's Table 5 (must be loaded); default: each discharge's own fiscal year, whose discharges are excluded and named in notes when it is not loaded"},
		{Name: pBaseRate, Schema: tNum, Description: "add estimated payment = relative weight × this base rate (an estimate: no wage index, outlier, transfer or other adjustment)"},
	}
)

func weighedDocs(extra ...Param) []Param {
	return append(append(slices.Clone(reportFilterDocs), reportWeightDocs...), extra...)
}

// reportRoutes is the route table of the reports.
func (s *Server) reportRoutes() []Route {
	for name, v := range map[string]any{
		"CMIReport": casemix.CMIReport{}, "DRGMixReport": casemix.DRGMixReport{}, "SeverityReport": casemix.SeverityReport{},
		"CDIImpactReport": casemix.CDIImpactReport{}, "MismatchReport": casemix.MismatchReport{},
		"DistributionReport": casemix.DistributionReport{}, "VersionImpactReport": casemix.VersionImpactReport{},
	} {
		s.AddSchema(name, reportSchema(v))
	}
	tags := []string{"reports"}
	return []Route{
		{Method: http.MethodGet, Path: "/v1/reports/cmi", Roles: ReportRoles, Tags: tags, Timeout: reportTimeout,
			Summary: "Case mix index overall and by month, quarter, fiscal year, MDC, service line, provider, payer or facility",
			Description: "Over final-coded encounters: discharges, total weight, CMI, medical/surgical split; weights from the Table 5 of each discharge's fiscal year. " +
				"Discharges of a year whose weights are not loaded are excluded and named in excluded.missing_weight_years and notes.",
			Params:    weighedDocs(Param{Name: "by", Schema: tString, Description: "groupings, comma-separated: month, quarter, fy, mdc, service-line, provider, payer, facility"}),
			Responses: reportResponse("CMIReport"), Handler: s.handleReportCMI},
		{Method: http.MethodGet, Path: "/v1/reports/drg-mix", Roles: ReportRoles, Tags: tags, Timeout: reportTimeout,
			Summary: "Top DRGs by volume and by total weight, with the change against the prior period",
			Params: weighedDocs(Param{Name: "top", Schema: tInt, Description: "DRGs per ranking (1–200, default 10)"},
				Param{Name: "prior_from", Schema: tDate, Description: "comparison period (default: the period of the same length before from..to)"},
				Param{Name: "prior_to", Schema: tDate}),
			Responses: reportResponse("DRGMixReport"), Handler: s.handleReportDRGMix},
		{Method: http.MethodGet, Path: "/v1/reports/severity", Roles: ReportRoles, Tags: tags, Timeout: reportTimeout,
			Summary: "Severity capture: share of discharges at each level of every DRG family with severity splits; CC/MCC and MCC capture rates",
			Params:  reportFilterDocs, Responses: reportResponse("SeverityReport"), Handler: s.handleReportSeverity},
		{Method: http.MethodGet, Path: "/v1/reports/cdi-impact", Roles: ReportRoles, Tags: tags, Timeout: reportTimeout,
			Summary: "CDI impact: baseline vs working vs final DRG of CDI-reviewed encounters; weight impact total, per answered query, by specialist and provider",
			Description: "An encounter is CDI-reviewed when a CDI specialist grouped it before final coding; the working DRG is that of the specialist's last grouping. " +
				"An encounter's change is shared by its answered queries (100 % in total).",
			Params: weighedDocs(), Responses: reportResponse("CDIImpactReport"), Handler: s.handleReportCDIImpact},
		{Method: http.MethodGet, Path: "/v1/reports/mismatches", Roles: ReportRoles, Tags: tags, Timeout: reportTimeout,
			Summary: "Coder–CDI mismatches: final DRG differs from the CDI working DRG, by category (PDX change, CC/MCC gained/lost, procedure change, POA change)",
			Params:  weighedDocs(), Responses: reportResponse("MismatchReport"), Handler: s.handleReportMismatches},
		{Method: http.MethodGet, Path: "/v1/reports/distribution", Roles: AllRoles, Tags: tags, Timeout: reportTimeout,
			Summary:     "Severity distribution (PEPPER-style): per DRG family and period, the share at each severity level and resting on a single CC/MCC, against the facility's own history",
			Description: "The current period contains `to` (default today), cut at `to`; the history is the `history` periods before it. A share pointing to higher severity is flagged when it exceeds the history baseline (pooled history share, or the `percentile` of the history periods' shares) by more than `threshold`.",
			Params: []Param{
				{Name: pTo, Schema: tDate, Description: "last discharge date of the current period (default today)"},
				{Name: "period", Schema: Schema{"enum": []string{"month", "quarter", "fy"}}, Description: "period length (default quarter)"},
				{Name: "history", Schema: tInt, Description: "history periods before the current one (1–40, default 4)"},
				{Name: "threshold", Schema: tNum, Description: "flag when current − baseline exceeds this fraction (default 0.05 = 5 points)"},
				{Name: "percentile", Schema: tNum, Description: "baseline = this percentile (1–100) of the history periods' shares (default: the pooled history share)"},
				{Name: "min_discharges", Schema: tInt, Description: "smallest denominator compared, current and history (default 11)"},
				reportFilterDocs[2], reportFilterDocs[3], reportFilterDocs[4], reportFilterDocs[5], reportFilterDocs[6]},
			Responses: reportResponse("DistributionReport"), Handler: s.handleReportDistribution},
		{Method: http.MethodGet, Path: "/v1/reports/version-impact", Roles: ReportRoles, Tags: tags, Timeout: reportTimeout,
			Summary: "Version impact: regroup the stored encounters under two grouper versions; DRG shifts and CMI change with one weight year",
			Params: weighedDocs(
				Param{Name: "from_version", Schema: tString, Description: "baseline grouper version, e.g. 42.1 (default: the second newest loaded)"},
				Param{Name: "to_version", Schema: tString, Description: "compared version, e.g. 43.0 (default: the newest loaded)"},
				Param{Name: "codes", Schema: Schema{"enum": []string{"final", "working"}}, Description: "final: final-coded encounters, their final codes (default); working: every discharged encounter, its working codes"},
				Param{Name: "top", Schema: tInt, Description: "DRG shifts listed (1–500, default 20)"}),
			Responses: reportResponse("VersionImpactReport"), Handler: s.handleReportVersionImpact},
		s.riskReportRoute(),
		s.cacReportRoute(),
	}
}
