package casemix

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/msdrg-cdi/drg/claim"
)

// readAll reads s with the given workers and returns the discharges by id.
func readAll(t *testing.T, s string, workers int) (map[string]Discharge, ReadStats, error) {
	t.Helper()
	var mu sync.Mutex
	out := map[string]Discharge{}
	st, err := ReadDischarges(strings.NewReader(s), workers, func(_ int, d *Discharge) {
		mu.Lock()
		out[d.ID] = *d
		mu.Unlock()
	})
	return out, st, err
}

func TestReadDischargesFields(t *testing.T) {
	in := strings.Join([]string{
		// Field order free, nested values skipped, escapes in skipped and read strings, CRLF.
		`{"dx":[{"code":"A\"]}","hacs":"[]"}],"final":{"mdc":5,"drg":291,"titles":{"x":[1,2,{"y":null}]},"type":"MEDICAL","severity":"MCC"},` +
			`"id":"a\u00e9","discharge_date":"2026-05-01","facility":"M\u00c1IN","payer":null,"weight":1.2e0,"ok":true}` + "\r",
		"",
		`  {"id":"b","version":431,"discharge_date":"20251001","final":{"drg":999,"mdc":0,"type":"NONE","severity":"NONE"},"attending_provider":{"name":"x","id":"P9"}}  `,
		`{"line":3,"id":"c","error":"pdx: required","errors":[{"field":"pdx","message":"required"}]}`,
		`{"id":"d","final":{"drg":293},"baseline":{"drg":293,"mdc":5},"working":{"drg":291},` +
			`"working_coding":{"pdx":{"code":"I5023","poa":"Y"},"procedures":[{"code":"02703DZ"}]},"final_coding":{"pdx":{"code":"I5023"}},` +
			`"queries":[{"id":"q","specialist":"S","provider":"P","answered":true,"drg_before":293,"drg_after":291}]}`,
		``,
	}, "\n")
	got, st, err := readAll(t, in, 1)
	if err != nil {
		t.Fatal(err)
	}
	if st != (ReadStats{Records: 3, ErrorRecords: 1, Blank: 1}) {
		t.Errorf("stats %+v", st)
	}
	want := map[string]Discharge{
		"aé": {ID: "aé", DischargeDate: date("2026-05-01"), Facility: "MÁIN", Final: Assignment{291, 5, "MEDICAL", "MCC"}},
		"b":  {ID: "b", Version: 431, DischargeDate: date("2025-10-01"), Provider: "P9", Final: Assignment{999, 0, "NONE", "NONE"}},
		"d": {ID: "d", Final: Assignment{DRG: 293}, Baseline: &Assignment{DRG: 293, MDC: 5}, Working: &Assignment{DRG: 291},
			WorkingCoding: &Coding{PDX: &claim.Dx{Code: "I5023", POA: "Y"}, Procedures: []claim.Proc{{Code: "02703DZ"}}},
			FinalCoding:   &Coding{PDX: &claim.Dx{Code: "I5023"}},
			Queries:       []Query{{ID: "q", Specialist: "S", Provider: "P", Answered: true, DRGBefore: 293, DRGAfter: 291}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestReadDischargesErrors(t *testing.T) {
	good := `{"id":"x","final":{"drg":291}}`
	tests := []struct {
		in   string
		want string
	}{
		{good + "\n[1,2]\n", "line 2: not a JSON object"},
		{good + "\n" + good + "\n{\"id\":\"y\"}\n", `line 3: no "final" DRG`},
		{`{"id":"x","final":{"drg":"291"}}`, "want an integer"},
		{`{"id":"x","final":{"drg":291}`, "line 1: unexpected end of JSON"},
		{`{"id":"x","final":{"drg":291}} {}`, "line 1: text after the JSON object"},
		{`{"id":"x","discharge_date":"2026-02-30","final":{"drg":291}}`, "line 1: discharge_date: invalid date"},
		{`{"id":"x","final":{"drg":291},"queries":[{"answered":"yes"}]}`, "line 1: json: cannot unmarshal"},
		{`{"id":"x","dx":["unterminated],"final":{"drg":291}}`, "line 1: unexpected end of JSON"},
	}
	for _, tc := range tests {
		_, _, err := readAll(t, tc.in, 2)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

// TestReadDischargesChunks: many records, lines longer than a chunk, one-byte reads, gzip
// and several workers give the same records and the right line number of a late error.
func TestReadDischargesChunks(t *testing.T) {
	var b strings.Builder
	long := strings.Repeat("x", chunkSize+100)
	const n = 3000
	for i := range n {
		pad := ""
		if i == 1500 {
			pad = long
		}
		fmt.Fprintf(&b, `{"id":"r%d","discharge_date":"2026-05-01","final":{"drg":%d},"pad":%q}`+"\n", i, 291+i%3, pad)
	}
	in := b.String()
	check := func(name string, st ReadStats, got map[string]Discharge, err error) {
		t.Helper()
		if err != nil || st.Records != n || len(got) != n || got["r1500"].Final.DRG != 291 || got["r2999"].Final.DRG != 293 {
			t.Errorf("%s: err %v, stats %+v, %d records", name, err, st, len(got))
		}
	}
	for _, workers := range []int{1, 2, 4} {
		got, st, err := readAll(t, in, workers)
		check(fmt.Sprintf("%d workers", workers), st, got, err)
	}
	var mu sync.Mutex
	got := map[string]Discharge{}
	st, err := ReadDischarges(iotest.OneByteReader(strings.NewReader(in)), 2, func(_ int, d *Discharge) {
		mu.Lock()
		got[d.ID] = *d
		mu.Unlock()
	})
	check("one-byte reads", st, got, err)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(in))
	zw.Close()
	got = map[string]Discharge{}
	st, err = ReadDischarges(&gz, 2, func(_ int, d *Discharge) {
		mu.Lock()
		got[d.ID] = *d
		mu.Unlock()
	})
	check("gzip", st, got, err)

	_, _, err = readAll(t, in+"oops\n", 2)
	if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("line %d: ", n+1)) {
		t.Errorf("late error %v, want line %d", err, n+1)
	}
	_, _, err = readAll(t, strings.Replace(in, `{"id":"r10"`, `{"id":r10`, 1)+"oops\n", 2)
	if err == nil || !strings.HasPrefix(err.Error(), "line 11: ") {
		t.Errorf("two errors: %v, want the first (line 11)", err)
	}
}

func TestReadDischargesReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := ReadDischarges(iotest.ErrReader(boom), 1, func(int, *Discharge) {})
	if !errors.Is(err, boom) {
		t.Errorf("error %v, want the reader's", err)
	}
}

// TestReadDischargesMatchesEncodingJSON: Discharge's own JSON reads back through the fast
// reader as through encoding/json.
func TestReadDischargesMatchesEncodingJSON(t *testing.T) {
	ds, _ := readFixture(t, "population.jsonl")
	for _, d := range ds {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Discharge
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		p := newParser()
		if err := p.record(b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p.d, back) || !reflect.DeepEqual(p.d, d) {
			t.Errorf("%s: reader %+v, encoding/json %+v", d.ID, p.d, back)
		}
	}
}
