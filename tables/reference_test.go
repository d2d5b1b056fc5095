package tables

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	refOnce sync.Once
	refData *MSDRG
	refErr  error
)

func decodedGrouper(tb testing.TB) *MSDRG {
	tb.Helper()
	cms := sharedCMS(tb)
	refOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join(cms, GrouperFile))
		if err != nil {
			refErr = err
			return
		}
		refData, refErr = DecodeMSDRG(b)
	})
	if refErr != nil {
		tb.Fatal(refErr)
	}
	return refData
}

// readDump returns the rows (header dropped) of a reference dump of ../shared.
func readDump(tb testing.TB, version, name string) [][]string {
	tb.Helper()
	p := filepath.Join(sharedCMS(tb), "msdrg", "reference", version, name+".tsv.gz")
	f, err := os.Open(p)
	if err != nil {
		tb.Skipf("reference dump %s absent: %v", p, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var rows [][]string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for first := true; sc.Scan(); first = false {
		if !first {
			rows = append(rows, strings.Split(sc.Text(), "\t"))
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return rows
}

// compareRows checks that the decoded rows equal the dump rows exactly, as sets of lines.
func compareRows(t *testing.T, what string, want [][]string, got []string) {
	t.Helper()
	w := make([]string, len(want))
	for i, r := range want {
		w[i] = strings.Join(r, "\t")
	}
	sort.Strings(w)
	sort.Strings(got)
	wi, gi, diffs := 0, 0, 0
	for wi < len(w) || gi < len(got) {
		switch {
		case gi == len(got) || (wi < len(w) && w[wi] < got[gi]):
			if diffs < 10 {
				t.Errorf("%s: missing row %q", what, w[wi])
			}
			diffs++
			wi++
		case wi == len(w) || got[gi] < w[wi]:
			if diffs < 10 {
				t.Errorf("%s: unexpected row %q", what, got[gi])
			}
			diffs++
			gi++
		default:
			wi++
			gi++
		}
	}
	if diffs > 0 {
		t.Errorf("%s: %d differing rows (dump %d rows, decoded %d)", what, diffs, len(w), len(got))
	}
	if len(w) == 0 {
		t.Errorf("%s: empty dump", what)
	}
}

func sortedWords(s string) string {
	w := strings.Fields(s)
	sort.Strings(w)
	return strings.Join(w, " ")
}

func join(l []string) string { return strings.Join(l, " ") }

func joinInts(l []int) string {
	s := make([]string, len(l))
	for i, n := range l {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}

func orEmpty(s string, ok bool) string {
	if !ok {
		return ""
	}
	return s
}

// TestDecodeEqualsReferenceDumps compares every row of the reference dumps of versions 40.0
// and 43.1 with the decoded tables.
func TestDecodeEqualsReferenceDumps(t *testing.T) {
	m := decodedGrouper(t)
	for _, v := range []Version{400, 431} {
		dir := fmt.Sprintf("v%d", v)
		t.Run(dir+"/dx", func(t *testing.T) {
			var got []string
			for code, recs := range m.Dx {
				r, ok := Pick(recs, v)
				if !ok {
					continue
				}
				group := ""
				if g, ok := Pick(m.PdxExclusions[code], v); ok {
					group = strconv.Itoa(g.Group)
				}
				var hacOps, hacNums, clusters string
				if h, ok := Pick(m.HACInfos[code], v); ok {
					hacOps, hacNums = join(h.Operands), joinInts(h.Numbers)
				}
				if cl, ok := Pick(m.CodeClusters[code], v); ok {
					clusters = join(cl.IDs)
				}
				gender := "{}"
				if g, ok := Pick(m.GenderMDCs[code], v); ok {
					keys := make([]int, 0, len(g.MDCBySex))
					for k := range g.MDCBySex {
						keys = append(keys, k)
					}
					sort.Ints(keys)
					parts := make([]string, len(keys))
					for i, k := range keys {
						parts[i] = fmt.Sprintf("%d=%d", k, g.MDCBySex[k])
					}
					gender = "{" + strings.Join(parts, ", ") + "}"
				}
				got = append(got, strings.Join([]string{code, strconv.Itoa(r.MDC), r.Severity.String(), group,
					join(r.Operands), join(r.Categories), hacOps, hacNums, clusters, gender}, "\t"))
			}
			compareRows(t, "dx.tsv", readDump(t, dir, "dx"), got)
		})
		t.Run(dir+"/pr", func(t *testing.T) {
			var got []string
			for code, recs := range m.Pr {
				r, ok := Pick(recs, v)
				if !ok {
					continue
				}
				clusters := ""
				if cl, ok := Pick(m.CodeClusters[code], v); ok {
					clusters = join(cl.IDs)
				}
				got = append(got, code+"\t"+join(r.Operands)+"\t"+clusters)
			}
			compareRows(t, "pr.tsv", readDump(t, dir, "pr"), got)
		})
		t.Run(dir+"/exclusion_groups", func(t *testing.T) {
			var got []string
			for id, codes := range m.ExclusionGroups {
				got = append(got, strconv.Itoa(id)+"\t"+join(codes))
			}
			compareRows(t, "exclusion_groups.tsv", readDump(t, dir, "exclusion_groups"), got)
		})
		t.Run(dir+"/formulas", func(t *testing.T) {
			// The dump lists suppression operands as an unordered set and leaves out MDC key 99
			// (the error DRG list, which no claim reaches).
			want := readDump(t, dir, "formulas")
			for _, r := range want {
				r[7] = sortedWords(r[7])
			}
			var got []string
			for mdc := range m.Formulas {
				if mdc == 99 {
					continue
				}
				for _, f := range m.FormulasFor(mdc, v) {
					rank, _ := f.Rank(v)
					got = append(got, strings.Join([]string{strconv.Itoa(mdc), strconv.Itoa(rank), strconv.Itoa(f.DRG),
						strconv.Itoa(f.BaseDRG), strconv.Itoa(f.DRGSeverity), f.Surgical, strconv.Itoa(f.RerouteMDC),
						sortedWords(join(f.SeveritySuppression)), f.Expr}, "\t"))
				}
			}
			compareRows(t, "formulas.tsv", want, got)
		})
		t.Run(dir+"/drgs", func(t *testing.T) {
			var got []string
			for drg := range m.DRGTitles {
				d, ok := Title(m.DRGTitles, drg, v)
				if !ok {
					continue
				}
				base := orEmpty(Title(m.BaseDRGTitles, drg, v))
				got = append(got, fmt.Sprintf("%03d\t%s\t%s", drg, d, base))
			}
			compareRows(t, "drgs.tsv", readDump(t, dir, "drgs"), got)
		})
		t.Run(dir+"/mdcs", func(t *testing.T) {
			var got []string
			for mdc := range m.MDCTitles {
				if d, ok := Title(m.MDCTitles, mdc, v); ok {
					got = append(got, strconv.Itoa(mdc)+"\t"+d)
				}
			}
			compareRows(t, "mdcs.tsv", readDump(t, dir, "mdcs"), got)
		})
		t.Run(dir+"/hacs", func(t *testing.T) {
			var got []string
			for hac := range m.HACTitles {
				d, ok := Title(m.HACTitles, hac, v)
				if !ok {
					continue
				}
				var exprs []string
				for _, f := range m.HACFormulas[hac] {
					if f.Versions.Has(v) {
						exprs = append(exprs, f.Expr)
					}
				}
				got = append(got, strconv.Itoa(hac)+"\t"+d+"\t"+strings.Join(exprs, "||"))
			}
			compareRows(t, "hacs.tsv", readDump(t, dir, "hacs"), got)
		})
	}
}
