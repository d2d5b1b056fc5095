package claim

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MalformedError reports a body that is not one JSON value of the expected shape (a syntax
// error, a truncated document, an array where an object is expected): nothing in it can be
// checked field by field.
type MalformedError struct {
	Message string
}

// Error returns the message.
func (e *MalformedError) Error() string { return e.Message }

// DecodeOptions tune Decode.
type DecodeOptions struct {
	// Location returns the time zone of timestamps written without one
	// ("2026-05-01T08:00:00", as most lab and EHR feeds send them): the facility's zone. It is
	// called once, on the first such timestamp. When it is nil such timestamps are errors
	// asking for the zone.
	Location func() *time.Location
}

// Decode decodes the JSON value b into v (a pointer to a struct) with the wire conventions:
// unknown fields are rejected, and every field at fault is reported at once, each named by
// its path ("sdx[3].poa", "evidence[0].time"), as Errors. v holds the fields that decoded, so
// that callers can validate them too and report everything together. Timestamps without a
// zone are read in opt.Location. A body that cannot be read field by field gives a
// *MalformedError.
//
// Well-formed input takes the standard decoder's path; only input it rejects is examined
// field by field.
//
// Strings are held to the text rules (CheckJSONText): a control character or invalid UTF-8
// is reported on the field holding it, with the other fields at fault — even where the
// document is otherwise malformed (a raw NUL inside a string), so that the field is named.
func Decode(b []byte, v any, opt DecodeOptions) error {
	text := CheckJSONText(b)
	err := decode(b, v, opt)
	if len(text) == 0 {
		return err
	}
	var me *MalformedError
	if errors.As(err, &me) {
		return text
	}
	return text.Merge(err)
}

func decode(b []byte, v any, opt DecodeOptions) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) && isStructPointer(v) {
		// the standard decoder takes null as "nothing to set": an empty object
		return &MalformedError{"the body must be a JSON object, not null"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			return &MalformedError{"more than one JSON value"}
		}
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &MalformedError{fmt.Sprintf("malformed JSON: %v", err)}
	}
	// Field by field: decode into a generic tree, check each value against the target type,
	// drop the values at fault, and decode what remains.
	dec = json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return &MalformedError{fmt.Sprintf("malformed JSON: %v", err)}
	}
	if dec.More() {
		return &MalformedError{"more than one JSON value"}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("claim.Decode: want a non-nil pointer, got %T", v)
	}
	t := rv.Type().Elem()
	if _, isObj := tree.(map[string]any); !isObj && t.Kind() == reflect.Struct {
		return &MalformedError{"the body must be a JSON object, not " + jsonKind(tree)}
	}
	w := walker{locFn: opt.Location}
	clean := w.walk(tree, t, "")
	rv.Elem().SetZero()
	cb, err := json.Marshal(clean)
	if err == nil {
		err = json.Unmarshal(cb, v)
	}
	if err != nil { // a value the checks above let through; should not happen
		w.errs = append(w.errs, &FieldError{Field: "body", Message: err.Error()})
	}
	if len(w.errs) == 0 {
		return nil
	}
	return w.errs
}

// isStructPointer reports whether v is a pointer to a struct.
func isStructPointer(v any) bool {
	t := reflect.TypeOf(v)
	return t != nil && t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// walker checks a decoded JSON tree against a Go type, collecting field errors.
type walker struct {
	locFn func() *time.Location // nil: timestamps need a zone
	loc   *time.Location        // locFn's answer, once asked
	errs  Errors
}

// location returns the zone of timestamps without one (nil when they are not accepted).
func (w *walker) location() *time.Location {
	if w.loc == nil && w.locFn != nil {
		if w.loc = w.locFn(); w.loc == nil {
			w.loc = time.UTC
		}
	}
	return w.loc
}

func (w *walker) fail(path, msg string) {
	if path == "" {
		path = "body"
	}
	w.errs = append(w.errs, &FieldError{Field: path, Message: msg})
}

// walk returns val with the values at fault removed (nil), the timestamps without a zone
// given the walker's zone, and records an error for each value removed.
func (w *walker) walk(val any, t reflect.Type, path string) any {
	if val == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		s, ok := val.(string)
		if !ok {
			w.fail(path, "must be a date and time as a string, not "+jsonKind(val))
			return nil
		}
		ts, zoned, err := parseTimestamp(s, w.location)
		switch {
		case err != nil && w.locFn == nil:
			w.fail(path, fmt.Sprintf("not a date and time: %q; write it with its zone, e.g. 2026-05-01T08:00:00Z (UTC) or 2026-05-01T08:00:00-05:00", s))
			return nil
		case err != nil:
			w.fail(path, err.Error())
			return nil
		case !zoned && w.locFn == nil:
			w.fail(path, fmt.Sprintf("%q has no time zone: write it with its zone, e.g. %sZ (UTC) or %s-05:00", s, strings.TrimSpace(s), strings.TrimSpace(s)))
			return nil
		}
		return ts.Format(time.RFC3339Nano)
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		if _, isStr := val.(string); !isStr && !reflect.PointerTo(t).Implements(jsonUnmarshaler) {
			w.fail(path, "must be a string, not "+jsonKind(val))
			return nil
		}
		b, _ := json.Marshal(val)
		if err := json.Unmarshal(b, reflect.New(t).Interface()); err != nil {
			w.fail(path, strings.TrimPrefix(err.Error(), "json: "))
			return nil
		}
		return val
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := val.(map[string]any)
		if !ok {
			w.fail(path, "must be an object, not "+jsonKind(val))
			return nil
		}
		fields := structFields(t)
		out := make(map[string]any, len(obj))
		matched := make(map[string]bool, len(obj))
		for _, f := range fields {
			key, ok := f.match(obj)
			if !ok {
				continue
			}
			matched[key] = true
			if v := w.walk(obj[key], f.typ, join(path, f.name)); v != nil {
				out[key] = v
			}
		}
		var unknown []string
		for k := range obj {
			if !matched[k] {
				unknown = append(unknown, k)
			}
		}
		slices.Sort(unknown)
		for _, k := range unknown {
			w.fail(join(path, k), "unknown field")
		}
		return out
	case reflect.Slice, reflect.Array:
		arr, ok := val.([]any)
		if !ok {
			w.fail(path, "must be an array, not "+jsonKind(val))
			return nil
		}
		out := make([]any, len(arr))
		for i, x := range arr {
			out[i] = w.walk(x, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
		return out
	case reflect.Map:
		obj, ok := val.(map[string]any)
		if !ok {
			w.fail(path, "must be an object, not "+jsonKind(val))
			return nil
		}
		out := make(map[string]any, len(obj))
		for k, x := range obj {
			if v := w.walk(x, t.Elem(), join(path, k)); v != nil {
				out[k] = v
			}
		}
		return out
	case reflect.String:
		if _, ok := val.(string); !ok {
			w.fail(path, "must be a string, not "+jsonKind(val))
			return nil
		}
	case reflect.Bool:
		if _, ok := val.(bool); !ok {
			w.fail(path, "must be true or false, not "+jsonKind(val))
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := val.(json.Number)
		if !ok {
			w.fail(path, "must be a whole number, not "+jsonKind(val))
			return nil
		}
		var err error
		if t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64 {
			_, err = strconv.ParseUint(string(n), 10, t.Bits())
		} else {
			_, err = strconv.ParseInt(string(n), 10, t.Bits())
		}
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				w.fail(path, fmt.Sprintf("the number %s is out of range", n))
			} else {
				w.fail(path, fmt.Sprintf("must be a whole number, not %s", n))
			}
			return nil
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := val.(json.Number); !ok {
			w.fail(path, "must be a number, not "+jsonKind(val))
			return nil
		}
	}
	return val
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonKind names the JSON type of a decoded value, with the value when it is short.
func jsonKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) <= 40 {
			return fmt.Sprintf("the text %q", x)
		}
		return "a text"
	case json.Number:
		return "the number " + string(x)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// field is a JSON field of a struct type (embedded structs flattened, as encoding/json does).
type field struct {
	name string
	typ  reflect.Type
}

// match finds the field's key in obj: exactly, else ignoring case (as encoding/json).
func (f field) match(obj map[string]any) (string, bool) {
	if _, ok := obj[f.name]; ok {
		return f.name, true
	}
	for k := range obj {
		if strings.EqualFold(k, f.name) {
			return k, true
		}
	}
	return "", false
}

var fieldCache sync.Map // reflect.Type → []field

// structFields lists the JSON fields of struct type t in declaration order.
func structFields(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	var out []field
	seen := map[string]bool{}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			ft := sf.Type
			if sf.Anonymous && name == "" {
				for ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					add(ft)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if !seen[name] {
				seen[name] = true
				out = append(out, field{name, sf.Type})
			}
		}
	}
	add(t)
	fieldCache.Store(t, out)
	return out
}

// timestampLayouts are the accepted timestamp forms, with a zone (RFC 3339, ISO 8601 basic
// offsets) or without one (read in the facility's zone). A space may replace the T, seconds
// and fractions are optional; HL7 v2 compact forms (YYYYMMDDHHMM[SS]) are accepted too.
var timestampLayouts = []struct {
	layout string
	zoned  bool
}{
	{time.RFC3339Nano, true},
	{"2006-01-02T15:04:05.999999999Z0700", true},
	{"2006-01-02T15:04Z07:00", true},
	{"2006-01-02T15:04:05.999999999", false},
	{"2006-01-02T15:04", false},
	{"20060102150405Z0700", true},
	{"200601021504Z0700", true},
	{"20060102150405", false},
	{"200601021504", false},
	{"2006-01-02", false},
}

// ParseTimestamp reads a timestamp of the wire conventions: RFC 3339 with a zone
// ("2026-05-01T08:00:00Z", "…-05:00") or without one ("2026-05-01T08:00:00", read in loc —
// the facility's time zone; nil means UTC). A date alone is midnight in loc. The error says
// what is expected in words, without Go layout strings.
func ParseTimestamp(s string, loc *time.Location) (time.Time, error) {
	ts, _, err := parseTimestamp(s, func() *time.Location { return loc })
	return ts, err
}

// parseTimestamp is ParseTimestamp reporting whether s carried its zone; loc is asked only
// for a timestamp without one.
func parseTimestamp(s string, loc func() *time.Location) (time.Time, bool, error) {
	t := strings.TrimSpace(s)
	if len(t) > 10 && t[10] == ' ' {
		t = t[:10] + "T" + t[11:]
	}
	for _, l := range timestampLayouts {
		if l.zoned {
			if ts, err := time.Parse(l.layout, t); err == nil {
				return ts, true, nil
			}
			continue
		}
		if _, err := time.Parse(l.layout, t); err != nil {
			continue
		}
		z := loc()
		if z == nil {
			z = time.UTC
		}
		ts, err := time.ParseInLocation(l.layout, t, z)
		return ts, false, err
	}
	return time.Time{}, false, fmt.Errorf("not a date and time: %q; write it as 2026-05-01T08:00:00 (the facility's local time) or with its zone, 2026-05-01T08:00:00Z or 2026-05-01T08:00:00-05:00", s)
}
