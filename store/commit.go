package store

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
)

// Group commit (SQLite). With one writer connection every transaction waits for the fsync of
// the one before it, so the fsync latency bounds the write rate. The committer runs the
// transactions waiting at the same moment inside one database transaction, each behind its
// own savepoint: a failing one is rolled back to its savepoint alone, the rest commit
// together with one fsync, and every caller learns its own outcome only after that commit.
// Each caller's changes stay atomic and nothing is acknowledged before it is durable.

// maxGroup bounds the transactions committed together.
const maxGroup = 64

// ErrClosed is returned for work submitted after Close.
var ErrClosed = errors.New("store is closed")

type txReq struct {
	ctx context.Context
	fn  func(tx *Tx) error
	err chan error
}

type committer struct {
	s      *Store
	mu     sync.RWMutex // held shared while submitting, exclusively to close
	closed bool
	reqs   chan *txReq
	done   chan struct{}
}

func newCommitter(s *Store) *committer {
	c := &committer{s: s, reqs: make(chan *txReq, maxGroup), done: make(chan struct{})}
	go c.run()
	return c
}

// do runs fn in the next group and returns its outcome once the group is committed.
func (c *committer) do(ctx context.Context, fn func(tx *Tx) error) error {
	r := &txReq{ctx: ctx, fn: fn, err: make(chan error, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	return <-r.err // even when ctx ends meanwhile: the outcome must be known
}

// stop ends the committer once the submitted work is committed.
func (c *committer) stop() {
	c.mu.Lock()
	c.closed = true
	close(c.reqs)
	c.mu.Unlock()
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	for r := range c.reqs {
		batch := []*txReq{r}
	drain:
		for len(batch) < maxGroup {
			select {
			case r2, ok := <-c.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r2)
			default:
				break drain
			}
		}
		errs := c.commit(batch)
		for i, r := range batch {
			r.err <- errs[i]
		}
	}
}

// commit runs a group in one transaction and returns each member's outcome.
func (c *committer) commit(batch []*txReq) []error {
	errs := make([]error, len(batch))
	tx := c.s.w.Begin()
	if tx.Error != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("begin transaction: %w", tx.Error)
		}
		return errs
	}
	ran := 0
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		sp := fmt.Sprintf("g%d", i)
		if err := tx.SavePoint(sp).Error; err != nil {
			errs[i] = fmt.Errorf("savepoint: %w", err)
			continue
		}
		if err := callTx(r.fn, &Tx{db: tx.WithContext(r.ctx), s: c.s}); err != nil { // callTx writes the audit rows
			errs[i] = err
			if rerr := tx.RollbackTo(sp).Error; rerr != nil {
				// The transaction is in an unknown state: give up the whole group.
				tx.Rollback()
				for j := range errs {
					if errs[j] == nil {
						errs[j] = fmt.Errorf("rollback to savepoint: %w", rerr)
					}
				}
				return errs
			}
			continue
		}
		ran++
	}
	if ran == 0 {
		tx.Rollback()
		return errs
	}
	if err := tx.Commit().Error; err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("commit: %w", err)
			}
		}
	}
	return errs
}

// callTx calls fn, turning a panic into an error so that one bad change cannot stop the
// committer.
func callTx(fn func(tx *Tx) error, tx *Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic in transaction: %v\n%s", v, debug.Stack())
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.flushAudit()
}
