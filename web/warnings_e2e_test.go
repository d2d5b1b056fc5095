package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/msdrg-cdi/drg/store"
)

// TestGroupingWarnings: the workbench shows the grouping's warnings above the codes — here a
// principal diagnosis deleted since its code year, with its possible replacements.
func TestGroupingWarnings(t *testing.T) {
	e := newEnv(t)
	e.signIn(store.RoleCoder)
	e.run(groupInWorkbench(e, "2026-05-01", "T81.32XA")...)
	e.run(chromedp.WaitVisible(chromedp.ID("grouping-warnings")))
	if got := e.text("#final-drg"); got != "DRG 999" {
		t.Errorf("final DRG %q, want DRG 999", got)
	}
	if w := e.text("#grouping-warnings"); !strings.Contains(w, "T8132XA is not a valid ICD-10-CM code in grouper version 43.1") || !strings.Contains(w, "T81320A") {
		t.Errorf("warnings %q", w)
	}
	e.screenshot("04-group-deleted-code")
}

// groupInWorkbench opens the grouping workbench, enters a discharge date, a principal
// diagnosis and secondary diagnoses, groups and waits for the DRG.
func groupInWorkbench(e *env, date, pdx string, sdx ...string) []chromedp.Action[chromedp.Void] {
	acts := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(e.URL + "/ui/#/group"),
		chromedp.WaitVisible(chromedp.CSS(`input[placeholder="e.g. I50.23"]`)),
		chromedp.SetValue(chromedp.Search(`//label[text()="Discharge date"]/following-sibling::input`), date),
		chromedp.SendKeys(chromedp.Search(`//label[text()="Principal diagnosis"]/following-sibling::input`), pdx),
	}
	for i, c := range sdx {
		acts = append(acts, chromedp.SendKeys(chromedp.Search(fmt.Sprintf(`//label[text()="Secondary diagnosis %d"]/following-sibling::input`, i+1)), c))
	}
	return append(acts, chromedp.Click(chromedp.ID("group-btn")), chromedp.WaitVisible(chromedp.ID("final-drg")))
}
