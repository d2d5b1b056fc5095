package tables

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Version is an MS-DRG grouper version number as CMS writes it internally: 431 = v43.1.
type Version int

// String renders the version as CMS publishes it ("43.1").
func (v Version) String() string { return fmt.Sprintf("%d.%d", int(v)/10, int(v)%10) }

// ParseVersion accepts "431", "43.1" or "v43.1".
func ParseVersion(s string) (Version, error) {
	t := strings.TrimPrefix(strings.TrimSpace(strings.ToLower(s)), "v")
	t = strings.Replace(t, ".", "", 1)
	n, err := strconv.Atoi(t)
	if err != nil || n < 390 || n > 600 || n%10 > 1 {
		return 0, fmt.Errorf("invalid grouper version %q: want e.g. 431 or 43.1", s)
	}
	return Version(n), nil
}

// VersionSet is a set of grouper versions, as carried by every versioned table record.
type VersionSet uint64

// versionBit maps a version of the data format's enum (390 … 600, units 0 or 1) to a bit.
func versionBit(v Version) (uint, bool) {
	if v < 390 || v > 601 || v%10 > 1 {
		return 0, false
	}
	return uint((int(v)/10-39)*2 + int(v)%10), true
}

// Add returns the set with v added; versions outside the format's enum are ignored.
func (s VersionSet) Add(v Version) VersionSet {
	if b, ok := versionBit(v); ok {
		return s | 1<<b
	}
	return s
}

// Has reports whether v is in the set.
func (s VersionSet) Has(v Version) bool {
	b, ok := versionBit(v)
	return ok && s&(1<<b) != 0
}

// List returns the versions of the set in ascending order.
func (s VersionSet) List() []Version {
	out := make([]Version, 0, bits.OnesCount64(uint64(s)))
	for x := uint64(s); x != 0; x &= x - 1 {
		b := bits.TrailingZeros64(x)
		out = append(out, Version((b/2+39)*10+b%2))
	}
	return out
}

// versioned is implemented by every record that applies to a set of versions.
type versioned interface{ versionSet() VersionSet }

// Versioned is embedded in table records valid for a set of grouper versions.
type Versioned struct {
	Versions VersionSet
}

func (v Versioned) versionSet() VersionSet { return v.Versions }

// Pick returns the record of recs that applies to version v: the last one (file order) whose
// version set contains v (data format §3).
func Pick[T versioned](recs []T, v Version) (*T, bool) {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].versionSet().Has(v) {
			return &recs[i], true
		}
	}
	return nil, false
}
