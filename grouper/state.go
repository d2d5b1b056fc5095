package grouper

import (
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/tables"
)

// Limits of the per-claim workspace.
const (
	maxSDX      = claim.MaxSDX        // the claim's capacity (claim.Grouped)
	maxProcs    = claim.MaxProcedures // idem
	maxClusters = 64
	maxHAC      = 3
)

// Diagnosis flags (algorithm §4.1).
const (
	fValid uint16 = 1 << iota
	fPDXExcluded
	fDiedExcluded
	fSexUnresolved
	fSuppressed
	fUsedInitial
	fUsedFinal
	fTraumaSite
	fHAC6Show
	fNonIncident
)

// Procedure flags (algorithm §4.1).
const (
	pFirstInput uint8 = 1 << iota
	pUsedInitial
	pUsedFinal
	pLateralPair
	pStentCounted
	pVesselCounted
	pFusionCounted
)

// POA indicator values.
type poa uint8

const (
	poaBlank poa = iota
	poaY
	poaN
	poaU
	poaW
	poaOne
	poaE
	poaInvalid
)

func parsePOA(s string) poa {
	switch s {
	case "":
		return poaBlank
	case "Y":
		return poaY
	case "N":
		return poaN
	case "U":
		return poaU
	case "W":
		return poaW
	case "1":
		return poaOne
	case "E":
		return poaE
	}
	return poaInvalid
}

// Discharge status: the UB-04 number, or dstatNone when absent or not a CMS status.
const dstatNone = -1

func validDischargeStatus(n int) bool {
	switch {
	case n >= 1 && n <= 7, n == 20, n == 21, n == 30, n == 43, n == 50, n == 51,
		n >= 61 && n <= 66, n == 69, n == 70, n >= 81 && n <= 95:
		return true
	}
	return false
}

// Sex values of the grouper.
const (
	sexUnknown = -1
	sexMale    = 1
	sexFemale  = 2
)

type phase uint8

const (
	phaseInitial phase = iota
	phaseFinal
)

type hacEntry struct {
	number int // reported number (set to 0 by §10.4 in some cases)
	hac    int // the HAC the entry was created for (its description)
	status HACEntryStatus
	list   string
}

type dxState struct {
	code    string
	input   int
	poa     poa
	c       *cdx     // nil when the code has no data for the version
	a       *dxAttrs // attributes (empty for an invalid code)
	flags   uint16
	sev     tables.Severity
	mdc     int
	hac     [maxHAC]hacEntry
	nhac    int
	rep     [maxHAC]int8 // reported entries (indexes into hac)
	nrep    int
	affects Affects
	usage   [2]Usage // per phase
	poaErr  POAError
	isHAC   bool
}

func (d *dxState) ops() []uint16 {
	return d.a.ops
}

type prState struct {
	code       string
	input      int
	c          *cpr
	attrs      []uint16
	flags      uint8
	suppr      uint32
	clusters   uint64 // bit i: formed cluster i (sorted order)
	recognized bool
	isOR       bool
	affects    Affects
	hacUsage   uint8
}

// sameState reports whether two procedures with the same code compare equal as whole objects
// in the reference implementation (the duplicate-code quirk of algorithm §6.5).
func (p *prState) sameState(q *prState) bool {
	return p.code == q.code && p.flags == q.flags && p.affects == q.affects &&
		p.hacUsage == q.hacUsage && p.suppr == q.suppr && p.clusters == q.clusters
}

type attr struct {
	prefix uint8
	name   uint16
}

// match is the outcome of evaluating the formulas of one MDC.
type match struct {
	r   *row
	acc []attr
	rc  ReturnCode
	sev Severity
}

// phaseResult is the outcome of one grouping phase.
type phaseResult struct {
	ungroupable bool
	rc          ReturnCode
	pre         *match // pre-MDC match, nil if none
	m           *match // final match
	mdc         int
	sev         Severity
	nstops      int
	stops       [6]int
}

// state is the per-claim workspace. It is reused between claims (see pool in engine.go).
type state struct {
	c   *compiled
	opt Options

	sex      int
	dstat    int
	hosp     hospitalStatus
	pdx      dxState
	pdxGiven bool
	sdxBuf   [maxSDX]dxState
	sdx      [maxSDX]*dxState // current order
	nsdx     int
	prBuf    [maxProcs]prState
	pr       [maxProcs]*prState // current order
	npr      int
	first    int // index in pr of the first input procedure, -1 if none
	cl       [maxClusters]*ccluster
	ncl      int

	pdxSet, sdxSet, noneSet bitset
	hid                     [maxNames]uint32
	touched                 []uint16
	onlyIncident            bool

	ctx       int
	inHAC     bool // evaluating HAC formulas: no suppression filter, no PDX in the dx list
	acc       []attr
	rc        ReturnCode
	sevCached bool // sevCache holds the severity of a row without suppression in sevPhase
	sevPhase  phase
	sevCache  Severity
	sevItem   Severity // severity item currently in the mask (sevItemNone: none)

	matches  [2][6]match
	nm       [2]int
	res      [2]phaseResult
	finalRan bool

	trace *tracer
}

type hospitalStatus uint8

const (
	hospNonExempt hospitalStatus = iota
	hospExempt
	hospUnknown
)
