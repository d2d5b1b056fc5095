package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/msdrg-cdi/drg/claim"
)

// Status is where an encounter is in its life.
type Status string

// Encounter statuses.
const (
	StatusOpen       Status = "open"       // in house: no discharge date
	StatusDischarged Status = "discharged" // discharged, not yet finally coded
	StatusFinal      Status = "final"      // finalized by a coder: final codes and DRG stored
)

// Code sources: who put a code on the encounter.
const (
	SourceCoder  = "coder"  // an HIM coder
	SourceCDI    = "cdi"    // a CDI specialist
	SourceQuery  = "query"  // a physician's answer to a CDI query
	SourceImport = "import" // an interface or bulk load
	SourceCAC    = "cac"    // a computer-assisted coding suggestion a coder accepted
)

// Sources lists the code sources.
var Sources = []string{SourceCoder, SourceCDI, SourceQuery, SourceImport, SourceCAC}

// Code is a diagnosis or procedure code on an encounter with its present-on-admission
// indicator and its source.
type Code struct {
	Code   string      `json:"code" binding:"required,max=8,alphanum"`
	POA    string      `json:"poa,omitempty" binding:"omitempty,oneof=Y N U W 1"`
	Source string      `json:"source,omitempty" binding:"omitempty,oneof=coder cdi query import cac"`
	Date   *claim.Date `json:"date,omitempty"` // procedures
	// Support is the note span a code of source cac was accepted from (maintained by the
	// server: kept while the code stays in its place with source cac).
	Support *Span `json:"support,omitempty"`
}

// Span is a stretch of a note: the note's id on the encounter ("evidence[i]"), the SHA-256 of
// its text (its identity if the evidence is reordered) and UTF-8 byte offsets [start, end).
type Span struct {
	Note     string `json:"note"`
	NoteHash string `json:"note_sha256,omitempty"`
	Start    int    `json:"start"`
	End      int    `json:"end"`
}

// Codes is a code set: principal and admitting diagnoses, secondary diagnoses, procedures.
// An encounter keeps every code, in order, beyond what one claim carries (24 secondary
// diagnoses, 25 procedures: grouping uses the first ones and says which it left out); the
// bound of MaxCodes per list only guards against runaway input.
type Codes struct {
	PDX        *Code  `json:"pdx,omitempty"`
	AdmitDx    *Code  `json:"admit_dx,omitempty"`
	SDX        []Code `json:"sdx,omitempty" binding:"max=1000,dive"`        // MaxCodes
	Procedures []Code `json:"procedures,omitempty" binding:"max=1000,dive"` // MaxCodes
}

// MaxCodes bounds the secondary diagnoses and the procedures of an encounter (each list).
const MaxCodes = 1000

// Normalize writes codes without dots and in upper case, and POA in upper case.
func (cs *Codes) Normalize() {
	norm := func(c *Code) {
		c.Code = strings.ToUpper(claim.NormalizeCode(strings.TrimSpace(c.Code)))
		c.POA = strings.ToUpper(strings.TrimSpace(c.POA))
	}
	if cs.PDX != nil {
		norm(cs.PDX)
	}
	if cs.AdmitDx != nil {
		norm(cs.AdmitDx)
	}
	for i := range cs.SDX {
		norm(&cs.SDX[i])
	}
	for i := range cs.Procedures {
		norm(&cs.Procedures[i])
	}
}

// FillSources gives every code without a source the source it had in prev (the same code in
// the same place: a coder keeping a CDI-added diagnosis keeps its source), else def. A code
// of source cac keeps the support it had in prev; any other support given is dropped.
func (cs *Codes) FillSources(prev Codes, def string) {
	key := func(kind string, c *Code) string { return kind + ":" + c.Code }
	had := map[string]string{}
	support := map[string]*Span{}
	keep := func(kind string, c *Code) {
		had[key(kind, c)] = c.Source
		if c.Source == SourceCAC && c.Support != nil {
			support[key(kind, c)] = c.Support
		}
	}
	if prev.PDX != nil {
		keep(kindPDX, prev.PDX)
	}
	if prev.AdmitDx != nil {
		keep(kindAdmitDx, prev.AdmitDx)
	}
	for i := range prev.SDX {
		keep(kindSDX, &prev.SDX[i])
	}
	for i := range prev.Procedures {
		keep(kindProc, &prev.Procedures[i])
	}
	fill := func(kind string, c *Code) {
		defer func() {
			// The support is the server's: the span a suggestion was accepted from.
			c.Support = nil
			if c.Source == SourceCAC {
				c.Support = support[key(kind, c)]
			}
		}()
		if c.Source != "" {
			return
		}
		if s, ok := had[key(kind, c)]; ok && s != "" {
			c.Source = s
			return
		}
		c.Source = def
	}
	if cs.PDX != nil {
		fill(kindPDX, cs.PDX)
	}
	if cs.AdmitDx != nil {
		fill(kindAdmitDx, cs.AdmitDx)
	}
	for i := range cs.SDX {
		fill(kindSDX, &cs.SDX[i])
	}
	for i := range cs.Procedures {
		fill(kindProc, &cs.Procedures[i])
	}
}

// DRG is a grouping of an encounter as stored: baseline (first grouping), working (latest)
// or final (coder finalization).
type DRG struct {
	DRG       int       `json:"drg"`
	MDC       int       `json:"mdc"`
	Type      string    `json:"type"`     // SURGICAL, MEDICAL, …
	Severity  string    `json:"severity"` // MCC, CC, …
	GRC       string    `json:"grc"`      // grouper return code
	Title     string    `json:"title,omitempty"`
	Weight    float64   `json:"weight,omitempty"`
	GMLOS     float64   `json:"gmlos,omitempty"`
	AMLOS     float64   `json:"amlos,omitempty"`
	Version   int       `json:"version"` // grouper version (431 = 43.1)
	GroupedAt time.Time `json:"grouped_at"`
	GroupedBy string    `json:"grouped_by"` // user name
	// NotGrouped lists the codes beyond what the claim carries (after the 24th secondary
	// diagnosis, the 25th procedure) that this grouping left out, as "sdx[24]:J9601".
	NotGrouped []string `json:"not_grouped,omitempty"`
}

// Encounter is a hospital stay as coders and CDI specialists work on it: the claim's fields,
// the encounter fields of the wire conventions, the working codes with their sources, the
// clinical evidence, and the baseline, working and final DRGs.
type Encounter struct {
	ID     string `json:"id"`
	Status Status `json:"status"`

	Version         int        `json:"version,omitempty"`
	DischargeDate   claim.Date `json:"discharge_date,omitzero"`
	LengthOfStay    *int       `json:"length_of_stay,omitempty"`
	Age             *int       `json:"age,omitempty"`
	Sex             string     `json:"sex,omitempty"`
	DischargeStatus *int       `json:"discharge_status,omitempty"`
	HospitalStatus  string     `json:"hospital_status,omitempty"`
	Codes

	Account           string           `json:"account"`
	Facility          string           `json:"facility,omitempty"`
	AdmitDate         claim.Date       `json:"admit_date,omitzero"`
	Payer             string           `json:"payer,omitempty"`
	ServiceLine       string           `json:"service_line,omitempty"`
	Unit              string           `json:"unit,omitempty"`
	AttendingProvider *claim.Provider  `json:"attending_provider,omitempty"`
	Evidence          []claim.Evidence `json:"evidence,omitempty"`

	BaselineDRG *DRG   `json:"baseline_drg,omitempty"`
	WorkingDRG  *DRG   `json:"working_drg,omitempty"`
	FinalDRG    *DRG   `json:"final_drg,omitempty"`
	FinalCodes  *Codes `json:"final_codes,omitempty"`

	RowVersion int       `json:"row_version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Claim returns the claim to group or edit for a code set of the encounter (its working
// codes when cs is nil). The length of stay is computed from the admission and discharge
// dates when not given.
func (e *Encounter) Claim(cs *Codes) *claim.Claim {
	if cs == nil {
		cs = &e.Codes
	}
	c := &claim.Claim{
		ID: e.ID, Version: e.Version, DischargeDate: e.DischargeDate, LengthOfStay: e.LengthOfStay,
		Age: e.Age, Sex: e.Sex, DischargeStatus: e.DischargeStatus, HospitalStatus: e.HospitalStatus,
	}
	if c.LengthOfStay == nil && !e.AdmitDate.IsZero() && !e.DischargeDate.IsZero() {
		days := int(e.DischargeDate.Time().Sub(e.AdmitDate.Time()).Hours() / 24)
		if days >= 0 {
			c.LengthOfStay = &days
		}
	}
	if cs.PDX != nil {
		c.PDX = &claim.Dx{Code: cs.PDX.Code, POA: cs.PDX.POA}
	}
	if cs.AdmitDx != nil {
		c.AdmitDx = &claim.Dx{Code: cs.AdmitDx.Code, POA: cs.AdmitDx.POA}
	}
	for _, d := range cs.SDX {
		c.SDX = append(c.SDX, claim.Dx{Code: d.Code, POA: d.POA})
	}
	for _, p := range cs.Procedures {
		c.Procedures = append(c.Procedures, claim.Proc{Code: p.Code, Date: p.Date})
	}
	return c
}

// ClaimEncounter returns the encounter as the wire type of the claim package (working codes),
// for the engines that read evidence.
func (e *Encounter) ClaimEncounter() claim.Encounter {
	return claim.Encounter{
		Claim: *e.Claim(nil), Account: e.Account, Facility: e.Facility, AdmitDate: e.AdmitDate,
		Payer: e.Payer, ServiceLine: e.ServiceLine, Unit: e.Unit, AttendingProvider: e.AttendingProvider,
		Evidence: e.Evidence,
	}
}

// derivedStatus is the status an encounter that is not final has.
func (e *Encounter) derivedStatus() Status {
	if e.Status == StatusFinal {
		return StatusFinal
	}
	if e.DischargeDate.IsZero() {
		return StatusOpen
	}
	return StatusDischarged
}

// NewID returns a new encounter id: 26 characters of Crockford base32, the first ten from the
// creation time in milliseconds, the rest random; ids made by one process increase strictly
// (within a millisecond the random part is incremented), so they sort by creation.
func NewID() string {
	idMu.Lock()
	ms := uint64(time.Now().UnixMilli())
	if ms <= idLastMs {
		ms = idLastMs
		for i := len(idLastRand) - 1; i >= 0; i-- { // increment the 80-bit random part
			idLastRand[i]++
			if idLastRand[i] != 0 {
				break
			}
		}
	} else if _, err := rand.Read(idLastRand[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // never happens on supported platforms
	}
	idLastMs = ms
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	copy(b[6:], idLastRand[:])
	idMu.Unlock()
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	// 128 bits → 26 base32 digits (130 bits, the top two are zero).
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

var (
	idMu       sync.Mutex
	idLastMs   uint64
	idLastRand [10]byte
)

// CreateEncounter stores a new encounter with a new id (ignoring e.ID, e.Status, the DRGs and
// the row version) and audits it. A facility and account already used is ErrConflict.
func (s *Store) CreateEncounter(ctx context.Context, actor Actor, e *Encounter) (*Encounter, error) {
	var out *Encounter
	err := s.Tx(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.CreateEncounter(actor, e)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CreateEncounter is Store.CreateEncounter inside a transaction the caller holds.
func (tx *Tx) CreateEncounter(actor Actor, e *Encounter) (*Encounter, error) {
	n := *e
	n.ID = NewID()
	n.Status = ""
	n.Status = n.derivedStatus()
	n.BaselineDRG, n.WorkingDRG, n.FinalDRG, n.FinalCodes = nil, nil, nil, nil
	n.RowVersion = 1
	now := now()
	n.CreatedAt, n.UpdatedAt = now, now
	row, codes, err := toRows(&n)
	if err != nil {
		return nil, err
	}
	if err := tx.createEncounter(actor, &n, row, codes); err != nil {
		return nil, err
	}
	return &n, nil
}

func (tx *Tx) createEncounter(actor Actor, n *Encounter, row *encounterRow, codes []codeRow) error {
	if err := tx.db.Create(row).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return fmt.Errorf("%w: facility %q already has this account number", ErrConflict, n.Facility)
		}
		return fmt.Errorf("create encounter: %w", err)
	}
	if len(codes) > 0 {
		if err := tx.db.Create(&codes).Error; err != nil {
			return fmt.Errorf("create encounter codes: %w", err)
		}
	}
	return tx.Audit(actor, "encounter", n.ID, "create", nil, auditView(n))
}

// GetEncounter returns one encounter with its codes.
func (s *Store) GetEncounter(ctx context.Context, id string) (*Encounter, error) {
	return getEncounter(s.r.WithContext(ctx), id)
}

func getEncounter(db *gorm.DB, id string) (*Encounter, error) {
	var row encounterRow
	if err := db.Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err, "encounter")
	}
	var codes []codeRow
	if err := db.Where("encounter_id = ?", id).Order("code_set, kind, seq").Find(&codes).Error; err != nil {
		return nil, fmt.Errorf("read encounter codes: %w", err)
	}
	return fromRows(&row, codes)
}

// UpdateEncounter changes an encounter in one transaction: it reads the current record (locked
// against concurrent changes), calls change to modify it, stores the result with its codes and
// appends an audit row with the changed fields before and after, under action. When
// ifRowVersion is not 0 and differs from the stored row version, nothing is changed and the
// error is ErrVersionMismatch. change may return an error to abort. The id, creation time
// and row version cannot be changed; the status follows the discharge date unless final.
func (s *Store) UpdateEncounter(ctx context.Context, actor Actor, id string, ifRowVersion int, action string,
	change func(e *Encounter) error) (*Encounter, error) {
	var out *Encounter
	err := s.Tx(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.UpdateEncounter(actor, id, ifRowVersion, action, change)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateEncounter is Store.UpdateEncounter inside a transaction the caller holds, so that the
// encounter changes together with the caller's own rows (a query answer and its effect).
func (tx *Tx) UpdateEncounter(actor Actor, id string, ifRowVersion int, action string,
	change func(e *Encounter) error) (*Encounter, error) {
	var out *Encounter
	err := func() error {
		var row encounterRow
		if err := tx.forUpdate().Where("id = ?", id).Take(&row).Error; err != nil {
			return notFound(err, "encounter")
		}
		if ifRowVersion != 0 && row.RowVersion != ifRowVersion {
			return fmt.Errorf("%w: encounter is at row version %d, not %d", ErrVersionMismatch, row.RowVersion, ifRowVersion)
		}
		before, err := getEncounter(tx.db, id)
		if err != nil {
			return err
		}
		e, _ := getEncounter(tx.db, id) // a separate copy to modify
		if err := change(e); err != nil {
			return err
		}
		e.ID, e.CreatedAt = before.ID, before.CreatedAt
		e.Status = e.derivedStatus()
		e.RowVersion = before.RowVersion + 1
		e.UpdatedAt = now()
		nrow, codes, err := toRows(e)
		if err != nil {
			return err
		}
		res := tx.db.Model(&encounterRow{}).Where("id = ? AND row_version = ?", id, before.RowVersion).
			Select("*").Omit("id", "created_at").Updates(nrow)
		if res.Error != nil {
			if errors.Is(res.Error, gorm.ErrDuplicatedKey) {
				return fmt.Errorf("%w: facility %q already has this account number", ErrConflict, e.Facility)
			}
			return fmt.Errorf("update encounter: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("%w: encounter changed concurrently", ErrVersionMismatch)
		}
		if err := tx.db.Where("encounter_id = ?", id).Delete(&codeRow{}).Error; err != nil {
			return fmt.Errorf("update encounter codes: %w", err)
		}
		if len(codes) > 0 {
			if err := tx.db.Create(&codes).Error; err != nil {
				return fmt.Errorf("update encounter codes: %w", err)
			}
		}
		if out, err = getEncounter(tx.db, id); err != nil {
			return err
		}
		b, a, err := AuditDiff(auditView(before), auditView(out), "row_version", "updated_at")
		if err != nil {
			return err
		}
		return tx.Audit(actor, "encounter", id, action, b, a)
	}()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// auditView is the encounter as the audit log records it: a note's text is stored once, in
// the encounter, and the audit row carries in its place its length and SHA-256 (a changed
// note still shows as changed).
func auditView(e *Encounter) *Encounter {
	v := *e
	v.Evidence = slices.Clone(e.Evidence)
	for i := range v.Evidence {
		if v.Evidence[i].Text != "" {
			v.Evidence[i].Text = NoteTextRef(v.Evidence[i].Text)
		}
	}
	return &v
}

// NoteTextRef stands for a note's text where the text itself must not be repeated (audit
// rows, logs): "[note text: N bytes, sha256 <hex>]".
func NoteTextRef(text string) string {
	return fmt.Sprintf("[note text: %d bytes, sha256 %s]", len(text), NoteHash(text))
}

// NoteHash is the hex SHA-256 of a note's text: the note's identity where its text must not
// be kept (CAC decisions, audit rows).
func NoteHash(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:])
}

// EncounterFilter selects encounters; zero fields match everything.
type EncounterFilter struct {
	Status         Status
	Facility       string
	Unit           string
	Payer          string
	ServiceLine    string
	Attending      string     // attending provider id
	DRG            int        // working DRG
	FinalDRG       int        // final DRG
	DischargedFrom claim.Date // inclusive
	DischargedTo   claim.Date // inclusive
}

// ListEncounters returns the encounters matching f in creation order, at most limit (1–1000,
// default 50), after the cursor of a previous page; next is "" on the last page.
func (s *Store) ListEncounters(ctx context.Context, f EncounterFilter, limit int, cursor string) ([]*Encounter, string, error) {
	limit = clampLimit(limit)
	db := s.r.WithContext(ctx)
	q := db.Model(&encounterRow{})
	if cursor != "" {
		var after string
		if err := decodeCursor(cursor, &after); err != nil {
			return nil, "", err
		}
		q = q.Where("id > ?", after)
	}
	q = f.filtered(q)
	var rows []encounterRow
	if err := q.Order("id").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list encounters: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeCursor(rows[len(rows)-1].ID)
	}
	if len(rows) == 0 {
		return []*Encounter{}, "", nil
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	var codes []codeRow
	if err := db.Where("encounter_id IN ?", ids).Order("encounter_id, code_set, kind, seq").Find(&codes).Error; err != nil {
		return nil, "", fmt.Errorf("list encounter codes: %w", err)
	}
	byEnc := map[string][]codeRow{}
	for _, c := range codes {
		byEnc[c.EncounterID] = append(byEnc[c.EncounterID], c)
	}
	out := make([]*Encounter, len(rows))
	for i := range rows {
		e, err := fromRows(&rows[i], byEnc[rows[i].ID])
		if err != nil {
			return nil, "", err
		}
		out[i] = e
	}
	return out, next, nil
}

// clampLimit bounds a page size to 1–1000, 50 by default.
func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 1000:
		return 1000
	}
	return n
}

// ErrBadCursor reports a list cursor that this server did not issue.
var ErrBadCursor = fmt.Errorf("%w: malformed cursor", ErrInvalid)

func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || json.Unmarshal(b, v) != nil {
		return ErrBadCursor
	}
	return nil
}

// toRows splits an encounter into its table rows.
func toRows(e *Encounter) (*encounterRow, []codeRow, error) {
	ev := ""
	if len(e.Evidence) > 0 {
		b, err := json.Marshal(e.Evidence)
		if err != nil {
			return nil, nil, fmt.Errorf("encode evidence: %w", err)
		}
		ev = string(b)
	}
	r := &encounterRow{
		ID: e.ID, Facility: e.Facility, Account: e.Account, Status: string(e.Status), Version: e.Version,
		AdmitDate: dateCol(e.AdmitDate), DischargeDate: dateCol(e.DischargeDate), LengthOfStay: e.LengthOfStay,
		Age: e.Age, Sex: e.Sex, DischargeStatus: e.DischargeStatus, HospitalStatus: e.HospitalStatus,
		Payer: e.Payer, ServiceLine: e.ServiceLine, Unit: e.Unit, Evidence: ev,
		RowVersion: e.RowVersion, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
	if e.AttendingProvider != nil {
		r.AttendingID, r.AttendingName = e.AttendingProvider.ID, e.AttendingProvider.Name
	}
	var err error
	if r.BaselineDRG, r.Baseline, err = drgCols(e.BaselineDRG); err != nil {
		return nil, nil, err
	}
	if r.WorkingDRG, r.Working, err = drgCols(e.WorkingDRG); err != nil {
		return nil, nil, err
	}
	if r.FinalDRG, r.Final, err = drgCols(e.FinalDRG); err != nil {
		return nil, nil, err
	}
	var codes []codeRow
	add := func(set string, cs *Codes) {
		one := func(kind string, seq int, c *Code) {
			row := codeRow{EncounterID: e.ID, Set: set, Kind: kind, Seq: seq, Code: c.Code,
				POA: c.POA, Source: c.Source, Date: datePtrCol(c.Date)}
			if c.Support != nil {
				b, _ := json.Marshal(c.Support) // a struct of strings and ints
				row.Support = string(b)
			}
			codes = append(codes, row)
		}
		if cs.PDX != nil {
			one(kindPDX, 0, cs.PDX)
		}
		if cs.AdmitDx != nil {
			one(kindAdmitDx, 0, cs.AdmitDx)
		}
		for i := range cs.SDX {
			one(kindSDX, i, &cs.SDX[i])
		}
		for i := range cs.Procedures {
			one(kindProc, i, &cs.Procedures[i])
		}
	}
	add(setWorking, &e.Codes)
	if e.FinalCodes != nil {
		add(setFinal, e.FinalCodes)
	}
	return r, codes, nil
}

// fromRows assembles an encounter from its rows (codes ordered by set, kind and sequence).
func fromRows(r *encounterRow, codes []codeRow) (*Encounter, error) {
	e := &Encounter{
		ID: r.ID, Status: Status(r.Status), Version: r.Version, LengthOfStay: r.LengthOfStay, Age: r.Age,
		Sex: r.Sex, DischargeStatus: r.DischargeStatus, HospitalStatus: r.HospitalStatus, Account: r.Account,
		Facility: r.Facility, Payer: r.Payer, ServiceLine: r.ServiceLine, Unit: r.Unit,
		RowVersion: r.RowVersion, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	var err error
	if e.AdmitDate, err = parseDateCol(r.AdmitDate); err != nil {
		return nil, err
	}
	if e.DischargeDate, err = parseDateCol(r.DischargeDate); err != nil {
		return nil, err
	}
	if r.AttendingID != "" || r.AttendingName != "" {
		e.AttendingProvider = &claim.Provider{ID: r.AttendingID, Name: r.AttendingName}
	}
	if r.Evidence != "" {
		if err := json.Unmarshal([]byte(r.Evidence), &e.Evidence); err != nil {
			return nil, fmt.Errorf("decode evidence of encounter %s: %w", r.ID, err)
		}
	}
	for _, p := range []struct {
		col string
		dst **DRG
	}{{r.Baseline, &e.BaselineDRG}, {r.Working, &e.WorkingDRG}, {r.Final, &e.FinalDRG}} {
		if p.col == "" {
			continue
		}
		var d DRG
		if err := json.Unmarshal([]byte(p.col), &d); err != nil {
			return nil, fmt.Errorf("decode DRG of encounter %s: %w", r.ID, err)
		}
		*p.dst = &d
	}
	for _, c := range codes {
		cs := &e.Codes
		if c.Set == setFinal {
			if e.FinalCodes == nil {
				e.FinalCodes = &Codes{}
			}
			cs = e.FinalCodes
		}
		code := Code{Code: c.Code, POA: c.POA, Source: c.Source}
		if c.Support != "" {
			code.Support = &Span{}
			if err := json.Unmarshal([]byte(c.Support), code.Support); err != nil {
				return nil, fmt.Errorf("decode code support of encounter %s: %w", r.ID, err)
			}
		}
		if c.Date != nil {
			d, err := claim.ParseDate(*c.Date)
			if err != nil {
				return nil, fmt.Errorf("decode procedure date of encounter %s: %w", r.ID, err)
			}
			code.Date = &d
		}
		switch c.Kind {
		case kindPDX:
			cs.PDX = &code
		case kindAdmitDx:
			cs.AdmitDx = &code
		case kindSDX:
			cs.SDX = append(cs.SDX, code)
		case kindProc:
			cs.Procedures = append(cs.Procedures, code)
		}
	}
	return e, nil
}

func dateCol(d claim.Date) *string {
	if d.IsZero() {
		return nil
	}
	s := d.String()
	return &s
}

func datePtrCol(d *claim.Date) *string {
	if d == nil {
		return nil
	}
	return dateCol(*d)
}

func parseDateCol(s *string) (claim.Date, error) {
	if s == nil || *s == "" {
		return claim.Date{}, nil
	}
	return claim.ParseDate(*s)
}

func drgCols(d *DRG) (*int, string, error) {
	if d == nil {
		return nil, "", nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, "", fmt.Errorf("encode DRG: %w", err)
	}
	n := d.DRG
	return &n, string(b), nil
}
