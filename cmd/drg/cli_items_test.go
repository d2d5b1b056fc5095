package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestGroupExitStatus: drg group and drg mce exit non-zero when nothing was processed (an
// empty input, which is also warned about, or only error records), and a header error listing
// the expected columns comes before the summary.
func TestGroupExitStatus(t *testing.T) {
	data := dataDir(t)
	good := `{"id":"a","discharge_date":"2026-05-01","age":70,"sex":"M","discharge_status":1,"pdx":{"code":"I5023","poa":"Y"}}` + "\n"
	bad := `{"id":"x","discharge_date":"2026-05-01","sex":"Q","pdx":{"code":"I5023","poa":"Q"},"discharge_status":999}` + "\n"
	for _, tc := range []struct {
		name, cmd, format, in string
		wantStatus            int
		wantErr               []string // in this order on stderr
	}{
		{"one good line", "group", "jsonl", good, exitOK, []string{"1 claims, 1 grouped"}},
		{"good and bad", "group", "jsonl", good + bad, exitOK, []string{"2 claims, 1 grouped, 1 errors"}},
		{"empty input", "group", "jsonl", "", exitFailure, []string{"0 claims", "warning: the input holds no claims"}},
		{"only error records", "group", "jsonl", bad + bad, exitFailure, []string{"2 claims, 0 grouped", "all 2 input lines are error records"}},
		{"mce: only error records", "mce", "jsonl", bad, exitFailure, []string{"all 1 input lines are error records"}},
		{"mce: empty input", "mce", "jsonl", "", exitFailure, []string{"the input holds no claims"}},
		{"bad CSV header", "group", "csv", "garbage,pdx\nx,I5023\n", exitFailure,
			[]string{`header: unknown column "garbage" (the columns are id, version, discharge_date`, "0 claims"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _, stderr := drg(t, tc.in, tc.cmd, "--data", data, "--format", tc.format)
			if st != tc.wantStatus {
				t.Errorf("exit %d, want %d; stderr %q", st, tc.wantStatus, stderr)
			}
			at := 0
			for _, w := range tc.wantErr {
				i := strings.Index(stderr[at:], w)
				if i < 0 {
					t.Errorf("stderr lacks %q after byte %d: %q", w, at, stderr)
					break
				}
				at += i + len(w)
			}
		})
	}
}

// TestGroupMCECSV: drg group --mce with CSV output writes the MCE's edits as columns.
func TestGroupMCECSV(t *testing.T) {
	in := `{"id":"c","discharge_date":"2026-05-01","age":70,"sex":"M","discharge_status":1,"pdx":{"code":"Z3800","poa":"Y"}}` + "\n"
	st, out, stderr := drg(t, in, "group", "--data", dataDir(t), "--mce", "--out-format", "csv")
	if st != exitOK {
		t.Fatalf("exit %d: %s", st, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], ",mce_edit_type,mce_edits,mce_messages,line,error") ||
		!strings.Contains(lines[1], ",PREPAYMENT,AGE_CONFLICT:1,") || !strings.Contains(lines[1], "inconsistent with the patient's age") {
		t.Errorf("CSV with MCE columns:\n%s", out)
	}
}

// TestMCEMessagesNeverNull: drg mce's JSON gives an empty messages list as [], not null.
func TestMCEMessagesNeverNull(t *testing.T) {
	in := `{"id":"a","discharge_date":"2026-05-01","age":70,"sex":"M","discharge_status":1,"pdx":{"code":"I5023","poa":"Y"}}` + "\n"
	st, out, stderr := drg(t, in, "mce", "--data", dataDir(t))
	if st != exitOK {
		t.Fatalf("exit %d: %s", st, stderr)
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatal(err)
	}
	if string(rec["messages"]) != "[]" || strings.Contains(out, "null") {
		t.Errorf("record %s", out)
	}
}

// TestDataWarningsOncePerDirectory: a warning about missing optional data (the HCC labels of
// a year) is printed by the first command on a data directory, not by every command; drg
// tables info always lists it. drg tables info describes the MCE as it describes the grouper.
func TestDataWarningsOncePerDirectory(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	data := dataDir(t)
	st, out1, err1 := drg(t, "", "tables", "info", "--data", data)
	if st != exitOK {
		t.Fatalf("exit %d: %s", st, err1)
	}
	if !strings.Contains(out1, "Medicare Code Editor (mce/mce.bin)") || !strings.Contains(out1, "discharges through") {
		t.Errorf("tables info does not describe the MCE:\n%s", out1)
	}
	if !strings.Contains(out1, "\nWarnings\n") {
		t.Skip("this data directory has no warnings to show")
	}
	if !strings.Contains(err1, "drg: warning: ") {
		t.Errorf("first command: no warning on stderr: %q", err1)
	}
	_, out2, err2 := drg(t, "", "tables", "info", "--data", data)
	if strings.Contains(err2, "drg: warning: ") {
		t.Errorf("second command repeats the warnings: %q", err2)
	}
	if !strings.Contains(out2, "\nWarnings\n") {
		t.Error("tables info no longer lists the warnings")
	}
}

// TestReportCMIExplainsNoneRow: drg report cmi --by service-line says what its "(none)" row
// holds.
func TestReportCMIExplainsNoneRow(t *testing.T) {
	data := dataDir(t)
	in := `{"id":"a","discharge_date":"2026-05-01","age":70,"sex":"M","discharge_status":1,"pdx":{"code":"I5023","poa":"Y"}}` + "\n"
	st, recs, stderr := drg(t, in, "group", "--data", data)
	if st != exitOK {
		t.Fatalf("group: exit %d: %s", st, stderr)
	}
	st, out, stderr := drg(t, recs, "report", "cmi", "--by", "service-line", "--data", data, "--in", "-")
	if st != exitOK {
		t.Fatalf("report: exit %d: %s", st, stderr)
	}
	if !strings.Contains(out, "  (none)  ") || !strings.Contains(out, "(none): discharges whose record has no service_line field") {
		t.Errorf("the (none) row is not explained:\n%s", out)
	}
}
