package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/api"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/internal/demo"
	"github.com/msdrg-cdi/drg/store"
)

func init() {
	commands["demo"] = command{"load a demo facility (discharges, CDI work, queries, final coding) and demo users into a database", runDemo}
}

func runDemo(e *env) int {
	fs := newFlags(e, "demo", "[--db DSN] [--data DIR] [--discharges N] [--in-house N] [--seed N] [--end YYYY-MM-DD]")
	dsn := fs.String("db", dbFlagDefault(), "database: sqlite:PATH or a postgres:// URL (default: $DRG_DB, else sqlite:./drg.db)")
	data := fs.String("data", "", "CMS data directory")
	n := fs.Int("discharges", 300, "discharged encounters (spread over 18 months)")
	inHouse := fs.Int("in-house", 20, "encounters still in house (open CDI work)")
	seed := fs.Uint64("seed", 1, "seed of the deterministic choices (payer, facility, length of stay, states)")
	endFlag := fs.String("end", "2026-09-30", "last discharge date (inside the newest loaded grouper version)")
	if st, ok := parseFlags(fs, e.args); !ok {
		return st
	}
	if fs.NArg() > 0 {
		return usageError(e, "demo: unexpected argument %q", fs.Arg(0))
	}
	if *n < 10 || *n > 100000 || *inHouse < 0 || *inHouse > 10000 {
		return usageError(e, "demo: --discharges must be 10–100000 and --in-house 0–10000")
	}
	end, err := time.Parse(time.DateOnly, *endFlag)
	if err != nil {
		return usageError(e, "demo: --end: want YYYY-MM-DD: %v", err)
	}
	cat, err := loadCatalog(e, *data)
	if err != nil {
		return fail(e, "%v", err)
	}
	st, err := store.Open(e.ctx, *dsn, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return fail(e, "%v", err)
	}
	defer st.Close()
	if has, _, err := st.ListEncounters(e.ctx, store.EncounterFilter{Facility: "MAIN"}, 1000, ""); err == nil {
		for _, x := range has {
			if strings.HasPrefix(x.Account, "DEMO-") {
				return fail(e, "demo: %s already holds the demo facility (account %s): use a new database", describeDSN(*dsn), x.Account)
			}
		}
	}
	srv, err := api.New(api.Config{Catalog: cat, Store: st, Engine: grouper.New(cat.MSDRG), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return fail(e, "%v", err)
	}
	tokens := map[store.Role]string{}
	var users []store.User
	stamp := time.Now().UTC().Format("20060102-150405")
	for _, r := range store.Roles {
		u, tok, err := st.CreateUser(e.ctx, store.CLIActor, fmt.Sprintf("demo-%s-%s", r, stamp), r)
		if err != nil {
			return fail(e, "demo: create user: %v", err)
		}
		tokens[r] = tok
		users = append(users, u)
	}
	counts, err := demo.Load(srv.Handler(), tokens, demo.Options{Discharges: *n, InHouse: *inHouse, Seed: *seed, End: end})
	if err != nil {
		return fail(e, "demo: %v", err)
	}
	counts.QueryByState = map[string]int{}
	for cursor := ""; ; {
		qs, next, err := st.ListQueries(e.ctx, store.QueryFilter{}, 1000, cursor)
		if err != nil {
			return fail(e, "demo: %v", err)
		}
		for _, q := range qs {
			counts.QueryByState[q.State]++
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	fmt.Fprintf(e.stdout, "demo facility loaded into %s: %d encounters (%d final, %d discharged not final, %d in house), %d reviewed, queries %v, %d refused by the finalize checks (on the coding worklist)\n",
		describeDSN(*dsn), counts.Encounters, counts.ByStatus["final"], counts.ByStatus["discharged"], counts.ByStatus["open"], counts.Reviewed,
		counts.QueryByState, counts.Blocked)
	fmt.Fprintln(e.stdout, "demo users (API tokens, shown once; paste one on the sign-in page):")
	for i, r := range store.Roles {
		fmt.Fprintf(e.stdout, "  %-8s %-32s %s\n", r, users[i].Name, tokens[r])
	}
	return exitOK
}
