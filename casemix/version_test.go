package casemix

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/internal/shared"
)

// TestVersionImpact on hand-made pairs (fixture weights): 291→291 ×3, 292→291, 469→470 ×2,
// 999→293, 293→292. From: 7 weighted (999 has none), 12.0, CMI 1.7143. To: 8 weighted, 11.5,
// CMI 1.4375. Changed 5 of 8; weight change over pairs weighted on both sides
// +0.5 −2.0 +0.5 = −1.0.
func TestVersionImpact(t *testing.T) {
	w := fixtureWeights(t)[2026]
	b, err := NewVersionImpactBuilder(VersionImpactOptions{From: 421, To: 431, Weights: w, BaseRate: 5000})
	if err != nil {
		t.Fatal(err)
	}
	add := func(from, to, n int) {
		for range n {
			b.Add(Assignment{DRG: from}, Assignment{DRG: to})
		}
	}
	add(291, 291, 3)
	add(292, 291, 1)
	add(469, 470, 2)
	add(999, 293, 1)
	add(293, 292, 1)
	r := b.Report()
	if r.From != "42.1" || r.To != "43.1" || r.WeightsYear != 2026 || r.Discharges != 8 || r.Changed != 5 || r.ChangedShare != 0.625 {
		t.Errorf("header %+v", r)
	}
	if want := (VersionSide{7, 12, 1.7143, map[int]int{999: 1}}); !reflect.DeepEqual(r.FromSide, want) {
		t.Errorf("from %+v, want %+v", r.FromSide, want)
	}
	if want := (VersionSide{8, 11.5, 1.4375, nil}); !reflect.DeepEqual(r.ToSide, want) {
		t.Errorf("to %+v, want %+v", r.ToSide, want)
	}
	if r.CMIChange != -0.2768 || r.CMIChangePct != -0.1615 || r.WeightChange != -1 || r.EstimatedPaymentChange != -5000 {
		t.Errorf("CMI change %v (%v), weight change %v, payment %v; want -0.2768 (-0.1615), -1, -5000", r.CMIChange, r.CMIChangePct, r.WeightChange, r.EstimatedPaymentChange)
	}
	p := func(x float64) *float64 { return &x }
	want := []DRGShift{
		{FromDRG: 469, ToDRG: 470, Discharges: 2, WeightChangeEach: p(-1), WeightChange: -2},
		{FromDRG: 292, ToDRG: 291, Discharges: 1, WeightChangeEach: p(0.5), WeightChange: 0.5},
		{FromDRG: 293, ToDRG: 292, Discharges: 1, WeightChangeEach: p(0.5), WeightChange: 0.5},
		{FromDRG: 999, ToDRG: 293, Discharges: 1},
	}
	if !reflect.DeepEqual(r.Shifts, want) {
		t.Errorf("shifts\n got %+v\nwant %+v", r.Shifts, want)
	}
	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(&buf).ReadAll()
	if len(recs) != 6 || !reflect.DeepEqual(recs[5], []string{"all", "", "all", "", "8", "", "-1.0000"}) {
		t.Errorf("CSV %q", recs)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "v42.1: CMI 1.7143 over 7 discharges") ||
		!strings.Contains(text.String(), "v42.1: 1 excluded: DRG without Table 5 weight (999: 1)") {
		t.Errorf("text (%v):\n%s", err, text.String())
	}
}

// TestVersionImpactGroupsOracleClaims regroups the first v43.1 oracle claims under 43.0 and
// 43.1: the 43.1 side must hold exactly the oracle's final DRGs.
func TestVersionImpactGroupsOracleClaims(t *testing.T) {
	c := realCatalog(t)
	w := c.Weights[2026]
	if w == nil {
		t.Skip("no FY2026 Table 5")
	}
	claims, want := oracleSample(t, 431, 2000)
	b, err := NewVersionImpactBuilder(VersionImpactOptions{From: 430, To: 431, Weights: w})
	if err != nil {
		t.Fatal(err)
	}
	eng := grouper.New(c.MSDRG)
	for i := range claims {
		if err := b.Group(eng, &claims[i]); err != nil {
			t.Fatal(err)
		}
		if claims[i].Version != 431 {
			t.Fatal("Group modified the claim")
		}
	}
	got := map[int]int{}
	for k, n := range b.pairs {
		got[int(k[1])] += n
	}
	if !maps.Equal(got, want) {
		t.Errorf("43.1 side differs from the oracle's final DRGs")
	}
	r := b.Report()
	if r.Discharges != len(claims) || r.Changed == 0 || r.Changed == r.Discharges {
		t.Errorf("%d discharges, %d changed: want all claims, some but not all changed", r.Discharges, r.Changed)
	}
}

// oracleSample returns the first n oracle claims of version v and the count of the oracle's
// final DRGs for them.
func oracleSample(t testing.TB, v, n int) ([]claim.Claim, map[int]int) {
	t.Helper()
	open := func(rel string) *bufio.Scanner {
		f, err := os.Open(shared.Path(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		return sc
	}
	cs, es := open("oracle/public_claims.tsv.gz"), open("oracle/public_expected.jsonl.gz")
	var claims []claim.Claim
	drgs := map[int]int{}
	p := newParser()
	for len(claims) < n && cs.Scan() && es.Scan() {
		c, err := claim.ParseTSV(cs.Text())
		if err != nil {
			t.Fatal(err)
		}
		if c.Version != v {
			continue
		}
		if err := p.record(es.Bytes()); err != nil {
			t.Fatal(err)
		}
		if p.d.ID != c.ID {
			t.Fatalf("oracle files out of step: %s vs %s", p.d.ID, c.ID)
		}
		claims = append(claims, *c)
		drgs[p.d.Final.DRG]++
	}
	return claims, drgs
}
