// Command drg is the MS-DRG grouper and CDI service: batch grouping, the Medicare Code Editor,
// oracle parity checks, reference-data management and the HTTP service.
//
// Exit status: 0 success, 1 runtime or I/O failure, 2 usage error, 130 interrupted.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"

	"github.com/msdrg-cdi/drg/tables"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// env is what a subcommand runs with: its arguments and the process streams.
type env struct {
	ctx    context.Context
	args   []string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	summary string
	run     func(e *env) int
}

// commands holds the subcommands; each file registers its own in an init function.
var commands = map[string]command{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if p := os.Getenv("DRG_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	status := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	pprof.StopCPUProfile()
	os.Exit(status)
}

// run executes one drg command line and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "drg: unknown command %q\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return cmd.run(&env{ctx: ctx, args: args[1:], stdin: stdin, stdout: stdout, stderr: stderr})
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: drg <command> [flags]   (drg <command> -h for its flags)")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
}

// newFlags returns a flag set that reports errors on the command's stderr.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("drg "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: drg %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses the command's flags; ok is false with the exit status to return.
func parseFlags(fs *flag.FlagSet, args []string) (status int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}

// fail prints one line for err and returns the failure status.
func fail(e *env, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(e.stderr, "drg: "+strings.TrimSpace(msg))
	return exitFailure
}

// usageError prints one line and returns the usage status.
func usageError(e *env, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "drg: "+format+"\n", args...)
	return exitUsage
}

// loadCatalog resolves the data directory and loads it, printing the warnings about missing
// optional data once.
func loadCatalog(e *env, dataFlag string) (*tables.Catalog, error) {
	dir, err := tables.ResolveDataDir(dataFlag)
	if err != nil {
		return nil, err
	}
	cat, err := tables.Load(dir)
	if err != nil {
		return nil, err
	}
	if len(cat.Warnings) > 0 && firstTimeFor(dir, cat.Warnings) {
		for _, w := range cat.Warnings {
			fmt.Fprintln(e.stderr, "drg: warning: "+w)
		}
		fmt.Fprintln(e.stderr, "drg: (these warnings about the data directory are shown once; drg tables info lists them)")
	}
	return cat, nil
}

// firstTimeFor reports whether the warnings of data directory dir are new: it remembers each
// directory's warnings in the user's cache directory ($XDG_CACHE_HOME/drg), so that a warning
// about missing optional data is printed once per data directory, not on every command. When
// the cache cannot be written, every command prints them.
func firstTimeFor(dir string, warnings []string) bool {
	cache, err := os.UserCacheDir()
	if err != nil {
		return true
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	sum := sha256.Sum256([]byte(abs + "\x00" + strings.Join(warnings, "\x00")))
	marker := filepath.Join(cache, "drg", "warned", hex.EncodeToString(sum[:16]))
	if _, err := os.Stat(marker); err == nil {
		return false
	}
	if err := os.MkdirAll(filepath.Dir(marker), 0o755); err != nil {
		return true
	}
	_ = os.WriteFile(marker, []byte(abs+"\n"+strings.Join(warnings, "\n")+"\n"), 0o644)
	return true
}

// openInput opens a file or "-" for stdin.
func openInput(e *env, path string) (io.ReadCloser, int64, error) {
	if path == "" || path == "-" {
		return io.NopCloser(e.stdin), 0, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	return f, size, nil
}

// createOutput creates a file or returns stdout for "-".
func createOutput(e *env, path string) (io.WriteCloser, error) {
	if path == "" || path == "-" {
		return nopWriteCloser{e.stdout}, nil
	}
	return os.Create(path)
}

type nopWriteCloser struct{ io.Writer }

// Close does nothing: stdout stays open.
func (nopWriteCloser) Close() error { return nil }

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
