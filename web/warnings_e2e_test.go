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

// TestFirstGroupWithDefaults: a newcomer's first Group with the page's defaults groups (the
// discharge date defaults into a loaded version, which the page names), the result holds no
// stray "null", and an out-of-range date's error is printed once.
func TestFirstGroupWithDefaults(t *testing.T) {
	e := newEnv(t)
	e.signIn(store.RoleCoder)
	e.run(
		chromedp.Navigate(e.URL+"/ui/#/group"),
		chromedp.WaitVisible(chromedp.CSS(`input[placeholder="e.g. I50.23"]`)),
		chromedp.SendKeys(chromedp.Search(`//label[text()="Principal diagnosis"]/following-sibling::input`), "I50.23"),
		chromedp.Click(chromedp.ID("group-btn")), chromedp.WaitVisible(chromedp.ID("final-drg")),
	)
	if got := e.text("#final-drg"); !strings.HasPrefix(got, "DRG ") {
		t.Errorf("final DRG %q", got)
	}
	if got := e.text("#version-applies"); !strings.Contains(got, "applies") {
		t.Errorf("the page does not say which version applies: %q", got)
	}
	if r := e.text("#result"); strings.Contains(r, "null") || strings.Contains(r, "undefined") {
		t.Errorf("stray text in the result: %q", r)
	}
	e.run(
		chromedp.SetValue(chromedp.Search(`//label[text()="Discharge date"]/following-sibling::input`), "2099-12-07"),
		chromedp.Click(chromedp.ID("group-btn")), chromedp.WaitVisible(chromedp.CSS(`#result [role=alert]`)),
	)
	if msg := e.text("#result"); strings.Count(msg, "needs MS-DRG") != 1 {
		t.Errorf("the error is not printed exactly once: %q", msg)
	}
}

// TestCodeSearchBadges: while typing a secondary diagnosis the suggestions carry CC/MCC badges
// (with the exclusion by the principal diagnosis typed above), a heading is marked and lists its
// codes when chosen, shorthand finds its codes, the list never covers the button below it and
// closes once a full code is typed.
func TestCodeSearchBadges(t *testing.T) {
	e := newEnv(t)
	e.signIn(store.RoleCoder)
	sdx := chromedp.Search(`//label[text()="Secondary diagnosis 1"]/following-sibling::input`)
	list := `//label[text()="Secondary diagnosis 1"]/following-sibling::ul`
	eval := func(js string) any {
		t.Helper()
		v, err := chromedp.Run(e.ctx, chromedp.Evaluate[any](js))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	listJS := `document.evaluate('` + list + `', document, null, 9, null).singleNodeValue`
	clearSDX := func() {
		eval(`document.evaluate('//label[text()="Secondary diagnosis 1"]/following-sibling::input', document, null, 9, null).singleNodeValue.value = ""`)
	}
	e.run(
		chromedp.Navigate(e.URL+"/ui/#/group"),
		chromedp.WaitVisible(chromedp.CSS(`input[placeholder="e.g. I50.23"]`)),
		chromedp.SendKeys(chromedp.Search(`//label[text()="Principal diagnosis"]/following-sibling::input`), "I50.21"),
		chromedp.SendKeys(sdx, "I50.2"),
		chromedp.WaitVisible(chromedp.Search(list+`/li[starts-with(., "I5023")]`)),
	)
	if got := eval(`[...` + listJS + `.children].find((li) => li.textContent.startsWith("I5023")).textContent`); !strings.Contains(fmt.Sprint(got), "MCC excluded by PDX") {
		t.Errorf("I50.23 under PDX I50.21: %q", got)
	}
	if overlap := eval(`(() => { const l = ` + listJS + `.getBoundingClientRect();
		const b = [...document.querySelectorAll("button")].find((x) => x.textContent === "Add secondary diagnosis").getBoundingClientRect();
		return !(l.bottom <= b.top || b.bottom <= l.top || l.right <= b.left || b.right <= l.left); })()`); overlap != false {
		t.Error("the suggestion list covers the Add secondary diagnosis button")
	}
	clearSDX()
	e.run(chromedp.SendKeys(sdx, "J18"),
		chromedp.WaitVisible(chromedp.Search(list+`/li[starts-with(., "J18 ") and contains(., "heading")]`)),
		chromedp.Click(chromedp.Search(list+`/li[starts-with(., "J18 ")]`)),
		chromedp.WaitVisible(chromedp.Search(list+`/li[starts-with(., "J189")]`)))
	clearSDX()
	e.run(chromedp.SendKeys(sdx, "chf"),
		chromedp.WaitVisible(chromedp.Search(list+`/li[starts-with(., "I50")]`)))
	clearSDX()
	e.run(chromedp.SendKeys(sdx, "J96.01"), chromedp.Sleep(800))
	if hidden := eval(listJS + `.hidden`); hidden != true {
		t.Error("the list stays open after a full code is typed")
	}
}
