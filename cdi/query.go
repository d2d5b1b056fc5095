package cdi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// Query states. Draft → Sent → Answered → Closed; Sent → Escalated (no answer within the
// escalation policy) → Answered or Closed; Answered → Escalated (conflicting answer); a draft
// or an unanswered query may be Closed (discarded, withdrawn, superseded).
const (
	StateDraft     = "draft"
	StateSent      = "sent"
	StateAnswered  = "answered"
	StateEscalated = "escalated"
	StateClosed    = "closed"
)

// Query purposes. Yes/no queries are allowed only for confirm_documented, poa, cause_effect
// and conflict (Q6).
const (
	PurposeNewDiagnosis       = "new_diagnosis"
	PurposeSpecificity        = "specificity"
	PurposeClinicalValidation = "clinical_validation"
	PurposeConfirmDocumented  = "confirm_documented"
	PurposePOA                = "poa"
	PurposeCauseEffect        = "cause_effect"
	PurposeConflict           = "conflict"
)

// Query reasons (Q2).
const (
	QueryReasonConflicting            = "conflicting"
	QueryReasonIncomplete             = "incomplete"
	QueryReasonAmbiguous              = "ambiguous"
	QueryReasonIllegible              = "illegible"
	QueryReasonClinicallyInconsistent = "clinically_inconsistent"
	QueryReasonSpecificity            = "specificity"
	QueryReasonClinicalValidation     = "clinical_validation"
	QueryReasonPOA                    = "poa"
	QueryReasonCauseEffect            = "cause_effect"
)

// Option kinds.
const (
	OptionDiagnosis      = "diagnosis"       // names a diagnosis (with or without codes)
	OptionOther          = "other"           // other, free text
	OptionUndetermined   = "undetermined"    // clinically undetermined
	OptionNotSignificant = "not_significant" // not clinically significant
	OptionIntegral       = "integral"        // integral to another condition
	OptionYes            = "yes"
	OptionNo             = "no"
)

// Option actions: what choosing an option does to the working codes (ApplyAnswer).
const (
	ActionNone    = ""        // nothing
	ActionAdd     = "add"     // add Codes
	ActionReplace = "replace" // remove the query's Replaces, add Codes
	ActionRemove  = "remove"  // remove the query's Replaces
	ActionPOA     = "poa"     // set the POA of the query's Replaces to POA
)

// Answer outcomes, as classified by the specialist.
const (
	OutcomeAgree        = "agree"
	OutcomeDisagree     = "disagree"
	OutcomeOther        = "other"
	OutcomeUndetermined = "undetermined"
)

// Channels.
const (
	ChannelWritten = "written"
	ChannelVerbal  = "verbal"
)

// Option is one answer offered to the provider.
type Option struct {
	Text string `json:"text"`
	Kind string `json:"kind"`
	// Codes are the codes the option leads to (not shown to the provider).
	Codes []string `json:"codes,omitempty"`
	// Documented: the diagnosis is already in the record (no indicator reference needed, Q5).
	Documented bool `json:"documented,omitempty"`
	// Indicators are indexes into the query's Indicators supporting the option (Q5).
	Indicators []int  `json:"indicators,omitempty"`
	Action     string `json:"action,omitempty"`
	POA        string `json:"poa,omitempty"` // for ActionPOA
}

// QueryPlan is the query an opportunity leads to, decided at review time (the options whose
// conditions hold for this patient). Option indicator indexes point into the opportunity's
// Indicators.
type QueryPlan struct {
	Format     string   `json:"format"`
	Purpose    string   `json:"purpose"`
	Reason     string   `json:"reason"`
	ReasonText string   `json:"reason_text"`
	Question   string   `json:"question"`
	Options    []Option `json:"options,omitempty"`
}

// QueryContent is the provider-facing content of a query: what the specialist edits before
// sending, and what is frozen once sent (Q10).
type QueryContent struct {
	Format     string `json:"format"`
	Purpose    string `json:"purpose"`
	Reason     string `json:"reason"`
	ReasonText string `json:"reason_text"`
	Intro      string `json:"intro,omitempty"`
	// Indicators are the clinical indicators cited (Q1).
	Indicators []Cite    `json:"indicators"`
	Question   string    `json:"question"`
	Options    []Option  `json:"options,omitempty"`
	Channel    string    `json:"channel"`
	Provider   *Provider `json:"provider,omitempty"` // the provider queried
}

// Provider identifies a provider or a CDI specialist.
type Provider = claim.Provider

// Query is one version of a provider query with its lifecycle and audit trail. Versions of
// the same query share ID; a sent version is never modified (Edit makes the next version).
// The API stores every version.
type Query struct {
	ID         string `json:"id"`
	Version    int    `json:"version"`
	Supersedes string `json:"supersedes,omitempty"` // Key of the previous version
	// The encounter and the opportunity the query is about.
	EncounterID   string     `json:"encounter_id"`
	Account       string     `json:"account,omitempty"`
	AdmitDate     claim.Date `json:"admit_date,omitzero"`
	OpportunityID string     `json:"opportunity_id"`
	Condition     string     `json:"condition"`
	// Diagnoses are the names of the diagnoses in question (an open-ended question must not
	// use them, Q7); not shown to the provider.
	Diagnoses []string `json:"diagnoses,omitempty"`
	// Replaces are the working codes the query is about (replaced, removed, POA set).
	Replaces []string `json:"replaces,omitempty"`
	// POA is the present-on-admission value given to codes an answer adds; Principal makes
	// the first added code the principal diagnosis.
	POA       string    `json:"poa,omitempty"`
	Principal bool      `json:"principal,omitempty"`
	Author    *Provider `json:"author"` // the CDI specialist
	QueryContent
	State       string        `json:"state"`
	CreatedAt   time.Time     `json:"created_at"`
	SentAt      time.Time     `json:"sent_at,omitzero"`
	AnsweredAt  time.Time     `json:"answered_at,omitzero"`
	EscalatedAt time.Time     `json:"escalated_at,omitzero"`
	ClosedAt    time.Time     `json:"closed_at,omitzero"`
	CloseReason string        `json:"close_reason,omitempty"`
	ContentHash string        `json:"content_hash,omitempty"` // of QueryContent, set when sent
	Verbal      *VerbalRecord `json:"verbal,omitempty"`
	Answer      *Answer       `json:"answer,omitempty"`
	Escalation  *Escalation   `json:"escalation,omitempty"`
	Effect      *QueryEffect  `json:"effect,omitempty"`
	Audit       []AuditEvent  `json:"audit"`
}

// Key identifies one version: "ID@vN".
func (q *Query) Key() string { return fmt.Sprintf("%s@v%d", q.ID, q.Version) }

// VerbalRecord records a verbal query (Q9): who asked whom, when.
type VerbalRecord struct {
	ConductedBy   string    `json:"conducted_by"`
	ConductedWith string    `json:"conducted_with"`
	At            time.Time `json:"at"`
	Notes         string    `json:"notes,omitempty"`
}

// Answer is the provider's answer.
type Answer struct {
	Outcome string `json:"outcome"`
	// Option is the index of the option chosen, if any.
	Option *int   `json:"option,omitempty"`
	Text   string `json:"text,omitempty"`
	// Codes are codes the coder derived from a free-text answer (replace the option's).
	Codes           []string  `json:"codes,omitempty"`
	AuthenticatedBy string    `json:"authenticated_by"`
	At              time.Time `json:"at"`
}

// Escalation records who a query was escalated to and why (Q12).
type Escalation struct {
	To     string    `json:"to"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// QueryEffect is the effect of an answered query on the working codes and the DRG: the
// query's impact.
type QueryEffect struct {
	DRGBefore    int      `json:"drg_before,omitempty"`
	DRGAfter     int      `json:"drg_after,omitempty"`
	WeightBefore float64  `json:"weight_before,omitempty"`
	WeightAfter  float64  `json:"weight_after,omitempty"`
	WeightDelta  float64  `json:"weight_delta"`
	CodesAdded   []string `json:"codes_added,omitempty"`
	CodesRemoved []string `json:"codes_removed,omitempty"`
	POAChanged   []string `json:"poa_changed,omitempty"` // "L89153:Y"
	Note         string   `json:"note,omitempty"`
}

// AuditEvent is one entry of a query's audit trail (Q11).
type AuditEvent struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Version int       `json:"version"`
	Detail  string    `json:"detail,omitempty"`
}

// ErrTransition reports a lifecycle step not allowed from the query's state.
var ErrTransition = errors.New("query transition not allowed")

// ErrNoCompliantDraft is wrapped by the errors of GenerateQuery: no compliant query can be
// drafted from the opportunity (nothing in the record to cite, no option with indicators of
// its own, or a draft the linter refuses). It is a refusal to explain, not a failure.
var ErrNoCompliantDraft = errors.New("no compliant query can be drafted")

// LintError is returned by Send when the query breaks compliance rules.
type LintError struct{ Result LintResult }

// Error lists the broken rules with their messages.
func (e *LintError) Error() string {
	msgs := make([]string, len(e.Result.Violations))
	for i, v := range e.Result.Violations {
		msgs[i] = v.Rule + ": " + v.Message
	}
	return "query is not compliant: " + strings.Join(msgs, "; ")
}

// GenerateOptions are the facts a generated query needs besides the opportunity.
type GenerateOptions struct {
	ID          string // query id (assigned by the store)
	EncounterID string
	Account     string
	AdmitDate   claim.Date
	// PDXTitle introduces the query ("Admitted with …"); optional.
	PDXTitle string
	Author   *Provider // the specialist
	Provider *Provider // the provider to query
	Now      time.Time
	// Format overrides the plan's format: open_ended drops the options and asks without
	// naming a diagnosis.
	Format  string
	Channel string // written (default) or verbal
}

// GenerateQuery drafts the query of an opportunity from its plan: the cited indicators, the
// reason, the question and the options (with "other" and "clinically undetermined"). The
// draft passes Lint; an opportunity without a citable indicator (source and time) cannot be
// queried and returns an error wrapping ErrNoCompliantDraft that says why.
func GenerateQuery(opp *Opportunity, opt GenerateOptions) (Query, error) {
	q, err := generateQuery(opp, opt)
	if err != nil {
		return Query{}, fmt.Errorf("cdi: opportunity %s: %w: %w", opp.ID, ErrNoCompliantDraft, err)
	}
	return q, nil
}

func generateQuery(opp *Opportunity, opt GenerateOptions) (Query, error) {
	plan := opp.Query
	if plan.Format == "" {
		if opp.Validation == ValidationNoEvidence {
			return Query{}, errors.New("no evidence available: the record holds none of the clinical data the criteria of " +
				strings.ToLower(opp.Condition) + " need, so a clinical validation query has nothing to cite (Q1)")
		}
		return Query{}, errors.New("no query is planned: " + opp.Explain)
	}
	q := Query{ID: opt.ID, Version: 1, EncounterID: opt.EncounterID, Account: opt.Account, AdmitDate: opt.AdmitDate,
		OpportunityID: opp.ID, Condition: opp.Condition, Replaces: slices.Clone(opp.Replaces),
		POA: opp.POA, Principal: opp.Principal, Author: opt.Author, State: StateDraft, CreatedAt: opt.Now}
	q.Diagnoses = queryDiagnoses(opp)
	// Cite only what has a source and a time (Q1); keep option references aligned. The
	// documentation the query is about follows the clinical indicators, for context: no
	// option refers to it.
	remap := map[int]int{}
	for i, c := range opp.Indicators {
		if c.Source == "" || c.Time.IsZero() {
			continue
		}
		remap[i] = len(q.Indicators)
		q.Indicators = append(q.Indicators, c)
	}
	if !slices.ContainsFunc(q.Indicators, func(c Cite) bool { return c.Clinical() }) && plan.Purpose != PurposeConflict &&
		plan.Purpose != PurposePOA && plan.Purpose != PurposeConfirmDocumented && plan.Purpose != PurposeClinicalValidation {
		return Query{}, errors.New("no clinical indicator with a source and a time to cite (Q1)")
	}
	for _, c := range opp.Documentation {
		if c.Source == "" || c.Time.IsZero() || slices.ContainsFunc(q.Indicators, func(x Cite) bool { return sameFact(&x, &c) }) {
			continue
		}
		q.Indicators = append(q.Indicators, c)
	}
	if len(q.Indicators) == 0 {
		return Query{}, errors.New("no clinical indicator with a source and a time to cite (Q1)")
	}
	q.Format, q.Purpose, q.Reason, q.ReasonText, q.Question = plan.Format, plan.Purpose, plan.Reason, plan.ReasonText, plan.Question
	q.Channel = opt.Channel
	if q.Channel == "" {
		q.Channel = ChannelWritten
	}
	q.Provider = opt.Provider
	q.Intro = intro(opt)
	for _, o := range plan.Options {
		o.Codes = slices.Clone(o.Codes)
		var refs []int
		for _, r := range o.Indicators {
			if n, ok := remap[r]; ok {
				refs = append(refs, n)
			}
		}
		o.Indicators = refs
		if o.Kind == OptionDiagnosis && !o.Documented && !slices.ContainsFunc(refs, func(i int) bool { return q.Indicators[i].Clinical() }) {
			continue // its evidence cannot be cited (no source or time): not offered (Q5)
		}
		q.Options = append(q.Options, o)
	}
	if q.Format == FormatMultipleChoice && !slices.ContainsFunc(q.Options, func(o Option) bool { return o.Kind == OptionDiagnosis }) {
		return Query{}, errors.New("no option has citable clinical indicators (Q5)")
	}
	if opt.Format == FormatOpenEnded && q.Format != FormatOpenEnded {
		q.Format, q.Options = FormatOpenEnded, nil
		q.Question = "Based on your clinical judgment, what condition, if any, do these findings represent, and what is being evaluated or treated?"
	}
	if q.Format == FormatOpenEnded {
		q.Options = nil
	} else {
		q.Options = append(q.Options,
			Option{Text: "Other (please specify)", Kind: OptionOther},
			Option{Text: "Clinically undetermined", Kind: OptionUndetermined, POA: poaIf(q.Purpose == PurposePOA, "W"),
				Action: actionIf(q.Purpose == PurposePOA, ActionPOA)})
	}
	q.Audit = []AuditEvent{{At: opt.Now, Actor: actorOf(opt.Author), Action: "created", Version: 1,
		Detail: "generated from opportunity " + opp.ID}}
	if res := Lint(&q, LintOptions{}); !res.OK {
		return Query{}, fmt.Errorf("the generated draft: %w", &LintError{Result: res})
	}
	return q, nil
}

// queryDiagnoses names the diagnoses a query is about and must not presume: for a new
// diagnosis the rule's terms and the candidates; otherwise the candidates not documented yet
// (a specificity or validation question may name the documented diagnosis it is about).
func queryDiagnoses(opp *Opportunity) []string {
	var out []string
	if opp.Kind == KindNewDiagnosis {
		out = slices.Clone(opp.Terms)
	}
	for _, c := range opp.Candidates {
		if c.Title != "" && !slices.Contains(opp.Replaces, c.Code) && !documentedIn(opp, c.Code) {
			out = append(out, strings.ToLower(c.Title))
		}
	}
	return out
}

// documentedIn reports whether the opportunity's documentation holds code.
func documentedIn(opp *Opportunity, code string) bool {
	return slices.ContainsFunc(opp.Documentation, func(c Cite) bool { return c.Code == code })
}

func poaIf(ok bool, v string) string {
	if ok {
		return v
	}
	return ""
}

func actionIf(ok bool, a string) string {
	if ok {
		return a
	}
	return ActionNone
}

func intro(opt GenerateOptions) string {
	var b strings.Builder
	b.WriteString("Patient admitted")
	if !opt.AdmitDate.IsZero() {
		b.WriteString(" on " + opt.AdmitDate.String())
	}
	if opt.PDXTitle != "" {
		b.WriteString(" with " + strings.ToLower(opt.PDXTitle[:1]) + opt.PDXTitle[1:])
	}
	b.WriteString(". The record shows the clinical indicators listed below.")
	return b.String()
}

func actorOf(p *Provider) string {
	if p == nil {
		return ""
	}
	return p.ID
}

// Text renders the provider-facing query.
func (c *QueryContent) Text() string {
	var b strings.Builder
	if c.Intro != "" {
		b.WriteString(c.Intro + "\n")
	}
	b.WriteString(c.ReasonText + "\n")
	for _, ind := range c.Indicators {
		b.WriteString("- " + ind.Text() + "\n")
	}
	b.WriteString(c.Question + "\n")
	for _, o := range c.Options {
		b.WriteString("[ ] " + o.Text + "\n")
	}
	return b.String()
}

// Hash is the SHA-256 of the content's JSON, frozen when the query is sent (Q10).
func (c *QueryContent) Hash() string {
	b, _ := json.Marshal(c) // a struct of plain values cannot fail to marshal
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// clone returns a deep copy of q, so that lifecycle steps never alias the caller's value.
func (q Query) clone() Query {
	q.Diagnoses = slices.Clone(q.Diagnoses)
	q.Replaces = slices.Clone(q.Replaces)
	q.Indicators = slices.Clone(q.Indicators)
	q.Options = slices.Clone(q.Options)
	for i := range q.Options {
		q.Options[i].Codes = slices.Clone(q.Options[i].Codes)
		q.Options[i].Indicators = slices.Clone(q.Options[i].Indicators)
	}
	q.Audit = slices.Clone(q.Audit)
	if q.Answer != nil {
		a := *q.Answer
		a.Codes = slices.Clone(a.Codes)
		q.Answer = &a
	}
	if q.Verbal != nil {
		v := *q.Verbal
		q.Verbal = &v
	}
	if q.Escalation != nil {
		e := *q.Escalation
		q.Escalation = &e
	}
	if q.Effect != nil {
		e := *q.Effect
		q.Effect = &e
	}
	return q
}

func (q *Query) audit(at time.Time, actor, action, detail string) {
	q.Audit = append(q.Audit, AuditEvent{At: at, Actor: actor, Action: action, Version: q.Version, Detail: detail})
}

// Edit changes a query's content. A draft is edited in place (same version); a query that
// was sent is immutable, so editing it returns a new draft version (Version + 1, Supersedes
// = the previous version's Key) and leaves the sent version as it was. Close the superseded
// version when the new one is sent.
func Edit(q Query, content QueryContent, actor string, at time.Time) (Query, error) {
	if q.State == StateDraft {
		n := q.clone()
		n.QueryContent = content
		n.audit(at, actor, "edited", "")
		return n, nil
	}
	n := q.clone()
	n.Version = q.Version + 1
	n.Supersedes = q.Key()
	n.QueryContent = content
	n.State = StateDraft
	n.CreatedAt = at
	n.SentAt, n.AnsweredAt, n.EscalatedAt, n.ClosedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	n.CloseReason, n.ContentHash = "", ""
	n.Answer, n.Escalation, n.Effect, n.Verbal = nil, nil, nil, nil
	n.Audit = []AuditEvent{{At: at, Actor: actor, Action: "created", Version: n.Version,
		Detail: "new version superseding " + q.Key()}}
	return n, nil
}

// Send sends a draft: it must pass Lint (checked as sent); the content is then frozen by its
// hash. A verbal query carries its VerbalRecord.
func Send(q Query, actor string, at time.Time, verbal *VerbalRecord, opt LintOptions) (Query, error) {
	if q.State != StateDraft {
		return q, fmt.Errorf("send %s (state %s): %w", q.Key(), q.State, ErrTransition)
	}
	n := q.clone()
	n.State, n.SentAt, n.ContentHash = StateSent, at, n.QueryContent.Hash()
	if verbal != nil {
		v := *verbal
		n.Verbal = &v
	}
	n.audit(at, actor, "sent", "to "+actorOf(n.Provider))
	if opt.Now.IsZero() {
		opt.Now = at
	}
	if res := Lint(&n, opt); !res.OK {
		return q, &LintError{Result: res}
	}
	return n, nil
}

// AnswerQuery records the provider's answer to a sent (or escalated, unanswered) query.
func AnswerQuery(q Query, a Answer, actor string) (Query, error) {
	if q.State != StateSent && !(q.State == StateEscalated && q.Answer == nil) {
		return q, fmt.Errorf("answer %s (state %s): %w", q.Key(), q.State, ErrTransition)
	}
	switch a.Outcome {
	case OutcomeAgree, OutcomeDisagree, OutcomeOther, OutcomeUndetermined:
	default:
		return q, fmt.Errorf("answer %s: outcome %q must be agree, disagree, other or undetermined", q.Key(), a.Outcome)
	}
	if a.Option != nil && (*a.Option < 0 || *a.Option >= len(q.Options)) {
		return q, fmt.Errorf("answer %s: option %d out of range (%d options)", q.Key(), *a.Option, len(q.Options))
	}
	if a.AuthenticatedBy == "" {
		return q, fmt.Errorf("answer %s: the answer must be authenticated by the provider", q.Key())
	}
	if a.At.IsZero() {
		return q, fmt.Errorf("answer %s: the answer time is required", q.Key())
	}
	n := q.clone()
	a.Codes = slices.Clone(a.Codes)
	normCodes(a.Codes)
	n.Answer, n.AnsweredAt, n.State = &a, a.At, StateAnswered
	n.audit(a.At, actor, "answered", a.Outcome)
	return n, nil
}

// EscalationPolicy says after how many hours without an answer a sent query is escalated.
type EscalationPolicy struct {
	Hours float64 `json:"hours"`
	To    string  `json:"to"` // e.g. "physician advisor"
}

// DueForEscalation reports whether a sent query has waited longer than the policy allows.
func DueForEscalation(q *Query, now time.Time, p EscalationPolicy) bool {
	return q.State == StateSent && p.Hours > 0 && now.Sub(q.SentAt).Hours() >= p.Hours
}

// Escalate escalates a sent query without answer, or an answered one whose answer conflicts
// or does not match the organization's clinical definitions (Q12).
func Escalate(q Query, e Escalation, actor string) (Query, error) {
	if q.State != StateSent && q.State != StateAnswered {
		return q, fmt.Errorf("escalate %s (state %s): %w", q.Key(), q.State, ErrTransition)
	}
	if e.To == "" || e.Reason == "" || e.At.IsZero() {
		return q, fmt.Errorf("escalate %s: who it goes to, why and when are required", q.Key())
	}
	n := q.clone()
	n.Escalation, n.EscalatedAt, n.State = &e, e.At, StateEscalated
	n.audit(e.At, actor, "escalated", "to "+e.To+": "+e.Reason)
	return n, nil
}

// Close closes a query. An answered (or escalated and answered) query is closed with its
// effect on the codes (from Engine.ApplyAnswer; nil means no change); a draft or an
// unanswered query is closed with a reason (discarded, withdrawn, superseded).
func Close(q Query, effect *QueryEffect, reason, actor string, at time.Time) (Query, error) {
	if q.State == StateClosed {
		return q, fmt.Errorf("close %s: %w (already closed)", q.Key(), ErrTransition)
	}
	if q.Answer == nil && reason == "" {
		return q, fmt.Errorf("close %s: an unanswered query needs a reason", q.Key())
	}
	n := q.clone()
	if q.Answer != nil {
		e := QueryEffect{Note: "no change to the working codes"}
		if effect != nil {
			e = *effect
		}
		n.Effect = &e
	}
	n.State, n.ClosedAt, n.CloseReason = StateClosed, at, reason
	n.audit(at, actor, "closed", reason)
	return n, nil
}
