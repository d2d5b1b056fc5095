package api

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/audit"
	"github.com/msdrg-cdi/drg/casemix"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/store"
	"github.com/msdrg-cdi/drg/tables"
)

// Coding-accuracy audits (/v1/audits): draw a reproducible sample of final-coded encounters,
// record an auditor's codes for each (regrouped with the case's grouper version and compared
// with the coder's), report the results per coder and per category against the 95 % benchmark,
// and route the findings back to the coders.
//
// Who may do what: auditors are HIM coders (role coder) or administrators. They create
// audits and record auditor codes; nobody records the audit of an encounter they finalized
// themselves. Coders, CDI specialists and administrators read audits; the report is also open
// to finance. A coder reads the findings on their own coding (coder=me); an administrator
// those of any coder. Every change is in the audit log (entities coding_audit and
// coding_audit_case).

// Role sets of the audit routes.
var (
	AuditorRoles      = []store.Role{store.RoleCoder, store.RoleAdmin}
	AuditReadRoles    = []store.Role{store.RoleCoder, store.RoleCDI, store.RoleAdmin}
	AuditReportRoles  = []store.Role{store.RoleCoder, store.RoleCDI, store.RoleFinance, store.RoleAdmin}
	AuditFindingRoles = []store.Role{store.RoleCoder, store.RoleAdmin}
)

// maxSeed keeps seeds exact in JavaScript numbers (2^53 − 1).
const maxSeed = 1<<53 - 1

// AuditInput is the body of POST /v1/audits.
type AuditInput struct {
	Name           string     `json:"name" binding:"max=200"`
	Size           int        `json:"size" binding:"required,min=1,max=1000"`
	Seed           *uint64    `json:"seed" binding:"omitempty,max=9007199254740991"`
	DischargedFrom claim.Date `json:"discharged_from,omitzero"`
	DischargedTo   claim.Date `json:"discharged_to,omitzero"`
	Facility       string     `json:"facility" binding:"max=64"`
	Payer          string     `json:"payer" binding:"max=64"`
	ServiceLine    string     `json:"service_line" binding:"max=64"`
	DRGs           []int      `json:"drgs" binding:"max=200,dive,min=1,max=999"`
	Coders         []string   `json:"coders" binding:"max=200,dive,min=1,max=200"`
	RiskFlag       string     `json:"risk_flag" binding:"omitempty,oneof=single_cc_mcc audited_pdx short_stay_surgical mce_postpayment"`
	CategoryBy     string     `json:"category_by" binding:"omitempty,oneof=mdc service_line drg"`
}

// AuditorInput is the body of PUT /v1/audits/{id}/cases/{encounter_id}: the auditor's codes.
type AuditorInput struct {
	PDX        *store.Code  `json:"pdx" binding:"required"`
	SDX        []store.Code `json:"sdx" binding:"max=24,dive"`
	Procedures []store.Code `json:"procedures" binding:"max=25,dive"`
	Note       string       `json:"note" binding:"max=2000"`
}

func (s *Server) handleCreateAudit(c *gin.Context) {
	var in AuditInput
	body, ok := ReadBody(c)
	if !ok || !DecodeJSONBytes(c, body, &in) {
		return
	}
	if !in.DischargedFrom.IsZero() && !in.DischargedTo.IsZero() && in.DischargedTo.Before(in.DischargedFrom) {
		WriteValidation(c, &FieldError{Field: "discharged_to", Message: "before discharged_from"})
		return
	}
	spec := store.AuditSpec{Size: in.Size, DischargedFrom: in.DischargedFrom, DischargedTo: in.DischargedTo, Facility: in.Facility,
		Payer: in.Payer, ServiceLine: in.ServiceLine, DRGs: in.DRGs, Coders: in.Coders, RiskFlag: in.RiskFlag, CategoryBy: in.CategoryBy}
	if spec.CategoryBy == "" {
		spec.CategoryBy = "mdc"
	}
	if in.Seed != nil {
		spec.Seed = *in.Seed
	} else {
		spec.Seed = rand.Uint64() & maxSeed
	}
	ctx := c.Request.Context()

	// The population: final-coded encounters of the range that meet the targeting.
	var pop []audit.Candidate
	sf := store.EncounterFilter{Status: store.StatusFinal, DischargedFrom: spec.DischargedFrom, DischargedTo: spec.DischargedTo,
		Facility: spec.Facility, Payer: spec.Payer, ServiceLine: spec.ServiceLine}
	err := s.cfg.Store.ScanEncounters(ctx, sf, reportPageSize, spec.RiskFlag != "", func(page []*store.Encounter) error {
		for _, e := range page {
			if e.FinalDRG == nil || (spec.RiskFlag != "" && e.FinalCodes == nil) {
				continue
			}
			cand := audit.Candidate{EncounterID: e.ID, Coder: e.FinalDRG.GroupedBy, DRG: e.FinalDRG.DRG}
			if (len(spec.DRGs) > 0 && !slices.Contains(spec.DRGs, cand.DRG)) || (len(spec.Coders) > 0 && !slices.Contains(spec.Coders, cand.Coder)) {
				continue
			}
			if spec.RiskFlag != "" {
				flags, _, err := s.riskFlags(finalClaim(e))
				if err != nil {
					continue // codes that no longer group carry no flag
				}
				for _, f := range flags {
					if !slices.Contains(cand.RiskFlags, f.Kind) {
						cand.RiskFlags = append(cand.RiskFlags, f.Kind)
					}
				}
				if !slices.Contains(cand.RiskFlags, spec.RiskFlag) {
					continue
				}
			}
			pop = append(pop, cand)
		}
		return ctx.Err()
	})
	if err != nil {
		WriteError(c, err)
		return
	}
	sample := audit.Sample(pop, audit.SampleSpec{Size: spec.Size, Seed: spec.Seed, DRGs: spec.DRGs, Coders: spec.Coders, RiskFlag: spec.RiskFlag})
	a := &store.CodingAudit{Name: in.Name, Spec: spec, Population: len(pop)}
	for i, cand := range sample {
		e, err := s.cfg.Store.GetEncounter(ctx, cand.EncounterID)
		if err != nil {
			WriteError(c, err)
			return
		}
		ac, err := s.coderCase(e)
		if err != nil {
			WriteError(c, err)
			return
		}
		ac.Seq = i + 1
		a.Cases = append(a.Cases, ac)
	}
	created, err := s.cfg.Store.CreateCodingAudit(ctx, ActorFrom(c), a)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("/v1/audits/%d", created.ID))
	c.JSON(http.StatusCreated, created)
}

// finalClaim is the claim of an encounter's final codes with the final DRG's version.
func finalClaim(e *store.Encounter) *claim.Claim {
	cl := e.Claim(e.FinalCodes)
	cl.Version = e.FinalDRG.Version
	return cl
}

// auditCoding returns the audit package's view of a code set grouped to drg with its weight.
func auditCoding(cs *store.Codes, drg int, weight float64) audit.Coding {
	var c audit.Coding
	if cs.PDX != nil {
		c.PDX = claim.Dx{Code: cs.PDX.Code, POA: cs.PDX.POA}
	}
	c.SDX = []claim.Dx{}
	for _, d := range cs.SDX {
		c.SDX = append(c.SDX, claim.Dx{Code: d.Code, POA: d.POA})
	}
	c.Procedures = []claim.Proc{}
	for _, p := range cs.Procedures {
		c.Procedures = append(c.Procedures, claim.Proc{Code: p.Code, Date: p.Date})
	}
	c.DRG, c.Weight = drg, weight
	return c
}

// caseWeight returns the weight of drg in the Table 5 of version's fiscal year and that year
// (0, 0 when it is not loaded).
func (s *Server) caseWeight(version, drg int) (float64, int) {
	w, ok := s.cfg.Catalog.WeightsFor(tables.Version(version))
	if !ok {
		return 0, 0
	}
	row, _ := w.Get(drg)
	return row.Weight, w.FiscalYear
}

// coderCase is the case of a sampled encounter: the coder's final coding, DRG and weight and
// the encounter's denial-risk flags.
func (s *Server) coderCase(e *store.Encounter) (store.AuditCase, error) {
	weight, year := s.caseWeight(e.FinalDRG.Version, e.FinalDRG.DRG)
	ac := store.AuditCase{EncounterID: e.ID, Account: e.Account, Coder: e.FinalDRG.GroupedBy, Version: e.FinalDRG.Version,
		WeightsYear: year, CoderCoding: auditCoding(e.FinalCodes, e.FinalDRG.DRG, weight), CoderMDC: e.FinalDRG.MDC,
		ServiceLine: e.ServiceLine}
	if flags, _, err := s.riskFlags(finalClaim(e)); err == nil {
		ac.RiskFlags = flags
	}
	return ac, nil
}

// auditID reads the {id} path parameter; a malformed id is a 404 (no such audit).
func auditID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		WriteProblem(c, http.StatusNotFound, KindNotFound, "audit not found: ids are positive integers")
		return 0, false
	}
	return id, true
}

func (s *Server) handleListAudits(c *gin.Context) {
	var q struct {
		Limit  int    `form:"limit" binding:"omitempty,min=1,max=1000"`
		Cursor string `form:"cursor" binding:"max=200"`
	}
	if !bindQuery(c, &q) {
		return
	}
	items, next, err := s.cfg.Store.ListCodingAudits(c.Request.Context(), q.Limit, q.Cursor)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": next})
}

func (s *Server) handleGetAudit(c *gin.Context) {
	id, ok := auditID(c)
	if !ok {
		return
	}
	a, err := s.cfg.Store.GetCodingAudit(c.Request.Context(), id)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

// errOwnCase refuses an auditor their own coding.
var errOwnCase = errors.New("own case")

func (s *Server) handleRecordAuditCase(c *gin.Context) {
	id, ok := auditID(c)
	if !ok {
		return
	}
	want, ok := requireVersion(c, "audit case (its row_version)")
	if !ok {
		return
	}
	var in AuditorInput
	body, ok := ReadBody(c)
	if !ok || !decodeStrict(c, body, &in) {
		return
	}
	cs := store.Codes{PDX: in.PDX, SDX: in.SDX, Procedures: in.Procedures}
	cs.Normalize()
	in.PDX, in.SDX, in.Procedures = cs.PDX, cs.SDX, cs.Procedures
	if !Validate(c, &in) {
		return
	}
	ctx := c.Request.Context()
	a, err := s.cfg.Store.GetCodingAudit(ctx, id)
	if err != nil {
		WriteError(c, err)
		return
	}
	encID := c.Param("encounter_id")
	i := slices.IndexFunc(a.Cases, func(x store.AuditCase) bool { return x.EncounterID == encID })
	if i < 0 {
		WriteProblem(c, http.StatusNotFound, KindNotFound, fmt.Sprintf("encounter %s is not in the sample of audit %d", encID, id))
		return
	}
	actor := ActorFrom(c)
	if a.Cases[i].Coder == actor.Name {
		WriteProblem(c, http.StatusForbidden, KindForbidden, "an auditor may not audit their own coding: another auditor must record this case")
		return
	}
	e, err := s.cfg.Store.GetEncounter(ctx, encID)
	if err != nil {
		WriteError(c, err)
		return
	}
	cl := e.Claim(&cs)
	cl.Version = a.Cases[i].Version
	r, err := s.grouper.Group(cl, grouper.Options{})
	if err != nil {
		var uv *grouper.UnknownVersionError
		if errors.As(err, &uv) {
			err = &claim.FieldError{Field: "version", Message: err.Error()}
		}
		WriteError(c, err)
		return
	}
	weight, _ := s.caseWeight(r.Version, r.Final.DRG)
	auditor := auditCoding(&cs, r.Final.DRG, weight)
	category := ""
	switch a.Spec.CategoryBy {
	case "service_line":
		category = casemix.NoValue
		if e.ServiceLine != "" {
			category = e.ServiceLine
		}
	case "drg":
		category = fmt.Sprintf("%03d", r.Final.DRG)
	default:
		category = fmt.Sprintf("MDC %02d", r.Final.MDC)
	}
	at := nowMicro(s.cfg.Now)
	updated, err := s.cfg.Store.UpdateAuditCase(ctx, actor, id, encID, "record", func(ac *store.AuditCase) error {
		if ac.Coder == actor.Name {
			return errOwnCase
		}
		if ac.RowVersion != want {
			return fmt.Errorf("%w: audit case is at row version %d, not %d", store.ErrVersionMismatch, ac.RowVersion, want)
		}
		cmp := audit.Compare(ac.CoderCoding, auditor)
		ac.Status, ac.AuditorCoding, ac.AuditorMDC, ac.Comparison = store.CaseAudited, &auditor, r.Final.MDC, &cmp
		ac.Category, ac.Auditor, ac.AuditedAt, ac.Note = category, actor.Name, &at, in.Note
		return nil
	})
	if errors.Is(err, errOwnCase) {
		WriteProblem(c, http.StatusForbidden, KindForbidden, "an auditor may not audit their own coding")
		return
	}
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("ETag", versionTag(updated.RowVersion))
	c.JSON(http.StatusOK, updated)
}

// AuditReport is the answer of GET /v1/audits/{id}/report: the audit's results overall, per
// coder and per category (the audit package's Report) with the sample's progress and one line
// per audited case.
type AuditReport struct {
	AuditID int64  `json:"audit_id"`
	Name    string `json:"name"`
	Size    int    `json:"size"`
	Audited int    `json:"audited"`
	Pending int    `json:"pending"`
	audit.Report
	Cases []AuditReportCase `json:"cases"`
}

// AuditReportCase is one audited case in a report.
type AuditReportCase struct {
	EncounterID string  `json:"encounter_id"`
	Coder       string  `json:"coder"`
	Auditor     string  `json:"auditor"`
	Category    string  `json:"category"`
	CoderDRG    int     `json:"coder_drg"`
	AuditorDRG  int     `json:"auditor_drg"`
	DRGAgree    bool    `json:"drg_agree"`
	PDXAgree    bool    `json:"pdx_agree"`
	WeightDiff  float64 `json:"weight_diff"`
	Findings    int     `json:"findings"`
}

func (s *Server) handleAuditReport(c *gin.Context) {
	id, ok := auditID(c)
	if !ok {
		return
	}
	q := &queryReader{c: c}
	q.check([]string{pFormat})
	wantCSV := acceptsCSV(c.GetHeader("Accept"))
	switch c.Query(pFormat) {
	case "csv":
		wantCSV = true
	case "json":
		wantCSV = false
	case "":
	default:
		q.fail(pFormat, "must be json or csv")
	}
	if !q.ok() {
		return
	}
	a, err := s.cfg.Store.GetCodingAudit(c.Request.Context(), id)
	if err != nil {
		WriteError(c, err)
		return
	}
	r := AuditReport{AuditID: a.ID, Name: a.Name, Size: a.Size, Audited: a.Audited, Pending: a.Size - a.Audited, Cases: []AuditReportCase{}}
	var cases []audit.Case
	for _, ac := range a.Cases {
		if ac.Status != store.CaseAudited || ac.Comparison == nil {
			continue
		}
		cases = append(cases, audit.Case{EncounterID: ac.EncounterID, Coder: ac.Coder, Category: ac.Category, Comparison: *ac.Comparison})
		r.Cases = append(r.Cases, AuditReportCase{EncounterID: ac.EncounterID, Coder: ac.Coder, Auditor: ac.Auditor, Category: ac.Category,
			CoderDRG: ac.CoderCoding.DRG, AuditorDRG: ac.AuditorCoding.DRG, DRGAgree: ac.Comparison.DRGAgree, PDXAgree: ac.Comparison.PDXAgree,
			WeightDiff: ac.Comparison.WeightDiff, Findings: len(ac.Comparison.Findings)})
	}
	r.Report = audit.Summarize(cases)
	if wantCSV {
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="drg-audit-%d.csv"`, a.ID))
		c.Status(http.StatusOK)
		c.Header("Content-Type", "text/csv; charset=utf-8")
		if err := r.WriteCSV(c.Writer); err != nil {
			Logger(c).WarnContext(c.Request.Context(), "write audit report", "err", err.Error())
		}
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) handleAuditFindings(c *gin.Context) {
	var q struct {
		Coder  string `form:"coder" binding:"max=200"`
		Limit  int    `form:"limit" binding:"omitempty,min=1,max=1000"`
		Cursor string `form:"cursor" binding:"max=200"`
	}
	if !bindQuery(c, &q) {
		return
	}
	u, _ := UserFrom(c)
	coder := q.Coder
	if coder == "" || coder == "me" {
		coder = u.Name
	}
	if coder != u.Name && u.Role != store.RoleAdmin {
		WriteProblem(c, http.StatusForbidden, KindForbidden, "coders read the findings on their own coding only (coder=me)")
		return
	}
	items, next, err := s.cfg.Store.ListAuditCases(c.Request.Context(), store.AuditCaseFilter{Coder: coder, Status: store.CaseAudited}, q.Limit, q.Cursor)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"coder": coder, "items": items, "next_cursor": next})
}

// auditRoutes is the route table of the coding-accuracy audits.
func (s *Server) auditRoutes() []Route {
	s.AddSchema("AuditInput", func() Schema {
		sc := schemaOf(AuditInput{})
		sc["required"] = []string{"size"}
		sc["additionalProperties"] = false
		props := sc["properties"].(Schema)
		props["size"] = Schema{"type": "integer", "minimum": 1, "maximum": 1000, "description": "cases to draw (all eligible when fewer)"}
		props["seed"] = Schema{"type": "integer", "minimum": 0, "maximum": maxSeed, "description": "seed of the draw (default: random, recorded in spec.seed)"}
		props["drgs"] = Schema{"type": "array", "items": tInt, "description": "only encounters whose final DRG is one of these"}
		props["coders"] = Schema{"type": "array", "items": tString, "description": "only encounters finalized by these users (names)"}
		props["risk_flag"] = Schema{"enum": []string{audit.RiskSingleCCMCC, audit.RiskAuditedPDX, audit.RiskShortStay, audit.RiskMCEPostPayment}, "description": "only encounters with this denial-risk flag"}
		props["category_by"] = Schema{"enum": []string{"mdc", "service_line", "drg"}, "description": "per-category results by the auditor's MDC (default), the service line or the auditor's DRG"}
		return sc
	}())
	s.AddSchema("AuditorInput", func() Schema {
		sc := obj([]string{"pdx"}, Schema{"pdx": Ref("Code"), "sdx": Schema{"type": "array", "items": Ref("Code"), "maxItems": 24},
			"procedures": Schema{"type": "array", "items": Ref("Code"), "maxItems": 25}, "note": tString})
		sc["additionalProperties"] = false
		return sc
	}())
	s.AddSchema("CodingAudit", schemaOf(store.CodingAudit{}))
	s.AddSchema("AuditCase", schemaOf(store.AuditCase{}))
	s.AddSchema("AuditReport", schemaOf(AuditReport{}))
	auditIDParam := Param{Name: "id", In: "path", Required: true, Schema: tInt, Description: "audit id"}
	tags := []string{"audits"}
	return []Route{
		{Method: http.MethodPost, Path: "/v1/audits", Roles: AuditorRoles, Tags: tags, Timeout: reportTimeout,
			Summary: "Create a coding-accuracy audit: draw its sample",
			Description: "The population is the final-coded encounters discharged in the range (facility, payer, service line when given) that meet the targeting " +
				"(final DRG, coder = the user who finalized, denial-risk flag). The sample is drawn reproducibly from the seed (audit.Sample); spec, population size and sample are recorded.",
			Body: &Body{Required: true, Content: JSON(Ref("AuditInput"))},
			Responses: map[int]Response{201: {Description: "the audit with its pending cases", Content: JSON(Ref("CodingAudit")),
				Headers: map[string]string{"Location": "URL of the audit"}}},
			Handler: s.handleCreateAudit},
		{Method: http.MethodGet, Path: "/v1/audits", Roles: AuditReadRoles, Tags: tags, Summary: "List audits, newest first (without their cases)",
			Params: []Param{limitParam, cursorParam}, Responses: OK("a page of audits", listOf("CodingAudit")), Handler: s.handleListAudits},
		{Method: http.MethodGet, Path: "/v1/audits/findings", Roles: AuditFindingRoles, Tags: tags,
			Summary: "The audit findings on a coder's coding (coder=me): audited cases with the auditor's codes and findings, newest first",
			Params:  []Param{{Name: "coder", Schema: tString, Description: "me (default) or, for administrators, any coder's user name"}, limitParam, cursorParam},
			Responses: OK("a page of audited cases", obj([]string{"coder", "items", "next_cursor"}, Schema{"coder": tString,
				"items": arr(Ref("AuditCase")), "next_cursor": tString})), Handler: s.handleAuditFindings},
		{Method: http.MethodGet, Path: "/v1/audits/{id}", Roles: AuditReadRoles, Tags: tags, Summary: "Read an audit with its cases in draw order",
			Params: []Param{auditIDParam}, Responses: OK("the audit", Ref("CodingAudit")), Handler: s.handleGetAudit},
		{Method: http.MethodPut, Path: "/v1/audits/{id}/cases/{encounter_id}", Roles: AuditorRoles, Tags: tags,
			Summary:     "Record the auditor's codes for a case: regrouped with the case's grouper version and compared with the coder's",
			Description: "Recording again replaces the previous audit of the case (both are in the audit log). The coder of the case may not record it (403).",
			Params: []Param{auditIDParam, {Name: "encounter_id", In: "path", Required: true, Schema: tString, Description: "encounter id of the case"},
				{Name: "If-Match", In: "header", Required: true, Schema: tString, Description: "the case's row_version as an ETag (\"1\"), as read in GET /v1/audits/{id}: required (428 without); 412 when the case changed since"}},
			Body: &Body{Required: true, Content: JSON(Ref("AuditorInput"))},
			Responses: withPreconditions(map[int]Response{200: {Description: "the audited case with the comparison and findings", Content: JSON(Ref("AuditCase"))},
				404: {Description: "no such audit, or the encounter is not in its sample", Content: problemContent}}),
			Handler: s.handleRecordAuditCase},
		{Method: http.MethodGet, Path: "/v1/audits/{id}/report", Roles: AuditReportRoles, Tags: tags,
			Summary:   "Audit results overall, per coder and per category against the 95 % accuracy benchmark (JSON; CSV with Accept: text/csv or format=csv)",
			Params:    []Param{auditIDParam, reportFilterDocs[6]},
			Responses: map[int]Response{200: {Description: "the report", Content: map[string]Schema{"application/json": Ref("AuditReport"), "text/csv": {"type": "string"}}}},
			Handler:   s.handleAuditReport},
	}
}
