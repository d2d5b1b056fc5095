package grouper

import (
	"slices"
	"sync"

	"github.com/msdrg-cdi/drg/tables"
)

// codeKey packs a code, upper-cased, into an integer (6 bits per character: digits, letters and
// the '@' of cluster ids, at most 10 characters). ok is false for strings that cannot be a code
// of the tables; such codes are simply not found.
func codeKey(code string) (key uint64, ok bool) {
	if len(code) == 0 || len(code) > 10 {
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
	slots []indexSlot
	shift uint
	n     int
}

// indexSlot holds a packed code (0 = empty) and its number side by side: one cache line.
type indexSlot struct {
	key uint64
	val int32
}

func newCodeIndex(capacity int) codeIndex {
	size, shift := 1024, uint(64-10)
	for size < 2*capacity {
		size *= 2
		shift--
	}
	return codeIndex{slots: make([]indexSlot, size), shift: shift}
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
		switch x.slots[i].key {
		case k:
			return
		case 0:
			x.slots[i] = indexSlot{k, int32(x.n)}
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
		switch x.slots[i].key {
		case k:
			return x.slots[i].val
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
	dx, pr codeIndex
	mu     sync.Mutex
	groups map[int]*[]string
}

// exclusionGroup returns exclusion group id as a sorted list.
func (ix *indexes) exclusionGroup(m *tables.MSDRG, id int) *[]string {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	g, ok := ix.groups[id]
	if !ok {
		l := slices.Clone(m.ExclusionGroups[id])
		slices.Sort(l)
		g = &l
		ix.groups[id] = g
	}
	return g
}

func buildIndexes(m *tables.MSDRG) *indexes {
	ix := &indexes{
		dx:     newCodeIndex(len(m.Dx) + len(m.PdxExclusions) + len(m.GenderMDCs) + len(m.HACInfos)),
		pr:     newCodeIndex(len(m.Pr) + len(m.CodeClusters)),
		groups: map[int]*[]string{},
	}
	for code := range m.Dx {
		ix.dx.add(code)
	}
	for code := range m.PdxExclusions {
		ix.dx.add(code)
	}
	for code := range m.GenderMDCs {
		ix.dx.add(code)
	}
	for code := range m.HACInfos {
		ix.dx.add(code)
	}
	for code := range m.Pr {
		ix.pr.add(code)
	}
	for code := range m.CodeClusters {
		ix.pr.add(code)
	}
	return ix
}

// diagnosis returns the compiled data of a diagnosis code (any case), or nil.
func (c *compiled) diagnosis(code string) *cdx {
	if i := c.ix.dx.lookup(code); i >= 0 && c.dx[i].present {
		return &c.dx[i]
	}
	return nil
}

// procedure returns the compiled data of a procedure code (any case), or nil.
func (c *compiled) procedure(code string) *cpr {
	if i := c.ix.pr.lookup(code); i >= 0 && c.pr[i].present {
		return &c.pr[i]
	}
	return nil
}
