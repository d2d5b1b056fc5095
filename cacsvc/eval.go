package cacsvc

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
)

// Case is a gold-coded test case (cac_conventions.md, "Test-set format"). Families tags the
// conventions a case exercises (fixtures/cac sets; the shared set has none).
type Case struct {
	ID              string          `json:"id"`
	Age             *int            `json:"age,omitempty"`
	Sex             string          `json:"sex,omitempty"`
	DischargeStatus *int            `json:"discharge_status,omitempty"`
	AdmitDate       string          `json:"admit_date,omitempty"`
	DischargeDate   string          `json:"discharge_date,omitempty"`
	Version         json.RawMessage `json:"version,omitempty"`
	Notes           json.RawMessage `json:"notes"`
	Gold            Gold            `json:"gold"`
	Families        []string        `json:"families,omitempty"`
}

// Gold is the certified coder's answer of a case.
type Gold struct {
	PDX        string            `json:"pdx"`
	PDXAccept  []string          `json:"pdx_accept"`
	SDX        []string          `json:"sdx"`
	Procedures []string          `json:"procedures"`
	MustNot    []string          `json:"must_not"`
	Optional   []string          `json:"optional"`
	DRG        *int              `json:"drg"`
	DRGAccept  []int             `json:"drg_accept"`
	POA        map[string]string `json:"poa"`
}

// Request returns the case as a CAC request body, as the grader sends it.
func (c *Case) Request() []byte {
	body := map[string]any{"notes": c.Notes}
	if c.Age != nil {
		body["age"] = *c.Age
	}
	if c.Sex != "" {
		body["sex"] = c.Sex
	}
	if c.DischargeStatus != nil {
		body["discharge_status"] = *c.DischargeStatus
	}
	if c.AdmitDate != "" {
		body["admit_date"] = c.AdmitDate
	}
	if c.DischargeDate != "" {
		body["discharge_date"] = c.DischargeDate
	}
	if len(c.Version) > 0 {
		body["version"] = c.Version
	}
	b, _ := json.Marshal(body)
	return b
}

// Tally counts code-level agreement.
type Tally struct {
	TP, FP, FN int
	Cases      int
	PDX, DRG   int
	DRGCases   int
}

// F1 returns micro precision, recall and F1.
func (t Tally) F1() (p, r, f float64) {
	if t.TP+t.FP > 0 {
		p = float64(t.TP) / float64(t.TP+t.FP)
	}
	if t.TP+t.FN > 0 {
		r = float64(t.TP) / float64(t.TP+t.FN)
	}
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return
}

func (t Tally) String() string {
	p, r, f := t.F1()
	drg := 0.0
	if t.DRGCases > 0 {
		drg = float64(t.DRG) / float64(t.DRGCases)
	}
	pdx := 0.0
	if t.Cases > 0 {
		pdx = float64(t.PDX) / float64(t.Cases)
	}
	return fmt.Sprintf("%d cases: code F1 %.3f (P %.3f R %.3f), PDX %.1f%%, DRG %.1f%%", t.Cases, f, p, r, 100*pdx, 100*drg)
}

// Report is the evaluation of a test set, scored as ../shared/tools/cac_grade.py scores it.
type Report struct {
	All       Tally
	Families  map[string]*Tally
	MustNot   []string // case:code suggested although the gold forbids it
	BadSpans  []string // evidence whose text is not the note's bytes
	Failures  []string // requests that failed
	CaseLines []string // per case: pdx, missed, extra, drg
}

// CaseResult is one case's answer for Score.
type CaseResult struct {
	Response *Response
	Err      string
}

func norm(c string) string { return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(c), ".", "")) }

// Score compares answers with the gold codes of cases.
func Score(cases []Case, answers []CaseResult) *Report {
	rep := &Report{Families: map[string]*Tally{}}
	for i := range cases {
		c := &cases[i]
		t := Tally{Cases: 1}
		gold := map[string]bool{norm(c.Gold.PDX): true}
		for _, x := range append(slices.Clone(c.Gold.SDX), c.Gold.Procedures...) {
			gold[norm(x)] = true
		}
		optional := map[string]bool{}
		for _, x := range c.Gold.Optional {
			optional[norm(x)] = true
		}
		a := answers[i]
		if a.Response == nil {
			rep.Failures = append(rep.Failures, c.ID+": "+a.Err)
			t.FN = len(gold)
			if c.Gold.DRG != nil {
				t.DRGCases = 1
			}
			rep.add(c, t)
			continue
		}
		r := a.Response
		got := map[string]bool{}
		pdx := ""
		if r.PDX != nil {
			pdx = norm(r.PDX.Code)
			got[pdx] = true
		}
		for _, s := range append(slices.Clone(r.SDX), r.Procedures...) {
			got[norm(s.Code)] = true
		}
		accept := map[string]bool{norm(c.Gold.PDX): true}
		for _, x := range c.Gold.PDXAccept {
			accept[norm(x)] = true
		}
		if accept[pdx] && !gold[pdx] {
			delete(gold, norm(c.Gold.PDX))
			gold[pdx] = true
		}
		var missed, extra []string
		for g := range gold {
			if !got[g] {
				t.FN++
				missed = append(missed, g)
			}
		}
		for g := range got {
			switch {
			case optional[g]:
			case gold[g]:
				t.TP++
			default:
				t.FP++
				extra = append(extra, g)
			}
		}
		if accept[pdx] {
			t.PDX = 1
		}
		drg := drgOf(r.Group)
		if c.Gold.DRG != nil {
			t.DRGCases = 1
			if drg == *c.Gold.DRG || slices.Contains(c.Gold.DRGAccept, drg) {
				t.DRG = 1
			}
		}
		for _, m := range c.Gold.MustNot {
			if got[norm(m)] {
				rep.MustNot = append(rep.MustNot, c.ID+":"+norm(m))
			}
		}
		rep.BadSpans = append(rep.BadSpans, checkSpans(c, r)...)
		sort.Strings(missed)
		sort.Strings(extra)
		gd := 0
		if c.Gold.DRG != nil {
			gd = *c.Gold.DRG
		}
		rep.CaseLines = append(rep.CaseLines, fmt.Sprintf("%s: pdx %s (gold %s); missed %v; extra %v; drg %d (gold %d)", c.ID, orDash(pdx), norm(c.Gold.PDX), missed, extra, drg, gd))
		rep.add(c, t)
	}
	return rep
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (rep *Report) add(c *Case, t Tally) {
	addTally(&rep.All, t)
	fams := c.Families
	if len(fams) == 0 {
		fams = []string{"(untagged)"}
	}
	for _, f := range fams {
		ft := rep.Families[f]
		if ft == nil {
			ft = &Tally{}
			rep.Families[f] = ft
		}
		addTally(ft, t)
	}
}

func addTally(dst *Tally, t Tally) {
	dst.TP += t.TP
	dst.FP += t.FP
	dst.FN += t.FN
	dst.Cases += t.Cases
	dst.PDX += t.PDX
	dst.DRG += t.DRG
	dst.DRGCases += t.DRGCases
}

func drgOf(group json.RawMessage) int {
	var g struct {
		Final struct {
			DRG int `json:"drg"`
		} `json:"final"`
	}
	if json.Unmarshal(group, &g) != nil {
		return 0
	}
	return g.Final.DRG
}

// checkSpans verifies every evidence span against the note's bytes.
func checkSpans(c *Case, r *Response) []string {
	var ns []NoteIn
	if json.Unmarshal(c.Notes, &ns) != nil {
		return []string{c.ID + ": notes unreadable"}
	}
	texts := map[string]string{}
	for _, n := range ns {
		texts[n.ID] = n.Text
	}
	var bad []string
	check := func(kind, note string, s, e int, text string) {
		t, ok := texts[note]
		if !ok || s < 0 || s >= e || e > len(t) || t[s:e] != text {
			bad = append(bad, fmt.Sprintf("%s:%s:%s[%d:%d]", c.ID, kind, note, s, e))
		}
	}
	var all []Suggestion
	if r.PDX != nil {
		all = append(all, *r.PDX)
	}
	all = append(append(all, r.SDX...), r.Procedures...)
	for _, s := range all {
		for _, ev := range s.Evidence {
			check(s.Code, ev.Note, ev.Start, ev.End, ev.Text)
		}
	}
	for _, n := range r.NotCoded {
		check("not_coded", n.Note, n.Start, n.End, n.Text)
	}
	return bad
}

// Print writes the report: the figures, the families, and with verbose each case.
func (rep *Report) Print(w io.Writer, name string, verbose bool) {
	if verbose {
		for _, l := range rep.CaseLines {
			fmt.Fprintln(w, l)
		}
	}
	fams := make([]string, 0, len(rep.Families))
	for f := range rep.Families {
		fams = append(fams, f)
	}
	sort.Strings(fams)
	for _, f := range fams {
		fmt.Fprintf(w, "  family %-24s %s\n", f, rep.Families[f])
	}
	for _, f := range rep.Failures {
		fmt.Fprintln(w, "failed:", f)
	}
	if len(rep.MustNot) > 0 {
		fmt.Fprintln(w, "must_not suggested:", strings.Join(rep.MustNot, " "))
	}
	if len(rep.BadSpans) > 0 {
		fmt.Fprintf(w, "wrong evidence spans: %d: %s\n", len(rep.BadSpans), strings.Join(rep.BadSpans[:min(10, len(rep.BadSpans))], " "))
	}
	fmt.Fprintf(w, "%s: %s, must_not %d, bad spans %d, failed %d\n", name, rep.All, len(rep.MustNot), len(rep.BadSpans), len(rep.Failures))
}

// ReadCases reads a test set: a JSON array of cases.
func ReadCases(path string) ([]Case, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cases []Case
	if err := json.Unmarshal(b, &cases); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return cases, nil
}

// RunCases answers every case with the service, as POST /v1/cac would.
func RunCases(svc *Service, cases []Case) []CaseResult {
	out := make([]CaseResult, len(cases))
	for i := range cases {
		req, errs := ParseRequest(cases[i].Request())
		if errs != nil {
			out[i].Err = errs.Error()
			continue
		}
		resp, err := svc.Run(req)
		if err != nil {
			out[i].Err = err.Error()
			continue
		}
		out[i].Response = resp
	}
	return out
}
