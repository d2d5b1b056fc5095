package tables

import (
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Severity is the CC/MCC level of a diagnosis used as a secondary diagnosis.
type Severity int8

// Severity levels in the order of the data format's enum.
const (
	MCC Severity = 0
	CC  Severity = 1
	NCC Severity = 2
)

// String renders the level as the reference dumps do.
func (s Severity) String() string {
	switch s {
	case MCC:
		return "MCC"
	case CC:
		return "CC"
	case NCC:
		return "NCC"
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// DxRecord is the grouper's view of an ICD-10-CM code for a set of versions.
type DxRecord struct {
	Versioned
	MDC         int      // MDC as principal diagnosis (0 for external causes)
	Severity    Severity // CC/MCC level as secondary diagnosis
	Operands    []string // operand attributes used by formulas (nbmaj, strauma, …)
	HACOperands []string // HAC attributes (HAC01 … HAC14, hac06_sdx, …)
	Categories  []string // principal-diagnosis categories (dxcMMNN)

	operandsPat, hacPat, catPat int
}

// PrRecord is the grouper's view of an ICD-10-PCS code or a procedure cluster id.
type PrRecord struct {
	Versioned
	Operands []string

	pat int
}

// ClusterIDs lists the clusters a procedure participates in, for a set of versions.
type ClusterIDs struct {
	Versioned
	IDs []string
}

// Cluster is a procedure combination: formed when every choice slot is filled on the claim.
type Cluster struct {
	Versioned
	SuppressionMDCs []int // MDCs in which the member procedures are hidden once formed
	Choices         []ClusterChoice
}

// ClusterChoice is one numbered slot of a cluster and the codes that can fill it.
type ClusterChoice struct {
	Choice int
	Codes  []string
}

// PdxExclusion assigns a principal diagnosis its CC/MCC exclusion group, for a set of versions.
type PdxExclusion struct {
	Versioned
	Group int
}

// GenderMDC gives the MDC of a principal diagnosis per sex (1 male, 2 female).
type GenderMDC struct {
	Versioned
	MDCBySex map[int]int
}

// Formula is one row of DRG logic: when its expression is true in its MDC, the DRG is assigned
// (or grouping is rerouted to another MDC).
type Formula struct {
	MDCKey              int // MDC list the row belongs to (the authoritative key)
	DRG                 int
	MDC                 int // informational
	BaseDRG             int
	Surgical            string // SURGICAL, MEDICAL or NA
	RerouteMDC          int
	Expr                string
	SeveritySuppression []string
	DRGSeverity         int
	ReturnCode          int
	Ranks               []VersionRank
}

// VersionRank is the evaluation rank of a formula within its MDC for one version.
type VersionRank struct {
	Rank    int
	Version Version
}

// Rank returns the formula's rank for version v, or false when the formula is not in v.
func (f *Formula) Rank(v Version) (int, bool) {
	for _, r := range f.Ranks {
		if r.Version == v {
			return r.Rank, true
		}
	}
	return 0, false
}

// HACFormula is the criterion of one hospital-acquired condition.
type HACFormula struct {
	Versioned
	HAC  int
	Expr string
}

// HACInfo lists the HAC numbers and list names of a code.
type HACInfo struct {
	Versioned
	Operands []string
	Numbers  []int
}

// Description is a versioned title.
type Description struct {
	Versioned
	Text string
}

// MSDRG holds every table of msdrg_combined.bin, all versions, keyed as in the file.
type MSDRG struct {
	Versions        []Version // versions present in the data, ascending
	Dx              map[string][]DxRecord
	Pr              map[string][]PrRecord // ICD-10-PCS codes and cluster ids
	CodeClusters    map[string][]ClusterIDs
	Clusters        map[string][]Cluster
	ExclusionGroups map[int][]string // group id → excluded secondary diagnoses
	PdxExclusions   map[string][]PdxExclusion
	GenderMDCs      map[string][]GenderMDC
	Formulas        map[int][]Formula // MDC key → rows in file order
	HACFormulas     map[int][]HACFormula
	HACInfos        map[string][]HACInfo
	DRGTitles       map[int][]Description
	MDCTitles       map[int][]Description
	BaseDRGTitles   map[int][]Description
	HACTitles       map[int][]Description
}

// ErrNotMSDRG reports a file that decodes as protobuf but is not grouper data.
var ErrNotMSDRG = errors.New("not an MS-DRG grouper data file")

// DecodeMSDRG decodes the content of msdrg_combined.bin.
func DecodeMSDRG(b []byte) (*MSDRG, error) {
	m := &MSDRG{
		Dx: map[string][]DxRecord{}, Pr: map[string][]PrRecord{},
		CodeClusters: map[string][]ClusterIDs{}, Clusters: map[string][]Cluster{},
		ExclusionGroups: map[int][]string{}, PdxExclusions: map[string][]PdxExclusion{},
		GenderMDCs: map[string][]GenderMDC{}, Formulas: map[int][]Formula{},
		HACFormulas: map[int][]HACFormula{}, HACInfos: map[string][]HACInfo{},
		DRGTitles: map[int][]Description{}, MDCTitles: map[int][]Description{},
		BaseDRGTitles: map[int][]Description{}, HACTitles: map[int][]Description{},
	}
	dxPatterns := map[int][]string{}
	prPatterns := map[int][]string{}
	seen := 0
	err := walk(b, func(f field) error {
		if f.typ != 2 {
			return fmt.Errorf("top-level field %d: unexpected wire type %d", f.num, f.typ)
		}
		seen |= 1 << f.num
		var err error
		switch f.num {
		case 1:
			err = decodeMap(f.bytes, "diagnoses", func(k, v field) error { return decodeDx(m, k.str(), v.bytes) })
		case 2:
			err = decodeMap(f.bytes, "procedures", func(k, v field) error { return decodePr(m, k.str(), v.bytes) })
		case 3:
			err = decodeMap(f.bytes, "codeToClusterIds", func(k, v field) error { return decodeCodeClusters(m, k.str(), v.bytes) })
		case 4:
			err = decodeMap(f.bytes, "exclusionGroups", func(k, v field) error { return decodeExclusionGroup(m, k.int32(), v.bytes) })
		case 5:
			err = decodeMap(f.bytes, "pdxExclusionGroups", func(k, v field) error { return decodePdxExclusions(m, k.str(), v.bytes) })
		case 6:
			err = decodeMap(f.bytes, "clusters", func(k, v field) error { return decodeClusters(m, k.str(), v.bytes) })
		case 7:
			err = decodeMap(f.bytes, "codeGenderMdcs", func(k, v field) error { return decodeGenderMDCs(m, k.str(), v.bytes) })
		case 8:
			err = decodeMap(f.bytes, "formulaRoot", func(k, v field) error { return decodeFormulas(m, k.int32(), v.bytes) })
		case 9:
			err = decodeMap(f.bytes, "hacFormulaLists", func(k, v field) error { return decodeHACFormulas(m, k.int32(), v.bytes) })
		case 10:
			err = decodeMap(f.bytes, "hacInformation", func(k, v field) error { return decodeHACInfos(m, k.str(), v.bytes) })
		case 11:
			err = decodeMap(f.bytes, "dxPatterns", func(k, v field) error {
				ops, err := decodeStrings(v.bytes, 1)
				dxPatterns[k.int32()] = ops
				return err
			})
		case 12:
			err = decodeMap(f.bytes, "prPatterns", func(k, v field) error {
				ops, err := decodeStrings(v.bytes, 2)
				prPatterns[k.int32()] = ops
				return err
			})
		case 13:
			err = decodeDescriptions(f.bytes, m.DRGTitles)
		case 14:
			err = decodeDescriptions(f.bytes, m.MDCTitles)
		case 15:
			err = decodeDescriptions(f.bytes, m.BaseDRGTitles)
		case 16:
			err = decodeDescriptions(f.bytes, m.HACTitles)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	const required = 1<<1 | 1<<2 | 1<<8 | 1<<11 | 1<<12 | 1<<13
	if seen&required != required || len(m.Dx) == 0 || len(m.Formulas) == 0 {
		return nil, ErrNotMSDRG
	}
	if err := m.resolvePatterns(dxPatterns, prPatterns); err != nil {
		return nil, err
	}
	m.Versions = m.collectVersions()
	if len(m.Versions) == 0 {
		return nil, fmt.Errorf("%w: no grouper version in the formula table", ErrNotMSDRG)
	}
	return m, nil
}

// resolvePatterns replaces pattern numbers by the (shared) attribute name lists.
func (m *MSDRG) resolvePatterns(dxPat, prPat map[int][]string) error {
	lookup := func(pats map[int][]string, id int, what, code string) ([]string, error) {
		if id == 0 {
			return nil, nil
		}
		p, ok := pats[id]
		if !ok {
			return nil, fmt.Errorf("%s %s: pattern %d missing", what, code, id)
		}
		return p, nil
	}
	var err error
	for code, recs := range m.Dx {
		for i := range recs {
			r := &recs[i]
			if r.Operands, err = lookup(dxPat, r.operandsPat, "diagnosis", code); err != nil {
				return err
			}
			if r.HACOperands, err = lookup(dxPat, r.hacPat, "diagnosis", code); err != nil {
				return err
			}
			if r.Categories, err = lookup(dxPat, r.catPat, "diagnosis", code); err != nil {
				return err
			}
		}
	}
	for code, recs := range m.Pr {
		for i := range recs {
			if recs[i].Operands, err = lookup(prPat, recs[i].pat, "procedure", code); err != nil {
				return err
			}
		}
	}
	return nil
}

// collectVersions returns the versions that have DRG formulas.
func (m *MSDRG) collectVersions() []Version {
	set := map[Version]bool{}
	for _, rows := range m.Formulas {
		for _, f := range rows {
			for _, r := range f.Ranks {
				set[r.Version] = true
			}
		}
	}
	out := make([]Version, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// HasVersion reports whether the data holds version v.
func (m *MSDRG) HasVersion(v Version) bool { return slices.Contains(m.Versions, v) }

// FormulasFor returns the formulas of an MDC key for version v in evaluation order (rank
// ascending, ties in file order).
func (m *MSDRG) FormulasFor(mdc int, v Version) []*Formula {
	rows := m.Formulas[mdc]
	type ranked struct {
		f    *Formula
		rank int
	}
	var rs []ranked
	for i := range rows {
		if r, ok := rows[i].Rank(v); ok {
			rs = append(rs, ranked{&rows[i], r})
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].rank < rs[j].rank })
	out := make([]*Formula, len(rs))
	for i, r := range rs {
		out[i] = r.f
	}
	return out
}

// Title returns the description of number n (DRG, MDC, base DRG or HAC) valid in version v.
func Title(t map[int][]Description, n int, v Version) (string, bool) {
	d, ok := Pick(t[n], v)
	if !ok {
		return "", false
	}
	return d.Text, true
}

// decodeMap walks a root message whose field 1 is a protobuf map and calls fn per entry.
func decodeMap(b []byte, what string, fn func(k, v field) error) error {
	err := walk(b, func(f field) error {
		if f.num != 1 || f.typ != 2 {
			return nil
		}
		k, v, err := mapEntry(f.bytes)
		if err != nil {
			return err
		}
		return fn(k, v)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// decodeList calls fn for each element of a wrapper message "repeated X list = num".
func decodeList(b []byte, num int, fn func(elem []byte) error) error {
	return walk(b, func(f field) error {
		if int(f.num) == num && f.typ == 2 {
			return fn(f.bytes)
		}
		return nil
	})
}

// decodeStrings returns the repeated string field num of message b; empty strings are dropped.
func decodeStrings(b []byte, num int) ([]string, error) {
	var out []string
	err := walk(b, func(f field) error {
		if int(f.num) == num && f.typ == 2 && len(f.bytes) > 0 {
			out = append(out, f.str())
		}
		return nil
	})
	return out, err
}

// addVersions adds the versions of a repeated Version field to s.
func addVersions(s VersionSet, f field) (VersionSet, error) {
	vs, err := f.appendInts(nil)
	for _, v := range vs {
		s = s.Add(Version(v))
	}
	return s, err
}

func decodeDx(m *MSDRG, code string, b []byte) error {
	return decodeList(b, 1, func(e []byte) error {
		r := DxRecord{Severity: MCC}
		err := walk(e, func(f field) error {
			var err error
			switch f.num {
			case 1:
				r.MDC = f.int32()
			case 2:
				r.Severity = Severity(f.int32())
			case 3:
				r.operandsPat = f.int32()
			case 4:
				r.hacPat = f.int32()
			case 5:
				r.catPat = f.int32()
			case 6:
				r.Versions, err = addVersions(r.Versions, f)
			}
			return err
		})
		m.Dx[code] = append(m.Dx[code], r)
		return err
	})
}

func decodePr(m *MSDRG, code string, b []byte) error {
	return decodeList(b, 1, func(e []byte) error {
		var r PrRecord
		err := walk(e, func(f field) error {
			var err error
			switch f.num {
			case 1:
				r.pat = f.int32()
			case 2:
				r.Versions, err = addVersions(r.Versions, f)
			}
			return err
		})
		m.Pr[code] = append(m.Pr[code], r)
		return err
	})
}

func decodeCodeClusters(m *MSDRG, code string, b []byte) error {
	return decodeList(b, 1, func(e []byte) error {
		var r ClusterIDs
		err := walk(e, func(f field) error {
			var err error
			switch f.num {
			case 1:
				if len(f.bytes) > 0 {
					r.IDs = append(r.IDs, f.str())
				}
			case 2:
				r.Versions, err = addVersions(r.Versions, f)
			}
			return err
		})
		m.CodeClusters[code] = append(m.CodeClusters[code], r)
		return err
	})
}

func decodeClusters(m *MSDRG, id string, b []byte) error {
	return decodeList(b, 1, func(e []byte) error {
		var r Cluster
		err := walk(e, func(f field) error {
			var err error
			switch f.num {
			case 1:
				r.SuppressionMDCs, err = f.appendInts(r.SuppressionMDCs)
			case 3:
				var c ClusterChoice
				err = walk(f.bytes, func(g field) error {
					switch g.num {
					case 1:
						c.Choice = g.int32()
					case 2:
						if len(g.bytes) > 0 {
							c.Codes = append(c.Codes, g.str())
						}
					}
					return nil
				})
				r.Choices = append(r.Choices, c)
			case 4:
				r.Versions, err = addVersions(r.Versions, f)
			}
			return err
		})
		m.Clusters[id] = append(m.Clusters[id], r)
		return err
	})
}

func decodeExclusionGroup(m *MSDRG, id int, b []byte) error {
	codes, err := decodeStrings(b, 1)
	m.ExclusionGroups[id] = codes
	return err
}

func decodePdxExclusions(m *MSDRG, code string, b []byte) error {
	return decodeList(b, 1, func(e []byte) error {
		var r PdxExclusion
		err := walk(e, func(f field) error {
			var err error
			switch f.num {
			case 1:
				r.Group = f.int32()
			case 2:
				r.Versions, err = addVersions(r.Versions, f)
			}
			return err
		})
		m.PdxExclusions[code] = append(m.PdxExclusions[code], r)
		return err
	})
}

func decodeGenderMDCs(m *MSDRG, code string, b []byte) error {
	return decodeList(b, 1, func(e []byte) error {
		r := GenderMDC{MDCBySex: map[int]int{}}
		err := walk(e, func(f field) error {
			var err error
			switch f.num {
			case 1:
				k, v, e := mapEntry(f.bytes)
				r.MDCBySex[k.int32()] = v.int32()
				err = e
			case 2:
				r.Versions, err = addVersions(r.Versions, f)
			}
			return err
		})
		m.GenderMDCs[code] = append(m.GenderMDCs[code], r)
		return err
	})
}

func decodeFormulas(m *MSDRG, mdc int, b []byte) error {
	return decodeList(b, 1, func(e []byte) error {
		r := Formula{MDCKey: mdc}
		err := walk(e, func(f field) error {
			switch f.num {
			case 1:
				r.DRG = f.int32()
			case 2:
				r.MDC = f.int32()
			case 6:
				r.BaseDRG = f.int32()
			case 7:
				r.Surgical = f.str()
			case 8:
				r.RerouteMDC = f.int32()
			case 9:
				r.Expr = f.str()
			case 10:
				if len(f.bytes) > 0 {
					r.SeveritySuppression = append(r.SeveritySuppression, f.str())
				}
			case 11:
				r.DRGSeverity = f.int32()
			case 12:
				r.ReturnCode = f.int32()
			case 13:
				var vr VersionRank
				err := walk(f.bytes, func(g field) error {
					switch g.num {
					case 1:
						vr.Rank = g.int32()
					case 2:
						vr.Version = Version(g.int32())
					}
					return nil
				})
				r.Ranks = append(r.Ranks, vr)
				return err
			}
			return nil
		})
		m.Formulas[mdc] = append(m.Formulas[mdc], r)
		return err
	})
}

func decodeHACFormulas(m *MSDRG, hac int, b []byte) error {
	return decodeList(b, 1, func(e []byte) error {
		var r HACFormula
		err := walk(e, func(f field) error {
			var err error
			switch f.num {
			case 1:
				r.HAC = f.int32()
			case 3:
				r.Expr = f.str()
			case 4:
				r.Versions, err = addVersions(r.Versions, f)
			}
			return err
		})
		m.HACFormulas[hac] = append(m.HACFormulas[hac], r)
		return err
	})
}

func decodeHACInfos(m *MSDRG, code string, b []byte) error {
	return decodeList(b, 1, func(e []byte) error {
		var r HACInfo
		err := walk(e, func(f field) error {
			var err error
			switch f.num {
			case 1:
				if len(f.bytes) > 0 {
					r.Operands = append(r.Operands, f.str())
				}
			case 2:
				r.Numbers, err = f.appendInts(r.Numbers)
			case 3:
				r.Versions, err = addVersions(r.Versions, f)
			}
			return err
		})
		m.HACInfos[code] = append(m.HACInfos[code], r)
		return err
	})
}

func decodeDescriptions(b []byte, into map[int][]Description) error {
	return decodeMap(b, "descriptions", func(k, v field) error {
		n := k.int32()
		return decodeList(v.bytes, 1, func(e []byte) error {
			var d Description
			err := walk(e, func(f field) error {
				var err error
				switch f.num {
				case 1:
					d.Text = f.str()
				case 7:
					d.Versions, err = addVersions(d.Versions, f)
				}
				return err
			})
			into[n] = append(into[n], d)
			return err
		})
	})
}
