package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// Lost updates. Every editable record (encounters with their working codes, CDI queries,
// coding audits and their cases, users, facilities) carries a version, sent as its ETag. A
// request that changes an existing record must send the ETag it read in If-Match: without one
// (or with an empty one, or "*", which would match any version) the change is refused with 428
// Precondition Required; with a version that is no longer current, with 412 Precondition
// Failed. The version is compared inside the transaction that makes the change, so of several
// changes sent with the same ETag exactly one succeeds.

// versionTag is the ETag of a record at row version n.
func versionTag(n int) string { return `"` + strconv.Itoa(n) + `"` }

// requireIfMatch returns the entity tag of If-Match (without quotes or W/): 428 when absent,
// empty or "*", 412 when it is not a single tag.
func requireIfMatch(c *gin.Context, what string) (string, bool) {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	if h == "" || h == `""` || h == "*" {
		WriteProblem(c, http.StatusPreconditionRequired, KindPreconditionRequired,
			fmt.Sprintf("If-Match is required: send the ETag of the %s you read (a change without it could overwrite another user's change)", what))
		return "", false
	}
	tag := strings.TrimPrefix(h, "W/")
	if len(tag) >= 2 && tag[0] == '"' && tag[len(tag)-1] == '"' {
		tag = tag[1 : len(tag)-1]
	}
	if tag == "" || strings.ContainsAny(tag, "\", \t") {
		WriteProblem(c, http.StatusPreconditionFailed, KindPrecondition,
			fmt.Sprintf("If-Match must be the one ETag of the %s (a quoted version such as \"3\")", what))
		return "", false
	}
	return tag, true
}

// requireVersion reads If-Match as a row version: 428 when absent, 412 when malformed.
func requireVersion(c *gin.Context, what string) (int, bool) {
	tag, ok := requireIfMatch(c, what)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(tag)
	if err != nil || n <= 0 {
		WriteProblem(c, http.StatusPreconditionFailed, KindPrecondition,
			fmt.Sprintf("If-Match %q is not an ETag of the %s (a quoted row version such as \"3\")", tag, what))
		return 0, false
	}
	return n, true
}
