// Package cdi is the clinical documentation integrity (CDI) engine: it reads the clinical
// evidence of an encounter, finds documentation opportunities (conditions the record supports
// but the provider has not documented, documented conditions that could be more specific,
// conflicting documentation, missing present-on-admission status, diagnoses that lack clinical
// support), measures their MS-DRG and CMS-HCC impact with the real grouper, ranks encounters
// for the worklist, and generates compliant provider queries whose lifecycle it models.
//
// A review runs in one direction, each stage a pure step reading only what the earlier ones
// produced: evidence → facts (facts.go: names, specimens, documentation) → indicators
// (evaluation.go, indicator.go, score.go) → conditions (condition.go: criteria, exclusions and
// the query options the evidence supports, each with its own indicators) → opportunities
// (opportunity.go, conflict.go, plan.go) → impact (impact.go). Queries are drafted from an
// opportunity's plan (query.go) and checked by the linter (lint.go). What is offered never
// depends on CC/MCC levels: those only measure impact.
//
// The package is pure: values in, values out. It does no I/O besides reading its embedded
// default rules file. Clinical thresholds and indicator definitions are data (see Rules and
// DefaultRules); severity levels, exclusions, weights and HCCs are read from the loaded CMS
// tables.
//
// What the API layer calls:
//
//   - NewEngine once at start-up (catalog, grouper, rules); the Engine is safe for concurrent
//     use.
//   - Engine.Review(encounter, options) for POST /v1/encounters/{id}/review; persist the
//     returned Review (opportunities with their stable ids, impacts and rule explanations).
//   - ParseFHIRBundle to accept an encounter as a FHIR R4 Bundle.
//   - NewWorklistRow / Worklist for GET /v1/worklist.
//   - GenerateQuery, Lint, and the lifecycle functions Edit, Send, AnswerQuery, Escalate, Close
//     for the query endpoints; Engine.ApplyAnswer to update the working codes and attribute
//     the DRG change to an answered query; ComputeStats for provider and specialist
//     statistics. Persist every Query value returned (each version separately).
package cdi
