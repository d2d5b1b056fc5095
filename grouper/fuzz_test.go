package grouper_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
)

// FuzzGroup feeds arbitrary claims to the grouper entry point: it must never panic, and it
// either groups (a DRG with a CMS return code) or returns a typed validation error.
func FuzzGroup(f *testing.F) {
	f.Add(uint8(7), "I5023", "Y", "J9601:Y,E119:", "02703DZ", "M", 1, "NON_EXEMPT", false)
	f.Add(uint8(0), "", "", "", "", "", 0, "", true)
	f.Add(uint8(3), "i50.23", "q", "J96 01:Y,,:", "0sr9019,0SP90JZ,0SR9019", "F", 200, "UNKNOWN", false)
	f.Add(uint8(5), "S065X0A", "1", "S272XXA:N,S3600XA:W,T83511A:,N390:U", "5A1955Z,0BH17EZ", "U", 20, "EXEMPT", true)
	f.Add(uint8(9), "A5400", "Y", strings.Repeat("E119:Y,", 30), "", "X", 99, "bogus", false)
	e := testEngine(f)
	versions := e.Versions()
	f.Fuzz(func(t *testing.T, v uint8, pdx, poa, sdx, procs, sex string, status int, hosp string, codeOrder bool) {
		c := &claim.Claim{Sex: sex, HospitalStatus: hosp, DischargeStatus: &status, PDX: &claim.Dx{Code: pdx, POA: poa}}
		if int(v) < len(versions) {
			c.Version = int(versions[v])
		} else if v%2 == 0 {
			c.Version = 400 + int(v)
		}
		if sdx != "" {
			for _, s := range strings.Split(sdx, ",") {
				code, p, _ := strings.Cut(s, ":")
				c.SDX = append(c.SDX, claim.Dx{Code: code, POA: p})
			}
		}
		if procs != "" {
			for _, p := range strings.Split(procs, ",") {
				c.Procedures = append(c.Procedures, claim.Proc{Code: p})
			}
		}
		opt := grouper.Options{Explain: v%3 == 0}
		if codeOrder {
			opt.TieBreaker = grouper.CodeOrder
		}
		r, err := e.Group(c, opt)
		if err != nil {
			var fe claim.Errors
			var ve *grouper.UnknownVersionError
			if !errors.As(err, &fe) && !errors.As(err, &ve) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if r.Final.DRG <= 0 || r.Final.DRG > 999 || len(r.Dx) != 1+min(len(c.SDX), 24) || len(r.Pr) != min(len(c.Procedures), 25) ||
			len(r.Warnings) != max(0, len(c.SDX)-24)+max(0, len(c.Procedures)-25) {
			t.Fatalf("implausible result: DRG %d, %d dx for %d SDX, %d pr, %d warnings", r.Final.DRG, len(r.Dx), len(c.SDX), len(r.Pr), len(r.Warnings))
		}
		if r.Final.DRG == 999 && r.Final.GRC == grouper.OK && r.Initial.DRG == 999 {
			t.Fatalf("ungroupable without a return code")
		}
	})
}

// TestMalformedInputs covers the malformed inputs of the grouper issue explicitly.
func TestMalformedInputs(t *testing.T) {
	e := testEngine(t)
	many := make([]claim.Dx, 30)
	for i := range many {
		many[i] = claim.Dx{Code: "E119", POA: "Y"}
	}
	tests := []struct {
		name    string
		c       *claim.Claim
		wantGRC string // "" when a validation error is expected
		field   string
	}{
		{"empty PDX", &claim.Claim{Version: 431, PDX: &claim.Dx{}}, "INVALID_PDX", ""},
		{"absent PDX", &claim.Claim{Version: 431}, "INVALID_PDX", ""},
		{"lowercase codes", mk("i214", []string{"j9601:Y"}, nil, "M", 1, ""), "OK", ""},
		{"dotted code (not normalized at the engine)", mk("I50.23", nil, nil, "M", 1, ""), "INVALID_PDX", ""},
		{"code with spaces", mk("I50 23", nil, nil, "M", 1, ""), "INVALID_PDX", ""},
		{"30 SDX (the first 24 grouped)", &claim.Claim{Version: 431, PDX: &claim.Dx{Code: "I10"}, SDX: many}, "OK", ""},
		{"unknown POA letter (no claim carries it: never grouped)", mk("I10", []string{"T83511A:Q"}, nil, "M", 1, ""), "", "sdx[0].poa"},
		{"age 200 (no claim carries it, though the grouper ignores age)", func() *claim.Claim { c := mk("I10", nil, nil, "M", 1, ""); c.Age = intp(200); return c }(), "", "age"},
		{"discharge status 999 (not a patient status code)", mk("I10", nil, nil, "M", 999, ""), "", "discharge_status"},
		{"unknown sex letter", mk("I10", nil, nil, "Q", 1, ""), "", "sex"},
		{"unknown version", &claim.Claim{Version: 399, PDX: &claim.Dx{Code: "I10"}}, "", "version"},
		{"missing version", &claim.Claim{PDX: &claim.Dx{Code: "I10"}}, "", "version"},
		{"invalid discharge status", mk("I10", nil, nil, "M", 99, ""), "OK", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := e.Group(tc.c, grouper.Options{})
			if tc.wantGRC == "" {
				var fe claim.Errors
				var ve *grouper.UnknownVersionError
				switch {
				case errors.As(err, &fe):
					if fe[0].Field != tc.field {
						t.Errorf("error names field %q, want %q", fe[0].Field, tc.field)
					}
				case errors.As(err, &ve):
					if tc.field != "version" {
						t.Errorf("unexpected version error %v", err)
					}
				default:
					t.Fatalf("want a typed error naming %s, got %v", tc.field, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Final.GRC.String() != tc.wantGRC {
				t.Errorf("final GRC %s, want %s", r.Final.GRC, tc.wantGRC)
			}
		})
	}
}

// TestMoreCodesThanTheClaimCarries: of 30 secondary diagnoses and 27 procedures the first 24
// and 25 are grouped, in the order given; each code left out is a warning naming its place
// and, for a diagnosis, its own CC/MCC level, and reordering brings it into the grouping.
func TestMoreCodesThanTheClaimCarries(t *testing.T) {
	e := testEngine(t)
	sdx := make([]string, 0, 30)
	for range 24 {
		sdx = append(sdx, "E119:Y")
	}
	sdx = append(sdx, "J9601:Y", "E785:Y", "Z7901:Y", "N179:Y", "E119:Y", "I10:Y")
	procs := make([]string, 27)
	for i := range procs {
		procs[i] = "3E0234Z"
	}
	c := mk("I5023", sdx, procs, "M", 1, "")
	r, err := e.Group(c, grouper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Final.DRG != 293 || len(r.Dx) != 25 || len(r.Pr) != 25 || len(r.Warnings) != 8 {
		t.Fatalf("DRG %d, %d dx, %d pr, %d warnings; want 293 (J9601 not grouped), 25, 25, 8", r.Final.DRG, len(r.Dx), len(r.Pr), len(r.Warnings))
	}
	w := r.Warnings[0]
	if w.Kind != grouper.WarnNotGrouped || w.Field != "sdx[24]" || w.Code != "J9601" || w.Level != "MCC" ||
		!strings.Contains(w.Message, "J9601 is an MCC: move it among the first 24") {
		t.Errorf("first warning %+v", w)
	}
	if w := r.Warnings[3]; w.Code != "N179" || w.Level != "CC" || !strings.Contains(w.Message, "is a CC") {
		t.Errorf("N179 warning %+v", w)
	}
	if w := r.Warnings[2]; w.Code != "Z7901" || strings.Contains(w.Message, "move it") {
		t.Errorf("a non-CC code needs no reordering: %+v", w)
	}
	if w := r.Warnings[7]; w.Field != "procedures[26]" || w.Code != "3E0234Z" {
		t.Errorf("last warning %+v", w)
	}
	if !strings.Contains(string(r.AppendJSON(nil)), `"warnings":[{"kind":"not_grouped","field":"sdx[24]","code":"J9601","message":`) {
		t.Errorf("JSON lacks the warnings: %s", r.AppendJSON(nil))
	}
	// The coder moves J9601 first: it counts, and the last E119 is the one left out.
	c.SDX = append([]claim.Dx{c.SDX[24]}, append(c.SDX[:24:24], c.SDX[25:]...)...)
	r, err = e.Group(c, grouper.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Final.DRG != 291 || r.Warnings[0].Code != "E119" || r.Warnings[0].Field != "sdx[24]" {
		t.Errorf("reordered: DRG %d, warnings %+v", r.Final.DRG, r.Warnings)
	}
	// A claim within the limits has no warnings, also when its result is reused.
	rr := r
	if err := e.GroupInto(mk("I5023", []string{"J9601:Y"}, nil, "M", 1, ""), grouper.Options{}, rr); err != nil || len(rr.Warnings) != 0 {
		t.Errorf("reused result keeps warnings %v (%v)", rr.Warnings, err)
	}
}
