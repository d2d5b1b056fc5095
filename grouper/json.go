package grouper

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the JSON encoding of r to dst. The output is byte-identical to
// encoding/json's (field order, omitempty, escaping) but several times faster and
// allocation-free; batch grouping writes millions of records with it.
func (r *Result) AppendJSON(dst []byte) []byte {
	b := dst
	b = append(b, '{')
	if r.ID != "" {
		b = append(b, `"id":`...)
		b = appendString(b, r.ID)
		b = append(b, ',')
	}
	b = append(b, `"version":`...)
	b = strconv.AppendInt(b, int64(r.Version), 10)
	if !r.DischargeDate.IsZero() {
		b = append(b, `,"discharge_date":"`...)
		b = r.DischargeDate.AppendText(b)
		b = append(b, '"')
	}
	b = append(b, `,"initial":`...)
	b = r.Initial.appendJSON(b)
	b = append(b, `,"final":`...)
	b = r.Final.appendJSON(b)
	b = append(b, `,"hac_status":"`...)
	b = append(b, r.HACStatus.String()...)
	b = append(b, `","hac_categories":`...)
	b = strconv.AppendInt(b, int64(r.HACCategories), 10)
	b = append(b, `,"admit_dx":"`...)
	b = append(b, r.AdmitDx.String()...)
	b = append(b, `","dx":`...)
	if r.Dx == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Dx {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Dx[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	b = append(b, `,"pr":`...)
	if r.Pr == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Pr {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Pr[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	if r.Weight != 0 {
		b = append(b, `,"weight":`...)
		b = appendFloat(b, r.Weight)
	}
	if r.GMLOS != 0 {
		b = append(b, `,"gmlos":`...)
		b = appendFloat(b, r.GMLOS)
	}
	if r.AMLOS != 0 {
		b = append(b, `,"amlos":`...)
		b = appendFloat(b, r.AMLOS)
	}
	if r.WeightYear != 0 {
		b = append(b, `,"weight_year":`...)
		b = strconv.AppendInt(b, int64(r.WeightYear), 10)
	}
	if r.Payment != nil {
		b = append(b, `,"payment":`...)
		pb, err := json.Marshal(r.Payment)
		if err != nil { // a Payment has no value encoding/json cannot write
			pb = []byte("null")
		}
		b = append(b, pb...)
	}
	if r.Explanation != "" {
		b = append(b, `,"explanation":`...)
		b = appendString(b, r.Explanation)
	}
	if len(r.Warnings) > 0 {
		b = append(b, `,"warnings":[`...)
		for i := range r.Warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Warnings[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (w *Warning) appendJSON(b []byte) []byte {
	b = append(b, `{"kind":`...)
	b = appendString(b, w.Kind)
	b = append(b, `,"field":`...)
	b = appendString(b, w.Field)
	if w.Code != "" {
		b = append(b, `,"code":`...)
		b = appendString(b, w.Code)
	}
	b = append(b, `,"message":`...)
	b = appendString(b, w.Message)
	if w.Level != "" {
		b = append(b, `,"level":`...)
		b = appendString(b, w.Level)
	}
	if len(w.PossibleReplacements) > 0 {
		b = append(b, `,"possible_replacements":[`...)
		for i, c := range w.PossibleReplacements {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, c)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (o *Outcome) appendJSON(b []byte) []byte {
	b = append(b, `{"drg":`...)
	b = strconv.AppendInt(b, int64(o.DRG), 10)
	b = append(b, `,"mdc":`...)
	b = strconv.AppendInt(b, int64(o.MDC), 10)
	b = append(b, `,"base_drg":`...)
	b = strconv.AppendInt(b, int64(o.BaseDRG), 10)
	b = append(b, `,"type":"`...)
	b = append(b, o.Type.String()...)
	b = append(b, `","grc":"`...)
	b = append(b, o.GRC.String()...)
	b = append(b, `","severity":"`...)
	b = append(b, o.Severity.String()...)
	b = append(b, `","sdx_severity":"`...)
	b = append(b, o.SDXSeverity.String()...)
	b = append(b, '"')
	if o.DRGTitle != "" {
		b = append(b, `,"drg_title":`...)
		b = appendString(b, o.DRGTitle)
	}
	if o.MDCTitle != "" {
		b = append(b, `,"mdc_title":`...)
		b = appendString(b, o.MDCTitle)
	}
	if o.BaseDRGTitle != "" {
		b = append(b, `,"base_drg_title":`...)
		b = appendString(b, o.BaseDRGTitle)
	}
	return append(b, '}')
}

func (d *DxResult) appendJSON(b []byte) []byte {
	b = append(b, `{"code":`...)
	b = appendString(b, d.Code)
	b = append(b, `,"role":`...)
	b = appendString(b, d.Role)
	if d.POA != "" {
		b = append(b, `,"poa":`...)
		b = appendString(b, d.POA)
	}
	b = append(b, `,"recognized":`...)
	b = strconv.AppendBool(b, d.Recognized)
	if d.Severity != "" {
		b = append(b, `,"level":`...)
		b = appendString(b, d.Severity)
	}
	b = append(b, `,"initial_severity":"`...)
	b = append(b, d.InitialSeverity.String()...)
	b = append(b, `","final_severity":"`...)
	b = append(b, d.FinalSeverity.String()...)
	b = append(b, `","affects_drg":"`...)
	b = append(b, d.AffectsDRG.String()...)
	b = append(b, `","poa_error":"`...)
	b = append(b, d.POAError.String()...)
	b = append(b, `","hacs":"`...)
	b = d.HACs.appendText(b) // letters, digits, spaces and brackets only: no escaping needed
	b = append(b, '"')
	if d.ExclusionGroup != 0 {
		b = append(b, `,"pdx_exclusion_group":`...)
		b = strconv.AppendInt(b, int64(d.ExclusionGroup), 10)
	}
	return append(b, '}')
}

func (p *PrResult) appendJSON(b []byte) []byte {
	b = append(b, `{"code":`...)
	b = appendString(b, p.Code)
	b = append(b, `,"recognized":`...)
	b = strconv.AppendBool(b, p.Recognized)
	b = append(b, `,"is_or":`...)
	b = strconv.AppendBool(b, p.IsOR)
	b = append(b, `,"affects_drg":"`...)
	b = append(b, p.AffectsDRG.String()...)
	b = append(b, `","hac_usage":"`...)
	b = p.HACUsage.appendText(b)
	return append(b, `"}`...)
}

// appendFloat formats like encoding/json for the magnitudes of weights and lengths of stay.
func appendFloat(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes encoding/json writes unescaped.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s as a JSON string, escaping as encoding/json does (HTML-safe).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
