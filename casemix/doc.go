// Package casemix computes the case mix and finance reports: case mix index (CMI), DRG mix,
// severity capture, CDI impact, coder–CDI mismatches and grouper version impact, with an
// expected-payment estimate. It is pure: discharges, Table 5 weights and options in, report
// values out. It does no I/O besides the io.Reader and io.Writer it is handed.
//
// # Calling it
//
// Every discharge report has an Options type, a function over a slice and a builder for
// streams:
//
//	CMI(ds, CMIOptions)                   NewCMIBuilder       → *CMIReport
//	DRGMix(ds, DRGMixOptions)             NewDRGMixBuilder    → *DRGMixReport
//	SeverityCapture(ds, SeverityOptions)  NewSeverityBuilder  → *SeverityReport
//	CDIImpact(ds, CDIOptions)             NewCDIImpactBuilder → *CDIImpactReport
//	Mismatches(ds, MismatchOptions)       NewMismatchBuilder  → *MismatchReport
//	Distribution(ds, DistributionOptions) NewDistributionBuilder → *DistributionReport
//	                                      NewVersionImpactBuilder → *VersionImpactReport
//
// A builder's Add takes one *Discharge (not retained); builders of different goroutines are
// combined with Merge; Report can be called at any time. Option errors (an unloaded forced
// weights year, a reversed date range, a negative base rate) come from the constructors and
// are the caller's 400s. Each report marshals to JSON with snake_case names and has
// WriteCSV (the `Accept: text/csv` body) and WriteText (the CLI's output).
//
// The caller fills Discharge from its store: DischargeDate, Version and Final for every
// report; Facility, Payer, ServiceLine and Provider (attending provider id) for the filters
// and groupings; Baseline, Working, WorkingCoding, FinalCoding and Queries for the CDI
// reports. ReadDischarges reads the same values from `drg group` JSON Lines output (optionally
// extended with those fields), decoding only what the reports use.
//
// # Weights
//
// A discharge is weighed with the Table 5 of its discharge date's federal fiscal year
// (Weights.Tables, as tables.Catalog.Weights). When that year is not loaded the discharge is
// excluded and counted under Exclusions.MissingYears; no other year is used unless
// Weights.Year forces one. Discharges whose final DRG has no weight (998, 999, a DRG absent
// from the table) are counted under Exclusions.NoWeight, by DRG; they are in no CMI
// denominator. The weight a `drg group` record carries (that of the grouper version's year)
// is ignored. Reports count discharges per (fiscal year, DRG) and weigh the counts at the
// end, so totals do not depend on input order. Weights and CMIs are rounded to 4 decimals,
// money to cents.
//
// # Severity families
//
// DeriveFamilies reads the families from the grouper formulas of each version (not from
// titles): DRGs sharing a base DRG form a family; the DRG evaluated last is the lowest level
// (NONE); the others take MCC, CC or CC_MCC from the severity operands (MCC, CC) their
// formula rows test. See Families.
//
// # CDI attribution
//
// An encounter's weight change from baseline to final DRG is shared by its answered queries,
// 100 % in total, in proportion to each query's own recorded DRG move when available, else
// equally. See CDIImpactReport.
//
// # Expected payment
//
// With a positive base rate, reports add estimated payment = relative weight × base rate.
// It is an estimate only: no wage index, no cost-of-living, outlier, transfer, IME, DSH,
// new-technology or any other IPPS adjustment is applied.
package casemix
