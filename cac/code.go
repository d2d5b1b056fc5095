package cac

import (
	"sort"
	"strconv"
	"strings"

	"github.com/msdrg-cdi/drg/notes"
)

// Evidence is a span of a note that supports a suggestion or a finding left out.
type Evidence struct {
	Note      string `json:"note"`
	Start     int    `json:"start"`
	End       int    `json:"end"`
	Text      string `json:"text"`
	Section   string `json:"section,omitempty"`
	Assertion string `json:"assertion,omitempty"`
}

// Suggestion is a code the notes support.
type Suggestion struct {
	Code     string     `json:"code"`
	POA      string     `json:"poa,omitempty"`
	Title    string     `json:"title"`
	Evidence []Evidence `json:"evidence"`
	Why      string     `json:"why"`
}

// NotCoded is something the notes mention that is not coded, with the reason.
type NotCoded struct {
	Note   string `json:"note"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
	Text   string `json:"text"`
	Reason string `json:"reason"`
	// Code is the code the mention would have had, if any.
	Code string `json:"code,omitempty"`
}

// Reasons for NotCoded beyond the ConText assertions (negated, historical, family,
// hypothetical, uncertain, ruled_out).
const (
	ReasonIntegral    = "integral"     // a sign or symptom routinely part of a coded diagnosis
	ReasonNonProvider = "non_provider" // only in a nursing, dietitian or therapy note, or a report
	ReasonNotListed   = "not_a_diagnosis"
	ReasonSuperseded  = "superseded"  // replaced by a combination or more specific code
	ReasonUnspecified = "unspecified" // the vocabulary needs more detail to choose a code
)

// Result is what the notes of a stay support: the principal diagnosis, the secondary
// diagnoses in sequence, the procedures, and what was found and left out.
type Result struct {
	PDX        *Suggestion  `json:"pdx"`
	SDX        []Suggestion `json:"sdx"`
	Procedures []Suggestion `json:"procedures"`
	NotCoded   []NotCoded   `json:"not_coded"`
}

// noteView is a read note with what the engine knows of its author and type.
type noteView struct {
	doc      *notes.Document
	order    int  // chronological rank
	provider bool // a physician or advanced practice provider wrote it
	report   bool // a report (imaging, echo, pathology) or a non-provider note
	final    bool // a discharge summary
	// sameAsAdmission: the discharge diagnoses say "same" as the admitting diagnoses
	sameAsAdmission bool
	scopes          map[[3]int]*scope
}

// hit is one mention of a vocabulary item.
type hit struct {
	kind    byte // 'd' diagnosis, 'p' procedure, 'm' drug
	idx     int
	note    *noteView
	m       notes.Mention
	section string
	heading string
	class   string // final, assess, history, meds, other
	code    string
	refined bool
	refIdx  int // procedures: the refinement applied, -1 for none
}

func (h *hit) scope() *scope { return h.scopeOf(false) }

// sentence is the mention's whole sentence, both sides of a "versus" included.
func (h *hit) sentence() *scope { return h.scopeOf(true) }

func (h *hit) scopeOf(whole bool) *scope {
	v := h.note
	s := v.doc.Sentences[h.m.Sentence]
	toks := v.doc.Tokens[s.TokStart:s.TokEnd]
	// the side of a "versus" that holds the mention
	lo, hi := 0, len(toks)
	for i := h.m.TokStart - s.TokStart - 1; i >= 0 && !whole; i-- {
		if toks[i].Norm == "versus" || toks[i].Norm == "vs" {
			lo = i + 1
			break
		}
	}
	for i := h.m.TokEnd - s.TokStart; i < len(toks) && !whole; i++ {
		if toks[i].Norm == "versus" || toks[i].Norm == "vs" {
			hi = i
			break
		}
	}
	key := [3]int{h.m.Sentence, lo, hi}
	if sc := v.scopes[key]; sc != nil {
		return sc
	}
	sc := newScope(v.doc, h.m.Sentence, lo, toks[lo:hi])
	if v.scopes == nil {
		v.scopes = map[[3]int]*scope{}
	}
	v.scopes[key] = sc
	return sc
}

func (h *hit) evidence() Evidence {
	return Evidence{Note: h.note.doc.Note.ID, Start: h.m.Start, End: h.m.End, Text: h.m.Text, Section: h.section, Assertion: string(h.m.Assertion)}
}

func (h *hit) before(o *hit) bool {
	if h.note.order != o.note.order {
		return h.note.order < o.note.order
	}
	return h.m.Start < o.m.Start
}

var sectionClass = map[string]string{
	"discharge diagnoses": "final",
	"assessment and plan": "assess", "hospital course": "assess", "reason for admission": "assess", "chief complaint": "assess",
	"procedures": "assess", "": "assess", "other": "assess",
	"past medical history": "history", "past surgical history": "history", "history of present illness": "history", "social history": "history",
	"medications": "meds", "discharge medications": "meds",
	"ruled out": "assess", // its mentions are ruled out by the section's assertion
}

func classOf(section string) string {
	if c, ok := sectionClass[section]; ok {
		return c
	}
	return "other"
}

// Code reads the notes of one stay and returns the codes they support. Notes are taken in
// time order (notes without a time keep their order).
func (e *Engine) Code(ns []notes.Note) Result {
	views := e.read(ns)
	lastProv := -1
	for _, v := range views {
		if v.provider && !v.report {
			lastProv = max(lastProv, v.order)
		}
	}
	var hits []*hit
	for _, v := range views {
		var ms []notes.Mention
		for _, mt := range e.matchers {
			ms = append(ms, v.doc.Find(mt)...)
		}
		for _, m := range ms {
			sec := &v.doc.Sections[v.doc.Sentences[m.Sentence].Section]
			h := &hit{kind: m.Concept[0], note: v, m: m, section: sec.Name, heading: strings.Join(notes.Words(sec.Heading), " "), class: classOf(sec.Name)}
			if h.class == "final" && !v.final && v.order != lastProv {
				h.class = "assess" // an ED or H&P diagnosis list holds working diagnoses
			}
			if h.section == "reason for admission" && v.sameAsAdmission {
				h.class = "final" // "DISCHARGE DIAGNOSES: Same, plus postoperative ileus"
			}
			h.idx, _ = strconv.Atoi(m.Concept[1:]) // ids are written by NewEngine: a letter and an index
			hits = append(hits, h)
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].before(hits[j]) })
	c := &coding{e: e, views: views, hits: hits}
	c.run()
	return c.result()
}

func (e *Engine) read(ns []notes.Note) []*noteView {
	views := make([]*noteView, len(ns))
	idx := make([]int, len(ns))
	for i := range ns {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ta, tb := ns[idx[a]].Time, ns[idx[b]].Time
		if ta.IsZero() || tb.IsZero() {
			return false
		}
		return ta.Before(tb)
	})
	for rank, i := range idx {
		n := ns[i]
		role := strings.Join(notes.Words(n.AuthorRole), " ")
		typ := " " + strings.Join(notes.Words(n.Type), " ") + " "
		v := &noteView{doc: e.rd.Read(n), order: rank, provider: !e.nonProvider[role]}
		for _, t := range e.conv.ReportNoteTypes {
			if strings.Contains(typ, " "+strings.Join(notes.Words(t), " ")+" ") {
				v.report = true
			}
		}
		for _, t := range e.conv.FinalNoteTypes {
			if strings.Contains(typ, " "+strings.Join(notes.Words(t), " ")+" ") {
				v.final = true
			}
		}
		for si := range v.doc.Sentences {
			s := &v.doc.Sentences[si]
			if v.doc.SectionOf(s) == "discharge diagnoses" && s.TokEnd > s.TokStart && v.doc.Tokens[s.TokStart].Norm == "same" {
				v.sameAsAdmission = true
			}
		}
		views[i] = v
	}
	return views
}
