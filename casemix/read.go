package casemix

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// ReadStats counts the lines ReadDischarges read.
type ReadStats struct {
	Records      int `json:"records"`       // discharge records handed to the callback
	ErrorRecords int `json:"error_records"` // error records of `drg group` ({"line":N,"error":…}), skipped
	Blank        int `json:"blank_lines"`   // empty lines, skipped
}

// chunkSize is the size of the blocks ReadDischarges hands to its workers.
const chunkSize = 4 << 20

// ReadDischarges reads discharge records, one JSON object per line (JSON Lines, gzip
// detected), and calls fn for each with the index of the worker goroutine that parsed it
// (0 ≤ worker < workers). fn is called concurrently by different workers, never concurrently
// for one worker; d is reused after fn returns, so fn must copy what it keeps. workers ≤ 0
// means GOMAXPROCS.
//
// A record is the output of `drg group` — only id, version, discharge_date, final
// {drg, mdc, type, severity} and payment {status_transfer, per_diem_days} are decoded; dx, pr, titles and the rest are skipped without
// being decoded — optionally extended with the encounter fields facility, payer,
// service_line, attending_provider ({"id": …} or a string) and the CDI fields baseline,
// working, working_coding, final_coding and queries (Discharge's JSON names). Error records
// ({"line": N, "error": …}) are counted and skipped. A line that is not a JSON object, or a
// record without "final", stops the read with an error naming the line.
func ReadDischarges(r io.Reader, workers int, fn func(worker int, d *Discharge)) (ReadStats, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return ReadStats{}, fmt.Errorf("read gzip input: %w", err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}

	type chunk struct {
		buf   []byte
		line0 int // line number of the chunk's first line
	}
	var (
		chunks = make(chan chunk, workers)
		free   = make(chan []byte, workers+2)
		stop   atomic.Bool
		wg     sync.WaitGroup
		mu     sync.Mutex
		stats  ReadStats
		first  *lineError
	)
	fail := func(e *lineError) {
		mu.Lock()
		if first == nil || e.line < first.line {
			first = e
		}
		mu.Unlock()
		stop.Store(true)
	}
	for w := range workers {
		wg.Go(func() {
			p := newParser()
			var st ReadStats
			for c := range chunks {
				if !stop.Load() {
					if e := p.chunk(c.buf, c.line0, w, fn, &st); e != nil {
						fail(e)
					}
				}
				select {
				case free <- c.buf[:0]:
				default:
				}
			}
			mu.Lock()
			stats.Records += st.Records
			stats.ErrorRecords += st.ErrorRecords
			stats.Blank += st.Blank
			mu.Unlock()
		})
	}

	var readErr error
	line := 1
	var carry []byte
	for !stop.Load() {
		var buf []byte
		select {
		case buf = <-free:
		default:
			buf = make([]byte, 0, chunkSize)
		}
		buf = append(buf, carry...)
		if cap(buf) < len(buf)+chunkSize/2 {
			nb := make([]byte, len(buf), 2*cap(buf)+chunkSize)
			copy(nb, buf)
			buf = nb
		}
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			readErr = fmt.Errorf("read input after line %d: %w", line, err)
			break
		}
		end := len(buf)
		if !eof {
			end = bytes.LastIndexByte(buf, '\n') + 1 // 0 when the buffer holds no full line: grow it
		}
		carry = append(carry[:0], buf[end:]...)
		if end > 0 {
			chunks <- chunk{buf[:end], line}
			line += bytes.Count(buf[:end], []byte{'\n'})
		}
		if eof {
			break
		}
	}
	close(chunks)
	wg.Wait()
	if first != nil {
		return stats, first
	}
	return stats, readErr
}

// lineError is a record that cannot be read.
type lineError struct {
	line int
	msg  string
}

// Error names the line.
func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// parser decodes records; each worker has its own (it interns attribute strings).
type parser struct {
	d      Discharge
	strs   map[string]string
	sc     scanner
	hasFin bool
	isErr  bool
}

func newParser() *parser { return &parser{strs: map[string]string{}} }

func (p *parser) chunk(buf []byte, line, worker int, fn func(int, *Discharge), st *ReadStats) *lineError {
	for len(buf) > 0 {
		var ln []byte
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			ln, buf = buf[:i], buf[i+1:]
		} else {
			ln, buf = buf, nil
		}
		ln = bytes.TrimSpace(ln)
		switch {
		case len(ln) == 0:
			st.Blank++
		default:
			if err := p.record(ln); err != nil {
				return &lineError{line, err.Error()}
			}
			if p.isErr {
				st.ErrorRecords++
			} else {
				st.Records++
				fn(worker, &p.d)
			}
		}
		line++
	}
	return nil
}

// intern returns a string equal to b, shared by every record of the worker.
func (p *parser) intern(b []byte) string {
	if s, ok := p.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(p.strs) < 1<<16 {
		p.strs[s] = s
	}
	return s
}

// record decodes one line into p.d.
func (p *parser) record(line []byte) error {
	p.d = Discharge{}
	p.hasFin, p.isErr = false, false
	s := &p.sc
	s.reset(line)
	if s.peek() != '{' {
		return errors.New("not a JSON object")
	}
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "id":
			return p.str(&p.d.ID, false)
		case "version":
			n, err := s.int()
			p.d.Version = n
			return err
		case "discharge_date":
			v, err := s.str()
			if err != nil {
				return err
			}
			if p.d.DischargeDate, err = parseDate(v); err != nil {
				return fmt.Errorf("discharge_date: %w", err)
			}
			return nil
		case "final":
			p.hasFin = true
			return p.assignment(&p.d.Final)
		case "facility":
			return p.attr(&p.d.Facility)
		case "payer":
			return p.attr(&p.d.Payer)
		case "service_line":
			return p.attr(&p.d.ServiceLine)
		case "attending_provider":
			if s.peek() == '{' {
				return s.object(func(k []byte) error {
					if string(k) == "id" {
						return p.attr(&p.d.Provider)
					}
					return s.skip()
				})
			}
			return p.attr(&p.d.Provider)
		case "error":
			p.isErr = true
			return s.skip()
		case "baseline":
			return p.raw(&p.d.Baseline)
		case "working":
			return p.raw(&p.d.Working)
		case "working_coding":
			return p.raw(&p.d.WorkingCoding)
		case "final_coding":
			return p.raw(&p.d.FinalCoding)
		case "queries":
			return p.raw(&p.d.Queries)
		case "payment":
			if s.peek() == 'n' {
				return s.skip()
			}
			return s.object(func(k []byte) error {
				switch string(k) {
				case "status_transfer":
					return p.attr(&p.d.Payment.StatusTransfer)
				case "per_diem_days":
					n, err := s.int()
					p.d.Payment.PerDiemDays = n
					return err
				}
				return s.skip()
			})
		}
		return s.skip()
	})
	if err != nil {
		return err
	}
	if s.ws(); s.i != len(s.b) {
		return errors.New("text after the JSON object")
	}
	if !p.hasFin && !p.isErr {
		return errors.New(`no "final" DRG: not a grouping result`)
	}
	return nil
}

// assignment decodes {"drg","mdc","type","severity",…}.
func (p *parser) assignment(a *Assignment) error {
	s := &p.sc
	return s.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "drg":
			a.DRG, err = s.int()
		case "mdc":
			a.MDC, err = s.int()
		case "type":
			err = p.attr(&a.Type)
		case "severity":
			err = p.attr(&a.Severity)
		default:
			err = s.skip()
		}
		return err
	})
}

// attr decodes a string value into an interned string (null leaves it empty).
func (p *parser) attr(dst *string) error { return p.str(dst, true) }

// str decodes a string value (null leaves it empty), interned or not.
func (p *parser) str(dst *string, intern bool) error {
	s := &p.sc
	if s.peek() == 'n' {
		return s.skip()
	}
	start := s.i
	v, err := s.str()
	if err != nil {
		return err
	}
	if s.escaped {
		var t string
		if err := json.Unmarshal(s.b[start:s.i], &t); err != nil {
			return err
		}
		v = []byte(t)
	}
	if intern {
		*dst = p.intern(v)
	} else {
		*dst = string(v)
	}
	return nil
}

// raw decodes the next value with encoding/json (CDI fields only; not on the hot path).
func (p *parser) raw(dst any) error {
	s := &p.sc
	start := s.i
	if err := s.skip(); err != nil {
		return err
	}
	return json.Unmarshal(s.b[start:s.i], dst)
}

// parseDate reads YYYY-MM-DD without allocating; other forms go through claim.ParseDate.
func parseDate(b []byte) (claim.Date, error) {
	if len(b) == 10 && b[4] == '-' && b[7] == '-' {
		y, ok1 := digits(b[0:4])
		m, ok2 := digits(b[5:7])
		d, ok3 := digits(b[8:10])
		if ok1 && ok2 && ok3 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m) {
			return claim.Date{Year: y, Month: time.Month(m), Day: d}, nil
		}
	}
	return claim.ParseDate(string(b))
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
