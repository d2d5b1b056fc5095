package cac

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed rules/*.json
var ruleFiles embed.FS

// Rules are the coder's vocabulary and conventions (format: RULES.md).
type Rules struct {
	Concepts    []Concept
	Procedures  []ProcedureRule
	Conventions Conventions
	Medications Medications
	// Files names the file of each concept and procedure id, for error messages.
	Files map[string]string
}

// Concept is a diagnosis concept of the vocabulary.
type Concept struct {
	ID       string   `json:"id"`
	Terms    []string `json:"terms"`
	Code     string   `json:"code"`
	Refine   []Refine `json:"refine"`
	Class    string   `json:"class"` // condition, symptom, finding, status
	Chronic  bool     `json:"chronic"`
	Meds     []string `json:"meds"`
	Integral []string `json:"integral"`
	History  string   `json:"history"`
}

// Refine is a more specific code chosen by the words around a mention.
type Refine struct {
	If       [][]string `json:"if"`
	Not      []string   `json:"not"`
	Code     string     `json:"code"`
	MinHours float64    `json:"min_hours"`
	MaxHours float64    `json:"max_hours"`
}

// ProcedureRule is an ICD-10-PCS procedure of the vocabulary.
type ProcedureRule struct {
	ID     string   `json:"id"`
	Terms  []string `json:"terms"`
	Code   string   `json:"code"`
	Refine []Refine `json:"refine"`
	Why    string   `json:"why"`
}

// Conventions are the coding conventions applied to established codes.
type Conventions struct {
	Combine []struct {
		ID     string      `json:"id"`
		IfAll  []string    `json:"if_all"`
		IfAny  []string    `json:"if_any"`
		IfNone []string    `json:"if_none"`
		Remove []string    `json:"remove"`
		Add    []AddedCode `json:"add"`
		First  []string    `json:"first"`
		Why    string      `json:"why"`
	} `json:"combine"`
	StatusDroppedByProcedure []struct {
		Status     string   `json:"status"`
		Procedures []string `json:"procedures"`
		Why        string   `json:"why"`
	} `json:"status_dropped_by_procedure"`
	ProcedureDroppedByProcedure []struct {
		Drop    string   `json:"drop"`
		WhenAny []string `json:"when_any"`
		Why     string   `json:"why"`
	} `json:"procedure_dropped_by_procedure"`
	VentilationEvents struct {
		Start    []string `json:"start"`
		End      []string `json:"end"`
		Keywords []string `json:"keywords"`
	} `json:"ventilation_events"`
	POANotCues []string `json:"poa_not_cues"`
	// ResolvedCues beside "history of" make a chronic condition (a cancer) history, not current.
	ResolvedCues []string `json:"resolved_cues"`
	// HistoryWhenResolved are code prefixes besides malignancies that the resolved cues of
	// their sentence make history (chronic hepatitis C cured).
	HistoryWhenResolved []string `json:"history_when_resolved"`
	// ActiveCancerCues keep a malignancy written with "history of" current.
	ActiveCancerCues []string `json:"active_cancer_cues"`
	// CodeFirst: a principal diagnosis matching Code gives way to a coded etiology in First
	// (the Tabular's "code first" notes).
	CodeFirst []struct {
		Code  string   `json:"code"`
		First []string `json:"first"`
		Why   string   `json:"why"`
	} `json:"code_first"`
	// ExplainedByCues link a symptom to the condition that explains it in one sentence
	// ("chest pain, most likely due to GERD"): the symptom is not coded beside it.
	ExplainedByCues []string `json:"explained_by_cues"`
	// Pregnancy gives the chapter 15 companion codes of other conditions on an obstetric stay.
	Pregnancy struct {
		Companions []struct {
			Prefixes   []string `json:"prefixes"`
			Antepartum string   `json:"antepartum"`
			Childbirth string   `json:"childbirth"`
			Replace    bool     `json:"replace"`
			Unless     []string `json:"unless"`
		} `json:"companions"`
		PregnantWords []string `json:"pregnant_words"`
	} `json:"pregnancy"`
	// PrincipalFirst are encounter codes that are principal whenever coded.
	PrincipalFirst struct {
		Codes []string `json:"codes"`
		Why   string   `json:"why"`
	} `json:"principal_first"`
	// ContrastCues mark a symptom followed by comparative diagnoses or without a cause found.
	ContrastCues      []string `json:"contrast_cues"`
	PrincipalHeadings []string `json:"principal_headings"`
	SecondaryHeadings []string `json:"secondary_headings"`
	NonProviderRoles  []string `json:"non_provider_roles"`
	ReportNoteTypes   []string `json:"report_note_types"`
	FinalNoteTypes    []string `json:"provider_note_types_final"`
}

// AddedCode is a code a convention adds, placed before the first code matching Before.
type AddedCode struct {
	Code   string `json:"code"`
	Before string `json:"before"`
}

// Medications map drugs to long-term-use Z79 codes.
type Medications struct {
	LongTerm []struct {
		Code    string   `json:"code"`
		Title   string   `json:"title"`
		Drugs   []string `json:"drugs"`
		NotWith []string `json:"not_with"`
		// Sections restricts the medication lists that count (default: home and discharge).
		Sections []string `json:"sections"`
	} `json:"long_term"`
	MedSections   []string `json:"med_sections"`
	ChronicCues   []string `json:"chronic_cues"`
	TemporaryCues []string `json:"temporary_cues"`
}

// DefaultRules reads the embedded rule files: every diagnoses*.json, procedures.json,
// conventions.json and medications.json.
func DefaultRules() (Rules, error) { return LoadRules(ruleFiles, "rules") }

// LoadRules reads the rule files of a directory of fsys.
func LoadRules(fsys fs.FS, dir string) (Rules, error) {
	r := Rules{Files: map[string]string{}}
	names, err := fs.Glob(fsys, path.Join(dir, "diagnoses*.json"))
	if err != nil {
		return r, err
	}
	sort.Strings(names)
	for _, n := range names {
		var f struct {
			Concepts []Concept `json:"concepts"`
		}
		if err := readJSON(fsys, n, &f); err != nil {
			return r, err
		}
		seen := map[string]bool{}
		for _, c := range f.Concepts {
			if seen[c.ID] {
				return r, fmt.Errorf("cac rules %s: concept %q twice", n, c.ID)
			}
			seen[c.ID] = true
			if _, ok := r.Files[c.ID]; !ok {
				r.Files[c.ID] = n // the first file of an id names it in messages
			}
			r.Concepts = append(r.Concepts, c)
		}
	}
	var pr struct {
		Procedures []ProcedureRule `json:"procedures"`
	}
	if err := readJSON(fsys, path.Join(dir, "procedures.json"), &pr); err != nil {
		return r, err
	}
	for _, p := range pr.Procedures {
		if prev, dup := r.Files["pr:"+p.ID]; dup {
			return r, fmt.Errorf("cac rules procedures.json: procedure %q already in %s", p.ID, prev)
		}
		r.Files["pr:"+p.ID] = "procedures.json"
	}
	r.Procedures = pr.Procedures
	if err := readJSON(fsys, path.Join(dir, "conventions.json"), &r.Conventions); err != nil {
		return r, err
	}
	if err := readJSON(fsys, path.Join(dir, "medications.json"), &r.Medications); err != nil {
		return r, err
	}
	r.normalizeCodes()
	return r, nil
}

// normalizeCodes writes every code and code prefix of the conventions and medications
// without dots, once, so that coding compares them as they are.
func (r *Rules) normalizeCodes() {
	all := func(cs []string) {
		for i := range cs {
			cs[i] = normCode(cs[i])
		}
	}
	cv := &r.Conventions
	for i := range cv.Combine {
		cb := &cv.Combine[i]
		all(cb.IfAll)
		all(cb.IfAny)
		all(cb.IfNone)
		all(cb.Remove)
		all(cb.First)
		for k := range cb.Add {
			cb.Add[k].Code, cb.Add[k].Before = normCode(cb.Add[k].Code), normCode(cb.Add[k].Before)
		}
	}
	for i := range cv.StatusDroppedByProcedure {
		cv.StatusDroppedByProcedure[i].Status = normCode(cv.StatusDroppedByProcedure[i].Status)
		all(cv.StatusDroppedByProcedure[i].Procedures)
	}
	for i := range cv.ProcedureDroppedByProcedure {
		cv.ProcedureDroppedByProcedure[i].Drop = normCode(cv.ProcedureDroppedByProcedure[i].Drop)
		all(cv.ProcedureDroppedByProcedure[i].WhenAny)
	}
	for i := range cv.CodeFirst {
		cv.CodeFirst[i].Code = normCode(cv.CodeFirst[i].Code)
		all(cv.CodeFirst[i].First)
	}
	all(cv.PrincipalFirst.Codes)
	all(cv.HistoryWhenResolved)
	for i := range cv.Pregnancy.Companions {
		pc := &cv.Pregnancy.Companions[i]
		pc.Antepartum, pc.Childbirth = normCode(pc.Antepartum), normCode(pc.Childbirth)
		all(pc.Prefixes)
		all(pc.Unless)
	}
	for i := range r.Medications.LongTerm {
		r.Medications.LongTerm[i].Code = normCode(r.Medications.LongTerm[i].Code)
		all(r.Medications.LongTerm[i].NotWith)
	}
}

func readJSON(fsys fs.FS, name string, dst any) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("cac rules %s: %w", name, err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("cac rules %s: %w", name, err)
	}
	return nil
}

// normCode writes a code without dots, upper case.
func normCode(c string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(c), ".", ""))
}

func hasPrefixAny(code string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(code, p) {
			return true
		}
	}
	return false
}
