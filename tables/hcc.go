package tables

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// HCCMap holds the CMS risk-adjustment mappings of one payment year (the year in the file
// names ra_dx_to_cc_YYYY.csv, ra_hierarchies_YYYY.csv, ra_labels_YYYY.csv): for every model
// (CMS-HCC V24, V28, ESRD, RxHCC, …) the diagnosis → HCC map, the hierarchies and the labels.
type HCCMap struct {
	Year        int
	Sources     []string // files read
	LabelsYear  int      // year of the labels file used (may differ from Year; 0 = none)
	Hierarchies bool     // whether a hierarchy file for Year was read

	models map[string]*HCCModel // canonical name → model
}

// HCCModel is one risk-adjustment model of a payment year.
type HCCModel struct {
	Name    string // canonical name: "CMS-HCC V28", "ESRD V24", "RxHCC V08"
	Domain  string // "CMS-HCC", "ESRD" or "RxHCC"
	Version string // "V28"; RxHCC versions are written V08 like the dx map (the hierarchy and label files say R08)

	dx     map[string][]int // ICD-10-CM code → HCC numbers, ascending
	hier   map[int][]int    // HCC → HCCs it excludes (children), ascending
	labels map[int]string
}

// Model returns the model named name. Accepted spellings, case-insensitive: the canonical
// name ("CMS-HCC V28"), the model_name of the dx map ("CMS-HCC Model V28", "CMS-HCC ESRD
// Model V24", "RxHCC Model V08"), domain and version as in the hierarchy files ("ESRD V24",
// "RxHCC R08"), and a bare version: "V28" is CMS-HCC V28, "R08" is RxHCC V08.
func (h *HCCMap) Model(name string) (*HCCModel, bool) {
	m, ok := h.models[canonicalHCCName(name)]
	return m, ok
}

// ModelNames returns the canonical names of the models, sorted.
func (h *HCCMap) ModelNames() []string { return slices.Sorted(maps.Keys(h.models)) }

// HCCs returns the HCCs a diagnosis maps to in the model (nil when none); a dotted code is
// accepted. The slice must not be modified.
func (m *HCCModel) HCCs(code string) []int {
	return m.dx[strings.ToUpper(strings.ReplaceAll(code, ".", ""))]
}

// Len returns the number of diagnosis codes mapped by the model.
func (m *HCCModel) Len() int { return len(m.dx) }

// HCCList returns every HCC number the model maps a diagnosis to, ascending.
func (m *HCCModel) HCCList() []int {
	set := map[int]bool{}
	for _, hs := range m.dx {
		for _, h := range hs {
			set[h] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// Excludes returns the HCCs that hcc drops by the model's hierarchy (cc_child rows of
// cc_parent = hcc), ascending; nil when none or when no hierarchy file was loaded. The slice
// must not be modified.
func (m *HCCModel) Excludes(hcc int) []int { return m.hier[hcc] }

// HierarchyLen returns the number of parent → child hierarchy rows.
func (m *HCCModel) HierarchyLen() int {
	n := 0
	for _, c := range m.hier {
		n += len(c)
	}
	return n
}

// Label returns the label of an HCC ("Diabetes with Chronic Complications").
func (m *HCCModel) Label(hcc int) (string, bool) {
	l, ok := m.labels[hcc]
	return l, ok
}

// LabelsLen returns the number of labelled HCCs.
func (m *HCCModel) LabelsLen() int { return len(m.labels) }

// LoadHCC reads the maps of payment year year. dxToCC is mandatory; hierarchies and labels
// may be "" when absent. A labels file of another year may be passed (labels rarely change);
// LabelsYear then records its year.
func LoadHCC(year int, dxToCC, hierarchies, labels string) (*HCCMap, error) {
	h := &HCCMap{Year: year, models: map[string]*HCCModel{}}
	read := func(p string, parse func(string, []byte) error) error {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("load %s: %w", p, err)
		}
		h.Sources = append(h.Sources, p)
		return parse(p, b)
	}
	if err := read(dxToCC, h.parseDxToCC); err != nil {
		return nil, err
	}
	if hierarchies != "" {
		if err := read(hierarchies, h.parseHierarchies); err != nil {
			return nil, err
		}
		h.Hierarchies = true
	}
	if labels != "" {
		if err := read(labels, h.parseLabels); err != nil {
			return nil, err
		}
		if m := yearInName.FindStringSubmatch(labels); m != nil {
			h.LabelsYear = atoi(m[1])
		}
	}
	return h, nil
}

var (
	yearInName = regexp.MustCompile(`_(\d{4})\.csv$`)
	// dxModelName matches model_name of the dx map: "CMS-HCC Model V24", "CMS-HCC ESRD Model
	// V21", "RxHCC Model V08".
	dxModelName = regexp.MustCompile(`(?i)^(CMS-HCC|RxHCC)\s+(ESRD\s+)?Model\s+([VR]\d+)$`)
	// shortModelName matches "ESRD V24", "RxHCC R08", "CMS-HCC V28", "V28", "R08".
	shortModelName = regexp.MustCompile(`(?i)^(?:(CMS-HCC|ESRD|RxHCC)[\s_-]*)?([VR]\d+)$`)
)

// hccName returns the canonical name of a domain and version (RxHCC R08 → "RxHCC V08").
func hccName(domain, version string) (name, dom, ver string) {
	switch strings.ToUpper(domain) {
	case "CMS-HCC", "":
		dom = "CMS-HCC"
	case "ESRD":
		dom = "ESRD"
	case "RXHCC":
		dom = "RxHCC"
	default:
		dom = domain
	}
	ver = strings.ToUpper(version)
	if ver != "" && ver[0] == 'R' {
		ver = "V" + ver[1:]
		if domain == "" {
			dom = "RxHCC"
		}
	}
	return dom + " " + ver, dom, ver
}

// canonicalHCCName maps any accepted spelling of a model name to the canonical one; unknown
// spellings are returned trimmed.
func canonicalHCCName(s string) string {
	s = strings.TrimSpace(s)
	if m := dxModelName.FindStringSubmatch(s); m != nil {
		dom := m[1]
		if m[2] != "" {
			dom = "ESRD"
		}
		n, _, _ := hccName(dom, m[3])
		return n
	}
	if m := shortModelName.FindStringSubmatch(s); m != nil {
		n, _, _ := hccName(m[1], m[2])
		return n
	}
	return s
}

// hccCSV iterates over the records of a CSV file with the given header, calling fn with the
// 1-based line number; errors name the file and the line.
func hccCSV(name string, content []byte, header []string, fn func(line int, rec []string) error) error {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(content, utf8BOM)))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	first := true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		line, _ := r.FieldPos(0)
		if first {
			first = false
			if !equalFold(rec, header) {
				return fmt.Errorf("%s:%d: header %q: want %s", name, line, strings.Join(rec, ","), strings.Join(header, ","))
			}
			continue
		}
		if len(rec) != len(header) {
			return fmt.Errorf("%s:%d: %d fields, want %d (%s)", name, line, len(rec), len(header), strings.Join(header, ","))
		}
		if err := fn(line, rec); err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if first {
		return fmt.Errorf("%s: empty file, want header %s", name, strings.Join(header, ","))
	}
	return nil
}

// HCC file headers.
var (
	hccDxHeader    = []string{"diagnosis_code", "cc", "model_name"}
	hccHierHeader  = []string{"cc_parent", "cc_child", "model_domain", "model_version", "model_fullname"}
	hccLabelHeader = []string{"cc", "label", "model_domain", "model_version", "model_fullname"}
)

func parseHCCNumber(what, s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 9999 {
		return 0, fmt.Errorf("%s %q: want an HCC number", what, s)
	}
	return n, nil
}

func (h *HCCMap) parseDxToCC(name string, content []byte) error {
	codes := map[string]string{} // interned codes shared by the models
	err := hccCSV(name, content, hccDxHeader, func(_ int, rec []string) error {
		code := normalizeCodeBytes([]byte(rec[0]))
		if !validCode(code, 3, 7) {
			return fmt.Errorf("diagnosis_code %q: not an ICD-10-CM code", rec[0])
		}
		cc, err := parseHCCNumber("cc", rec[1])
		if err != nil {
			return err
		}
		mname := strings.TrimSpace(rec[2])
		if mname == "" {
			return errors.New("empty model_name")
		}
		m := h.model(canonicalHCCName(mname), mname)
		key, ok := codes[string(code)]
		if !ok {
			key = string(code)
			codes[key] = key
		}
		hs := m.dx[key]
		if !slices.Contains(hs, cc) {
			hs = append(hs, cc)
			slices.Sort(hs)
			m.dx[key] = hs
		}
		return nil
	})
	if err == nil && len(h.models) == 0 {
		err = fmt.Errorf("%s: no rows", name)
	}
	return err
}

// model returns the model with canonical name n, creating it.
func (h *HCCMap) model(n, raw string) *HCCModel {
	m := h.models[n]
	if m == nil {
		m = &HCCModel{Name: n, dx: map[string][]int{}}
		if sm := shortModelName.FindStringSubmatch(n); sm != nil {
			_, m.Domain, m.Version = hccName(sm[1], sm[2])
		} else {
			m.Domain = raw
		}
		h.models[n] = m
	}
	return m
}

// hccAliases maps the model a hierarchy or label row names to the dx-map model it belongs to
// when the names differ: ra_hierarchies_2025.csv lists the hierarchy of the ESRD V21 model
// as "ESRD,V20" (model_fullname V20H87H1, the HCC classification that model uses), where the
// 2026 file says "ESRD,V21" with the same model_fullname. Used only when the named model has
// no dx map of its own.
var hccAliases = map[string]string{"ESRD V20": "ESRD V21"}

// modelFor returns the model of a hierarchy or label row (model_domain, model_version), or
// nil when the year's dx map has no such model.
func (h *HCCMap) modelFor(domain, version string) *HCCModel {
	n, _, _ := hccName(strings.TrimSpace(domain), strings.TrimSpace(version))
	if m := h.models[n]; m != nil {
		return m
	}
	return h.models[hccAliases[n]]
}

func (h *HCCMap) parseHierarchies(name string, content []byte) error {
	return hccCSV(name, content, hccHierHeader, func(_ int, rec []string) error {
		parent, err := parseHCCNumber("cc_parent", rec[0])
		if err != nil {
			return err
		}
		child, err := parseHCCNumber("cc_child", rec[1])
		if err != nil {
			return err
		}
		m := h.modelFor(rec[2], rec[3])
		if m == nil {
			return nil // a model without a dx map in this year (e.g. V20): nothing to attach to
		}
		if m.hier == nil {
			m.hier = map[int][]int{}
		}
		if !slices.Contains(m.hier[parent], child) {
			m.hier[parent] = append(m.hier[parent], child)
			slices.Sort(m.hier[parent])
		}
		return nil
	})
}

func (h *HCCMap) parseLabels(name string, content []byte) error {
	return hccCSV(name, content, hccLabelHeader, func(_ int, rec []string) error {
		cc := strings.ToUpper(strings.TrimSpace(rec[0]))
		num := strings.TrimLeft(cc, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
		if p := cc[:len(cc)-len(num)]; p != "HCC" && p != "RXHCC" {
			return fmt.Errorf("cc %q: want HCCnnn or RXHCCnnn", rec[0])
		}
		n, err := parseHCCNumber("cc", num)
		if err != nil {
			return err
		}
		m := h.modelFor(rec[2], rec[3])
		if m == nil {
			return nil
		}
		if m.labels == nil {
			m.labels = map[int]string{}
		}
		m.labels[n] = strings.TrimSpace(rec[1])
		return nil
	})
}
