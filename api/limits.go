package api

import (
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"
)

// Heavy work — batches, large bodies (FHIR bundles, CAC notes) — is bounded in number: per
// caller and for the whole server. A request beyond a bound is answered at once (429 for the
// caller's bound, 503 for the server's, both with Retry-After) instead of queuing work whose
// memory and cores the server does not have: eight 58 MB batches at once must not take
// 9 GB, and one user's batches must not starve everyone else's.

// Defaults of Config.HeavyPerUser and Config.HeavyTotal (0: 2 per core, at least 4).
const (
	DefaultHeavyPerUser = 2
	heavyRetryAfter     = 10 // seconds, in Retry-After
)

// workLimiter counts heavy requests in progress, overall and per caller.
type workLimiter struct {
	mu      sync.Mutex
	total   int
	perUser int
	running int
	byUser  map[string]int
}

func newWorkLimiter(total, perUser int) *workLimiter {
	if perUser <= 0 {
		perUser = DefaultHeavyPerUser
	}
	if total <= 0 {
		total = max(4, 2*runtime.GOMAXPROCS(0))
	}
	return &workLimiter{total: total, perUser: perUser, byUser: map[string]int{}}
}

// acquire takes a place for caller; status is 0 when it did (call release when done), else
// 429 (the caller's places are taken) or 503 (the server's are).
func (l *workLimiter) acquire(caller string) (release func(), status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.byUser[caller] >= l.perUser:
		return nil, http.StatusTooManyRequests
	case l.running >= l.total:
		return nil, http.StatusServiceUnavailable
	}
	l.byUser[caller]++
	l.running++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.running--
			if l.byUser[caller]--; l.byUser[caller] <= 0 {
				delete(l.byUser, caller) // the map holds callers with work in progress only
			}
		})
	}, 0
}

// heavy reports whether a route's requests count against the heavy-work limits: those that
// read their body as a stream and those that accept bodies larger than the default.
func (r *Route) heavy() bool { return r.StreamBody || r.MaxBody > DefaultMaxBody }

// limitHeavy admits a heavy request within the limits (after authentication: the caller is
// the user, else the client address).
func (s *Server) limitHeavy(c *gin.Context) {
	caller := "addr:" + c.RemoteIP()
	if u, ok := UserFrom(c); ok {
		caller = "user:" + strconv.FormatInt(u.ID, 10)
	}
	release, status := s.heavy.acquire(caller)
	switch status {
	case http.StatusTooManyRequests:
		c.Header("Retry-After", strconv.Itoa(heavyRetryAfter))
		WriteProblem(c, status, KindTooMany, fmt.Sprintf("you have %d batch or large requests in progress, the most one user may run at once: retry when one has finished", s.heavy.perUser))
		return
	case http.StatusServiceUnavailable:
		c.Header("Retry-After", strconv.Itoa(heavyRetryAfter))
		WriteProblem(c, status, KindBusy, fmt.Sprintf("the server is running %d batch or large requests, its most at once: retry in a few seconds", s.heavy.total))
		return
	}
	defer release()
	c.Next()
}
