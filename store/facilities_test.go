package store

import (
	"errors"
	"fmt"
	"testing"
)

func TestFacilities(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		admin := Actor{UserID: 1, Name: "root", Role: RoleAdmin}
		if _, err := s.GetFacility(ctx, "MAIN"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unset facility: %v", err)
		}
		f, err := s.PutFacility(ctx, admin, Facility{Code: " MAIN ", TimeZone: "America/Chicago"})
		if err != nil || f.Code != "MAIN" || f.TimeZone != "America/Chicago" || f.UpdatedBy != "root" || f.UpdatedAt.IsZero() {
			t.Fatalf("put: %+v, %v", f, err)
		}
		if _, err := s.PutFacility(ctx, admin, Facility{Code: "MAIN", TimeZone: "America/New_York"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutFacility(ctx, admin, Facility{Code: "EAST", TimeZone: "America/Denver"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetFacility(ctx, "MAIN")
		if err != nil || got.TimeZone != "America/New_York" {
			t.Errorf("get after replace: %+v, %v", got, err)
		}
		all, err := s.ListFacilities(ctx)
		if err != nil || len(all) != 2 || all[0].Code != "EAST" || all[1].Code != "MAIN" {
			t.Errorf("list: %+v, %v", all, err)
		}
		for _, bad := range []Facility{{Code: "", TimeZone: "UTC"}, {Code: "X", TimeZone: " "}} {
			if _, err := s.PutFacility(ctx, admin, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("put %+v: %v", bad, err)
			}
		}
		rows, _, err := s.ListAudit(ctx, AuditFilter{Entity: "facility", EntityID: "MAIN"}, 10, "")
		if err != nil || len(rows) != 2 || rows[0].Action != "create" || rows[1].Action != "update" || rows[1].ActorName != "root" {
			t.Errorf("audit: %+v, %v", rows, err)
		}
	})
}

// TestEncounterKeepsEveryCode: an encounter holds more codes than a claim carries (40
// secondary diagnoses, 30 procedures), in order, through create, read and update.
func TestEncounterKeepsEveryCode(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		actor := Actor{UserID: 7, Name: "ana", Role: RoleCoder}
		in := sampleEncounter("ACCT-MANY")
		in.SDX, in.Procedures = nil, nil
		for i := range 40 {
			in.SDX = append(in.SDX, Code{Code: fmt.Sprintf("Z%04d", i), POA: "Y", Source: SourceImport})
		}
		for i := range 30 {
			in.Procedures = append(in.Procedures, Code{Code: fmt.Sprintf("3E0%04d", i), Source: SourceImport})
		}
		e, err := s.CreateEncounter(ctx, actor, in)
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, got *Encounter, first string) {
			t.Helper()
			if len(got.SDX) != 40 || len(got.Procedures) != 30 || got.SDX[0].Code != first || got.Procedures[29].Code != "3E00029" {
				t.Errorf("%s: %d SDX (first %s), %d procedures", what, len(got.SDX), got.SDX[0].Code, len(got.Procedures))
			}
		}
		got, err := s.GetEncounter(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("read", got, "Z0000")
		u, err := s.UpdateEncounter(ctx, actor, e.ID, 0, "update", func(x *Encounter) error {
			x.SDX[0], x.SDX[39] = x.SDX[39], x.SDX[0] // a coder reorders
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		check("updated", u, "Z0039")
		if got, _ = s.GetEncounter(ctx, e.ID); got.SDX[39].Code != "Z0000" {
			t.Errorf("reorder not stored: last SDX %s", got.SDX[39].Code)
		}
	})
}
