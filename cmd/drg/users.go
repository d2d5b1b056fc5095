package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/msdrg-cdi/drg/store"
)

func init() {
	commands["users"] = command{"manage API users: add (prints the new token), list, tokens (lists API tokens without secrets)", runUsers}
}

func runUsers(e *env) int {
	if len(e.args) == 0 {
		return usageError(e, "users: want a subcommand: add, list or tokens (drg users add --db DSN --name NAME --role ROLE [--expires 90d])")
	}
	switch e.args[0] {
	case "tokens":
		return runUsersTokens(&env{ctx: e.ctx, args: e.args[1:], stdin: e.stdin, stdout: e.stdout, stderr: e.stderr})
	case "add":
		return runUsersAdd(&env{ctx: e.ctx, args: e.args[1:], stdin: e.stdin, stdout: e.stdout, stderr: e.stderr})
	case "list":
		return runUsersList(&env{ctx: e.ctx, args: e.args[1:], stdin: e.stdin, stdout: e.stdout, stderr: e.stderr})
	}
	return usageError(e, "users: unknown subcommand %q: want add, list or tokens", e.args[0])
}

// runUsersAdd creates a user and prints its API token on the last line of stdout (the token
// is not stored and cannot be shown again). The first admin is made this way.
func runUsersAdd(e *env) int {
	fs := newFlags(e, "users add", "--db DSN --name NAME --role coder|cdi|finance|admin [--expires 90d]")
	dsn := fs.String("db", dbFlagDefault(), "database: sqlite:PATH or a postgres:// URL (default: $DRG_DB, else sqlite:./drg.db)")
	name := fs.String("name", "", "user name (unique)")
	role := fs.String("role", "", "role: coder, cdi, finance or admin")
	expires := fs.String("expires", "", "the token expires after this long: 90d, 12h, 30m (default: never)")
	if st, ok := parseFlags(fs, e.args); !ok {
		return st
	}
	var opt store.TokenOptions
	if *expires != "" {
		d, err := parseExpiry(*expires)
		if err != nil {
			return usageError(e, "users add: --expires: %v", err)
		}
		opt.ExpiresAt = time.Now().Add(d)
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
	u, token, err := st.CreateUser(e.ctx, store.CLIActor, *name, r, opt)
	if err != nil {
		return fail(e, "users add: %v", err)
	}
	fmt.Fprintf(e.stdout, "created user %q (id %d, role %s) in %s\n", u.Name, u.ID, u.Role, describeDSN(*dsn))
	if !opt.ExpiresAt.IsZero() {
		fmt.Fprintf(e.stdout, "the token expires at %s\n", opt.ExpiresAt.UTC().Format(time.RFC3339))
	}
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

// parseExpiry reads a token lifetime: a number of days ("90d") or a Go duration ("12h").
func parseExpiry(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 3650 {
			return 0, fmt.Errorf("%q: want a number of days from 1 to 3650 (90d) or a duration (12h)", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d <= 0 {
			return 0, fmt.Errorf("%q: want a number of days (90d) or a positive duration (12h)", s)
		}
	}
	return d, nil
}

// runUsersTokens lists the API tokens (of one user with --name) without their secrets: id,
// user, the hash prefix the audit log names, creation and expiry.
func runUsersTokens(e *env) int {
	fs := newFlags(e, "users tokens", "--db DSN [--name NAME]")
	dsn := fs.String("db", dbFlagDefault(), "database: sqlite:PATH or a postgres:// URL")
	name := fs.String("name", "", "only this user's tokens")
	if st, ok := parseFlags(fs, e.args); !ok {
		return st
	}
	if fs.NArg() > 0 {
		return usageError(e, "users tokens: unexpected argument %q", fs.Arg(0))
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
	names := map[int64]string{}
	var only int64
	for _, u := range us {
		names[u.ID] = u.Name
		if *name != "" && u.Name == *name {
			only = u.ID
		}
	}
	if *name != "" && only == 0 {
		return fail(e, "users tokens: no user named %q", *name)
	}
	ts, err := st.ListTokens(e.ctx, only)
	if err != nil {
		return fail(e, "%v", err)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tuser\thash_prefix\tcreated\texpires\tstatus")
	for _, t := range ts {
		exp, status := "never", "valid"
		if t.ExpiresAt != nil {
			exp = t.ExpiresAt.Format("2006-01-02 15:04")
		}
		if t.Expired {
			status = "expired"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, names[t.UserID], t.HashPrefix, t.CreatedAt.Format("2006-01-02 15:04"), exp, status)
	}
	if err := tw.Flush(); err != nil {
		return fail(e, "%v", err)
	}
	return exitOK
}
