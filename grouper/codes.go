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

// codeIndex numbers the codes of a table so that every version can keep its per-code data in
// a slice; it is shared by all versions. It is an open-addressing hash table over packed codes:
// one probe sequence in one flat array, which matters because code lookups dominate grouping.
type codeIndex struct {
	slots []uint64 // packed code << valBits | number; 0 = empty slot
	shift uint
	n     int
}

// valBits is the width of a code number in an index slot.
const valBits = 22

func newCodeIndex(capacity int) codeIndex {
	size, shift := 1024, uint(64-10)
	for size < capacity*3/2 {
		size *= 2
		shift--
	}
	return codeIndex{slots: make([]uint64, size), shift: shift}
}

func (x *codeIndex) slot(k uint64) int {
	return int((k * 0x9E3779B97F4A7C15) >> x.shift)
}

func (x *codeIndex) add(code string) {
	k, ok := codeKey(code)
	if !ok {
		return
	}
	mask := len(x.slots) - 1
	for i := x.slot(k); ; i = (i + 1) & mask {
		switch x.slots[i] >> valBits {
		case k:
			return
		case 0:
			if x.n >= 1<<valBits {
				panic("grouper: code index full")
			}
			x.slots[i] = k<<valBits | uint64(x.n)
			x.n++
			return
		}
	}
}

// lookup returns the code's number, or -1.
func (x *codeIndex) lookup(code string) int32 {
	k, ok := codeKey(code)
	if !ok {
		return -1
	}
	mask := len(x.slots) - 1
	for i := x.slot(k); ; i = (i + 1) & mask {
		switch x.slots[i] >> valBits {
		case k:
			return int32(x.slots[i] & (1<<valBits - 1))
		case 0:
			return -1
		}
	}
}

func (x *codeIndex) len() int { return x.n }

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
func (c *compiled) diagnosis(code string) *cdx {
	if i := c.ix.dx.lookup(code); i >= 0 && c.dx[i].flags&cdxPresent != 0 {
		return &c.dx[i]
	}
	return nil
}

// attrsOf returns the attribute record of a diagnosis (the empty record for nil or an invalid
// code, whose attributes are never in the mask).
func (c *compiled) attrsOf(d *cdx) *dxAttrs {
	if d == nil {
		return c.attrs[0]
	}
	return c.attrs[d.attrs]
}

// procedure returns the compiled data of a procedure code (any case), or nil.
func (c *compiled) procedure(code string) *cpr {
	if i := c.ix.pr.lookup(code); i >= 0 && c.pr[i].present {
		return &c.pr[i]
	}
	return nil
}
