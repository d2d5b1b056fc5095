package cac

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

//go:embed families/families.json
var familiesJSON []byte

// Family is the code family of a code for reporting: its ICD-10-CM chapter (or ICD-10-PCS
// section) and its 3-character category.
type Family struct {
	// Chapter is "ICD-10-CM 9" or "ICD-10-PCS 0" ("" when the code falls in none).
	Chapter      string `json:"chapter"`
	ChapterTitle string `json:"chapter_title,omitempty"`
	// Category is the first three characters of the code.
	Category string `json:"category"`
}

type familyTable struct {
	Chapters []struct {
		Chapter, First, Last, Title string
	} `json:"icd10cm_chapters"`
	Sections map[string]string `json:"icd10pcs_sections"`
}

var families = sync.OnceValues(func() (*familyTable, error) {
	var t familyTable
	if err := json.Unmarshal(familiesJSON, &t); err != nil {
		return nil, fmt.Errorf("cac: families/families.json: %w", err)
	}
	return &t, nil
})

// FamilyOf returns the family of a diagnosis code (procedure false: its ICD-10-CM chapter
// by category range) or of a procedure code (its ICD-10-PCS section), from the embedded
// families/families.json.
func FamilyOf(code string, procedure bool) (Family, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	t, err := families()
	if err != nil {
		return Family{}, err
	}
	f := Family{Category: code}
	if len(code) > 3 {
		f.Category = code[:3]
	}
	if code == "" {
		return f, nil
	}
	if procedure {
		if title, ok := t.Sections[code[:1]]; ok {
			f.Chapter, f.ChapterTitle = "ICD-10-PCS "+code[:1], title
		}
		return f, nil
	}
	for _, c := range t.Chapters {
		if f.Category >= c.First && f.Category <= c.Last {
			f.Chapter, f.ChapterTitle = "ICD-10-CM "+c.Chapter, c.Title
			break
		}
	}
	return f, nil
}
