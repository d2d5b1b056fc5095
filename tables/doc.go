// Package tables loads and versions the reference data the product runs on: the CMS MS-DRG
// grouper tables (all versions of msdrg_combined.bin), the Medicare Code Editor tables,
// ICD-10-CM/PCS titles, IPPS Table 5 weights, POA-exempt lists and CMS-HCC maps. It holds no
// grouping logic.
//
// The grouper file is protobuf (schema in msdrg.proto, written from the data format's field
// numbers). It is decoded with google.golang.org/protobuf's protowire, field by field, rather
// than with protoc-generated code: the build needs no protoc step, the decoder keeps only what
// the product uses (attribute pattern lists are shared between records instead of copied), and
// one pass over the 11 MB file takes about 0.2 s.
//
// Versioned records follow the CMS loader's rule: a record applies to a version when the version
// is in its version set, and the last such record in file order wins (see Pick).
package tables
