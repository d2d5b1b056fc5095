package tables

import (
	"archive/zip"
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

func TestLoadPOAExemptReal(t *testing.T) {
	cms := sharedCMS(t)
	tests := []struct {
		fy    int
		codes int // from the CDC ReadMe / line counts
	}{
		{2023, 37658}, {2024, 38110}, {2025, 38154}, {2026, 38349},
	}
	for _, tt := range tests {
		p, err := LoadPOAExempt(filepath.Join(cms, "poa", fmt.Sprintf("POAexemptCodesFY%02d.zip", tt.fy%100)))
		if err != nil {
			t.Fatal(err)
		}
		if p.FiscalYear != tt.fy || p.Len() != tt.codes {
			t.Errorf("FY%d: got FY%d with %d codes, want %d", tt.fy, p.FiscalYear, p.Len(), tt.codes)
		}
		// Sequelae of tuberculosis (B90.0) is exempt; heart failure is not.
		for code, want := range map[string]bool{"B900": true, "B90.0": true, "b900": true, "I5023": false, "": false} {
			if got := p.Has(code); got != want {
				t.Errorf("FY%d Has(%q) = %v, want %v", tt.fy, code, got, want)
			}
		}
	}
}

// poaZip builds a POA zip in memory with the given list content.
func poaZip(t *testing.T, listName, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{listName: content, "ReadMe.txt": "readme"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadPOAExemptFixtures(t *testing.T) {
	tests := []struct {
		name     string
		zipName  string
		listName string
		content  string
		wantN    int
		wantErr  string
	}{
		{name: "ok", zipName: "POAexemptCodesFY26.zip", listName: "POAexemptCodesFY26.txt",
			content: "Order26\tPOAexemptCode\tDescription\r\n01238\tB90.0\tSequelae\r\n01239\tZ37.0\tSingle live birth\r\n", wantN: 2},
		{name: "odd header", zipName: "x.zip", listName: "POAexemptCodesFY25.txt",
			content: "OrdFY25\tPOAexemptCode\tDescription\n01238\tB90.0\tSequelae\n", wantN: 1},
		{name: "bad code", zipName: "x.zip", listName: "POAexemptCodesFY26.txt",
			content: "Order26\tPOAexemptCode\tDescription\n01238\tB90.0\tok\n01239\tB9?\tbad\n", wantErr: "POAexemptCodesFY26.txt:3: \"B9?\" is not an ICD-10-CM code"},
		{name: "no tabs", zipName: "x.zip", listName: "POAexemptCodesFY26.txt",
			content: "Order26\tPOAexemptCode\tDescription\n01238 B900 text\n", wantErr: "POAexemptCodesFY26.txt:2: want order<TAB>code<TAB>description"},
		{name: "name mismatch", zipName: "POAexemptCodesFY25.zip", listName: "POAexemptCodesFY26.txt",
			content: "Order26\tPOAexemptCode\tDescription\n01238\tB90.0\tok\n", wantErr: "file name says FY2025 but it holds the FY2026 list"},
		{name: "no list", zipName: "x.zip", listName: "POAexemptAddCodesFY26.txt",
			content: "x", wantErr: "no POAexemptCodesFYyy.txt inside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), tt.zipName, poaZip(t, tt.listName, tt.content))
			l, err := LoadPOAExempt(p)
			if tt.wantErr != "" {
				wantError(t, err, tt.wantErr, tt.zipName)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Len() != tt.wantN || !l.Has("B900") {
				t.Errorf("Len %d Has(B900) %v, want %d true", l.Len(), l.Has("B900"), tt.wantN)
			}
		})
	}
}
