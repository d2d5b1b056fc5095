package tables

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dataDirLayout builds, in a temporary directory, a working directory wd with the candidate
// directories requested (flag, env, ./data, ../shared/cms); "full" ones hold a (dummy) grouper
// file, "empty" ones exist without it.
func dataDirLayout(t *testing.T, dirs map[string]string) (root, wd string) {
	t.Helper()
	root = t.TempDir()
	wd = filepath.Join(root, "repo")
	if err := os.MkdirAll(wd, 0o755); err != nil {
		t.Fatal(err)
	}
	for rel, state := range dirs {
		d := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if state == "full" {
			writeFile(t, d, GrouperFile, []byte("dummy"))
		}
	}
	return root, wd
}

func TestResolveDataDir(t *testing.T) {
	tests := []struct {
		name    string
		dirs    map[string]string // relative to root; wd is root/repo
		flag    string            // relative to root, "" = unset
		env     string
		want    string // relative to root; "" = error
		wantErr []string
	}{
		{name: "flag wins", dirs: map[string]string{"flag": "full", "env": "full", "repo/data": "full", "shared/cms": "full"},
			flag: "flag", env: "env", want: "flag"},
		{name: "env when no flag", dirs: map[string]string{"env": "full", "repo/data": "full", "shared/cms": "full"},
			env: "env", want: "env"},
		{name: "./data", dirs: map[string]string{"repo/data": "full", "shared/cms": "full"}, want: "repo/data"},
		{name: "../shared/cms", dirs: map[string]string{"shared/cms": "full"}, want: "shared/cms"},
		{name: "flag set but missing is binding", dirs: map[string]string{"shared/cms": "full"}, flag: "nope",
			wantErr: []string{"--data " + "ROOT/nope (does not exist)", "drg tables import"}},
		{name: "env without grouper file is binding", dirs: map[string]string{"env": "empty", "shared/cms": "full"}, env: "env",
			wantErr: []string{"--data (not set)", "$DRG_DATA ROOT/env (exists but has no msdrg/msdrg_combined.bin)"}},
		{name: "first existing default wins even without grouper file", dirs: map[string]string{"repo/data": "empty", "shared/cms": "full"},
			wantErr: []string{"data = ROOT/repo/data (exists but has no msdrg/msdrg_combined.bin)"}},
		{name: "nothing anywhere", dirs: nil,
			wantErr: []string{"no MS-DRG grouper data (msdrg/msdrg_combined.bin) found; looked in --data (not set), $DRG_DATA (not set), data = ROOT/repo/data (does not exist), ../shared/cms = ROOT/shared/cms (does not exist)",
				"MS-DRG Classifications and Software", "runtime_buffers/msdrg_combined.bin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, wd := dataDirLayout(t, tt.dirs)
			t.Chdir(wd)
			abs := func(rel string) string {
				if rel == "" {
					return ""
				}
				return filepath.Join(root, rel)
			}
			t.Setenv(DataDirEnv, abs(tt.env))
			got, err := ResolveDataDir(abs(tt.flag))
			if tt.want != "" {
				if err != nil {
					t.Fatalf("ResolveDataDir: %v", err)
				}
				gotAbs, _ := filepath.Abs(got)
				if gotAbs != filepath.Join(root, tt.want) {
					t.Fatalf("ResolveDataDir = %s, want %s", gotAbs, filepath.Join(root, tt.want))
				}
				return
			}
			var dErr *DataDirError
			if !errors.As(err, &dErr) {
				t.Fatalf("ResolveDataDir = %q, %v; want a *DataDirError", got, err)
			}
			oneLine(t, err)
			// t.TempDir may sit behind a symlink; compare with the path the code saw.
			msg := err.Error()
			for _, s := range tt.wantErr {
				s = strings.ReplaceAll(s, "ROOT", root)
				if !strings.Contains(msg, s) {
					t.Errorf("error %q\ndoes not contain %q", msg, s)
				}
			}
		})
	}
}
