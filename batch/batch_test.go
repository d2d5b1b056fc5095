package batch

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
	"github.com/msdrg-cdi/drg/tables"
)

// echo is a processor that writes "id pdx sdx-count" and rejects PDX "BAD".
type echo struct{}

func (echo) Process(c *claim.Claim, dst []byte) ([]byte, error) {
	if c.PDX == nil || c.PDX.Code == "BAD" {
		return append(dst, "partial"...), &claim.FieldError{Field: "pdx", Message: "rejected"}
	}
	return fmt.Appendf(dst, "%s %s %d\n", c.ID, c.PDX.Code, len(c.SDX)), nil
}

func tsvLine(i int, pdx string) string {
	return fmt.Sprintf("c%d\t431\t70\tM\t1\tNON_EXEMPT\t%s:Y\t\tJ9601:Y,E119:\t02703DZ\t20260415\t4", i, pdx)
}

func run(t *testing.T, in string, opt Options) (string, Summary, error) {
	t.Helper()
	var out bytes.Buffer
	sum, err := Run(context.Background(), strings.NewReader(in), &out, echo{}, JSONLEncoder{}, opt)
	return out.String(), sum, err
}

func TestFormats(t *testing.T) {
	want := "a I5023 2\nb J9601 0\n"
	tests := []struct {
		name   string
		format claim.Format
		in     string
	}{
		{"tsv sniffed", claim.FormatUnknown, "a\t431\t70\tM\t1\t\tI5023:Y\t\tJ9601:Y,E119:\t\t20260415\t4\nb\t431\t70\tF\t1\t\tJ9601:Y\t\t\t\t20260415\t4\n"},
		{"jsonl sniffed", claim.FormatUnknown, `{"id":"a","version":431,"pdx":{"code":"I50.23","poa":"Y"},"sdx":[{"code":"J9601","poa":"Y"},{"code":"E119"}]}` + "\n" + `{"id":"b","pdx":{"code":"J9601"}}` + "\n"},
		{"csv with header", claim.FormatCSV, "id,version,pdx,pdx_poa,sdx,procedures\na,431,I5023,Y,J9601:Y;E119:,02703DZ\nb,431,J9601,,,\n"},
		{"csv sniffed, CRLF", claim.FormatUnknown, "id,pdx,sdx\r\na,I5023:Y,J9601:Y;E119:\r\nb,J9601,\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, sum, err := run(t, tc.in, Options{Format: tc.format})
			if err != nil {
				t.Fatal(err)
			}
			if got != want || sum.Lines != 2 || sum.Grouped != 2 || sum.Errors != 0 {
				t.Errorf("got %q %+v, want %q", got, sum, want)
			}
		})
	}
}

func TestGzipInput(t *testing.T) {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	for i := range 1000 {
		fmt.Fprintln(zw, tsvLine(i, "I5023"))
	}
	zw.Close()
	var out bytes.Buffer
	sum, err := Run(context.Background(), &z, &out, echo{}, JSONLEncoder{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lines != 1000 || strings.Count(out.String(), "\n") != 1000 || !strings.HasPrefix(out.String(), "c0 I5023 2\nc1 ") {
		t.Errorf("summary %+v, output starts %q", sum, out.String()[:30])
	}
}

// TestMalformedLines: 5 % bad lines give error records naming the line and field, in place.
func TestMalformedLines(t *testing.T) {
	var in strings.Builder
	bad := 0
	for i := range 2000 {
		switch {
		case i%40 == 7:
			in.WriteString("c" + fmt.Sprint(i) + "\tnot\tenough\tcolumns\n")
			bad++
		case i%40 == 23:
			in.WriteString(tsvLine(i, "BAD") + "\n")
			bad++
		default:
			in.WriteString(tsvLine(i, "I5023") + "\n")
		}
	}
	got, sum, err := run(t, in.String(), Options{Workers: 4, ChunkSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if bad != 100 || sum.Lines != 2000 || sum.Errors != 100 || sum.Grouped != 1900 || sum.ErrorKinds["line"] != 50 || sum.ErrorKinds["pdx"] != 50 {
		t.Fatalf("summary %+v", sum)
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 2000 {
		t.Fatalf("%d output lines", len(lines))
	}
	if want := `{"line":8,"error":"line: want 12 tab-separated columns, got 4","errors":[{"field":"line","message":"want 12 tab-separated columns, got 4"}]}`; lines[7] != want {
		t.Errorf("line 8 record %s, want %s", lines[7], want)
	}
	if !strings.Contains(lines[23], `"line":24,"id":"c23","error":"pdx: rejected"`) {
		t.Errorf("line 24 record %s", lines[23])
	}
	if strings.Contains(got, "partial") {
		t.Error("output of a failed record leaked into the file")
	}
}

// TestOrderIndependentOfWorkers: one worker and many give byte-identical output.
func TestOrderIndependentOfWorkers(t *testing.T) {
	var in strings.Builder
	for i := range 5000 {
		in.WriteString(tsvLine(i, []string{"I5023", "J9601", "BAD"}[i%3]) + "\n")
	}
	one, _, err := run(t, in.String(), Options{Workers: 1, ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	many, _, err := run(t, in.String(), Options{Workers: 8, ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	if one != many {
		t.Error("output differs between 1 and 8 workers")
	}
}

// slowReader cancels the context after n reads, like a SIGINT arriving mid-run.
type slowReader struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (s *slowReader) Read(p []byte) (int, error) {
	s.n--
	if s.n == 0 {
		s.cancel()
	}
	if len(p) > 4096 {
		p = p[:4096]
	}
	return s.r.Read(p)
}

func TestInterrupt(t *testing.T) {
	var in strings.Builder
	for i := range 100000 {
		in.WriteString(tsvLine(i, "I5023") + "\n")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	sum, err := Run(ctx, &slowReader{r: strings.NewReader(in.String()), n: 50, cancel: cancel}, &out, echo{}, JSONLEncoder{}, Options{ChunkSize: 64})
	if !errors.Is(err, ErrInterrupted) || !sum.Interrupted {
		t.Fatalf("err %v, summary %+v", err, sum)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if sum.Lines == 0 || sum.Lines >= 100000 || len(lines) != sum.Lines {
		t.Fatalf("summary says %d lines, output has %d", sum.Lines, len(lines))
	}
	for i, l := range lines {
		if want := fmt.Sprintf("c%d I5023 2", i); l != want {
			t.Fatalf("output line %d = %q, want %q (output must be an intact prefix)", i+1, l, want)
		}
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n--; f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteFailure(t *testing.T) {
	var in strings.Builder
	for i := range 10000 {
		in.WriteString(tsvLine(i, "I5023") + "\n")
	}
	_, err := Run(context.Background(), strings.NewReader(in.String()), &failWriter{n: 3}, echo{}, JSONLEncoder{}, Options{ChunkSize: 10})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnknownFormat(t *testing.T) {
	_, _, err := run(t, "just some words\n", Options{})
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("err = %v", err)
	}
	_, _, err = run(t, "id,pdx,colour\na,I10,red\n", Options{Format: claim.FormatCSV})
	if err == nil || !strings.Contains(err.Error(), `unknown column "colour"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestCSVEncoder(t *testing.T) {
	e := CSVEncoder{Columns: []string{"id", "drg"}}
	if got := string(e.Header()); got != "id,drg,line,error\n" {
		t.Errorf("header %q", got)
	}
	if got := string(e.Error(nil, 7, "x,1", errors.New(`bad "pdx"`))); got != "\"x,1\",,7,\"bad \"\"pdx\"\"\"\n" {
		t.Errorf("error row %q", got)
	}
}

// checkingEcho is echo with claim checks (as GroupProcessor): a sex other than M F U.
type checkingEcho struct{ echo }

func (checkingEcho) Check(c *claim.Claim) error { return c.Check().Err() }

// TestAllFieldErrorsOfALine: a line with several fields at fault gets one error record
// naming each of them, parse errors and the processor's checks together, in every format.
func TestAllFieldErrorsOfALine(t *testing.T) {
	tests := []struct {
		name   string
		format claim.Format
		in     string
		want   []string
	}{
		{"jsonl", claim.FormatJSONL, `{"id":"j1","age":"seventy","sex":"X","discharge_status":"home","hospital_status":"MAYBE","pdx":{"code":"I10","poa":3}}`,
			[]string{"age", "discharge_status", "pdx.poa", "sex", "hospital_status"}},
		{"tsv", claim.FormatTSV, "t1\t431\tseventy\tX\thome\t\tI10:Y\t\t\t\t20261345\t4", []string{"age", "discharge_status", "discharge_date", "sex"}},
		{"csv", claim.FormatCSV, "id,age,sex,pdx\nc1,seventy,X,I10", []string{"age", "sex"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if _, err := Run(context.Background(), strings.NewReader(tc.in+"\n"), &out, checkingEcho{}, JSONLEncoder{}, Options{Format: tc.format}); err != nil {
				t.Fatal(err)
			}
			var rec struct {
				Errors []claim.FieldError `json:"errors"`
			}
			if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
				t.Fatalf("%v: %s", err, out.String())
			}
			var got []string
			for _, e := range rec.Errors {
				got = append(got, e.Field)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("fields %v, want %v: %s", got, tc.want, out.String())
			}
		})
	}
}

// TestInvalidCodeWarnings: each code the version does not recognize gets a warning naming the
// code, its place, the version and the describer's reason and replacements.
func TestInvalidCodeWarnings(t *testing.T) {
	r := &grouper.Result{Version: 431, AdmitDx: grouper.AdmitDxInvalid,
		Dx: []grouper.DxResult{{Code: "T8132XA"}, {Code: "E119", Recognized: true}, {Code: "ZZZ99"}},
		Pr: []grouper.PrResult{{Code: "02703DZ", Recognized: true}, {Code: "0SG604Z"}}}
	c := &claim.Claim{AdmitDx: &claim.Dx{Code: "R99X"}}
	describe := func(kind tables.TitleKind, code string, v tables.Version) tables.InvalidCode {
		if code == "T8132XA" {
			return tables.InvalidCode{Reason: "it was deleted", Replacements: []string{"T81320A", "T81321A"}, More: 2}
		}
		return tables.InvalidCode{Reason: fmt.Sprintf("%s of %s", kind, v)}
	}
	AddInvalidCodeWarnings(r, c, describe)
	var got []string
	for _, w := range r.Warnings {
		got = append(got, w.Field+" "+w.Code+" "+w.Message)
	}
	want := []string{
		"pdx T8132XA principal diagnosis T8132XA is not a valid ICD-10-CM code in grouper version 43.1 (FY2026): it was deleted; " +
			"possible replacements (FY2026 codes that extend it, derived from the code files: confirm in the Tabular List): T81320A, T81321A and 2 more",
		"sdx[1] ZZZ99 secondary diagnosis 2, ZZZ99 is not a valid ICD-10-CM code in grouper version 43.1 (FY2026): ICD-10-CM of 43.1",
		"admit_dx R99X admitting diagnosis R99X is not a valid ICD-10-CM code in grouper version 43.1 (FY2026): ICD-10-CM of 43.1",
		"procedures[1] 0SG604Z procedure 2, 0SG604Z is not a valid ICD-10-PCS code in grouper version 43.1 (FY2026): ICD-10-PCS of 43.1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r.Warnings[0].Kind != grouper.WarnInvalidCode || !slices.Equal(r.Warnings[0].PossibleReplacements, []string{"T81320A", "T81321A"}) {
		t.Errorf("first warning %+v", r.Warnings[0])
	}
}
