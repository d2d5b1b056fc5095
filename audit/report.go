package audit

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Case is one audited encounter.
type Case struct {
	EncounterID string     `json:"encounter_id"`
	Coder       string     `json:"coder"`
	Category    string     `json:"category"` // e.g. the auditor's MDC or service line, chosen by the caller
	Comparison  Comparison `json:"comparison"`
}

// Summary aggregates comparisons. Rates are shares in [0, 1]; a rate with nothing to compare
// is 1 (nothing was wrong).
//
//   - PDXAccuracy: cases whose principal diagnosis agrees.
//   - SDXRecall: secondary diagnoses of the auditor that the coder also coded;
//     SDXPrecision: coded secondary diagnoses the auditor confirmed.
//   - ProcedureAgreement: procedures coded by both over procedures coded by either.
//   - POAAgreement: POA values that agree, over diagnoses coded by both.
//   - DRGAccuracy: cases grouping to the same DRG; MeetsBenchmark is DRGAccuracy ≥ 95 %.
//   - WeightOver / WeightUnder: summed relative-weight differences of over- and under-coded cases.
type Summary struct {
	Key                string  `json:"key,omitempty"`
	Cases              int     `json:"cases"`
	PDXAccuracy        float64 `json:"pdx_accuracy"`
	SDXRecall          float64 `json:"sdx_recall"`
	SDXPrecision       float64 `json:"sdx_precision"`
	ProcedureAgreement float64 `json:"procedure_agreement"`
	POAAgreement       float64 `json:"poa_agreement"`
	DRGAccuracy        float64 `json:"drg_accuracy"`
	OverCoded          int     `json:"over_coded"`
	UnderCoded         int     `json:"under_coded"`
	WeightOver         float64 `json:"weight_over"`
	WeightUnder        float64 `json:"weight_under"`
	NetWeight          float64 `json:"net_weight"`
	MeetsBenchmark     bool    `json:"meets_benchmark"`

	pdx, drg                           int
	sdxBoth, sdxCoderOnly, sdxAudOnly  int
	procBoth, procCoderOnly, procAudOn int
	poaCompared, poaAgree              int
}

func (s *Summary) add(c Comparison) {
	s.Cases++
	if c.PDXAgree {
		s.pdx++
	}
	if c.DRGAgree {
		s.drg++
	}
	s.sdxBoth += c.SDXBoth
	s.sdxCoderOnly += c.SDXCoderOnly
	s.sdxAudOnly += c.SDXAuditorOnly
	s.procBoth += c.ProcBoth
	s.procCoderOnly += c.ProcCoderOnly
	s.procAudOn += c.ProcAuditorOnly
	s.poaCompared += c.POACompared
	s.poaAgree += c.POAAgree
	switch {
	case c.WeightDiff > 0:
		s.OverCoded++
		s.WeightOver += c.WeightDiff
	case c.WeightDiff < 0:
		s.UnderCoded++
		s.WeightUnder += c.WeightDiff
	}
}

func rate(n, d int) float64 {
	if d == 0 {
		return 1
	}
	return float64(n) / float64(d)
}

func (s *Summary) finish() {
	s.PDXAccuracy = rate(s.pdx, s.Cases)
	s.DRGAccuracy = rate(s.drg, s.Cases)
	s.SDXRecall = rate(s.sdxBoth, s.sdxBoth+s.sdxAudOnly)
	s.SDXPrecision = rate(s.sdxBoth, s.sdxBoth+s.sdxCoderOnly)
	s.ProcedureAgreement = rate(s.procBoth, s.procBoth+s.procCoderOnly+s.procAudOn)
	s.POAAgreement = rate(s.poaAgree, s.poaCompared)
	s.NetWeight = s.WeightOver + s.WeightUnder
	s.MeetsBenchmark = s.Cases > 0 && s.DRGAccuracy >= AccuracyBenchmark
}

// Report is an audit's results overall, per coder and per category.
type Report struct {
	Overall    Summary   `json:"overall"`
	ByCoder    []Summary `json:"by_coder"`
	ByCategory []Summary `json:"by_category"`
	Benchmark  float64   `json:"benchmark"`
}

// Summarize aggregates audited cases.
func Summarize(cases []Case) Report {
	r := Report{Benchmark: AccuracyBenchmark}
	coders, cats := map[string]*Summary{}, map[string]*Summary{}
	group := func(m map[string]*Summary, k string) *Summary {
		s := m[k]
		if s == nil {
			s = &Summary{Key: k}
			m[k] = s
		}
		return s
	}
	for _, c := range cases {
		r.Overall.add(c.Comparison)
		group(coders, c.Coder).add(c.Comparison)
		group(cats, c.Category).add(c.Comparison)
	}
	r.Overall.finish()
	flatten := func(m map[string]*Summary) []Summary {
		out := make([]Summary, 0, len(m))
		for _, s := range m {
			s.finish()
			out = append(out, *s)
		}
		slices.SortFunc(out, func(a, b Summary) int { return cmp.Compare(a.Key, b.Key) })
		return out
	}
	r.ByCoder, r.ByCategory = flatten(coders), flatten(cats)
	return r
}

// WriteCSV writes the report as CSV: one row overall, then per coder, then per category.
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"scope", "key", "cases", "pdx_accuracy", "sdx_recall", "sdx_precision", "procedure_agreement",
		"poa_agreement", "drg_accuracy", "over_coded", "under_coded", "weight_over", "weight_under", "net_weight", "meets_95_benchmark"})
	row := func(scope string, s Summary) {
		f := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
		cw.Write([]string{scope, s.Key, strconv.Itoa(s.Cases), f(s.PDXAccuracy), f(s.SDXRecall), f(s.SDXPrecision),
			f(s.ProcedureAgreement), f(s.POAAgreement), f(s.DRGAccuracy), strconv.Itoa(s.OverCoded), strconv.Itoa(s.UnderCoded),
			f(s.WeightOver), f(s.WeightUnder), f(s.NetWeight), strconv.FormatBool(s.MeetsBenchmark)})
	}
	row("overall", r.Overall)
	for _, s := range r.ByCoder {
		row("coder", s)
	}
	for _, s := range r.ByCategory {
		row("category", s)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write audit report: %w", err)
	}
	return nil
}
