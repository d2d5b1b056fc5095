// Package mce implements the CMS Medicare Code Editor (MCE 2.0, release 43.1): the coding and
// coverage edits CMS applies to an inpatient claim before payment.
//
// The package is pure: it reads the decoded mce.bin (tables.MCEData) and a claim and returns
// the edits, with the same outcome as the CMS Java MCE (edit type, counters, per-code edit
// lists and legacy edit strings).
package mce

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/tables"
)

// Options are the MCE's run options.
type Options struct {
	// ICDVersion selects the code tables and edit list: 9 for ICD-9-CM claims; 0, 10 or any
	// other value for ICD-10.
	ICDVersion int
	// Edits never raised on the principal diagnosis, on other diagnoses (secondary
	// diagnoses and the admitting diagnosis), and on procedures.
	SuppressPDX, SuppressSDX, SuppressProc EditSet
}

// EditType is the claim-level outcome of the MCE.
type EditType uint8

// Edit types, as the CMS MCE names them.
const (
	EditTypeNone                 EditType = iota // no edit with a payment consequence
	EditTypePrepayment                           // only prepayment edits
	EditTypePostpayment                          // only postpayment edits
	EditTypeBoth                                 // prepayment and postpayment edits
	EditTypeInvalidDischargeDate                 // discharge date missing or out of range: nothing edited
)

var editTypeNames = [...]string{"NONE", "PREPAYMENT", "POSTPAYMENT", "BOTH", "INVALID_DISCHARGE_DATE"}

// String returns the CMS name of the edit type.
func (t EditType) String() string {
	if int(t) < len(editTypeNames) {
		return editTypeNames[t]
	}
	return "EditType(?)"
}

// MarshalText renders the edit type by its CMS name.
func (t EditType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Role is the place of a code on the claim.
type Role uint8

// Roles of the codes of a claim.
const (
	RolePDX       Role = iota + 1 // principal diagnosis (the first diagnosis)
	RoleSDX                       // secondary diagnosis
	RoleAdmitDx                   // admitting diagnosis
	RoleProcedure                 // procedure
)

var roleNames = [...]string{"", "PDX", "SDX", "admit dx", "procedure"}

// String names the role as coders do (PDX, SDX, admit dx, procedure; "claim" for 0).
func (r Role) String() string {
	if int(r) < len(roleNames) && r > 0 {
		return roleNames[r]
	}
	return "claim"
}

// MarshalText renders the role as String does.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// maxCodeEdits bounds the edits one code can carry (the PDX can reach 10).
const maxCodeEdits = 12

// CodeEdits is one code of the claim with the edits raised on it.
type CodeEdits struct {
	Code  string          // as given on the claim
	Flags tables.MCEFlags // MCE flags of the code on the discharge date
	Role  Role
	Valid bool // valid on the discharge date (blank and all-zero codes count as valid)
	// AgeConflictType is the age group whose range the patient's age falls outside, when
	// the code carries AGE_CONFLICT.
	AgeConflictType tables.AgeGroup

	n    uint8
	list [maxCodeEdits]EditID
	set  EditSet
}

// Edits returns the edits raised on the code, in the order the MCE raised them.
func (c *CodeEdits) Edits() []EditID { return c.list[:c.n] }

// Has reports whether edit e was raised on the code.
func (c *CodeEdits) Has(e EditID) bool { return c.set.Has(e) }

// add appends e to the code's edits (each edit at most once).
func (c *CodeEdits) add(e EditID) {
	if c.set.Has(e) {
		return
	}
	c.set = c.set.With(e)
	if int(c.n) < len(c.list) {
		c.list[c.n] = e
		c.n++
	}
}

// Result is the outcome of the MCE for one claim.
type Result struct {
	Version       int // MCE data version used (431)
	ICDVersion    int // 9 or 10
	DischargeDate int // yyyymmdd as edited (day clamped to the month), 0 when invalid
	EditType      EditType
	// Counts holds the number of times each edit was raised on the claim, indexed by EditID.
	Counts [NumEdits]int
	Dx     []CodeEdits // principal diagnosis first, then the secondary diagnoses, claim order
	Pr     []CodeEdits // procedures, claim order
	// AdmitDx is the admitting diagnosis; nil when the claim has none.
	AdmitDx *CodeEdits
	// CodeEditsSkipped is set when the claim lacks an age or a discharge status: the
	// validation edits are reported but the code edits could not be run (the CMS MCE
	// requires both values).
	CodeEditsSkipped bool

	age, status, los  int
	hasAge, hasStatus bool
	hasLOS            bool
	sex               int
	sexRaw            string
	data              *tables.MCEData
	buf               []CodeEdits
}

// First discharge date the MCE accepts.
const minDischargeDate = 19851001

// Sex values of the MCE input record.
const (
	sexUnknown = 0
	sexMale    = 1
	sexFemale  = 2
	sexInvalid = -1
)

// sexConflictExemptAfter is the last discharge date on which an unknown sex (0) conflicts
// with sex-specific codes and is invalid.
const sexConflictExemptAfter = 20240930

// Edit runs the MCE on claim c with data d.
//
// The claim maps to the MCE's input record as follows. The diagnoses are the PDX followed by
// the SDX in order; an absent PDX is a blank principal diagnosis (INVALID_CODE), so the
// SDX keep their role. Sex M, F and U are the MCE's 1, 2 and 0; any other value is
// invalid. A zero discharge date is invalid. An absent age or discharge status raises its
// validation edit and skips the code edits (Result.CodeEditsSkipped); an absent length of
// stay never raises INCONSISTENT_WITH_LENGTH_OF_STAY. POA indicators are not edited.
// d and c must not be nil.
func Edit(d *tables.MCEData, c *claim.Claim, opt Options) *Result {
	r := new(Result)
	r.Edit(d, c, opt)
	return r
}

// Edit runs the MCE like the package function Edit, reusing r's storage.
func (r *Result) Edit(d *tables.MCEData, c *claim.Claim, opt Options) {
	icd := 10
	if opt.ICDVersion == 9 {
		icd = 9
	}
	nDx := len(c.SDX) + 1
	nPr := len(c.Procedures)
	buf := r.buf
	need := nDx + nPr + 1
	if cap(buf) < need {
		buf = make([]CodeEdits, need)
	}
	buf = buf[:need]
	clear(buf)
	*r = Result{
		Version: d.Version, ICDVersion: icd, data: d, buf: buf,
		Dx: buf[:nDx:nDx], Pr: buf[nDx : nDx+nPr : nDx+nPr],
		sex: sexInvalid, sexRaw: c.Sex,
	}
	r.Dx[0] = CodeEdits{Role: RolePDX}
	if c.PDX != nil {
		r.Dx[0].Code = c.PDX.Code
	}
	for i, s := range c.SDX {
		r.Dx[i+1] = CodeEdits{Code: s.Code, Role: RoleSDX}
	}
	for j, p := range c.Procedures {
		r.Pr[j] = CodeEdits{Code: p.Code, Role: RoleProcedure}
	}
	if c.AdmitDx != nil {
		r.AdmitDx = &buf[need-1]
		*r.AdmitDx = CodeEdits{Code: c.AdmitDx.Code, Role: RoleAdmitDx}
	}
	switch c.Sex {
	case "M":
		r.sex = sexMale
	case "F":
		r.sex = sexFemale
	case "U":
		r.sex = sexUnknown
	}
	if c.Age != nil {
		r.age, r.hasAge = *c.Age, true
	}
	if c.DischargeStatus != nil {
		r.status, r.hasStatus = *c.DischargeStatus, true
	}
	if c.LengthOfStay != nil {
		r.los, r.hasLOS = *c.LengthOfStay, true
	}

	// §4.1 discharge date.
	date, ok := 0, false
	if dd := c.DischargeDate; !dd.IsZero() {
		date, ok = tables.NormalizeMCEDate(dd.Year, int(dd.Month), dd.Day)
	}
	if !ok || date < minDischargeDate || date > d.Termination {
		r.EditType = EditTypeInvalidDischargeDate
		return
	}
	r.DischargeDate = date
	e := editor{r: r, d: d, opt: &opt, date: date, applicable: applicable[icdIndex(icd)]}
	e.validate(tables.TableFor(icd, false), tables.TableFor(icd, true))
	if !r.CodeEditsSkipped {
		e.editDiagnoses()
		e.editProcedures()
	}
	r.EditType = r.editType()
}

// editor holds the state of one MCE run.
type editor struct {
	r          *Result
	d          *tables.MCEData
	opt        *Options
	date       int
	applicable EditSet
}

// suppressed returns the suppression list that applies to code c.
func (e *editor) suppressed(c *CodeEdits) EditSet {
	switch c.Role {
	case RolePDX:
		return e.opt.SuppressPDX
	case RoleProcedure:
		return e.opt.SuppressProc
	}
	return e.opt.SuppressSDX
}

// raise raises edit x on code c: counted and listed unless suppressed for c.
func (e *editor) raise(c *CodeEdits, x EditID) {
	if !e.applicable.Has(x) || e.suppressed(c).Has(x) {
		return
	}
	e.r.Counts[x]++
	c.add(x)
}

// raiseClaim raises a claim-level edit (never suppressed).
func (e *editor) raiseClaim(x EditID) {
	if e.applicable.Has(x) {
		e.r.Counts[x]++
	}
}

// load looks code c up in table: its flags on the discharge date and its validity.
func (e *editor) load(c *CodeEdits, table tables.CodeTableID) {
	flags, found := e.d.Lookup(table, upper(c.Code), e.date)
	c.Flags = flags
	c.Valid = found || isBlank(c.Code) || allZeros(c.Code)
}

// validate runs the validation edits (§4) and loads the flags of every code (§5).
func (e *editor) validate(dxTable, prTable tables.CodeTableID) {
	r := e.r
	if a := r.AdmitDx; a != nil {
		e.load(a, dxTable)
		if !a.Valid {
			e.raise(a, InvalidAdmitDx)
		}
	}
	for i := range r.Dx {
		c := &r.Dx[i]
		e.load(c, dxTable)
		if !c.Valid || i == 0 && isBlankOrZeros(c.Code) {
			e.raise(c, InvalidCode)
		}
	}
	for i := range r.Pr {
		c := &r.Pr[i]
		e.load(c, prTable)
		if !c.Valid {
			e.raise(c, InvalidCode)
		}
	}
	if !r.validSex() {
		e.raiseClaim(InvalidSex)
	}
	if !r.hasStatus || !e.d.ValidDischargeStatus(r.status, e.date) {
		e.raiseClaim(InvalidDischargeStatus)
	}
	if !r.hasAge || r.age < 0 || r.age > 124 {
		e.raiseClaim(InvalidAge)
	}
	r.CodeEditsSkipped = !r.hasAge || !r.hasStatus
}

// validSex reports whether the sex is valid on the discharge date.
func (r *Result) validSex() bool {
	switch r.sex {
	case sexMale, sexFemale:
		return true
	case sexUnknown:
		return r.DischargeDate > sexConflictExemptAfter
	}
	return false
}

// sexConflict is the sex-conflict test of §7.1.
func (e *editor) sexConflict(c *CodeEdits) bool {
	sex := e.r.sex
	if sex == sexUnknown && e.date > sexConflictExemptAfter {
		return false
	}
	return c.Flags.Has(tables.FlagMale) && sex != sexMale || c.Flags.Has(tables.FlagFemale) && sex != sexFemale
}

// ageOrder lists the age flags in the order the age-conflict test reads them.
var ageOrder = [...]struct {
	flag  tables.MCEFlag
	group tables.AgeGroup
}{
	{tables.FlagPediatric, tables.AgePediatric},
	{tables.FlagNewborn, tables.AgeNewborn},
	{tables.FlagMaternity, tables.AgeMaternity},
	{tables.FlagAdult, tables.AgeAdult},
}

// ageConflict is the age-conflict test of §7.1: the conflicting group, or 0.
func (e *editor) ageConflict(c *CodeEdits) tables.AgeGroup {
	age := e.r.age
	for _, a := range ageOrder {
		if !c.Flags.Has(a.flag) {
			continue
		}
		// The shipped data has a row for every group on every valid discharge date; a
		// group without one is skipped.
		if row, ok := e.d.AgeRange(a.group, e.date); ok && (age < row.MinAge || age > row.MaxAge) {
			return a.group
		}
	}
	return 0
}

// raiseAge raises AGE_CONFLICT on c when the age-conflict test fails.
func (e *editor) raiseAge(c *CodeEdits) {
	if g := e.ageConflict(c); g != 0 {
		e.raise(c, AgeConflict)
		if c.Has(AgeConflict) {
			c.AgeConflictType = g
		}
	}
}

// editDiagnoses runs the principal, admitting and secondary diagnosis edits (§7.2, §7.3).
func (e *editor) editDiagnoses() {
	r := e.r
	if len(r.Dx) > 0 {
		p := &r.Dx[0]
		f := &p.Flags
		if f.Has(tables.FlagEcodePDX) {
			e.raise(p, ECodeAsPDX)
		}
		if f.Has(tables.FlagManifestation) {
			e.raise(p, ManifestationAsPDX)
		}
		if f.Has(tables.FlagUnacceptable) {
			if f.Has(tables.FlagReqSDX) {
				if len(r.Dx) == 1 {
					e.raise(p, RequiresSDX)
				}
			} else {
				e.raise(p, UnacceptablePDX)
			}
		}
		if f.Has(tables.FlagNonspecific) && r.status != 20 {
			e.raise(p, NonspecificPDX)
		}
		if f.Has(tables.FlagQAdm) {
			e.raise(p, QuestionableAdmission)
		}
		e.raiseAge(p)
		if e.sexConflict(p) {
			e.raise(p, SexConflict)
		}
		if f.Has(tables.FlagWrngProc) {
			e.raise(p, WrongProcedurePerformed)
		}
		if f.Has(tables.FlagMSP) {
			e.raise(p, MedicareIsSecondaryPayer)
		}
		if f.Has(tables.FlagUnspecified) {
			e.raise(p, Unspecified)
		}
	}
	if a := r.AdmitDx; a != nil {
		// Informational: listed on the admitting diagnosis, never counted or suppressed.
		if g := e.ageConflict(a); g != 0 {
			a.add(AgeConflict)
			a.AgeConflictType = g
		}
		if e.sexConflict(a) {
			a.add(SexConflict)
		}
	}
	for i := 1; i < len(r.Dx); i++ {
		s := &r.Dx[i]
		f := &s.Flags
		if s.Code == r.Dx[0].Code {
			e.raise(s, DuplicateOfPDX)
		}
		if f.Has(tables.FlagMSP) {
			e.raise(s, MedicareIsSecondaryPayer)
		}
		if f.Has(tables.FlagUnspecified) {
			e.raise(s, Unspecified)
		}
		if f.Has(tables.FlagWrngProc) {
			e.raise(s, WrongProcedurePerformed)
		}
		e.raiseAge(s)
		if e.sexConflict(s) {
			e.raise(s, SexConflict)
		}
	}
}

// lcovOrder lists the specific limited-coverage flags in the order they are tested.
var lcovOrder = [...]struct {
	flag tables.MCEFlag
	edit EditID
}{
	{tables.FlagLcovLVRS, LimitedCoverageLVRS},
	{tables.FlagLcovLungXp, LimitedCoverageLungTransplant},
	{tables.FlagLcovHeartLungXp, LimitedCoverageHeartLungTransplant},
	{tables.FlagLcovHeartXp, LimitedCoverageHeartTransplant},
	{tables.FlagLcovHeartSys, LimitedCoverageHeartImplant},
	{tables.FlagLcovIntXp, LimitedCoverageIntestineTransplant},
	{tables.FlagLcovLiverXp, LimitedCoverageLiverTransplant},
	{tables.FlagLcovKidneyXp, LimitedCoverageKidneyTransplant},
	{tables.FlagLcovPancreasXp, LimitedCoveragePancreasTransplant},
	{tables.FlagLcovArtHeartXp, LimitedCoverageArtificialHeart},
}

// editProcedures runs the procedure edits (§7.4).
func (e *editor) editProcedures() {
	r := e.r
	if len(r.Pr) == 0 {
		return
	}
	var dxFlags, sdxFlags, prFlags tables.MCEFlags
	for i := range r.Dx {
		dxFlags.Union(r.Dx[i].Flags)
		if i > 0 {
			sdxFlags.Union(r.Dx[i].Flags)
		}
	}
	someSpecificOR := false
	for i := range r.Pr {
		f := &r.Pr[i].Flags
		prFlags.Union(*f)
		if f.Has(tables.FlagORIndic) && !f.Has(tables.FlagNonspecific) {
			someSpecificOR = true
		}
	}
	pdxMDC08 := len(r.Dx) > 0 && r.Dx[0].Flags.Has(tables.FlagMDC08)
	nBilateral := 0
	if prFlags.Has(tables.FlagBilateral) {
		for i := range r.Pr {
			if !r.Pr[i].Flags.Has(tables.FlagBilateral) {
				continue
			}
			dup := false
			for j := 0; j < i; j++ {
				if r.Pr[j].Code == r.Pr[i].Code {
					dup = true
					break
				}
			}
			if !dup {
				nBilateral++
			}
		}
	}
	var (
		kidneyXp  = prFlags.Has(tables.FlagKidneyXp)
		ncov13b   = prFlags.Has(tables.FlagNcov13b)
		z006a     = prFlags.Has(tables.FlagLcovArtHeartXpA)
		z006b     = prFlags.Has(tables.FlagLcovArtHeartXpB)
		ncov9     = prFlags.Has(tables.FlagNcov9)
		type1     = dxFlags.Has(tables.FlagDiabTypeI)
		ncovD     = dxFlags.Has(tables.FlagNcov6)
		ncovE     = dxFlags.Has(tables.FlagNcov7)
		ncovG     = dxFlags.Has(tables.FlagNcovZ302)
		clintrial = dxFlags.Has(tables.FlagClinTrial)
		ncov2     = dxFlags.Has(tables.FlagNcov2)
		ncov2lt64 = dxFlags.Has(tables.FlagNcov2AgeLt64)
		ncov2lt78 = dxFlags.Has(tables.FlagNcov2AgeLt78)
		ncov3     = dxFlags.Has(tables.FlagNcov3)
		ncov4     = dxFlags.Has(tables.FlagNcov4)
		ncov5     = dxFlags.Has(tables.FlagNcov5)
		delout    = sdxFlags.Has(tables.FlagDelout)
		ncov89    = sdxFlags.Has(tables.FlagNcov89)
		age       = r.age
		losLimit  = 5
	)
	if r.ICDVersion == 9 {
		losLimit = 4
	}
	for i := range r.Pr {
		p := &r.Pr[i]
		f := &p.Flags
		if e.sexConflict(p) {
			e.raise(p, SexConflict)
		}
		if !someSpecificOR && f.Has(tables.FlagNonspecific) {
			e.raise(p, NonspecificOR)
		}
		if f.Has(tables.FlagBiopsy) {
			e.raise(p, OpenBiopsy)
		}
		// An absent length of stay cannot be inconsistent with the procedure.
		if f.Has(tables.FlagLOS) && r.hasLOS && r.los < losLimit {
			e.raise(p, InconsistentWithLOS)
		}
		artHeartAB := f.Has(tables.FlagLcovArtHeartXpA) || f.Has(tables.FlagLcovArtHeartXpB)
		var partB bool
		if f.Has(tables.FlagNcov45) {
			if e.date < 20060426 {
				partB = !(ncov4 && ncov5)
			} else {
				partB = !kidneyXp && !type1
			}
		}
		part2 := false
		if f.Has(tables.FlagNcov2) && !ncov2 {
			switch {
			case ncov2lt64:
				part2 = age < 0 || age >= 64
			case ncov2lt78:
				part2 = age < 0 || age >= 78
			default:
				part2 = true
			}
		}
		if f.Has(tables.FlagNoncovered) ||
			partB ||
			artHeartAB && z006a && z006b && !clintrial ||
			f.Has(tables.FlagNcov6) && ncovD ||
			f.Has(tables.FlagNcov7) && ncovE ||
			f.Has(tables.FlagNcov12AgeLe60) && (age < 0 || age > 60) ||
			f.Has(tables.FlagNcovZ302) && ncovG ||
			part2 ||
			f.Has(tables.FlagNcov3) && !ncov3 ||
			f.Has(tables.FlagNcov8) && (!ncov89 || !ncov9) ||
			f.Has(tables.FlagNcov13a) && !ncov13b ||
			f.Has(tables.FlagLcovArtHeartXp) && !clintrial {
			e.raise(p, NonCovered)
		}
		if !p.Has(NonCovered) {
			if f.Has(tables.FlagLcov) || artHeartAB && z006a && z006b && clintrial {
				e.raise(p, LimitedCoverage)
			} else {
				for _, l := range lcovOrder {
					if f.Has(l.flag) {
						e.raise(p, l.edit)
						break
					}
				}
			}
		}
		if f.Has(tables.FlagBilateral) && pdxMDC08 && nBilateral >= 2 {
			// The CMS MCE counts BILATERAL at most once per claim and ignores suppression.
			if r.Counts[Bilateral] == 0 {
				r.Counts[Bilateral] = 1
			}
			p.add(Bilateral)
		}
		if (f.Has(tables.FlagCSect) || f.Has(tables.FlagVagDel)) && !delout {
			e.raise(p, QuestionableObstetricAdmission)
		}
	}
}

// editType derives the claim's edit type from the counters (§8).
func (r *Result) editType() EditType {
	var pre, post bool
	for x := EditID(1); x < NumEdits; x++ {
		if r.Counts[x] == 0 {
			continue
		}
		switch {
		case payPrepay.Has(x):
			pre = true
		case payPostpay.Has(x):
			post = true
		}
	}
	switch {
	case pre && post:
		return EditTypeBoth
	case pre:
		return EditTypePrepayment
	case post:
		return EditTypePostpayment
	}
	return EditTypeNone
}

// isBlank reports whether s is empty after Java-style trimming.
func isBlank(s string) bool { return tables.JavaTrim(s) == "" }

// allZeros reports whether s consists only of '0' characters.
func allZeros(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

// isBlankOrZeros reports whether s is empty after trimming and removing every '0'.
func isBlankOrZeros(s string) bool {
	s = tables.JavaTrim(s)
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

// javaUpperSpecial holds the characters whose Java upper case is several ASCII letters.
var javaUpperSpecial = map[rune]string{
	'ß': "SS", 'ﬀ': "FF", 'ﬁ': "FI", 'ﬂ': "FL", 'ﬃ': "FFI", 'ﬄ': "FFL", 'ﬅ': "ST", 'ﬆ': "ST",
}

// upper upper-cases a code as Java's String.toUpperCase does (root locale); ASCII
// upper-case codes are returned without allocating.
func upper(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || c >= utf8.RuneSelf {
			return upperSlow(s)
		}
	}
	return s
}

func upperSlow(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, c := range s {
		if t, ok := javaUpperSpecial[c]; ok {
			b.WriteString(t)
			continue
		}
		b.WriteRune(unicode.ToUpper(c))
	}
	return b.String()
}
