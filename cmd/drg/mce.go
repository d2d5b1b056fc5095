package main

import (
	"fmt"

	"github.com/msdrg-cdi/drg/batch"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/parity"
	"github.com/msdrg-cdi/drg/tables"
)

func init() {
	commands["mce"] = command{"run the Medicare Code Editor on a claim file", runMCE}
}

func runMCE(e *env) int {
	fs := newFlags(e, "mce", "[--data DIR] [--in FILE|-] [--out FILE|-] [--format tsv|jsonl|csv] [--out-format jsonl|csv]")
	var bf batchFlags
	bf.register(fs)
	if st, ok := parseFlags(fs, e.args); !ok {
		return st
	}
	if fs.NArg() > 0 {
		return usageError(e, "mce: unexpected argument %q (use --in)", fs.Arg(0))
	}
	inFormat, outFormat, _, err := bf.resolve()
	if err != nil {
		return usageError(e, "mce: %v", err)
	}
	cat, err := loadCatalog(e, bf.data)
	if err != nil {
		return fail(e, "%v", err)
	}
	data, err := cat.MCE()
	if err != nil {
		return fail(e, "%v", err)
	}
	p := &batch.MCEProcessor{Data: data, Format: outFormat}
	return runBatch(e, bf, inFormat, p, p.Encoder())
}

// newEditor returns the editors that drg group --mce adds to each record (JSON and CSV).
func newEditor(cat *tables.Catalog) (batch.Editor, batch.CSVEditor, error) {
	data, err := cat.MCE()
	if err != nil {
		return nil, nil, err
	}
	p := &batch.MCEProcessor{Data: data}
	return p.MCEEditor(), p.MCECSVEditor(), nil
}

// newMCEParity returns the MCE comparison for drg parity --mce.
func newMCEParity(cat *tables.Catalog) (*parity.MCEReport, func(int, []byte, *claim.Claim) error, error) {
	data, err := cat.MCE()
	if err != nil {
		return nil, nil, err
	}
	p := &batch.MCEProcessor{Data: data}
	rep := parity.NewMCEReport()
	return rep, func(line int, want []byte, c *claim.Claim) error {
		return rep.Add(line, want, p.Record(c).OracleRecord)
	}, nil
}

func printMCEParity(e *env, r *parity.MCEReport) {
	w := e.stdout
	fmt.Fprintf(w, "claims compared:          %d\n", r.Claims)
	fmt.Fprintf(w, "edit type agreement:      %.3f%%\n", parity.Pct(r.EditType, r.Claims))
	fmt.Fprintf(w, "edit count agreement:     %.3f%%\n", parity.Pct(r.Counts, r.Claims))
	fmt.Fprintf(w, "per-code edit lists:      %.3f%% (%d codes)\n", parity.Pct(r.Codes, r.CodesTotal), r.CodesTotal)
	fmt.Fprintf(w, "full record agreement:    %.3f%%\n", parity.Pct(r.Full, r.Claims))
	printMismatches(w, r.FieldDiffs, r.Listed)
	fmt.Fprintln(w, r.Summary())
}
