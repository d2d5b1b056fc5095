package cdi

import (
	"fmt"
	"math"
	"slices"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/grouper"
)

// ApplyAnswer applies an answered query to the encounter's working codes and regroups. It
// returns a new encounter (the input is not modified) whose codes reflect the answer — the
// chosen option's action, or the codes the coder derived from a free-text answer — with a
// documented_dx evidence item for each code the provider's answer documents, and the
// query's effect: the DRG and weight change attributed to the query. Store the encounter and
// pass the effect to Close.
func (e *Engine) ApplyAnswer(enc *claim.Encounter, q *Query) (*claim.Encounter, QueryEffect, error) {
	if q.Answer == nil {
		return nil, QueryEffect{}, fmt.Errorf("cdi: apply %s: the query has no answer", q.Key())
	}
	a := q.Answer
	var opt Option
	if a.Option != nil {
		if *a.Option < 0 || *a.Option >= len(q.Options) {
			return nil, QueryEffect{}, fmt.Errorf("cdi: apply %s: option %d out of range", q.Key(), *a.Option)
		}
		opt = q.Options[*a.Option]
	}
	action, codes := opt.Action, opt.Codes
	if len(a.Codes) > 0 {
		codes = a.Codes
		if action != ActionReplace {
			action = ActionAdd
		}
	}
	n := *enc
	n.Claim.SDX = slices.Clone(enc.SDX)
	n.Claim.Procedures = slices.Clone(enc.Procedures)
	if enc.PDX != nil {
		p := *enc.PDX
		n.Claim.PDX = &p
	}
	n.Evidence = slices.Clone(enc.Evidence)
	n.Claim.Normalize()
	rc := &reviewCtx{e: e, enc: enc}
	c := n.Claim
	if c.DischargeStatus == nil {
		home := 1 // in-house: grouped as discharged home, as in Review
		c.DischargeStatus = &home
	}
	v, err := rc.chooseVersion(&c, a.At)
	if err != nil {
		return nil, QueryEffect{}, err
	}
	c.Version = int(v)
	rc.v = v
	var eff QueryEffect
	before, err := e.groupIfPDX(&c)
	if err != nil {
		return nil, QueryEffect{}, fmt.Errorf("cdi: apply %s: %w", q.Key(), err)
	}
	poa := q.POA
	if poa == "" {
		poa = "Y"
	}
	switch action {
	case ActionAdd:
		addCodes(&n.Claim, codes, poa, q.Principal && poa == "Y")
	case ActionReplace:
		keepPOA, pdxRemoved := removeCodes(&n.Claim, q.Replaces, len(codes) == 0)
		if keepPOA != "" {
			poa = keepPOA
		}
		addCodes(&n.Claim, codes, poa, pdxRemoved)
	case ActionRemove:
		removeCodes(&n.Claim, q.Replaces, true)
	case ActionPOA:
		for i := range n.SDX {
			if slices.Contains(q.Replaces, normCode(n.SDX[i].Code)) {
				n.SDX[i].POA = opt.POA
				eff.POAChanged = append(eff.POAChanged, n.SDX[i].Code+":"+opt.POA)
			}
		}
	}
	if action == ActionAdd || action == ActionReplace {
		role := claim.RolePhysician
		for _, code := range codes {
			n.Evidence = append(n.Evidence, claim.Evidence{Kind: claim.KindDocumentedDx, Code: code, POA: poa,
				AuthorRole: role, Author: &claim.Provider{ID: a.AuthenticatedBy}, NoteType: "query response",
				Source: "query " + q.Key(), Time: a.At})
		}
	}
	after := n.Claim
	after.Version, after.DischargeStatus = int(v), c.DischargeStatus
	afterRes, err := e.groupIfPDX(&after)
	if err != nil {
		return nil, QueryEffect{}, fmt.Errorf("cdi: apply %s: %w", q.Key(), err)
	}
	eff.CodesAdded, eff.CodesRemoved = codeDiff(&c, &after)
	if before != nil {
		eff.DRGBefore = before.Final.DRG
		eff.WeightBefore, _ = rc.weight(eff.DRGBefore)
	}
	if afterRes != nil {
		eff.DRGAfter = afterRes.Final.DRG
		eff.WeightAfter, _ = rc.weight(eff.DRGAfter)
	}
	if before != nil && afterRes != nil {
		eff.WeightDelta = math.Round((eff.WeightAfter-eff.WeightBefore)*10000) / 10000
	}
	switch {
	case len(eff.CodesAdded)+len(eff.CodesRemoved)+len(eff.POAChanged) == 0:
		eff.Note = "no change to the working codes"
	case eff.DRGBefore == eff.DRGAfter:
		eff.Note = "codes changed; the DRG did not"
	}
	return &n, eff, nil
}

// groupIfPDX groups a claim that has a principal diagnosis (nil result otherwise).
func (e *Engine) groupIfPDX(c *claim.Claim) (*grouper.Result, error) {
	if c.PDX == nil || c.PDX.Code == "" {
		return nil, nil
	}
	r, err := e.g.Group(c, grouper.Options{})
	if err != nil {
		return nil, fmt.Errorf("group: %w", err)
	}
	return r, nil
}

// addCodes adds codes to a claim (principal: the first becomes the PDX, the PDX moves to the
// secondary diagnoses); codes already present are skipped.
func addCodes(c *claim.Claim, codes []string, poa string, principal bool) {
	for i, code := range codes {
		code = normCode(code)
		if c.PDX != nil && normCode(c.PDX.Code) == code || slices.ContainsFunc(c.SDX, func(d claim.Dx) bool { return normCode(d.Code) == code }) {
			continue
		}
		switch {
		case i == 0 && principal:
			if c.PDX != nil {
				c.SDX = append([]claim.Dx{{Code: c.PDX.Code, POA: "Y"}}, c.SDX...)
			}
			c.PDX = &claim.Dx{Code: code, POA: poa}
		default:
			c.SDX = append(c.SDX, claim.Dx{Code: code, POA: poa})
		}
	}
}

// removeCodes removes codes from a claim and returns the POA of the first code removed and
// whether the PDX was removed; a removed PDX is replaced by the first secondary diagnosis
// when promote is set.
func removeCodes(c *claim.Claim, codes []string, promote bool) (string, bool) {
	poa, pdxRemoved := "", false
	var sdx []claim.Dx
	for _, d := range c.SDX {
		if slices.Contains(codes, normCode(d.Code)) {
			if poa == "" {
				poa = d.POA
			}
			continue
		}
		sdx = append(sdx, d)
	}
	c.SDX = sdx
	if c.PDX != nil && slices.Contains(codes, normCode(c.PDX.Code)) {
		poa, pdxRemoved = c.PDX.POA, true
		c.PDX = nil
		if promote && len(c.SDX) > 0 {
			p := c.SDX[0]
			c.PDX, c.SDX = &p, c.SDX[1:]
		}
	}
	return poa, pdxRemoved
}
