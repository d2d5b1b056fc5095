package api

import (
	"context"
	"time"
)

// RunJobOnce runs the named periodic job for one period, as RunJobs does at the period's start.
func (s *Server) RunJobOnce(ctx context.Context, name string, period time.Time) {
	for _, j := range s.jobs() {
		if j.name == name {
			s.runJobOnce(ctx, j, period)
		}
	}
}
