package tables

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

func loadRealHCC(t *testing.T, year int) *HCCMap {
	t.Helper()
	dir := filepath.Join(sharedCMS(t), "hcc")
	f := func(kind string, y int) string { return filepath.Join(dir, fmt.Sprintf("ra_%s_%d.csv", kind, y)) }
	h, err := LoadHCC(year, f("dx_to_cc", year), f("hierarchies", year), f("labels", 2026))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestLoadHCCReal(t *testing.T) {
	h := loadRealHCC(t, 2026)
	if h.Year != 2026 || h.LabelsYear != 2026 || !h.Hierarchies {
		t.Fatalf("Year %d LabelsYear %d Hierarchies %v", h.Year, h.LabelsYear, h.Hierarchies)
	}
	wantModels := []string{"CMS-HCC V22", "CMS-HCC V24", "CMS-HCC V28", "ESRD V21", "ESRD V24", "RxHCC V05", "RxHCC V08"}
	if got := h.ModelNames(); !slices.Equal(got, wantModels) {
		t.Fatalf("ModelNames = %v, want %v", got, wantModels)
	}
	tests := []struct {
		model string // any accepted spelling
		canon string
		code  string
		want  []int
		label string // label of want[0]
	}{
		{"V28", "CMS-HCC V28", "E1122", []int{37}, "Diabetes with Chronic Complications"},
		{"CMS-HCC Model V28", "CMS-HCC V28", "E11.22", []int{37}, "Diabetes with Chronic Complications"},
		{"v24", "CMS-HCC V24", "E1122", []int{18}, "Diabetes with Chronic Complications"},
		{"CMS-HCC V24", "CMS-HCC V24", "I5023", []int{85}, "Congestive Heart Failure"},
		{"CMS-HCC ESRD Model V21", "ESRD V21", "E1122", []int{18, 139}, "Diabetes with Chronic Complications"},
		{"RxHCC R08", "RxHCC V08", "E1122", []int{30}, ""},
		{"V28", "CMS-HCC V28", "Z0000", nil, ""},
	}
	for _, tt := range tests {
		m, ok := h.Model(tt.model)
		if !ok {
			t.Errorf("Model(%q) not found", tt.model)
			continue
		}
		if m.Name != tt.canon {
			t.Errorf("Model(%q).Name = %q, want %q", tt.model, m.Name, tt.canon)
		}
		got := m.HCCs(tt.code)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s HCCs(%s) = %v, want %v", tt.canon, tt.code, got, tt.want)
		}
		if tt.label != "" {
			if l, ok := m.Label(tt.want[0]); !ok || l != tt.label {
				t.Errorf("%s Label(%d) = %q, %v; want %q", tt.canon, tt.want[0], l, ok, tt.label)
			}
		}
	}
	v28, _ := h.Model("V28")
	if v28.Len() != 7903 || v28.Domain != "CMS-HCC" || v28.Version != "V28" {
		t.Errorf("V28: %d codes, domain %q version %q", v28.Len(), v28.Domain, v28.Version)
	}
	// V28 hierarchy: HCC 35 and 36 drop 37 (ra_hierarchies_2026.csv).
	if ex := v28.Excludes(36); !slices.Contains(ex, 37) {
		t.Errorf("V28 Excludes(36) = %v, want it to contain 37", ex)
	}
	if len(v28.HCCList()) != 115 || v28.LabelsLen() != 115 {
		t.Errorf("V28: %d HCCs, %d labels; want 115, 115", len(v28.HCCList()), v28.LabelsLen())
	}
	if _, ok := h.Model("V99"); ok {
		t.Error("Model(V99) found")
	}
}

func TestLoadHCC2025UsesAliasAndOtherYearLabels(t *testing.T) {
	h := loadRealHCC(t, 2025)
	if h.LabelsYear != 2026 {
		t.Errorf("LabelsYear = %d, want 2026", h.LabelsYear)
	}
	if _, ok := h.Model("RxHCC V05"); ok {
		t.Error("2025 has no RxHCC V05 model")
	}
	esrd, ok := h.Model("ESRD V21")
	if !ok || esrd.HierarchyLen() != 87 {
		t.Fatalf("ESRD V21 hierarchy rows: %v (listed as ESRD,V20 in the 2025 file), want 87", esrd)
	}
}

func TestLoadHCCMalformed(t *testing.T) {
	dxHeader := "diagnosis_code,cc,model_name\n"
	tests := []struct {
		name    string
		dx      string
		hier    string
		labels  string
		wantErr string
	}{
		{name: "bad header", dx: "code,cc,model\nE1122,37,CMS-HCC Model V28\n", wantErr: `ra_dx_to_cc_2026.csv:1: header "code,cc,model"`},
		{name: "bad cc", dx: dxHeader + "E1122,37,CMS-HCC Model V28\nE1121,x,CMS-HCC Model V28\n", wantErr: `ra_dx_to_cc_2026.csv:3: cc "x"`},
		{name: "bad code", dx: dxHeader + "E1!22,37,CMS-HCC Model V28\n", wantErr: `ra_dx_to_cc_2026.csv:2: diagnosis_code "E1!22"`},
		{name: "field count", dx: dxHeader + "E1122,37\n", wantErr: "ra_dx_to_cc_2026.csv:2: 2 fields, want 3"},
		{name: "empty model", dx: dxHeader + "E1122,37,\n", wantErr: "ra_dx_to_cc_2026.csv:2: empty model_name"},
		{name: "no rows", dx: dxHeader, wantErr: "ra_dx_to_cc_2026.csv: no rows"},
		{name: "bad hierarchy", dx: dxHeader + "E1122,37,CMS-HCC Model V28\n",
			hier: "cc_parent,cc_child,model_domain,model_version,model_fullname\n35,37,CMS-HCC,V28,V28115H1\n36,,CMS-HCC,V28,V28115H1\n", wantErr: `ra_hierarchies_2026.csv:3: cc_child ""`},
		{name: "bad label", dx: dxHeader + "E1122,37,CMS-HCC Model V28\n",
			labels: "cc,label,model_domain,model_version,model_fullname\nCC37,Diabetes,CMS-HCC,V28,V28115L3\n", wantErr: `ra_labels_2026.csv:2: cc "CC37"`},
		{name: "ok", dx: dxHeader + "E1122,37,CMS-HCC Model V28\nE1122,37,CMS-HCC Model V28\n",
			hier:   "cc_parent,cc_child,model_domain,model_version,model_fullname\n36,37,CMS-HCC,V28,V28115H1\n",
			labels: "cc,label,model_domain,model_version,model_fullname\nHCC37,\"Diabetes, chronic\",CMS-HCC,V28,V28115L3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dx := writeFile(t, dir, "ra_dx_to_cc_2026.csv", []byte(tt.dx))
			var hier, labels string
			if tt.hier != "" {
				hier = writeFile(t, dir, "ra_hierarchies_2026.csv", []byte(tt.hier))
			}
			if tt.labels != "" {
				labels = writeFile(t, dir, "ra_labels_2026.csv", []byte(tt.labels))
			}
			h, err := LoadHCC(2026, dx, hier, labels)
			if tt.wantErr != "" {
				wantError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m, _ := h.Model("V28")
			if !slices.Equal(m.HCCs("E1122"), []int{37}) || !slices.Equal(m.Excludes(36), []int{37}) {
				t.Errorf("HCCs %v Excludes %v", m.HCCs("E1122"), m.Excludes(36))
			}
			if l, _ := m.Label(37); l != "Diabetes, chronic" {
				t.Errorf("Label(37) = %q", l)
			}
		})
	}
}
