package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/store"
)

// TestLostUpdates: for every kind of editable record, 20 simultaneous changes sent with the
// same If-Match give exactly one 200 and nineteen 412; a change without If-Match (or with an
// empty one, or "*") is 428; the answer carries the new ETag, which the next change can use.
func TestLostUpdates(t *testing.T) {
	ts := newCDIServer(t, &clock{t: time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)}, api.CDIConfig{})
	var enc store.Encounter
	json.Unmarshal(ts.do("POST", "/v1/encounters", cdi, cdiFixtureEncounter(t, "07_sepsis3_positive_no_shock_without_pressor")).expect(t, 201).body, &enc)
	ts.do("POST", "/v1/encounters/"+enc.ID+"/review", cdi, nil).expect(t, 200)
	d := decode[api.QueryDraft](t, ts.do("POST", "/v1/encounters/"+enc.ID+"/queries", cdi, map[string]any{"opportunity_id": "rule:sepsis_sofa"}).expect(t, 201))
	var nt api.NewToken
	json.Unmarshal(ts.do("POST", "/v1/users", admin, `{"name":"target","role":"coder"}`).expect(t, 201).body, &nt)
	ts.do("PUT", "/v1/facilities/EAST", admin, `{"time_zone":"America/Chicago"}`).expect(t, 200)

	for _, tc := range []struct {
		name, method, path, read string
		role                     store.Role
		body                     func(i int) string
	}{
		{"encounter", "PATCH", "/v1/encounters/" + enc.ID, "/v1/encounters/" + enc.ID, coder, func(i int) string { return fmt.Sprintf(`{"unit":"U%d"}`, i) }},
		{"working codes", "PATCH", "/v1/encounters/" + enc.ID, "/v1/encounters/" + enc.ID, cdi, func(i int) string {
			return fmt.Sprintf(`{"sdx":[{"code":"E119","poa":"Y"},{"code":"N17%d","poa":"Y"}]}`, i%3)
		}},
		{"grouping", "POST", "/v1/encounters/" + enc.ID + "/group", "/v1/encounters/" + enc.ID, coder, func(int) string { return "" }},
		{"query", "PATCH", "/v1/queries/" + d.Query.ID, "/v1/queries/" + d.Query.ID, cdi, func(i int) string { return fmt.Sprintf(`{"intro":"Edit %d."}`, i) }},
		{"user", "PATCH", fmt.Sprintf("/v1/users/%d", nt.User.ID), fmt.Sprintf("/v1/users/%d", nt.User.ID), admin, func(i int) string {
			return fmt.Sprintf(`{"role":%q}`, []string{"coder", "cdi", "finance"}[i%3])
		}},
		{"facility", "PUT", "/v1/facilities/EAST", "", admin, func(i int) string {
			return fmt.Sprintf(`{"time_zone":%q}`, []string{"America/Denver", "America/New_York"}[i%2])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := `"` + fmt.Sprint(facilityVersion(t, ts, "EAST")) + `"`
			if tc.read != "" {
				tag = ts.etag(tc.read, admin)
			}
			for _, h := range [][]string{nil, {"If-Match", ""}, {"If-Match", `""`}, {"If-Match", "*"}} {
				ts.do(tc.method, tc.path, tc.role, tc.body(0), h...).expect(t, http.StatusPreconditionRequired).problem(t)
			}
			ts.do(tc.method, tc.path, tc.role, tc.body(0), "If-Match", `"999"`).expect(t, http.StatusPreconditionFailed).problem(t)
			statuses := make([]int, 20)
			tags := make([]string, 20)
			var wg sync.WaitGroup
			for i := range statuses {
				wg.Go(func() {
					r := ts.do(tc.method, tc.path, tc.role, tc.body(i+1), "If-Match", tag)
					statuses[i], tags[i] = r.StatusCode, r.Header.Get("ETag")
				})
			}
			wg.Wait()
			won, stale, next := 0, 0, ""
			for i, s := range statuses {
				switch s {
				case http.StatusOK:
					won++
					next = tags[i]
				case http.StatusPreconditionFailed:
					stale++
				}
			}
			if won != 1 || stale != 19 {
				t.Fatalf("statuses %v: want one 200 and nineteen 412", statuses)
			}
			if next == "" || next == tag {
				t.Fatalf("ETag after the change %q (was %q)", next, tag)
			}
			ts.do(tc.method, tc.path, tc.role, tc.body(0), "If-Match", next).expect(t, http.StatusOK)
			ts.do(tc.method, tc.path, tc.role, tc.body(0), "If-Match", tag).expect(t, http.StatusPreconditionFailed)
		})
	}
}

// facilityVersion returns the version of a facility's settings from the list.
func facilityVersion(t *testing.T, ts *testServer, code string) int {
	t.Helper()
	var l struct {
		Items []store.Facility
	}
	json.Unmarshal(ts.do("GET", "/v1/facilities", admin, nil).expect(t, 200).body, &l)
	for _, f := range l.Items {
		if f.Code == code {
			return f.Version
		}
	}
	t.Fatalf("no facility %s", code)
	return 0
}
