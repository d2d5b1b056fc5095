package cacsvc

import (
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/notes"
)

// dischargeSummary5K is a written discharge summary of about 5 KB in the manner of a
// dictated transcription.
func dischargeSummary5K() string {
	base := `DISCHARGE SUMMARY

ADMISSION DATE:  05/03/2026
DISCHARGE DATE:  05/08/2026

REASON FOR ADMISSION:  Shortness of breath and leg swelling.

DISCHARGE DIAGNOSES:
1.  Acute on chronic diastolic congestive heart failure.
2.  Hypertension.
3.  Persistent atrial fibrillation, on chronic warfarin.
4.  Type 2 diabetes mellitus with stage 3b chronic kidney disease.
5.  Class 2 obesity, BMI 36.1.

HISTORY OF PRESENT ILLNESS:  The patient is a 78-year-old woman with a history of hypertension, chronic atrial fibrillation on warfarin, diabetes and chronic kidney disease who presented with one week of progressive dyspnea on exertion, three-pillow orthopnea and bilateral leg swelling.  She denies chest pain, fever or cough.  There is no history of pulmonary embolism.

PAST MEDICAL HISTORY:  Hypertension, atrial fibrillation, type 2 diabetes, chronic kidney disease stage 3b, obesity, hypothyroidism, remote history of deep vein thrombosis.

MEDICATIONS:  Warfarin 5 mg daily, metoprolol succinate 100 mg daily, furosemide 20 mg daily, amlodipine 5 mg daily, metformin 500 mg twice daily, levothyroxine 50 mcg daily.

FAMILY HISTORY:  Brother with coronary artery disease and myocardial infarction at 60.

SOCIAL HISTORY:  Former smoker, quit in 2009.  No alcohol use.

HOSPITAL COURSE:  The patient was admitted to telemetry and diuresed with intravenous furosemide 40 mg twice daily with a net negative balance of 5.3 liters.  Transthoracic echocardiogram showed LVEF 60-65% with mild concentric left ventricular hypertrophy and a severely dilated left atrium.  Troponin was flat and acute coronary syndrome was ruled out.  Her atrial fibrillation remained rate controlled on metoprolol and her INR was therapeutic throughout.  Creatinine 1.6 on admission and 1.5 at discharge, at her baseline; eGFR 35.  Blood glucose was controlled on a sliding scale and metformin was resumed at discharge.  She was seen by physical therapy and cleared for home.

DISCHARGE MEDICATIONS:  Torsemide 20 mg daily, metoprolol succinate 100 mg daily, amlodipine 5 mg daily, warfarin 5 mg daily, metformin 500 mg twice daily, levothyroxine 50 mcg daily.

FOLLOWUP:  Cardiology in one week.  Return if weight gain more than 2 pounds per day or worsening shortness of breath.
`
	var b strings.Builder
	for b.Len() < 5000 {
		b.WriteString(base)
	}
	return b.String()[:5120]
}

// BenchmarkCodeDischargeSummary: one 5 KB discharge summary read and coded in-process (the
// engine built once, as the service holds it). Target: < 5 ms median.
func BenchmarkCodeDischargeSummary(b *testing.B) {
	svc := service(b)
	e, _, err := svc.Engine(2026)
	if err != nil {
		b.Fatal(err)
	}
	ns := []notes.Note{{ID: "ds", Type: "discharge summary", AuthorRole: "physician", Text: dischargeSummary5K()}}
	b.SetBytes(int64(len(ns[0].Text)))
	b.ReportAllocs()
	for b.Loop() {
		r := e.Code(ns)
		if r.PDX == nil {
			b.Fatal("no principal diagnosis")
		}
	}
}
