package cdi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/hl7"
)

// HL7Event is what one HL7 v2 message says about an encounter: which encounter (account and
// facility), the encounter fields it gives (zero when it gives none) and its evidence.
type HL7Event struct {
	Type, Trigger string // "ADT", "A01"
	// Account is PID-18, else PV1-19; Facility is MSH-4.
	Account, Facility string
	// Create: the message may create the encounter (A01, A04); the others need it to exist.
	Create bool
	// Encounter holds the fields the message gives: age, sex, admit and discharge dates,
	// discharge status, unit, attending provider, and the evidence.
	Encounter claim.Encounter
	// Warnings name the parts of the message not used (a DG1 without an ICD-10-CM code…).
	Warnings []*hl7.Error
}

//go:embed hl7_dispositions.json
var hl7DispositionsJSON []byte

// hl7Dispositions maps PV1-36 codes to UB-04 discharge statuses (hl7_dispositions.json).
var hl7Dispositions = func() map[string]int {
	var f struct {
		Dispositions map[string]int `json:"dispositions"`
	}
	if err := json.Unmarshal(hl7DispositionsJSON, &f); err != nil {
		panic("cdi: hl7_dispositions.json: " + err.Error())
	}
	return f.Dispositions
}()

// HL7Supported lists the message types and trigger events the interface applies.
var HL7Supported = map[string][]string{"ADT": {"A01", "A03", "A04", "A08"}, "ORU": {"R01"}, "MDM": {"T02", "T04"}}

// ParseHL7 reads an HL7 v2 message as an encounter event: ADT^A01/A04 (admit: may create the
// encounter), A08 (update), A03 (discharge: PV1-45 and PV1-36 as a UB-04 status), ORU^R01
// (OBX results → lab evidence with the names and specimen rules of the FHIR path; FT, or
// multi-line TX, results → a note), MDM^T02/T04 (a note: TXA-2 type, TXA-9 author, TXA-4 time,
// OBX text), and DG1 segments in any of them (documented diagnoses). Times without a zone are
// read in loc. The error is an *hl7.Error naming the segment and field.
func ParseHL7(m *hl7.Message, loc *time.Location) (*HL7Event, error) {
	typ, trig := m.Type()
	if _, ok := HL7Supported[typ]; !ok {
		return nil, hl7.Errorf(hl7.Location{Segment: "MSH", Sequence: 1, Field: 9, Component: 1}, hl7.ErrUnsupportedType,
			"message type %q is not accepted (ADT, ORU, MDM)", typ)
	}
	okTrig := false
	for _, t := range HL7Supported[typ] {
		okTrig = okTrig || t == trig
	}
	if !okTrig {
		return nil, hl7.Errorf(hl7.Location{Segment: "MSH", Sequence: 1, Field: 9, Component: 2}, hl7.ErrUnsupportedEvent,
			"%s trigger event %q is not accepted (%s)", typ, trig, strings.Join(HL7Supported[typ], " "))
	}
	p := &hl7Reader{m: m, loc: loc, ev: &HL7Event{Type: typ, Trigger: trig, Facility: m.Header().Value(4, 1)}}
	p.ev.Create = typ == "ADT" && (trig == "A01" || trig == "A04")
	pid, pv1 := m.First("PID"), m.First("PV1")
	if pid == nil {
		return nil, hl7.Errorf(hl7.Location{Segment: "PID", Sequence: 1}, hl7.ErrSegmentSequence, "required: a PID segment")
	}
	p.ev.Account = pid.Value(18, 1)
	if p.ev.Account == "" && pv1 != nil {
		p.ev.Account = pv1.Value(19, 1)
	}
	if p.ev.Account == "" {
		return nil, hl7.Errorf(m.Loc(pid, 18, 0), hl7.ErrRequiredMissing, "required: the account number (PID-18, or PV1-19)")
	}
	steps := []func() error{func() error { return p.patientVisit(pid, pv1) }, p.diagnoses}
	switch typ {
	case "ORU":
		steps = append(steps, p.results)
	case "MDM":
		steps = append(steps, p.document)
	}
	for _, f := range steps {
		if err := f(); err != nil {
			return nil, err
		}
	}
	return p.ev, nil
}

type hl7Reader struct {
	m   *hl7.Message
	loc *time.Location
	ev  *HL7Event
}

func (p *hl7Reader) time(s *hl7.Segment, field int) (time.Time, error) {
	t, err := hl7.ParseTime(s.Value(field, 1), p.loc)
	if err != nil {
		return time.Time{}, hl7.Errorf(p.m.Loc(s, field, 0), hl7.ErrDataType, "%v", err)
	}
	return t, nil
}

func (p *hl7Reader) warn(s *hl7.Segment, field int, format string, args ...any) {
	p.ev.Warnings = append(p.ev.Warnings, hl7.Errorf(p.m.Loc(s, field, 0), hl7.ErrDataType, format, args...))
}

// patientVisit reads sex, birth date, unit, attending, admission and discharge.
func (p *hl7Reader) patientVisit(pid, pv1 *hl7.Segment) error {
	e := &p.ev.Encounter
	e.Account, e.Facility = p.ev.Account, p.ev.Facility
	switch sx := strings.ToUpper(pid.Value(8, 1)); sx {
	case "":
	case "M", "F":
		e.Sex = sx
	default:
		e.Sex = "U"
	}
	birth, err := p.time(pid, 7)
	if err != nil {
		return err
	}
	if pv1 == nil {
		if p.ev.Type == "ADT" {
			return hl7.Errorf(hl7.Location{Segment: "PV1", Sequence: 1}, hl7.ErrSegmentSequence, "required: a PV1 segment")
		}
		return nil
	}
	if p.ev.Type != "ADT" {
		return nil // results and documents do not change the visit
	}
	e.Unit = pv1.Value(3, 1)
	e.AttendingProvider, _ = hl7Provider(pv1, 7, 1)
	admit, err := p.time(pv1, 44)
	if err != nil {
		return err
	}
	if admit.IsZero() && p.ev.Create {
		// An admission message is sent when the patient is admitted: the event time.
		if evn := p.m.First("EVN"); evn != nil {
			if admit, err = p.time(evn, 6); err != nil {
				return err
			}
			if admit.IsZero() {
				if admit, err = p.time(evn, 2); err != nil {
					return err
				}
			}
		}
	}
	if !admit.IsZero() {
		e.AdmitDate = dateOf(admit)
		if !birth.IsZero() {
			age := admit.Year() - birth.Year()
			if admit.Month() < birth.Month() || admit.Month() == birth.Month() && admit.Day() < birth.Day() {
				age--
			}
			if age < 0 || age > 124 {
				return hl7.Errorf(p.m.Loc(pid, 7, 0), hl7.ErrDataType, "birth date %s gives an age of %d at admission", pid.Value(7, 1), age)
			}
			e.Age = &age
		}
	}
	if p.ev.Trigger != "A03" {
		return nil
	}
	disch, err := p.time(pv1, 45)
	if err != nil {
		return err
	}
	if disch.IsZero() {
		return hl7.Errorf(p.m.Loc(pv1, 45, 0), hl7.ErrRequiredMissing, "required: the discharge date/time of a discharge (A03)")
	}
	e.DischargeDate = dateOf(disch)
	code := pv1.Value(36, 1)
	if code == "" {
		return hl7.Errorf(p.m.Loc(pv1, 36, 0), hl7.ErrRequiredMissing, "required: the discharge disposition of a discharge (A03)")
	}
	st, ok := hl7Dispositions[code]
	if !ok {
		return hl7.Errorf(p.m.Loc(pv1, 36, 0), hl7.ErrTableValue, "discharge disposition %q is not a UB-04 patient discharge status", code)
	}
	e.DischargeStatus = &st
	return nil
}

// hl7Provider reads an XCN (id, family, given, …, degree in component 7, suffix in 21) of
// repetition rep of a field: the provider and the role of their degree ("" when unknown).
func hl7Provider(s *hl7.Segment, field, rep int) (*claim.Provider, string) {
	id := s.Sub(field, rep, 1, 1)
	name := strings.TrimSpace(s.Sub(field, rep, 3, 1) + " " + s.Sub(field, rep, 2, 1))
	if id == "" && name == "" {
		return nil, ""
	}
	role := qualificationRoles[strings.ToUpper(s.Sub(field, rep, 7, 1))]
	if role == "" {
		role = qualificationRoles[strings.ToUpper(s.Sub(field, rep, 21, 1))]
	}
	return &claim.Provider{ID: id, Name: name}, role
}

// icd10Systems are the coding-system names (CE/CWE component 3) of ICD-10-CM in DG1-3.
var icd10Systems = map[string]bool{"I10": true, "I10C": true, "ICD10CM": true, "ICD-10-CM": true, "I10CM": true, "ICD10": true}

// diagnoses reads DG1 segments as documented diagnoses (DG1-3 code, DG1-5 time, DG1-16
// clinician, DG1-26 POA).
func (p *hl7Reader) diagnoses() error {
	for _, s := range p.m.All("DG1") {
		code, sys := s.Value(3, 1), strings.ToUpper(s.Value(3, 3))
		if code == "" {
			p.warn(s, 3, "no diagnosis code (ignored)")
			continue
		}
		if !icd10Systems[sys] {
			p.warn(s, 3, "coding system %q is not ICD-10-CM (I10) (ignored)", sys)
			continue
		}
		t, err := p.time(s, 5)
		if err != nil {
			return err
		}
		author, role := hl7Provider(s, 16, 1)
		if role == "" {
			role = claim.RolePhysician // encounter diagnoses in an EHR feed are the providers' diagnoses
		}
		ev := claim.Evidence{Kind: claim.KindDocumentedDx, Code: claim.NormalizeCode(code), Name: s.Value(3, 2), Time: t,
			AuthorRole: role, Author: author, Source: "HL7 DG1"}
		switch poa := strings.ToUpper(s.Value(26, 1)); poa {
		case "Y", "N", "U", "W", "1":
			ev.POA = poa
		}
		p.ev.Encounter.Evidence = append(p.ev.Encounter.Evidence, ev)
	}
	return nil
}

// hl7Name names a CE/CWE: its text, else its alternate text, else its code.
func hl7Name(s *hl7.Segment, field int) string {
	for _, c := range []int{2, 5, 1} {
		if v := strings.TrimSpace(s.Value(field, c)); v != "" {
			return v
		}
	}
	return ""
}

// hl7LOINC is the LOINC code of a CE/CWE (system LN, first or alternate triplet).
func hl7LOINC(s *hl7.Segment, field int) string {
	for _, c := range []int{1, 4} {
		if strings.EqualFold(s.Value(field, c+2), "LN") {
			return s.Value(field, c)
		}
	}
	return ""
}

// hl7Specimen names a specimen type CWE (SPM-4) or the first component of an SPS (OBR-15,
// whose CE is in subcomponents) as the FHIR path does: the text, else the code spelled out.
func hl7Specimen(code, text string) string {
	n := strings.TrimSpace(text)
	if n == "" {
		n = strings.TrimSpace(code)
	}
	if s, ok := specimenCodes[strings.ToUpper(n)]; ok {
		return s
	}
	return n
}

// skippedResultStatus are the OBX-11 statuses of results not to use (deleted, cannot be
// obtained, wrong: post to the correct patient).
var skippedResultStatus = map[string]bool{"D": true, "X": true, "W": true, "N": true}

// results reads the OBX of ORU^R01 order groups: each OBR with its OBX and its specimen (the
// group's SPM-4, else OBR-15).
func (p *hl7Reader) results() error {
	var obr, spm *hl7.Segment
	var group []*hl7.Segment
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		spec := ""
		switch {
		case spm != nil:
			spec = hl7Specimen(spm.Value(4, 1), spm.Value(4, 2))
		case obr != nil:
			spec = hl7Specimen(obr.Sub(15, 1, 1, 1), obr.Sub(15, 1, 1, 2))
		}
		err := p.group(obr, group, spec)
		group, spm = nil, nil
		return err
	}
	for _, s := range p.m.Segments {
		switch s.Name {
		case "OBR":
			if err := flush(); err != nil {
				return err
			}
			obr = s
		case "SPM":
			if spm == nil {
				spm = s
			}
		case "OBX":
			group = append(group, s)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if len(p.m.All("OBX")) == 0 {
		return hl7.Errorf(hl7.Location{Segment: "OBX", Sequence: 1}, hl7.ErrSegmentSequence, "required: OBX result segments")
	}
	return nil
}

// group reads the OBX of one order: text reports (FT, or TX over several lines or segments of
// one OBX-3) become one note per OBX-3, other values lab evidence.
func (p *hl7Reader) group(obr *hl7.Segment, obxs []*hl7.Segment, spec string) error {
	txCount := map[string]int{}
	for _, o := range obxs {
		if strings.ToUpper(o.Value(2, 1)) == "TX" {
			txCount[o.Value(3, 1)+"^"+o.Value(3, 2)]++
		}
	}
	var notes []*noteParts
	noteOf := map[string]*noteParts{}
	for _, o := range obxs {
		if skippedResultStatus[strings.ToUpper(o.Value(11, 1))] {
			continue
		}
		vt := strings.ToUpper(o.Value(2, 1))
		text := o.Text(5, p.m.Delims)
		key := o.Value(3, 1) + "^" + o.Value(3, 2)
		if vt == "FT" || vt == "TX" && (txCount[key] > 1 || strings.Contains(text, "\n")) {
			n := noteOf[key]
			if n == nil {
				n = &noteParts{first: o}
				noteOf[key] = n
				notes = append(notes, n)
			}
			n.lines = append(n.lines, text)
			continue
		}
		if err := p.result(obr, o, vt, spec); err != nil {
			return err
		}
	}
	for _, n := range notes {
		t, err := p.obsTime(obr, n.first)
		if err != nil {
			return err
		}
		noteType := hl7Name(n.first, 3)
		if obr != nil && hl7Name(obr, 4) != "" {
			noteType = hl7Name(obr, 4)
		}
		ev := claim.Evidence{Kind: claim.KindNote, NoteType: noteType, Text: strings.Join(n.lines, "\n"), Time: t,
			Source: "HL7 ORU " + p.m.ControlID()}
		ev.Author, ev.AuthorRole = hl7Provider(n.first, 16, 1)
		if ev.Author == nil && obr != nil {
			ev.Author, ev.AuthorRole = hl7Interpreter(obr)
		}
		if strings.TrimSpace(ev.Text) == "" {
			p.warn(n.first, 5, "empty report text (ignored)")
			continue
		}
		p.ev.Encounter.Evidence = append(p.ev.Encounter.Evidence, ev)
	}
	return nil
}

type noteParts struct {
	first *hl7.Segment
	lines []string
}

// hl7Interpreter reads OBR-32, the principal result interpreter (NDL whose first component is
// a CNN in subcomponents: id&family&given).
func hl7Interpreter(obr *hl7.Segment) (*claim.Provider, string) {
	id := obr.Sub(32, 1, 1, 1)
	name := strings.TrimSpace(obr.Sub(32, 1, 1, 3) + " " + obr.Sub(32, 1, 1, 2))
	if id == "" && name == "" {
		return nil, ""
	}
	return &claim.Provider{ID: id, Name: name}, qualificationRoles[strings.ToUpper(obr.Sub(32, 1, 1, 7))]
}

// obsTime is OBX-14, else OBR-7 (observation date/time).
func (p *hl7Reader) obsTime(obr, obx *hl7.Segment) (time.Time, error) {
	t, err := p.time(obx, 14)
	if err != nil || !t.IsZero() || obr == nil {
		return t, err
	}
	return p.time(obr, 7)
}

// result reads one OBX as lab (or measurement) evidence.
func (p *hl7Reader) result(obr, o *hl7.Segment, vt, spec string) error {
	name, loinc := hl7Name(o, 3), hl7LOINC(o, 3)
	if name == "" && loinc == "" {
		return hl7.Errorf(p.m.Loc(o, 3, 0), hl7.ErrRequiredMissing, "required: the observation identifier")
	}
	t, err := p.obsTime(obr, o)
	if err != nil {
		return err
	}
	kind := claim.KindLab
	if measurementLOINC[loinc] {
		kind = claim.KindMeasurement
	}
	ev := claim.Evidence{Kind: kind, Name: name, LOINC: loinc, Unit: o.Value(6, 1), ReferenceRange: o.Text(7, p.m.Delims),
		Specimen: spec, Method: hl7Name(o, 17), Time: t}
	if ev.Unit == "" {
		ev.Unit = o.Value(6, 2)
	}
	raw := strings.TrimSpace(o.Value(5, 1))
	switch vt {
	case "NM":
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return hl7.Errorf(p.m.Loc(o, 5, 0), hl7.ErrDataType, "numeric (NM) result %q is not a number", raw)
		}
		ev.Value = claim.Number(f)
	case "SN":
		// comparator^num1^separator/suffix^num2: a plain number is a number, "<^0.5" text.
		cmp, n1, sep, n2 := o.Value(5, 1), o.Value(5, 2), o.Value(5, 3), o.Value(5, 4)
		if f, err := strconv.ParseFloat(strings.TrimSpace(n1), 64); err == nil && (cmp == "" || cmp == "=") && sep == "" && n2 == "" {
			ev.Value = claim.Number(f)
		} else if s := strings.TrimSpace(cmp + n1 + sep + n2); s != "" {
			ev.Value = claim.Text(s)
		}
	case "CE", "CWE", "CNE", "CF":
		ev.Value = claim.Text(hl7Name(o, 5))
	default: // ST, TX, FT on one line, ID, IS…
		if s := strings.TrimSpace(o.Text(5, p.m.Delims)); s != "" {
			ev.Value = claim.Text(s)
		}
	}
	if ev.Value.IsZero() {
		p.warn(o, 5, "no result value (ignored)")
		return nil
	}
	p.ev.Encounter.Evidence = append(p.ev.Encounter.Evidence, ev)
	return nil
}

// document reads an MDM^T02/T04 as a note: TXA-2 type, TXA-9 (else TXA-5) author, TXA-4
// (else TXA-6, TXA-7) time, and the text of its OBX segments in order.
func (p *hl7Reader) document() error {
	txa := p.m.First("TXA")
	if txa == nil {
		return hl7.Errorf(hl7.Location{Segment: "TXA", Sequence: 1}, hl7.ErrSegmentSequence, "required: a TXA segment")
	}
	var lines []string
	for _, o := range p.m.All("OBX") {
		if skippedResultStatus[strings.ToUpper(o.Value(11, 1))] {
			continue
		}
		lines = append(lines, o.Text(5, p.m.Delims))
	}
	text := strings.Join(lines, "\n")
	if strings.TrimSpace(text) == "" {
		return hl7.Errorf(hl7.Location{Segment: "OBX", Sequence: 1, Field: 5}, hl7.ErrRequiredMissing, "required: the document text (OBX-5)")
	}
	var t time.Time
	for _, f := range []int{4, 6, 7} {
		var err error
		if t, err = p.time(txa, f); err != nil {
			return err
		}
		if !t.IsZero() {
			break
		}
	}
	noteType := hl7Name(txa, 2)
	if noteType == "" {
		return hl7.Errorf(p.m.Loc(txa, 2, 0), hl7.ErrRequiredMissing, "required: the document type")
	}
	ev := claim.Evidence{Kind: claim.KindNote, NoteType: noteType, Text: text, Time: t, Source: "HL7 MDM"}
	if id := txa.Value(12, 1); id != "" {
		ev.Source = "HL7 MDM document " + id
	}
	ev.Author, ev.AuthorRole = hl7Provider(txa, 9, 1)
	if ev.Author == nil {
		ev.Author, ev.AuthorRole = hl7Provider(txa, 5, 1)
	}
	p.ev.Encounter.Evidence = append(p.ev.Encounter.Evidence, ev)
	return nil
}

// String names the event for logs: type, trigger, facility (never the account or any text).
func (e *HL7Event) String() string {
	return fmt.Sprintf("%s^%s facility %q", e.Type, e.Trigger, e.Facility)
}
