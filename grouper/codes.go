package grouper

import (
	"maps"
	"slices"
	"sync"

	"github.com/msdrg-cdi/drg/tables"
)

// maxCodeLen is the longest code of the tables (ICD-10-CM, ICD-10-PCS and cluster ids).
const maxCodeLen = 7

// codeKey packs a code, upper-cased, into an integer (6 bits per character: digits, letters and
// the '@' of cluster ids, at most maxCodeLen characters: 42 bits). ok is false for strings that
// cannot be a code of the tables; such codes are simply not found.
func codeKey(code string) (key uint64, ok bool) {
	if len(code) == 0 || len(code) > maxCodeLen {
		return 0, false
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		var v uint64
		switch {
		case c >= '0' && c <= '9':
			v = uint64(c-'0') + 1
		case c >= 'A' && c <= 'Z':
			v = uint64(c-'A') + 11
		case c >= 'a' && c <= 'z':
			v = uint64(c-'a') + 11
		case c == '@':
			v = 37
		default:
			return 0, false
		}
		key = key<<6 | v
	}
	return key, true
}

// codeTable maps packed codes to values: an open-addressing hash table whose slots hold the
// code next to its value, so that a lookup touches one place in memory (code lookups dominate
// grouping).
type codeTable[T any] struct {
	slots []codeSlot[T]
	shift uint
	n     int
}

type codeSlot[T any] struct {
	key uint64 // packed code; 0 = empty slot
	v   T
}

func newCodeTable[T any](capacity int) codeTable[T] {
	size, shift := 1024, uint(64-10)
	for size*2/3 < capacity {
		size *= 2
		shift--
	}
	return codeTable[T]{slots: make([]codeSlot[T], size), shift: shift}
}

// slot returns the slot holding key k, or the empty slot where it would go.
func (t *codeTable[T]) slot(k uint64) *codeSlot[T] {
	mask := len(t.slots) - 1
	for i := int((k * 0x9E3779B97F4A7C15) >> t.shift); ; i = (i + 1) & mask {
		if s := &t.slots[i]; s.key == k || s.key == 0 {
			return s
		}
	}
}

// put stores v under k unless k is present.
func (t *codeTable[T]) put(k uint64, v T) {
	s := t.slot(k)
	if s.key != 0 {
		return
	}
	if t.n+1 > len(t.slots)*2/3 {
		panic("grouper: code table full")
	}
	s.key, s.v = k, v
	t.n++
}

// get returns the value of a code (any case), or nil.
func (t *codeTable[T]) get(code string) *T {
	k, ok := codeKey(code)
	if !ok {
		return nil
	}
	if s := t.slot(k); s.key != 0 {
		return &s.v
	}
	return nil
}

// codeIndex numbers the codes of a table so that every version can build its per-code data
// in a slice; it is shared by all versions.
type codeIndex struct{ codeTable[int32] }

func newCodeIndex(capacity int) codeIndex { return codeIndex{newCodeTable[int32](capacity)} }

func (x *codeIndex) add(code string) {
	if k, ok := codeKey(code); ok {
		x.put(k, int32(x.n))
	}
}

// lookup returns the code's number, or -1.
func (x *codeIndex) lookup(code string) int32 {
	if n := x.get(code); n != nil {
		return *n
	}
	return -1
}

func (x *codeIndex) len() int { return x.n }

// tableOf builds the lookup table of the codes whose data is present.
func tableOf[T any](x *codeIndex, data []T, present func(*T) bool) codeTable[T] {
	n := 0
	for i := range data {
		if present(&data[i]) {
			n++
		}
	}
	t := newCodeTable[T](n)
	for _, s := range x.slots {
		if s.key != 0 && present(&data[s.v]) {
			t.put(s.key, data[s.v])
		}
	}
	return t
}

// indexes are the code numberings of the diagnosis and procedure tables, and the sorted
// CC/MCC exclusion groups (not versioned: only the PDX → group assignment is), all shared by
// every compiled version.
type indexes struct {
	dx, pr    codeIndex
	mu        sync.Mutex
	groups    map[int]uint16 // group id → index in groupList
	groupList [][]uint64     // exclusion groups as sorted code keys; groupList[0] is empty
	groupIDs  []int          // CMS group id of each groupList entry
}

// exclusionGroup returns the index in groupList of exclusion group id, sorted.
func (ix *indexes) exclusionGroup(m *tables.MSDRG, id int) uint16 {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	g, ok := ix.groups[id]
	if !ok {
		codes := m.ExclusionGroups[id]
		l := make([]uint64, 0, len(codes))
		for _, code := range codes {
			if k, ok := codeKey(code); ok {
				l = append(l, k)
			}
		}
		slices.Sort(l)
		g = uint16(len(ix.groupList))
		ix.groupList = append(ix.groupList, l)
		ix.groupIDs = append(ix.groupIDs, id)
		ix.groups[id] = g
	}
	return g
}

// excludes reports whether the CC/MCC exclusion group of a PDX holds the diagnosis code.
func (c *compiled) excludes(pdx *cdx, code string) bool {
	if pdx.excl == 0 {
		return false
	}
	k, ok := codeKey(code)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(c.groupList[pdx.excl], k)
	return found
}

// exclusionGroupID returns the CMS id of the CC/MCC exclusion group of a PDX (0: none).
func (c *compiled) exclusionGroupID(d *cdx) int { return c.groupIDs[d.excl] }

func buildIndexes(m *tables.MSDRG) *indexes {
	dx := map[string]struct{}{}
	for _, keys := range [][]string{mapKeys(m.Dx), mapKeys(m.PdxExclusions), mapKeys(m.GenderMDCs), mapKeys(m.HACInfos)} {
		for _, k := range keys {
			dx[k] = struct{}{}
		}
	}
	pr := map[string]struct{}{}
	for _, keys := range [][]string{mapKeys(m.Pr), mapKeys(m.CodeClusters)} {
		for _, k := range keys {
			pr[k] = struct{}{}
		}
	}
	// Numbered in code order, so that neighbouring codes (often grouped together) share cache lines.
	ix := &indexes{dx: newCodeIndex(len(dx)), pr: newCodeIndex(len(pr)), groups: map[int]uint16{}, groupList: [][]uint64{nil}, groupIDs: []int{0}}
	for _, code := range slices.Sorted(maps.Keys(dx)) {
		ix.dx.add(code)
	}
	for _, code := range slices.Sorted(maps.Keys(pr)) {
		ix.pr.add(code)
	}
	return ix
}

func mapKeys[V any](m map[string]V) []string { return slices.Collect(maps.Keys(m)) }

// diagnosis returns the compiled data of a diagnosis code (any case), or nil.
func (c *compiled) diagnosis(code string) *cdx { return c.dxTable.get(code) }

// attrsOf returns the attribute record of a diagnosis (the empty record for nil or an invalid
// code, whose attributes are never in the mask).
func (c *compiled) attrsOf(d *cdx) *dxAttrs {
	if d == nil {
		return c.attrs[0]
	}
	return c.attrs[d.attrs]
}

// procedure returns the compiled data of a procedure code (any case), or nil.
func (c *compiled) procedure(code string) *cpr { return c.prTable.get(code) }
