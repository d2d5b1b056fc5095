package main

import (
	"fmt"

	"github.com/msdrg-cdi/drg/tables"
)

func init() {
	commands["tables"] = command{"reference data: 'tables info' shows what is loaded, 'tables import' adds CMS files", runTables}
}

func runTables(e *env) int {
	if len(e.args) == 0 {
		return usageError(e, "tables: want a subcommand: info or import")
	}
	sub, args := e.args[0], e.args[1:]
	switch sub {
	case "info":
		fs := newFlags(e, "tables info", "[--data DIR]")
		data := fs.String("data", "", "data directory (default: $DRG_DATA, ./data, ../shared/cms)")
		if st, ok := parseFlags(fs, args); !ok {
			return st
		}
		cat, err := loadCatalog(e, *data)
		if err != nil {
			return fail(e, "%v", err)
		}
		if err := tables.Info(cat).WriteText(e.stdout); err != nil {
			return fail(e, "write: %v", err)
		}
		return exitOK
	case "import":
		fs := newFlags(e, "tables import", "[--dest DIR] PATH...")
		dest := fs.String("dest", "data", "data directory to fill")
		if st, ok := parseFlags(fs, args); !ok {
			return st
		}
		if fs.NArg() == 0 {
			fs.Usage()
			return usageError(e, "tables import: give the CMS files to import (zip, jar, bin, csv)")
		}
		imported, err := tables.Import(fs.Args(), *dest)
		if err != nil {
			return fail(e, "%v", err)
		}
		for _, im := range imported {
			fmt.Fprintf(e.stdout, "%s → %s (%s, %d bytes, sha256 %s)", im.Source, im.Dest, im.Kind, im.Size, im.SHA256)
			if im.Detail != "" {
				fmt.Fprintf(e.stdout, ": %s", im.Detail)
			}
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, "imported %d file(s) into %s\n", len(imported), *dest)
		return exitOK
	}
	return usageError(e, "tables: unknown subcommand %q (want info or import)", sub)
}
