// Package notes reads clinical notes: the sections their headings announce, sentences and
// tokens with UTF-8 byte offsets, mentions of the terms a caller asks for with their ConText
// assertion (present, negated, historical, family, hypothetical, uncertain, ruled out), and the
// numeric findings of the narrative (LVEF, eGFR, creatinine, BMI, pressure-ulcer stage, weeks of
// gestation, ventilation duration).
//
// It is a small pipeline in the manner of medspaCy, each stage a component with its rules as
// a resource in rules/: the sectionizer (sections.json), the tokenizer with the abbreviation
// and misspelling rewrite (abbreviations.json), the target matcher (terms given by the
// caller), ConText (context.json) and the finding reader (findings.json).
//
// The package is pure: values in, values out; it depends on nothing but the standard library
// and reads only its embedded rule files. A Reader is built once and is safe for concurrent
// use.
package notes
