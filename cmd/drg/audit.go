package main

import (
	"fmt"

	"github.com/msdrg-cdi/drg/store"
)

func init() {
	commands["audit"] = command{"audit log: 'audit verify' checks its hash chain (exit 1 naming the first broken row)", runAuditLog}
}

func runAuditLog(e *env) int {
	if len(e.args) == 0 || e.args[0] != "verify" {
		return usageError(e, "audit: want a subcommand: verify (drg audit verify --db DSN)")
	}
	fs := newFlags(e, "audit verify", "--db DSN")
	dsn := fs.String("db", dbFlagDefault(), "database: sqlite:PATH or a postgres:// URL (default: $DRG_DB, else sqlite:./drg.db)")
	if st, ok := parseFlags(fs, e.args[1:]); !ok {
		return st
	}
	if fs.NArg() > 0 {
		return usageError(e, "audit verify: unexpected argument %q", fs.Arg(0))
	}
	// Read only: no migration (the application role may verify too).
	st, err := store.Open(e.ctx, *dsn, store.Options{NoMigrate: true})
	if err != nil {
		return fail(e, "%v", err)
	}
	defer st.Close()
	v, err := st.VerifyAudit(e.ctx)
	if err != nil {
		return fail(e, "audit verify: %v", err)
	}
	if !v.OK() {
		fmt.Fprintf(e.stdout, "audit log BROKEN at row %d: %s (%d rows verified before it)\n", v.BrokenAt, v.Problem, v.Rows)
		return fail(e, "audit verify: the audit log's hash chain is broken at row %d", v.BrokenAt)
	}
	fmt.Fprintf(e.stdout, "audit log OK: %d rows, last row %d, head hash %s\n", v.Rows, v.LastID, v.HeadHash)
	return exitOK
}
