package cac

import (
	"fmt"
	"slices"
)

// pregnancy adds the chapter 15 code of each condition of another chapter on an obstetric
// stay (Section I.C.15.a.1: "conditions in pregnancy are coded with chapter 15 codes first"),
// by trimester from the weeks of gestation, or the childbirth code on a delivery stay.
func (c *coding) pregnancy() {
	weeks, wh := c.maxFinding("gestational_weeks")
	obstetric := c.has("O")
	if !obstetric && (weeks == nil || !c.pregnantWords()) {
		return
	}
	delivery := c.hasProc([]string{"10D0", "10E0"})
	trimester := 0
	if weeks != nil {
		switch w := weeks.Value; {
		case w < 14:
			trimester = 1
		case w < 28:
			trimester = 2
		default:
			trimester = 3
		}
	}
	for _, comp := range c.e.conv.Pregnancy.Companions {
		code := comp.Childbirth
		if !delivery {
			if trimester == 0 {
				continue
			}
			code = fmt.Sprintf("%s%d", comp.Antepartum, trimester)
		}
		if !c.valid(code) || c.has(code) || c.hasAny(comp.Unless) {
			continue
		}
		for i, d := range c.dx {
			if d.removed != "" || !hasPrefixAny(d.code, comp.Prefixes) {
				continue
			}
			cd := &coded{code: code, hits: d.hits, all: d.all, poaN: d.poaN,
				why: "condition complicating the pregnancy: the chapter 15 code first, with the condition's own code (Section I.C.15.a.1)"}
			if comp.Replace {
				d.removed = ReasonSuperseded
			}
			c.dx = slices.Insert(c.dx, i, cd)
			break
		}
	}
	if weeks != nil && !c.has("Z3A") && c.has("O") {
		code := "Z3A00"
		if w := int(weeks.Value); w >= 8 && w <= 42 {
			code = fmt.Sprintf("Z3A%02d", w)
		}
		if c.valid(code) {
			c.add(&c.dx, &coded{code: code, hits: []*hit{wh}, why: "weeks of gestation on the obstetric stay (Section I.C.15.a.4)"})
		}
	}
}

func (c *coding) pregnantWords() bool {
	for _, v := range c.views {
		if !v.provider {
			continue
		}
		for _, t := range v.doc.Tokens {
			for _, w := range c.e.conv.Pregnancy.PregnantWords {
				if t.Norm == w {
					return true
				}
			}
		}
	}
	return false
}
