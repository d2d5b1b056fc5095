package notes

import (
	"regexp"
	"strings"
)

// inlineHeading finds ALL-CAPS headings inside a line, after a sentence end: transcribed text
// runs sections together ("… no nausea.  HOSPITAL COURSE:  The patient …").
var inlineHeading = regexp.MustCompile(`(?:[.!?]\s+|\s{2,})([A-Z][A-Z0-9 /&'()-]{1,60}?)\s*:`)

// embeddedSections are sections whose short headings ("Heart:", "Labs:") inside an
// assessment, a hospital course or a diagnosis list are part of it, not a new section.
var embeddedSections = map[string]bool{"physical exam": true, "labs": true, "imaging": true}

// narrativeSections hold embeddedSections headings as part of their text.
var narrativeSections = map[string]bool{"assessment and plan": true, "discharge diagnoses": true, "hospital course": true}

type headingAt struct {
	name, heading    string
	start, bodyStart int
}

// sectionize finds the headings of a note and returns its sections in order; the text before
// the first heading is a section with an empty name.
func (rd *Reader) sectionize(text string) []Section {
	var hs []headingAt
	current := ""
	for lineStart := 0; lineStart < len(text); {
		lineEnd := strings.IndexByte(text[lineStart:], '\n')
		if lineEnd < 0 {
			lineEnd = len(text)
		} else {
			lineEnd += lineStart
		}
		line := text[lineStart:lineEnd]
		if h, ok := rd.lineHeading(line, lineStart, current); ok {
			hs = append(hs, h)
			current = h.name
		}
		// ALL-CAPS headings later in the line
		from := 0
		if len(hs) > 0 && hs[len(hs)-1].start >= lineStart {
			from = hs[len(hs)-1].bodyStart - lineStart
		}
		for _, m := range inlineHeading.FindAllStringSubmatchIndex(line[from:], -1) {
			raw := line[from+m[2] : from+m[3]]
			name, ok := rd.headingName(raw)
			if !ok || embeddedSections[name] && narrativeSections[current] {
				continue
			}
			hs = append(hs, headingAt{name: name, heading: raw, start: lineStart + from + m[2], bodyStart: lineStart + from + m[1]})
			current = name
		}
		lineStart = lineEnd + 1
	}
	var out []Section
	if len(hs) == 0 || hs[0].start > 0 {
		out = append(out, Section{Start: 0})
	}
	for _, h := range hs {
		if len(out) > 0 {
			out[len(out)-1].End = h.start
		}
		out = append(out, Section{Name: h.name, Heading: h.heading, HeadingStart: h.start, Start: h.bodyStart})
	}
	out[len(out)-1].End = len(text)
	for i := range out {
		if out[i].End < out[i].Start {
			out[i].End = out[i].Start
		}
	}
	return out
}

// headingName looks a heading's words up; a combined heading ("POSTOPERATIVE / DISCHARGE
// DIAGNOSIS", "Assessment & Plan") is tried whole, then by its parts, the last known part
// winning.
func (rd *Reader) headingName(raw string) (string, bool) {
	if name, ok := rd.headings[strings.Join(Words(raw), " ")]; ok {
		return name, true
	}
	name, found := "", false
	for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == '/' || r == '&' || r == '+' }) {
		if n, ok := rd.headings[strings.Join(Words(part), " ")]; ok {
			name, found = n, true
		}
	}
	return name, found
}

// lineHeading recognises a heading at the start of a line: words before a colon that name a
// section, or a short line that is a heading on its own. Numbering and bullets before it
// are skipped; an unknown ALL-CAPS heading before a colon opens an unnamed section ("other").
func (rd *Reader) lineHeading(line string, off int, current string) (headingAt, bool) {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '#' || line[i] == '*' || line[i] == '-') {
		i++
	}
	list := isListLine(line)
	j := i
	for j < len(line) && (isDigit(line[j]) || line[j] == '.' || line[j] == ')') {
		j++
	}
	if j > i && j < len(line) && line[j] == ' ' {
		i = j
		for i < len(line) && line[i] == ' ' {
			i++
		}
	}
	rest := line[i:]
	if c := strings.IndexByte(rest, ':'); c > 0 {
		raw := strings.TrimSpace(rest[:c])
		words := Words(raw)
		if len(words) > 0 && len(words) <= rd.maxHeading+3 {
			name, ok := rd.headingName(raw)
			allCaps := isAllCaps(raw)
			if ok && (!list || allCaps || !narrativeSections[current]) && !(embeddedSections[name] && narrativeSections[current] && !allCaps) {
				body := i + c + 1
				return headingAt{name: name, heading: raw, start: off + i, bodyStart: off + body}, true
			}
			if !ok && allCaps && len(words) <= 6 && !list && len(raw) > 2 {
				return headingAt{name: "other", heading: raw, start: off + i, bodyStart: off + i + c + 1}, true
			}
		}
	}
	raw := strings.TrimSpace(rest)
	words := Words(raw)
	if len(words) > 0 && len(words) <= rd.maxHeading && !list && !strings.ContainsAny(raw, ".,;") {
		if name, ok := rd.headings[strings.Join(words, " ")]; ok && (isAllCaps(raw) || len(words) > 1) {
			if embeddedSections[name] && narrativeSections[current] && !isAllCaps(raw) {
				return headingAt{}, false
			}
			return headingAt{name: name, heading: raw, start: off + i, bodyStart: off + len(line)}, true
		}
	}
	return headingAt{}, false
}

func isAllCaps(s string) bool {
	letters := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			return false
		}
		if c >= 'A' && c <= 'Z' {
			letters++
		}
	}
	return letters >= 2
}
