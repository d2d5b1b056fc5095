package tables

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readShared(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedCMS(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// listFiles returns the files under dir, relative and slash separated.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

func TestImportGrouperZip(t *testing.T) {
	bin := readShared(t, GrouperFile)
	tmp := t.TempDir()
	src := writeFile(t, tmp, "msdrg-binary-access-1.5.0.jar", zipOf(t, map[string][]byte{
		"META-INF/MANIFEST.MF":               []byte("Manifest-Version: 1.0\n"),
		"runtime_buffers/msdrg_combined.bin": bin,
	}))
	dest := filepath.Join(tmp, "data")
	got, err := Import([]string{src}, dest)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("Import = %+v, want one file", got)
	}
	g := got[0]
	if g.Kind != KindGrouper || g.Dest != GrouperFile || g.Size != int64(len(bin)) || g.SHA256 != sha256Hex(bin) ||
		g.Source != src+"!runtime_buffers/msdrg_combined.bin" {
		t.Errorf("Imported = %+v", g)
	}
	if !strings.Contains(g.Detail, "MS-DRG versions 40.0 … 43.1 (8); v43.1: 74719 diagnosis codes, 83276 procedure keys") {
		t.Errorf("Detail = %q", g.Detail)
	}
	written, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(GrouperFile)))
	if err != nil || !bytes.Equal(written, bin) {
		t.Fatalf("written file differs (%v)", err)
	}
	if files := listFiles(t, dest); !slices.Equal(files, []string{GrouperFile}) {
		t.Errorf("dest holds %v (temporary files left?)", files)
	}
	// The imported directory is a valid data directory.
	c, err := Load(dest)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.MSDRG.Versions) != 8 {
		t.Errorf("versions %v", c.MSDRG.Versions)
	}
}

func TestImportNestedSoftwareZip(t *testing.T) {
	bin := readShared(t, GrouperFile)
	mce := readShared(t, MCEFile)
	jar := zipOf(t, map[string][]byte{"runtime_buffers/msdrg_combined.bin": bin, "gov/cms/Foo.class": {0xca, 0xfe}})
	mceJar := zipOf(t, map[string][]byte{"mce.bin": mce})
	otherJar := zipOf(t, map[string][]byte{"gov/cms/Bar.class": {0xca, 0xfe}})
	tmp := t.TempDir()
	src := writeFile(t, tmp, "MS-DRG_v43.1_software.zip", zipOf(t, map[string][]byte{
		"lib/msdrg-binary-access-1.5.0.jar": jar,
		"lib/MCE-2.0-43.1.0.0.jar":          mceJar,
		"lib/protobuf-java.jar":             otherJar,
		"README.txt":                        []byte("read me"),
	}))
	dest := filepath.Join(tmp, "data")
	got, err := Import([]string{src}, dest)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]Imported{}
	for _, g := range got {
		kinds[g.Kind] = g
	}
	if len(got) != 2 || kinds[KindGrouper].Dest != GrouperFile || kinds[KindMCE].Dest != MCEFile {
		t.Fatalf("Import = %+v", got)
	}
	if s := kinds[KindGrouper].Source; s != src+"!lib/msdrg-binary-access-1.5.0.jar!runtime_buffers/msdrg_combined.bin" {
		t.Errorf("grouper source %q", s)
	}
	if d := kinds[KindMCE].Detail; d != "MCE data version 431" {
		t.Errorf("MCE detail %q", d)
	}
	if files := listFiles(t, dest); !slices.Equal(files, []string{MCEFile, GrouperFile}) {
		t.Errorf("dest holds %v", files)
	}
}

// TestImportEverySharedFile imports every file of ../shared/cms (as downloaded, from their
// current names) and checks the result loads like the original.
func TestImportEverySharedFile(t *testing.T) {
	cms := sharedCMS(t)
	orig, err := Load(cms)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	var paths []string
	for _, f := range orig.Files {
		// Give the files the names a browser download would: no data-dir layout.
		b := readShared(t, f.Path)
		name := strings.ReplaceAll(f.Path, "/", "_")
		switch f.Path {
		case GrouperFile:
			name = "download (1).bin"
		case MCEFile:
			name = "mce.bin"
		}
		paths = append(paths, writeFile(t, tmp, "downloads/"+name, b))
	}
	dest := filepath.Join(tmp, "data")
	got, err := Import(paths, dest)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(orig.Files) {
		t.Fatalf("imported %d files, want %d", len(got), len(orig.Files))
	}
	c, err := Load(dest)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Files, orig.Files) {
		t.Errorf("imported data dir files differ:\n%+v\nwant\n%+v", c.Files, orig.Files)
	}
	if !slices.Equal(c.Warnings, orig.Warnings) {
		t.Errorf("warnings %q, want %q", c.Warnings, orig.Warnings)
	}
}

func TestImportErrors(t *testing.T) {
	bin := readShared(t, GrouperFile)
	tests := []struct {
		name  string
		files map[string][]byte // written to a temp dir, imported in name order
		want  string            // error substring; the file name is checked separately
		names string            // the file the error must name
	}{
		{name: "unknown binary", files: map[string][]byte{"a.dat": {0, 1, 2, 3, 0xff, 0xfe}}, want: "unrecognized file", names: "a.dat"},
		{name: "unknown text", files: map[string][]byte{"notes.txt": []byte("hello\nworld\n")}, want: `unrecognized text file (first line "hello")`, names: "notes.txt"},
		{name: "empty zip", files: map[string][]byte{"x.zip": zipOf(t, map[string][]byte{"a.txt": []byte("a")})},
			want: "no runtime_buffers/msdrg_combined.bin, mce.bin, ICD-10 order file or POA-exempt list inside", names: "x.zip"},
		{name: "corrupt zip", files: map[string][]byte{"x.zip": append([]byte("PK\x03\x04"), make([]byte, 40)...)}, want: "corrupt zip archive", names: "x.zip"},
		{name: "truncated bin in jar", files: map[string][]byte{"g.jar": zipOf(t, map[string][]byte{"runtime_buffers/msdrg_combined.bin": bin[:len(bin)/2]})},
			want: "truncated or corrupt", names: "g.jar!runtime_buffers/msdrg_combined.bin"},
		{name: "bad weights", files: map[string][]byte{"msdrg_fy2026_weights_los.csv": []byte("msdrg,weight,gmlos,amlos\n001,x,1,1\n")},
			want: "msdrg_fy2026_weights_los.csv:2: weight \"x\"", names: "msdrg_fy2026_weights_los.csv"},
		{name: "hcc without year", files: map[string][]byte{"hcc.csv": []byte("diagnosis_code,cc,model_name\nE1122,37,CMS-HCC Model V28\n")},
			want: "rename it ra_dx_to_cc_YYYY.csv", names: "hcc.csv"},
		{name: "same grouper twice is no conflict", files: map[string][]byte{"a.bin": bin, "b.zip": zipOf(t, map[string][]byte{"x/msdrg_combined.bin": bin})},
			want: "", names: ""},
		{name: "bad mce", files: map[string][]byte{"mce.bin": []byte{0x0a, 0x02, 0x01}}, want: "decode MCE data (truncated or not an mce.bin file)", names: "mce.bin"},
		{name: "one bad file aborts all", files: map[string][]byte{"a.bin": bin, "z.txt": []byte("nope\n")}, want: "unrecognized text file", names: "z.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			var paths []string
			for _, n := range slices.Sorted(func(yield func(string) bool) {
				for n := range tt.files {
					if !yield(n) {
						return
					}
				}
			}) {
				paths = append(paths, writeFile(t, tmp, "in/"+n, tt.files[n]))
			}
			dest := filepath.Join(tmp, "data")
			got, err := Import(paths, dest)
			if tt.want == "" { // identical content from two sources is not a conflict
				if err != nil || len(got) != 1 {
					t.Fatalf("Import = %+v, %v; want one file", got, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Import = %+v, want an error", got)
			}
			oneLine(t, err)
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), filepath.Join(tmp, "in", tt.names)) {
				t.Errorf("error %q\nwant it to contain %q and name %s", err, tt.want, tt.names)
			}
			if _, err := os.Stat(dest); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("dest was created although the import failed: %v", listFiles(t, dest))
			}
		})
	}
}

func TestImportConflict(t *testing.T) {
	bin := readShared(t, GrouperFile)
	other, err := os.ReadFile(filepath.Join(sharedCMS(t), GrouperFile))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	// A second valid grouper file with different bytes: an extra, empty unknown table
	// (field 31), which readers skip.
	other = append(other, 0xfa, 0x01, 0x00)
	a := writeFile(t, tmp, "a.bin", bin)
	b := writeFile(t, tmp, "b.bin", other)
	_, err = Import([]string{a, b}, filepath.Join(tmp, "data"))
	if err == nil || !strings.Contains(err.Error(), "both provide msdrg/msdrg_combined.bin with different content") {
		t.Fatalf("err = %v, want a conflict naming both files", err)
	}
}

func TestMCEVerifierHook(t *testing.T) {
	mce := readShared(t, MCEFile)
	old := MCEVerifier
	t.Cleanup(func() { MCEVerifier = old })
	MCEVerifier = func([]byte) error { return errors.New("rejected by the MCE decoder") }
	p := writeFile(t, t.TempDir(), "mce.bin", mce)
	_, err := Import([]string{p}, filepath.Join(t.TempDir(), "data"))
	if err == nil || !strings.Contains(err.Error(), "rejected by the MCE decoder") || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v", err)
	}
}
