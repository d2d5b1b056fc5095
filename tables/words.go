package tables

import (
	"container/heap"
	"slices"
	"strings"
	"sync"
)

// The word search shared by the code titles and the Alphabetic Index: texts are split into
// lower-case ASCII words; a query matches an entry when every query word is a prefix of some
// word of the entry.

// tokens yields the lower-case words (runs of ASCII letters and digits) of s; a yielded
// slice is only valid until the next iteration.
func tokens(s string, buf *[]byte) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		i := 0
		for i < len(s) {
			for i < len(s) && !isWordByte(s[i]) {
				i++
			}
			j := i
			*buf = (*buf)[:0]
			for j < len(s) && isWordByte(s[j]) {
				c := s[j]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				*buf = append(*buf, c)
				j++
			}
			if j > i && !yield(*buf) {
				return
			}
			i = j
		}
	}
}

func isWordByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// maxQueryWords bounds the words of a query that take part in a search.
const maxQueryWords = 12

// queryWords returns the distinct words of q, at most maxQueryWords.
func queryWords(q string) []string {
	var qw []string
	var buf []byte
	for w := range tokens(q, &buf) {
		if !slices.Contains(qw, string(w)) {
			qw = append(qw, string(w))
		}
		if len(qw) == maxQueryWords {
			break
		}
	}
	return qw
}

// wordIndex maps the words of a set of entries to the entries holding them: words (lower
// case, sorted) and, in CSR form, the ascending entry indices of each word.
type wordIndex struct {
	words    []string
	postings []int32
	postOff  []int32 // len(words)+1
}

// buildWordIndex indexes n entries; texts calls emit with each text of entry i. perEntry is
// the expected number of distinct words per entry (capacity hint).
func buildWordIndex(n, perEntry int, texts func(i int, emit func(string))) wordIndex {
	ids := map[string]int32{}
	var words []string
	pairs := make([]uint64, 0, n*perEntry) // word id << 32 | entry
	var seen []int32
	var buf []byte
	for i := range n {
		seen = seen[:0]
		texts(i, func(s string) {
			for w := range tokens(s, &buf) {
				id, ok := ids[string(w)]
				if !ok {
					id = int32(len(words))
					words = append(words, string(w))
					ids[words[id]] = id
				}
				if !slices.Contains(seen, id) {
					seen = append(seen, id)
					pairs = append(pairs, uint64(id)<<32|uint64(i))
				}
			}
		})
	}
	// Sort the vocabulary and renumber.
	order := make([]int32, len(words))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(words[a], words[b]) })
	rank := make([]int32, len(words))
	x := wordIndex{words: make([]string, len(words))}
	for r, id := range order {
		rank[id] = int32(r)
		x.words[r] = words[id]
	}
	// CSR postings; pairs are in ascending entry order, so each list comes out ascending.
	x.postOff = make([]int32, len(words)+1)
	for _, p := range pairs {
		x.postOff[rank[p>>32]+1]++
	}
	for i := 1; i < len(x.postOff); i++ {
		x.postOff[i] += x.postOff[i-1]
	}
	fill := slices.Clone(x.postOff[:len(words)])
	x.postings = make([]int32, len(pairs))
	for _, p := range pairs {
		r := rank[p>>32]
		x.postings[fill[r]] = int32(uint32(p))
		fill[r]++
	}
	return x
}

// span returns the range of words starting with w.
func (x *wordIndex) span(w string) (lo, hi int) {
	lo, _ = slices.BinarySearch(x.words, w)
	hi = lo
	for hi < len(x.words) && strings.HasPrefix(x.words[hi], w) {
		hi++
	}
	return lo, hi
}

// searchScratch holds per-entry counters of one search.
type searchScratch struct {
	count []uint8 // per entry: number of query words matched so far
	exact []uint8 // per entry: number of query words matched as a whole word
}

// getScratch takes cleared counters for n entries from pool.
func getScratch(pool *sync.Pool, n int) *searchScratch {
	sc, _ := pool.Get().(*searchScratch)
	if sc == nil {
		return &searchScratch{count: make([]uint8, n), exact: make([]uint8, n)}
	}
	clear(sc.count)
	clear(sc.exact)
	return sc
}

// wordSpan is the range of words starting with a query word.
type wordSpan struct{ lo, hi int }

// spans returns the word range of each query word, or false when one matches no word at all
// (nothing can match: the caller stops before touching any counter).
func (x *wordIndex) spans(qw []string) ([]wordSpan, bool) {
	spans := make([]wordSpan, len(qw))
	for k, w := range qw {
		lo, hi := x.span(w)
		if hi == lo {
			return nil, false
		}
		spans[k] = wordSpan{lo, hi}
	}
	return spans, true
}

// match counts, for each entry, the query words qw it matches in order (sc.count reaches
// len(qw) for the entries matching all of them) and those matched as whole words.
func (x *wordIndex) match(qw []string, spans []wordSpan, sc *searchScratch) {
	for k, s := range spans {
		x.count(k, qw[k], s.lo, s.hi, sc)
	}
}

// count advances the entries that matched query words 0…k-1 and hold a word of [lo, hi).
func (x *wordIndex) count(k int, qw string, lo, hi int, sc *searchScratch) {
	cur := uint8(k)
	for w := lo; w < hi; w++ {
		isExact := uint8(0)
		if x.words[w] == qw {
			isExact = 1
		}
		for _, e := range x.postings[x.postOff[w]:x.postOff[w+1]] {
			if sc.count[e] == cur {
				sc.count[e] = cur + 1
				sc.exact[e] += isExact
			}
		}
	}
}

// topKeys keeps the limit smallest sort keys pushed (a bounded max-heap); sorted returns them
// ascending.
type topKeys struct {
	limit int
	h     keyHeap
}

func (t *topKeys) push(key uint64) {
	if len(t.h) < t.limit {
		heap.Push(&t.h, key)
	} else if key < t.h[0] {
		t.h[0] = key
		heap.Fix(&t.h, 0)
	}
}

func (t *topKeys) sorted() []uint64 {
	slices.Sort(t.h)
	return t.h
}

// keyHeap is a max-heap of uint64 sort keys.
type keyHeap []uint64

// Len implements heap.Interface.
func (h keyHeap) Len() int { return len(h) }

// Less implements heap.Interface: the worst (largest) key is at the top.
func (h keyHeap) Less(i, j int) bool { return h[i] > h[j] }

// Swap implements heap.Interface.
func (h keyHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

// Push implements heap.Interface.
func (h *keyHeap) Push(x any) { *h = append(*h, x.(uint64)) }

// Pop implements heap.Interface.
func (h *keyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
