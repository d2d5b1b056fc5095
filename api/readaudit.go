package api

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/store"
)

// Access to protected health information is audited (HIPAA §164.312(b)): every successful
// read of a route in phiReads writes an audit row naming the caller, the record(s), the route
// and the time — action read (one record), list (a page or a report, with the ids it showed)
// or export (a CSV). So that reads are not slowed, the rows are queued and written by one
// goroutine in batches: when accessBatch rows wait or accessFlushEvery after the first one,
// whichever comes first. The queue is bounded: when it is full a read waits for room rather
// than lose its row. Close (called by Serve at shutdown, after the requests in progress end)
// writes what is queued; rows are lost only if the process dies abruptly.

// phiReads names the routes that show protected health information and the kind of record
// they show.
var phiReads = map[string]string{
	"GET /v1/encounters":                     "encounter",
	"GET /v1/encounters/{id}":                "encounter",
	"GET /v1/encounters/{id}/review":         "encounter",
	"GET /v1/encounters/{id}/validation":     "encounter",
	"POST /v1/encounters/{id}/cac":           "encounter",
	"GET /v1/worklist":                       "encounter",
	"GET /v1/coding/worklist":                "encounter",
	"GET /v1/encounters/{id}/finalize-check": "encounter",
	"GET /v1/queries":                        "query",
	"GET /v1/queries/{id}":                   "query",
	"GET /v1/audits/{id}":                    "coding_audit",
	"GET /v1/audits/findings":                "coding_audit",
	"GET /v1/audits/{id}/report":             "coding_audit",
	"GET /v1/reports/mismatches":             "report",
	"GET /v1/reports/denial-risk":            "report",
	"GET /v1/reports/cdi-impact":             "report",
}

const (
	accessBatch      = 256
	accessFlushEvery = 200 * time.Millisecond
	accessQueue      = 8192
	ctxReadIDs       = "drg.read_ids"
)

// setReadIDs names the records a list or report showed, for its access row.
func setReadIDs(c *gin.Context, ids []string) { c.Set(ctxReadIDs, ids) }

// accessLog is the batching writer of access rows.
type accessLog struct {
	st    *store.Store
	s     *Server
	queue chan store.AccessRecord
	flush chan chan struct{}
	mu    sync.RWMutex // held shared to enqueue, exclusively to close
	done  chan struct{}
	shut  bool
}

func newAccessLog(s *Server) *accessLog {
	a := &accessLog{st: s.cfg.Store, s: s, queue: make(chan store.AccessRecord, accessQueue),
		flush: make(chan chan struct{}), done: make(chan struct{})}
	go a.run()
	return a
}

// recordRead queues the access row of a successful read of a PHI route.
func (s *Server) recordRead(c *gin.Context, r *Route, entity string) {
	status := c.Writer.Status()
	if status < 200 || status > 299 {
		return
	}
	u, ok := UserFrom(c)
	if !ok {
		return
	}
	rec := store.AccessRecord{At: time.Now(), Actor: store.ActorOf(u), Entity: entity, Route: r.Method + " " + r.Path, Action: "read"}
	if id := c.Param("id"); id != "" {
		rec.EntityID = id
	}
	if v, ok := c.Get(ctxReadIDs); ok {
		rec.IDs, _ = v.([]string)
		rec.Count = len(rec.IDs)
		if rec.EntityID == "" {
			rec.Action = "list"
		}
	} else if rec.EntityID == "" {
		rec.Action = "list"
	}
	if strings.HasPrefix(c.Writer.Header().Get("Content-Type"), "text/csv") {
		rec.Action = "export"
	}
	s.access.add(rec)
}

func (a *accessLog) add(rec store.AccessRecord) {
	a.mu.RLock()
	if !a.shut {
		a.queue <- rec
		a.mu.RUnlock()
		return
	}
	a.mu.RUnlock()
	a.write([]store.AccessRecord{rec}) // after Close: written at once
}

func (a *accessLog) run() {
	defer close(a.done)
	var batch []store.AccessRecord
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case rec, ok := <-a.queue:
			if !ok {
				a.write(batch)
				return
			}
			if len(batch) == 0 {
				timer.Reset(accessFlushEvery)
			}
			batch = append(batch, rec)
			if len(batch) >= accessBatch {
				a.write(batch)
				batch = nil
				timer.Stop()
			}
		case <-timer.C:
			a.write(batch)
			batch = nil
		case ack := <-a.flush:
			for len(a.queue) > 0 {
				batch = append(batch, <-a.queue)
			}
			a.write(batch)
			batch = nil
			timer.Stop()
			close(ack)
		}
	}
}

// write stores a batch, retrying a failed write a few times; a batch that still fails is
// logged with its size (never its content).
func (a *accessLog) write(batch []store.AccessRecord) {
	if len(batch) == 0 {
		return
	}
	var err error
	for attempt := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = a.st.RecordAccess(ctx, batch)
		cancel()
		if err == nil {
			return
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	a.s.log.Error("access audit rows could not be written", "rows", len(batch), "err", err.Error())
}

// Flush writes the queued access rows now (tests, and before a report of the audit log).
func (a *accessLog) Flush() {
	a.mu.RLock()
	if a.shut {
		a.mu.RUnlock()
		return
	}
	ack := make(chan struct{})
	a.flush <- ack
	a.mu.RUnlock()
	<-ack
}

// close writes the queued rows and stops the writer; later rows are written at once.
func (a *accessLog) close() {
	a.mu.Lock()
	if a.shut {
		a.mu.Unlock()
		return
	}
	a.shut = true
	close(a.queue)
	a.mu.Unlock()
	<-a.done
}

// FlushAccessLog writes the queued access audit rows now.
func (s *Server) FlushAccessLog() { s.access.Flush() }

// Close writes the queued access audit rows and stops their writer. Serve calls it when it
// stops; a server used through Handler alone should call it before closing the store.
func (s *Server) Close() { s.access.close() }
