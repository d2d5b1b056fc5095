package main

import (
	"errors"

	"github.com/msdrg-cdi/drg/batch"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/tables"
)

func init() {
	commands["mce"] = command{"run the Medicare Code Editor on a claim file", runMCE}
}

var errNoMCE = errors.New("the Medicare Code Editor is not available in this build yet")

func newEditor(cat *tables.Catalog) (batch.Editor, error) { return nil, errNoMCE }

type mceReport struct{}

func newMCEParity(cat *tables.Catalog) (*mceReport, func(int, []byte, *claim.Claim) error, error) {
	return nil, nil, errNoMCE
}

func printMCEParity(e *env, r *mceReport) {}

func runMCE(e *env) int { return fail(e, "%v", errNoMCE) }
