package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/msdrg-cdi/drg/store"
)

// TestCoderDay: a coder finds a discharge on the coding worklist, sees the codes with their
// titles, removes an MCC and sees the DRG delta against the previous result and the baseline,
// adds it back, and finalizes after the checks (the unsupported MCC is a warning to
// acknowledge).
func TestCoderDay(t *testing.T) {
	e := newEnv(t)
	var created struct{ ID string }
	e.apiCall(store.RoleCDI, "POST", "/v1/encounters", map[string]any{"account": "VAL-02", "facility": "MAIN", "payer": "MEDICARE",
		"service_line": "PULMONARY", "admit_date": "2026-05-04", "discharge_date": "2026-05-07", "age": 66, "sex": "F", "discharge_status": 1,
		"pdx": map[string]string{"code": "J189", "poa": "Y"}, "sdx": []map[string]string{{"code": "J9601", "poa": "Y"}},
		"evidence": []map[string]any{{"kind": "vital", "name": "SpO2", "value": 91, "unit": "%", "context": "room air", "time": "2026-05-04T09:10:00Z", "source": "ED triage"}}}, &created)
	e.apiCall(store.RoleCDI, "POST", "/v1/encounters/"+created.ID+"/group", nil, nil)
	// a coder signing in on the CDI worklist is sent to the coding worklist
	e.signIn(store.RoleCoder)
	e.run(chromedp.Navigate(e.URL+"/ui/#/worklist"), chromedp.WaitVisible(chromedp.Search(`//a[text()="VAL-02"]`)))
	if txt := e.text("main table"); !strings.Contains(txt, "193") || !strings.Contains(txt, "2026-05-07") {
		t.Errorf("worklist row %q", txt)
	}
	e.screenshot("60-coding-worklist")
	e.run(chromedp.Navigate(e.URL+"/ui/#/coding?service_line=CARDIOLOGY"), chromedp.WaitVisible(chromedp.ID("cw-total")))
	if txt := e.text("#cw-total"); !strings.HasPrefix(txt, "0 ") {
		t.Errorf("service line filter: %q", txt)
	}
	e.run(chromedp.Navigate(e.URL+"/ui/#/coding?service_line=PULMONARY"), chromedp.WaitVisible(chromedp.Search(`//a[text()="VAL-02"]`)),
		chromedp.Click(chromedp.Search(`//a[text()="VAL-02"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#codes .code-title[data-code="J189"]`)),
		chromedp.WaitNotPresent(chromedp.Search(`//*[@id="codes"]//span[@class="code-title" and text()="…"]`)))
	if txt := e.text(`#codes .code-title[data-code="J189"]`); !strings.Contains(strings.ToLower(txt), "pneumonia") {
		t.Errorf("PDX title %q", txt)
	}
	if txt := e.text(`#codes .code-title[data-code="J9601"]`); !strings.Contains(strings.ToLower(txt), "respiratory failure") || !strings.Contains(txt, "MCC") {
		t.Errorf("SDX title %q", txt)
	}
	// Remove the MCC: DRG 193 → 195 against the previous result and the baseline.
	e.run(chromedp.Click(chromedp.CSS(`#codes button.code-remove`)), chromedp.WaitVisible(chromedp.Search(`//*[@id="working-drg" and text()="DRG 195"]`)))
	w := e.text("#whatif")
	if !strings.Contains(w, "Since the last change: DRG 193 → 195") || !strings.Contains(w, "Against the baseline: DRG 193 → 195") || !strings.Contains(w, "Δ −") {
		t.Errorf("what-if after removal %q", w)
	}
	e.screenshot("61-what-if")
	// Add it back: 195 → 193 since the last change, unchanged against the baseline.
	e.run(e.setText("code-add", "J96.01"), chromedp.Click(chromedp.ID("code-add-btn")),
		chromedp.WaitVisible(chromedp.Search(`//*[@id="working-drg" and text()="DRG 193"]`)))
	w = e.text("#whatif")
	if !strings.Contains(w, "Since the last change: DRG 195 → 193") || !strings.Contains(w, "Against the baseline: DRG 193 unchanged") {
		t.Errorf("what-if after adding back %q", w)
	}
	// Finalize shows its checks first; the unsupported MCC must be acknowledged.
	e.run(chromedp.Click(chromedp.ID("finalize-btn")), chromedp.WaitVisible(chromedp.ID("finalize-confirm")))
	checks := e.text("#finalize")
	if !strings.Contains(checks, "Medicare Code Editor") || !strings.Contains(checks, "clinical validation") || !strings.Contains(checks, "J9601") ||
		!strings.Contains(checks, "Final DRG would be 193") {
		t.Errorf("checks %q", checks)
	}
	disabled, err := chromedp.Run(e.ctx, chromedp.Evaluate[bool](`document.getElementById("finalize-confirm").disabled`))
	if err != nil || !disabled {
		t.Errorf("finalize enabled before the warnings were acknowledged (%v)", err)
	}
	e.screenshot("62-finalize-checks")
	e.run(chromedp.Click(chromedp.ID("finalize-ack")), chromedp.Click(chromedp.ID("finalize-confirm")),
		chromedp.WaitVisible(chromedp.Search(`//*[@id="final-drg" and text()="DRG 193"]`)))
	e.screenshot("63-finalized")
	var enc struct{ Status string }
	e.apiCall(store.RoleCoder, "GET", "/v1/encounters/"+created.ID, nil, &enc)
	if enc.Status != "final" {
		t.Errorf("status %q", enc.Status)
	}
	e.run(chromedp.Navigate(e.URL+"/ui/#/coding"), chromedp.WaitVisible(chromedp.ID("cw-total")))
	if txt := e.text("#cw-total"); !strings.HasPrefix(txt, "0 ") {
		t.Errorf("finalized discharge still on the worklist: %q", txt)
	}
}
