package tables

import (
	"errors"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
)

var allVersions = []Version{400, 401, 410, 411, 420, 421, 430, 431}

func TestVersionForDate(t *testing.T) {
	tests := []struct {
		date    string
		loaded  []Version
		want    Version
		wantErr []string // substrings of the error
		after   bool
		before  bool
	}{
		{date: "2022-10-01", loaded: allVersions, want: 400},
		{date: "2023-03-31", loaded: allVersions, want: 400},
		{date: "2023-04-01", loaded: allVersions, want: 401},
		{date: "2023-09-30", loaded: allVersions, want: 401},
		{date: "2023-10-01", loaded: allVersions, want: 410},
		{date: "2024-02-29", loaded: allVersions, want: 410},
		{date: "2025-03-31", loaded: allVersions, want: 420},
		{date: "2025-04-01", loaded: allVersions, want: 421},
		{date: "2025-10-01", loaded: allVersions, want: 430},
		{date: "2026-03-31", loaded: allVersions, want: 430},
		{date: "2026-04-01", loaded: allVersions, want: 431},
		{date: "2026-05-01", loaded: allVersions, want: 431},
		{date: "2026-09-30", loaded: allVersions, want: 431},
		{date: "2026-10-01", loaded: allVersions, after: true,
			wantErr: []string{"discharge 2026-10-01 needs MS-DRG v44.0, which is not loaded", "newest loaded is v43.1", "pass an explicit version to override"}},
		{date: "2026-10-15", loaded: allVersions, after: true,
			wantErr: []string{"discharge 2026-10-15 needs MS-DRG v44.0, which is not loaded; newest loaded is v43.1; pass an explicit version to override"}},
		{date: "2027-04-01", loaded: allVersions, after: true, wantErr: []string{"v44.1", "newest loaded is v43.1"}},
		{date: "2022-09-30", loaded: allVersions, before: true, wantErr: []string{"needs MS-DRG v39.1", "oldest loaded is v40.0"}},
		{date: "2026-05-01", loaded: []Version{430}, after: true, wantErr: []string{"needs MS-DRG v43.1", "newest loaded is v43.0"}},
		{date: "2024-05-01", loaded: []Version{431, 400}, wantErr: []string{"v41.1", "loaded versions are v40.0 to v43.1"}},
		{date: "2026-05-01", loaded: nil, wantErr: []string{"needs MS-DRG v43.1", "no grouper version is loaded"}},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			got, err := VersionForDate(date(t, tt.date), tt.loaded)
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("VersionForDate(%s) = %v, %v; want %v", tt.date, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("VersionForDate(%s) = %v, want an error", tt.date, got)
			}
			var vErr *VersionNotLoadedError
			if !errors.As(err, &vErr) {
				t.Fatalf("error %T is not a *VersionNotLoadedError", err)
			}
			if vErr.After() != tt.after || vErr.Before() != tt.before {
				t.Errorf("After()=%v Before()=%v, want %v %v", vErr.After(), vErr.Before(), tt.after, tt.before)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			oneLine(t, err)
		})
	}
	if _, err := VersionForDate(claim.Date{}, allVersions); !errors.Is(err, ErrNoDischargeDate) {
		t.Errorf("zero date: err = %v, want ErrNoDischargeDate", err)
	}
}

func TestVersionWindow(t *testing.T) {
	tests := []struct {
		v        Version
		from, to string
		fy       int
	}{
		{400, "2022-10-01", "2023-03-31", 2023},
		{401, "2023-04-01", "2023-09-30", 2023},
		{410, "2023-10-01", "2024-03-31", 2024},
		{411, "2024-04-01", "2024-09-30", 2024},
		{420, "2024-10-01", "2025-03-31", 2025},
		{421, "2025-04-01", "2025-09-30", 2025},
		{430, "2025-10-01", "2026-03-31", 2026},
		{431, "2026-04-01", "2026-09-30", 2026},
		{440, "2026-10-01", "2027-03-31", 2027},
	}
	for _, tt := range tests {
		from, to := VersionWindow(tt.v)
		if from.String() != tt.from || to.String() != tt.to {
			t.Errorf("VersionWindow(%v) = %s..%s, want %s..%s", tt.v, from, to, tt.from, tt.to)
		}
		if got := VersionFiscalYear(tt.v); got != tt.fy {
			t.Errorf("VersionFiscalYear(%v) = %d, want %d", tt.v, got, tt.fy)
		}
		// Both ends of the window select the version, the days around it do not.
		if VersionAt(from) != tt.v || VersionAt(to) != tt.v {
			t.Errorf("VersionAt(%s)=%v VersionAt(%s)=%v, want %v", from, VersionAt(from), to, VersionAt(to), tt.v)
		}
		before := claim.Date{Year: from.Year, Month: from.Month, Day: 0} // normalized below
		before = date(t, before.Time().Format("2006-01-02"))
		if VersionAt(before) == tt.v {
			t.Errorf("VersionAt(%s) = %v, the day before its window", before, tt.v)
		}
	}
}

func TestFiscalYear(t *testing.T) {
	tests := map[string]int{
		"2025-09-30": 2025, "2025-10-01": 2026, "2026-01-01": 2026, "2026-09-30": 2026, "2026-10-01": 2027, "2026-12-31": 2027,
	}
	for d, want := range tests {
		if got := FiscalYear(date(t, d)); got != want {
			t.Errorf("FiscalYear(%s) = %d, want %d", d, got, want)
		}
	}
}
