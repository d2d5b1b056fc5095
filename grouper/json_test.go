package grouper_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/msdrg-cdi/drg/grouper"
)

// TestAppendJSONMatchesEncodingJSON checks the fast encoder against encoding/json on every
// oracle claim (with explanations on a sample, which exercise string escaping).
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	e := testEngine(t)
	var buf []byte
	for i, c := range oracleClaims(t) {
		r, err := e.Group(c, grouper.Options{Explain: i%50 == 0})
		if err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			r.Weight, r.GMLOS, r.AMLOS = 1.2345, 3.1, 4.25
			r.ID = "id <&> \"quoted\" \u2028 é \x01"
		}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		buf = r.AppendJSON(buf[:0])
		if !bytes.Equal(buf, want) {
			t.Fatalf("claim %s:\nAppendJSON %s\njson       %s", c.ID, buf, want)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	e := testEngine(b)
	claims := oracleClaims(b)
	results := make([]*grouper.Result, 1000)
	for i := range results {
		results[i], _ = e.Group(claims[i], grouper.Options{})
	}
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = results[i%len(results)].AppendJSON(buf[:0])
	}
}
