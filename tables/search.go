package tables

// How a code search result was found.
const (
	MatchCode  = "code"  // the query is the beginning of the code
	MatchIndex = "index" // an entry of the Alphabetic Index leads to the code
	MatchTitle = "title" // the code's title holds the query words
)

// SearchHit is one result of SearchCodes.
type SearchHit struct {
	CodeTitle
	Match     string // MatchCode, MatchIndex or MatchTitle
	IndexTerm string // for MatchIndex: the index entry ("Failure, failed, renal, acute")
}

// SearchCodes searches the codes of one year: by code prefix (a query that looks like a
// code), through the ICD-10-CM Alphabetic Index x (nil: none; the way coders look codes up:
// "acute renal failure" → Failure, renal, acute → N17.9, "heart attack" → see Infarct,
// myocardium → I21.9) and by title words (CodeTitles.Search). Results, one per code, at most
// limit: code-prefix matches; index entries the query names exactly; title matches; the
// other index matches. An index code absent from t (not a code of that year) is left out.
func SearchCodes(t *CodeTitles, x *AlphaIndex, q string, limit int) []SearchHit {
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	limit = min(limit, len(t.entries))
	out := make([]SearchHit, 0, limit)
	taken := map[string]bool{}
	add := func(ct CodeTitle, match, term string) bool {
		if !taken[ct.Code] {
			taken[ct.Code] = true
			out = append(out, SearchHit{CodeTitle: ct, Match: match, IndexTerm: term})
		}
		return len(out) < limit
	}
	if code := codeQuery(q); code != "" {
		for i := range t.prefixed(code) {
			if !add(t.entries[i].title(), MatchCode, "") {
				return out
			}
		}
	}
	var hits []IndexHit
	if x != nil {
		hits = x.Search(q, limit)
	}
	fromIndex := func(exact bool) bool {
		for _, h := range hits {
			if h.Exact != exact {
				continue
			}
			if i, ok := t.find(h.Code); ok && !add(t.entries[i].title(), MatchIndex, h.Term) {
				return false
			}
		}
		return true
	}
	if !fromIndex(true) {
		return out
	}
	for _, i := range t.searchWords(q, limit) {
		if !add(t.entries[i].title(), MatchTitle, "") {
			return out
		}
	}
	fromIndex(false)
	return out
}
