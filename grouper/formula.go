package grouper

import (
	"errors"
	"fmt"
	"strings"
)

// Attribute prefixes of the formula language (algorithm §4.1, §6.1).
const (
	pfxNone uint8 = iota
	pfxPDX
	pfxSDX
	pfxANY
	pfxONLY
	pfxPT
)

var prefixNames = [...]string{pfxNone: "", pfxPDX: "PDX", pfxSDX: "SDX", pfxANY: "ANY", pfxONLY: "ONLY", pfxPT: "PT"}

// Node kinds of a compiled formula.
const (
	nAtom uint8 = iota
	nSpecial
	nAnd
	nOr
	nNot
)

// Special terms (algorithm §6.4).
const (
	spMultST uint8 = iota + 1
	spBilateral
	spFourStents
	spFourDrugStents
	spFourNonDrugStents
	spFourVessels
	spSingleFusion
	spMultFuse
	spSglAnt
	spSglPost1
	spSglAntSectX
	spSglPostFuse
	spInvalidDstat
	spInvalidPDX
	spInvalidSex
	spPDXEcode
	spInvalidAge
	spMDC20FallThru
	spIncident
)

// node is one element of a compiled formula.
type node struct {
	kind    uint8
	prefix  uint8
	special uint8
	name    uint16
	kids    []*node
}

type specialDef struct {
	name string
	kind uint8
	on   func(l logic) bool
}

func always(logic) bool { return true }

var specialDefs = []specialDef{
	{"MULTST", spMultST, always},
	{"BILATERAL", spBilateral, always},
	{"FOUR_STENTS", spFourStents, func(l logic) bool { return !l.drugStentTerms }},
	{"FOUR_DRUG_ELUTING_STENTS", spFourDrugStents, func(l logic) bool { return l.drugStentTerms }},
	{"FOUR_NON_DRUG_ELUTING_STENTS", spFourNonDrugStents, func(l logic) bool { return l.drugStentTerms }},
	{"FOUR_VESSELS", spFourVessels, always},
	{"SINGLEFUSIONCTR", spSingleFusion, func(l logic) bool { return l.fusionTerms }},
	{"MULTFUSE", spMultFuse, func(l logic) bool { return l.fusionTerms }},
	{"SGLANTCTR", spSglAnt, func(l logic) bool { return l.fusion43Terms }},
	{"SGLPOST1CTR", spSglPost1, func(l logic) bool { return l.fusion43Terms }},
	{"SGLANTSECTXCTR", spSglAntSectX, func(l logic) bool { return l.fusionTerms }},
	{"SGLPOSTFUSECTR", spSglPostFuse, func(l logic) bool { return l.fusionTerms }},
	{"INVALID_DSTAT", spInvalidDstat, always},
	{"INVALID_PDX", spInvalidPDX, always},
	{"INVALID_SEX", spInvalidSex, always},
	{"PDX_ECODE", spPDXEcode, always},
	{"INVALID_AGE", spInvalidAge, always},
	{"MDC_20_FALL_THRU", spMDC20FallThru, always},
	{"incident", spIncident, always},
}

// specialFor returns the special term an atom name denotes in this version, or 0.
func (c *compiled) specialFor(name string) uint8 {
	for _, d := range specialDefs {
		if !d.on(c.logic) {
			continue
		}
		if c.logic.specialExactCase {
			if name == d.name {
				return d.kind
			}
		} else if strings.EqualFold(name, d.name) {
			return d.kind
		}
	}
	return 0
}

var errSyntax = errors.New("formula syntax error")

// parse compiles a formula expression (algorithm §6.1–6.2).
func (c *compiled) parse(expr string) (*node, error) {
	p := &parser{c: c, toks: lex(expr)}
	if len(p.toks) == 0 {
		return &node{kind: nOr}, nil // empty formula: never true
	}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("%w: unexpected %q", errSyntax, p.toks[p.pos])
	}
	return n, nil
}

func lex(s string) []string {
	var toks []string
	start := -1
	flush := func(i int) {
		if start >= 0 {
			if t := strings.TrimSpace(s[start:i]); t != "" {
				toks = append(toks, t)
			}
			start = -1
		}
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			flush(i)
		case '(', ')', '&', '|', '~':
			flush(i)
			toks = append(toks, s[i:i+1])
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(s))
	return toks
}

type parser struct {
	c    *compiled
	toks []string
	pos  int
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) expr() (*node, error) {
	t, err := p.term()
	if err != nil {
		return nil, err
	}
	if p.peek() != "|" {
		return t, nil
	}
	n := &node{kind: nOr, kids: []*node{t}}
	for p.peek() == "|" {
		p.pos++
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, t)
	}
	return n, nil
}

func (p *parser) term() (*node, error) {
	f, err := p.factor()
	if err != nil {
		return nil, err
	}
	if p.peek() != "&" {
		return f, nil
	}
	n := &node{kind: nAnd, kids: []*node{f}}
	for p.peek() == "&" {
		p.pos++
		f, err := p.factor()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, f)
	}
	return n, nil
}

func (p *parser) factor() (*node, error) {
	t := p.peek()
	switch t {
	case "":
		return nil, fmt.Errorf("%w: unexpected end", errSyntax)
	case "(":
		p.pos++
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("%w: missing )", errSyntax)
		}
		p.pos++
		return n, nil
	case "~":
		p.pos++
		f, err := p.factor()
		if err != nil {
			return nil, err
		}
		return &node{kind: nNot, kids: []*node{f}}, nil
	case ")", "&", "|":
		return nil, fmt.Errorf("%w: unexpected %q", errSyntax, t)
	}
	p.pos++
	return p.atom(t)
}

func (p *parser) atom(t string) (*node, error) {
	prefix, name := pfxNone, t
	if i := strings.IndexByte(t, ':'); i >= 0 {
		if strings.IndexByte(t[i+1:], ':') >= 0 {
			return nil, fmt.Errorf("%w: atom %q has more than one colon", errSyntax, t)
		}
		name = t[i+1:]
		switch strings.ToUpper(t[:i]) {
		case "ANY":
			prefix = pfxANY
		case "PDX":
			prefix = pfxPDX
		case "SDX":
			prefix = pfxSDX
		case "ONLY":
			prefix = pfxONLY
		case "PT":
			prefix = pfxPT
		}
	}
	if sp := p.c.specialFor(name); sp != 0 {
		return &node{kind: nSpecial, special: sp, prefix: prefix, name: p.c.intern(name)}, nil
	}
	return &node{kind: nAtom, prefix: prefix, name: p.c.intern(name)}, nil
}
