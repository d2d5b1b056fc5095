package cdi

import (
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// TestCultureReadings reads culture reports as a microbiologist does: counts per specimen,
// colonisation, contaminants, a skin commensal in one or two blood culture sets.
func TestCultureReadings(t *testing.T) {
	t0 := time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name, specimen, report string
		also                   []string // other blood culture reports drawn with it
		want                   string
	}{
		{"urine culture", "urine", "<10,000 CFU/mL", nil, CultureInsignificant},
		{"urine culture", "urine", "ESCHERICHIA COLI. 10,000-100,000 ORGANISMS/ML.", nil, CultureInsignificant},
		{"urine culture", "urine", "ESCHERICHIA COLI. >100,000 ORGANISMS/ML.", nil, CultureSignificant},
		{"urine culture", "urine", "Klebsiella pneumoniae 10^5 CFU/mL", nil, CultureSignificant},
		{"urine culture", "urine", "Klebsiella pneumoniae 50K CFU/mL", nil, CultureInsignificant},
		{"urine culture", "urine", "Escherichia coli", nil, CultureSignificant},
		{"urine culture", "urine", "YEAST. >100,000 ORGANISMS/ML.", nil, CultureColonization},
		{"urine culture", "urine", "MIXED BACTERIAL FLORA ( >= 3 COLONY TYPES), CONSISTENT WITH SKIN AND/OR GENITAL CONTAMINATION", nil, CultureContaminant},
		{"urine culture", "urine", "NO GROWTH", nil, CultureNoGrowth},
		{"urine culture", "urine", "insignificant growth", nil, CultureInsignificant},
		{"blood culture", "blood", "STAPHYLOCOCCUS, COAGULASE NEGATIVE", []string{"NO GROWTH"}, CultureContaminant},
		{"blood culture", "blood", "STAPHYLOCOCCUS, COAGULASE NEGATIVE", []string{"STAPHYLOCOCCUS, COAGULASE NEGATIVE"}, CultureSignificant},
		{"blood culture", "blood", "STAPH AUREUS COAG +", nil, CultureSignificant},
		{"blood culture", "blood", "Candida albicans", nil, CultureSignificant},
		{"blood culture", "blood", "GRAM NEGATIVE RODS", nil, CultureSignificant},
		{"blood culture", "blood", "pending", nil, CulturePending},
		{"blood culture", "blood", "No growth to date", nil, CultureNoGrowth},
		{"sputum culture", "respiratory", "Normal respiratory flora", nil, CultureContaminant},
		{"sputum culture", "respiratory", "Pseudomonas aeruginosa, heavy growth", nil, CultureSignificant},
		{"sputum culture", "respiratory", "Rare yeast", nil, CultureColonization},
		{"URINE CULTURE - ESCHERICHIA COLI", "urine", ">100,000", nil, CultureSignificant},
		{"URINE CULTURE - ESCHERICHIA COLI", "urine", "10,000-50,000", nil, CultureInsignificant},
		{"URINE CULTURE - YEAST", "urine", ">100,000", nil, CultureColonization},
		{"Blood culture", "blood", "ESCHERICHIA COLI (2 of 2 sets)", nil, CultureSignificant},
	} {
		enc := &claim.Encounter{Evidence: []claim.Evidence{{Kind: claim.KindLab, Name: c.name, Specimen: c.specimen, Value: claim.Text(c.report), Time: t0}}}
		for i, a := range c.also {
			enc.Evidence = append(enc.Evidence, claim.Evidence{Kind: claim.KindLab, Name: c.name, Specimen: c.specimen, Value: claim.Text(a),
				Time: t0.Add(time.Duration(i+1) * 10 * time.Minute)})
		}
		fs := readFacts(enc, &claim.Claim{}, DefaultRules(), func(s string) string { return s })
		if got := fs.items[0].culture; got != c.want {
			t.Errorf("%s %q (with %q): read %q, want %q", c.name, c.report, c.also, got, c.want)
		}
	}
}
