package api_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/store"
)

// TestReadsAreAudited: reading an encounter, listing encounters and exporting a report with
// patient rows each write an access row (who, which records, route, when), batched: the read
// answers before its row is written, and the rows are there within the flush period (and at
// once after a flush).
func TestReadsAreAudited(t *testing.T) {
	ts := newTestServer(t)
	var ids []string
	for _, acct := range []string{"R-1", "R-2", "R-3"} {
		var e store.Encounter
		json.Unmarshal(ts.do("POST", "/v1/encounters", coder, encounterBody(acct)).expect(t, 201).body, &e)
		ids = append(ids, e.ID)
	}
	ts.do("GET", "/v1/encounters/"+ids[1], finance, nil).expect(t, 200)
	ts.do("GET", "/v1/encounters?limit=2", cdi, nil).expect(t, 200)
	ts.do("GET", "/v1/encounters/nope", finance, nil).expect(t, 404) // nothing read
	ts.do("GET", "/v1/codes/dx/I5023", finance, nil).expect(t, 200)  // no PHI
	ts.do("GET", "/v1/reports/denial-risk?"+url.Values{"from": {"2026-01-01"}, "to": {"2026-12-31"}, "format": {"csv"}}.Encode(), finance, nil).expect(t, 200)

	type row struct {
		ID       int64
		At       time.Time
		Actor    string
		EntityID string `json:"entity_id"`
		Entity   string
		Action   string
		After    struct {
			Route string
			IDs   []string
			Count int
		}
	}
	var got []row
	deadline := time.Now().Add(2 * time.Second) // written by the batch within 200 ms
	for time.Now().Before(deadline) {
		var page struct{ Items []row }
		json.Unmarshal(ts.do("GET", "/v1/audit?limit=1000", admin, nil).expect(t, 200).body, &page)
		got = got[:0]
		for _, r := range page.Items {
			if slices.Contains([]string{"read", "list", "export"}, r.Action) {
				got = append(got, r)
			}
		}
		if len(got) >= 3 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(got) != 3 {
		t.Fatalf("%d access rows, want 3: %+v", len(got), got)
	}
	want := []struct {
		actor, entity, id, action, route string
		ids                              []string
	}{
		{"user-finance", "encounter", ids[1], "read", "GET /v1/encounters/{id}", nil},
		{"user-cdi", "encounter", "", "list", "GET /v1/encounters", ids[:2]},
		{"user-finance", "report", "", "export", "GET /v1/reports/denial-risk", []string{}},
	}
	for i, w := range want {
		r := got[i]
		if r.Actor != w.actor || r.Entity != w.entity || r.EntityID != w.id || r.Action != w.action || r.After.Route != w.route ||
			(w.ids != nil && len(w.ids) > 0 && !slices.Equal(r.After.IDs, w.ids)) || time.Since(r.At) > time.Minute {
			t.Errorf("access row %d: %+v, want %+v", i, r, w)
		}
	}
	// The chain still verifies with the access rows in it.
	if v, err := ts.st.VerifyAudit(t.Context()); err != nil || !v.OK() {
		t.Errorf("audit chain: %+v %v", v, err)
	}
}

// TestAccessRowsWrittenOnClose: rows queued when the server stops are written by Close.
func TestAccessRowsWrittenOnClose(t *testing.T) {
	ts := newTestServer(t)
	var e store.Encounter
	json.Unmarshal(ts.do("POST", "/v1/encounters", coder, encounterBody("C-1")).expect(t, 201).body, &e)
	for range 50 {
		ts.do("GET", "/v1/encounters/"+e.ID, coder, nil).expect(t, 200)
	}
	ts.srv.Close()
	rows, _, err := ts.st.ListAudit(t.Context(), store.AuditFilter{Entity: "encounter", EntityID: e.ID, Action: "read"}, 1000, "")
	if err != nil || len(rows) != 50 {
		t.Fatalf("%d read rows after Close, want 50 (%v)", len(rows), err)
	}
}
