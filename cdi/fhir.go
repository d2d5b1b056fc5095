package cdi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/msdrg-cdi/drg/claim"
)

// FHIRError reports one bundle entry that was not loaded (or loaded partly).
type FHIRError struct {
	Entry        int    `json:"entry"` // index in Bundle.entry
	ResourceType string `json:"resource_type,omitempty"`
	ID           string `json:"id,omitempty"`
	Message      string `json:"message"`
}

// Error renders the entry index, resource and message.
func (e FHIRError) Error() string {
	return fmt.Sprintf("entry[%d] %s/%s: %s", e.Entry, e.ResourceType, e.ID, e.Message)
}

// Code systems recognized in FHIR codings.
const (
	systemICD10CM  = "http://hl7.org/fhir/sid/icd-10-cm"
	systemICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
	systemLOINC    = "http://loinc.org"
)

// Minimal FHIR R4 structures: only the elements the CDI engine reads.
type (
	fhirCoding struct {
		System  string `json:"system"`
		Code    string `json:"code"`
		Display string `json:"display"`
	}
	fhirConcept struct {
		Coding []fhirCoding `json:"coding"`
		Text   string       `json:"text"`
	}
	fhirReference struct {
		Reference string `json:"reference"`
		Display   string `json:"display"`
	}
	fhirQuantity struct {
		Value *float64 `json:"value"`
		Unit  string   `json:"unit"`
		Code  string   `json:"code"`
	}
	fhirRatio struct {
		Numerator   *fhirQuantity `json:"numerator"`
		Denominator *fhirQuantity `json:"denominator"`
	}
	fhirPeriod struct {
		Start string `json:"start"`
		End   string `json:"end"`
	}
	fhirExtension struct {
		URL                  string       `json:"url"`
		ValueCode            string       `json:"valueCode"`
		ValueCoding          *fhirCoding  `json:"valueCoding"`
		ValueCodeableConcept *fhirConcept `json:"valueCodeableConcept"`
	}
	fhirResource struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
		Status       string `json:"status"`
		// Patient
		Gender    string `json:"gender"`
		BirthDate string `json:"birthDate"`
		// Practitioner
		Name          []struct{ Text, Family string } `json:"name"`
		Qualification []struct {
			Code fhirConcept `json:"code"`
		} `json:"qualification"`
		// Encounter
		Identifier      []struct{ System, Value string } `json:"identifier"`
		Period          *fhirPeriod                      `json:"period"`
		ServiceProvider *fhirReference                   `json:"serviceProvider"`
		Location        fhirLocations                    `json:"location"`
		Participant     []struct {
			Type       []fhirConcept  `json:"type"`
			Individual *fhirReference `json:"individual"`
		} `json:"participant"`
		// Condition, Procedure, Observation, MedicationAdministration, DocumentReference
		Code               *fhirConcept    `json:"code"`
		Category           fhirConcepts    `json:"category"`
		VerificationStatus *fhirConcept    `json:"verificationStatus"`
		Recorder           *fhirReference  `json:"recorder"`
		Asserter           *fhirReference  `json:"asserter"`
		RecordedDate       string          `json:"recordedDate"`
		OnsetDateTime      string          `json:"onsetDateTime"`
		Extension          []fhirExtension `json:"extension"`
		PerformedDateTime  string          `json:"performedDateTime"`
		PerformedPeriod    *fhirPeriod     `json:"performedPeriod"`
		EffectiveDateTime  string          `json:"effectiveDateTime"`
		EffectivePeriod    *fhirPeriod     `json:"effectivePeriod"`
		Method             *fhirConcept    `json:"method"`
		// Specimen is a Reference in Observation and a list of them in ServiceRequest (not
		// read): it is decoded by the resource that reads it.
		Specimen       json.RawMessage   `json:"specimen"`
		Contained      []json.RawMessage `json:"contained"`
		Issued         string            `json:"issued"`
		ValueQuantity  *fhirQuantity     `json:"valueQuantity"`
		ValueString    *string           `json:"valueString"`
		ValueConcept   *fhirConcept      `json:"valueCodeableConcept"`
		ReferenceRange []struct {
			Low  *fhirQuantity `json:"low"`
			High *fhirQuantity `json:"high"`
			Text string        `json:"text"`
		} `json:"referenceRange"`
		Component []struct {
			Code          fhirConcept   `json:"code"`
			ValueQuantity *fhirQuantity `json:"valueQuantity"`
		} `json:"component"`
		Performer         []json.RawMessage `json:"performer"`
		MedicationConcept *fhirConcept      `json:"medicationCodeableConcept"`
		MedicationRef     *fhirReference    `json:"medicationReference"`
		Dosage            *struct {
			Text         string        `json:"text"`
			Route        *fhirConcept  `json:"route"`
			Dose         *fhirQuantity `json:"dose"`
			RateQuantity *fhirQuantity `json:"rateQuantity"`
			RateRatio    *fhirRatio    `json:"rateRatio"`
		} `json:"dosage"`
		// ServiceRequest
		OccurrenceDateTime string          `json:"occurrenceDateTime"`
		OccurrencePeriod   *fhirPeriod     `json:"occurrencePeriod"`
		AuthoredOn         string          `json:"authoredOn"`
		DoNotPerform       bool            `json:"doNotPerform"`
		Type               fhirConcepts    `json:"type"`
		Date               string          `json:"date"`
		Author             []fhirReference `json:"author"`
		Content            []struct {
			Attachment struct {
				ContentType string `json:"contentType"`
				Data        string `json:"data"`
				URL         string `json:"url"`
			} `json:"attachment"`
		} `json:"content"`
		// Composition
		Title   string        `json:"title"`
		Section []fhirSection `json:"section"`
	}
	// fhirSection is a Composition section: a title, a narrative and sub-sections.
	fhirSection struct {
		Title string       `json:"title"`
		Code  *fhirConcept `json:"code"`
		Text  *struct {
			Div string `json:"div"`
		} `json:"text"`
		Section []fhirSection `json:"section"`
	}
)

// fhirConcepts reads an element that is a list of CodeableConcepts in some resources and a
// single one in others: all resources share one structure, and Encounter.type is a list while
// DocumentReference.type and Specimen.type are one concept, Observation.category is a list
// while Procedure.category and MedicationAdministration.category are one concept.
type fhirConcepts []fhirConcept

// UnmarshalJSON reads a list of concepts, one concept or null.
func (cs *fhirConcepts) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*cs = nil
		return nil
	case len(b) > 0 && b[0] == '[':
		var l []fhirConcept
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		*cs = l
		return nil
	}
	var c fhirConcept
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	*cs = fhirConcepts{c}
	return nil
}

// first returns the first concept (nil when there is none).
func (cs fhirConcepts) first() *fhirConcept {
	if len(cs) == 0 {
		return nil
	}
	return &cs[0]
}

// fhirLocations reads Encounter.location, a list of {location: Reference}. Procedure.location
// is a single Reference of the same name that the parser does not read: it is skipped.
type fhirLocations []struct {
	Location fhirReference `json:"location"`
}

// UnmarshalJSON reads a list of encounter locations; anything else is skipped.
func (ls *fhirLocations) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '[' {
		*ls = nil
		return nil
	}
	var l []struct {
		Location fhirReference `json:"location"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*ls = l
	return nil
}

// ParseFHIRBundle reads an encounter from a FHIR R4 Bundle: Patient (age, sex), Encounter
// (account, dates, facility, unit, attending), Condition (documented diagnoses with their
// author's role and POA), Procedure (ICD-10-PCS codes, other procedures as orders),
// ServiceRequest (orders), Observation (labs, vitals, measurements, with their specimen and
// method), MedicationAdministration (dose or infusion rate), DocumentReference with an inline
// text/plain attachment and Composition (section narratives, XHTML read as text): notes. Practitioner resources give authors their roles (qualification MD/DO
// physician, NP/PA advanced practice, RN/LPN nurse, RD dietitian, PT/OT/RT therapist);
// Specimen resources, in the bundle or contained in an Observation, give lab results their
// specimen (Specimen.type).
//
// Every entry that cannot be used is reported in the returned errors while the others load,
// as is an entry loaded partly (an Observation whose specimen reference resolves to nothing
// it can name); the error is only for input that is not a Bundle at all.
func ParseFHIRBundle(b []byte) (*claim.Encounter, []FHIRError, error) {
	var bundle struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			FullURL  string          `json:"fullUrl"`
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		return nil, nil, fmt.Errorf("fhir: not a JSON Bundle: %w", err)
	}
	if bundle.ResourceType != "Bundle" {
		return nil, nil, fmt.Errorf("fhir: resourceType is %q, want Bundle", bundle.ResourceType)
	}
	p := &fhirParser{enc: &claim.Encounter{}, roles: map[string]string{}, names: map[string]string{}, specimens: map[string]string{}}
	res := make([]*fhirResource, len(bundle.Entry))
	for i, e := range bundle.Entry {
		if len(e.Resource) == 0 {
			p.fail(i, "", "", "entry has no resource")
			continue
		}
		r := &fhirResource{}
		if err := json.Unmarshal(e.Resource, r); err != nil {
			var head struct {
				ResourceType string `json:"resourceType"`
				ID           string `json:"id"`
			}
			_ = json.Unmarshal(e.Resource, &head) // best effort to name the entry
			p.fail(i, head.ResourceType, head.ID, "malformed resource: "+err.Error())
			continue
		}
		res[i] = r
		switch r.ResourceType {
		case "Practitioner":
			p.practitioner(r)
		case "Specimen":
			p.specimen(r, e.FullURL)
		}
	}
	var patient *fhirResource
	for i, r := range res {
		if r == nil {
			continue
		}
		var err error
		p.entry = i
		switch r.ResourceType {
		case "Practitioner", "Specimen":
		case "Patient":
			patient = r
		case "Encounter":
			err = p.encounter(r)
		case "Condition":
			err = p.condition(r)
		case "Procedure":
			err = p.procedure(r)
		case "Observation":
			err = p.observation(r)
		case "MedicationAdministration":
			err = p.medication(r)
		case "ServiceRequest":
			err = p.serviceRequest(r)
		case "DocumentReference":
			err = p.document(r)
		case "Composition":
			err = p.composition(r)
		case "":
			err = errors.New("resourceType is missing")
		default:
			err = fmt.Errorf("unsupported resource type %s (ignored)", r.ResourceType)
		}
		if err != nil {
			p.fail(i, r.ResourceType, r.ID, err.Error())
		}
	}
	if patient != nil {
		p.patient(patient)
	}
	return p.enc, p.errs, nil
}

type fhirParser struct {
	enc   *claim.Encounter
	errs  []FHIRError
	roles map[string]string // "Practitioner/id" → author role
	names map[string]string
	// specimens maps "Specimen/id" and the fullUrl of each Specimen to its type ("" none).
	specimens map[string]string
	entry     int // index of the entry being read (second pass)
}

func (p *fhirParser) fail(i int, typ, id, msg string) {
	p.errs = append(p.errs, FHIRError{Entry: i, ResourceType: typ, ID: id, Message: msg})
}

// qualificationRoles maps v2 0360 degree codes to author roles.
var qualificationRoles = map[string]string{
	"MD": claim.RolePhysician, "DO": claim.RolePhysician, "NP": claim.RoleAdvancedPractice, "PA": claim.RoleAdvancedPractice,
	"CNS": claim.RoleAdvancedPractice, "RN": claim.RoleNurse, "LPN": claim.RoleNurse, "RD": claim.RoleDietitian,
	"PT": claim.RoleTherapist, "OT": claim.RoleTherapist, "RT": claim.RoleTherapist, "SLP": claim.RoleTherapist,
}

func (p *fhirParser) practitioner(r *fhirResource) {
	key := "Practitioner/" + r.ID
	for _, q := range r.Qualification {
		for _, c := range q.Code.Coding {
			if role, ok := qualificationRoles[strings.ToUpper(c.Code)]; ok {
				p.roles[key] = role
			}
		}
	}
	if len(r.Name) > 0 {
		p.names[key] = strings.TrimSpace(r.Name[0].Text + " " + r.Name[0].Family)
	}
}

// specimenCodes spell out HL7 v2-0487 specimen type codes: a Specimen.type often carries the
// code alone (no text, no display), and the CDI engine classifies a specimen by its words,
// among which the arterial, venous and capillary blood codes are not.
var specimenCodes = map[string]string{
	"ABLD": "Arterial blood", "BLDA": "Arterial blood", "BLDV": "Venous blood", "BLDC": "Capillary blood",
	"BLD": "Whole blood", "SER": "Serum", "PLAS": "Plasma", "UR": "Urine", "URN": "Urine", "CSF": "Cerebrospinal fluid",
}

// specimenType names a Specimen.type: its text, else the first coding display, else the first
// code; a name that is a v2-0487 code of specimenCodes is spelled out ("ABLD" → "Arterial
// blood").
func specimenType(c *fhirConcept) string {
	n := c.name()
	if s, ok := specimenCodes[strings.ToUpper(strings.TrimSpace(n))]; ok {
		return s
	}
	return n
}

// specimen records a Specimen resource's type under its reference and its fullUrl.
func (p *fhirParser) specimen(r *fhirResource, fullURL string) {
	typ := specimenType(r.Type.first())
	if r.ID != "" {
		p.specimens["Specimen/"+r.ID] = typ
	}
	if fullURL != "" {
		p.specimens[fullURL] = typ
	}
}

// containedSpecimens reads the Specimen resources contained in a resource, by "#id".
func containedSpecimens(contained []json.RawMessage) map[string]string {
	var m map[string]string
	for _, raw := range contained {
		var c struct {
			ResourceType string       `json:"resourceType"`
			ID           string       `json:"id"`
			Type         fhirConcepts `json:"type"`
		}
		if json.Unmarshal(raw, &c) != nil || c.ResourceType != "Specimen" || c.ID == "" {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m["#"+c.ID] = specimenType(c.Type.first())
	}
	return m
}

// observationSpecimen returns the specimen an Observation names: the type of the Specimen it
// references (in the bundle, by "Specimen/id", a versioned or absolute reference or the
// fullUrl, or contained, by "#id"), else the reference's display. warn is set when the
// reference names no specimen at all.
func (p *fhirParser) observationSpecimen(r *fhirResource) (spec, warn string, err error) {
	if len(r.Specimen) == 0 || bytes.Equal(bytes.TrimSpace(r.Specimen), []byte("null")) {
		return "", "", nil
	}
	var ref fhirReference
	if err := json.Unmarshal(r.Specimen, &ref); err != nil {
		return "", "", fmt.Errorf("specimen is not a Reference: %w", err)
	}
	typ, found := "", false
	if strings.HasPrefix(ref.Reference, "#") {
		typ, found = containedSpecimens(r.Contained)[ref.Reference]
	} else if ref.Reference != "" {
		for _, k := range referenceKeys(ref.Reference) {
			if typ, found = p.specimens[k]; found {
				break
			}
		}
	}
	switch {
	case typ != "":
		return typ, "", nil
	case ref.Display != "":
		return ref.Display, "", nil
	case found:
		return "", fmt.Sprintf("specimen %s has no type (loaded without specimen)", ref.Reference), nil
	case strings.HasPrefix(ref.Reference, "#"):
		return "", fmt.Sprintf("specimen %s: no readable contained Specimen (loaded without specimen)", ref.Reference), nil
	case ref.Reference != "":
		return "", fmt.Sprintf("specimen %s is not in the bundle (loaded without specimen)", ref.Reference), nil
	}
	return "", "", nil
}

// referenceKeys are the keys a reference may be recorded under: itself, without its version
// ("…/_history/2") and as a relative "Type/id".
func referenceKeys(ref string) []string {
	keys := []string{ref}
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
		keys = append(keys, ref)
	}
	if parts := strings.Split(ref, "/"); len(parts) > 2 {
		keys = append(keys, parts[len(parts)-2]+"/"+parts[len(parts)-1])
	}
	return keys
}

// author returns the provider and role of a reference (role "" when unknown).
func (p *fhirParser) author(ref *fhirReference) (*claim.Provider, string) {
	if ref == nil || ref.Reference == "" && ref.Display == "" {
		return nil, ""
	}
	id := ref.Reference
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		id = id[i+1:]
	}
	name := ref.Display
	if name == "" {
		name = p.names[ref.Reference]
	}
	return &claim.Provider{ID: id, Name: name}, p.roles[ref.Reference]
}

// fhirTime parses a FHIR dateTime or instant (a date alone is midnight UTC).
func fhirTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid dateTime %q", s)
}

func firstTime(vals ...string) (time.Time, error) {
	for _, v := range vals {
		if v != "" {
			return fhirTime(v)
		}
	}
	return time.Time{}, nil
}

func periodStart(p *fhirPeriod) string {
	if p == nil {
		return ""
	}
	return p.Start
}

func dateOf(t time.Time) claim.Date {
	return claim.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

func (c *fhirConcept) name() string {
	if c == nil {
		return ""
	}
	if c.Text != "" {
		return c.Text
	}
	for _, x := range c.Coding {
		if x.Display != "" {
			return x.Display
		}
	}
	for _, x := range c.Coding {
		if x.Code != "" {
			return x.Code
		}
	}
	return ""
}

func (c *fhirConcept) code(system string) string {
	if c == nil {
		return ""
	}
	for _, x := range c.Coding {
		if strings.EqualFold(x.System, system) {
			return x.Code
		}
	}
	return ""
}

func (c *fhirConcept) hasCode(code string) bool {
	if c == nil {
		return false
	}
	for _, x := range c.Coding {
		if strings.EqualFold(x.Code, code) {
			return true
		}
	}
	return false
}

func (p *fhirParser) patient(r *fhirResource) {
	switch r.Gender {
	case "male":
		p.enc.Sex = "M"
	case "female":
		p.enc.Sex = "F"
	case "":
	default:
		p.enc.Sex = "U"
	}
	if r.BirthDate == "" || p.enc.AdmitDate.IsZero() {
		return
	}
	b, err := time.Parse("2006-01-02", r.BirthDate)
	if err != nil {
		return
	}
	a := p.enc.AdmitDate
	age := a.Year - b.Year()
	if a.Month < b.Month() || a.Month == b.Month() && a.Day < b.Day() {
		age--
	}
	p.enc.Age = &age
}

func (p *fhirParser) encounter(r *fhirResource) error {
	e := p.enc
	e.ID = r.ID
	if len(r.Identifier) > 0 {
		e.Account = r.Identifier[0].Value
	}
	if e.Account == "" {
		e.Account = r.ID
	}
	if r.Period != nil {
		start, err := fhirTime(r.Period.Start)
		if err != nil {
			return fmt.Errorf("period.start: %w", err)
		}
		end, err := fhirTime(r.Period.End)
		if err != nil {
			return fmt.Errorf("period.end: %w", err)
		}
		if !start.IsZero() {
			e.AdmitDate = dateOf(start)
		}
		if !end.IsZero() {
			e.DischargeDate = dateOf(end)
		}
	}
	if r.ServiceProvider != nil {
		e.Facility = r.ServiceProvider.Display
	}
	if len(r.Location) > 0 {
		e.Unit = r.Location[0].Location.Display
	}
	for _, pt := range r.Participant {
		for _, t := range pt.Type {
			if t.hasCode("ATND") && pt.Individual != nil {
				e.AttendingProvider, _ = p.author(pt.Individual)
			}
		}
	}
	return nil
}

func (p *fhirParser) condition(r *fhirResource) error {
	if vs := r.VerificationStatus; vs != nil && (vs.hasCode("refuted") || vs.hasCode("entered-in-error")) {
		return errors.New("verification status refuted or entered-in-error: not a documented diagnosis (ignored)")
	}
	code := r.Code.code(systemICD10CM)
	if code == "" {
		return errors.New("no ICD-10-CM coding (system " + systemICD10CM + ")")
	}
	t, err := firstTime(r.RecordedDate, r.OnsetDateTime)
	if err != nil {
		return err
	}
	ref := r.Asserter
	if ref == nil {
		ref = r.Recorder
	}
	author, role := p.author(ref)
	if role == "" {
		// Encounter diagnoses in an EHR feed are the providers' diagnoses.
		role = claim.RolePhysician
	}
	ev := claim.Evidence{Kind: claim.KindDocumentedDx, Code: claim.NormalizeCode(code), Name: r.Code.name(), Time: t,
		AuthorRole: role, Author: author, Source: "EHR problem list"}
	if len(r.Category) > 0 {
		ev.NoteType = r.Category[0].name()
	}
	for _, x := range r.Extension {
		u := strings.ToLower(x.URL)
		if !strings.Contains(u, "present-on-admission") && !strings.HasSuffix(u, "poa") {
			continue
		}
		switch {
		case x.ValueCode != "":
			ev.POA = x.ValueCode
		case x.ValueCoding != nil:
			ev.POA = x.ValueCoding.Code
		case x.ValueCodeableConcept != nil && len(x.ValueCodeableConcept.Coding) > 0:
			ev.POA = x.ValueCodeableConcept.Coding[0].Code
		}
	}
	p.enc.Evidence = append(p.enc.Evidence, ev)
	return nil
}

func (p *fhirParser) procedure(r *fhirResource) error {
	if r.Status == "not-done" || r.Status == "entered-in-error" {
		return fmt.Errorf("status %s (ignored)", r.Status)
	}
	t, err := firstTime(r.PerformedDateTime, periodStart(r.PerformedPeriod))
	if err != nil {
		return err
	}
	if pcs := r.Code.code(systemICD10PCS); pcs != "" {
		pr := claim.Proc{Code: claim.NormalizeCode(pcs)}
		if !t.IsZero() {
			d := dateOf(t)
			pr.Date = &d
		}
		p.enc.Procedures = append(p.enc.Procedures, pr)
		return nil
	}
	name := r.Code.name()
	if name == "" {
		return errors.New("procedure has no code or text")
	}
	p.enc.Evidence = append(p.enc.Evidence, claim.Evidence{Kind: claim.KindOrder, Name: name, Time: t, Source: "EHR procedures"})
	return nil
}

// measurementLOINC are the LOINC codes of height, weight and BMI.
var measurementLOINC = map[string]bool{"39156-5": true, "29463-7": true, "3141-9": true, "8302-2": true}

func (p *fhirParser) observation(r *fhirResource) error {
	if r.Status == "entered-in-error" || r.Status == "cancelled" {
		return fmt.Errorf("status %s (ignored)", r.Status)
	}
	if r.Code == nil {
		return errors.New("observation has no code")
	}
	t, err := firstTime(r.EffectiveDateTime, periodStart(r.EffectivePeriod), r.Issued)
	if err != nil {
		return err
	}
	loinc := r.Code.code(systemLOINC)
	kind := claim.KindLab
	for _, c := range r.Category {
		if c.hasCode("vital-signs") {
			kind = claim.KindVital
		}
	}
	if measurementLOINC[loinc] {
		kind = claim.KindMeasurement
	}
	spec, warn, err := p.observationSpecimen(r)
	if err != nil {
		return err
	}
	method := r.Method.name()
	ev := claim.Evidence{Kind: kind, Name: r.Code.name(), LOINC: loinc, Specimen: spec, Method: method, Time: t}
	if len(r.ReferenceRange) > 0 {
		rr := r.ReferenceRange[0]
		switch {
		case rr.Text != "":
			ev.ReferenceRange = rr.Text
		case rr.Low != nil && rr.Low.Value != nil && rr.High != nil && rr.High.Value != nil:
			ev.ReferenceRange = fmtNum(*rr.Low.Value) + "-" + fmtNum(*rr.High.Value)
		}
	}
	switch {
	case r.ValueQuantity != nil && r.ValueQuantity.Value != nil:
		ev.Value, ev.Unit = claim.Number(*r.ValueQuantity.Value), quantityUnit(r.ValueQuantity)
	case r.ValueString != nil:
		ev.Value = claim.Text(*r.ValueString)
	case r.ValueConcept != nil:
		ev.Value = claim.Text(r.ValueConcept.name())
	case len(r.Component) > 0:
		// Each component is a result of its own (blood pressure, a blood gas panel) with the
		// observation's specimen, method and time; the observation itself is not one.
		n := 0
		for _, c := range r.Component {
			if c.ValueQuantity == nil || c.ValueQuantity.Value == nil {
				continue
			}
			p.enc.Evidence = append(p.enc.Evidence, claim.Evidence{Kind: kind, Name: c.Code.name(), LOINC: c.Code.code(systemLOINC),
				Value: claim.Number(*c.ValueQuantity.Value), Unit: quantityUnit(c.ValueQuantity), Specimen: spec, Method: method, Time: t})
			n++
		}
		if n == 0 {
			return errors.New("observation components carry no quantity")
		}
	default:
		return errors.New("observation has no value")
	}
	if !ev.Value.IsZero() {
		p.enc.Evidence = append(p.enc.Evidence, ev)
	}
	if warn != "" {
		p.fail(p.entry, r.ResourceType, r.ID, warn)
	}
	return nil
}

func quantityUnit(q *fhirQuantity) string {
	if q.Unit != "" {
		return q.Unit
	}
	return q.Code
}

func (p *fhirParser) medication(r *fhirResource) error {
	if r.Status == "not-done" || r.Status == "entered-in-error" {
		return fmt.Errorf("status %s (ignored)", r.Status)
	}
	name := r.MedicationConcept.name()
	if name == "" && r.MedicationRef != nil {
		name = r.MedicationRef.Display
	}
	if name == "" {
		return errors.New("medication has no name")
	}
	t, err := firstTime(r.EffectiveDateTime, periodStart(r.EffectivePeriod))
	if err != nil {
		return err
	}
	ev := claim.Evidence{Kind: claim.KindMed, Name: name, Time: t, Source: "MAR"}
	if d := r.Dosage; d != nil {
		ev.Route = d.Route.name()
		dose := quantityText(d.Dose)
		// A continuous infusion is given as a rate, and the rate is what the engine compares
		// (vasopressor mcg/kg/min): the rate is the dose, the amount goes to the context.
		switch rate := dosageRate(d.RateQuantity, d.RateRatio); {
		case rate != "":
			ev.Dose = rate
			if dose != "" {
				ev.Context = "dose " + dose
			}
		case dose != "":
			ev.Dose = dose
		default:
			ev.Dose = d.Text
		}
	}
	p.enc.Evidence = append(p.enc.Evidence, ev)
	return nil
}

// quantityText renders a quantity as "4 mg" ("" without a value).
func quantityText(q *fhirQuantity) string {
	if q == nil || q.Value == nil {
		return ""
	}
	return strings.TrimSpace(strconv.FormatFloat(*q.Value, 'f', -1, 64) + " " + quantityUnit(q))
}

// dosageRate renders a dosage rate: a rateQuantity as it is ("0.08 mcg/kg/min"), a rateRatio
// as numerator/denominator ("0.08 mcg/kg" per "1 min" as "0.08 mcg/kg/min", "100 mL" per
// "30 min" as "100 mL/30 min"); "" when there is no rate with a value.
func dosageRate(q *fhirQuantity, ratio *fhirRatio) string {
	if r := quantityText(q); r != "" {
		return r
	}
	if ratio == nil || ratio.Numerator == nil || ratio.Numerator.Value == nil || ratio.Denominator == nil {
		return ""
	}
	num, den := quantityText(ratio.Numerator), ratio.Denominator
	unit := quantityUnit(den)
	switch {
	case unit == "":
		return "" // not a rate: per nothing
	case den.Value == nil || *den.Value == 1:
		return num + "/" + unit
	}
	return num + "/" + quantityText(den)
}

// serviceRequest reads an order (dialysis, BiPAP, a consult) as order evidence.
func (p *fhirParser) serviceRequest(r *fhirResource) error {
	switch r.Status {
	case "revoked", "entered-in-error", "not-done":
		return fmt.Errorf("status %s (ignored)", r.Status)
	}
	if r.DoNotPerform {
		return errors.New("doNotPerform: an order not to do it (ignored)")
	}
	name := r.Code.name()
	if name == "" {
		return errors.New("service request has no code or text")
	}
	t, err := firstTime(r.OccurrenceDateTime, periodStart(r.OccurrencePeriod), r.AuthoredOn)
	if err != nil {
		return err
	}
	p.enc.Evidence = append(p.enc.Evidence, claim.Evidence{Kind: claim.KindOrder, Name: name, Time: t, Source: "EHR orders"})
	return nil
}

// document reads a DocumentReference as a note: the first text/plain attachment with inline
// base64 data. Attachments of any other content type (PDF, RTF, HTML, CDA…) or given by URL
// only are not read — nothing is guessed from them — and the entry is reported naming them.
func (p *fhirParser) document(r *fhirResource) error {
	if r.Status == "entered-in-error" {
		return errors.New("status entered-in-error (ignored)")
	}
	var text string
	var skipped []string
	for i, c := range r.Content {
		a := c.Attachment
		mt, params, err := mime.ParseMediaType(a.ContentType)
		switch {
		case a.ContentType == "":
			skipped = append(skipped, fmt.Sprintf("content[%d] has no contentType", i))
			continue
		case err != nil || mt != "text/plain":
			skipped = append(skipped, fmt.Sprintf("content[%d] is %s (only text/plain is read)", i, a.ContentType))
			continue
		case a.Data == "":
			skipped = append(skipped, fmt.Sprintf("content[%d] has no inline data (url only is not fetched)", i))
			continue
		case params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8") && !strings.EqualFold(params["charset"], "us-ascii"):
			skipped = append(skipped, fmt.Sprintf("content[%d] charset %s is not read (only UTF-8)", i, params["charset"]))
			continue
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(a.Data))
		if err != nil {
			return fmt.Errorf("content[%d].attachment.data is not base64: %w", i, err)
		}
		if !utf8.Valid(b) {
			return fmt.Errorf("content[%d].attachment.data is not UTF-8 text", i)
		}
		if strings.TrimSpace(string(b)) == "" {
			skipped = append(skipped, fmt.Sprintf("content[%d] is empty", i))
			continue
		}
		text = string(b)
		break
	}
	if text == "" {
		if len(skipped) == 0 {
			return errors.New("no content: a note needs a text/plain attachment with inline data (not loaded)")
		}
		return errors.New("note not loaded: " + strings.Join(skipped, "; "))
	}
	t, err := fhirTime(r.Date)
	if err != nil {
		return fmt.Errorf("date: %w", err)
	}
	ev := claim.Evidence{Kind: claim.KindNote, NoteType: r.Type.first().name(), Text: text, Time: t, Source: "DocumentReference/" + r.ID}
	if len(r.Author) > 0 {
		ev.Author, ev.AuthorRole = p.author(&r.Author[0])
	}
	p.enc.Evidence = append(p.enc.Evidence, ev)
	return nil
}

// composition reads a Composition as a note: each section's title on a line of its own
// ("TITLE:") followed by its narrative (XHTML read as text), sub-sections in order, so the
// note reader finds the sections as it does in a typed note.
func (p *fhirParser) composition(r *fhirResource) error {
	if r.Status == "entered-in-error" {
		return errors.New("status entered-in-error (ignored)")
	}
	var b strings.Builder
	var walk func(ss []fhirSection, path string) error
	walk = func(ss []fhirSection, path string) error {
		for i, s := range ss {
			title := strings.TrimSpace(s.Title)
			if title == "" {
				title = s.Code.name()
			}
			body := ""
			if s.Text != nil && strings.TrimSpace(s.Text.Div) != "" {
				t, err := xhtmlText(s.Text.Div)
				if err != nil {
					return fmt.Errorf("%s[%d].text.div: %w", path, i, err)
				}
				body = t
			}
			if title != "" && (body != "" || len(s.Section) > 0) {
				if b.Len() > 0 {
					b.WriteString("\n")
				}
				b.WriteString(strings.TrimSuffix(title, ":") + ":\n")
			}
			if body != "" {
				b.WriteString(body + "\n")
			}
			if err := walk(s.Section, fmt.Sprintf("%s[%d].section", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(r.Section, "section"); err != nil {
		return err
	}
	text := strings.TrimSpace(b.String())
	if text == "" {
		return errors.New("no section narrative: nothing to read (not loaded)")
	}
	t, err := fhirTime(r.Date)
	if err != nil {
		return fmt.Errorf("date: %w", err)
	}
	noteType := r.Type.first().name()
	if noteType == "" {
		noteType = r.Title
	}
	ev := claim.Evidence{Kind: claim.KindNote, NoteType: noteType, Text: text, Time: t, Source: "Composition/" + r.ID}
	if len(r.Author) > 0 {
		ev.Author, ev.AuthorRole = p.author(&r.Author[0])
	}
	p.enc.Evidence = append(p.enc.Evidence, ev)
	return nil
}

// xhtmlBlocks are the XHTML elements that end a line of text.
var xhtmlBlocks = map[string]bool{"p": true, "div": true, "br": true, "li": true, "tr": true, "table": true,
	"ul": true, "ol": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "pre": true, "blockquote": true, "dt": true, "dd": true}

// xhtmlText reads a FHIR narrative (an XHTML div) as plain text: tags are dropped, block
// elements end lines, table cells are separated by " | ", entities are decoded and runs of
// spaces collapse; the words are the narrative's words.
func xhtmlText(div string) (string, error) {
	d := xml.NewDecoder(strings.NewReader(div))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var lines []string
	var cur strings.Builder
	flush := func() {
		if l := strings.Join(strings.Fields(cur.String()), " "); l != "" {
			lines = append(lines, l)
		}
		cur.Reset()
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("not readable XHTML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch n := strings.ToLower(t.Name.Local); {
			case xhtmlBlocks[n]:
				flush()
			case n == "td" || n == "th":
				if strings.TrimSpace(cur.String()) != "" {
					cur.WriteString(" | ")
				}
			}
		case xml.EndElement:
			if xhtmlBlocks[strings.ToLower(t.Name.Local)] {
				flush()
			}
		case xml.CharData:
			cur.Write(t)
		}
	}
	flush()
	return strings.Join(lines, "\n"), nil
}
