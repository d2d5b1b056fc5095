package web_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/sso"
	"github.com/msdrg-cdi/drg/store"
)

// TestNoConsoleErrorOrMissingAsset opens every page as an administrator (who sees them all) and
// as a coder, and fails on any console error (a CSP violation is one: an inline style), any
// uncaught exception and any asset or icon the server answers with 4xx/5xx.
func TestNoConsoleErrorOrMissingAsset(t *testing.T) {
	for _, role := range []store.Role{store.RoleAdmin, store.RoleCoder, store.RoleFinance} {
		t.Run(string(role), func(t *testing.T) { pagesWithoutConsoleErrors(t, role) })
	}
}

func pagesWithoutConsoleErrors(t *testing.T, role store.Role) {
	e := newEnv(t, func(*api.Server) []api.Route { return sso.Routes(nil) }) // as drg serve: /auth/config says SSO is off
	e.finalCoded()
	id := e.createEncounter("01_arf_hypoxic_positive.json")
	var mu sync.Mutex
	var problems []string
	note := func(s string) { mu.Lock(); problems = append(problems, s); mu.Unlock() }
	if err := chromedp.Listen(e.ctx, func(ev any) {
		switch ev := ev.(type) {
		case *log.EventEntryAdded:
			if ev.Entry.Source == log.EntrySourceNetwork && handled(ev.Entry.URL) {
				return
			}
			if ev.Entry.Level == log.EntryLevelError {
				note(fmt.Sprintf("console %s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *runtime.EventExceptionThrown:
			note("exception: " + ev.ExceptionDetails.Text)
		case *network.EventResponseReceived:
			if ev.Response.Status >= 400 && !handled(ev.Response.URL) {
				note(fmt.Sprintf("HTTP %d for %s", ev.Response.Status, ev.Response.URL))
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(e.ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(e.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	e.signIn(role)
	for _, p := range []string{"group", "coding", "worklist", "queries", "audits", "finance", "admin", "encounters/" + id} {
		e.run(chromedp.Navigate(e.URL+"/ui/#/"+p), chromedp.WaitVisible(chromedp.CSS("#main h1")), chromedp.Sleep(250))
	}
	e.run(chromedp.Navigate(e.URL+"/favicon.ico"), chromedp.Sleep(200))
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
}

// handled reports an API answer the page expects and handles: a 4xx of the /v1 API (an
// encounter not reviewed yet is a 404) or of the sign-on session probe (401 before sign-in).
func handled(url string) bool {
	return strings.Contains(url, "/v1/") || strings.HasSuffix(url, "/auth/session")
}

// TestPhoneWidthEveryPage: at 390 px no page scrolls sideways (wide tables scroll inside their
// card), including a grouping result with its tables, as the README claims.
func TestPhoneWidthEveryPage(t *testing.T) {
	e := newEnv(t)
	e.finalCoded()
	id := e.createEncounter("01_arf_hypoxic_positive.json")
	e.signIn(store.RoleAdmin)
	e.run(chromedp.EmulateViewport(390, 844))
	check := func(page string) {
		t.Helper()
		wide, err := chromedp.Run(e.ctx, chromedp.Evaluate[string](`(() => { const w = window.innerWidth;
			if (document.documentElement.scrollWidth <= w + 1) return "";
			const el = [...document.querySelectorAll("#main *")].find((x) => x.getBoundingClientRect().right > w + 1 && !x.closest(".table-wrap, .scroll, pre"));
			return document.documentElement.scrollWidth + " px, first wide element: " + (el ? el.tagName + "." + el.className + " " + (el.textContent || "").slice(0, 60) : "?"); })()`))
		if err != nil {
			t.Fatal(err)
		}
		if wide != "" {
			t.Errorf("%s scrolls sideways at 390 px: %s", page, wide)
		}
	}
	for _, p := range []string{"coding", "worklist", "queries", "audits", "finance", "admin", "encounters/" + id} {
		e.run(chromedp.Navigate(e.URL+"/ui/#/"+p), chromedp.WaitVisible(chromedp.CSS("#main h1")), chromedp.Sleep(400))
		check(p)
	}
	e.run(groupInWorkbench(e, "2026-05-01", "I50.23", "J96.01")...)
	check("group result")
}
