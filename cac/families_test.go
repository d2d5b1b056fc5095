package cac

import "testing"

func TestFamilyOf(t *testing.T) {
	tests := []struct {
		code      string
		procedure bool
		chapter   string
		category  string
	}{
		{"I5033", false, "ICD-10-CM 9", "I50"},
		{"D509", false, "ICD-10-CM 3", "D50"},  // D50-D89 blood, not neoplasms
		{"D481", false, "ICD-10-CM 2", "D48"},  // D00-D49 neoplasms
		{"H6690", false, "ICD-10-CM 8", "H66"}, // ear, not eye
		{"O9A211", false, "ICD-10-CM 15", "O9A"},
		{"T82855A", false, "ICD-10-CM 19", "T82"},
		{"U071", false, "ICD-10-CM 22", "U07"},
		{"Z7901", false, "ICD-10-CM 21", "Z79"},
		{"5A1955Z", true, "ICD-10-PCS 5", "5A1"},
		{"02703DZ", true, "ICD-10-PCS 0", "027"},
		{"XW033E5", true, "ICD-10-PCS X", "XW0"},
	}
	for _, tt := range tests {
		f, err := FamilyOf(tt.code, tt.procedure)
		if err != nil {
			t.Fatal(err)
		}
		if f.Chapter != tt.chapter || f.Category != tt.category || f.ChapterTitle == "" {
			t.Errorf("%s: %+v, want %s %s", tt.code, f, tt.chapter, tt.category)
		}
	}
}
