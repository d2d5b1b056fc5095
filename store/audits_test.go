package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/audit"
	"github.com/msdrg-cdi/drg/claim"
)

func TestCodingAudits(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		lead := Actor{UserID: 1, Name: "lead", Role: RoleAdmin}
		a := &CodingAudit{Name: "Q2", Population: 7,
			Spec: AuditSpec{Size: 2, Seed: 42, DischargedFrom: claim.Date{Year: 2026, Month: 4, Day: 1}, DRGs: []int{291}, CategoryBy: "mdc"},
			Cases: []AuditCase{
				{EncounterID: "E2", Seq: 1, Coder: "ana", Version: 431, CoderCoding: audit.Coding{PDX: claim.Dx{Code: "I5023"}, DRG: 291, Weight: 1.2838}},
				{EncounterID: "E1", Seq: 2, Coder: "bo", Version: 431, CoderCoding: audit.Coding{PDX: claim.Dx{Code: "I5023"}, DRG: 292}},
			}}
		got, err := s.CreateCodingAudit(ctx, lead, a)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 || got.Size != 2 || got.CreatedBy != "lead" || got.Cases[0].Status != CasePending || got.Cases[0].AuditID != got.ID {
			t.Errorf("created %+v", got)
		}
		read, err := s.GetCodingAudit(ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if read.Spec.Seed != 42 || !reflect.DeepEqual(read.Spec.DRGs, []int{291}) || read.Cases[0].EncounterID != "E2" || read.Cases[1].Coder != "bo" ||
			read.Cases[0].CoderCoding.Weight != 1.2838 || read.Audited != 0 || read.Population != 7 {
			t.Errorf("read back %+v", read)
		}
		if _, err := s.GetCodingAudit(ctx, got.ID+100); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing audit: %v", err)
		}

		auditor := Actor{UserID: 3, Name: "cy", Role: RoleCoder}
		at := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
		c, err := s.UpdateAuditCase(ctx, auditor, got.ID, "E2", "record", func(c *AuditCase) error {
			c.Status, c.Auditor, c.AuditedAt = CaseAudited, auditor.Name, &at
			c.AuditorCoding = &audit.Coding{PDX: claim.Dx{Code: "I5023"}, DRG: 292, Weight: 0.849}
			c.Comparison = &audit.Comparison{PDXAgree: true, SDXBoth: 1, WeightDiff: 0.4348}
			c.Coder = "changed" // ignored
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.RowVersion != 2 || c.Coder != "ana" || c.Status != CaseAudited {
			t.Errorf("updated case %+v", c)
		}
		if _, err := s.UpdateAuditCase(ctx, auditor, got.ID, "E9", "record", func(*AuditCase) error { return nil }); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing case: %v", err)
		}
		boom := errors.New("boom")
		if _, err := s.UpdateAuditCase(ctx, auditor, got.ID, "E1", "record", func(*AuditCase) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("aborted change: %v", err)
		}
		one, err := s.GetAuditCase(ctx, got.ID, "E2")
		if err != nil || one.Comparison == nil || one.Comparison.SDXBoth != 1 || one.AuditedAt == nil || !one.AuditedAt.Equal(at) {
			t.Errorf("case read back %+v, %v", one, err)
		}

		list, _, err := s.ListCodingAudits(ctx, 10, "")
		if err != nil || len(list) != 1 || list[0].Audited != 1 || list[0].Size != 2 {
			t.Errorf("list %+v, %v", list, err)
		}
		cases, _, err := s.ListAuditCases(ctx, AuditCaseFilter{Coder: "ana", Status: CaseAudited}, 10, "")
		if err != nil || len(cases) != 1 || cases[0].EncounterID != "E2" {
			t.Errorf("cases of ana %+v, %v", cases, err)
		}
		if cases, _, _ := s.ListAuditCases(ctx, AuditCaseFilter{Coder: "bo", Status: CaseAudited}, 10, ""); len(cases) != 0 {
			t.Errorf("bo has no audited case: %+v", cases)
		}

		log, _, err := s.ListAudit(ctx, AuditFilter{Entity: "coding_audit_case"}, 10, "")
		if err != nil || len(log) != 1 || log[0].EntityID != fmt.Sprintf("%d/E2", got.ID) || log[0].Action != "record" || log[0].ActorName != "cy" {
			t.Fatalf("audit log %+v, %v", log, err)
		}
		var after map[string]json.RawMessage
		json.Unmarshal(log[0].After, &after)
		if _, ok := after["comparison"]; !ok || after["status"] == nil {
			t.Errorf("audit log after %s", log[0].After)
		}
		if log, _, _ := s.ListAudit(ctx, AuditFilter{Entity: "coding_audit", Action: "create"}, 10, ""); len(log) != 1 {
			t.Errorf("creation not audited: %+v", log)
		}
	})
}

// TestScanAndHistory: ScanEncounters pages through a filter without evidence; the state of
// an encounter before its later changes is rebuilt from the audit log.
func TestScanAndHistory(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		var ids []string
		for i := range 5 {
			e := sampleEncounter(fmt.Sprintf("S%d", i))
			if i == 4 {
				e.Payer = "OTHER"
			}
			c, err := s.CreateEncounter(ctx, CLIActor, e)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		cdi := Actor{UserID: 2, Name: "cdi", Role: RoleCDI}
		coder := Actor{UserID: 3, Name: "coder", Role: RoleCoder}
		if _, err := s.UpdateEncounter(ctx, cdi, ids[0], 0, "group", func(e *Encounter) error {
			e.BaselineDRG = &DRG{DRG: 291, Severity: "MCC", Version: 431}
			e.WorkingDRG = e.BaselineDRG
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateEncounter(ctx, coder, ids[0], 0, "finalize", func(e *Encounter) error {
			e.SDX = e.SDX[1:]
			e.WorkingDRG = &DRG{DRG: 293, Severity: "NON_CC", Version: 431}
			e.FinalDRG = e.WorkingDRG
			fc := e.Codes
			e.FinalCodes = &fc
			e.Status = StatusFinal
			return nil
		}); err != nil {
			t.Fatal(err)
		}

		var pages [][]string
		err := s.ScanEncounters(ctx, EncounterFilter{Payer: "MEDICARE"}, 2, true, func(page []*Encounter) error {
			var p []string
			for _, e := range page {
				if e.Evidence != nil || e.PDX == nil {
					t.Errorf("scanned %s with evidence %v, pdx %v", e.ID, e.Evidence, e.PDX)
				}
				p = append(p, e.ID)
			}
			pages = append(pages, p)
			return nil
		})
		if err != nil || !reflect.DeepEqual(pages, [][]string{{ids[0], ids[1]}, {ids[2], ids[3]}}) {
			t.Errorf("pages %v, %v", pages, err)
		}
		if n, err := s.CountEncounters(ctx, EncounterFilter{Status: StatusFinal}); n != 1 || err != nil {
			t.Errorf("final count %d, %v", n, err)
		}

		hist, err := s.EncounterChanges(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		h := hist[ids[0]]
		if len(h) != 2 || h[0].Action != "group" || h[0].ActorRole != RoleCDI || h[1].Action != "finalize" || len(hist[ids[1]]) != 0 {
			t.Fatalf("history %+v", hist)
		}
		cur, _ := s.GetEncounter(ctx, ids[0])
		var curMap map[string]json.RawMessage
		b, _ := json.Marshal(cur)
		json.Unmarshal(b, &curMap)
		st, err := StateBefore(curMap, h[1:]) // as the CDI specialist left it
		if err != nil {
			t.Fatal(err)
		}
		b, _ = json.Marshal(st)
		var then Encounter
		if err := json.Unmarshal(b, &then); err != nil {
			t.Fatal(err)
		}
		if then.WorkingDRG == nil || then.WorkingDRG.DRG != 291 || len(then.SDX) != 2 || then.FinalDRG != nil || then.Status != StatusDischarged {
			t.Errorf("state before finalization: working %+v, sdx %v, final %+v, status %s", then.WorkingDRG, then.SDX, then.FinalDRG, then.Status)
		}
	})
}
