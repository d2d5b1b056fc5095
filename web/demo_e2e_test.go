package web_test

import (
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/msdrg-cdi/drg/internal/demo"
	"github.com/msdrg-cdi/drg/store"
)

// TestCoderOnDemoFacility: on a drg demo database a coder finds a discharge on the coding
// worklist, adds a code and sees the DRG delta, and finalizes after the checks (acknowledging
// warnings, giving a reason over blocking items); a CDI specialist finds the demo's open CDI
// work and its queries on the CDI worklist.
func TestCoderOnDemoFacility(t *testing.T) {
	e := newEnv(t)
	u, _ := url.Parse(e.URL)
	counts, err := demo.Load(httputil.NewSingleHostReverseProxy(u), e.tokens, demo.Options{Discharges: 20, InHouse: 3, Seed: 1,
		End: time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if counts.ByStatus["discharged"] == 0 || counts.ByStatus["final"] == 0 || counts.ByStatus["open"] != 3 {
		t.Fatalf("demo counts %+v", counts)
	}
	e.restartClock()
	e.signIn(store.RoleCoder)
	e.run(chromedp.Navigate(e.URL+"/ui/#/coding"), chromedp.WaitVisible(chromedp.CSS(`main table a[href^="#/encounters/"]`)))
	if txt := e.text("#cw-total"); strings.HasPrefix(txt, "0 ") {
		t.Fatalf("empty coding worklist on the demo facility: %q", txt)
	}
	e.screenshot("70-demo-coding-worklist")
	e.run(chromedp.Click(chromedp.CSS(`main table a[href^="#/encounters/"]`)), chromedp.WaitVisible(chromedp.ID("code-add")))
	before := e.text("#working-drg")
	e.run(e.setText("code-add", "E87.1"), chromedp.Click(chromedp.ID("code-add-btn")),
		chromedp.WaitVisible(chromedp.CSS(`#whatif .whatif-line`)))
	w := e.text("#whatif")
	if !strings.Contains(w, "Since the last change: "+strings.TrimPrefix(before, "DRG ")) && !strings.Contains(w, "Since the last change: "+before) {
		t.Errorf("what-if %q does not start from %q", w, before)
	}
	if !strings.Contains(w, "Against the baseline") || !strings.Contains(w, "weight") || !strings.Contains(w, "Δ") {
		t.Errorf("what-if %q", w)
	}
	e.screenshot("71-demo-what-if")
	e.run(chromedp.Click(chromedp.ID("finalize-btn")), chromedp.WaitVisible(chromedp.ID("finalize-confirm")))
	if txt := e.text("#finalize"); !strings.Contains(txt, "Checks run") {
		t.Errorf("checks %q", txt)
	}
	has := func(id string) bool {
		ok, _ := chromedp.Run(e.ctx, chromedp.Evaluate[bool](`!!document.getElementById("`+id+`")`))
		return ok
	}
	if has("finalize-reason") {
		e.run(e.setText("finalize-reason", "coding manager approved: documented in the chart"))
	}
	if has("finalize-ack") {
		e.run(chromedp.Click(chromedp.ID("finalize-ack")))
	}
	e.screenshot("72-demo-finalize-checks")
	e.run(chromedp.Click(chromedp.ID("finalize-confirm")), chromedp.WaitVisible(chromedp.CSS(`#final-drg`)))
	e.screenshot("73-demo-finalized")

	e.run(chromedp.Click(chromedp.CSS("#who button")), chromedp.WaitVisible(chromedp.ID("token")))
	e.signIn(store.RoleCDI)
	e.run(chromedp.Navigate(e.URL+"/ui/#/worklist"), chromedp.WaitVisible(chromedp.CSS(`main table a[href^="#/encounters/"]`)))
	if txt := e.text("main table"); !strings.Contains(txt, "DEMO-") {
		t.Errorf("CDI worklist on the demo facility %q", txt)
	}
}
