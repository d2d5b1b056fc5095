package store

import (
	"errors"
	"testing"
)

// TestInterfaceMessages: a message is stored once per sending facility and control id (the
// same one again is returned as a duplicate, counted), messages without a control id are
// never duplicates, outcomes are recorded, errors are listed newest first by pages, and
// encounters are found by facility and account — on SQLite and PostgreSQL.
func TestInterfaceMessages(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		m1, dup, err := s.ReceiveMessage(ctx, "MAIN", "C1", "ADT^A01", []byte("MSH|1"))
		if err != nil || dup || m1.Status != MsgReceived {
			t.Fatalf("first: %+v %v %v", m1, dup, err)
		}
		again, dup, err := s.ReceiveMessage(ctx, "MAIN", "C1", "ADT^A01", []byte("MSH|1"))
		if err != nil || !dup || again.ID != m1.ID || again.Duplicates != 1 {
			t.Fatalf("again: %+v %v %v", again, dup, err)
		}
		other, dup, err := s.ReceiveMessage(ctx, "EAST", "C1", "ADT^A01", []byte("MSH|1"))
		if err != nil || dup || other.ID == m1.ID {
			t.Fatalf("other facility: %+v %v %v", other, dup, err)
		}
		var errIDs []int64
		for range 3 {
			m, dup, err := s.ReceiveMessage(ctx, "", "", "", []byte("junk"))
			if err != nil || dup {
				t.Fatalf("no control id: %v %v", dup, err)
			}
			if err := s.SetMessageOutcome(ctx, m.ID, MessageOutcome{Status: MsgError, Ack: "AR", ErrorField: "MSH", Error: "not HL7"}); err != nil {
				t.Fatal(err)
			}
			errIDs = append(errIDs, m.ID)
		}
		e, err := s.CreateEncounter(ctx, CLIActor, sampleEncounter("A1"))
		if err != nil {
			t.Fatal(err)
		}
		err = s.Tx(ctx, func(tx *Tx) error {
			if st, _, err := tx.LockMessage(m1.ID); err != nil || st != MsgReceived {
				t.Errorf("lock: %q %v", st, err)
			}
			id, err := tx.FindEncounterByAccount("MAIN", "A1")
			if err != nil || id != e.ID {
				t.Errorf("find: %q %v", id, err)
			}
			if _, err := tx.FindEncounterByAccount("EAST", "A1"); !errors.Is(err, ErrNotFound) {
				t.Errorf("find at another facility: %v", err)
			}
			return tx.SetMessageOutcome(m1.ID, MessageOutcome{Status: MsgApplied, Ack: "AA", EncounterID: e.ID})
		})
		if err != nil {
			t.Fatal(err)
		}
		if again, _, _ := s.ReceiveMessage(ctx, "MAIN", "C1", "ADT^A01", nil); again.Status != MsgApplied || again.EncounterID != e.ID || again.Duplicates != 2 {
			t.Errorf("after applying: %+v", again)
		}
		page, next, err := s.ListMessageErrors(ctx, 2, "")
		if err != nil || len(page) != 2 || page[0].ID != errIDs[2] || next == "" {
			t.Fatalf("first page %+v %q %v", page, next, err)
		}
		page, next, err = s.ListMessageErrors(ctx, 2, next)
		if err != nil || len(page) != 1 || page[0].ID != errIDs[0] || page[0].ErrorField != "MSH" || next != "" {
			t.Fatalf("second page %+v %q %v", page, next, err)
		}
	})
}

// TestTextOf: bytes received become text a database holds without losing characters.
func TestTextOf(t *testing.T) {
	for in, want := range map[string]string{"plain": "plain", "caf\xe9 37\xb0C": "café 37°C", "a\x00b": "ab", "ok é": "ok é", "\xff\x00": "ÿ"} {
		if got := TextOf([]byte(in)); got != want {
			t.Errorf("TextOf(%q) = %q, want %q", in, got, want)
		}
	}
}
