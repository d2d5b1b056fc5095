package batch

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/mce"
	"github.com/msdrg-cdi/drg/tables"
)

// MCERecord is the Medicare Code Editor output of one claim: the CMS oracle record plus a
// human-readable message per edit.
type MCERecord struct {
	mce.OracleRecord
	Messages []mce.Message `json:"messages"`
}

// MCESummaryColumns are the columns of the CSV summary of MCE output.
var MCESummaryColumns = []string{"id", "edit_type", "edits", "messages"}

// MCEProcessor runs the Medicare Code Editor for Run.
type MCEProcessor struct {
	Data    *tables.MCEData
	Options mce.Options
	Format  OutputFormat

	pool sync.Pool
}

// Encoder returns the encoder matching the processor's output format.
func (p *MCEProcessor) Encoder() Encoder {
	if p.Format == OutCSV {
		return CSVEncoder{Columns: MCESummaryColumns}
	}
	return JSONLEncoder{}
}

// Record edits one claim and returns its record.
func (p *MCEProcessor) Record(c *claim.Claim) MCERecord {
	r, _ := p.pool.Get().(*mce.Result)
	if r == nil {
		r = &mce.Result{}
	}
	defer p.pool.Put(r)
	r.Edit(p.Data, c, p.Options)
	msgs := r.Messages()
	if msgs == nil {
		msgs = []mce.Message{} // "messages": [], never null
	}
	return MCERecord{OracleRecord: r.Record(c.ID), Messages: msgs}
}

// Check implements Checker: the claim fields no editing can read (claim.Check).
func (p *MCEProcessor) Check(c *claim.Claim) error { return c.Check().Err() }

// Process implements Processor. A claim with a field no editing can read (claim.Check) is
// not edited: the error names every such field.
func (p *MCEProcessor) Process(c *claim.Claim, dst []byte) ([]byte, error) {
	if err := p.Check(c); err != nil {
		return dst, err
	}
	rec := p.Record(c)
	if p.Format == OutCSV {
		dst = AppendCSVField(dst, rec.ID)
		dst = append(dst, ',')
		dst = appendMCEFields(dst, rec)
		return append(dst, ",,\n"...), nil
	}
	return appendJSON(dst, rec)
}

// appendMCEFields appends the edit_type, edits (EDIT:count;…) and messages CSV fields of rec.
func appendMCEFields(dst []byte, rec MCERecord) []byte {
	dst = append(dst, rec.EditType...)
	dst = append(dst, ',')
	var edits, msgs []string
	for _, e := range rec.Edits {
		edits = append(edits, e.Edit.String()+":"+strconv.Itoa(e.Count))
	}
	for _, m := range rec.Messages {
		msgs = append(msgs, m.Text)
	}
	dst = AppendCSVField(dst, strings.Join(edits, ";"))
	dst = append(dst, ',')
	return AppendCSVField(dst, strings.Join(msgs, "; "))
}

// MCEColumns are the columns drg group --mce adds to the CSV summary.
var MCEColumns = []string{"mce_edit_type", "mce_edits", "mce_messages"}

// MCECSVEditor returns a CSVEditor for GroupProcessor that appends the MCE columns of a claim.
func (p *MCEProcessor) MCECSVEditor() CSVEditor {
	return func(c *claim.Claim, dst []byte) []byte { return appendMCEFields(dst, p.Record(c)) }
}

// MCEEditor returns an Editor for GroupProcessor that adds the MCE record to each result.
func (p *MCEProcessor) MCEEditor() Editor {
	return func(c *claim.Claim, dst []byte) ([]byte, error) {
		b, err := appendJSON(dst, p.Record(c))
		if err != nil {
			return dst, err
		}
		return b[:len(b)-1], nil // without the newline
	}
}

// appendJSON appends v as one JSON line without HTML escaping (codes are shown as written).
func appendJSON(dst []byte, v any) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return dst, err
	}
	return buf.Bytes(), nil
}
