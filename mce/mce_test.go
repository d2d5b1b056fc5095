package mce

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// tc describes a claim compactly: dx[0] is the PDX; codes are given as on the claim.
type tc struct {
	name   string
	date   claim.Date
	age    *int
	sex    string
	status *int
	los    *int
	admit  *string
	dx, pr []string
	opt    Options

	editType EditType
	counts   map[EditID]int
	dxEdits  map[int][]EditID // by position in the diagnosis list (others: none)
	prEdits  map[int][]EditID
	admitEd  []EditID
	noPDX    bool           // leave the claim's PDX absent
	sdxOnly  []string       // SDX of a claim without PDX
	dxString map[int]string // legacy strings to check
	prString map[int]string
}

func ip(v int) *int       { return &v }
func sp(s string) *string { return &s }

func ymd(y int, m time.Month, d int) claim.Date { return claim.Date{Year: y, Month: m, Day: d} }

func (t *tc) claim() *claim.Claim {
	c := &claim.Claim{ID: t.name, DischargeDate: t.date, Age: t.age, Sex: t.sex, DischargeStatus: t.status, LengthOfStay: t.los}
	if t.age == nil && t.status == nil && t.sex == "" && t.los == nil {
		c.Age, c.Sex, c.DischargeStatus, c.LengthOfStay = ip(45), "M", ip(1), ip(5)
	}
	for i, d := range t.dx {
		if i == 0 {
			c.PDX = &claim.Dx{Code: d, POA: "Y"}
		} else {
			c.SDX = append(c.SDX, claim.Dx{Code: d, POA: "Y"})
		}
	}
	for _, d := range t.sdxOnly {
		c.SDX = append(c.SDX, claim.Dx{Code: d, POA: "Y"})
	}
	if t.admit != nil {
		c.AdmitDx = &claim.Dx{Code: *t.admit}
	}
	for _, p := range t.pr {
		c.Procedures = append(c.Procedures, claim.Proc{Code: p})
	}
	return c
}

var (
	jan2025 = ymd(2025, time.January, 15)
	jan2024 = ymd(2024, time.January, 15)
)

// std is a valid patient for the edge cases: 45-year-old man, discharged home, 5 days.
func std(name string, date claim.Date, dx, pr []string) tc {
	return tc{name: name, date: date, age: ip(45), sex: "M", status: ip(1), los: ip(5), dx: dx, pr: pr}
}

func cases() []tc {
	var out []tc
	add := func(t tc) { out = append(out, t) }

	// §9 of the algorithm specification.
	{
		t := std("spec1 duplicate", jan2025, []string{"C61", "N390", "C61"}, []string{"0VT04ZZ"})
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{DuplicateOfPDX: 1}
		t.dxEdits = map[int][]EditID{2: {DuplicateOfPDX}}
		t.dxString = map[int]string{2: "00000000100000000000", 0: "00000000000000000000"}
		t.prString = map[int]string{0: "00000000000000000000"}
		add(t)
	}
	{
		t := std("spec2 sex conflict before FY2025", jan2024, []string{"C61", "N390"}, []string{"0VT04ZZ", "0UT90ZZ"})
		t.sex = "F"
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{SexConflict: 2}
		t.dxEdits = map[int][]EditID{0: {SexConflict}}
		t.prEdits = map[int][]EditID{0: {SexConflict}}
		t.dxString = map[int]string{0: "01000000000000000000"}
		t.prString = map[int]string{0: "01000000000000000000", 1: "00000000000000000000"}
		add(t)
	}
	{
		t := std("spec3 newborn code, vaginal delivery, sex U after FY2024", jan2025, []string{"O80", "Z3800"}, []string{"10E0XZZ"})
		t.sex = "U"
		t.editType = EditTypePrepayment
		t.counts = map[EditID]int{AgeConflict: 1, QuestionableObstetricAdmission: 1}
		t.dxEdits = map[int][]EditID{1: {AgeConflict}}
		t.prEdits = map[int][]EditID{0: {QuestionableObstetricAdmission}}
		t.dxString = map[int]string{1: "00100000000100000000"}
		t.prString = map[int]string{0: "00000001000000000000"}
		add(t)
	}
	{
		t := std("spec4 maternity age, admit dx conflict uncounted", jan2025, []string{"O80", "I10", "I10"}, nil)
		t.age, t.sex, t.status, t.admit = ip(5), "F", ip(20), sp("Z3800")
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{AgeConflict: 1}
		t.dxEdits = map[int][]EditID{0: {AgeConflict}}
		t.admitEd = []EditID{AgeConflict}
		t.dxString = map[int]string{0: "00100000000300000000", 1: "00000000000000000000", 2: "00000000000000000000"}
		add(t)
	}
	{
		t := std("spec5 external cause PDX, invalid status", jan2025, []string{"W891XXA"}, nil)
		t.age, t.status = ip(70), ip(99)
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{ECodeAsPDX: 1, InvalidDischargeStatus: 1}
		t.dxEdits = map[int][]EditID{0: {ECodeAsPDX}}
		t.dxString = map[int]string{0: "00000010000000000000"}
		add(t)
	}
	{
		t := std("spec6 all-zero PDX", jan2025, []string{"000"}, nil)
		t.age = ip(70)
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{InvalidCode: 1}
		t.dxEdits = map[int][]EditID{0: {InvalidCode}}
		t.dxString = map[int]string{0: "10000000000000000000"}
		add(t)
	}
	{
		t := std("spec7 invalid codes, age and sex; blank SDX accepted", jan2025, []string{"XXX", "", "I10"}, []string{"BADPROC"})
		t.age, t.sex = ip(130), "3"
		t.editType = EditTypePrepayment
		t.counts = map[EditID]int{InvalidCode: 2, InvalidAge: 1, InvalidSex: 1}
		t.dxEdits = map[int][]EditID{0: {InvalidCode}}
		t.prEdits = map[int][]EditID{0: {InvalidCode}}
		t.prString = map[int]string{0: "10000000000000000000"}
		add(t)
	}
	{
		t := std("spec8 discharge after the termination date", ymd(2027, time.January, 15), []string{"XXX", "XXX"}, []string{"BADPROC"})
		t.age, t.sex = ip(130), "X"
		t.editType, t.counts = EditTypeInvalidDischargeDate, map[EditID]int{}
		add(t)
	}

	// Discharge dates.
	for _, d := range []struct {
		name string
		date claim.Date
		ok   bool
	}{
		{"zero date", claim.Date{}, false},
		{"lenient Feb 30 (leap year)", ymd(2024, time.February, 30), true},
		{"lenient Sep 31 on the termination month", ymd(2026, time.September, 31), true},
		{"day after termination", ymd(2026, time.October, 1), false},
		{"first valid date", ymd(1985, time.October, 1), true},
		{"day before the first valid date", ymd(1985, time.September, 30), false},
		{"month 13", ymd(2025, 13, 1), false},
		{"day 0", ymd(2025, time.March, 0), false},
		{"day 32", ymd(2025, time.March, 32), false},
	} {
		t := std("date "+d.name, d.date, []string{"XXX"}, nil)
		t.editType, t.counts = EditTypeInvalidDischargeDate, map[EditID]int{}
		if d.ok {
			t.editType, t.counts = EditTypePrepayment, map[EditID]int{InvalidCode: 1}
			t.dxEdits = map[int][]EditID{0: {InvalidCode}}
		}
		add(t)
	}

	// Blank and all-zero codes.
	for _, pdx := range []string{"", "   ", "0", "0000000", " 000"} {
		t := std(fmt.Sprintf("blank or zero PDX %q", pdx), jan2025, []string{pdx, "I10", "", "000", "  "}, []string{"", "0000000"})
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{InvalidCode: 1}
		t.dxEdits = map[int][]EditID{0: {InvalidCode}}
		if pdx == "" {
			// The duplicate test compares raw strings: the blank SDX equals the blank PDX.
			t.counts[DuplicateOfPDX] = 1
			t.dxEdits[2] = []EditID{DuplicateOfPDX}
		}
		add(t)
	}
	{
		t := std("absent PDX is a blank principal diagnosis; SDX keep their role", jan2025, nil, nil)
		t.sdxOnly = []string{"W891XXA", "I5023"}
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{InvalidCode: 1}
		t.dxEdits = map[int][]EditID{0: {InvalidCode}}
		add(t)
	}
	{
		t := std("claim without any diagnosis", jan2025, nil, []string{"02703DZ"})
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{InvalidCode: 1}
		t.dxEdits = map[int][]EditID{0: {InvalidCode}}
		add(t)
	}
	{
		t := std("lower-case codes are looked up upper-cased; duplicate test is raw", jan2025, []string{"c61", "C61", "i10"}, []string{"0vt04zz"})
		t.editType, t.counts = EditTypeNone, map[EditID]int{}
		add(t)
	}
	{
		t := std("code with surrounding space is invalid", jan2025, []string{" I10", "I10 "}, []string{"02703DZ "})
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{InvalidCode: 3}
		t.dxEdits = map[int][]EditID{0: {InvalidCode}, 1: {InvalidCode}}
		t.prEdits = map[int][]EditID{0: {InvalidCode}}
		add(t)
	}
	{
		t := std("invalid admit dx", jan2025, []string{"I5023"}, nil)
		t.admit = sp("XYZ")
		t.editType, t.counts = EditTypeNone, map[EditID]int{InvalidAdmitDx: 1}
		t.admitEd = []EditID{InvalidAdmitDx}
		add(t)
	}
	{
		t := std("code valid only in the next fiscal year", ymd(2025, time.September, 30), []string{"E11A"}, nil)
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{InvalidCode: 1}
		t.dxEdits = map[int][]EditID{0: {InvalidCode}}
		add(t)
	}

	// Sex 0 (U) before and after 2024-10-01; invalid sex values.
	{
		t := std("sex U on 2024-09-30: invalid and conflicts", ymd(2024, time.September, 30), []string{"C61", "O80"}, []string{"0VT04ZZ"})
		t.sex = "U"
		t.editType = EditTypePrepayment
		t.counts = map[EditID]int{InvalidSex: 1, SexConflict: 3}
		t.dxEdits = map[int][]EditID{0: {SexConflict}, 1: {SexConflict}}
		t.prEdits = map[int][]EditID{0: {SexConflict}}
		add(t)
	}
	{
		t := std("sex U on 2024-10-01: valid, no conflict", ymd(2024, time.October, 1), []string{"C61", "O80"}, []string{"0VT04ZZ"})
		t.sex = "U"
		t.editType, t.counts = EditTypeNone, map[EditID]int{}
		add(t)
	}
	for _, s := range []string{"", "m", "X", "1"} {
		t := std(fmt.Sprintf("sex %q is invalid", s), jan2025, []string{"I5023"}, nil)
		t.sex = s
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{InvalidSex: 1}
		add(t)
	}
	{
		t := std("invalid sex conflicts with sex-specific codes before FY2025", jan2024, []string{"C61"}, nil)
		t.sex = "X"
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{InvalidSex: 1, SexConflict: 1}
		t.dxEdits = map[int][]EditID{0: {SexConflict}}
		add(t)
	}

	// Age and discharge status.
	for _, a := range []struct {
		age   int
		valid bool
	}{{-1, false}, {0, true}, {124, true}, {125, false}} {
		t := std(fmt.Sprintf("age %d", a.age), jan2025, []string{"I5023"}, nil)
		t.age = ip(a.age)
		t.editType, t.counts = EditTypeNone, map[EditID]int{}
		if !a.valid {
			t.editType, t.counts = EditTypePrepayment, map[EditID]int{InvalidAge: 1}
		}
		add(t)
	}
	{
		t := std("absent age and status: validation edits only", jan2025, []string{"W891XXA", "XXX"}, nil)
		t.age, t.status = nil, nil
		t.editType = EditTypePrepayment
		t.counts = map[EditID]int{InvalidCode: 1, InvalidAge: 1, InvalidDischargeStatus: 1}
		t.dxEdits = map[int][]EditID{1: {InvalidCode}}
		add(t)
	}
	{
		t := std("status 21 before it existed", ymd(2009, time.September, 30), []string{"4280"}, nil)
		t.status, t.opt = ip(21), Options{ICDVersion: 9}
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{InvalidDischargeStatus: 1}
		add(t)
	}
	{
		t := std("adult code for a child; pediatric code for an adult", jan2025, []string{"C9150", "A4851"}, nil)
		t.age = ip(10)
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{AgeConflict: 1}
		t.dxEdits = map[int][]EditID{0: {AgeConflict}}
		t.dxString = map[int]string{0: "00100000000400000000"}
		add(t)
	}
	{
		t := std("maternity range was 12-55 before FY2020", ymd(2019, time.September, 30), []string{"O80"}, nil)
		t.age, t.sex = ip(10), "F"
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{AgeConflict: 1}
		t.dxEdits = map[int][]EditID{0: {AgeConflict}}
		t.dxString = map[int]string{0: "00100000000300000000"}
		add(t)
	}

	// Principal-diagnosis edits.
	{
		t := std("requires SDX: alone", jan2025, []string{"Z5189"}, nil)
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{RequiresSDX: 1}
		t.dxEdits = map[int][]EditID{0: {RequiresSDX}}
		t.dxString = map[int]string{0: "00000000001000000000"}
		add(t)
	}
	{
		t := std("requires SDX: with a blank SDX", jan2025, []string{"Z5189", ""}, nil)
		t.editType, t.counts = EditTypeNone, map[EditID]int{}
		add(t)
	}
	{
		t := std("wrong procedure performed (also external cause)", jan2025, []string{"Y6551", "Y6552"}, nil)
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{ECodeAsPDX: 1, WrongProcedurePerformed: 2}
		t.dxEdits = map[int][]EditID{0: {ECodeAsPDX, WrongProcedurePerformed}, 1: {WrongProcedurePerformed}}
		t.dxString = map[int]string{0: "00000010000001000000"}
		add(t)
	}
	{
		t := std("questionable admission and manifestation", jan2025, []string{"E119", "D630"}, nil)
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{QuestionableAdmission: 1}
		t.dxEdits = map[int][]EditID{0: {QuestionableAdmission}}
		add(t)
	}
	{
		t := std("manifestation as PDX", jan2025, []string{"D630"}, nil)
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{ManifestationAsPDX: 1}
		t.dxEdits = map[int][]EditID{0: {ManifestationAsPDX}}
		add(t)
	}

	// Procedure edits.
	for _, l := range []struct {
		los  int
		edit bool
	}{{4, true}, {5, false}} {
		t := std(fmt.Sprintf("ventilation 96+ hours with LOS %d", l.los), jan2025, []string{"J9601"}, []string{"5A1955Z"})
		t.los = ip(l.los)
		t.editType, t.counts = EditTypeNone, map[EditID]int{}
		if l.edit {
			t.editType, t.counts = EditTypePrepayment, map[EditID]int{InconsistentWithLOS: 1}
			t.prEdits = map[int][]EditID{0: {InconsistentWithLOS}}
			t.prString = map[int]string{0: "00000000000000001000"}
		}
		add(t)
	}
	{
		t := std("absent LOS: the LOS edit cannot fire", jan2025, []string{"J9601"}, []string{"5A1955Z"})
		t.los = nil
		t.editType, t.counts = EditTypeNone, map[EditID]int{}
		add(t)
	}
	{
		t := std("pancreas transplant without type 1 diabetes: non-covered", jan2025, []string{"K8689"}, []string{"0FYG0Z1"})
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{NonCovered: 1}
		t.prEdits = map[int][]EditID{0: {NonCovered}}
		t.prString = map[int]string{0: "00001000000000000000"}
		add(t)
	}
	{
		t := std("pancreas transplant with type 1 diabetes: limited coverage", jan2025, []string{"E1010"}, []string{"0FYG0Z1"})
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{LimitedCoverage: 1}
		t.prEdits = map[int][]EditID{0: {LimitedCoverage}}
		t.prString = map[int]string{0: "00000010000000000000"}
		add(t)
	}
	{
		t := std("suppressed NON_COVERED does not block LIMITED_COVERAGE", jan2025, []string{"K8689"}, []string{"0FYG0Z1"})
		t.opt = Options{SuppressProc: NewEditSet(NonCovered)}
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{LimitedCoverage: 1}
		t.prEdits = map[int][]EditID{0: {LimitedCoverage}}
		add(t)
	}
	{
		t := std("artificial heart parts A and B without clinical trial", ymd(2020, time.January, 15), []string{"I5023"}, []string{"02RK0JZ", "02RL0JZ"})
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{NonCovered: 2}
		t.prEdits = map[int][]EditID{0: {NonCovered}, 1: {NonCovered}}
		add(t)
	}
	{
		t := std("artificial heart parts A and B in a clinical trial", ymd(2020, time.January, 15), []string{"I5023", "Z006"}, []string{"02RK0JZ", "02RL0JZ"})
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{LimitedCoverage: 2}
		t.prEdits = map[int][]EditID{0: {LimitedCoverage}, 1: {LimitedCoverage}}
		add(t)
	}
	{
		t := std("artificial heart part A alone", ymd(2020, time.January, 15), []string{"I5023"}, []string{"02RK0JZ"})
		t.editType, t.counts = EditTypeNone, map[EditID]int{}
		add(t)
	}
	{
		t := std("hip resurfacing over 60 (part F), sterilization with Z302 (part G)", jan2025, []string{"Z302"}, []string{"0SR20JZ", "0U570ZZ"})
		t.age = ip(61)
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{NonCovered: 2}
		t.prEdits = map[int][]EditID{0: {NonCovered}, 1: {NonCovered}}
		add(t)
	}
	{
		t := std("hip resurfacing at 60", jan2025, []string{"M1611"}, []string{"0SR20JZ"})
		t.age = ip(60)
		t.editType, t.counts = EditTypeNone, map[EditID]int{}
		add(t)
	}
	{
		t := std("cesarean with delivery outcome SDX", jan2025, []string{"O80", "Z370"}, []string{"10D00Z0"})
		t.sex = "F"
		t.editType, t.counts = EditTypeNone, map[EditID]int{}
		add(t)
	}
	{
		t := std("delivery outcome as PDX does not count", jan2025, []string{"Z370"}, []string{"10D00Z0"})
		t.sex = "F"
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{UnacceptablePDX: 1, QuestionableObstetricAdmission: 1}
		t.dxEdits = map[int][]EditID{0: {UnacceptablePDX}}
		t.prEdits = map[int][]EditID{0: {QuestionableObstetricAdmission}}
		add(t)
	}

	// Suppression lists.
	{
		t := std("suppression: PDX list, SDX list, claim edits unaffected", jan2024, []string{"C61", "C61", "T69029A"}, []string{"0VT04ZZ"})
		t.sex, t.age, t.admit = "U", ip(10), sp("C9150")
		all := NewEditSet(SexConflict, InvalidSex, InvalidAge, AgeConflict)
		t.opt = Options{SuppressPDX: all.With(DuplicateOfPDX), SuppressSDX: all.With(Unspecified), SuppressProc: all}
		t.editType = EditTypePrepayment
		t.counts = map[EditID]int{InvalidSex: 1, InvalidAge: 0, DuplicateOfPDX: 1}
		t.dxEdits = map[int][]EditID{1: {DuplicateOfPDX}}
		t.admitEd = []EditID{AgeConflict} // informational, never suppressed
		add(t)
	}
	{
		t := std("suppression: INVALID_CODE of the PDX and the invalid admit dx", jan2025, []string{"XXX", "YYY"}, nil)
		t.admit = sp("ZZZ")
		t.opt = Options{SuppressPDX: NewEditSet(InvalidCode), SuppressSDX: NewEditSet(InvalidAdmitDx)}
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{InvalidCode: 1}
		t.dxEdits = map[int][]EditID{1: {InvalidCode}}
		add(t)
	}

	// ICD-9 claims.
	icd9 := Options{ICDVersion: 9}
	{
		t := std("ICD-9 bilateral: counted once, listed on each, never suppressed", ymd(2006, time.January, 15), []string{"00323"}, []string{"0070", "0071", "0070"})
		t.opt = Options{ICDVersion: 9, SuppressProc: NewEditSet(Bilateral)}
		t.editType, t.counts = EditTypePostpayment, map[EditID]int{Bilateral: 1}
		t.prEdits = map[int][]EditID{0: {Bilateral}, 1: {Bilateral}, 2: {Bilateral}}
		t.prString = map[int]string{0: "00000100000000000000"}
		add(t)
	}
	{
		t := std("ICD-9 bilateral needs two distinct codes", ymd(2006, time.January, 15), []string{"00323"}, []string{"0070", "0070"})
		t.opt = icd9
		t.editType, t.counts = EditTypeNone, map[EditID]int{}
		add(t)
	}
	{
		t := std("ICD-9 non-specific PDX and non-specific OR with an invalid code: both payment types", ymd(2005, time.January, 15), []string{"00320"}, []string{"0650", "XXXX"})
		t.opt = icd9
		t.editType, t.counts = EditTypeBoth, map[EditID]int{NonspecificPDX: 1, NonspecificOR: 1, InvalidCode: 1}
		t.prEdits = map[int][]EditID{0: {NonspecificOR}, 1: {InvalidCode}}
		t.dxEdits = map[int][]EditID{0: {NonspecificPDX}}
		t.dxString = map[int]string{0: "00000100000000000000"}
		t.prString = map[int]string{0: "00100000000000000000"}
		add(t)
	}
	{
		t := std("ICD-9 non-specific PDX for a patient who died; specific OR present", ymd(2005, time.January, 15), []string{"00320"}, []string{"0650", "0050"})
		t.opt, t.status = icd9, ip(20)
		t.editType, t.counts = EditTypeNone, map[EditID]int{}
		add(t)
	}
	{
		t := std("ICD-9 LOS threshold is 4 days", ymd(2013, time.January, 15), []string{"51881"}, []string{"9672"})
		t.opt, t.los = icd9, ip(3)
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{InconsistentWithLOS: 1}
		t.prEdits = map[int][]EditID{0: {InconsistentWithLOS}}
		add(t)
	}
	{
		t := std("ICD-9 lung transplant: limited coverage", ymd(2010, time.January, 15), []string{"496"}, []string{"3350"})
		t.opt = icd9
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{LimitedCoverageLungTransplant: 1}
		t.prEdits = map[int][]EditID{0: {LimitedCoverageLungTransplant}}
		t.prString = map[int]string{0: "00000001000000000000"}
		add(t)
	}
	{
		t := std("ICD-9 codes are invalid on an ICD-10 claim", ymd(2010, time.January, 15), []string{"496"}, []string{"3350"})
		t.editType, t.counts = EditTypePrepayment, map[EditID]int{InvalidCode: 2}
		t.dxEdits = map[int][]EditID{0: {InvalidCode}}
		t.prEdits = map[int][]EditID{0: {InvalidCode}}
		add(t)
	}
	return out
}

func TestEditCases(t *testing.T) {
	d := mceData(t)
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			r := Edit(d, c.claim(), c.opt)
			if r.EditType != c.editType {
				t.Errorf("edit type %s, want %s", r.EditType, c.editType)
			}
			got := map[EditID]int{}
			for x := EditID(1); x < NumEdits; x++ {
				if r.Counts[x] != 0 {
					got[x] = r.Counts[x]
				}
			}
			want := map[EditID]int{}
			for x, n := range c.counts {
				if n != 0 {
					want[x] = n
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("counts %v, want %v", got, want)
			}
			check := func(kind string, codes []CodeEdits, want map[int][]EditID, str map[int]string) {
				for i := range codes {
					g := codes[i].Edits()
					if len(g) == 0 {
						g = nil
					}
					if !reflect.DeepEqual(g, want[i]) {
						t.Errorf("%s[%d] %q: edits %v, want %v", kind, i, codes[i].Code, g, want[i])
					}
					if s, ok := str[i]; ok {
						if ls := codes[i].LegacyString(r.ICDVersion); ls != s {
							t.Errorf("%s[%d] %q: edit string %s, want %s", kind, i, codes[i].Code, ls, s)
						}
					}
				}
			}
			check("dx", r.Dx, c.dxEdits, c.dxString)
			check("pr", r.Pr, c.prEdits, c.prString)
			if c.admit != nil {
				var g []EditID
				if r.AdmitDx != nil {
					g = r.AdmitDx.Edits()
				}
				if len(g) == 0 {
					g = nil
				}
				if !reflect.DeepEqual(g, c.admitEd) {
					t.Errorf("admit dx edits %v, want %v", g, c.admitEd)
				}
			} else if r.AdmitDx != nil {
				t.Errorf("admit dx %v on a claim without one", r.AdmitDx)
			}
			// Every raised edit is explained, naming the code.
			msgs := r.Messages()
			n := 0
			for _, m := range msgs {
				if m.Edit != 0 {
					n++
				}
				if !isBlank(m.Code) && !strings.Contains(m.Text, m.Code) && !strings.Contains(m.Text, strconv.Quote(m.Code)) {
					t.Errorf("message %q does not name the code %q", m.Text, m.Code)
				}
			}
			wantN := r.Counts[InvalidSex] + r.Counts[InvalidAge] + r.Counts[InvalidDischargeStatus]
			for _, cs := range [][]CodeEdits{r.Dx, r.Pr} {
				for i := range cs {
					wantN += len(cs[i].Edits())
				}
			}
			if r.AdmitDx != nil {
				wantN += len(r.AdmitDx.Edits())
			}
			if n != wantN {
				t.Errorf("%d edit messages, want %d: %v", n, wantN, msgs)
			}
			if testing.Verbose() {
				for _, m := range msgs {
					t.Log(m.Text)
				}
			}
		})
	}
}

// TestReuse checks that Result.Edit reuses storage without leaking state between claims.
func TestReuse(t *testing.T) {
	d := mceData(t)
	var r Result
	cs := cases()
	for _, c := range append(cs, cs...) {
		r.Edit(d, c.claim(), c.opt)
		fresh := Edit(d, c.claim(), c.opt)
		a, _ := json.Marshal(r.Record(c.name))
		b, _ := json.Marshal(fresh.Record(c.name))
		if string(a) != string(b) || r.Counts != fresh.Counts || (r.AdmitDx == nil) != (fresh.AdmitDx == nil) {
			t.Fatalf("%s: reused result %s, fresh %s", c.name, a, b)
		}
		for i := range r.Pr {
			if !reflect.DeepEqual(r.Pr[i].Edits(), fresh.Pr[i].Edits()) {
				t.Fatalf("%s: procedure %d edits differ", c.name, i)
			}
		}
	}
}

func TestMessages(t *testing.T) {
	d := mceData(t)
	c := std("", jan2025, []string{"C61", "N390", "C61"}, nil)
	c.sex, c.age, c.admit = "X", ip(130), sp("Z3800")
	msgs := Edit(d, c.claim(), Options{}).Messages()
	var texts []string
	for _, m := range msgs {
		texts = append(texts, m.Text)
	}
	want := []string{
		"SDX C61: duplicate of the principal diagnosis",
		`claim: sex "X" is invalid: sex must be M or F (or U for discharges after 2024-09-30)`,
		"claim: age 130 is invalid: age must be 0–124 years",
		"admit dx Z3800: inconsistent with the patient's age: newborn code (ages 0–0), patient age 130 (informational: not counted for the admitting diagnosis)",
	}
	for _, w := range want {
		found := false
		for _, g := range texts {
			found = found || g == w
		}
		if !found {
			t.Errorf("no message %q in\n%s", w, strings.Join(texts, "\n"))
		}
	}
	r := Edit(d, &claim.Claim{PDX: &claim.Dx{Code: "I10"}}, Options{})
	if ms := r.Messages(); len(ms) != 1 || !strings.Contains(ms[0].Text, "discharge date") {
		t.Errorf("invalid discharge date messages %v", ms)
	}
}

// TestCatalogue checks the derived per-version tables against the specification.
func TestCatalogue(t *testing.T) {
	if len(Catalogue) != 44 || NumEdits != 45 {
		t.Fatalf("%d catalogue entries, NumEdits %d", len(Catalogue), NumEdits)
	}
	for v := range 2 {
		if len(dxString[v]) != 20 || len(prString[v]) != 20 {
			t.Errorf("version index %d: dx string %d, proc string %d edits; want 20 each", v, len(dxString[v]), len(prString[v]))
		}
		if dxString[v][11] != TypeOfAgeConflict {
			t.Errorf("dx string position 11 is %s", dxString[v][11])
		}
	}
	if prString[0][6] != LimitedCoverage || prString[0][7] != QuestionableObstetricAdmission ||
		prString[1][6] != LimitedCoverageLVRS || prString[1][7] != LimitedCoverageLungTransplant {
		t.Errorf("procedure strings: ICD-10 %v, ICD-9 %v", prString[0], prString[1])
	}
	if LimitedCoverage.AppliesTo(9) || !LimitedCoverage.AppliesTo(10) || !LimitedCoverageLVRS.AppliesTo(9) || LimitedCoverageLVRS.AppliesTo(0) {
		t.Error("ICD applicability")
	}
	for _, e := range Catalogue {
		p, err := ParseEdit(strings.ToLower(e.Name))
		if err != nil || p != e.Edit {
			t.Errorf("ParseEdit(%s) = %v, %v", e.Name, p, err)
		}
		if e.Rule == "" || e.Title == "" {
			t.Errorf("%s has no title or rule", e.Name)
		}
	}
	s, err := ParseEditSet("UNSPECIFIED, age_conflict")
	if err != nil || s != NewEditSet(Unspecified, AgeConflict) || s.String() != "AGE_CONFLICT,UNSPECIFIED" {
		t.Errorf("ParseEditSet: %v %v", s, err)
	}
	if _, err := ParseEditSet("NOPE"); err == nil {
		t.Error("ParseEditSet accepted an unknown edit")
	}
}

func TestEditCountsJSON(t *testing.T) {
	in := `{"INVALID_CODE":1,"AGE_CONFLICT":2}`
	var ec EditCounts
	if err := json.Unmarshal([]byte(in), &ec); err != nil {
		t.Fatal(err)
	}
	if len(ec) != 2 || ec[0] != (EditCount{InvalidCode, 1}) || ec[1] != (EditCount{AgeConflict, 2}) {
		t.Fatalf("decoded %v", ec)
	}
	out, _ := json.Marshal(ec)
	if string(out) != in {
		t.Errorf("round trip %s", out)
	}
	if err := json.Unmarshal([]byte(`{"NOPE":1}`), &ec); err == nil {
		t.Error("unknown edit accepted")
	}
}

func TestMessageJSON(t *testing.T) {
	d := mceData(t)
	c := std("", jan2025, []string{"C61", "C61"}, nil)
	c.age = ip(200)
	b, err := json.Marshal(Edit(d, c.claim(), Options{}).Messages())
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"edit":"DUPLICATE_OF_PDX","role":"SDX","index":1,"code":"C61","counted":true,"payment":"PREPAYMENT","text":"SDX C61: duplicate of the principal diagnosis"},` +
		`{"edit":"INVALID_AGE","index":-1,"counted":true,"payment":"PREPAYMENT","text":"claim: age 200 is invalid: age must be 0–124 years"}]`
	if string(b) != want {
		t.Errorf("messages JSON\n%s\nwant\n%s", b, want)
	}
}
