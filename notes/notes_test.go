package notes

import (
	"strings"
	"testing"
)

func reader(t testing.TB) *Reader {
	t.Helper()
	rd, err := DefaultReader()
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

// sectionOf returns the section name of the sentence holding the first occurrence of s.
func sectionOf(t *testing.T, d *Document, s string) string {
	t.Helper()
	i := strings.Index(d.Note.Text, s)
	if i < 0 {
		t.Fatalf("%q not in the note", s)
	}
	for k := range d.Sentences {
		if d.Sentences[k].Start <= i && i < d.Sentences[k].End {
			return d.SectionOf(&d.Sentences[k])
		}
	}
	t.Fatalf("%q in no sentence", s)
	return ""
}

func TestSections(t *testing.T) {
	rd := reader(t)
	tests := []struct {
		name, text string
		want       map[string]string // words → section
	}{
		{"all caps run together", "REASON FOR ADMISSION:  Cholecystitis.\n\nDISCHARGE DIAGNOSES:  Cholecystitis, choledocholithiasis.  HOSPITAL COURSE:  The patient did well.",
			map[string]string{"Cholecystitis.": "reason for admission", "choledocholithiasis": "discharge diagnoses", "did well": "hospital course"}},
		{"abbreviated headings", "CC: SOB\nHPI: 78F w/ h/o HTN\nPMH: HTN, afib\nFHx: brother w/ CAD\nA/P:\n1. CHF exacerbation - IV furosemide\n2. HTN",
			map[string]string{"SOB": "chief complaint", "78F": "history of present illness", "afib": "past medical history", "brother": "family history",
				"CHF exacerbation": "assessment and plan", "2. HTN": "assessment and plan"}},
		{"numbered heading and title case", "1. Past Medical History: diabetes\nHospital Course: uneventful\nFinal Diagnoses:\n1. Pneumonia",
			map[string]string{"diabetes": "past medical history", "uneventful": "hospital course", "Pneumonia": "discharge diagnoses"}},
		{"organ heading inside the assessment stays there", "Assessment and Plan:\n1. Pulm: COPD exacerbation\nSkin: no breakdown",
			map[string]string{"COPD": "assessment and plan", "no breakdown": "assessment and plan"}},
		{"heading alone on a line", "DISCHARGE MEDICATIONS\nmetoprolol 25 mg daily\nFOLLOW UP\nclinic in 1 week",
			map[string]string{"metoprolol": "discharge medications", "clinic": "discharge instructions"}},
		{"text before any heading", "Pt resting comfortably.\nLabs: Cr 1.0",
			map[string]string{"resting": "", "Cr 1.0": "labs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := rd.Read(Note{ID: "n", Text: tt.text})
			for w, want := range tt.want {
				if got := sectionOf(t, d, w); got != want {
					t.Errorf("%q: section %q, want %q", w, got, want)
				}
			}
		})
	}
}

func TestSentences(t *testing.T) {
	rd := reader(t)
	text := "She was given iron 325 mg p.o. t.i.d. and Lortab.  Bilirubin was 2.1.  Next morning she ate.\n1. Pneumonia\n2. Hypertension; stable"
	d := rd.Read(Note{Text: text})
	var got []string
	for _, s := range d.Sentences {
		got = append(got, text[s.Start:s.End])
	}
	want := []string{"She was given iron 325 mg p.o. t.i.d. and Lortab.", "Bilirubin was 2.1.", "Next morning she ate.", "1. Pneumonia", "2. Hypertension; stable"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("sentences\n got %q\nwant %q", got, want)
	}
	if !d.Sentences[3].ListItem || d.Sentences[0].ListItem {
		t.Errorf("list items wrong: %+v", d.Sentences)
	}
}

func TestTokensKeepByteOffsets(t *testing.T) {
	rd := reader(t)
	text := "Pt w/ h/o CHF — Alzheimer’s dementia, café au lait; s/p CABG"
	d := rd.Read(Note{Text: text})
	var norms []string
	for _, tk := range d.Tokens {
		norms = append(norms, tk.Norm)
		if tk.Start < 0 || tk.End > len(text) || tk.Start >= tk.End {
			t.Fatalf("token %+v outside the text", tk)
		}
	}
	joined := strings.Join(norms, " ")
	for _, want := range []string{"with history of congestive heart failure", "alzheimer dementia", "café", "status post coronary artery bypass graft"} {
		if !strings.Contains(joined, want) {
			t.Errorf("normalized tokens %q lack %q", joined, want)
		}
	}
}

func TestAssertions(t *testing.T) {
	rd := reader(t)
	m := rd.NewMatcher()
	for _, term := range []string{"pneumonia", "pulmonary embolism", "myocardial infarction", "heart failure", "diabetes mellitus", "colon cancer", "fever", "sepsis", "deep vein thrombosis", "acute coronary syndrome"} {
		m.Add(term, term)
	}
	tests := []struct {
		text, concept string
		want          Assertion
	}{
		{"Chest CT showed no evidence of pulmonary embolism.", "pulmonary embolism", Negated},
		{"Patient denies fever or chills.", "fever", Negated},
		{"Pneumonia was ruled out.", "pneumonia", RuledOut},
		{"r/o ACS - trop flat x2, ACS excluded.", "acute coronary syndrome", Uncertain},
		{"Probable pneumonia, treated with ceftriaxone.", "pneumonia", Uncertain},
		{"Concern for sepsis on arrival.", "sepsis", Uncertain},
		{"History of DVT in 2019, completed anticoagulation.", "deep vein thrombosis", Historical},
		{"Mother with colon cancer.", "colon cancer", Family},
		{"Return to the ED if fever recurs.", "fever", Hypothetical},
		{"Monitor for signs of heart failure.", "heart failure", Hypothetical},
		{"Community-acquired pneumonia, improving on antibiotics.", "pneumonia", Present},
		{"No fever, but pneumonia on chest x-ray.", "pneumonia", Present},
		{"Type 2 diabetes mellitus, on metformin.", "diabetes mellitus", Present},
		{"Possible myocardial infarction was ruled out by serial troponins.", "myocardial infarction", RuledOut},
		{"Patient is in no acute distress; heart failure compensated.", "heart failure", Present},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			d := rd.Read(Note{Text: tt.text})
			ms := d.Find(m)
			for _, x := range ms {
				if x.Concept == tt.concept {
					if x.Assertion != tt.want {
						t.Errorf("%s: %s (trigger %q), want %s", tt.concept, x.Assertion, x.Trigger, tt.want)
					}
					if d.Note.Text[x.Start:x.End] != x.Text {
						t.Errorf("span %d:%d is %q, not %q", x.Start, x.End, d.Note.Text[x.Start:x.End], x.Text)
					}
					return
				}
			}
			t.Fatalf("%s not found in %q (found %+v)", tt.concept, tt.text, ms)
		})
	}
}

func TestFamilySectionDefault(t *testing.T) {
	rd := reader(t)
	m := rd.NewMatcher()
	m.Add("cad", "coronary artery disease")
	d := rd.Read(Note{Text: "FAMILY HISTORY: Coronary artery disease.\nPMH: CAD"})
	ms := d.Find(m)
	if len(ms) != 2 || ms[0].Assertion != Family || ms[1].Assertion != Present {
		t.Fatalf("mentions %+v: want family then present", ms)
	}
	if ms[1].Text != "CAD" {
		t.Errorf("abbreviation span %q, want CAD", ms[1].Text)
	}
}

func TestFindings(t *testing.T) {
	rd := reader(t)
	tests := []struct {
		text      string
		name      string
		lo, hi    float64
		wantMatch string
	}{
		{"LV: normal size. LVEF 60-65% by biplane.", "lvef", 60, 65, "LVEF 60-65%"},
		{"Echo: ejection fraction of 25 %.", "lvef", 25, 25, "ejection fraction of 25 %"},
		{"EF 35%", "lvef", 35, 35, "EF 35%"},
		{"eGFR 22-26 over the last year", "egfr", 22, 26, "eGFR 22-26"},
		{"Creatinine 1.8 -> 0.9 at discharge", "creatinine", 1.8, 0.9, "Creatinine 1.8 -> 0.9"},
		{"Morbid obesity with bmi of 39.4.", "bmi", 39.4, 39.4, "bmi of 39.4"},
		{"Stage 3 sacral pressure injury", "pressure_ulcer_stage", 3, 3, "Stage 3 sacral"},
		{"G2P1 at 39 weeks gestation in labor", "gestational_weeks", 39, 39, "39 weeks gestation"},
		{"She remained intubated for 5 days.", "ventilation_days", 5, 5, "intubated for 5 days"},
	}
	for _, tt := range tests {
		d := rd.Read(Note{Text: tt.text})
		found := false
		for _, f := range d.Findings {
			if f.Name == tt.name {
				found = true
				if f.Value != tt.lo || f.High != tt.hi || f.Text != tt.wantMatch || tt.text[f.Start:f.End] != f.Text {
					t.Errorf("%q: %+v, want %v-%v %q", tt.text, f, tt.lo, tt.hi, tt.wantMatch)
				}
			}
		}
		if !found {
			t.Errorf("%q: no %s finding in %+v", tt.text, tt.name, d.Findings)
		}
	}
}

func TestRulesErrorsNameTheEntry(t *testing.T) {
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	r.Context.Triggers = append(r.Context.Triggers, TriggerRule{Phrase: "maybe", Category: "perhaps", Direction: "forward"})
	if _, err := NewReader(r); err == nil || !strings.Contains(err.Error(), "maybe") {
		t.Errorf("bad category: err %v, want one naming the trigger", err)
	}
}

func FuzzRead(f *testing.F) {
	rd := reader(f)
	m := rd.NewMatcher()
	m.Add("x", "heart failure")
	f.Add("HPI: no heart failure.\nA/P:\n1. CHF")
	f.Add("\xff\xfe LVEF 25-30% ::: \n\n")
	f.Fuzz(func(t *testing.T, s string) {
		d := rd.Read(Note{Text: s})
		for _, x := range d.Find(m) {
			if s[x.Start:x.End] != x.Text {
				t.Fatalf("span %d:%d", x.Start, x.End)
			}
		}
	})
}

// TestRunOnTextIsCut: text without punctuation for pages is read in bounded sentences, so that
// ConText's work per mention stays bounded; every sentence keeps exact offsets.
func TestRunOnTextIsCut(t *testing.T) {
	rd := reader(t)
	text := strings.Repeat("no pneumonia with sepsis and heart failure é ", 5000)
	d := rd.Read(Note{Text: text})
	if len(d.Sentences) < len(text)/maxSentence {
		t.Fatalf("%d sentences for %d bytes", len(d.Sentences), len(text))
	}
	for _, s := range d.Sentences {
		if s.End-s.Start > maxSentence {
			t.Fatalf("sentence of %d bytes", s.End-s.Start)
		}
	}
	m := rd.NewMatcher()
	m.Add("pna", "pneumonia")
	for _, x := range d.Find(m) {
		first := x.TokStart == d.Sentences[x.Sentence].TokStart // "no" left in the sentence before the cut
		if text[x.Start:x.End] != x.Text || x.Assertion != Negated && !first {
			t.Fatalf("mention %+v", x)
		}
	}
}
