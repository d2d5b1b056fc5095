package api

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/msdrg-cdi/drg/store"
)

// Periodic jobs. Each instance's timer wakes at every period boundary (wall clock, so that
// instances propose the same periods) and claims the period's run in the database
// (store.ClaimJobRun): the run happens once per period across every instance sharing the
// database, on whichever claims it first. A run claimed by an instance that dies before
// finishing is not retried in that period; both jobs catch up in the next one (they act on
// what is due at the time they run).

// sessionPurgeEvery is the period of the purge of ended sessions and stale sign-ins.
const sessionPurgeEvery = time.Hour

// Job names (store job_runs).
const (
	JobQueryEscalation = "query-escalation"
	JobSessionPurge    = "session-purge"
)

// EscalationActor is the actor of the automatic escalation of overdue queries.
var EscalationActor = store.Actor{Name: "scheduler"}

type periodicJob struct {
	name  string
	every time.Duration
	run   func(ctx context.Context) (string, error)
}

func defaultInstance() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

func (s *Server) jobs() []periodicJob {
	jobs := []periodicJob{{name: JobSessionPurge, every: sessionPurgeEvery, run: func(ctx context.Context) (string, error) {
		n, err := s.cfg.Store.PurgeSessions(ctx, s.cfg.Sessions)
		return fmt.Sprintf("purged %d", n), err
	}}}
	if every := s.cfg.CDI.EscalateEvery; every > 0 && s.cdi != nil {
		jobs = append(jobs, periodicJob{name: JobQueryEscalation, every: every, run: func(ctx context.Context) (string, error) {
			out, err := s.cdi.escalateOverdue(ctx, EscalationActor)
			return fmt.Sprintf("escalated %d", len(out.Escalated)), err
		}})
	}
	return jobs
}

// RunJobs runs the periodic jobs until ctx ends: query escalation every
// Config.CDI.EscalateEvery (when set) and the session purge every hour.
func (s *Server) RunJobs(ctx context.Context) {
	var wg sync.WaitGroup
	for _, j := range s.jobs() {
		wg.Go(func() {
			for {
				period := time.Now().Truncate(j.every)
				s.runJobOnce(ctx, j, period)
				t := time.NewTimer(time.Until(period.Add(j.every)))
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
}

// runJobOnce claims the job's run of a period and runs it when the claim is this instance's.
func (s *Server) runJobOnce(ctx context.Context, j periodicJob, period time.Time) {
	outcome := func(o string) {
		s.metrics.JobRun(j.name, o)
	}
	claimed, err := s.cfg.Store.ClaimJobRun(ctx, j.name, period, s.cfg.Instance)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("periodic job: claim failed", "job", j.name, "period", period.UTC(), "err", err.Error())
			outcome("failed")
		}
		return
	}
	if !claimed {
		outcome("skipped")
		return
	}
	result, err := j.run(ctx)
	failed := err != nil
	if failed {
		result = "error: " + err.Error()
	}
	// The outcome is recorded before it is logged and counted: a logged run is a finished one.
	if err := s.cfg.Store.FinishJobRun(context.WithoutCancel(ctx), j.name, period, result); err != nil {
		s.log.Error("periodic job: recording the outcome failed", "job", j.name, "err", err.Error())
	}
	if failed {
		s.log.Error("periodic job failed", "job", j.name, "period", period.UTC(), "err", result)
		outcome("failed")
		return
	}
	s.log.Info("periodic job ran", "job", j.name, "period", period.UTC(), "result", result, "instance", s.cfg.Instance)
	outcome("ran")
}
