package main

import (
	"strings"
	"testing"
)

// TestServeTimeZoneFlag: an unknown --time-zone (or $DRG_TIME_ZONE) is a usage error in words,
// before anything is loaded.
func TestServeTimeZoneFlag(t *testing.T) {
	st, _, errs := drg(t, "", "serve", "--time-zone", "Central", "--db", "sqlite:"+t.TempDir()+"/x.db")
	if st != 2 || !strings.Contains(errs, `--time-zone: unknown time zone "Central": give an IANA name such as America/Chicago`) {
		t.Errorf("exit %d: %s", st, errs)
	}
	t.Setenv("DRG_TIME_ZONE", "Mars/Olympus")
	if st, _, errs := drg(t, "", "serve", "--db", "sqlite:"+t.TempDir()+"/x.db"); st != 2 || !strings.Contains(errs, `"Mars/Olympus"`) {
		t.Errorf("$DRG_TIME_ZONE: exit %d: %s", st, errs)
	}
}
