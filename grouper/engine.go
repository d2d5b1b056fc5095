// Package grouper is the MS-DRG engine: given a claim and the CMS grouper tables it produces
// exactly what the official CMS MS-DRG grouper produces (initial and final DRG, MDC, severity,
// return code, HAC processing and the per-code flags), and explains how it got there.
//
// The DRG logic is data. Each version's formulas are compiled once (on first use) into trees
// over interned attribute names; a claim is turned into a bitset mask and the trees are
// evaluated against it. No DRG or MDC is special-cased in Go code. The package does no I/O.
package grouper

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/tables"
)

// TieBreaker selects the order in which equally qualified codes are considered for marking.
type TieBreaker uint8

// Tie-breakers of the CMS grouper.
const (
	ClinicalSignificance TieBreaker = iota // CMS default: SDX by level then code, procedures by code
	CodeOrder                              // input order
)

// Options are the runtime options of the CMS grouper. The zero value is the CMS default.
type Options struct {
	TieBreaker TieBreaker
	// SkipAffects turns off the "affects DRG" computation (CMS option DO_NOT_COMPUTE).
	SkipAffects bool
	// Explain records the path taken; read it with Result.Explanation after GroupExplain.
	Explain bool
}

// Engine groups claims with the tables of every loaded version. It is safe for concurrent use.
type Engine struct {
	data     *tables.MSDRG
	ixOnce   sync.Once
	ix       *indexes
	mu       sync.Mutex
	versions map[tables.Version]*versionSlot
	pool     sync.Pool
}

type versionSlot struct {
	once sync.Once
	c    *compiled
	err  error
}

// New returns an engine over the decoded grouper tables. Versions are compiled on first use
// (or by Prepare).
func New(data *tables.MSDRG) *Engine {
	e := &Engine{data: data, versions: map[tables.Version]*versionSlot{}}
	e.pool.New = func() any { return &state{acc: make([]attr, 0, 64)} }
	return e
}

// Versions returns the versions the engine can group with, ascending.
func (e *Engine) Versions() []tables.Version { return e.data.Versions }

// Prepare compiles the given versions (all loaded versions when none are given) so that the
// first claim does not pay for it.
func (e *Engine) Prepare(vs ...tables.Version) error {
	if len(vs) == 0 {
		vs = e.data.Versions
	}
	errs := make([]error, len(vs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, v := range vs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_, errs[i] = e.version(v)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (e *Engine) version(v tables.Version) (*compiled, error) {
	e.mu.Lock()
	slot := e.versions[v]
	if slot == nil {
		slot = &versionSlot{}
		e.versions[v] = slot
	}
	e.mu.Unlock()
	e.ixOnce.Do(func() { e.ix = buildIndexes(e.data) })
	slot.once.Do(func() {
		slot.c, slot.err = compile(e.data, e.ix, v)
		if slot.err != nil {
			if _, ok := slot.err.(*UnknownVersionError); !ok {
				slot.err = fmt.Errorf("compile grouper version %d: %w", int(v), slot.err)
			}
		}
	})
	return slot.c, slot.err
}

// Group groups one claim. The claim's Version must be set (see tables.VersionForDate to pick
// one from the discharge date).
func (e *Engine) Group(c *claim.Claim, opt Options) (*Result, error) {
	r := &Result{}
	if err := e.GroupInto(c, opt, r); err != nil {
		return nil, err
	}
	return r, nil
}

// GroupInto groups one claim into r, reusing r's slices. It is the allocation-free path used
// by batch grouping.
//
// A claim carries at most 24 secondary diagnoses and 25 procedures (CMS): of a longer list
// the first ones, in the order given, are grouped and each code left out is reported in
// r.Warnings with its own CC/MCC level, so that a coder can reorder.
func (e *Engine) GroupInto(c *claim.Claim, opt Options, r *Result) error {
	if err := Validate(c); err != nil {
		return err
	}
	cv, err := e.version(tables.Version(c.Version))
	if err != nil {
		return err
	}
	r.Warnings = r.Warnings[:0]
	full := c
	c = c.Grouped()
	s := e.pool.Get().(*state)
	s.reset(cv, opt)
	if opt.Explain {
		s.trace = &tracer{}
	}
	s.load(c)
	s.run()
	s.output(c, r)
	if s.trace != nil {
		r.Explanation = s.trace.render(s, r)
		s.trace = nil
	}
	e.pool.Put(s)
	if full != c {
		notGrouped(cv, full, r)
	}
	return nil
}

// notGrouped reports the codes of c beyond the claim's capacity.
func notGrouped(cv *compiled, c *claim.Claim, r *Result) {
	for i := maxSDX; i < len(c.SDX); i++ {
		w := Warning{Kind: WarnNotGrouped, Field: fmt.Sprintf("sdx[%d]", i), Code: c.SDX[i].Code}
		if d := cv.diagnosis(c.SDX[i].Code); d != nil && d.valid() {
			w.Level = d.sev.String()
		}
		w.Message = fmt.Sprintf("secondary diagnosis %d, %s, is not grouped: the claim carries the first %d secondary diagnoses", i+1, w.Code, maxSDX)
		switch w.Level {
		case "MCC":
			w.Message += fmt.Sprintf("; %s is an MCC: move it among the first %d to have it considered", w.Code, maxSDX)
		case "CC":
			w.Message += fmt.Sprintf("; %s is a CC: move it among the first %d to have it considered", w.Code, maxSDX)
		}
		r.Warnings = append(r.Warnings, w)
	}
	for i := maxProcs; i < len(c.Procedures); i++ {
		r.Warnings = append(r.Warnings, Warning{Kind: WarnNotGrouped, Field: fmt.Sprintf("procedures[%d]", i), Code: c.Procedures[i].Code,
			Message: fmt.Sprintf("procedure %d, %s, is not grouped: the claim carries the first %d procedures", i+1, c.Procedures[i].Code, maxProcs)})
	}
}

// Validate checks what no claim can carry (claim.Check: a sex, POA indicator or patient
// status outside the wire conventions…) and that a version is given; everything else
// (unknown codes, two-digit patient statuses the CMS tables do not list) is grouped and
// reported the CMS way. Lists longer than a claim carries are grouped in part
// (see GroupInto).
func Validate(c *claim.Claim) error {
	var errs claim.Errors
	if c.Version == 0 {
		errs = append(errs, &claim.FieldError{Field: "version", Message: "required (or a discharge_date to choose it)"})
	}
	return errs.Merge(c.Check()).Err()
}
