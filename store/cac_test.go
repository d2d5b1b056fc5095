package store

import (
	"testing"
	"time"
)

// TestCACDecisions: decisions are kept in order with their span, audited without note text,
// counted by code, kind, note type and decision within a period; a code of source cac keeps
// its support through a change that keeps it in place and loses it otherwise.
func TestCACDecisions(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		e, err := s.CreateEncounter(ctx, CLIActor, sampleEncounter("CAC1"))
		if err != nil {
			t.Fatal(err)
		}
		span := Span{Note: "evidence[0]", NoteHash: NoteHash("Afib."), Start: 0, End: 4}
		for _, d := range []CACDecision{
			{Code: "I4819", Kind: "sdx", Decision: DecisionAccept, Span: span, NoteType: "discharge summary"},
			{Code: "Z7901", Kind: "sdx", Decision: DecisionReject, Reason: "not this stay", Span: span, NoteType: "discharge summary"},
			{Code: "Z7901", Kind: "sdx", Decision: DecisionReject, Span: span, NoteType: "progress note"},
		} {
			d.EncounterID = e.ID
			err := s.Tx(ctx, func(tx *Tx) error {
				if err := tx.CheckEncounterVersion(e.ID, e.RowVersion); err != nil {
					return err
				}
				return tx.AddCACDecision(CLIActor, &d)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Tx(ctx, func(tx *Tx) error { return tx.CheckEncounterVersion(e.ID, e.RowVersion+1) }); err == nil {
			t.Error("a stale row version passed")
		}
		ds, err := s.CACDecisions(ctx, e.ID)
		if err != nil || len(ds) != 3 || ds[1].Reason != "not this stay" || ds[0].Span != span || ds[0].ID >= ds[1].ID {
			t.Fatalf("decisions %+v %v", ds, err)
		}
		counts, err := s.CACDecisionCounts(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil || len(counts) != 3 {
			t.Fatalf("counts %+v %v", counts, err)
		}
		if c, _ := s.CACDecisionCounts(ctx, time.Now().Add(time.Hour), time.Time{}); len(c) != 0 {
			t.Errorf("counts after the decisions: %+v", c)
		}
		// support kept in place, dropped when the code loses source cac
		_, err = s.UpdateEncounter(ctx, CLIActor, e.ID, 0, "cac_codes", func(u *Encounter) error {
			u.SDX = append(u.SDX, Code{Code: "I4819", Source: SourceCAC, Support: &span})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetEncounter(ctx, e.ID)
		last := got.SDX[len(got.SDX)-1]
		if last.Support == nil || *last.Support != span {
			t.Fatalf("support %+v", last.Support)
		}
		in := Codes{SDX: []Code{{Code: "I4819"}, {Code: "E119", Source: SourceCAC, Support: &span}}}
		in.FillSources(got.Codes, SourceCoder)
		if in.SDX[0].Source != SourceCAC || in.SDX[0].Support == nil || in.SDX[1].Support != nil {
			t.Errorf("FillSources: %+v %+v", in.SDX[0], in.SDX[1])
		}
	})
}
