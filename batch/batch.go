// Package batch streams claim files through a processor (grouping, editing) with all cores,
// constant memory and output in input order. It knows the claim file formats but nothing of
// grouping: the caller supplies the Processor.
//
// The input is read in chunks of lines; workers parse and process whole chunks into output
// buffers; a writer puts the chunks back in input order. The number of chunks in flight is
// bounded, so memory does not grow with the input. A bad line never stops the batch: the
// processor's error becomes an error record naming the line and the field.
package batch

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// Processor turns one parsed claim into one output record appended to dst. It must be safe
// for concurrent use. Errors are reported per line; they do not stop the batch.
type Processor interface {
	Process(c *claim.Claim, dst []byte) ([]byte, error)
}

// Checker is implemented by processors that judge a claim's fields beyond parsing (a sex the
// grouper cannot read): Run reports their findings together with the parse errors of a line,
// so that every field at fault is named at once.
type Checker interface {
	Check(c *claim.Claim) error
}

// Encoder writes the file-level parts of an output format and the error records.
type Encoder interface {
	Header() []byte                                          // written once before the records (may be nil)
	Error(dst []byte, line int, id string, err error) []byte // an error record for a bad line
}

// Options configure a run.
type Options struct {
	Format    claim.Format // input format; FormatUnknown sniffs the first line
	Workers   int          // 0 = all cores
	ChunkSize int          // lines per chunk; 0 = 256
	// MaxLineBytes bounds one input line (0: DefaultMaxLineBytes); a longer line ends the run
	// with ErrLineTooLong, so that one line without a line break cannot fill the memory.
	MaxLineBytes int
	// Progress, if set, is called about twice a second and at the end with the running totals.
	Progress func(p Progress)
}

// Progress is a snapshot of a running batch.
type Progress struct {
	Lines     int64
	BytesRead int64 // of the raw (possibly compressed) input
	Elapsed   time.Duration
	Done      bool
}

// Summary reports a finished (or interrupted) run.
type Summary struct {
	Lines       int            `json:"lines"`   // input lines processed (header and blank lines excluded)
	Grouped     int            `json:"grouped"` // records produced without error
	Errors      int            `json:"errors"`
	ErrorKinds  map[string]int `json:"error_kinds"` // by field name
	Elapsed     time.Duration  `json:"elapsed_ns"`
	Interrupted bool           `json:"interrupted"`
}

// Rate returns processed lines per second.
func (s Summary) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Lines) / s.Elapsed.Seconds()
}

// String renders the summary as one line.
func (s Summary) String() string {
	kinds := make([]string, 0, len(s.ErrorKinds))
	for k := range s.ErrorKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var eb bytes.Buffer
	for i, k := range kinds {
		if i > 0 {
			eb.WriteString(", ")
		}
		fmt.Fprintf(&eb, "%s %d", k, s.ErrorKinds[k])
	}
	msg := fmt.Sprintf("%d claims, %d grouped, %d errors", s.Lines, s.Grouped, s.Errors)
	if eb.Len() > 0 {
		msg += " (" + eb.String() + ")"
	}
	msg += fmt.Sprintf(", %.2fs, %.0f claims/s", s.Elapsed.Seconds(), s.Rate())
	if s.Interrupted {
		msg += ", interrupted"
	}
	return msg
}

// DefaultMaxLineBytes bounds an input line when Options.MaxLineBytes is 0: a claim with
// claim.MaxCodes diagnoses and procedures takes well under 100 KB.
const DefaultMaxLineBytes = 1 << 20

// ErrLineTooLong ends a run at a line longer than Options.MaxLineBytes.
var ErrLineTooLong = errors.New("line too long")

// ErrInterrupted is returned when the context was canceled before the input ended; the
// output holds every record before the interruption point, in order.
var ErrInterrupted = errors.New("interrupted")

type chunk struct {
	seq   int
	first int // line number of lines[0]
	data  []byte
	lines [][]byte
	out   []byte
	n     int // non-blank lines
	ok    int
	errs  map[string]int
}

// countingReader counts the bytes read from the raw input for progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

// Read implements io.Reader, counting the bytes.
func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Run streams in through p to out. It returns the summary, and an error for I/O failures
// (reading, decompressing, writing) or ErrInterrupted when ctx was canceled.
func Run(ctx context.Context, in io.Reader, out io.Writer, p Processor, enc Encoder, opt Options) (Summary, error) {
	start := time.Now()
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	size := opt.ChunkSize
	if size <= 0 {
		size = 256
	}
	raw := &countingReader{r: in}
	br := bufio.NewReaderSize(raw, 1<<20)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return Summary{}, fmt.Errorf("read gzip input: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	lr := bufio.NewReaderSize(src, 1<<20)
	maxLine := opt.MaxLineBytes
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	readLine := func(r *bufio.Reader) ([]byte, error) { return readLineMax(r, maxLine) }

	sum := Summary{ErrorKinds: map[string]int{}}
	format := opt.Format
	var header *claim.CSVHeader
	lineNo := 0

	// The first non-blank line decides the format and, for CSV, is the header.
	var pending []byte
	for format == claim.FormatUnknown || format == claim.FormatCSV {
		line, err := readLine(lr)
		if len(line) == 0 && err != nil {
			if err == io.EOF {
				break
			}
			return sum, fmt.Errorf("read input: %w", err)
		}
		lineNo++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if format == claim.FormatUnknown {
			format = claim.SniffFormat(line)
			if format == claim.FormatUnknown {
				return sum, fmt.Errorf("line %d: cannot tell the input format (tsv, jsonl or csv): use --format", lineNo)
			}
		}
		if format == claim.FormatCSV {
			h, err := claim.ParseCSVHeader(line)
			if err != nil {
				return sum, fmt.Errorf("line %d: %w", lineNo, err)
			}
			header = h
		} else {
			pending = append([]byte(nil), line...)
			lineNo--
		}
		break
	}
	if h := enc.Header(); len(h) > 0 {
		if _, err := out.Write(h); err != nil {
			return sum, fmt.Errorf("write output: %w", err)
		}
	}

	maxInFlight := 4 * workers
	sem := make(chan struct{}, maxInFlight)
	jobs := make(chan *chunk, maxInFlight)
	done := make(chan *chunk, maxInFlight)
	pool := sync.Pool{New: func() any { return &chunk{} }}
	var readErr error
	var stop, interrupted atomic.Bool // stop: the writer failed; interrupted: ctx canceled
	var linesRead atomic.Int64

	// Reader.
	go func() {
		defer close(jobs)
		seq := 0
		for {
			select {
			case <-ctx.Done():
				interrupted.Store(true)
				return
			case sem <- struct{}{}:
			}
			if stop.Load() {
				<-sem
				return
			}
			ch := pool.Get().(*chunk)
			ch.seq, ch.first = seq, lineNo+1
			ch.data, ch.lines = ch.data[:0], ch.lines[:0]
			var offsets []int
			eof := false
			for len(offsets) < size {
				var line []byte
				var err error
				if pending != nil {
					line, pending = pending, nil
				} else {
					line, err = readLine(lr)
				}
				if len(line) > 0 || err == nil {
					lineNo++
					offsets = append(offsets, len(ch.data))
					ch.data = append(ch.data, line...)
				}
				if err != nil {
					if err != io.EOF {
						readErr = fmt.Errorf("read input after line %d: %w", lineNo, err)
					}
					eof = true
					break
				}
			}
			for i, off := range offsets {
				end := len(ch.data)
				if i+1 < len(offsets) {
					end = offsets[i+1]
				}
				ch.lines = append(ch.lines, ch.data[off:end])
			}
			linesRead.Store(int64(lineNo))
			if len(ch.lines) > 0 {
				jobs <- ch
				seq++
			} else {
				<-sem
			}
			if eof {
				return
			}
		}
	}()

	// Workers.
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range jobs {
				process(ch, format, header, p, enc)
				done <- ch
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	// Progress ticker.
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		if opt.Progress == nil {
			return
		}
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-t.C:
				opt.Progress(Progress{Lines: linesRead.Load(), BytesRead: raw.n.Load(), Elapsed: time.Since(start)})
			}
		}
	}()

	// Writer: chunks back in input order.
	var writeErr error
	waiting := map[int]*chunk{}
	next := 0
	for ch := range done {
		waiting[ch.seq] = ch
		for {
			c, ok := waiting[next]
			if !ok {
				break
			}
			delete(waiting, next)
			next++
			if writeErr == nil {
				if _, err := out.Write(c.out); err != nil {
					writeErr = fmt.Errorf("write output: %w", err)
				}
				sum.Lines += c.n
				sum.Grouped += c.ok
				for k, n := range c.errs {
					sum.ErrorKinds[k] += n
					sum.Errors += n
				}
			}
			pool.Put(c)
			<-sem
		}
		if writeErr != nil {
			stop.Store(true) // nothing more can be written: stop reading
		}
	}
	close(stopProgress)
	<-progressDone
	sum.Elapsed = time.Since(start)
	sum.Interrupted = ctx.Err() != nil && interrupted.Load()
	if opt.Progress != nil {
		opt.Progress(Progress{Lines: int64(sum.Lines), BytesRead: raw.n.Load(), Elapsed: sum.Elapsed, Done: true})
	}
	switch {
	case writeErr != nil:
		return sum, writeErr
	case readErr != nil:
		return sum, readErr
	case sum.Interrupted:
		return sum, ErrInterrupted
	}
	return sum, nil
}

// readLineMax returns the next line without its line ending; the returned slice is only
// valid until the next read. A line longer than max bytes is ErrLineTooLong.
func readLineMax(r *bufio.Reader, max int) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		buf := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			if len(buf) > max {
				return nil, fmt.Errorf("%w: a line is longer than %d bytes", ErrLineTooLong, max)
			}
			line, err = r.ReadSlice('\n')
			buf = append(buf, line...)
		}
		line = buf
	}
	if len(line) > max+2 { // the line ending aside
		return nil, fmt.Errorf("%w: a line is longer than %d bytes", ErrLineTooLong, max)
	}
	line = bytes.TrimRight(line, "\r\n")
	return line, err
}

// process parses and processes the lines of one chunk.
func process(ch *chunk, format claim.Format, header *claim.CSVHeader, p Processor, enc Encoder) {
	ch.out, ch.ok, ch.n = ch.out[:0], 0, 0
	clear(ch.errs)
	if ch.errs == nil {
		ch.errs = map[string]int{}
	}
	for i, line := range ch.lines {
		n := ch.first + i
		if len(bytes.TrimSpace(line)) == 0 {
			continue // blank lines carry no claim
		}
		ch.n++
		var c *claim.Claim
		var err error
		switch format {
		case claim.FormatTSV:
			if fe := claim.CheckLineText(line, '\t'); fe != nil {
				err = fe
			} else {
				c, err = claim.ParseTSV(string(line))
			}
		case claim.FormatJSONL:
			c, err = claim.ParseJSON(line) // text rules: claim.Decode
		case claim.FormatCSV:
			if fe := claim.CheckLineText(line, ','); fe != nil {
				err = fe
			} else {
				c, err = header.ParseCSV(line)
			}
		}
		if ck, ok := p.(Checker); ok && err != nil && c != nil {
			err = claim.Errors(nil).Merge(err, ck.Check(c)) // every field at fault at once
		}
		if err == nil {
			before := len(ch.out)
			ch.out, err = p.Process(c, ch.out)
			if err != nil {
				ch.out = ch.out[:before]
			}
		}
		if err != nil {
			id := ""
			if c != nil {
				id = c.ID
			}
			ch.errs[errorKind(err)]++
			ch.out = enc.Error(ch.out, n, id, err)
			continue
		}
		ch.ok++
	}
}

// errorKind names the kind of a line error: the field it concerns.
func errorKind(err error) string {
	if fes := claim.AsFieldErrors(err); len(fes) > 0 {
		return fes[0].Field
	}
	return "other"
}
