package notes

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

//go:embed rules/*.json
var ruleFiles embed.FS

// Rules are the resources of the pipeline, one per stage.
type Rules struct {
	Sections      SectionRules
	Abbreviations AbbreviationRules
	Context       ContextRules
	Findings      FindingRules
}

// SectionRules name the canonical sections and the headings that open them.
type SectionRules struct {
	Sections []struct {
		Name     string   `json:"name"`
		Headings []string `json:"headings"`
	} `json:"sections"`
}

// AbbreviationRules rewrite token sequences (shorthand, misspellings) before matching.
type AbbreviationRules struct {
	Rewrite map[string]string `json:"rewrite"`
	// Ambiguous short forms never establish a term on their own.
	Ambiguous []string `json:"ambiguous"`
	// Skippable words may stand inside a term without being listed (side, site).
	Skippable []string `json:"skippable"`
}

// ContextRules are the ConText triggers, pseudo-triggers, terminators and section defaults.
type ContextRules struct {
	MaxTokens   int               `json:"max_tokens"`
	Triggers    []TriggerRule     `json:"triggers"`
	Pseudo      []string          `json:"pseudo"`
	Terminators []string          `json:"terminators"`
	Sections    map[string]string `json:"sections"`
}

// TriggerRule is one ConText trigger phrase.
type TriggerRule struct {
	Phrase    string    `json:"phrase"`
	Category  Assertion `json:"category"`
	Direction string    `json:"direction"` // forward, backward, both
	// Window bounds the scope in tokens (0: the rules' max_tokens); "?" right after a term is 1.
	Window int `json:"window"`
	// Nearest: looking back, the trigger reaches only the nearest term before it.
	Nearest bool `json:"nearest"`
}

// FindingRules describe the numeric findings.
type FindingRules struct {
	Findings []struct {
		Name     string   `json:"name"`
		Unit     string   `json:"unit"`
		Patterns []string `json:"patterns"`
		Keywords []string `json:"keywords"`
	} `json:"findings"`
}

// DefaultRules returns the embedded rule files.
func DefaultRules() (Rules, error) {
	var r Rules
	for _, f := range []struct {
		name string
		dst  any
	}{
		{"rules/sections.json", &r.Sections},
		{"rules/abbreviations.json", &r.Abbreviations},
		{"rules/context.json", &r.Context},
		{"rules/findings.json", &r.Findings},
	} {
		b, err := ruleFiles.ReadFile(f.name)
		if err != nil {
			return r, fmt.Errorf("notes rules %s: %w", f.name, err)
		}
		if err := json.Unmarshal(b, f.dst); err != nil {
			return r, fmt.Errorf("notes rules %s: %w", f.name, err)
		}
	}
	return r, nil
}

// Reader runs the pipeline with compiled rules. It is immutable and safe for concurrent use.
type Reader struct {
	headings   map[string]string // normalized heading → section
	maxHeading int               // most words in a heading
	rewrite    *phraseTrie       // token sequence → replacement tokens
	ambiguous  map[string]bool
	skippable  map[string]bool
	triggers   *phraseTrie // value: index into trigRules
	trigRules  []TriggerRule
	pseudo     *phraseTrie
	terms      *phraseTrie // terminators
	maxTokens  int
	sectionAs  map[string]Assertion
	findings   []findingRule
}

type findingRule struct {
	name, unit string
	res        []*regexp.Regexp
	keys       []string
}

// NewReader compiles rules; errors name the file and the entry at fault.
func NewReader(r Rules) (*Reader, error) {
	rd := &Reader{headings: map[string]string{}, ambiguous: map[string]bool{}, sectionAs: map[string]Assertion{}}
	for _, s := range r.Sections.Sections {
		if s.Name == "" {
			return nil, fmt.Errorf("notes rules sections.json: a section without a name")
		}
		for _, h := range s.Headings {
			k := strings.Join(Words(h), " ")
			if k == "" {
				return nil, fmt.Errorf("notes rules sections.json: %s: empty heading", s.Name)
			}
			rd.headings[k] = s.Name
			rd.maxHeading = max(rd.maxHeading, len(Words(h)))
		}
	}
	rd.rewrite = newPhraseTrie()
	for from, to := range r.Abbreviations.Rewrite {
		fw, tw := Words(from), Words(to)
		if len(fw) == 0 || len(tw) == 0 {
			return nil, fmt.Errorf("notes rules abbreviations.json: %q → %q: empty side", from, to)
		}
		rd.rewrite.add(fw, len(rd.rewrite.vals))
		rd.rewrite.vals = append(rd.rewrite.vals, tw)
	}
	for _, a := range r.Abbreviations.Ambiguous {
		rd.ambiguous[strings.ToLower(a)] = true
	}
	rd.skippable = map[string]bool{}
	for _, w := range r.Abbreviations.Skippable {
		rd.skippable[strings.ToLower(w)] = true
	}
	rd.triggers, rd.pseudo, rd.terms = newPhraseTrie(), newPhraseTrie(), newPhraseTrie()
	for i, t := range r.Context.Triggers {
		switch t.Direction {
		case "forward", "backward", "both":
		default:
			return nil, fmt.Errorf("notes rules context.json: trigger %q: direction %q: one of forward, backward, both", t.Phrase, t.Direction)
		}
		if !t.Category.valid() || t.Category == Present {
			return nil, fmt.Errorf("notes rules context.json: trigger %q: category %q", t.Phrase, t.Category)
		}
		rd.triggers.add(rd.normalizePhrase(t.Phrase), i)
	}
	rd.trigRules = r.Context.Triggers
	for _, p := range r.Context.Pseudo {
		rd.pseudo.add(rd.normalizePhrase(p), 0)
	}
	for _, p := range r.Context.Terminators {
		rd.terms.add(rd.normalizePhrase(p), 0)
	}
	rd.maxTokens = r.Context.MaxTokens
	if rd.maxTokens <= 0 {
		rd.maxTokens = 12
	}
	for s, a := range r.Context.Sections {
		if !Assertion(a).valid() {
			return nil, fmt.Errorf("notes rules context.json: section %q: category %q", s, a)
		}
		rd.sectionAs[s] = Assertion(a)
	}
	for _, f := range r.Findings.Findings {
		fr := findingRule{name: f.Name, unit: f.Unit}
		for _, k := range f.Keywords {
			fr.keys = append(fr.keys, strings.ToLower(k))
		}
		for _, p := range f.Patterns {
			re, err := regexp.Compile("(?i)" + p)
			if err != nil {
				return nil, fmt.Errorf("notes rules findings.json: %s: %w", f.Name, err)
			}
			fr.res = append(fr.res, re)
		}
		rd.findings = append(rd.findings, fr)
	}
	return rd, nil
}

// DefaultReader returns a Reader of the embedded rules.
func DefaultReader() (*Reader, error) {
	r, err := DefaultRules()
	if err != nil {
		return nil, err
	}
	return NewReader(r)
}

// normalizePhrase returns the tokens of a phrase after the abbreviation rewrite, as a note's
// text is matched: vocabulary terms go through the same steps.
func (rd *Reader) normalizePhrase(p string) []string {
	toks := tokenize(p)
	out := rd.applyRewrite(toks)
	words := make([]string, len(out))
	for i, t := range out {
		words[i] = t.Norm
	}
	return words
}

// NormalizePhrase returns the normalized words of a vocabulary phrase.
func (rd *Reader) NormalizePhrase(p string) []string { return rd.normalizePhrase(p) }

// Ambiguous reports a short form that never establishes a term on its own.
func (rd *Reader) Ambiguous(word string) bool { return rd.ambiguous[word] }
