package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/msdrg-cdi/drg/cdi"
	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/hl7"
	"github.com/msdrg-cdi/drg/store"
)

// InterfaceRoles may read the interface's kept errors.
var InterfaceRoles = []store.Role{store.RoleCoder, store.RoleCDI, store.RoleAdmin}

// hl7Actor is who the audit log names for changes made by the HL7 interface.
var hl7Actor = store.Actor{Name: "hl7-interface"}

// InterfaceQuery is the query of GET /v1/interface/errors.
type InterfaceQuery struct {
	Limit  int    `form:"limit" binding:"omitempty,min=1,max=1000"`
	Cursor string `form:"cursor"`
}

func (s *Server) interfaceRoutes() []Route {
	s.AddSchema("InterfaceMessage", obj([]string{"id", "received_at", "facility", "control_id", "type", "status"}, Schema{
		"id": tInt, "received_at": tTime, "updated_at": tTime,
		"facility":     Schema{"type": "string", "description": "sending facility (MSH-4)"},
		"control_id":   Schema{"type": "string", "description": "message control id (MSH-10)"},
		"type":         Schema{"type": "string", "examples": []string{"ORU^R01"}},
		"status":       Schema{"enum": []string{store.MsgReceived, store.MsgApplied, store.MsgError}},
		"ack":          Schema{"enum": []string{hl7.AA, hl7.AE, hl7.AR}},
		"error_field":  Schema{"type": "string", "examples": []string{"PID-18"}, "description": "segment and field the error is in"},
		"error":        tString,
		"encounter_id": tString,
		"duplicates":   Schema{"type": "integer", "description": "times the same message (facility and control id) was received again"},
		"message":      Schema{"type": "string", "description": "the message as received, segments separated by carriage returns"},
	}))
	return []Route{
		{Method: http.MethodGet, Path: "/v1/interface/errors", Roles: InterfaceRoles, Tags: []string{"interface"},
			Summary: "Inbound HL7 messages that were not applied (acknowledged AE or AR), newest first",
			Description: "Every message received by the HL7 v2 listener (drg serve --hl7-addr) is stored before it is acknowledged; " +
				"a message that cannot be parsed or matched to an encounter is kept here with the segment and field at fault.",
			Params: []Param{limitParam, cursorParam}, Responses: OK("a page of messages", listOf("InterfaceMessage")), Handler: s.handleInterfaceErrors},
	}
}

func (s *Server) handleInterfaceErrors(c *gin.Context) {
	var q InterfaceQuery
	if !bindQuery(c, &q) {
		return
	}
	items, next, err := s.cfg.Store.ListMessageErrors(c.Request.Context(), q.Limit, q.Cursor)
	if err != nil {
		WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": next})
}

// HandleHL7 processes one inbound HL7 v2 message and returns its acknowledgement. The message
// is stored (committed) before anything else; a message received before (same sending
// facility MSH-4 and control id MSH-10) that was applied is acknowledged AA without being
// applied again. A message that cannot be read, is not accepted (type, event, version) or
// cannot be matched gets AE or AR with an ERR segment naming the segment and field, and is
// kept for GET /v1/interface/errors. Neither the message nor its notes are logged. Bytes that
// are not UTF-8 are read as ISO 8859-1 (MSH-18 8859/1, the usual 8-bit character set).
func (s *Server) HandleHL7(ctx context.Context, raw []byte) []byte {
	// Text not in UTF-8 is read as ISO 8859-1; the message is kept as received too.
	text := []byte(store.TextOf(raw))
	m, perr := hl7.Parse(text)
	var h hl7.Header
	if perr == nil {
		h = hl7.HeaderOf(m)
	} else {
		h = hl7.SniffHeader(text)
	}
	typ := ""
	if m != nil {
		t, trig := m.Type()
		typ = strings.TrimSuffix(t+"^"+trig, "^")
	}
	now := time.Now()
	rec, dup, err := s.cfg.Store.ReceiveMessage(ctx, truncate(h.SendingFacility, 227), truncate(h.ControlID, 199), truncate(typ, 16), raw)
	if errors.Is(err, store.ErrConflict) { // stored a moment ago by another connection: a duplicate
		rec, dup, err = s.cfg.Store.ReceiveMessage(ctx, truncate(h.SendingFacility, 227), truncate(h.ControlID, 199), truncate(typ, 16), raw)
	}
	if err != nil {
		s.log.Error("hl7: message not stored", "err", err.Error())
		return hl7.ACK(h, hl7.AR, "DRG0", now, hl7.Errorf(hl7.Location{}, hl7.ErrInternal, "the message could not be stored: send it again"))
	}
	ackID := fmt.Sprintf("DRG%d", rec.ID)
	if dup && rec.Status == store.MsgApplied {
		s.log.Info("hl7: duplicate message acknowledged, not applied again", "message", rec.ID, "type", typ, "duplicates", rec.Duplicates)
		return hl7.ACK(h, hl7.AA, ackID, now, nil)
	}
	fail := func(e *hl7.Error) []byte {
		code := hl7.AE
		switch e.Code {
		case hl7.ErrUnsupportedType, hl7.ErrUnsupportedEvent, hl7.ErrUnsupportedVersion, hl7.ErrSegmentSequence:
			if e.Loc.Segment == "MSH" {
				code = hl7.AR
			}
		}
		if perr != nil {
			code = hl7.AR
		}
		if err := s.cfg.Store.SetMessageOutcome(ctx, rec.ID, store.MessageOutcome{Status: store.MsgError, Ack: code,
			ErrorField: e.Loc.String(), Error: e.Message}); err != nil {
			s.log.Error("hl7: message outcome not stored", "message", rec.ID, "err", err.Error())
		}
		s.log.Warn("hl7: message not applied", "message", rec.ID, "type", typ, "ack", code, "field", e.Loc.String(), "code", e.Code)
		return hl7.ACK(h, code, ackID, now, e)
	}
	if perr != nil {
		var he *hl7.Error
		if !errors.As(perr, &he) {
			he = hl7.Errorf(hl7.Location{}, hl7.ErrInternal, "%v", perr)
		}
		return fail(he)
	}
	zone, err := s.facilityZone(ctx, h.SendingFacility)
	if err != nil {
		return fail(hl7.Errorf(hl7.Location{Segment: "MSH", Sequence: 1, Field: 4}, hl7.ErrInternal, "time zone of the facility: %v", err))
	}
	ev, err := cdi.ParseHL7(m, zone)
	if err != nil {
		var he *hl7.Error
		if !errors.As(err, &he) {
			he = hl7.Errorf(hl7.Location{}, hl7.ErrInternal, "%v", err)
		}
		return fail(he)
	}
	encID, err := s.applyHL7(ctx, m, ev, rec.ID)
	if err != nil {
		var he *hl7.Error
		if !errors.As(err, &he) {
			he = hl7.Errorf(hl7.Location{}, hl7.ErrInternal, "%v", err)
		}
		return fail(he)
	}
	s.log.Info("hl7: message applied", "message", rec.ID, "type", typ, "encounter", encID, "evidence", len(ev.Encounter.Evidence), "warnings", len(ev.Warnings))
	return hl7.ACK(h, hl7.AA, ackID, now, nil)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// applyHL7 applies an event to its encounter (found by facility and account, created by an
// admission) and marks the message applied, in one transaction.
func (s *Server) applyHL7(ctx context.Context, m *hl7.Message, ev *cdi.HL7Event, msgID int64) (string, error) {
	pid := m.First("PID")
	acctLoc := m.Loc(pid, 18, 0)
	if len(ev.Account) > 64 {
		return "", hl7.Errorf(acctLoc, hl7.ErrDataType, "account number longer than 64 characters")
	}
	if len(ev.Facility) > 64 {
		return "", hl7.Errorf(hl7.Location{Segment: "MSH", Sequence: 1, Field: 4}, hl7.ErrDataType, "sending facility longer than 64 characters")
	}
	var items []claim.Evidence
	for i := range ev.Encounter.Evidence {
		x := ev.Encounter.Evidence[i]
		x.Code = claim.NormalizeCode(strings.TrimSpace(x.Code))
		if fe := x.Check(); len(fe) > 0 {
			continue
		}
		items = append(items, x)
	}
	var encID string
	err := s.cfg.Store.Tx(ctx, func(tx *store.Tx) error {
		status, applied, err := tx.LockMessage(msgID)
		if err != nil {
			return err
		}
		if status == store.MsgApplied { // applied by another connection meanwhile
			encID = applied
			return nil
		}
		id, err := tx.FindEncounterByAccount(ev.Facility, ev.Account)
		switch {
		case errors.Is(err, store.ErrNotFound) && ev.Create:
			e := &store.Encounter{Account: ev.Account, Facility: ev.Facility}
			if err := mergeHL7(e, ev, items); err != nil {
				return err
			}
			created, err := tx.CreateEncounter(hl7Actor, e)
			if err != nil {
				return err
			}
			encID = created.ID
		case errors.Is(err, store.ErrNotFound):
			return hl7.Errorf(acctLoc, hl7.ErrUnknownKey, "no encounter with account %q at facility %q: its admission (ADT^A01 or A04) must come first", ev.Account, ev.Facility)
		case err != nil:
			return err
		default:
			encID = id
			if _, err := tx.UpdateEncounter(hl7Actor, id, 0, "hl7 "+strings.ToLower(ev.Type+" "+ev.Trigger), func(e *store.Encounter) error {
				return mergeHL7(e, ev, items)
			}); err != nil {
				return err
			}
		}
		return tx.SetMessageOutcome(msgID, store.MessageOutcome{Status: store.MsgApplied, Ack: hl7.AA, EncounterID: encID})
	})
	if errors.Is(err, store.ErrFinal) {
		return "", hl7.Errorf(acctLoc, hl7.ErrInternal, "%v", err)
	}
	return encID, err
}

// mergeHL7 writes the fields a message gives over the encounter's and adds its evidence: an
// item identical to a stored one is not added twice, and a document sent again (MDM^T04, the
// same TXA-12) replaces its earlier version.
func mergeHL7(e *store.Encounter, ev *cdi.HL7Event, items []claim.Evidence) error {
	if e.Status == store.StatusFinal {
		return fmt.Errorf("%w: the encounter is finalized; its data and evidence are frozen", store.ErrFinal)
	}
	x := ev.Encounter
	if x.Age != nil {
		e.Age = x.Age
	}
	if x.Sex != "" {
		e.Sex = x.Sex
	}
	if !x.AdmitDate.IsZero() {
		e.AdmitDate = x.AdmitDate
	}
	if x.Unit != "" {
		e.Unit = truncate(x.Unit, 64)
	}
	if x.AttendingProvider != nil {
		e.AttendingProvider = x.AttendingProvider
	}
	if !x.DischargeDate.IsZero() {
		e.DischargeDate = x.DischargeDate
	}
	if x.DischargeStatus != nil {
		e.DischargeStatus = x.DischargeStatus
	}
	seen := map[string]bool{}
	for i := range e.Evidence {
		seen[evidenceKey(&e.Evidence[i])] = true
	}
	for _, it := range items {
		k := evidenceKey(&it)
		if seen[k] {
			continue
		}
		seen[k] = true
		replaced := false
		if it.Kind == claim.KindNote && strings.HasPrefix(it.Source, "HL7 MDM document ") {
			for i := range e.Evidence {
				if e.Evidence[i].Kind == claim.KindNote && e.Evidence[i].Source == it.Source {
					e.Evidence[i], replaced = it, true
					break
				}
			}
		}
		if !replaced {
			e.Evidence = append(e.Evidence, it)
		}
	}
	if len(e.Evidence) > maxEvidence {
		return fmt.Errorf("an encounter holds at most %d evidence items", maxEvidence)
	}
	return nil
}

// ServeHL7 accepts MLLP connections on ln until ctx ends: each frame is a message, answered
// by its acknowledgement in the same connection, in order.
func (s *Server) ServeHL7(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("hl7 listener: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveMLLP(ctx, conn)
		}()
	}
}

// mllpIdle closes an MLLP connection silent for this long.
const mllpIdle = 10 * time.Minute

func (s *Server) serveMLLP(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	r := hl7.NewReader(conn)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(mllpIdle))
		msg, err := r.Read()
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				s.log.Warn("hl7: connection ended", "remote", conn.RemoteAddr().String(), "err", err.Error())
			}
			return
		}
		// A message in progress is finished even if the server is stopping.
		ack := s.HandleHL7(context.WithoutCancel(ctx), msg)
		_ = conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if err := hl7.WriteFrame(conn, ack); err != nil {
			s.log.Warn("hl7: acknowledgement not sent", "remote", conn.RemoteAddr().String(), "err", err.Error())
			return
		}
	}
}
