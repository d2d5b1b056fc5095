package cdi

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Statistics groupings.
const (
	ByProvider   = "provider"   // the provider queried
	BySpecialist = "specialist" // the CDI specialist who wrote the query
)

// Stats are the query statistics of one provider or specialist.
type Stats struct {
	Key          string `json:"key"` // provider or specialist id
	Sent         int    `json:"sent"`
	Answered     int    `json:"answered"`
	Agreed       int    `json:"agreed"`
	Disagreed    int    `json:"disagreed"`
	Other        int    `json:"other"`
	Undetermined int    `json:"undetermined"`
	Escalated    int    `json:"escalated"`
	Open         int    `json:"open"` // sent, not answered
	// ResponseRate is Answered / Sent; AgreementRate is Agreed / Answered (0 when the
	// denominator is 0).
	ResponseRate  float64 `json:"response_rate"`
	AgreementRate float64 `json:"agreement_rate"`
	// MedianResponseHours is the median time from sending to answer, in hours (0 when
	// nothing was answered).
	MedianResponseHours float64 `json:"median_response_hours"`
}

// ComputeStats computes statistics per provider (ByProvider) or per specialist
// (BySpecialist) from query records (all versions and steps; each query counts once, by the
// latest record of its latest sent version), sorted by key.
func ComputeStats(queries []Query, by string) ([]Stats, error) {
	if by != ByProvider && by != BySpecialist {
		return nil, fmt.Errorf("cdi: stats by %q: want %s or %s", by, ByProvider, BySpecialist)
	}
	latest := map[string]*Query{}
	for i := range queries {
		q := &queries[i]
		if q.SentAt.IsZero() {
			continue
		}
		if cur, ok := latest[q.ID]; !ok || newer(q, cur) {
			latest[q.ID] = q
		}
	}
	acc := map[string]*Stats{}
	waits := map[string][]time.Duration{}
	for _, q := range latest {
		p := q.Provider
		if by == BySpecialist {
			p = q.Author
		}
		key := ""
		if p != nil {
			key = p.ID
		}
		s := acc[key]
		if s == nil {
			s = &Stats{Key: key}
			acc[key] = s
		}
		s.Sent++
		if q.Escalation != nil {
			s.Escalated++
		}
		a := q.Answer
		if a == nil {
			if q.State != StateClosed {
				s.Open++
			}
			continue
		}
		s.Answered++
		switch a.Outcome {
		case OutcomeAgree:
			s.Agreed++
		case OutcomeDisagree:
			s.Disagreed++
		case OutcomeOther:
			s.Other++
		case OutcomeUndetermined:
			s.Undetermined++
		}
		waits[key] = append(waits[key], q.AnsweredAt.Sub(q.SentAt))
	}
	out := make([]Stats, 0, len(acc))
	for key, s := range acc {
		if s.Sent > 0 {
			s.ResponseRate = round4(float64(s.Answered) / float64(s.Sent))
		}
		if s.Answered > 0 {
			s.AgreementRate = round4(float64(s.Agreed) / float64(s.Answered))
		}
		s.MedianResponseHours = round4(median(waits[key]).Hours())
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Stats) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	return out, nil
}

func round4(x float64) float64 { return math.Round(x*10000) / 10000 }

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
