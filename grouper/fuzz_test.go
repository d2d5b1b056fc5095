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
		if r.Final.DRG <= 0 || r.Final.DRG > 999 || len(r.Dx) != 1+len(c.SDX) || len(r.Pr) != len(c.Procedures) {
			t.Fatalf("implausible result: DRG %d, %d dx for %d SDX, %d pr", r.Final.DRG, len(r.Dx), len(c.SDX), len(r.Pr))
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
		{"30 SDX", &claim.Claim{Version: 431, PDX: &claim.Dx{Code: "I10"}, SDX: many}, "", "sdx"},
		{"unknown POA letter", mk("I10", []string{"T83511A:Q"}, nil, "M", 1, ""), "HAC_MISSING_ONE_POA", ""},
		{"age 200 (the grouper ignores age)", func() *claim.Claim { c := mk("I10", nil, nil, "M", 1, ""); c.Age = intp(200); return c }(), "OK", ""},
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
