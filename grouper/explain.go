package grouper

// tracer records the path taken by one claim for Explain.
type tracer struct {
	rows []tracedRow
}

type tracedRow struct {
	ph  phase
	mdc int
	r   *row
	ok  bool
	sev Severity
}

func (t *tracer) row(ph phase, mdc int, r *row, ok bool, sev Severity) {
	t.rows = append(t.rows, tracedRow{ph, mdc, r, ok, sev})
}

func (t *tracer) render(s *state, r *Result) string { return "" }
