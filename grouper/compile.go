package grouper

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/msdrg-cdi/drg/tables"
)

// maxMDC is the largest MDC key of the formula lists (99: the error DRG list).
const maxMDC = 99

// maxNames bounds the attribute names of one version (operands, categories, HAC lists,
// procedure attributes, formula atoms); the claim mask is a fixed-size bitset over them.
const maxNames = 1024

type bitset [maxNames / 64]uint64

func (b *bitset) set(i uint16)      { b[i>>6] |= 1 << (i & 63) }
func (b *bitset) clear(i uint16)    { b[i>>6] &^= 1 << (i & 63) }
func (b *bitset) has(i uint16) bool { return b[i>>6]&(1<<(i&63)) != 0 }

// mdcBit is the bit of an MDC in a suppression-MDC mask; MDCs that can never be a context
// MDC (99) have no bit.
func mdcBit(m int) uint32 {
	if m < 0 || m > 31 {
		return 0
	}
	return 1 << uint(m)
}

// logic holds the version-dependent behaviour of the CMS logic packages (algorithm §15).
type logic struct {
	orByNonOR         bool // 40.x/41.x: a procedure is OR unless it has "nonor"
	specialExactCase  bool // 40.x/41.x: special atoms matched case-sensitively
	drugStentTerms    bool // 40.x: FOUR_DRUG_ELUTING_STENTS / FOUR_NON_DRUG_ELUTING_STENTS
	fusionTerms       bool // 42.x+: fusion counters
	fusion43Terms     bool // 43.x: SGLANTCTR, SGLPOST1CTR
	fusionMarking     bool // 42.x+: FUSION_COUNTED handling in procedure marking
	principalNeedsOR  bool // 41.x+: the principal procedure must be OR in procedure marking
	excludedByLogic   bool // 41.1+: …_EXCLUDED_BY_DRG_LOGIC usages are produced
	hacZeroAllEntries bool // 41.x+: the "not any" HAC fallback zeroes every entry
}

func logicFor(v tables.Version) logic {
	switch {
	case v < 410:
		return logic{orByNonOR: true, specialExactCase: true, drugStentTerms: true}
	case v < 420:
		return logic{orByNonOR: true, specialExactCase: true, principalNeedsOR: true,
			excludedByLogic: v >= 411, hacZeroAllEntries: true}
	case v < 430:
		return logic{fusionTerms: true, fusionMarking: true, principalNeedsOR: true,
			excludedByLogic: true, hacZeroAllEntries: true}
	default:
		return logic{fusionTerms: true, fusion43Terms: true, fusionMarking: true,
			principalNeedsOR: true, excludedByLogic: true, hacZeroAllEntries: true}
	}
}

// dxAttrs is the attribute content of a diagnosis record. It is shared by every code with
// the same attribute lists, which keeps the per-code records small and the shared part hot in
// the CPU caches.
type dxAttrs struct {
	ops      []uint16 // operand attribute names
	cats     []uint16 // category names
	hacs     []uint16 // HAC attribute names
	hacUpper bool     // some HAC attribute name starts with "HAC"
	hac6Show bool     // HAC attributes contain hac06_show
	hac11PDX bool     // some HAC attribute name ends with hac11_pdx
	mccAlive bool     // operand mccalive (case-insensitive)
	incident bool     // operand incident (case-insensitive)
	sites    uint8    // significant-trauma site names carried (bit per name, MULTST order)
}

// cdx is a compiled diagnosis code of one version. It is kept small (12 bytes) because the
// per-version slice of them is read at random for every code of every claim.
type cdx struct {
	attrs     uint16 // index in compiled.attrs (0: none)
	excl      uint16 // index in indexes.groupList of the CC/MCC exclusion group as PDX (0: none)
	hacT      uint16 // index in compiled.hacTemplates of the HAC entries as SDX (0: none)
	flags     uint8
	sev       tables.Severity
	mdc       int8
	genderMDC [2]int8 // male, female
}

// cdx flags.
const (
	cdxPresent uint8 = 1 << iota // the code has some data in this version
	cdxValid                     // the code has a diagnosis record in this version
	cdxGender                    // the code's MDC as PDX depends on sex
)

func (d *cdx) valid() bool     { return d.flags&cdxValid != 0 }
func (d *cdx) hasGender() bool { return d.flags&cdxGender != 0 }

// prAttrs is the attribute content of a procedure record, shared like dxAttrs.
type prAttrs struct {
	attrs    []uint16 // includes ORPROC when d468 or d477 is present
	isOR     bool
	hacUsage uint8 // bits of HAC_08 … HAC_14 usages (procUsage order) the attributes name
	lat      uint8 // laterality names carried (bit per name, BILATERAL order)
	stents   uint8 // bit i: stent(i+1)
	vessels  uint8
	fusion   uint8 // bit per fusion name
	drugStnt bool  // NORdrugstent
	stent    bool  // NORstent
	arterial bool
}

// cpr is a compiled procedure code or cluster id of one version.
type cpr struct {
	*prAttrs
	clusters *[]*ccluster // clusters the procedure participates in
	present  bool
}

// ccluster is a compiled procedure cluster of one version.
type ccluster struct {
	id     string
	suppr  uint32
	slots  map[string]uint8 // member code → choice slot (1-based)
	nslots int
	attrs  []uint16
}

// row is a compiled DRG formula.
type row struct {
	f       *tables.Formula
	drg     int
	baseDRG int
	typ     DRGType
	reroute int
	expr    *node
	supp    []uint16 // folded operand names suppressed for severity
	rank    int
	// req are plain atoms the formula cannot be true without. Set only for formulas without
	// side effects (no counting or incident terms), so that a row whose required atom is
	// absent can be skipped without evaluating it.
	req []attr
}

// compiled is the grouper's view of one version: every table resolved for the version,
// every name interned, every formula parsed.
type compiled struct {
	version tables.Version
	logic   logic

	names  map[string]uint16 // exact name → id
	byID   []string
	fold   []uint16 // id → id of the lower-cased name
	folded map[string]uint16

	ix      *indexes
	attrs   []*dxAttrs   // shared attribute records of diagnoses; attrs[0] is empty
	hacTmpl [][]hacEntry // HAC entry templates; hacTmpl[0] is empty
	// groupList is the shared exclusion group list as it stood after this version compiled
	// (it holds every group the version uses; other versions only append).
	groupList [][]uint64
	groupIDs  []int
	dx        []cdx // by dx code number, while compiling
	pr        []cpr // by pr code number, while compiling
	dxTable   codeTable[cdx]
	prTable   codeTable[cpr]
	clusters  map[string]*ccluster
	mdcRows   [maxMDC + 1][]*row
	hacRows   [15][]*node

	drgTitle, baseTitle titles // by DRG number
	mdcTitle            titles // by MDC number
	hacTitle            [15]string

	// ids of names the engine itself refers to
	idMCC, idCC, idNonCC, idORPROC, idInvalidPDX, idPDXEcode, idALIVE, idInvalidDstat,
	idAMA, idDIED, idXFRNBA, idANYDX, idIncident, idInvalidSex, idInvalidAge uint16
	foldMCC, foldCC            uint16
	idRevision                 uint16
	siteNames                  [8]uint16
	latNames                   [6]uint16
	stentNames, vesselNames    [4]uint16
	fusionNames                [6]uint16
	idArterial, idNORdrugstent uint16
	idNORstent                 uint16
}

var siteOrder = [8]string{"sthead", "stchest", "stabdom", "stkidney", "sturin", "stpel", "stuplimb", "stlolimb"}
var latOrder = [6]string{"righthip", "rightknee", "rightankle", "lefthip", "leftknee", "leftankle"}
var fusionOrder = [6]string{"sglantfuse", "sglpostfuse", "sglpostfuse1", "sglantsectXfuse", "sglantfuse_noX", "multantfuse1"}

func (c *compiled) intern(name string) uint16 {
	if id, ok := c.names[name]; ok {
		return id
	}
	if len(c.byID) >= maxNames {
		panic(fmt.Sprintf("grouper: more than %d attribute names", maxNames))
	}
	id := uint16(len(c.byID))
	c.names[name] = id
	c.byID = append(c.byID, name)
	low := strings.ToLower(name)
	if low == name {
		c.fold = append(c.fold, id)
	} else {
		c.fold = append(c.fold, c.intern(low))
	}
	return id
}

func (c *compiled) internAll(names []string, cache map[*string]([]uint16)) []uint16 {
	if len(names) == 0 {
		return nil
	}
	if cache != nil {
		if ids, ok := cache[&names[0]]; ok && len(ids) == len(names) {
			return ids
		}
	}
	ids := make([]uint16, len(names))
	for i, n := range names {
		ids[i] = c.intern(n)
	}
	if cache != nil {
		cache[&names[0]] = ids
	}
	return ids
}

// hasFold reports whether ids contains a name equal, ignoring case, to the name with fold id f.
func (c *compiled) hasFold(ids []uint16, f uint16) bool {
	for _, id := range ids {
		if c.fold[id] == f {
			return true
		}
	}
	return false
}

func compile(m *tables.MSDRG, ix *indexes, v tables.Version) (*compiled, error) {
	if !m.HasVersion(v) {
		return nil, &UnknownVersionError{Version: int(v), Loaded: m.Versions}
	}
	c := &compiled{version: v, logic: logicFor(v), ix: ix}
	c.names = make(map[string]uint16, 600)
	// Fixed names first so that their ids are stable and small.
	c.idMCC, c.idCC, c.idNonCC = c.intern("MCC"), c.intern("CC"), c.intern("NON_CC")
	c.idORPROC = c.intern("ORPROC")
	c.idInvalidPDX, c.idPDXEcode = c.intern("invalid_pdx"), c.intern("pdx_ecode")
	c.idALIVE, c.idInvalidDstat, c.idAMA = c.intern("ALIVE"), c.intern("invalid_dstat"), c.intern("AMA")
	c.idDIED, c.idXFRNBA, c.idANYDX = c.intern("DIED"), c.intern("XFRNBA"), c.intern("ANYDX")
	c.idIncident, c.idInvalidSex, c.idInvalidAge = c.intern("incident"), c.intern("invalid_sex"), c.intern("invalid_age")
	c.foldMCC, c.foldCC = c.fold[c.idMCC], c.fold[c.idCC]
	c.idRevision = c.intern("revision")
	for i, s := range siteOrder {
		c.siteNames[i] = c.intern(s)
	}
	for i, s := range latOrder {
		c.latNames[i] = c.intern(s)
	}
	for i := range 4 {
		c.stentNames[i] = c.intern(fmt.Sprintf("stent%d", i+1))
		c.vesselNames[i] = c.intern(fmt.Sprintf("vessel%d", i+1))
	}
	for i, s := range fusionOrder {
		c.fusionNames[i] = c.intern(s)
	}
	c.idArterial, c.idNORdrugstent, c.idNORstent = c.intern("arterial"), c.intern("NORdrugstent"), c.intern("NORstent")

	c.compileDx(m)
	if err := c.compileProcedures(m); err != nil {
		return nil, err
	}
	if err := c.compileFormulas(m); err != nil {
		return nil, err
	}
	c.compileTitles(m)
	c.dxTable = tableOf(&ix.dx, c.dx, func(d *cdx) bool { return d.flags&cdxPresent != 0 })
	c.prTable = tableOf(&ix.pr, c.pr, func(p *cpr) bool { return p.present })
	c.dx, c.pr = nil, nil
	return c, nil
}

func (c *compiled) compileDx(m *tables.MSDRG) {
	v := c.version
	cache := map[*string][]uint16{}
	c.dx = make([]cdx, c.ix.dx.len())
	c.attrs = []*dxAttrs{{}}
	c.hacTmpl = [][]hacEntry{nil}
	get := func(code string) *cdx {
		i := c.ix.dx.lookup(code)
		if i < 0 {
			return &cdx{} // not addressable by any claim code
		}
		d := &c.dx[i]
		if d.flags&cdxPresent == 0 {
			*d = cdx{flags: cdxPresent, mdc: -1, sev: tables.NCC}
		}
		return d
	}
	foldMCCAlive := c.fold[c.intern("mccalive")]
	foldIncident := c.fold[c.idIncident]
	type attrsKey [3]*string
	first := func(l []string) *string {
		if len(l) == 0 {
			return nil
		}
		return &l[0]
	}
	shared := map[attrsKey]uint16{}
	for code, recs := range m.Dx {
		r, ok := tables.Pick(recs, v)
		if !ok {
			continue
		}
		d := get(code)
		d.flags |= cdxValid
		d.mdc, d.sev = int8(r.MDC), r.Severity
		key := attrsKey{first(r.Operands), first(r.Categories), first(r.HACOperands)}
		idx, ok := shared[key]
		if !ok {
			a := &dxAttrs{ops: c.internAll(r.Operands, cache), cats: c.internAll(r.Categories, cache), hacs: c.internAll(r.HACOperands, cache)}
			for _, h := range r.HACOperands {
				if strings.HasPrefix(h, "HAC") {
					a.hacUpper = true
				}
				if h == "hac06_show" {
					a.hac6Show = true
				}
				if strings.HasSuffix(h, "hac11_pdx") {
					a.hac11PDX = true
				}
			}
			a.mccAlive = c.hasFold(a.ops, foldMCCAlive)
			a.incident = c.hasFold(a.ops, foldIncident)
			for i, s := range c.siteNames {
				if c.hasFold(a.ops, c.fold[s]) {
					a.sites |= 1 << i
				}
			}
			idx = uint16(len(c.attrs))
			c.attrs = append(c.attrs, a)
			shared[key] = idx
		}
		d.attrs = idx
	}
	for code, recs := range m.PdxExclusions {
		if r, ok := tables.Pick(recs, v); ok {
			get(code).excl = c.ix.exclusionGroup(m, r.Group)
		}
	}
	c.ix.mu.Lock()
	c.groupList, c.groupIDs = c.ix.groupList, c.ix.groupIDs
	c.ix.mu.Unlock()
	for code, recs := range m.GenderMDCs {
		r, ok := tables.Pick(recs, v)
		if !ok {
			continue
		}
		d := get(code)
		d.flags |= cdxGender
		d.genderMDC[0], d.genderMDC[1] = int8(r.MDCBySex[1]), int8(r.MDCBySex[2])
	}
	for code, recs := range m.HACInfos {
		r, ok := tables.Pick(recs, v)
		if !ok {
			continue
		}
		if d := get(code); d.valid() && c.attrs[d.attrs].hacUpper {
			d.hacT = uint16(len(c.hacTmpl))
			c.hacTmpl = append(c.hacTmpl, hacTemplate(r))
		}
	}
}

// hacTemplate creates the HAC entries of a secondary diagnosis from its HAC information
// (§4.4 step 4): one entry per distinct number, in list order, named after the first list
// name containing the number's digits.
func hacTemplate(info *tables.HACInfo) []hacEntry {
	distinct := 0
	for i, n := range info.Numbers {
		if !slices.Contains(info.Numbers[:i], n) {
			distinct++
		}
	}
	out := make([]hacEntry, 0, distinct)
	for i := 0; i < distinct && i < maxHAC; i++ {
		n := info.Numbers[i]
		list := ""
		for _, o := range info.Operands {
			if strings.Contains(o, strconv.Itoa(n)) {
				list = o
				break
			}
		}
		out = append(out, hacEntry{number: n, hac: n, list: list, status: NotOnHACList})
	}
	return out
}

func (c *compiled) compileProcedures(m *tables.MSDRG) error {
	v := c.version
	cache := map[*string][]uint16{}
	c.clusters = map[string]*ccluster{}
	for id, recs := range m.Clusters {
		r, ok := tables.Pick(recs, v)
		if !ok {
			continue
		}
		cl := &ccluster{id: id, slots: map[string]uint8{}, nslots: len(r.Choices)}
		for _, s := range r.SuppressionMDCs {
			cl.suppr |= mdcBit(s)
		}
		for _, ch := range r.Choices {
			if ch.Choice < 1 || ch.Choice > 64 {
				return fmt.Errorf("cluster %s: choice number %d out of range", id, ch.Choice)
			}
			if ch.Choice > cl.nslots {
				cl.nslots = ch.Choice
			}
			for _, code := range ch.Codes {
				cl.slots[code] = uint8(ch.Choice)
			}
		}
		c.clusters[id] = cl
	}
	c.pr = make([]cpr, c.ix.pr.len())
	shared := map[*string]*prAttrs{}
	for code, recs := range m.Pr {
		r, ok := tables.Pick(recs, v)
		if !ok || len(r.Operands) == 0 {
			continue
		}
		a := shared[&r.Operands[0]]
		if a == nil {
			a = c.procedureAttrs(r.Operands, cache)
			shared[&r.Operands[0]] = a
		}
		if i := c.ix.pr.lookup(code); i >= 0 {
			c.pr[i] = cpr{prAttrs: a, present: true}
		}
		if cl := c.clusters[code]; cl != nil {
			cl.attrs = a.attrs
		}
	}
	unknown := &prAttrs{isOR: c.logic.orByNonOR}
	for code, recs := range m.CodeClusters {
		r, ok := tables.Pick(recs, v)
		if !ok {
			continue
		}
		i := c.ix.pr.lookup(code)
		if i < 0 {
			continue
		}
		p := &c.pr[i]
		if !p.present {
			*p = cpr{prAttrs: unknown, present: true}
		}
		var cls []*ccluster
		for _, id := range r.IDs {
			if cl := c.clusters[id]; cl != nil {
				cls = append(cls, cl)
			}
		}
		if len(cls) > 0 {
			p.clusters = &cls
		}
	}
	return nil
}

// procedureAttrs compiles the attribute list of a procedure record (§4.3).
func (c *compiled) procedureAttrs(names []string, cache map[*string][]uint16) *prAttrs {
	nonor := c.intern("nonor")
	d468, d477, ornec := c.intern("d468"), c.intern("d477"), c.intern("ornec")
	p := &prAttrs{attrs: c.internAll(names, cache)}
	or, hasNonOR := false, false
	for _, a := range p.attrs {
		switch a {
		case d468, d477, ornec:
			or = true
		case nonor:
			hasNonOR = true
		}
	}
	if slices.Contains(p.attrs, d468) || slices.Contains(p.attrs, d477) {
		p.attrs = append(slices.Clone(p.attrs), c.idORPROC)
	}
	if c.logic.orByNonOR {
		p.isOR = !hasNonOR
	} else {
		p.isOR = or
	}
	for _, n := range names {
		for i, frag := range hacProcName {
			if strings.Contains(n, frag) {
				p.hacUsage |= 1 << i
			}
		}
	}
	for _, a := range p.attrs {
		for i, s := range c.latNames {
			if a == s {
				p.lat |= 1 << i
			}
		}
		for i := range 4 {
			if a == c.stentNames[i] {
				p.stents |= 1 << i
			}
			if a == c.vesselNames[i] {
				p.vessels |= 1 << i
			}
		}
		for i, s := range c.fusionNames {
			if a == s {
				p.fusion |= 1 << i
			}
		}
		switch a {
		case c.idNORdrugstent:
			p.drugStnt = true
		case c.idNORstent:
			p.stent = true
		case c.idArterial:
			p.arterial = true
		}
	}
	return p
}

// hacProcName is the attribute name fragment that gives a procedure each HAC usage.
var hacProcName = [6]string{"hac08_proc", "hac10_proc", "hac11_proc", "hac12_proc", "hac13_proc", "hac14_proc"}

func (c *compiled) compileFormulas(m *tables.MSDRG) error {
	for mdc := range m.Formulas {
		if mdc < 0 || mdc > maxMDC {
			return fmt.Errorf("formula list for MDC %d: out of range 0-%d", mdc, maxMDC)
		}
		for _, f := range m.FormulasFor(mdc, c.version) {
			expr, err := c.parse(f.Expr)
			if err != nil {
				return fmt.Errorf("MDC %d DRG %d formula %q: %w", mdc, f.DRG, f.Expr, err)
			}
			rk, _ := f.Rank(c.version)
			r := &row{f: f, drg: f.DRG, baseDRG: f.BaseDRG, reroute: f.RerouteMDC, expr: expr, rank: rk}
			if !hasSideEffects(expr) {
				r.req = c.required(expr)
			}
			switch f.Surgical {
			case "SURGICAL":
				r.typ = Surgical
			case "MEDICAL":
				r.typ = Medical
			default:
				r.typ = TypeNone
			}
			for _, s := range f.SeveritySuppression {
				if s != "" {
					r.supp = append(r.supp, c.fold[c.intern(s)])
				}
			}
			c.mdcRows[mdc] = append(c.mdcRows[mdc], r)
		}
	}
	for hac, recs := range m.HACFormulas {
		if hac < 1 || hac > 14 {
			continue
		}
		for i := range recs {
			if !recs[i].Versions.Has(c.version) {
				continue
			}
			expr, err := c.parse(recs[i].Expr)
			if err != nil {
				return fmt.Errorf("HAC %d formula %q: %w", hac, recs[i].Expr, err)
			}
			c.hacRows[hac] = append(c.hacRows[hac], expr)
		}
	}
	return nil
}

func (c *compiled) compileTitles(m *tables.MSDRG) {
	pick := func(t map[int][]tables.Description) titles {
		out := make(titles, maxKey(t)+1)
		for n, ds := range t {
			if d, ok := tables.Pick(ds, c.version); ok && n >= 0 {
				out[n] = d.Text
			}
		}
		return out
	}
	c.drgTitle = pick(m.DRGTitles)
	c.baseTitle = pick(m.BaseDRGTitles)
	c.mdcTitle = pick(m.MDCTitles)
	for n, s := range pick(m.HACTitles) {
		if n >= 0 && n < len(c.hacTitle) {
			c.hacTitle[n] = s
		}
	}
}

// maxKey returns the largest key of m (0 when empty or negative).
func maxKey[V any](m map[int]V) int {
	k := 0
	for n := range m {
		k = max(k, n)
	}
	return k
}

// titles are descriptions by number (DRG, base DRG or MDC).
type titles []string

// of returns the title of n, "" when absent.
func (t titles) of(n int) string {
	if n < 0 || n >= len(t) {
		return ""
	}
	return t[n]
}

// hasSideEffects reports whether evaluating the formula can change claim state: the counting
// terms flag codes and a false incident term flags a diagnosis.
func hasSideEffects(n *node) bool {
	if n.kind == nSpecial {
		switch n.special {
		case spInvalidDstat, spInvalidPDX, spInvalidSex, spPDXEcode, spInvalidAge, spMDC20FallThru:
			return false
		}
		return true
	}
	for _, k := range n.kids {
		if hasSideEffects(k) {
			return true
		}
	}
	return false
}

// required returns plain atoms that must be visible for the formula to be true. The severity
// items (MCC, CC, NON_CC) are left out: they are set per row after the check.
func (c *compiled) required(n *node) []attr {
	switch n.kind {
	case nAtom:
		if n.prefix == pfxNone && (n.name == c.idMCC || n.name == c.idCC || n.name == c.idNonCC) {
			return nil
		}
		if n.prefix == pfxONLY || n.prefix == pfxPT {
			return nil
		}
		return []attr{{n.prefix, n.name}}
	case nAnd:
		var out []attr
		for _, k := range n.kids {
			for _, a := range c.required(k) {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
		return out
	case nOr:
		if len(n.kids) == 0 {
			return nil
		}
		out := c.required(n.kids[0])
		for _, k := range n.kids[1:] {
			other := c.required(k)
			out = slices.DeleteFunc(out, func(a attr) bool { return !slices.Contains(other, a) })
		}
		return out
	}
	return nil
}
