package api_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/msdrg-cdi/drg/hl7"
	"github.com/msdrg-cdi/drg/store"
)

// TestHL7Listener sends messages over MLLP to the server's HL7 listener and checks each
// acknowledgement, what was applied, and the errors kept for GET /v1/interface/errors: a
// duplicate is acknowledged AA and applied once, an unsupported type and an unparseable
// message are rejected (AR), results for an account never admitted are an error (AE) naming
// PID-18, an MDM^T04 replaces the document of its TXA-12, and only coders, CDI and admins list
// the errors.
func TestHL7Listener(t *testing.T) {
	ts := newTestServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.srv.ServeHL7(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := hl7.NewReader(conn)
	send := func(msg string) (*hl7.Message, string) {
		t.Helper()
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		if err := hl7.WriteFrame(conn, []byte(strings.ReplaceAll(msg, "\n", "\r"))); err != nil {
			t.Fatal(err)
		}
		b, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		m, err := hl7.Parse(b)
		if err != nil {
			t.Fatalf("ACK does not parse: %v: %q", err, b)
		}
		return m, m.First("MSA").Value(1, 1)
	}
	const pid = "PID|1||M1||DOE^J||19600101|M||||||||||A900"
	a01 := "MSH|^~\\&|ADT|MAIN|DRG|CDI|20261201080000||ADT^A01|C1|P|2.4\nPID|1||M1||DOE^J||19600101|M" + strings.Repeat("|", 10) + "A900\nPV1|1|I|3E" + strings.Repeat("|", 41) + "20261201"
	tests := []struct {
		name, msg, ack, errLoc, erl string
	}{
		{name: "A01", msg: a01, ack: "AA"},
		{name: "A01 again", msg: a01, ack: "AA"},
		{name: "unsupported type", msg: "MSH|^~\\&|X|MAIN|DRG|CDI|2026||SIU^S12|C2|P|2.5\n" + pid, ack: "AR", errLoc: "MSH-9.1", erl: "MSH^1^9^1^1"},
		{name: "not HL7", msg: "hello", ack: "AR", errLoc: "MSH", erl: "MSH^1"},
		{name: "unknown account", msg: "MSH|^~\\&|LAB|MAIN|DRG|CDI|2026||ORU^R01|C3|P|2.5\nPID|1" + strings.Repeat("|", 17) + "NOPE\nOBR|1\nOBX|1|NM|2160-0^Creatinine^LN||1.2|mg/dL||||||F", ack: "AE", errLoc: "PID-18", erl: "PID^1^18"},
		{name: "MDM T02", msg: "MSH|^~\\&|T|MAIN|DRG|CDI|2026||MDM^T02|C4|P|2.6\n" + strings.Replace(pid, "|M1|", "|M1|", 1) + "\nTXA|1|HP^H&P||20261201100000|||||D1^Who^Doc^^^^MD|||D9\nOBX|1|TX|||first version||||||F", ack: "AA"},
		{name: "MDM T04", msg: "MSH|^~\\&|T|MAIN|DRG|CDI|2026||MDM^T04|C5|P|2.6\n" + pid + "\nTXA|1|HP^H&P||20261201100000|||||D1^Who^Doc^^^^MD|||D9\nOBX|1|TX|||corrected version||||||F", ack: "AA"},
	}
	for _, tt := range tests {
		m, ack := send(tt.msg)
		if ack != tt.ack {
			t.Errorf("%s: ACK %s, want %s: %v", tt.name, ack, tt.ack, m.First("ERR"))
			continue
		}
		e := m.First("ERR")
		if tt.erl == "" {
			if e != nil {
				t.Errorf("%s: ERR in an AA", tt.name)
			}
			continue
		}
		if e == nil || e.Text(2, m.Delims) != tt.erl || !strings.HasPrefix(e.Text(8, m.Delims), tt.errLoc+": ") {
			t.Errorf("%s: ERR %v, want location %s", tt.name, e, tt.erl)
		}
	}
	list := ts.do("GET", "/v1/encounters?facility=MAIN", coder, nil).expect(t, 200).json(t)
	items := list["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("encounters %v", items)
	}
	id := items[0].(map[string]any)["id"].(string)
	e, err := ts.st.GetEncounter(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	// Created by the A01, changed by the T02 and the T04; the second A01 changed nothing.
	if e.RowVersion != 3 || e.Age == nil || *e.Age != 66 || e.Unit != "3E" || len(e.Evidence) != 1 || e.Evidence[0].Text != "corrected version" {
		t.Errorf("encounter row version %d age %v unit %q evidence %+v", e.RowVersion, e.Age, e.Unit, e.Evidence)
	}
	for _, role := range []store.Role{coder, cdi, admin} {
		errs := ts.do("GET", "/v1/interface/errors?limit=2", role, nil).expect(t, 200).json(t)
		got := errs["items"].([]any)
		if len(got) != 2 || errs["next_cursor"] == "" {
			t.Fatalf("%s: first page %v", role, errs)
		}
		first := got[0].(map[string]any)
		if first["control_id"] != "C3" || first["ack"] != "AE" || first["error_field"] != "PID-18" || !strings.Contains(first["message"].(string), "NOPE") {
			t.Errorf("newest error %v", first)
		}
		next := ts.do("GET", "/v1/interface/errors?cursor="+errs["next_cursor"].(string), role, nil).expect(t, 200).json(t)
		if rest := next["items"].([]any); len(rest) != 1 || rest[0].(map[string]any)["ack"] != "AR" {
			t.Errorf("%s: second page %v", role, next)
		}
	}
	ts.do("GET", "/v1/interface/errors", finance, nil).expect(t, 403)
	if strings.Contains(ts.logs.String(), "corrected version") || strings.Contains(ts.logs.String(), "A900") {
		t.Errorf("note text or account logged:\n%s", ts.logs.String())
	}
}
