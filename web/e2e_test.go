package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/chromedp/chromedp"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/internal/shared"
	"github.com/msdrg-cdi/drg/store"
	"github.com/msdrg-cdi/drg/tables"
	"github.com/msdrg-cdi/drg/web"
)

// The end-to-end tests drive Debian's chromium (headless) against drg's real HTTP service with
// a real SQLite file. Screenshots go to $DRG_SCREENSHOTS (default: the test's temporary dir).

var (
	catOnce sync.Once
	cat     *tables.Catalog
	eng     *grouper.Engine
	catErr  error
)

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("DRG_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: .ci/run installs Debian's chromium package for these tests")
	}
	t.Skip("chromium is not installed (apt-get install chromium): skipping the browser tests")
	return ""
}

// env is a running service with one user per role and a browser.
type env struct {
	t      *testing.T
	URL    string
	st     *store.Store
	tokens map[store.Role]string
	ctx    context.Context
	shots  string
	// browser is the browser's context without the test's deadline (restart).
	browser context.Context
}

// newEnv starts the service (with the routes that more adds) and a browser.
func newEnv(t *testing.T, more ...func(*api.Server) []api.Route) *env {
	t.Helper()
	browser := chromium(t)
	dir := shared.DataDir(t)
	catOnce.Do(func() {
		cat, catErr = tables.Load(dir)
		if catErr == nil {
			eng = grouper.New(cat.MSDRG)
		}
	})
	if catErr != nil {
		t.Fatal(catErr)
	}
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "drg.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := api.New(api.Config{Catalog: cat, Store: st, Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close) // the queued access audit rows, before the store closes
	if err := srv.Register(web.Routes()...); err != nil {
		t.Fatal(err)
	}
	for _, m := range more {
		if err := srv.Register(m(srv)...); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &env{t: t, URL: hs.URL, st: st, tokens: map[store.Role]string{}, shots: os.Getenv("DRG_SCREENSHOTS")}
	if e.shots == "" {
		e.shots = t.TempDir()
	}
	if err := os.MkdirAll(e.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, r := range store.Roles {
		_, tok, err := st.CreateUser(context.Background(), store.CLIActor, "e2e-"+string(r), r)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[r] = tok
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1280, 800),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelC := chromedp.NewContext(actx)
	// The first call starts the browser; it must not run under a timeout (chromedp.Run).
	if err := chromedp.Do(bctx); err != nil {
		cancelC()
		cancelA()
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelT := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	e.ctx, e.browser = ctx, bctx
	return e
}

// restartClock gives the browser steps that follow a fresh 90 s, after a long set-up.
func (e *env) restartClock() {
	ctx, cancel := context.WithTimeout(e.browser, 90*time.Second)
	e.t.Cleanup(cancel)
	e.ctx = ctx
}

// run executes browser actions, failing the test with a screenshot on error.
func (e *env) run(actions ...chromedp.Action[chromedp.Void]) {
	e.t.Helper()
	if err := chromedp.Do(e.ctx, actions...); err != nil {
		e.screenshot("failure-" + strings.ReplaceAll(e.t.Name(), "/", "-"))
		e.t.Fatal(err)
	}
}

// screenshot saves the page as PNG and logs its path.
func (e *env) screenshot(name string) string {
	e.t.Helper()
	png, err := chromedp.Run(e.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		e.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(e.shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.t.Logf("screenshot %s", p)
	return p
}

// signIn opens the interface and signs in with the token of role.
func (e *env) signIn(role store.Role) {
	e.t.Helper()
	e.run(
		chromedp.Navigate(e.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), e.tokens[role]),
		chromedp.Click(chromedp.Search(`//button[text()="Sign in"]`)),
		chromedp.WaitVisible(chromedp.CSS("#who button")),
	)
}

// text returns the text of the first element matching sel once it is visible.
func (e *env) text(sel string) string {
	e.t.Helper()
	e.run(chromedp.WaitVisible(chromedp.CSS(sel)))
	s, err := chromedp.Run(e.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		e.screenshot("failure-" + strings.ReplaceAll(e.t.Name(), "/", "-"))
		e.t.Fatal(err)
	}
	return s
}

func TestSignInRejectsBadToken(t *testing.T) {
	e := newEnv(t)
	e.run(
		chromedp.Navigate(e.URL+"/ui/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), "drg_not-a-token"),
		chromedp.Click(chromedp.Search(`//button[text()="Sign in"]`)),
	)
	alert := e.text(`[role="alert"]`)
	e.screenshot("01-sign-in-rejected")
	if !strings.Contains(alert, "Sign in again") || strings.Contains(alert, "{") {
		t.Errorf("alert %q: want a readable message, no JSON", alert)
	}
}

// TestGroupClaim: a coder signs in, enters I50.23 + J96.01 and sees DRG 291.
func TestGroupClaim(t *testing.T) {
	e := newEnv(t)
	e.signIn(store.RoleCoder)
	e.run(groupInWorkbench(e, "2026-05-01", "I50.23", "J96.01")...)
	if got := e.text("#final-drg"); got != "DRG 291" {
		t.Fatalf("final DRG %q, want DRG 291", got)
	}
	if ex := e.text("#explanation"); !strings.Contains(ex, "J9601 (POA Y): is an MCC") {
		t.Errorf("explanation %q", ex)
	}
	// Discharged home (the default status): no transfer, the full FY2026 weight of DRG 291.
	if tr, adj, f := e.text("#payment-transfer"), e.text("#payment-adjusted"), e.text("#payment-formula"); tr != "not a transfer" || adj != "1.2838" ||
		!strings.Contains(f, "not a transfer: discharge status 01") {
		t.Errorf("payment: transfer %q, adjusted weight %q, formula %q", tr, adj, f)
	}
	e.screenshot("02-group-291")
	// One click to compare with another version.
	e.run(
		chromedp.SetValue(chromedp.ID("compare-version"), "401"),
		chromedp.Click(chromedp.Search(`//button[text()="Compare"]`)),
		chromedp.WaitVisible(chromedp.Search(`//p[starts-with(., "v40.1")]`)),
	)
	cmp, err := chromedp.Run(e.ctx, chromedp.Text(chromedp.Search(`//p[starts-with(., "v40.1")]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cmp, "DRG 291") {
		t.Errorf("comparison %q", cmp)
	}
	e.screenshot("03-group-compare-version")
}

// TestAdminPages: an administrator creates a user, sees the loaded data and the audit log.
func TestAdminPages(t *testing.T) {
	e := newEnv(t)
	e.signIn(store.RoleAdmin)
	e.run(
		chromedp.Navigate(e.URL+"/ui/#/admin"),
		chromedp.WaitVisible(chromedp.ID("new-user-name")),
		chromedp.SendKeys(chromedp.ID("new-user-name"), "Dana Coder"),
		chromedp.SetValue(chromedp.ID("new-user-role"), "coder"),
		chromedp.Click(chromedp.Search(`//button[text()="Create user and token"]`)),
		chromedp.WaitVisible(chromedp.ID("new-token")),
	)
	if tok := e.text("#new-token"); !strings.HasPrefix(tok, "drg_") {
		t.Errorf("token %q", tok)
	}
	e.screenshot("10-admin-users")
	e.run(chromedp.Navigate(e.URL+"/ui/#/admin?tab=data"), chromedp.WaitVisible(chromedp.Search(`//h2[text()="MS-DRG grouper versions"]`)))
	if body := e.text("main"); !strings.Contains(body, "v43.1") || !strings.Contains(body, "2026-04-01") {
		t.Errorf("data tab lacks v43.1: %.300s", body)
	}
	e.screenshot("11-admin-data")
	e.run(chromedp.Navigate(e.URL+"/ui/#/admin?tab=audit"), chromedp.WaitVisible(chromedp.Search(`//td[contains(., "user")]`)))
	e.screenshot("12-admin-audit")
}

// TestNarrowWindow: the workbench stays usable at phone width.
func TestNarrowWindow(t *testing.T) {
	e := newEnv(t)
	e.signIn(store.RoleCoder)
	e.run(chromedp.EmulateViewport(390, 844), chromedp.Navigate(e.URL+"/ui/#/group"), chromedp.WaitVisible(chromedp.ID("group-btn")))
	overflow, err := chromedp.Run(e.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil {
		t.Fatal(err)
	}
	if overflow {
		t.Error("horizontal overflow at 390 px")
	}
	e.screenshot("04-group-narrow")
}

// setText replaces the text of an input or textarea as typing would (input event included).
func (e *env) setText(id, value string) chromedp.Action[chromedp.Void] {
	js, _ := json.Marshal(value)
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](`(() => { const x = document.getElementById("`+id+`"); x.value = `+string(js)+
			`; x.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`)(ctx, t)
		return err
	})
}

// createEncounter posts a CDI fixture encounter through the API and returns its id.
func (e *env) createEncounter(fixture string) string {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "fixtures", "cdi", fixture))
	if err != nil {
		e.t.Fatal(err)
	}
	var f struct {
		Encounter map[string]any `json:"encounter"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		e.t.Fatal(err)
	}
	delete(f.Encounter, "id")
	body, _ := json.Marshal(f.Encounter)
	req, _ := http.NewRequest("POST", e.URL+"/v1/encounters", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tokens[store.RoleCDI])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 201 {
		e.t.Fatalf("create encounter: %d %v", resp.StatusCode, err)
	}
	return out.ID
}

// TestCDIWorkflow: a CDI specialist opens the worklist and an encounter, reviews it, drafts a
// query, sees the linter reject a leading edit (send disabled), fixes it, sends it, records the
// provider's answer and sees the working DRG change.
func TestCDIWorkflow(t *testing.T) {
	e := newEnv(t)
	id := e.createEncounter("01_arf_hypoxic_positive.json")
	e.signIn(store.RoleCDI)
	e.run(chromedp.Navigate(e.URL+"/ui/#/worklist"), chromedp.WaitVisible(chromedp.Search(`//a[text()="ACCT-0001"]`)))
	e.screenshot("20-worklist")
	e.run(
		chromedp.Click(chromedp.Search(`//a[text()="ACCT-0001"]`)),
		chromedp.WaitVisible(chromedp.ID("review-btn")),
		chromedp.Click(chromedp.ID("review-btn")),
		chromedp.WaitVisible(chromedp.CSS(`article.opportunity[data-id="rule:acute_respiratory_failure"] button.draft-query`)),
	)
	if txt := e.text(`article.opportunity[data-id="rule:acute_respiratory_failure"]`); !strings.Contains(txt, "DRG 195 → 193") || !strings.Contains(txt, "SpO2") {
		t.Errorf("opportunity %q", txt)
	}
	// Each option shows the evidence that supports it: the hypoxia options cite the SpO2.
	if txt := e.text(`article.opportunity[data-id="rule:acute_respiratory_failure"] li.option[data-option="Acute respiratory failure with hypoxia"]`); !strings.Contains(txt, "SpO2") || !strings.Contains(txt, "86") {
		t.Errorf("option evidence %q", txt)
	}
	e.screenshot("21-encounter-review")
	e.run(
		chromedp.Click(chromedp.CSS(`article.opportunity[data-id="rule:acute_respiratory_failure"] button.draft-query`)),
		chromedp.WaitVisible(chromedp.ID("lint-ok")),
	)
	if txt := e.text(`#composer .composer-option`); !strings.Contains(txt, "SpO2") {
		t.Errorf("composer option evidence %q", txt)
	}
	// A leading edit: the linter names the rules and Send is disabled.
	e.run(
		e.setText("q-question", "Are you treating acute respiratory failure? Please document it, it raises the DRG."),
		chromedp.WaitVisible(chromedp.CSS("#lint ul.lint")),
	)
	lint := e.text("#lint")
	if !strings.Contains(lint, "Q3") || !strings.Contains(lint, "Q8") {
		t.Errorf("lint %q: want Q3 and Q8", lint)
	}
	disabled, err := chromedp.Run(e.ctx, chromedp.Evaluate[bool](`document.getElementById("send-btn").disabled`))
	if err != nil || !disabled {
		t.Errorf("send enabled with lint violations (%v)", err)
	}
	e.screenshot("22-query-lint-violations")
	e.run(
		e.setText("q-question", "Based on your clinical judgment, please clarify the diagnosis that best describes the condition being evaluated and treated."),
		chromedp.WaitVisible(chromedp.ID("lint-ok")),
		chromedp.Click(chromedp.ID("send-btn")),
		chromedp.WaitVisible(chromedp.ID("answer-btn")),
	)
	e.screenshot("23-query-sent")
	e.run(
		chromedp.SetValue(chromedp.ID("a-outcome"), "agree"),
		chromedp.SetValue(chromedp.ID("a-option"), "0"),
		e.setText("a-text", "Acute hypoxic respiratory failure, on BiPAP."),
		chromedp.Click(chromedp.ID("answer-btn")),
		chromedp.WaitVisible(chromedp.ID("query-effect")),
	)
	if eff := e.text("#query-effect"); !strings.Contains(eff, "DRG 195 → 193") {
		t.Errorf("effect %q", eff)
	}
	e.run(chromedp.WaitVisible(chromedp.Search(`//*[@id="working-drg" and text()="DRG 193"]`)))
	e.screenshot("24-working-drg-changed")
	e.run(chromedp.Navigate(e.URL+"/ui/#/queries?status=closed"), chromedp.WaitVisible(chromedp.Search(`//td[contains(., "195 → 193")]`)))
	e.screenshot("25-query-tracking")
	_ = id
}

// apiCall sends a JSON request as role, with extra headers in name, value pairs, and decodes
// the answer into out (if not nil).
func (e *env) apiCall(role store.Role, method, path string, body, out any, headers ...string) {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	req.Header.Set("Content-Type", "application/json")
	readPath := ""
	switch {
	case method == "PATCH" || method == "PUT" || method == "DELETE":
		readPath = path
	case method == "POST" && strings.Count(path, "/") >= 4: // a state transition of a record: /v1/queries/{id}/send
		parts := strings.SplitN(path, "/", 5)
		readPath = strings.Join(parts[:4], "/")
	}
	if readPath != "" {
		// an edit names the version it changes, as the UI does: the record's current ETag
		g, _ := http.NewRequest("GET", e.URL+readPath, nil)
		g.Header.Set("Authorization", "Bearer "+e.tokens[role])
		if gr, err := http.DefaultClient.Do(g); err == nil {
			gr.Body.Close()
			if tag := gr.Header.Get("ETag"); tag != "" {
				req.Header.Set("If-Match", tag)
			}
		}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatal(err)
		}
	}
}

// finalCoded creates and finalizes (as the coder) encounters discharged in four months.
func (e *env) finalCoded() {
	e.t.Helper()
	claims := []struct {
		date, pdx string
		sdx       []string
		procs     []string
	}{
		{"2026-04-10", "I5023", []string{"J9601"}, nil}, {"2026-04-20", "J189", nil, nil},
		{"2026-05-05", "I214", []string{"E119"}, []string{"02703DZ"}}, {"2026-05-15", "N179", []string{"E871"}, nil},
		{"2026-06-02", "A419", []string{"R6520", "N179"}, nil}, {"2026-06-22", "I10", nil, nil},
		{"2026-07-09", "M1711", nil, []string{"0SRD0J9"}}, {"2026-07-30", "J441", []string{"J9601"}, nil},
	}
	for i, c := range claims {
		enc := map[string]any{"account": fmt.Sprintf("FIN-%02d", i), "facility": "MAIN", "payer": "MEDICARE", "discharge_date": c.date,
			"admit_date": c.date, "age": 70, "sex": "F", "discharge_status": 1, "pdx": map[string]string{"code": c.pdx, "poa": "Y"}}
		var sdx []map[string]string
		for _, s := range c.sdx {
			sdx = append(sdx, map[string]string{"code": s, "poa": "Y"})
		}
		var pr []map[string]string
		for _, p := range c.procs {
			pr = append(pr, map[string]string{"code": p})
		}
		enc["sdx"], enc["procedures"] = sdx, pr
		var created struct {
			ID         string
			RowVersion int `json:"row_version"`
		}
		e.apiCall(store.RoleCoder, "POST", "/v1/encounters", enc, &created)
		e.apiCall(store.RoleCoder, "POST", "/v1/encounters/"+created.ID+"/finalize", map[string]any{}, nil, "If-Match", fmt.Sprintf(`"%d"`, created.RowVersion))
	}
}

// TestFinanceDashboard: finance sees the CMI trend chart, its table view and the other reports.
func TestFinanceDashboard(t *testing.T) {
	e := newEnv(t)
	e.finalCoded()
	// a coder rejects one CAC suggestion and accepts another: the CAC acceptance section counts them
	var created struct{ ID string }
	e.apiCall(store.RoleCoder, "POST", "/v1/encounters", map[string]any{"account": "CAC-E2E", "discharge_date": "2026-05-08", "age": 70, "sex": "M", "discharge_status": 1,
		"pdx": map[string]string{"code": "I5030", "poa": "Y"}, "evidence": []any{map[string]any{"kind": "note", "note_type": "discharge summary", "author_role": "physician",
			"text": "Final Diagnoses:\n1. Acute on chronic diastolic congestive heart failure\n2. Persistent atrial fibrillation on chronic warfarin"}}}, &created)
	var cac struct {
		Suggestions []struct {
			Code, Role string
			Evidence   []struct {
				Note       string
				Start, End int
			}
		}
	}
	e.apiCall(store.RoleCoder, "POST", "/v1/encounters/"+created.ID+"/cac", nil, &cac)
	decided := 0
	for _, sg := range cac.Suggestions {
		if sg.Role != "sdx" || len(sg.Evidence) == 0 || decided == 2 {
			continue
		}
		ev := sg.Evidence[0]
		var cur struct {
			RowVersion int `json:"row_version"`
		}
		e.apiCall(store.RoleCoder, "GET", "/v1/encounters/"+created.ID, nil, &cur)
		e.apiCall(store.RoleCoder, "POST", "/v1/encounters/"+created.ID+"/cac/decisions", map[string]any{"code": sg.Code, "kind": "sdx",
			"decision": []string{"reject", "accept"}[decided], "span": map[string]any{"note": ev.Note, "start": ev.Start, "end": ev.End}}, nil,
			"If-Match", fmt.Sprintf(`"%d"`, cur.RowVersion))
		decided++
	}
	if decided != 2 {
		t.Fatalf("suggestions %+v: want two secondary diagnoses to decide", cac.Suggestions)
	}
	// A CDI query answered with a DRG change: the CDI impact tables must show the API's numbers.
	arf := e.createEncounter("01_arf_hypoxic_positive.json")
	var rv struct {
		Review struct {
			Opportunities []struct{ ID string } `json:"opportunities"`
		} `json:"review"`
	}
	e.apiCall(store.RoleCDI, "POST", "/v1/encounters/"+arf+"/review", nil, &rv)
	var draft struct {
		Query struct {
			ID      string
			Options []struct{ Codes []string }
		}
	}
	e.apiCall(store.RoleCDI, "POST", "/v1/encounters/"+arf+"/queries", map[string]any{"opportunity_id": "rule:acute_respiratory_failure"}, &draft)
	opt := slices.IndexFunc(draft.Query.Options, func(o struct{ Codes []string }) bool { return slices.Contains(o.Codes, "J9601") })
	e.apiCall(store.RoleCDI, "POST", "/v1/queries/"+draft.Query.ID+"/send", nil, nil)
	e.apiCall(store.RoleCDI, "POST", "/v1/queries/"+draft.Query.ID+"/answer", map[string]any{"outcome": "agree", "option": opt, "text": "Acute hypoxic respiratory failure."}, nil)
	e.apiCall(store.RoleCoder, "PATCH", "/v1/encounters/"+arf, map[string]any{"discharge_date": "2026-06-10", "discharge_status": 1}, nil)
	e.apiCall(store.RoleCoder, "POST", "/v1/encounters/"+arf+"/finalize", map[string]any{}, nil)
	var impact struct {
		BySpecialist []struct {
			Key             string  `json:"key"`
			Encounters      int     `json:"encounters"`
			AnsweredQueries int     `json:"answered_queries"`
			WeightImpact    float64 `json:"weight_impact"`
		} `json:"by_specialist"`
	}
	e.apiCall(store.RoleFinance, "GET", "/v1/reports/cdi-impact", nil, &impact)
	if len(impact.BySpecialist) != 1 || impact.BySpecialist[0].AnsweredQueries != 1 || impact.BySpecialist[0].WeightImpact <= 0 {
		t.Fatalf("API CDI impact by specialist %+v: want one answered query with a weight gain", impact.BySpecialist)
	}
	e.signIn(store.RoleFinance)
	e.run(chromedp.Navigate(e.URL+"/ui/#/finance"), chromedp.WaitVisible(chromedp.CSS("#cmi-chart svg polyline")))
	sp := impact.BySpecialist[0]
	row := `//h3[text()="By CDI specialist"]/following-sibling::div[1]//tr[td[1][text()="` + sp.Key + `"]]`
	e.run(chromedp.WaitVisible(chromedp.Search(row)))
	got, err := chromedp.Run(e.ctx, chromedp.Evaluate[[]string](`[...document.evaluate('`+row+`', document, null, 9, null).singleNodeValue.cells].map((c) => c.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{sp.Key, fmt.Sprint(sp.Encounters), fmt.Sprint(sp.AnsweredQueries), fmt.Sprintf("%.4f", sp.WeightImpact)}; !slices.Equal(got[:min(len(got), 4)], want) {
		t.Errorf("CDI impact row on the page %q, API %q", got, want)
	}
	e.run(chromedp.WaitVisible(chromedp.ID("cac-total")))
	if got := e.text("#cac-total"); !strings.HasPrefix(got, "2 decisions: 1 accepted (50") {
		t.Errorf("CAC acceptance %q, want 2 decisions, 1 accepted", got)
	}
	if cmi := e.text("#cmi-transfer-adjusted"); cmi == "" || cmi == "—" {
		t.Errorf("transfer-adjusted CMI %q", cmi)
	}
	if cmi := e.text("#cmi-overall"); cmi == "" || cmi == "—" {
		t.Errorf("overall CMI %q", cmi)
	}
	points, err := chromedp.Run(e.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#cmi-chart svg circle").length`))
	if err != nil || points != 4 {
		t.Errorf("chart points %d (%v), want 4 months", points, err)
	}
	e.run(chromedp.WaitVisible(chromedp.Search(`//h2[text()="DRG mix"]`)), chromedp.WaitVisible(chromedp.Search(`//h2[text()="Severity capture"]`)))
	e.screenshot("30-finance-dashboard")
	e.run(chromedp.Click(chromedp.Search(`//button[text()="Table"]`)), chromedp.WaitVisible(chromedp.Search(`//td[text()="2026-07"]`)))
	e.screenshot("31-finance-cmi-table")
	e.run(chromedp.Click(chromedp.Search(`//button[text()="Compare"]`)), chromedp.WaitVisible(chromedp.Search(`//p[contains(., "discharges change DRG")]`)))
	e.screenshot("32-finance-version-impact")
}

// TestAuditPages: an administrator draws an audit sample, records the auditor's codes for a
// case and reads the report against the 95 % benchmark.
func TestAuditPages(t *testing.T) {
	e := newEnv(t)
	e.finalCoded()
	e.signIn(store.RoleAdmin)
	e.run(
		chromedp.Navigate(e.URL+"/ui/#/audits"),
		chromedp.WaitVisible(chromedp.ID("au-size")),
		chromedp.SetValue(chromedp.ID("au-size"), "3"),
		chromedp.SendKeys(chromedp.ID("au-seed"), "42"),
		chromedp.SendKeys(chromedp.ID("au-name"), "Q2 review"),
		chromedp.Click(chromedp.Search(`//button[text()="Draw the sample"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[text()="Q2 review"]`)),
	)
	e.screenshot("40-audit-sample")
	e.run(
		chromedp.Click(chromedp.Search(`(//button[text()="record codes"])[1]`)),
		chromedp.WaitVisible(chromedp.ID("ac-pdx")),
		chromedp.Click(chromedp.Search(`//button[text()="Save and compare"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h3[text()="By coder"]/following-sibling::div//td[text()="e2e-coder"]`)),
	)
	e.screenshot("41-audit-report")
}
