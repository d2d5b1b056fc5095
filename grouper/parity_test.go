package grouper_test

import (
	"os"
	"sync"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/internal/shared"
	"github.com/msdrg-cdi/drg/parity"
	"github.com/msdrg-cdi/drg/tables"
)

var (
	engineOnce sync.Once
	engine     *grouper.Engine
	engineErr  error
)

func testEngine(tb testing.TB) *grouper.Engine {
	tb.Helper()
	path := shared.Path(tb, "cms/msdrg/msdrg_combined.bin")
	engineOnce.Do(func() {
		var b []byte
		b, engineErr = os.ReadFile(path)
		if engineErr != nil {
			return
		}
		var m *tables.MSDRG
		m, engineErr = tables.DecodeMSDRG(b)
		if engineErr == nil {
			engine = grouper.New(m)
		}
	})
	if engineErr != nil {
		tb.Fatal(engineErr)
	}
	return engine
}

func oracleClaims(tb testing.TB) []*claim.Claim {
	tb.Helper()
	lines := shared.Lines(tb, "oracle/public_claims.tsv.gz")
	out := make([]*claim.Claim, len(lines))
	for i, l := range lines {
		c, err := claim.ParseTSV(l)
		if err != nil {
			tb.Fatalf("claims line %d: %v", i+1, err)
		}
		out[i] = c
	}
	return out
}

// TestOracleParity groups every oracle claim and compares each record with the CMS grouper's.
func TestOracleParity(t *testing.T) {
	e := testEngine(t)
	claims := oracleClaims(t)
	expected := shared.Lines(t, "oracle/public_expected.jsonl.gz")
	if len(claims) != len(expected) {
		t.Fatalf("%d claims but %d expected records", len(claims), len(expected))
	}
	rep := parity.NewGrouperReport()
	for i, c := range claims {
		r, err := e.Group(c, grouper.Options{})
		if err != nil {
			t.Fatalf("claim %s: %v", c.ID, err)
		}
		if err := rep.Add(i+1, []byte(expected[i]), r); err != nil {
			t.Fatal(err)
		}
	}
	t.Log(rep.Summary())
	t.Logf("initial DRG %.3f%%, MDC %.3f%%, return code %.3f%%", parity.Pct(rep.InitialDRG, rep.Claims), parity.Pct(rep.MDC, rep.Claims), parity.Pct(rep.GRC, rep.Claims))
	for f, n := range rep.FieldDiffs {
		t.Logf("field %s differs in %d records", f, n)
	}
	for _, m := range rep.Listed {
		t.Logf("line %d %s: %v", m.Line, m.ID, m.Diffs)
	}
	for _, check := range []struct {
		name string
		n    int
		min  float64
	}{
		{"final DRG", rep.FinalDRG, 100}, {"initial DRG", rep.InitialDRG, 100},
		{"MDC", rep.MDC, 100}, {"return code", rep.GRC, 100}, {"full record", rep.Full, 99.9},
	} {
		if p := parity.Pct(check.n, rep.Claims); p < check.min {
			t.Errorf("%s agreement %.3f%% < %.1f%%", check.name, p, check.min)
		}
	}
}
