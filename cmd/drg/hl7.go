package main

import (
	"fmt"
	"net"
	"os"
	"time"

	"github.com/msdrg-cdi/drg/hl7"
)

func init() {
	commands["hl7"] = command{"send HL7 v2 messages to an MLLP listener (drg hl7 send --addr HOST:PORT FILE...)", runHL7}
}

func runHL7(e *env) int {
	if len(e.args) == 0 || e.args[0] != "send" {
		return usageError(e, "hl7: usage: drg hl7 send --addr HOST:PORT FILE...")
	}
	e.args = e.args[1:]
	fs := newFlags(e, "hl7 send", "--addr HOST:PORT FILE...")
	addr := fs.String("addr", "", "address of the MLLP listener (drg serve --hl7-addr)")
	timeout := fs.Duration("timeout", 30*time.Second, "time to wait for each acknowledgement")
	if st, ok := parseFlags(fs, e.args); !ok {
		return st
	}
	if *addr == "" || fs.NArg() == 0 {
		return usageError(e, "hl7 send: --addr and at least one file are required")
	}
	var msgs [][]byte
	var names []string
	for _, f := range fs.Args() {
		b, err := os.ReadFile(f)
		if err != nil {
			return fail(e, "%v", err)
		}
		for i, m := range hl7.SplitBatch(b) {
			msgs = append(msgs, m)
			names = append(names, fmt.Sprintf("%s#%d", f, i+1))
		}
	}
	conn, err := net.DialTimeout("tcp", *addr, 10*time.Second)
	if err != nil {
		return fail(e, "hl7 send: %v", err)
	}
	defer conn.Close()
	r := hl7.NewReader(conn)
	status := exitOK
	for i, m := range msgs {
		_ = conn.SetDeadline(time.Now().Add(*timeout))
		if err := hl7.WriteFrame(conn, m); err != nil {
			return fail(e, "hl7 send: %s: %v", names[i], err)
		}
		ack, err := r.Read()
		if err != nil {
			return fail(e, "hl7 send: %s: no acknowledgement: %v", names[i], err)
		}
		code, text, err := hl7.ACKCode(ack)
		if err != nil {
			fmt.Fprintf(e.stdout, "%s\t?\tunreadable acknowledgement: %v\n", names[i], err)
			status = exitFailure
			continue
		}
		ctrl := ""
		if pm, err := hl7.Parse(m); err == nil {
			ctrl = pm.ControlID()
		} else {
			ctrl = hl7.SniffHeader(m).ControlID
		}
		fmt.Fprintf(e.stdout, "%s\t%s\t%s", names[i], ctrl, code)
		if text != "" {
			fmt.Fprintf(e.stdout, "\t%s", text)
		}
		fmt.Fprintln(e.stdout)
		if code != hl7.AA {
			status = exitFailure
		}
	}
	return status
}
