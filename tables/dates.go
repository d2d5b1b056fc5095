package tables

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// Effective dates (data_sources.md, "Versions and dates"): an MS-DRG version x.0 takes effect
// on October 1 and x.1 on April 1 of the following calendar year. Version 40.0 started on
// 2022-10-01, the first day of fiscal year 2023, so major version N belongs to fiscal year
// N + fiscalYearOffset. A version's window ends the day before the next version starts,
// whether or not that next version is loaded (43.1: 2026-04-01 … 2026-09-30).
const fiscalYearOffset = 1983

// FiscalYear returns the federal fiscal year of d: October 1 starts the next year's fiscal
// year (2025-10-01 → 2026, 2026-09-30 → 2026). ICD-10 code sets follow the same boundary.
func FiscalYear(d claim.Date) int {
	if d.Month >= time.October {
		return d.Year + 1
	}
	return d.Year
}

// VersionFiscalYear returns the fiscal year a grouper version belongs to (431 → 2026).
func VersionFiscalYear(v Version) int { return int(v)/10 + fiscalYearOffset }

// VersionWindow returns the first and the last discharge date of version v, both inclusive.
func VersionWindow(v Version) (from, to claim.Date) {
	fy := VersionFiscalYear(v)
	if int(v)%10 == 0 {
		return claim.Date{Year: fy - 1, Month: time.October, Day: 1},
			claim.Date{Year: fy, Month: time.March, Day: 31}
	}
	return claim.Date{Year: fy, Month: time.April, Day: 1},
		claim.Date{Year: fy, Month: time.September, Day: 30}
}

// VersionAt returns the MS-DRG version in effect on discharge date d, whether or not it is
// loaded (2026-05-01 → 431, 2026-10-15 → 440).
func VersionAt(d claim.Date) Version {
	major := FiscalYear(d) - fiscalYearOffset
	if d.Month >= time.April && d.Month < time.October {
		return Version(major*10 + 1)
	}
	return Version(major * 10)
}

// ErrNoDischargeDate is returned by VersionForDate for a zero date.
var ErrNoDischargeDate = errors.New("a discharge date (or an explicit version) is required to choose the grouper version")

// VersionNotLoadedError reports a discharge date whose grouper version is not in the loaded
// data. Callers that explicitly request a version bypass the date selection altogether.
type VersionNotLoadedError struct {
	Date   claim.Date // the discharge date
	Needed Version    // version in effect on Date
	Oldest Version    // oldest loaded version (0 when nothing is loaded)
	Newest Version    // newest loaded version (0 when nothing is loaded)
}

// Error names the missing version and the loaded range, e.g. "discharge 2026-10-15 needs
// MS-DRG v44.0, which is not loaded; newest loaded is v43.1; pass an explicit version to
// override".
func (e *VersionNotLoadedError) Error() string {
	msg := fmt.Sprintf("discharge %s needs MS-DRG v%s, which is not loaded", e.Date, e.Needed)
	switch {
	case e.Newest == 0:
		msg += "; no grouper version is loaded"
	case e.Needed > e.Newest:
		msg += fmt.Sprintf("; newest loaded is v%s", e.Newest)
	case e.Needed < e.Oldest:
		msg += fmt.Sprintf("; oldest loaded is v%s", e.Oldest)
	default:
		msg += fmt.Sprintf("; loaded versions are v%s to v%s", e.Oldest, e.Newest)
	}
	return msg + "; pass an explicit version to override"
}

// After reports whether the date is after the newest loaded version's window.
func (e *VersionNotLoadedError) After() bool { return e.Newest != 0 && e.Needed > e.Newest }

// Before reports whether the date is before the oldest loaded version's window.
func (e *VersionNotLoadedError) Before() bool { return e.Oldest != 0 && e.Needed < e.Oldest }

// VersionForDate returns the version of loaded whose window contains discharge date d. A date
// outside every loaded window gives a *VersionNotLoadedError naming the version it needs; an
// older version is never substituted. loaded need not be sorted.
func VersionForDate(d claim.Date, loaded []Version) (Version, error) {
	if d.IsZero() {
		return 0, ErrNoDischargeDate
	}
	need := VersionAt(d)
	if slices.Contains(loaded, need) {
		return need, nil
	}
	e := &VersionNotLoadedError{Date: d, Needed: need}
	if len(loaded) > 0 {
		e.Oldest, e.Newest = slices.Min(loaded), slices.Max(loaded)
	}
	return 0, e
}
