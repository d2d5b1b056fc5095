package api

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/audit"
	"github.com/msdrg-cdi/drg/casemix"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/store"
)

// RiskReport is the denial-risk report: the final-coded encounters of the filter with a
// denial-risk flag (audit.DefaultRiskRules, computed from the final codes), with the reasons.
type RiskReport struct {
	Filter     casemix.Filter `json:"filter"`
	Encounters int            `json:"encounters"` // final-coded encounters of the filter
	Flagged    int            `json:"flagged"`    // with at least one flag
	// NotGrouped counts encounters whose final codes no longer group (no flags computed).
	NotGrouped int             `json:"not_grouped"`
	ByKind     []RiskKindTotal `json:"by_kind"`
	// Items lists the flagged encounters in creation order, at most limit; Truncated is set
	// when there were more.
	Items     []RiskItem `json:"items"`
	Truncated bool       `json:"truncated"`
}

// RiskKindTotal counts the encounters with one kind of flag. WeightAtRisk (single_cc_mcc) is
// Σ weight(final DRG) − weight(DRG without the code): what a denial of the code would take.
type RiskKindTotal struct {
	Kind         string  `json:"kind"`
	Encounters   int     `json:"encounters"`
	WeightAtRisk float64 `json:"weight_at_risk,omitempty"`
}

// RiskItem is one flagged encounter.
type RiskItem struct {
	EncounterID   string           `json:"encounter_id"`
	Account       string           `json:"account"`
	DischargeDate claim.Date       `json:"discharge_date"`
	Coder         string           `json:"coder"`
	FinalDRG      int              `json:"final_drg"`
	Weight        float64          `json:"weight"`
	Flags         []audit.RiskFlag `json:"flags"`
}

var riskKinds = []string{audit.RiskSingleCCMCC, audit.RiskAuditedPDX, audit.RiskShortStay, audit.RiskMCEPostPayment}

// WriteCSV writes one row per flag.
func (r *RiskReport) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"encounter_id", "account", "discharge_date", "coder", "final_drg", "weight", "kind", "reason", "codes", "drg_without", "weight_without"})
	f4 := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	for _, it := range r.Items {
		for _, f := range it.Flags {
			without, wWithout := "", ""
			if f.DRGWithout != 0 {
				without, wWithout = fmt.Sprintf("%03d", f.DRGWithout), f4(f.WeightWithout)
			}
			cw.Write([]string{it.EncounterID, it.Account, it.DischargeDate.String(), it.Coder, fmt.Sprintf("%03d", it.FinalDRG), f4(it.Weight),
				f.Kind, f.Reason, strings.Join(f.Codes, ";"), without, wWithout})
		}
	}
	cw.Flush()
	return cw.Error()
}

func (s *Server) handleReportDenialRisk(c *gin.Context) {
	rq, q := s.reportRequest(c, append(slices.Clone(filterParams), "kind", "limit"))
	kind := c.Query("kind")
	if kind != "" && !slices.Contains(riskKinds, kind) {
		q.fail("kind", "must be one of "+strings.Join(riskKinds, ", "))
	}
	limit := q.int("limit", 1000, 1, 100000)
	if !q.ok() {
		return
	}
	r := &RiskReport{Filter: rq.filter, Items: []RiskItem{}}
	totals := map[string]*RiskKindTotal{}
	for _, k := range riskKinds {
		totals[k] = &RiskKindTotal{Kind: k}
	}
	sf := storeFilter(rq.filter, rq.filter.Period)
	sf.Status = store.StatusFinal
	err := s.cfg.Store.ScanEncounters(c.Request.Context(), sf, reportPageSize, true, func(page []*store.Encounter) error {
		for _, e := range page {
			if e.FinalDRG == nil || e.FinalCodes == nil {
				continue
			}
			if d := dischargeOf(e); !rq.filter.Match(&d) {
				continue
			}
			r.Encounters++
			flags, _, err := s.riskFlags(finalClaim(e))
			if err != nil {
				r.NotGrouped++
				continue
			}
			if kind != "" {
				flags = slices.DeleteFunc(flags, func(f audit.RiskFlag) bool { return f.Kind != kind })
			}
			if len(flags) == 0 {
				continue
			}
			r.Flagged++
			weight, _ := s.caseWeight(e.FinalDRG.Version, e.FinalDRG.DRG)
			seen := map[string]bool{}
			for _, f := range flags {
				t := totals[f.Kind]
				if !seen[f.Kind] {
					t.Encounters++
					seen[f.Kind] = true
				}
				if f.Kind == audit.RiskSingleCCMCC {
					t.WeightAtRisk += weight - f.WeightWithout
				}
			}
			if len(r.Items) < limit {
				r.Items = append(r.Items, RiskItem{EncounterID: e.ID, Account: e.Account, DischargeDate: e.DischargeDate,
					Coder: e.FinalDRG.GroupedBy, FinalDRG: e.FinalDRG.DRG, Weight: weight, Flags: flags})
			} else {
				r.Truncated = true
			}
		}
		return c.Request.Context().Err()
	})
	if err != nil {
		WriteError(c, err)
		return
	}
	ids := make([]string, len(r.Items))
	for i := range r.Items {
		ids[i] = r.Items[i].EncounterID
	}
	setReadIDs(c, ids)
	for _, k := range riskKinds {
		t := totals[k]
		t.WeightAtRisk = math.Round(t.WeightAtRisk*1e4) / 1e4
		r.ByKind = append(r.ByKind, *t)
	}
	n, err := s.commonNotes(c, rq, rq.filter.Period, nil)
	if err != nil {
		WriteError(c, err)
		return
	}
	n.add("flags of the default denial-risk rules computed from the final codes with the final DRG's grouper version; weights from the Table 5 of that version's fiscal year")
	if r.Truncated {
		n.add("items truncated at limit=%d; the totals count every encounter", limit)
	}
	writeReport(c, rq, "denial-risk", r, n)
}

func (s *Server) riskReportRoute() Route {
	s.AddSchema("RiskReport", reportSchema(RiskReport{}))
	return Route{Method: http.MethodGet, Path: "/v1/reports/denial-risk", Roles: AllRoles, Tags: []string{"reports"}, Timeout: reportTimeout,
		Summary: "Denial-risk flags of final-coded encounters with their reasons (single CC/MCC, commonly audited PDX, short surgical stay, MCE post-payment edits)",
		Params: append(slices.Clone(reportFilterDocs),
			Param{Name: "kind", Schema: Schema{"enum": riskKinds}, Description: "only this kind of flag"},
			Param{Name: "limit", Schema: tInt, Description: "flagged encounters listed (1–100000, default 1000); totals count all"}),
		Responses: reportResponse("RiskReport"), Handler: s.handleReportDenialRisk}
}
