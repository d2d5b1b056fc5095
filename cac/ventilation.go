package cac

import (
	"github.com/msdrg-cdi/drg/notes"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ventilationHours is the longest duration of mechanical ventilation the provider notes
// state: in hours or days, or from the dated intubation to the dated extubation; -1 when
// they state none.
func (c *coding) ventilationHours() float64 {
	best := -1.0
	var start, end event
	for _, v := range c.views {
		if !v.provider {
			continue
		}
		for _, f := range v.doc.Findings {
			switch f.Name {
			case "ventilation_hours":
				best = math.Max(best, f.High)
			case "ventilation_days":
				best = math.Max(best, f.High*24)
			}
		}
		// a time without a date is on the note's day in a note written as things happen; in
		// a discharge summary it only completes a date the same summary gives without a time
		day := v.doc.Note.Time
		lower := notes.LowerASCII(v.doc.Note.Text)
		keys := c.e.conv.VentilationEvents.Keywords
		var startClock, endClock *event
		for _, t := range eventTimes(c.e.ventStart, v.doc.Note.Text, lower, keys, day, !v.final) {
			if !t.dated {
				startClock = &t
				continue
			}
			if start.t.IsZero() || t.t.Before(start.t) {
				start = t
			}
		}
		for _, t := range eventTimes(c.e.ventEnd, v.doc.Note.Text, lower, keys, day, !v.final) {
			if !t.dated {
				endClock = &t
				continue
			}
			if t.t.After(end.t) {
				end = t
			}
		}
		if startClock != nil && !start.t.IsZero() && !start.timed {
			start.t, start.timed = atClock(start.t, startClock.t), true
		}
		if endClock != nil && !end.t.IsZero() && !end.timed {
			end.t, end.timed = atClock(end.t, endClock.t), true
		}
	}
	if !start.t.IsZero() && end.t.After(start.t) {
		if h := end.t.Sub(start.t).Hours(); h < 24*120 {
			best = math.Max(best, h)
		}
	}
	return best
}

// event is a dated or timed moment a note states.
type event struct {
	t            time.Time
	dated, timed bool
}

func atClock(day, clock time.Time) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, clock.Hour(), clock.Minute(), 0, 0, time.UTC)
}

// eventTimes reads the dates and times the patterns capture (groups "date" and "time"); a
// missing date or "today" is the note's day, a missing time the start of the day.
func eventTimes(res []*regexp.Regexp, text, lower string, keys []string, noteTime time.Time, dateless bool) []event {
	var out []event
	for _, re := range res {
		di, ti := re.SubexpIndex("date"), re.SubexpIndex("time")
		for _, m := range notes.FindNear(re, text, lower, keys) {
			var date, clock string
			if di > 0 && m[2*di] >= 0 {
				date = text[m[2*di]:m[2*di+1]]
			}
			if ti > 0 && m[2*ti] >= 0 {
				clock = text[m[2*ti]:m[2*ti+1]]
			}
			if date == "" && !dateless {
				if clock != "" {
					if t, ok := eventTime("", clock, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); ok {
						out = append(out, event{t: t, timed: true}) // a time of day only
					}
				}
				continue
			}
			if t, ok := eventTime(date, clock, noteTime); ok {
				out = append(out, event{t: t, dated: true, timed: clock != ""})
			}
		}
	}
	return out
}

func eventTime(date, clock string, noteTime time.Time) (time.Time, bool) {
	y, mo, d := noteTime.Date()
	if date != "" {
		parts := strings.Split(date, "/")
		if len(parts) < 2 {
			return time.Time{}, false
		}
		m1, e1 := strconv.Atoi(parts[0])
		d1, e2 := strconv.Atoi(parts[1])
		if e1 != nil || e2 != nil || m1 < 1 || m1 > 12 || d1 < 1 || d1 > 31 {
			return time.Time{}, false
		}
		mo, d = time.Month(m1), d1
		if len(parts) == 3 {
			if yy, err := strconv.Atoi(parts[2]); err == nil {
				if yy < 100 {
					yy += 2000
				}
				y = yy
			}
		}
	} else if noteTime.IsZero() {
		return time.Time{}, false
	}
	if y == 1 { // no note time and a date without a year
		return time.Time{}, false
	}
	h, mi := 0, 0
	if clock != "" {
		cl := strings.ReplaceAll(clock, ":", "")
		if len(cl) < 3 || len(cl) > 4 {
			return time.Time{}, false
		}
		v, err := strconv.Atoi(cl)
		if err != nil || v/100 > 23 || v%100 > 59 {
			return time.Time{}, false
		}
		h, mi = v/100, v%100
	}
	return time.Date(y, mo, d, h, mi, 0, 0, time.UTC), true
}
