package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/internal/ssotest"
	"github.com/msdrg-cdi/drg/sso"
)

// TestSingleSignOn: the browser signs in through the identity provider (a real OpenID provider
// in the test process), works with the session cookie (grouping is a POST: it carries the CSRF
// token) and signs out; a user of no mapped group reads why they have no access.
func TestSingleSignOn(t *testing.T) {
	p := ssotest.Start(t)
	e := newEnv(t, func(srv *api.Server) []api.Route {
		rm, err := sso.ParseRoleMap("drg-cdi=cdi,drg-coders=coder")
		if err != nil {
			t.Fatal(err)
		}
		svc, err := sso.New(sso.Config{Issuer: p.Issuer(), ClientID: p.ClientID, ClientSecret: p.ClientSecret, RoleMap: rm}, srv, nil)
		if err != nil {
			t.Fatal(err)
		}
		return sso.Routes(svc)
	})
	p.User("sub-fay", "fay", "drg-coders")
	e.run(
		chromedp.Navigate(e.URL+"/ui/#/group"),
		chromedp.WaitVisible(chromedp.ID("sso")),
	)
	e.screenshot("sso-01-sign-in-page")
	e.run(
		chromedp.Click(chromedp.ID("sso")),
		chromedp.WaitVisible(chromedp.CSS("#who button")),
	)
	if who := e.text("#who span"); who != "fay (coder)" {
		t.Errorf("signed in as %q", who)
	}
	e.run(groupInWorkbench(e, "2026-05-01", "I50.23", "J96.01")...)
	if got := e.text("#final-drg"); got != "DRG 291" {
		t.Errorf("final DRG %q with the session cookie", got)
	}
	e.screenshot("sso-02-signed-in-grouping")
	e.run(
		chromedp.Click(chromedp.CSS("#who button")),
		chromedp.WaitVisible(chromedp.ID("sso")),
		chromedp.Navigate(e.URL+"/v1/me"),
	)
	if body := e.text("body"); !strings.Contains(body, "unauthenticated") {
		t.Errorf("GET /v1/me after sign-out: %.200s", body)
	}

	p.User("sub-gus", "gus", "nurses")
	e.run(
		chromedp.Navigate(e.URL+"/ui/"),
		chromedp.WaitVisible(chromedp.ID("sso")),
		chromedp.Click(chromedp.ID("sso")),
		chromedp.WaitVisible(chromedp.CSS(`[role="alert"]`)),
	)
	e.screenshot("sso-03-no-role")
	if msg := e.text("h1"); msg != "You have no access to drg" {
		t.Errorf("unmapped user sees %q", msg)
	}
	if msg := e.text(`[role="alert"]`); !strings.Contains(msg, "none of your groups (nurses)") {
		t.Errorf("unmapped user reads %q", msg)
	}
}
