package notes

import (
	"sort"
	"strconv"
	"strings"
)

// Finding is a numeric finding read from the narrative.
type Finding struct {
	Name       string  // lvef, egfr, creatinine, bmi, pressure_ulcer_stage, gestational_weeks, …
	Value      float64 // the value, or the low end of a range
	High       float64 // the high end of a range ("25-30 %"), or Value
	Unit       string
	Start, End int    // bytes of the note text
	Text       string // the words that state it
	Section    string
}

var numberWords = map[string]float64{"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
	"i": 1, "ii": 2, "iii": 3, "iv": 4}

func parseNumber(s string) (float64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if v, ok := numberWords[s]; ok {
		return v, true
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func (rd *Reader) readFindings(text string, d *Document) []Finding {
	var out []Finding
	taken := func(s, e int) bool {
		for _, f := range out {
			if s < f.End && f.Start < e {
				return true
			}
		}
		return false
	}
	lower := LowerASCII(text)
	for _, fr := range rd.findings {
		for _, re := range fr.res {
			ms := FindNear(re, text, lower, fr.keys)
			if len(fr.keys) == 0 {
				ms = re.FindAllStringSubmatchIndex(text, -1)
			}
			for _, m := range ms {
				if len(m) < 4 || m[2] < 0 || taken(m[0], m[1]) {
					continue
				}
				v, ok := parseNumber(text[m[2]:m[3]])
				if !ok {
					continue
				}
				f := Finding{Name: fr.name, Value: v, High: v, Unit: fr.unit, Start: m[0], End: m[1], Text: text[m[0]:m[1]]}
				if len(m) >= 6 && m[4] >= 0 {
					if h, ok := parseNumber(text[m[4]:m[5]]); ok {
						f.High = h
					}
				}
				f.Section = d.sectionAt(m[0])
				out = append(out, f)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// sectionAt returns the name of the section holding a byte offset.
func (d *Document) sectionAt(off int) string {
	for i := len(d.Sections) - 1; i >= 0; i-- {
		if d.Sections[i].HeadingStart <= off {
			return d.Sections[i].Name
		}
	}
	return ""
}
