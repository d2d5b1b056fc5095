package cdi

import (
	"errors"

	"fmt"
	"github.com/msdrg-cdi/drg/claim"
	"math"
	"strings"
)

// Score is an organ-dysfunction score such as SOFA: points per organ system by published
// thresholds, compared with the patient's baseline, so that chronic organ failure is not read
// as new dysfunction. An indicator with "score" compares the rise over baseline.
type Score struct {
	Label      string           `json:"label"`
	Components []ScoreComponent `json:"components"`
}

// ScoreComponent scores one organ system, from the values of a selector (Points), from
// criteria (Levels), or both; the component's score is the highest level reached during the
// stay.
type ScoreComponent struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	// Of is the selector whose values Points scores.
	Of string `json:"of,omitempty"`
	// Lower: lower values are worse (platelets, Glasgow coma scale, P/F ratio); a value below
	// a threshold scores its points. Otherwise a value at or above it does (bilirubin).
	Lower  bool          `json:"lower,omitempty"`
	Points []ScorePoints `json:"points,omitempty"`
	// Levels score points when a criterion holds (a vasopressor infusion: 3 points).
	Levels []ScoreLevel `json:"levels,omitempty"`
	// Chronic, when it holds (chronic disease of the organ documented), makes the least
	// abnormal value of the stay the baseline, unless a value from before the stay gives it.
	Chronic *Criterion `json:"chronic,omitempty"`
	// Excluded, when it holds, leaves the component out (the kidneys of a dialysis-dependent
	// patient).
	Excluded *Criterion `json:"excluded,omitempty"`
	// NotNear leaves out the values with a fact of another selector within the window (a
	// Glasgow coma scale under continuous sedation does not measure the brain).
	NotNear *Window `json:"not_near,omitempty"`
	// Monitored: under continuous monitoring a level counts when enough readings reach it (a
	// single dampened arterial pressure is not hypotension).
	Monitored *Monitoring `json:"monitored,omitempty"`
}

// ScorePoints is a threshold of a component: a value beyond Value scores Points, when With
// (optional) holds (P/F < 200 counts 3 points only with ventilatory support).
type ScorePoints struct {
	Value  float64    `json:"value"`
	Points int        `json:"points"`
	With   *Criterion `json:"with,omitempty"`
}

// ScoreLevel scores Points when When holds.
type ScoreLevel struct {
	When   Criterion `json:"when"`
	Points int       `json:"points"`
}

func (sc *Score) compile(r *Rules) error {
	if sc.Label == "" || len(sc.Components) == 0 {
		return errors.New("a score has a label and components")
	}
	for i := range sc.Components {
		c := &sc.Components[i]
		if c.ID == "" {
			return fmt.Errorf("components[%d]: id is required", i)
		}
		if c.Of == "" && len(c.Levels) == 0 || c.Of != "" && len(c.Points) == 0 {
			return fmt.Errorf("components.%s: needs of with points, or levels", c.ID)
		}
		if c.Of != "" && r.Selectors[c.Of] == nil {
			return fmt.Errorf("components.%s.of: unknown selector %q", c.ID, c.Of)
		}
		if w := c.NotNear; w != nil && (r.Selectors[w.Of] == nil || w.Before < 0 || w.After < 0) {
			return fmt.Errorf("components.%s.not_near: unknown selector %q or negative hours", c.ID, w.Of)
		}
		if m := c.Monitored; m != nil && (m.Values < 2 || m.Count < 1 || m.Count > m.Values) {
			return fmt.Errorf("components.%s.monitored: values at least 2 and count between 1 and values", c.ID)
		}
		for j := range c.Points {
			if p := c.Points[j].With; p != nil {
				if err := p.compile(r, 0); err != nil {
					return fmt.Errorf("components.%s.points[%d].with: %w", c.ID, j, err)
				}
			}
		}
		for j := range c.Levels {
			if err := c.Levels[j].When.compile(r, 0); err != nil {
				return fmt.Errorf("components.%s.levels[%d].when: %w", c.ID, j, err)
			}
		}
		for name, cr := range map[string]*Criterion{"chronic": c.Chronic, "excluded": c.Excluded} {
			if cr != nil {
				if err := cr.compile(r, 0); err != nil {
					return fmt.Errorf("components.%s.%s: %w", c.ID, name, err)
				}
			}
		}
	}
	return nil
}

// pointsFor scores a value.
func (c *ScoreComponent) pointsFor(v float64, env criterionEnv) int {
	best := 0
	for _, p := range c.Points {
		beyond := v >= p.Value-eps
		if c.Lower {
			beyond = v < p.Value-eps
		}
		if beyond && p.Points > best && (p.With == nil || p.With.eval(env)) {
			best = p.Points
		}
	}
	return best
}

// componentScore is one component's evaluation.
type componentScore struct {
	id              string
	peak, baseline  int
	excluded        bool
	cite            *Cite // the fact that reached the peak
	closest         *Cite // the most abnormal value of the stay, whatever its points
	baselineExplain string
}

func (c componentScore) rise() int { return max(0, c.peak-c.baseline) }

// evalScore evaluates a score indicator: the sum over components of the points reached
// during the stay above each component's baseline.
func (s *indicators) evalScore(ind *Indicator) IndicatorResult {
	sc := s.rules.Scores[ind.Score]
	r := IndicatorResult{ID: ind.id, Label: ind.Label}
	total := 0
	var parts []string
	var closest []Cite
	for i := range sc.Components {
		cs := s.component(&sc.Components[i], ind)
		if cs.closest != nil && !cs.excluded {
			closest = append(closest, *cs.closest)
		}
		switch {
		case cs.excluded:
			parts = append(parts, cs.id+" not scored ("+cs.baselineExplain+")")
			continue
		case cs.peak == 0:
			continue
		}
		total += cs.rise()
		parts = append(parts, fmt.Sprintf("%s %d (baseline %d%s)", cs.id, cs.peak, cs.baseline, cs.baselineExplain))
		if cs.rise() > 0 && cs.cite != nil {
			r.Cited = append(r.Cited, *cs.cite)
		}
	}
	want := *ind.Value
	r.Met = ind.compare(float64(total))
	if r.Met {
		r.Margin = math.Min(1, (float64(total)-want)/math.Max(want, 1))
	} else {
		r.Cited = closest // what the record shows, for explanations and clinical validation
	}
	what := fmt.Sprintf("%s rise %s %s over baseline", sc.Label, ind.Op, fmtNum(want))
	verdict := "not met"
	if r.Met {
		verdict = "met"
	}
	detail := "no organ system scores"
	if len(parts) > 0 {
		detail = strings.Join(parts, ", ")
	}
	r.Explain = fmt.Sprintf("%s: %s rise %d: %s (needs %s)", verdict, sc.Label, total, detail, what)
	return r
}

// component scores one organ system: the highest points of the stay and the baseline.
func (s *indicators) component(c *ScoreComponent, ind *Indicator) componentScore {
	cs := componentScore{id: c.ID}
	if c.Excluded != nil && c.Excluded.eval(s) {
		cs.excluded, cs.baselineExplain = true, "chronic failure: "+strings.Join(c.Excluded.supporting(s.rules, s, nil), ", ")
		if cs.baselineExplain == "chronic failure: " {
			cs.baselineExplain = "chronic failure documented"
		}
		return cs
	}
	if c.Of != "" {
		var current, prior []point
		for _, p := range valued(s.pointsOf(c.Of)) {
			if c.NotNear != nil && s.near(p, c.NotNear) {
				continue
			}
			if p.prior {
				prior = append(prior, p)
			} else {
				current = append(current, p)
			}
		}
		need := c.Monitored.need(1, len(current))
		reached := map[int]int{} // points → readings reaching at least them
		for _, p := range current {
			for lvl := c.pointsFor(p.v, s); lvl > 0; lvl-- {
				reached[lvl]++
			}
		}
		for _, p := range byTime(current) {
			pts := c.pointsFor(p.v, s)
			for pts > 0 && reached[pts] < need {
				pts--
			}
			if pts > cs.peak {
				cs.peak = pts
				cite := ind.cite(p, "")
				cs.cite = &cite
			}
			if cs.closest == nil || c.Lower && p.v < cs.closest.Value.Num || !c.Lower && p.v > cs.closest.Value.Num {
				cite := ind.cite(p, "")
				cite.Value = claim.Number(p.v)
				cs.closest = &cite
			}
		}
		switch {
		case len(prior) > 0:
			last := byTime(prior)[len(prior)-1]
			cs.baseline, cs.baselineExplain = c.pointsFor(last.v, s), " from the prior value "+fmtNum(last.v)
		case c.Chronic != nil && c.Chronic.eval(s) && len(current) > 0:
			cs.baseline = math.MaxInt
			for _, p := range current {
				cs.baseline = min(cs.baseline, c.pointsFor(p.v, s))
			}
			cs.baselineExplain = ": chronic disease documented, least abnormal value of the stay"
		}
	}
	for _, l := range c.Levels {
		if l.Points > cs.peak && l.When.eval(s) {
			cs.peak = l.Points
			for _, id := range l.When.supporting(s.rules, s, nil) {
				if res := s.result(id); len(res.Cited) > 0 {
					cite := res.Cited[0]
					cite.Indicator, cite.Label = ind.id, ind.Label
					cs.cite = &cite
					break
				}
			}
		}
	}
	if cs.cite != nil {
		points := fmt.Sprintf("%s %s: %d points (baseline %d)", s.rules.Scores[ind.Score].Label, c.Label, cs.peak, cs.baseline)
		if cs.cite.Detail != "" {
			points = cs.cite.Detail + "; " + points
		}
		cs.cite.Detail = points
	}
	return cs
}
