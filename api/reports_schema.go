package api

import (
	"encoding"
	"reflect"
	"strings"
	"time"

	"github.com/msdrg-cdi/drg/claim"
)

// schemaOf derives the JSON Schema of a Go value's JSON encoding from its type, so that the
// documented report shapes are the marshaled ones: structs become objects with their JSON
// field names (fields without omitempty/omitzero required; embedded structs flattened),
// pointers nullable, slices arrays, maps objects. Dates are "date" strings, times
// "date-time" strings, types that marshal as text strings.
func schemaOf(v any) Schema { return typeSchema(reflect.TypeOf(v), 0) }

var (
	dateType = reflect.TypeFor[claim.Date]()
	timeType = reflect.TypeFor[time.Time]()
	textType = reflect.TypeFor[encoding.TextMarshaler]()
)

func typeSchema(t reflect.Type, depth int) Schema {
	if depth > 12 {
		return Schema{}
	}
	switch {
	case t == dateType:
		return Schema{"type": "string", "format": "date"}
	case t == timeType:
		return Schema{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := typeSchema(t.Elem(), depth+1)
		if typ, ok := s["type"].(string); ok {
			s["type"] = []string{typ, "null"}
		}
		return s
	case reflect.Bool:
		return Schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if t.Implements(textType) {
			return Schema{"type": "string"}
		}
		return Schema{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}
	case reflect.String:
		return Schema{"type": "string"}
	case reflect.Slice, reflect.Array:
		return Schema{"type": "array", "items": typeSchema(t.Elem(), depth+1)}
	case reflect.Map:
		return Schema{"type": "object", "additionalProperties": typeSchema(t.Elem(), depth+1)}
	case reflect.Struct:
		if t.Implements(textType) || reflect.PointerTo(t).Implements(textType) {
			return Schema{"type": "string"}
		}
		props := Schema{}
		var required []string
		structFields(t, depth, props, &required)
		return obj(required, props)
	}
	return Schema{}
}

func structFields(t reflect.Type, depth int, props Schema, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				structFields(ft, depth, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = typeSchema(f.Type, depth+1)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
}
