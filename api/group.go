package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/msdrg-cdi/drg/batch"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/tables"
)

// groupProcessors are the batch processors for the combinations of explain and mce; each
// keeps its own pool of results, so a request allocates little.
type groupProcessors struct {
	plain, explain, mce, explainMCE *batch.GroupProcessor
	mceOnly                         *batch.MCEProcessor // nil without MCE data
	mceErr                          error
	grouped                         prometheus.Counter  // claims grouped (metric)
	edited                          prometheus.Counter  // claims edited by the MCE (metric)
	groupTime, mceTime              prometheus.Observer // one claim's grouping, editing (metric)
	bufs                            sync.Pool
}

func (s *Server) initProcessors() error {
	cat := s.cfg.Catalog
	mk := func(explain bool) *batch.GroupProcessor {
		return &batch.GroupProcessor{Engine: s.grouper, Options: grouper.Options{Explain: explain},
			Loaded: cat.MSDRG.Versions, Weights: cat, Describe: cat.DescribeInvalid}
	}
	p := &s.proc
	p.plain, p.explain = mk(false), mk(true)
	data, err := cat.MCE()
	if err != nil {
		if !errors.Is(err, tables.ErrNoMCE) {
			return fmt.Errorf("api: load MCE data: %w", err)
		}
		p.mceErr = err
	} else {
		p.mceOnly = &batch.MCEProcessor{Data: data}
		p.mce, p.explainMCE = mk(false), mk(true)
		ed := p.mceOnly.MCEEditor()
		p.mce.MCE, p.explainMCE.MCE = ed, ed
	}
	p.grouped = s.metrics.grouped.WithLabelValues("group")
	p.edited = s.metrics.edited.WithLabelValues("mce")
	p.groupTime = s.metrics.grouping.WithLabelValues("group")
	p.mceTime = s.metrics.grouping.WithLabelValues("mce")
	return nil
}

// processor returns the processor for the request's explain and mce parameters; ok is false
// when a problem was written.
func (s *Server) processor(c *gin.Context) (*batch.GroupProcessor, bool) {
	explain, ok := boolParam(c, "explain")
	if !ok {
		return nil, false
	}
	withMCE, ok := boolParam(c, "mce")
	if !ok {
		return nil, false
	}
	p := &s.proc
	switch {
	case withMCE && p.mce == nil:
		WriteProblem(c, http.StatusServiceUnavailable, KindUnavailable, p.mceErr.Error())
		return nil, false
	case withMCE && explain:
		return p.explainMCE, true
	case withMCE:
		return p.mce, true
	case explain:
		return p.explain, true
	}
	return p.plain, true
}

// versionParam reads the optional ?version= (431 or 43.1) and checks it is loaded.
func (s *Server) versionParam(c *gin.Context) (tables.Version, bool) {
	q := c.Query("version")
	if q == "" {
		return 0, true
	}
	v, err := tables.ParseVersion(q)
	if err != nil {
		WriteProblem(c, http.StatusBadRequest, KindMalformed, err.Error(), &FieldError{Field: "version", Message: err.Error()})
		return 0, false
	}
	if !s.cfg.Catalog.MSDRG.HasVersion(v) {
		msg := fmt.Sprintf("grouper version %s is not loaded (loaded: %v)", v, s.cfg.Catalog.MSDRG.Versions)
		WriteValidation(c, &FieldError{Field: "version", Message: msg})
		return 0, false
	}
	return v, true
}

// parseClaim parses a claim body for processor p; the fields at fault of the parse and of
// p's checks are reported together ("body" names the whole body).
func parseClaim(c *gin.Context, b []byte, p batch.Processor) (*claim.Claim, bool) {
	if len(bytes.TrimSpace(b)) == 0 {
		WriteProblem(c, http.StatusBadRequest, KindMalformed, "empty request body: a claim object is required")
		return nil, false
	}
	cl, err := claim.ParseJSON(b)
	if err == nil {
		return cl, true
	}
	fes := claim.AsFieldErrors(err)
	if len(fes) == 1 && fes[0].Field == "line" { // not a JSON object
		fe := &FieldError{Field: "body", Message: fes[0].Message}
		WriteProblem(c, http.StatusBadRequest, KindMalformed, fe.Message, fe)
		return nil, false
	}
	if len(fes) == 0 {
		WriteProblem(c, http.StatusBadRequest, KindMalformed, err.Error())
		return nil, false
	}
	if cl != nil {
		fes = fes.Merge(check(p, cl))
	}
	WriteValidation(c, fes...)
	return nil, false
}

func (s *Server) handleGroup(c *gin.Context) {
	p, ok := s.processor(c)
	if !ok {
		return
	}
	v, ok := s.versionParam(c)
	if !ok {
		return
	}
	body, ok := ReadBody(c)
	if !ok {
		return
	}
	cl, ok := parseClaim(c, body, p)
	if !ok {
		return
	}
	if v != 0 {
		cl.Version = int(v)
	}
	s.answerOne(c, p, cl, s.proc.grouped, s.proc.groupTime)
}

func (s *Server) handleMCE(c *gin.Context) {
	p := s.proc.mceOnly
	if p == nil {
		WriteProblem(c, http.StatusServiceUnavailable, KindUnavailable, s.proc.mceErr.Error())
		return
	}
	body, ok := ReadBody(c)
	if !ok {
		return
	}
	cl, ok := parseClaim(c, body, p)
	if !ok {
		return
	}
	s.answerOne(c, p, cl, s.proc.edited, s.proc.mceTime)
}

// answerOne processes one claim into a pooled buffer and answers with the record, counting it
// and timing its processing.
func (s *Server) answerOne(c *gin.Context, p batch.Processor, cl *claim.Claim, count prometheus.Counter, took prometheus.Observer) {
	buf := s.getBuf()
	defer s.putBuf(buf)
	start := time.Now()
	out, err := p.Process(cl, (*buf)[:0])
	took.Observe(time.Since(start).Seconds())
	if err != nil {
		WriteError(c, err)
		return
	}
	*buf = out
	count.Add(1)
	c.Data(http.StatusOK, "application/json", bytes.TrimSuffix(out, []byte("\n")))
}

func (s *Server) getBuf() *[]byte {
	if b, ok := s.proc.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 4096)
	return &b
}

func (s *Server) putBuf(b *[]byte) {
	if cap(*b) <= 1<<20 {
		s.proc.bufs.Put(b)
	}
}

// handleBatch groups a JSON array of claims (answering a JSON array in the same order) or a
// stream of claims (NDJSON, CSV or TSV, answering NDJSON as it goes).
func (s *Server) handleBatch(c *gin.Context) {
	p, ok := s.processor(c)
	if !ok {
		return
	}
	v, ok := s.versionParam(c)
	if !ok {
		return
	}
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch mt {
	case "application/json", "":
		s.batchArray(c, p, v)
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-lines":
		s.batchStream(c, p, v, claim.FormatJSONL)
	case "text/csv":
		s.batchStream(c, p, v, claim.FormatCSV)
	case "text/tab-separated-values":
		s.batchStream(c, p, v, claim.FormatTSV)
	default:
		WriteProblem(c, http.StatusUnsupportedMediaType, KindUnsupported,
			"send application/json (an array of claims) or application/x-ndjson, text/csv, text/tab-separated-values")
	}
}

// batchError is the record of a claim that could not be grouped, in a JSON array batch.
type batchError struct {
	Index  int           `json:"index"`
	ID     string        `json:"id,omitempty"`
	Error  string        `json:"error"`
	Errors []*FieldError `json:"errors,omitempty"`
}

// MaxClaimBytes bounds one claim of a JSON array batch: a claim with claim.MaxCodes
// diagnoses and procedures takes well under 100 KB.
const MaxClaimBytes = 1 << 20

// batchChunk is the number of claims of a JSON array batch read, grouped and written at a
// time: the memory a batch holds, whatever its length.
const batchChunk = 256

// claimSizeReader bounds the bytes the JSON decoder may read past the start of the claim it
// decodes (start, an input offset), so that one huge claim cannot fill the memory.
type claimSizeReader struct {
	r     io.Reader
	n     int64 // bytes read
	start int64
}

var errClaimTooLarge = errors.New("claim too large")

// Read implements io.Reader.
func (l *claimSizeReader) Read(p []byte) (int, error) {
	room := l.start + MaxClaimBytes - l.n
	if room <= 0 {
		return 0, errClaimTooLarge
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// batchArray groups a JSON array of claims as a stream: claims are decoded one at a time,
// grouped batchChunk at a time on every core and written in input order as they are done,
// so memory does not grow with the batch. An array that is malformed, too long or holds a
// claim too large before anything was written is a 400 or 413 problem; after that the array
// ends with an error record {"index", "error", "stream": "aborted"} (the claims before it
// were answered). The claim counts come in the trailers X-Claims and X-Claims-Grouped.
func (s *Server) batchArray(c *gin.Context, p *batch.GroupProcessor, v tables.Version) {
	if c.Request.ContentLength > BatchJSONMaxBody {
		WriteProblem(c, http.StatusRequestEntityTooLarge, KindTooLarge,
			fmt.Sprintf("a JSON array batch is at most %d bytes: split the batch or stream NDJSON", BatchJSONMaxBody))
		return
	}
	lim := &claimSizeReader{r: http.MaxBytesReader(c.Writer, c.Request.Body, BatchJSONMaxBody)}
	dec := json.NewDecoder(lim)
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		if !readLimitProblem(c, err, 0) {
			WriteProblem(c, http.StatusBadRequest, KindMalformed, "the body must be a JSON array of claims (or send application/x-ndjson)")
		}
		return
	}
	raws := make([]json.RawMessage, 0, batchChunk)
	outs := make([][]byte, batchChunk)
	total, grouped := 0, 0
	started := false
	for {
		raws = raws[:0]
		var fail *problemError // ends the batch
		for len(raws) < batchChunk && dec.More() {
			i := total + len(raws)
			if i == MaxBatchClaims {
				fail = &problemError{http.StatusRequestEntityTooLarge, KindTooLarge,
					fmt.Sprintf("at most %d claims in one JSON array: split the batch or stream NDJSON", MaxBatchClaims), nil}
				break
			}
			lim.start = dec.InputOffset()
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				fail = batchReadProblem(err, i)
				break
			}
			raws = append(raws, raw)
			lim.start = dec.InputOffset()
		}
		last := fail != nil || !dec.More()
		if fail == nil && last {
			if _, err := dec.Token(); err != nil {
				fail = batchReadProblem(err, total+len(raws))
				if fail.kind == KindMalformed {
					fail.detail = "malformed JSON: the array is not closed"
				}
			} else if dec.More() {
				fail = &problemError{http.StatusBadRequest, KindMalformed, "the body holds more than one JSON value", nil}
			}
		}
		if fail != nil && !started {
			// Read a little of what is left so that the client, still sending, reads the
			// answer rather than a reset connection.
			_, _ = io.CopyN(io.Discard, c.Request.Body, 8<<20)
			WriteProblem(c, fail.status, fail.kind, fail.detail)
			return
		}
		grouped += s.groupChunk(p, v, raws, outs[:len(raws)], total)
		if !started {
			// Answers go out while the body is still read.
			_ = http.NewResponseController(c.Writer).EnableFullDuplex()
			c.Header("Content-Type", "application/json")
			c.Header("Trailer", "X-Claims, X-Claims-Grouped")
			c.Status(http.StatusOK)
			_, _ = c.Writer.Write([]byte{'['})
			started = true
		}
		for i, o := range outs[:len(raws)] {
			if total+i > 0 {
				_, _ = c.Writer.Write([]byte{','})
			}
			_, _ = c.Writer.Write(o)
			outs[i] = nil
		}
		total += len(raws)
		if fail != nil {
			rec, _ := json.Marshal(map[string]any{"index": total, "error": fail.detail, "stream": "aborted"})
			if total > 0 {
				_, _ = c.Writer.Write([]byte{','})
			}
			_, _ = c.Writer.Write(rec)
			Logger(c).Warn("batch ended early", "claims", total, "status", fail.status)
			_, _ = io.CopyN(io.Discard, c.Request.Body, 8<<20)
		}
		if last {
			break
		}
		c.Writer.Flush()
	}
	_, _ = c.Writer.Write([]byte{']'})
	s.proc.grouped.Add(float64(grouped))
	s.metrics.batchSize.WithLabelValues("json").Observe(float64(total))
	c.Writer.Header().Set("X-Claims", strconv.Itoa(total))
	c.Writer.Header().Set("X-Claims-Grouped", strconv.Itoa(grouped))
}

// batchReadProblem is the problem of a JSON array batch that could not be read at claim i.
func batchReadProblem(err error, i int) *problemError {
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, errClaimTooLarge):
		return &problemError{http.StatusRequestEntityTooLarge, KindTooLarge,
			fmt.Sprintf("claim %d is larger than %d bytes (a claim has at most %d secondary diagnoses and %d procedures)", i, MaxClaimBytes, claim.MaxCodes, claim.MaxCodes), nil}
	case errors.As(err, &tooBig):
		return &problemError{http.StatusRequestEntityTooLarge, KindTooLarge,
			fmt.Sprintf("a JSON array batch is at most %d bytes (cut at claim %d): split the batch or stream NDJSON", tooBig.Limit, i), nil}
	}
	return &problemError{http.StatusBadRequest, KindMalformed, fmt.Sprintf("malformed JSON in claim %d: %v", i, err), nil}
}

// readLimitProblem writes the problem of a read error that is a size limit; false for others.
func readLimitProblem(c *gin.Context, err error, i int) bool {
	if err == nil {
		return false
	}
	if p := batchReadProblem(err, i); p.status == http.StatusRequestEntityTooLarge {
		WriteProblem(c, p.status, p.kind, p.detail)
		return true
	}
	return false
}

// groupChunk groups the claims raws (the first is claim number first of the batch) on every
// core into outs, an error record for each claim that cannot be grouped, and returns how many
// were grouped.
func (s *Server) groupChunk(p *batch.GroupProcessor, v tables.Version, raws []json.RawMessage, outs [][]byte, first int) int {
	workers := min(runtime.GOMAXPROCS(0), max(1, len(raws)/16))
	var next atomic.Int64
	var grouped atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(raws) {
					return
				}
				cl, err := claim.ParseJSON(raws[i])
				if err != nil && cl != nil {
					err = claim.Errors(nil).Merge(err, check(p, cl))
				}
				var out []byte
				if err == nil {
					if v != 0 {
						cl.Version = int(v)
					}
					start := time.Now()
					out, err = p.Process(cl, nil)
					s.proc.groupTime.Observe(time.Since(start).Seconds())
				}
				if err != nil {
					be := batchError{Index: first + i, Error: err.Error(), Errors: claim.AsFieldErrors(err)}
					if cl != nil {
						be.ID = cl.ID
					}
					out, _ = json.Marshal(be)
				} else {
					grouped.Add(1)
				}
				outs[i] = bytes.TrimSuffix(out, []byte("\n"))
			}
		})
	}
	wg.Wait()
	return int(grouped.Load())
}

// flushWriter flushes the response after every write so that records stream to the client.
type flushWriter struct {
	w       gin.ResponseWriter
	written bool
}

// Write implements io.Writer.
func (f *flushWriter) Write(b []byte) (int, error) {
	f.written = true
	n, err := f.w.Write(b)
	f.w.Flush()
	return n, err
}

// countingProcessor counts the claims a processor grouped and times each.
type countingProcessor struct {
	p    batch.Processor
	n    prometheus.Counter
	took prometheus.Observer
}

// Process implements batch.Processor.
func (c countingProcessor) Process(cl *claim.Claim, dst []byte) ([]byte, error) {
	start := time.Now()
	out, err := c.p.Process(cl, dst)
	c.took.Observe(time.Since(start).Seconds())
	if err == nil {
		c.n.Inc()
	}
	return out, err
}

// Check implements batch.Checker when the wrapped processor does.
func (c countingProcessor) Check(cl *claim.Claim) error { return check(c.p, cl) }

// check runs p's claim checks when it has some.
func check(p batch.Processor, cl *claim.Claim) error {
	if ck, ok := p.(batch.Checker); ok {
		return ck.Check(cl)
	}
	return nil
}

// versionProcessor forces a grouper version on every claim.
type versionProcessor struct {
	p batch.Processor
	v tables.Version
}

// Process implements batch.Processor.
func (vp versionProcessor) Process(cl *claim.Claim, dst []byte) ([]byte, error) {
	cl.Version = int(vp.v)
	return vp.p.Process(cl, dst)
}

// Check implements batch.Checker when the wrapped processor does.
func (vp versionProcessor) Check(cl *claim.Claim) error { return check(vp.p, cl) }

func (s *Server) batchStream(c *gin.Context, p *batch.GroupProcessor, v tables.Version, format claim.Format) {
	_ = http.NewResponseController(c.Writer).EnableFullDuplex()
	var proc batch.Processor = p
	if v != 0 {
		proc = versionProcessor{p: p, v: v}
	}
	proc = countingProcessor{p: proc, n: s.proc.grouped, took: s.proc.groupTime}
	c.Header("Content-Type", "application/x-ndjson")
	c.Status(http.StatusOK)
	fw := &flushWriter{w: c.Writer}
	sum, err := batch.Run(c.Request.Context(), c.Request.Body, fw, proc, batch.JSONLEncoder{}, batch.Options{Format: format})
	s.metrics.batchSize.WithLabelValues(format.String()).Observe(float64(sum.Lines))
	if err != nil {
		var tooBig *http.MaxBytesError
		msg := err.Error()
		if errors.As(err, &tooBig) {
			msg = fmt.Sprintf("request body larger than %d bytes: the stream was cut after line %d", tooBig.Limit, sum.Lines)
		}
		if !fw.written && !errors.As(err, &tooBig) && sum.Lines == 0 {
			// Nothing streamed yet (e.g. the first line has an unknown format): a problem.
			WriteProblem(c, http.StatusBadRequest, KindMalformed, msg)
			return
		}
		rec, _ := json.Marshal(map[string]any{"error": msg, "stream": "aborted", "lines": sum.Lines})
		_, _ = fw.Write(append(rec, '\n'))
		Logger(c).Warn("batch stream ended early", "lines", sum.Lines, "err_kind", fmt.Sprintf("%T", errors.Unwrap(err)))
	}
}
