package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/msdrg-cdi/drg/store"
)

// TestCACWorkbench: a coder opens an encounter with a note, selects a suggestion (its words
// are highlighted in the note), accepts it with the keyboard (the working DRG becomes the one
// the suggestion announced) and rejects another with a reason; both decisions are in the audit
// log.
func TestCACWorkbench(t *testing.T) {
	e := newEnv(t)
	var created struct{ ID string }
	e.apiCall(store.RoleCoder, "POST", "/v1/encounters", map[string]any{"account": "CAC-WB", "admit_date": "2026-05-03", "discharge_date": "2026-05-08",
		"age": 78, "sex": "F", "discharge_status": 1, "pdx": map[string]string{"code": "I5030", "poa": "Y"}, "sdx": []any{map[string]string{"code": "I10", "poa": "Y"}},
		"evidence": []any{map[string]any{"kind": "note", "note_type": "discharge summary", "author_role": "physician", "time": "2026-05-08T11:00:00Z",
			"text": "Final Diagnoses:\n1. Acute on chronic diastolic congestive heart failure\n2. Hypertension\n3. Persistent atrial fibrillation on chronic warfarin"}}}, &created)
	e.apiCall(store.RoleCoder, "POST", "/v1/encounters/"+created.ID+"/group", map[string]any{}, nil)
	var cac struct {
		Suggestions []struct {
			Code, Role, Status string
			Evidence           []struct{ Text string }
			IfAccepted         *struct{ DRG int } `json:"if_accepted"`
		}
	}
	e.apiCall(store.RoleCoder, "POST", "/v1/encounters/"+created.ID+"/cac", nil, &cac)
	var words string
	wantDRG := 0
	for _, s := range cac.Suggestions {
		if s.Role == "sdx" && s.Code == "I4819" && len(s.Evidence) > 0 && s.IfAccepted != nil {
			words, wantDRG = s.Evidence[0].Text, s.IfAccepted.DRG
		}
	}
	if words == "" {
		t.Fatalf("no I4819 suggestion to work: %+v", cac.Suggestions)
	}
	row := func(key string) string { return fmt.Sprintf(`//div[@data-key=%q]`, key) }
	statusIs := func(key, status string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.Search(row(key) + fmt.Sprintf(`//span[contains(@class,"status") and text()=%q]`, status)))
	}

	e.signIn(store.RoleCoder)
	e.run(chromedp.Navigate(e.URL+"/ui/#/encounters/"+created.ID), chromedp.WaitVisible(chromedp.CSS("#cac-suggestions .sugg")),
		chromedp.WaitVisible(chromedp.CSS("#cac-notes pre.note-text")))
	e.screenshot("50-cac-workbench")
	e.run(chromedp.Click(chromedp.Search(row("sdx:I4819"))), chromedp.WaitVisible(chromedp.ID("cac-mark")))
	if got := e.text("#cac-mark"); got != words {
		t.Errorf("highlighted %q, want the suggestion's words %q", got, words)
	}
	if d := e.text(`[data-key="sdx:I4819"] .delta`); !strings.Contains(d, fmt.Sprintf("→ %03d", wantDRG)) && !strings.Contains(d, fmt.Sprintf("DRG %03d unchanged", wantDRG)) {
		t.Errorf("DRG delta %q, want one ending at %03d", d, wantDRG)
	}
	e.screenshot("51-cac-highlight")
	// accept with the keyboard: the selected row has the focus
	e.run(chromedp.KeyEvent("a"), statusIs("sdx:I4819", "coded"))
	if got := e.text("#working-drg"); got != fmt.Sprintf("DRG %03d", wantDRG) {
		t.Errorf("working DRG %q after accepting, want DRG %03d", got, wantDRG)
	}
	// reject another with a reason, by its button
	e.run(chromedp.Click(chromedp.Search(row("sdx:Z7901"))), chromedp.SendKeys(chromedp.ID("cac-reason"), "long-term use documented elsewhere"),
		chromedp.Click(chromedp.Search(row("sdx:Z7901")+`//button[text()="Reject"]`)), statusIs("sdx:Z7901", "rejected"))
	e.screenshot("52-cac-decided")
	// the next suggestion by key moves the highlight
	e.run(chromedp.Click(chromedp.Search(row("sdx:I4819"))), chromedp.KeyEvent("j"), chromedp.WaitVisible(chromedp.ID("cac-mark")))

	var page struct {
		Items []struct {
			Action, Actor string
			After         json.RawMessage
		}
	}
	e.apiCall(store.RoleAdmin, "GET", "/v1/audit?entity=encounter&entity_id="+created.ID, nil, &page)
	var got []string
	for _, a := range page.Items {
		if strings.HasPrefix(a.Action, "cac_") && a.Action != "cac_codes" {
			var d struct{ Code, Reason string }
			_ = json.Unmarshal(a.After, &d)
			got = append(got, a.Action+" "+d.Code+" "+a.Actor+" "+d.Reason)
		}
	}
	want := []string{"cac_accept I4819 e2e-coder ", "cac_reject Z7901 e2e-coder long-term use documented elsewhere"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audited %q, want %q", got, want)
	}
}
