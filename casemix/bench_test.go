package casemix

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/msdrg-cdi/drg/grouper"
)

// BenchmarkCMI1M measures the CMI report by month over 1,000,000 `drg group` records read
// from a JSON Lines file (≈2 GB): the 20,000 v43.1 oracle claims grouped by the engine with
// titles and FY2026 weights, written 50 times with distinct ids. The file is written once
// per run, outside the timed loop; the timed part opens it, parses it with all cores and
// builds the report. Run with:
//
//	go test ./casemix -run '^$' -bench CMI1M -benchtime 1x -count 3
func BenchmarkCMI1M(b *testing.B) {
	c := realCatalog(b)
	claims, _ := oracleSample(b, 431, 20000)
	if len(claims) != 20000 {
		b.Skip("oracle claims not available")
	}
	eng := grouper.New(c.MSDRG)
	titles := DRGTitles(c.MSDRG, 431)
	w := c.Weights[2026]
	path := filepath.Join(b.TempDir(), "results.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	var r grouper.Result
	var line []byte
	const copies = 50
	for i := range claims {
		cl := claims[i]
		if err := eng.GroupInto(&cl, grouper.Options{}, &r); err != nil {
			b.Fatal(err)
		}
		r.Final.DRGTitle, r.Initial.DRGTitle = titles(r.Final.DRG), titles(r.Initial.DRG)
		if row, ok := w.Get(r.Final.DRG); ok {
			r.Weight, r.GMLOS, r.AMLOS = row.Weight, row.GMLOS, row.AMLOS
		}
		for k := range copies {
			r.ID = fmt.Sprintf("%s-%02d", cl.ID, k)
			line = append(r.AppendJSON(line[:0]), '\n')
			bw.Write(line)
		}
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	opt := CMIOptions{Weights: Weights{Tables: c.Weights}, By: []Dimension{ByMonth}}
	b.ResetTimer()
	for range b.N {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		workers := runtime.GOMAXPROCS(0)
		builders := make([]*CMIBuilder, workers)
		for i := range builders {
			builders[i], _ = NewCMIBuilder(opt)
		}
		st, err := ReadDischarges(f, workers, func(w int, d *Discharge) { builders[w].Add(d) })
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		for _, x := range builders[1:] {
			builders[0].Merge(x)
		}
		rep := builders[0].Report()
		if st.Records != copies*len(claims) || rep.Overall.Discharges+rep.Excluded.Total() != st.Records {
			b.Fatalf("read %d records, report %d + %d excluded", st.Records, rep.Overall.Discharges, rep.Excluded.Total())
		}
		b.ReportMetric(float64(st.Records), "discharges")
		if b.N == 1 {
			b.Logf("%s (%d MB)", rep.Summary(), fi.Size()>>20)
		}
	}
}
