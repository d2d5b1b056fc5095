package batch

import (
	"errors"
	"slices"
	"strconv"
	"sync"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/tables"
)

// OutputFormat is the format of grouping output.
type OutputFormat uint8

// Grouping output formats.
const (
	OutJSONL OutputFormat = iota // one full result per line (oracle field names, titles, weights)
	OutCSV                       // one summary row per claim
)

// SummaryColumns are the columns of the CSV summary output.
var SummaryColumns = []string{"id", "version", "final_drg", "mdc", "type", "severity", "weight", "grc", "title"}

// Editor runs the Medicare Code Editor on a claim and appends its result as a JSON object.
type Editor func(c *claim.Claim, dst []byte) ([]byte, error)

// CSVEditor runs the Medicare Code Editor on a claim and appends its MCEColumns as CSV fields.
type CSVEditor func(c *claim.Claim, dst []byte) []byte

// GroupProcessor groups claims for Run.
type GroupProcessor struct {
	Engine  *grouper.Engine
	Options grouper.Options
	// Version forces a grouper version; 0 uses the claim's version, else its discharge date.
	Version tables.Version
	// Loaded is the list of loaded versions for date-based selection.
	Loaded []tables.Version
	// Weights gives the Table 5 weights and transfer flags that weigh each claim by the
	// fiscal year of its discharge date (nil: no weights); see Weigh.
	Weights WeightSource
	// Describe, when set, explains each code the version does not recognize in the result's
	// warnings (AddInvalidCodeWarnings).
	Describe Describer
	// MCE, when set, runs the code editor and adds its result as "mce" (JSONL output);
	// MCECSV adds it as the MCEColumns of the CSV summary.
	MCE    Editor
	MCECSV CSVEditor
	Format OutputFormat

	pool sync.Pool
}

// Encoder returns the encoder matching the processor's output format.
func (p *GroupProcessor) Encoder() Encoder {
	if p.Format == OutCSV {
		if p.MCECSV != nil {
			return CSVEncoder{Columns: append(slices.Clone(SummaryColumns), MCEColumns...)}
		}
		return CSVEncoder{Columns: SummaryColumns}
	}
	return JSONLEncoder{}
}

// ChooseVersion sets the claim's grouper version: forced, else the claim's own, else the
// one in effect on its discharge date. The error names the field.
func ChooseVersion(c *claim.Claim, forced tables.Version, loaded []tables.Version) error {
	if forced != 0 {
		c.Version = int(forced)
		return nil
	}
	if c.Version != 0 {
		return nil
	}
	v, err := tables.VersionForDate(c.DischargeDate, loaded)
	if err != nil {
		if errors.Is(err, tables.ErrNoDischargeDate) {
			return &claim.FieldError{Field: "discharge_date", Message: "required to choose the grouper version (or give version / --version)"}
		}
		return &claim.FieldError{Field: "discharge_date", Message: err.Error()}
	}
	c.Version = int(v)
	return nil
}

// Check implements Checker: the claim fields no grouping can read (claim.Check).
func (p *GroupProcessor) Check(c *claim.Claim) error { return c.Check().Err() }

// Process implements Processor.
func (p *GroupProcessor) Process(c *claim.Claim, dst []byte) ([]byte, error) {
	if err := ChooseVersion(c, p.Version, p.Loaded); err != nil {
		return dst, claim.Errors(nil).Merge(err, c.Check())
	}
	r, _ := p.pool.Get().(*grouper.Result)
	if r == nil {
		r = &grouper.Result{}
	}
	defer p.pool.Put(r)
	if err := p.Engine.GroupInto(c, p.Options, r); err != nil {
		var uv *grouper.UnknownVersionError
		if errors.As(err, &uv) {
			return dst, &claim.FieldError{Field: "version", Message: err.Error()}
		}
		return dst, err
	}
	if p.Describe != nil {
		AddInvalidCodeWarnings(r, c, p.Describe)
	}
	if p.Weights != nil {
		Weigh(r, c, p.Weights)
	}
	if p.Format == OutCSV {
		dst = appendSummaryRow(dst, r)
		if p.MCECSV != nil {
			dst = append(dst, ',')
			dst = p.MCECSV(c, dst)
		}
		return append(dst, ",,\n"...), nil // line and error columns stay empty
	}
	dst = r.AppendJSON(dst)
	if p.MCE != nil {
		dst = dst[:len(dst)-1] // reopen the object
		dst = append(dst, `,"mce":`...)
		var err error
		if dst, err = p.MCE(c, dst); err != nil {
			return dst, err
		}
		dst = append(dst, '}')
	}
	return append(dst, '\n'), nil
}

func appendSummaryRow(dst []byte, r *grouper.Result) []byte {
	dst = AppendCSVField(dst, r.ID)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(r.Version), 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(r.Final.DRG), 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(r.Final.MDC), 10)
	dst = append(dst, ',')
	dst = append(dst, r.Final.Type.String()...)
	dst = append(dst, ',')
	dst = append(dst, r.Final.Severity.String()...)
	dst = append(dst, ',')
	if r.Weight != 0 {
		dst = strconv.AppendFloat(dst, r.Weight, 'f', 4, 64)
	}
	dst = append(dst, ',')
	dst = append(dst, r.Final.GRC.String()...)
	dst = append(dst, ',')
	return AppendCSVField(dst, r.Final.DRGTitle)
}
