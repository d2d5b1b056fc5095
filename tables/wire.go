package tables

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// field is one decoded protobuf field: a payload for length-delimited fields, a value for
// varints. Fixed-width fields do not occur in the CMS files and are skipped.
type field struct {
	num    protowire.Number
	typ    protowire.Type
	bytes  []byte
	varint uint64
}

// walk calls fn for every field of the protobuf message b, in wire order.
func walk(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("protobuf tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.BytesType:
			f.bytes, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			f.varint, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("protobuf field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// int32 returns the field as a (possibly negative) int32 value.
func (f field) int32() int { return int(int32(f.varint)) }

// str returns a length-delimited field as a string.
func (f field) str() string { return string(f.bytes) }

// appendInts appends the values of a repeated integer field, packed or unpacked.
func (f field) appendInts(dst []int) ([]int, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, f.int32()), nil
	case protowire.BytesType:
		b := f.bytes
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return dst, fmt.Errorf("packed field %d: %w", f.num, protowire.ParseError(n))
			}
			dst = append(dst, int(int32(v)))
			b = b[n:]
		}
		return dst, nil
	}
	return dst, fmt.Errorf("field %d: unexpected wire type %d for integers", f.num, f.typ)
}

// mapEntry decodes a protobuf map entry message into its key and value fields.
func mapEntry(b []byte) (key, value field, err error) {
	err = walk(b, func(f field) error {
		switch f.num {
		case 1:
			key = f
		case 2:
			value = f
		}
		return nil
	})
	return key, value, err
}
