// Package cac is computer-assisted coding: it turns what the notes package reads in the notes of
// an inpatient stay (sections, sentences, mentions with their ConText assertions, numeric
// findings) into the codes a certified coder would assign — the principal diagnosis, the
// secondary diagnoses with POA, the ICD-10-PCS procedures — each with the words that support it
// and the rule applied, and lists what was found and not coded with the reason.
//
// A run goes one way, each stage reading what the earlier ones produced (code.go, decide.go,
// conventions.go, sequence.go): mentions of the vocabulary (four layers matched independently:
// conditions, statuses, procedures, drugs) → each mention's code from the words around it
// (refinements) → per concept, the decisive documentation (provider notes, later over earlier,
// the diagnosis list over the narrative; negated, ruled out, uncertain only early, family,
// hypothetical left out) → derived codes (BMI, weeks of gestation, outcome of delivery,
// long-term drugs) → integral symptoms removed → combination and "code first" conventions →
// principal diagnosis (Section II) and sequence.
//
// The vocabulary and the conventions are data (rules/*.json, format in RULES.md) compiled once
// by NewEngine against the code files of one fiscal year. The package is pure: values in,
// values out; what a coding manager should know of its decisions is in README.md.
package cac
