package cdi

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// Indicator is a predicate over the values a selector picks. Its type follows from its
// fields:
//
//   - comparison: Op and Value ("<", "<=", ">", ">=") — a value beyond the threshold;
//   - change: Change — a rise or drop of at least Amount between two values at most Hours
//     apart (creatinine +0.3 mg/dL in 48 h, hemoglobin −2 g/dL);
//   - ratio: Ratio — a value at least Min times a baseline: the lowest earlier value within
//     Hours, or a value labelled baseline / from a prior encounter;
//   - presence: none of the above — an item exists (an order, a medication, a note phrase);
//   - score: Score — the rise of an organ-dysfunction score (SOFA) over its baseline.
//
// TextAny narrows the selected notes or text results to those containing a phrase outside a
// negated clause. Near, NotNear and BeforeFirst keep the facts close to, away from, or before
// other facts (an antibiotic with a culture drawn; a vasopressor outside the operating room;
// creatinine before dialysis). Count, Latest, SpanDays, SpanHours and AgeMin refine any type.
type Indicator struct {
	// Label describes the indicator to specialists ("SpO2 < 91 % on room air").
	Label string `json:"label"`
	// Of is the selector id.
	Of string `json:"of"`
	// TextAny: phrases one of which the note text or text result must contain.
	TextAny []string `json:"text_any,omitempty"`
	Op      string   `json:"op,omitempty"`
	Value   *float64 `json:"value,omitempty"`
	// Below, with op ">=", bounds a range: value ≤ v < below (an eGFR of CKD stage 3b).
	Below  *float64    `json:"below,omitempty"`
	Change *ChangeSpec `json:"change,omitempty"`
	Ratio  *RatioSpec  `json:"ratio,omitempty"`
	// Score names a score of the rules (Rules.Scores) whose rise over baseline is compared
	// with Op and Value.
	Score string `json:"score,omitempty"`
	// Near keeps the facts that have a fact of another selector within the window.
	Near *Window `json:"near,omitempty"`
	// NotNear drops the facts that have a fact of another selector within the window.
	NotNear *Window `json:"not_near,omitempty"`
	// BeforeFirst keeps the facts earlier than the first fact of a selector (creatinine
	// before the first dialysis: KDIGO does not apply once it starts).
	BeforeFirst string `json:"before_first,omitempty"`
	// SpanHours requires matching facts at least this many hours apart (a treatment course,
	// not a single dose).
	SpanHours float64 `json:"span_hours,omitempty"`
	// Monitored raises Count for a measurement under continuous monitoring: an isolated
	// reading among many (a desaturation while suctioned, a dampened arterial line) is not a
	// finding.
	Monitored *Monitoring `json:"monitored,omitempty"`
	// Count is the minimum number of matching items (default 1).
	Count int `json:"count,omitempty"`
	// Latest compares only the most recent value.
	Latest bool `json:"latest,omitempty"`
	// SpanDays requires matching values at least this many days apart (chronicity).
	SpanDays float64 `json:"span_days,omitempty"`
	// Persistent, with SpanDays or SpanHours, measures the span over the latest run of
	// values that all meet the threshold: a value in between that does not breaks it (an
	// eGFR of 72 between two below 60 is no reduced eGFR for 3 months, KDIGO).
	Persistent bool `json:"persistent,omitempty"`
	// AgeMin requires the patient to be at least this old.
	AgeMin float64 `json:"age_min,omitempty"`
	// Scale is the distance beyond the threshold that counts as full evidence strength
	// (default a quarter of the threshold).
	Scale float64 `json:"scale,omitempty"`

	id   string
	sel  *Selector
	text []string
}

// ChangeSpec is a rise or a drop within a time window.
type ChangeSpec struct {
	Direction string  `json:"direction"` // rise or drop
	Amount    float64 `json:"amount"`
	Hours     float64 `json:"hours"`
	// Resolution is the assay's reporting step: a change must exceed it to be a change at
	// all (creatinine reported in 0.1 mg/dL steps: 0.2 to 0.3 is one step of rounding).
	Resolution float64 `json:"resolution,omitempty"`
	// BaselineFloor is the lowest plausible starting value: a lower one counts as the floor
	// (a creatinine of 0.2 mg/dL is dilution or wasted muscle, not a kidney's baseline).
	BaselineFloor float64 `json:"baseline_floor,omitempty"`
}

// RatioSpec is a value at least Min times its baseline within Hours.
type RatioSpec struct {
	Min   float64 `json:"min"`
	Hours float64 `json:"hours"`
	// Recovery also takes as baseline the lowest value within Hours after the peak: a kidney
	// injury present on admission is recognised by its recovery (KDIGO without a prior
	// baseline).
	Recovery bool `json:"recovery,omitempty"`
	// Resolution is the assay's reporting step: the value must exceed its baseline by more
	// than this (0.2 to 0.3 mg/dL is 1.5 times, but one step of rounding).
	Resolution float64 `json:"resolution,omitempty"`
	// BaselineFloor is the lowest plausible baseline: a lower baseline counts as the floor
	// (relative rises from a diluted or low-muscle-mass creatinine are not kidney injury).
	BaselineFloor float64 `json:"baseline_floor,omitempty"`
	// RecoveryPeakMin: with Recovery, a fall counts only from a value at least this high
	// (above the upper reference limit). A fall alone from a normal value — hydration,
	// dilution — is no sign of an injury; an earlier rise is needed to see one.
	RecoveryPeakMin float64 `json:"recovery_peak_min,omitempty"`
}

// Monitoring says when a measurement counts as monitored: with at least Values readings in
// the record, at least Count of them must meet the threshold.
type Monitoring struct {
	Values int `json:"values"`
	Count  int `json:"count"`
}

// need returns how many readings must meet a threshold among n readings.
func (m *Monitoring) need(base, n int) int {
	if m != nil && n >= m.Values {
		return max(base, m.Count)
	}
	return base
}

// Window is a time window around each fact, relative to the facts of another selector: a
// fact of Of at most Before hours earlier or After hours later.
type Window struct {
	Of     string  `json:"of"`
	Before float64 `json:"before_hours"`
	After  float64 `json:"after_hours"`
}

// eps absorbs floating-point error at thresholds (1.3 − 1.0 is 0.30000000000000004, 1.4 − 1.1
// is 0.29999999999999982: both are a rise of 0.3).
const eps = 1e-9

func (ind *Indicator) compile(r *Rules) error {
	sels := r.Selectors
	if ind.Label == "" {
		return errors.New("label is required")
	}
	if ind.Score != "" {
		if r.Scores[ind.Score] == nil {
			return fmt.Errorf("score: unknown score %q", ind.Score)
		}
		if ind.Of != "" || ind.Op == "" || ind.Value == nil || ind.Change != nil || ind.Ratio != nil {
			return errors.New("a score indicator has score, op and value, and no of, change or ratio")
		}
		ind.sel = &Selector{}
		return nil
	}
	ind.sel = sels[ind.Of]
	if ind.sel == nil {
		return fmt.Errorf("of: unknown selector %q", ind.Of)
	}
	for name, w := range map[string]*Window{"near": ind.Near, "not_near": ind.NotNear} {
		if w != nil && (sels[w.Of] == nil || w.Before < 0 || w.After < 0) {
			return fmt.Errorf("%s: unknown selector %q or negative hours", name, w.Of)
		}
	}
	if ind.BeforeFirst != "" && sels[ind.BeforeFirst] == nil {
		return fmt.Errorf("before_first: unknown selector %q", ind.BeforeFirst)
	}
	if ind.Below != nil && (ind.Op != ">=" || ind.Value == nil || *ind.Below <= *ind.Value) {
		return errors.New("below bounds a range with op \">=\" and a smaller value")
	}
	n := 0
	if ind.Op != "" || ind.Value != nil {
		n++
		switch ind.Op {
		case "<", "<=", ">", ">=":
		default:
			return fmt.Errorf("op: unknown %q (<, <=, >, >=)", ind.Op)
		}
		if ind.Value == nil {
			return errors.New("value is required with op")
		}
	}
	if ind.Change != nil {
		n++
		if ind.Change.Direction != "rise" && ind.Change.Direction != "drop" {
			return fmt.Errorf("change.direction: unknown %q (rise, drop)", ind.Change.Direction)
		}
		if ind.Change.Amount <= 0 || ind.Change.Hours <= 0 {
			return errors.New("change: amount and hours must be positive")
		}
		if ind.Change.Resolution < 0 || ind.Change.BaselineFloor < 0 {
			return errors.New("change: resolution and baseline_floor must not be negative")
		}
	}
	if ind.Ratio != nil {
		n++
		if ind.Ratio.Min <= 1 || ind.Ratio.Hours <= 0 {
			return errors.New("ratio: min must exceed 1 and hours be positive")
		}
		if ind.Ratio.Resolution < 0 || ind.Ratio.BaselineFloor < 0 || ind.Ratio.RecoveryPeakMin < 0 {
			return errors.New("ratio: resolution, baseline_floor and recovery_peak_min must not be negative")
		}
		if ind.Ratio.RecoveryPeakMin > 0 && !ind.Ratio.Recovery {
			return errors.New("ratio: recovery_peak_min applies with recovery only")
		}
	}
	if n > 1 {
		return errors.New("an indicator is one of comparison (op/value), change or ratio")
	}
	if len(ind.TextAny) > 0 && n > 0 {
		return errors.New("text_any applies to presence indicators only")
	}
	ind.text = normAll(ind.TextAny)
	if ind.Count < 0 || ind.SpanDays < 0 || ind.SpanHours < 0 {
		return errors.New("count, span_days and span_hours must not be negative")
	}
	if m := ind.Monitored; m != nil && (m.Values < 2 || m.Count < 1 || m.Count > m.Values) {
		return errors.New("monitored: values at least 2 and count between 1 and values")
	}
	return nil
}

func (ind *Indicator) kind() string {
	switch {
	case ind.Score != "":
		return "score"
	case ind.Value != nil:
		return "comparison"
	case ind.Change != nil:
		return "change"
	case ind.Ratio != nil:
		return "ratio"
	}
	return "presence"
}

func (ind *Indicator) scale() float64 {
	if ind.Scale > 0 {
		return ind.Scale
	}
	var t float64
	switch {
	case ind.Value != nil:
		t = *ind.Value
	case ind.Change != nil:
		t = ind.Change.Amount
	case ind.Ratio != nil:
		t = ind.Ratio.Min
	}
	if t = math.Abs(t) / 4; t > 0 {
		return t
	}
	return 1
}

func (ind *Indicator) compare(v float64) bool {
	t := *ind.Value
	if ind.Below != nil && v >= *ind.Below-eps {
		return false
	}
	switch ind.Op {
	case "<":
		return v < t-eps
	case "<=":
		return v <= t+eps
	case ">":
		return v > t+eps
	case ">=":
		return v >= t-eps
	}
	return false
}

// IndicatorResult is the evaluation of one indicator on an encounter.
type IndicatorResult struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Met   bool   `json:"met"`
	// Cited are the facts that met the indicator (most significant first), or, when it is
	// not met, the closest facts found (for clinical validation and explanations).
	Cited []Cite `json:"cited,omitempty"`
	// Margin is how far beyond the threshold the most significant fact is, 0…1.
	Margin  float64 `json:"margin"`
	Explain string  `json:"explain"`
}

// Cite is one clinical fact cited by an opportunity or a query: what, its value, its source
// document and time, and which evidence items it comes from.
type Cite struct {
	Indicator string `json:"indicator"`
	// Kind is what the fact is: an evidence kind (lab, vital, med, order, note, measurement,
	// documented_dx), CiteImaging, CitePathology, CiteProcedure, CiteCalculated or
	// CiteWorkingCode (CiteKinds). Only clinical kinds support a diagnosis (see Clinical).
	Kind     string      `json:"kind"`
	Label    string      `json:"label"`
	Evidence []int       `json:"evidence,omitempty"` // indexes into Encounter.Evidence
	Name     string      `json:"name"`
	Value    claim.Value `json:"value,omitzero"`
	Unit     string      `json:"unit,omitempty"`
	Time     time.Time   `json:"time,omitzero"`
	Source   string      `json:"source,omitempty"`
	Context  string      `json:"context,omitempty"`
	// AuthorRole is the role of the author of a note or documented diagnosis.
	AuthorRole string `json:"author_role,omitempty"`
	// Detail adds what the indicator computed ("rise of 0.3 mg/dL from 1.0 at … in 40 h").
	Detail string `json:"detail,omitempty"`
	// Code is the diagnosis code of a documented diagnosis or working code.
	Code string `json:"code,omitempty"`
	// PriorEncounter marks a fact from before this admission (Q1: labelled as such).
	PriorEncounter bool `json:"prior_encounter,omitempty"`
}

// Cite kinds beyond the evidence kinds of claim.Evidence.
const (
	CiteProcedure   = "procedure"    // a working ICD-10-PCS code, or a procedure report (catheterization, endoscopy)
	CiteCalculated  = "calculated"   // computed from two facts (P/F ratio, MAP, BMI)
	CiteWorkingCode = "working_code" // a diagnosis code of the working codes
	// CiteImaging is an imaging result: echocardiogram (ejection fraction), chest X-ray, CT,
	// ultrasound, MRI — a finding of the study, cited as a lab result is.
	CiteImaging = "imaging"
	// CitePathology is a pathology or cytology report's finding.
	CitePathology = "pathology"
)

// clinicalKinds are the cite kinds that are clinical indicators: facts about the patient, not
// documentation of a diagnosis.
var clinicalKinds = []string{claim.KindLab, claim.KindVital, claim.KindMed, claim.KindOrder, claim.KindNote,
	claim.KindMeasurement, CiteImaging, CitePathology, CiteProcedure, CiteCalculated}

// Clinical reports whether the cite is a clinical indicator (a lab, vital sign, medication,
// order, note finding, measurement, imaging or pathology finding, procedure or calculated
// value) rather than the documentation of a diagnosis: a documented or working diagnosis
// never supports a query option by itself.
func (c *Cite) Clinical() bool {
	return slices.Contains(clinicalKinds, c.Kind) && (c.Code == "" || c.Kind == CiteProcedure)
}

// Text renders the cite for a provider: "SpO2 86 % on room air (ED triage, 2026-04-27 14:05)".
func (c *Cite) Text() string {
	var b strings.Builder
	quoteOnly := c.Value.IsText && (c.Name == "" || strings.EqualFold(c.Name, c.Source))
	if !quoteOnly {
		b.WriteString(c.Name)
	}
	if v := c.Value.String(); v != "" {
		if c.Value.IsText {
			if !quoteOnly {
				b.WriteString(": ")
			}
			b.WriteString("\"" + v + "\"")
		} else {
			b.WriteString(" " + v)
			if c.Unit != "" {
				b.WriteString(" " + c.Unit)
			}
		}
	}
	if c.Context != "" {
		b.WriteString(", " + c.Context)
	}
	if c.Detail != "" {
		b.WriteString(", " + c.Detail)
	}
	b.WriteString(" (")
	if c.PriorEncounter && !strings.Contains(strings.ToLower(c.Context), "prior") {
		b.WriteString("prior encounter, ")
	}
	b.WriteString(c.Source)
	if c.AuthorRole != "" && !strings.Contains(strings.ToLower(c.Source), c.AuthorRole) {
		b.WriteString(", " + c.AuthorRole)
	}
	if !c.Time.IsZero() {
		b.WriteString(", " + fmtTime(c.Time))
	}
	b.WriteString(")")
	return b.String()
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

func (ind *Indicator) cite(p point, detail string) Cite {
	c := Cite{Indicator: ind.id, Label: ind.Label, Kind: p.kind, Evidence: p.ev, Name: p.name, Value: p.display, Unit: p.unit,
		Time: p.t, Source: p.source, Context: p.context, AuthorRole: p.role, Detail: detail, Code: p.code,
		PriorEncounter: p.prior}
	if p.excerpt != "" {
		c.Value = claim.Text(p.excerpt)
	}
	return c
}

func fmtNum(x float64) string {
	return strconv.FormatFloat(math.Round(x*1000)/1000, 'f', -1, 64)
}

// evaluate evaluates the indicator over the points of its selector.
func (ind *Indicator) evaluate(pts []point, age *int) IndicatorResult {
	r := IndicatorResult{ID: ind.id, Label: ind.Label}
	if ind.AgeMin > 0 && (age == nil || float64(*age) < ind.AgeMin) {
		r.Explain = fmt.Sprintf("not met: applies from age %s", fmtNum(ind.AgeMin))
		if age == nil {
			r.Explain += " and the age is unknown"
		}
		return r
	}
	switch ind.kind() {
	case "comparison":
		ind.evalComparison(pts, &r)
	case "change":
		ind.evalChange(pts, &r)
	case "ratio":
		ind.evalRatio(pts, &r)
	default:
		ind.evalPresence(pts, &r)
	}
	return r
}

func (ind *Indicator) need() int { return max(ind.Count, 1) }

func (ind *Indicator) evalPresence(pts []point, r *IndicatorResult) {
	if len(pts) < ind.need() {
		if len(pts) == 0 {
			r.Explain = "not met: nothing in the record"
		} else {
			r.Explain = fmt.Sprintf("not met: %d found, %d needed", len(pts), ind.need())
		}
		return
	}
	sorted := byTime(pts)
	if h := spanHours(sorted); ind.SpanHours > 0 && h+eps < ind.SpanHours {
		r.Cited = []Cite{ind.cite(sorted[0], "")}
		r.Explain = fmt.Sprintf("not met: %d found over %s h (needs %s h: a course, not a single dose)", len(pts), fmtNum(h), fmtNum(ind.SpanHours))
		return
	}
	cited := sorted[:min(len(sorted), max(3, ind.need()))]
	if ind.SpanHours > 0 && len(sorted) > 1 { // the first and the last show the span
		cited = []point{sorted[0], sorted[len(sorted)-1]}
	}
	for _, p := range cited {
		r.Cited = append(r.Cited, ind.cite(p, ""))
	}
	r.Met, r.Margin = true, 0
	r.Explain = fmt.Sprintf("met: %d found (%s)", len(pts), r.Cited[0].Text())
}

// spanHours is the time between the first and the last timed point of points sorted by time.
func spanHours(sorted []point) float64 {
	var first, last time.Time
	for _, p := range sorted {
		if p.t.IsZero() {
			continue
		}
		if first.IsZero() {
			first = p.t
		}
		last = p.t
	}
	return last.Sub(first).Hours()
}

// byTime returns the points sorted by time (untimed last), stable.
func byTime(pts []point) []point {
	s := slices.Clone(pts)
	slices.SortStableFunc(s, func(a, b point) int {
		switch {
		case a.t.IsZero() && b.t.IsZero():
			return 0
		case a.t.IsZero():
			return 1
		case b.t.IsZero():
			return -1
		}
		return a.t.Compare(b.t)
	})
	return s
}

func valued(pts []point) []point {
	out := make([]point, 0, len(pts))
	for _, p := range pts {
		if p.hasV {
			out = append(out, p)
		}
	}
	return out
}

func (ind *Indicator) evalComparison(pts []point, r *IndicatorResult) {
	vs := byTime(valued(pts))
	what := strings.TrimSpace(ind.Op + " " + fmtNum(*ind.Value) + " " + ind.sel.Unit)
	if ind.Below != nil {
		what = strings.TrimSpace(fmtNum(*ind.Value) + " to < " + fmtNum(*ind.Below) + " " + ind.sel.Unit)
	}
	if len(vs) == 0 {
		r.Explain = "not met: no value in the record (needs " + what + ")"
		return
	}
	if ind.Latest {
		vs = vs[len(vs)-1:]
	}
	need := ind.Monitored.need(ind.need(), len(vs))
	lower := ind.Op[0] == '<'
	extreme := func(a, b point) int { // most abnormal first, then earliest
		if a.v != b.v {
			if lower == (a.v < b.v) {
				return -1
			}
			return 1
		}
		return a.t.Compare(b.t)
	}
	var hits []point
	for _, p := range vs {
		switch {
		case ind.compare(p.v):
			hits = append(hits, p)
		case ind.Persistent && !p.t.IsZero():
			hits = hits[:0] // the run of values meeting the threshold starts again
		}
	}
	slices.SortStableFunc(hits, extreme)
	span := 0.0
	if len(hits) > 1 {
		first, last := byTime(hits)[0], byTime(hits)[len(hits)-1]
		if !first.t.IsZero() && !last.t.IsZero() {
			span = last.t.Sub(first.t).Hours() / 24
		}
	}
	if len(hits) >= need && span+eps >= ind.SpanDays && span*24+eps >= ind.SpanHours {
		r.Met = true
		r.Margin = math.Min(1, math.Abs(hits[0].v-*ind.Value)/ind.scale())
		cited := hits[:min(len(hits), max(need, 3))]
		if ind.SpanDays > 0 { // cite the earliest and the latest to show chronicity
			bt := byTime(hits)
			cited = []point{bt[0], bt[len(bt)-1]}
		}
		for _, p := range cited {
			r.Cited = append(r.Cited, ind.cite(p, ""))
		}
		r.Explain = fmt.Sprintf("met: %s (needs %s)", r.Cited[0].Text(), what)
		if ind.SpanDays > 0 {
			r.Explain += fmt.Sprintf(", values %s days apart (needs %s)", fmtNum(math.Floor(span)), fmtNum(ind.SpanDays))
		}
		return
	}
	all := slices.Clone(vs)
	slices.SortStableFunc(all, extreme)
	closest := ind.cite(all[0], "")
	r.Cited = []Cite{closest}
	switch {
	case len(hits) == 0:
		r.Explain = fmt.Sprintf("not met: most abnormal value %s (needs %s)", closest.Text(), what)
	case len(hits) < need:
		r.Explain = fmt.Sprintf("not met: %d value(s) %s, %d needed", len(hits), what, need)
	default:
		r.Explain = fmt.Sprintf("not met: values %s span %s days (needs %s)", what, fmtNum(math.Floor(span)), fmtNum(ind.SpanDays))
	}
	if ind.Latest {
		r.Explain += " (latest value only)"
	}
}

func (ind *Indicator) evalChange(pts []point, r *IndicatorResult) {
	c := ind.Change
	vs := byTime(valued(pts))
	unit := ind.sel.Unit
	best, bi, bj := math.Inf(-1), -1, -1
	for j := range vs {
		if vs[j].t.IsZero() {
			continue
		}
		for i := 0; i < j; i++ {
			if vs[i].t.IsZero() {
				continue
			}
			h := vs[j].t.Sub(vs[i].t).Hours()
			if h <= 0 || h > c.Hours+eps {
				continue
			}
			from, to := vs[i].v, vs[j].v
			if c.Direction == "rise" {
				from = math.Max(from, c.BaselineFloor)
			} else {
				to = math.Max(to, c.BaselineFloor)
			}
			d := to - from
			if c.Direction == "drop" {
				d = -d
			}
			if c.Resolution > 0 && d <= c.Resolution+eps {
				d = math.Min(d, 0)
			}
			if d > best {
				best, bi, bj = d, i, j
			}
		}
	}
	what := fmt.Sprintf("%s of %s %s within %s h", c.Direction, fmtNum(c.Amount), unit, fmtNum(c.Hours))
	if bj < 0 {
		r.Explain = fmt.Sprintf("not met: fewer than two timed values within %s h (needs %s)", fmtNum(c.Hours), what)
		return
	}
	from, to := vs[bi], vs[bj]
	detail := fmt.Sprintf("%s of %s %s from %s at %s in %s h", c.Direction, fmtNum(best), unit, fmtNum(from.v), fmtTime(from.t), fmtNum(to.t.Sub(from.t).Hours()))
	r.Cited = []Cite{ind.cite(to, detail), ind.cite(from, "")}
	if best >= c.Amount-eps {
		r.Met = true
		r.Margin = math.Min(1, (best-c.Amount)/ind.scale())
		r.Explain = "met: " + detail + " (needs " + what + ")"
		return
	}
	r.Explain = "not met: largest " + detail + " (needs " + what + ")"
}

func (ind *Indicator) evalRatio(pts []point, r *IndicatorResult) {
	rs := ind.Ratio
	vs := byTime(valued(pts))
	best, bi, bj := math.Inf(-1), -1, -1
	for j := range vs {
		if vs[j].t.IsZero() || vs[j].prior {
			continue
		}
		for i := range vs {
			if i == j || vs[i].v <= 0 {
				continue
			}
			inWindow := !vs[i].t.IsZero() && vs[i].t.Before(vs[j].t) && vs[j].t.Sub(vs[i].t).Hours() <= rs.Hours+eps
			recovered := rs.Recovery && !vs[i].prior && !vs[i].t.IsZero() && vs[i].t.After(vs[j].t) &&
				vs[i].t.Sub(vs[j].t).Hours() <= rs.Hours+eps
			if !inWindow && !vs[i].prior && !recovered {
				continue
			}
			if recovered && !inWindow && !vs[i].prior && vs[j].v < rs.RecoveryPeakMin-eps {
				continue // a fall from a normal value: no injury seen
			}
			base := math.Max(vs[i].v, rs.BaselineFloor)
			if rs.Resolution > 0 && vs[j].v-base <= rs.Resolution+eps {
				continue // within the assay's reporting step
			}
			if x := vs[j].v / base; x > best {
				best, bi, bj = x, i, j
			}
		}
	}
	what := fmt.Sprintf("%s × baseline within %s h or a labelled baseline", fmtNum(rs.Min), fmtNum(rs.Hours))
	if rs.Recovery {
		what = fmt.Sprintf("%s × baseline (earlier, labelled, or the recovered value) within %s h", fmtNum(rs.Min), fmtNum(rs.Hours))
	}
	if bj < 0 {
		r.Explain = "not met: no baseline value (needs " + what + ")"
		return
	}
	base, cur := vs[bi], vs[bj]
	detail := fmt.Sprintf("%s × baseline %s", fmtNum(best), fmtNum(base.v))
	if base.v < rs.BaselineFloor-eps {
		detail = fmt.Sprintf("%s × baseline %s (measured %s, below the plausible floor)", fmtNum(best), fmtNum(rs.BaselineFloor), fmtNum(base.v))
	}
	baseDetail := "baseline"
	switch {
	case base.prior:
		detail += " (prior encounter)"
	case base.t.After(cur.t):
		detail = fmt.Sprintf("%s × the recovered value %s at %s", fmtNum(best), fmtNum(math.Max(base.v, rs.BaselineFloor)), fmtTime(base.t))
		baseDetail = "recovered value"
	}
	r.Cited = []Cite{ind.cite(cur, detail), ind.cite(base, baseDetail)}
	if best >= rs.Min-eps {
		r.Met = true
		r.Margin = math.Min(1, (best-rs.Min)/ind.scale())
		r.Explain = "met: " + detail + " (needs " + what + ")"
		return
	}
	r.Explain = "not met: highest " + detail + " (needs " + what + ")"
}
