package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/msdrg-cdi/drg/store"
)

func init() {
	commands["users"] = command{"manage API users: add (prints the new token), list", runUsers}
}

func runUsers(e *env) int {
	if len(e.args) == 0 {
		return usageError(e, "users: want a subcommand: add or list (drg users add --db DSN --name NAME --role ROLE)")
	}
	switch e.args[0] {
	case "add":
		return runUsersAdd(&env{ctx: e.ctx, args: e.args[1:], stdin: e.stdin, stdout: e.stdout, stderr: e.stderr})
	case "list":
		return runUsersList(&env{ctx: e.ctx, args: e.args[1:], stdin: e.stdin, stdout: e.stdout, stderr: e.stderr})
	}
	return usageError(e, "users: unknown subcommand %q: want add or list", e.args[0])
}

// runUsersAdd creates a user and prints its API token on the last line of stdout (the token
// is not stored and cannot be shown again). The first admin is made this way.
func runUsersAdd(e *env) int {
	fs := newFlags(e, "users add", "--db DSN --name NAME --role coder|cdi|finance|admin")
	dsn := fs.String("db", dbFlagDefault(), "database: sqlite:PATH or a postgres:// URL (default: $DRG_DB, else sqlite:./drg.db)")
	name := fs.String("name", "", "user name (unique)")
	role := fs.String("role", "", "role: coder, cdi, finance or admin")
	if st, ok := parseFlags(fs, e.args); !ok {
		return st
	}
	if fs.NArg() > 0 {
		return usageError(e, "users add: unexpected argument %q", fs.Arg(0))
	}
	if *name == "" {
		return usageError(e, "users add: --name is required")
	}
	r, err := store.ParseRole(*role)
	if err != nil {
		return usageError(e, "users add: --role: %v", errors.Unwrap(err))
	}
	st, err := store.Open(e.ctx, *dsn, store.Options{})
	if err != nil {
		return fail(e, "%v", err)
	}
	defer st.Close()
	u, token, err := st.CreateUser(e.ctx, store.CLIActor, *name, r)
	if err != nil {
		return fail(e, "users add: %v", err)
	}
	fmt.Fprintf(e.stdout, "created user %q (id %d, role %s) in %s\n", u.Name, u.ID, u.Role, describeDSN(*dsn))
	fmt.Fprintln(e.stdout, "API token (shown once; send it as Authorization: Bearer <token>):")
	fmt.Fprintln(e.stdout, token)
	return exitOK
}

func runUsersList(e *env) int {
	fs := newFlags(e, "users list", "--db DSN")
	dsn := fs.String("db", dbFlagDefault(), "database: sqlite:PATH or a postgres:// URL")
	if st, ok := parseFlags(fs, e.args); !ok {
		return st
	}
	st, err := store.Open(e.ctx, *dsn, store.Options{})
	if err != nil {
		return fail(e, "%v", err)
	}
	defer st.Close()
	us, err := st.ListUsers(e.ctx)
	if err != nil {
		return fail(e, "%v", err)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tname\trole\tdisabled\tcreated")
	for _, u := range us {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%s\n", u.ID, u.Name, u.Role, u.Disabled, u.CreatedAt.Format("2006-01-02 15:04"))
	}
	if err := tw.Flush(); err != nil {
		return fail(e, "%v", err)
	}
	return exitOK
}
