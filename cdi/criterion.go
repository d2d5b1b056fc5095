package cdi

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Criterion combines indicators. In JSON it is either an indicator id ("spo2_low") or an
// object with exactly one of:
//
//	{"all": [c, …]}              every sub-criterion holds
//	{"any": [c, …]}              at least one holds
//	{"at_least": n, "of": [c, …]} at least n hold
//	{"not": c}                   c does not hold
//	{"documented": ["J961", …]}  a provider-documented or working code has one of the prefixes
//	{"principal": ["N390", …]}   the working principal diagnosis has one of the prefixes
type Criterion struct {
	Indicator  string
	All        []Criterion
	Any        []Criterion
	AtLeast    int
	Of         []Criterion
	Not        *Criterion
	Documented []string
	// Principal holds when the working principal diagnosis (the reason for admission as
	// coded) has one of the prefixes; never without a principal diagnosis.
	Principal []string
}

type criterionJSON struct {
	All        []Criterion `json:"all,omitempty"`
	Any        []Criterion `json:"any,omitempty"`
	AtLeast    int         `json:"at_least,omitempty"`
	Of         []Criterion `json:"of,omitempty"`
	Not        *Criterion  `json:"not,omitempty"`
	Documented []string    `json:"documented,omitempty"`
	Principal  []string    `json:"principal,omitempty"`
}

// UnmarshalJSON reads an indicator id or a combinator object.
func (c *Criterion) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = Criterion{Indicator: s}
		return nil
	}
	var j criterionJSON
	if err := strictUnmarshal(b, &j); err != nil {
		return fmt.Errorf("criterion: %w", err)
	}
	*c = Criterion{All: j.All, Any: j.Any, AtLeast: j.AtLeast, Of: j.Of, Not: j.Not, Documented: j.Documented, Principal: j.Principal}
	return nil
}

// MarshalJSON writes the form UnmarshalJSON reads.
func (c Criterion) MarshalJSON() ([]byte, error) {
	if c.Indicator != "" {
		return json.Marshal(c.Indicator)
	}
	return json.Marshal(criterionJSON{All: c.All, Any: c.Any, AtLeast: c.AtLeast, Of: c.Of, Not: c.Not, Documented: c.Documented, Principal: c.Principal})
}

// compile validates the criterion; a leaf names an indicator or a named criterion of the
// rules document (depth bounds the nesting of named criteria and rejects cycles).
func (c *Criterion) compile(r *Rules, depth int) error {
	if depth > maxCriterionDepth {
		return errors.New("named criteria nest too deep (cycle?)")
	}
	n := 0
	if c.Indicator != "" {
		n++
		if r.Indicators[c.Indicator] == nil {
			g := r.Criteria[c.Indicator]
			if g == nil {
				return fmt.Errorf("unknown indicator or criterion %q", c.Indicator)
			}
			if err := g.compile(r, depth+1); err != nil {
				return fmt.Errorf("%s: %w", c.Indicator, err)
			}
		}
	}
	if c.All != nil {
		n++
	}
	if c.Any != nil {
		n++
	}
	if c.Of != nil || c.AtLeast != 0 {
		n++
		if c.AtLeast < 1 || c.AtLeast > len(c.Of) {
			return fmt.Errorf("at_least %d of %d criteria", c.AtLeast, len(c.Of))
		}
	}
	if c.Not != nil {
		n++
	}
	if c.Documented != nil {
		n++
		normCodes(c.Documented)
	}
	if c.Principal != nil {
		n++
		normCodes(c.Principal)
	}
	if n != 1 {
		return errors.New("a criterion is an indicator id or an object with exactly one of all, any, at_least/of, not, documented, principal")
	}
	for _, l := range [][]Criterion{c.All, c.Any, c.Of} {
		for i := range l {
			if err := l[i].compile(r, depth); err != nil {
				return err
			}
		}
	}
	if c.Not != nil {
		return c.Not.compile(r, depth)
	}
	return nil
}

const maxCriterionDepth = 8

// criterionEnv answers the leaves of a criterion.
type criterionEnv interface {
	met(indicator string) bool
	documented(prefixes []string) bool
	principal(prefixes []string) bool
}

// eval reports whether the criterion holds.
func (c *Criterion) eval(env criterionEnv) bool {
	switch {
	case c.Indicator != "":
		return env.met(c.Indicator)
	case c.All != nil:
		for i := range c.All {
			if !c.All[i].eval(env) {
				return false
			}
		}
		return true
	case c.Any != nil:
		for i := range c.Any {
			if c.Any[i].eval(env) {
				return true
			}
		}
		return false
	case c.Of != nil:
		return c.count(env) >= c.AtLeast
	case c.Not != nil:
		return !c.Not.eval(env)
	case c.Documented != nil:
		return env.documented(c.Documented)
	case c.Principal != nil:
		return env.principal(c.Principal)
	}
	return false
}

func (c *Criterion) count(env criterionEnv) int {
	n := 0
	for i := range c.Of {
		if c.Of[i].eval(env) {
			n++
		}
	}
	return n
}

// explain renders the criterion with each leaf marked met (✓) or not (✗).
func (c *Criterion) explain(env criterionEnv) string {
	var b strings.Builder
	c.writeExplain(&b, env)
	return b.String()
}

func (c *Criterion) writeExplain(b *strings.Builder, env criterionEnv) {
	mark := func(ok bool) string {
		if ok {
			return " ✓"
		}
		return " ✗"
	}
	list := func(name string, l []Criterion) {
		b.WriteString(name)
		b.WriteByte('(')
		for i := range l {
			if i > 0 {
				b.WriteString(", ")
			}
			l[i].writeExplain(b, env)
		}
		b.WriteByte(')')
	}
	switch {
	case c.Indicator != "":
		b.WriteString(c.Indicator)
		b.WriteString(mark(env.met(c.Indicator)))
	case c.All != nil:
		list("all", c.All)
	case c.Any != nil:
		list("any", c.Any)
	case c.Of != nil:
		list("at least "+strconv.Itoa(c.AtLeast)+" of", c.Of)
		fmt.Fprintf(b, " = %d", c.count(env))
	case c.Not != nil:
		b.WriteString("not(")
		c.Not.writeExplain(b, env)
		b.WriteByte(')')
	case c.Documented != nil:
		b.WriteString("documented(" + strings.Join(c.Documented, " ") + ")")
		b.WriteString(mark(env.documented(c.Documented)))
	case c.Principal != nil:
		b.WriteString("principal(" + strings.Join(c.Principal, " ") + ")")
		b.WriteString(mark(env.principal(c.Principal)))
	}
}

// supporting appends the ids of the met indicators that make the criterion hold: the
// indicators of the branches that hold (nothing when the criterion does not hold, nothing
// under "not").
func (c *Criterion) supporting(r *Rules, env criterionEnv, dst []string) []string {
	if c == nil || !c.eval(env) {
		return dst
	}
	switch {
	case c.Indicator != "":
		if g := r.Criteria[c.Indicator]; g != nil && r.Indicators[c.Indicator] == nil {
			return g.supporting(r, env, dst)
		}
		if !slices.Contains(dst, c.Indicator) {
			dst = append(dst, c.Indicator)
		}
	default:
		for _, l := range [][]Criterion{c.All, c.Any, c.Of} {
			for i := range l {
				dst = l[i].supporting(r, env, dst)
			}
		}
	}
	return dst
}

// indicators appends the indicator ids the criterion references, expanding named criteria
// (each id once, in order). Indicators under "not" argue against the condition and are left
// out: they are never cited in support of it.
func (c *Criterion) indicators(r *Rules, dst []string) []string {
	if c == nil {
		return dst
	}
	if c.Indicator != "" {
		if g := r.Criteria[c.Indicator]; g != nil && r.Indicators[c.Indicator] == nil {
			return g.indicators(r, dst)
		}
		if !slices.Contains(dst, c.Indicator) {
			dst = append(dst, c.Indicator)
		}
	}
	for _, l := range [][]Criterion{c.All, c.Any, c.Of} {
		for i := range l {
			dst = l[i].indicators(r, dst)
		}
	}
	return dst
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// onset returns when the criterion came to hold: an indicator at its earliest timed citation
// of the stay, "all" at the latest onset of its parts (a condition exists once every part of
// it does), "any" at the earliest of the parts that hold, "at least n" at the n-th earliest.
// Documentation, the principal diagnosis and negations date nothing; ok is false when
// nothing that holds is dated.
func (c *Criterion) onset(r *Rules, s *indicators) (time.Time, bool) {
	if c == nil || !c.eval(s) {
		return time.Time{}, false
	}
	switch {
	case c.Indicator != "":
		if g := r.Criteria[c.Indicator]; g != nil && r.Indicators[c.Indicator] == nil {
			return g.onset(r, s)
		}
		var first time.Time
		for _, ct := range s.result(c.Indicator).Cited {
			if !ct.Time.IsZero() && !ct.PriorEncounter && (first.IsZero() || ct.Time.Before(first)) {
				first = ct.Time
			}
		}
		return first, !first.IsZero()
	case c.All != nil:
		var last time.Time
		for i := range c.All {
			if t, ok := c.All[i].onset(r, s); ok && t.After(last) {
				last = t
			}
		}
		return last, !last.IsZero()
	case c.Any != nil, c.Of != nil:
		l, n := c.Any, 1
		if c.Of != nil {
			l, n = c.Of, c.AtLeast
		}
		var ts []time.Time
		for i := range l {
			if t, ok := l[i].onset(r, s); ok {
				ts = append(ts, t)
			}
		}
		if len(ts) == 0 {
			return time.Time{}, false
		}
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		return ts[min(n, len(ts))-1], true
	}
	return time.Time{}, false
}
