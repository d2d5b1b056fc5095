package api_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/store"
)

// BenchmarkReports times report requests over a store of DRG_REPORT_BENCH_N final-coded
// encounters (default 2,000; the README quotes 100,000), a third of them CDI-reviewed:
//
//	DRG_REPORT_BENCH_N=100000 go test ./api -run '^$' -bench BenchmarkReports -benchtime 5x -timeout 60m
func BenchmarkReports(b *testing.B) {
	n := 2000
	if s := os.Getenv("DRG_REPORT_BENCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	ts := newTestServer(b)
	_, eng := catalog(b)
	codeSets := []store.Codes{
		{PDX: &store.Code{Code: "I5023", POA: "Y"}, SDX: []store.Code{{Code: "J9601", POA: "Y"}, {Code: "E119", POA: "Y"}}},
		{PDX: &store.Code{Code: "I5023", POA: "Y"}, SDX: []store.Code{{Code: "N179", POA: "Y"}}},
		{PDX: &store.Code{Code: "I5023", POA: "Y"}},
		{PDX: &store.Code{Code: "J189", POA: "Y"}, SDX: []store.Code{{Code: "J9601", POA: "Y"}}},
		{PDX: &store.Code{Code: "J189", POA: "Y"}},
		{PDX: &store.Code{Code: "A419", POA: "Y"}, SDX: []store.Code{{Code: "N179", POA: "Y"}}},
	}
	drgs := make([]*store.DRG, len(codeSets))
	for i := range codeSets {
		e := &store.Encounter{DischargeDate: claim.Date{Year: 2026, Month: 5, Day: 1}, Age: intp(70), Sex: "M", DischargeStatus: intp(1), Codes: codeSets[i]}
		cl := e.Claim(nil)
		cl.Version = 431
		r, err := eng.Group(cl, grouper.Options{})
		if err != nil {
			b.Fatal(err)
		}
		drgs[i] = &store.DRG{DRG: r.Final.DRG, MDC: r.Final.MDC, Type: r.Final.Type.String(), Severity: r.Final.Severity.String(), Version: r.Version}
	}
	ctx := context.Background()
	cdiActor := store.Actor{UserID: 2, Name: "cdi", Role: store.RoleCDI}
	coderActor := store.Actor{UserID: 3, Name: "coder", Role: store.RoleCoder}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < n; i += 32 {
				k := i % len(codeSets)
				e := &store.Encounter{Account: fmt.Sprintf("B%07d", i), Facility: "MAIN", Payer: []string{"MEDICARE", "COMMERCIAL"}[i%2],
					ServiceLine: "MEDICINE", AttendingProvider: &claim.Provider{ID: fmt.Sprintf("P%d", i%20)}, Age: intp(70), Sex: "M", DischargeStatus: intp(1),
					DischargeDate: dateOf(time.Date(2025, time.Month(10+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)), Codes: codeSets[k]}
				c, err := ts.st.CreateEncounter(ctx, store.CLIActor, e)
				if err == nil && i%3 == 0 {
					_, err = ts.st.UpdateEncounter(ctx, cdiActor, c.ID, 0, "group", func(x *store.Encounter) error {
						x.BaselineDRG, x.WorkingDRG = drgs[(k+1)%len(drgs)], drgs[k]
						return nil
					})
				}
				if err == nil {
					_, err = ts.st.UpdateEncounter(ctx, coderActor, c.ID, 0, "finalize", func(x *store.Encounter) error {
						fc := x.Codes
						x.FinalCodes, x.FinalDRG, x.WorkingDRG, x.Status = &fc, drgs[k], drgs[k], store.StatusFinal
						if x.BaselineDRG == nil {
							x.BaselineDRG = drgs[k]
						}
						return nil
					})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	for _, p := range []string{"cmi?by=month,payer", "drg-mix?from=2026-04-01&to=2026-06-30", "severity", "mismatches", "cdi-impact",
		"distribution?to=2026-09-30&history=3", "denial-risk?limit=100", "version-impact?from_version=42.1&to_version=43.1&weights_year=2026"} {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				if r := ts.do("GET", "/v1/reports/"+p, finance, nil); r.StatusCode != 200 {
					b.Fatalf("%s: %d %.300s", p, r.StatusCode, r.body)
				}
			}
		})
	}
}

func dateOf(t time.Time) claim.Date {
	return claim.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

func intp(n int) *int { return &n }
