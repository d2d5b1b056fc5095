// Package demo loads a demo facility into a running service: encounters built from the
// project's own scenarios (fixtures/cdi, fixtures/validation), grouped, reviewed, queried and
// finalized through the service's API as demo users. drg demo and the browser tests use it.
package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/fixtures"
	"github.com/msdrg-cdi/drg/store"
)

// Demo facility layout: what drg demo makes of the fixtures. The encounters are the hand-written
// CDI and clinical-validation scenarios of fixtures/ (evidence, notes, codes), copied with
// their clinical times shifted to a discharge date spread over 18 months, and given a
// facility, payer and service line; everything is driven through the service's own API so
// that groupings, reviews, queries and finalizations are what a user would have made.
var (
	demoFacilities = []string{"MAIN", "MAIN", "NORTH"}
	demoPayers     = []string{"MEDICARE", "MEDICARE", "MEDICARE ADVANTAGE", "MEDICAID", "COMMERCIAL"}
	// demoServiceLines by the first character of the principal diagnosis (ICD-10-CM chapter).
	demoServiceLines = map[byte]string{'A': "INFECTIOUS DISEASE", 'E': "ENDOCRINE", 'I': "CARDIOLOGY", 'J': "PULMONARY",
		'K': "GASTROENTEROLOGY", 'N': "NEPHROLOGY", 'S': "ORTHOPEDICS", 'M': "ORTHOPEDICS", 'G': "NEUROLOGY", 'L': "WOUND CARE"}
	demoProviders = []map[string]string{{"id": "P100", "name": "Dr. Adams"}, {"id": "P200", "name": "Dr. Baker"},
		{"id": "P300", "name": "Dr. Chen"}, {"id": "P400", "name": "Dr. Diaz"}, {"id": "P500", "name": "Dr. Evans"}}
	demoQueryStates = []string{"answered", "draft", "sent", "escalated", "closed"}
)

// Counts is what Load loaded.
type Counts struct {
	Encounters   int            `json:"encounters"`
	ByStatus     map[string]int `json:"by_status"`
	Reviewed     int            `json:"reviewed"`
	QueryByState map[string]int `json:"queries_by_state"`
	Blocked      int            `json:"finalize_blocked"`
}

// Options size the demo facility.
type Options struct {
	Discharges int       // discharged encounters over the 18 months ending at End
	InHouse    int       // stays without a discharge date
	Seed       uint64    // seed of the deterministic choices
	End        time.Time // last discharge date
}

// Load creates the demo facility through h (the service's handler) with the API tokens of one
// user per role. Accounts are DEMO-00001, DEMO-00002, …
func Load(h http.Handler, tokens map[store.Role]string, o Options) (*Counts, error) {
	scen, err := fixtures.Scenarios()
	if err != nil {
		return nil, err
	}
	d := &demo{h: h, tokens: tokens}
	return d.load(scen, o.Discharges, o.InHouse, o.Seed, o.End)
}

// demo drives the service's handler in process as its demo users.
type demo struct {
	h      http.Handler
	tokens map[store.Role]string
}

// call sends one request and decodes the answer into out; a status other than want is an error.
func (d *demo) call(role store.Role, method, path string, body, out any, want ...int) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", "Bearer "+d.tokens[role])
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet {
		// A change of an existing record names the version it read (If-Match), as a user's would.
		parts := strings.SplitN(path, "/", 5) // "", v1, kind, id, action
		if len(parts) >= 4 && method != http.MethodPost || len(parts) == 5 {
			g := httptest.NewRequest(http.MethodGet, strings.Join(parts[:4], "/"), nil)
			g.Header.Set("Authorization", "Bearer "+d.tokens[role])
			grec := httptest.NewRecorder()
			d.h.ServeHTTP(grec, g)
			if tag := grec.Header().Get("ETag"); tag != "" {
				req.Header.Set("If-Match", tag)
			}
		}
	}
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, req)
	if len(want) == 0 {
		want = []int{http.StatusOK, http.StatusCreated}
	}
	for _, w := range want {
		if rec.Code == w {
			if out != nil && rec.Code < 300 {
				if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
					return rec.Code, fmt.Errorf("%s %s: %w", method, path, err)
				}
			}
			return rec.Code, nil
		}
	}
	return rec.Code, fmt.Errorf("%s %s: %d %s", method, path, rec.Code, strings.TrimSpace(rec.Body.String()))
}

// load creates the encounters: n discharged over the 18 months ending at end (the most recent
// tenth left for the coders, the others finalized), and inHouse still in house. One in three
// discharges and every in-house stay is reviewed by the CDI specialist; reviewed encounters
// with a query to draft get one, in the states of demoQueryStates in turn (a finalized
// encounter's query is answered or closed before final coding).
func (d *demo) load(scen []fixtures.Scenario, n, inHouse int, seed uint64, end time.Time) (*Counts, error) {
	rng := rand.New(rand.NewPCG(seed, 0x64656d6f))
	c := &Counts{ByStatus: map[string]int{}, QueryByState: map[string]int{}}
	start := end.AddDate(0, -18, 1)
	span := end.Sub(start).Hours() / 24
	total := n + inHouse
	openState := 0
	for i := range total {
		s := scen[i%len(scen)]
		enc := cloneMap(s.Encounter)
		los := 2 + rng.IntN(6)
		var discharge time.Time
		inhouse := i >= n
		if inhouse {
			discharge = end.AddDate(0, 0, 1+rng.IntN(3)) // the stay goes on
		} else {
			discharge = start.AddDate(0, 0, int(float64(i)*span/float64(n)))
		}
		admit := discharge.AddDate(0, 0, -los)
		if inhouse {
			admit = end.AddDate(0, 0, -rng.IntN(4))
		}
		shiftEncounter(enc, admit)
		enc["account"] = fmt.Sprintf("DEMO-%05d", i+1)
		enc["facility"] = demoFacilities[rng.IntN(len(demoFacilities))]
		enc["payer"] = demoPayers[rng.IntN(len(demoPayers))]
		enc["attending_provider"] = demoProviders[rng.IntN(len(demoProviders))]
		if pdx, ok := enc["pdx"].(map[string]any); ok {
			if code, _ := pdx["code"].(string); code != "" {
				if sl, ok := demoServiceLines[code[0]]; ok {
					enc["service_line"] = sl
				} else {
					enc["service_line"] = "MEDICINE"
				}
			}
		}
		delete(enc, "discharge_date")
		delete(enc, "length_of_stay")
		delete(enc, "version")
		if !inhouse {
			enc["discharge_date"] = discharge.Format(time.DateOnly)
			if _, ok := enc["discharge_status"]; !ok {
				enc["discharge_status"] = 1
			}
		}
		var created store.Encounter
		if _, err := d.call(store.RoleCDI, "POST", "/v1/encounters", enc, &created); err != nil {
			return nil, fmt.Errorf("%s (%s): %w", enc["account"], s.Name, err)
		}
		c.Encounters++
		id := created.ID
		if created.PDX != nil {
			if _, err := d.call(store.RoleCoder, "POST", "/v1/encounters/"+id+"/group", nil, nil); err != nil {
				return nil, fmt.Errorf("%s: %w", enc["account"], err)
			}
		}
		recent := !inhouse && i >= n-n/10
		if inhouse || i%3 == 0 || recent {
			var rev api.CDIReview
			if _, err := d.call(store.RoleCDI, "POST", "/v1/encounters/"+id+"/review", nil, &rev); err != nil {
				return nil, fmt.Errorf("%s: review: %w", enc["account"], err)
			}
			c.Reviewed++
			state := "answered" // and closed with its answer before final coding
			if inhouse || recent {
				state = demoQueryStates[openState%len(demoQueryStates)]
			} else if rng.IntN(4) == 0 {
				state = "closed"
			}
			if ok, err := d.query(id, &rev, state, inhouse || recent); err != nil {
				return nil, fmt.Errorf("%s: %w", enc["account"], err)
			} else if ok {
				c.QueryByState[state]++
				if inhouse || recent {
					openState++
				}
			}
		}
		if inhouse || recent || created.PDX == nil {
			continue
		}
		code, err := d.call(store.RoleCoder, "POST", "/v1/encounters/"+id+"/finalize", map[string]any{}, nil, http.StatusOK, http.StatusConflict)
		if err != nil {
			return nil, fmt.Errorf("%s: finalize: %w", enc["account"], err)
		}
		if code == http.StatusConflict {
			c.Blocked++
		}
	}
	var page struct {
		Items []store.Encounter `json:"items"`
		Next  string            `json:"next_cursor"`
	}
	for cursor := ""; ; cursor = page.Next {
		page.Next = ""
		if _, err := d.call(store.RoleAdmin, "GET", "/v1/encounters?limit=1000&cursor="+cursor, nil, &page); err != nil {
			return nil, err
		}
		for _, x := range page.Items {
			if strings.HasPrefix(x.Account, "DEMO-") {
				c.ByStatus[string(x.Status)]++
			}
		}
		if page.Next == "" {
			break
		}
	}
	return c, nil
}

// query drafts a query from the first opportunity of the review that has one to draft and
// takes it to state; false when the review has none.
func (d *demo) query(id string, rev *api.CDIReview, state string, keepOpen bool) (bool, error) {
	if rev.Review == nil {
		return false, nil
	}
	for _, o := range rev.Review.Opportunities {
		if o.Query.Format == "" {
			continue
		}
		var dr api.QueryDraft
		code, err := d.call(store.RoleCDI, "POST", "/v1/encounters/"+id+"/queries", map[string]any{"opportunity_id": o.ID}, &dr,
			http.StatusCreated, http.StatusUnprocessableEntity, http.StatusConflict)
		if err != nil {
			return false, err
		}
		if code != http.StatusCreated || !dr.Lint.OK {
			continue
		}
		q := "/v1/queries/" + dr.Query.ID
		if state == "draft" {
			return true, nil
		}
		if _, err := d.call(store.RoleCDI, "POST", q+"/send", nil, nil); err != nil {
			return false, err
		}
		switch state {
		case "answered":
			body := map[string]any{"outcome": "agree", "option": 0, "text": "Agree, documented in the progress note."}
			if len(dr.Query.Options) == 0 {
				body = map[string]any{"outcome": "other", "text": "See the progress note."}
			}
			body["close"] = !keepOpen // an answer closes the query unless the specialist keeps it open
			if _, err := d.call(store.RoleCDI, "POST", q+"/answer", body, nil); err != nil {
				return false, err
			}
		case "escalated":
			if _, err := d.call(store.RoleCDI, "POST", q+"/escalate", map[string]any{"reason": "no answer after two reminders"}, nil); err != nil {
				return false, err
			}
		case "closed":
			if _, err := d.call(store.RoleCDI, "POST", q+"/close", map[string]any{"reason": "provider unavailable; closed by policy"}, nil); err != nil {
				return false, err
			}
		}
		return true, nil
	}
	return false, nil
}

// shiftEncounter moves the encounter's admission to admit and every evidence time by the same
// offset, so that the clinical timeline keeps its intervals.
func shiftEncounter(enc map[string]any, admit time.Time) {
	orig, err := time.Parse(time.DateOnly, fmt.Sprint(enc["admit_date"]))
	if err != nil {
		// an in-house scenario without an admission date: the evidence dates anchor it
		orig = admit
	}
	shift := admit.Sub(orig)
	enc["admit_date"] = admit.Format(time.DateOnly)
	ev, _ := enc["evidence"].([]any)
	for _, x := range ev {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		if s, ok := m["time"].(string); ok {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				m["time"] = t.Add(shift).Format(time.RFC3339)
			}
		}
	}
	for _, k := range []string{"procedures"} {
		ps, _ := enc[k].([]any)
		for _, x := range ps {
			if m, ok := x.(map[string]any); ok {
				if s, ok := m["date"].(string); ok {
					if t, err := time.Parse(time.DateOnly, s); err == nil {
						m["date"] = t.Add(shift).Format(time.DateOnly)
					}
				}
			}
		}
	}
}

// cloneMap deep-copies a decoded JSON object.
func cloneMap(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}
