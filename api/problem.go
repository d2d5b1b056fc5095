package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"
	"github.com/go-playground/validator/v10"

	"github.com/msdrg-cdi/drg/claim"
	"github.com/msdrg-cdi/drg/store"
)

// Problem is an RFC 7807 problem detail (media type application/problem+json); validation
// problems list the fields at fault with the claim package's field names ("sdx[3].poa").
type Problem struct {
	Type      string        `json:"type"`
	Title     string        `json:"title"`
	Status    int           `json:"status"`
	Detail    string        `json:"detail,omitempty"`
	Errors    []*FieldError `json:"errors,omitempty"`
	RequestID string        `json:"request_id,omitempty"`
}

// FieldError names one invalid field of a request.
type FieldError = claim.FieldError

// problemType returns the type URI of a problem kind.
func problemType(kind string) string { return "urn:drg:problem:" + kind }

// Problem kinds.
const (
	KindValidation      = "validation"        // 422: fields at fault listed in errors
	KindMalformed       = "malformed-request" // 400: unreadable JSON, bad query parameter
	KindTooLarge        = "body-too-large"    // 413
	KindUnauthenticated = "unauthenticated"   // 401
	KindForbidden       = "forbidden"         // 403
	KindNotFound        = "not-found"         // 404
	KindMethod          = "method-not-allowed"
	KindConflict        = "conflict"            // 409
	KindPrecondition    = "precondition-failed" // 412
	// KindPreconditionRequired is 428: a change of an existing record sent without If-Match.
	KindPreconditionRequired = "precondition-required"
	KindUnsupported          = "unsupported-media-type"
	KindUnavailable          = "unavailable"       // 503: data or dependency missing
	KindTooMany              = "too-many-requests" // 429: a per-caller limit (Retry-After says when to retry)
	KindBusy                 = "busy"              // 503: the server's capacity for this work is in use (Retry-After)
	KindInternal             = "internal"          // 500: a bug; logged
)

// WriteProblem aborts the request with a problem response.
func WriteProblem(c *gin.Context, status int, kind, detail string, errs ...*FieldError) {
	p := Problem{Type: problemType(kind), Title: http.StatusText(status), Status: status, Detail: detail,
		Errors: errs, RequestID: c.GetString(ctxRequestID)}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	c.Abort()
	c.Header("Content-Type", "application/problem+json")
	c.Data(status, "application/problem+json", b)
}

// WriteValidation aborts the request with a 422 problem listing the fields at fault.
func WriteValidation(c *gin.Context, errs ...*FieldError) {
	WriteProblem(c, http.StatusUnprocessableEntity, KindValidation, validationDetail(errs), errs...)
}

// validationDetail summarizes the fields at fault: the one error, or how many and which.
func validationDetail(errs []*FieldError) string {
	if len(errs) == 1 {
		return errs[0].Error()
	}
	fields := make([]string, len(errs))
	for i, e := range errs {
		fields[i] = e.Field
	}
	return fmt.Sprintf("%d invalid fields: %s", len(errs), strings.Join(fields, ", "))
}

// WriteError aborts the request with the problem matching err: store and claim errors become
// 4xx problems; anything else is a 500 that is logged (without request data).
func WriteError(c *gin.Context, err error) {
	var fe claim.Errors
	var one *claim.FieldError
	var tooBig *http.MaxBytesError
	var pe *problemError
	switch {
	case errors.As(err, &pe):
		WriteProblem(c, pe.status, pe.kind, pe.detail, pe.errs...)
	case errors.As(err, &fe):
		WriteValidation(c, fe...)
	case errors.As(err, &one):
		WriteValidation(c, one)
	case errors.As(err, &tooBig):
		WriteProblem(c, http.StatusRequestEntityTooLarge, KindTooLarge, fmt.Sprintf("request body larger than %d bytes", tooBig.Limit))
	case errors.Is(err, store.ErrBadCursor):
		WriteProblem(c, http.StatusBadRequest, KindMalformed, "malformed cursor: pass next_cursor of the previous page", &FieldError{Field: "cursor", Message: "not a cursor of this list"})
	case errors.Is(err, store.ErrNotFound):
		WriteProblem(c, http.StatusNotFound, KindNotFound, err.Error())
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrFinal):
		WriteProblem(c, http.StatusConflict, KindConflict, err.Error())
	case errors.Is(err, store.ErrVersionMismatch):
		WriteProblem(c, http.StatusPreconditionFailed, KindPrecondition, err.Error()+": read it again (its ETag) and retry")
	case errors.Is(err, store.ErrInvalid):
		WriteProblem(c, http.StatusUnprocessableEntity, KindValidation, err.Error())
	case errors.Is(err, context.Canceled):
		WriteProblem(c, 499, KindUnavailable, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		WriteProblem(c, http.StatusServiceUnavailable, KindUnavailable, "the request timed out")
	default:
		logger(c).ErrorContext(c.Request.Context(), "request failed", "err", err.Error(), "route", c.GetString(ctxRoute))
		WriteProblem(c, http.StatusInternalServerError, KindInternal, "internal error; the request id identifies it in the server log")
	}
}

// ReadBody reads the whole request body within the route's size limit. On failure it has
// written the problem (413 for an oversized body) and returns false.
func ReadBody(c *gin.Context) ([]byte, bool) {
	b, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			WriteError(c, err)
			return nil, false
		}
		WriteProblem(c, http.StatusBadRequest, KindMalformed, "could not read the request body")
		return nil, false
	}
	return b, true
}

// jsonKindOf names the JSON type of a valid JSON value b (null, an array, a number…), for
// messages saying what a body is instead of what is expected.
func jsonKindOf(b []byte) string {
	switch t := bytes.TrimSpace(b); {
	case len(t) == 0:
		return "empty"
	case t[0] == 'n':
		return "null"
	case t[0] == '[':
		return "an array"
	case t[0] == '"':
		return "a string"
	case t[0] == 't' || t[0] == 'f':
		return "a boolean"
	case t[0] == '{':
		return "an object"
	}
	return "a number"
}

// DecodeJSON reads the request body as one JSON value into v, rejecting unknown fields, then
// validates v with its `binding` struct tags (go-playground/validator). On failure it has
// written the problem (400 malformed JSON, 413 too large, 422 with the fields at fault) and
// returns false.
func DecodeJSON(c *gin.Context, v any) bool {
	b, ok := ReadBody(c)
	if !ok {
		return false
	}
	return DecodeJSONBytes(c, b, v)
}

// DecodeJSONBytes is DecodeJSON for a body already read.
func DecodeJSONBytes(c *gin.Context, b []byte, v any) bool {
	if err := decodeValidErr(b, v); err != nil {
		WriteError(c, err)
		return false
	}
	return true
}

// decodeStrict decodes one JSON value into v rejecting unknown fields, without validation
// (for bodies normalized before they are validated); on failure it writes the problem.
func decodeStrict(c *gin.Context, b []byte, v any) bool {
	if err := decodeStrictErr(b, v); err != nil {
		WriteError(c, err)
		return false
	}
	return true
}

// Validate checks v with its `binding` struct tags; on failure it writes a 422 problem naming
// each field by its JSON path and returns false.
func Validate(c *gin.Context, v any) bool {
	if err := validateErr(v); err != nil {
		WriteError(c, err)
		return false
	}
	return true
}

// problemError is a problem to answer, as an error: code that must not write the response
// itself (inside a store transaction) returns one, and WriteError writes it.
type problemError struct {
	status int
	kind   string
	detail string
	errs   []*FieldError
}

// Error returns the problem's detail.
func (p *problemError) Error() string { return p.detail }

// Unwrap returns the fields at fault as claim.Errors (nil when none), so that they merge
// with other checks' findings.
func (p *problemError) Unwrap() error {
	if len(p.errs) == 0 {
		return nil
	}
	return claim.Errors(p.errs)
}

func validation(errs ...*FieldError) *problemError {
	return &problemError{http.StatusUnprocessableEntity, KindValidation, validationDetail(errs), errs}
}

// decodeStrictErr is decodeStrict returning the problem instead of writing it: a 400 for a
// body that is not one JSON object, else a 422 naming every field at fault (unknown fields,
// values of the wrong type, unreadable dates).
func decodeStrictErr(b []byte, v any) error {
	fes, err := decodeFields(b, v, nil)
	if err != nil {
		return err
	}
	if len(fes) > 0 {
		return validation(fes...)
	}
	return nil
}

// decodeFields decodes the JSON body b into v (claim.Decode: unknown fields rejected,
// timestamps without a zone read in loc) and returns the fields at fault, v holding the rest,
// so that the caller can add its own checks and report everything at once. err is a 400
// problem for a body that cannot be read field by field.
func decodeFields(b []byte, v any, loc func() *time.Location) (claim.Errors, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, &problemError{http.StatusBadRequest, KindMalformed, "empty request body: a JSON object is required", nil}
	}
	err := claim.Decode(b, v, claim.DecodeOptions{Location: loc})
	var me *claim.MalformedError
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &me):
		return nil, &problemError{http.StatusBadRequest, KindMalformed, me.Message, nil}
	}
	if fes := claim.AsFieldErrors(err); len(fes) > 0 {
		return fes, nil
	}
	return nil, err
}

// decodeValidErr decodes b into v and validates v with its `binding` tags, reporting the
// fields at fault of both steps in one 422 problem.
func decodeValidErr(b []byte, v any) error {
	fes, err := decodeFields(b, v, nil)
	if err != nil {
		return err
	}
	if fes = fes.Merge(validateErr(v)); len(fes) > 0 {
		return validation(fes...)
	}
	return nil
}

// validateErr is Validate returning the problem instead of writing it.
func validateErr(v any) error {
	if err := binding.Validator.ValidateStruct(v); err != nil {
		return validation(validationErrors(err)...)
	}
	return nil
}

func init() {
	// Validation errors name fields by their JSON names.
	if v, ok := binding.Validator.Engine().(*validator.Validate); ok {
		v.RegisterTagNameFunc(func(f reflect.StructField) string {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name, _, _ = strings.Cut(f.Tag.Get("form"), ",") // query parameters
			}
			switch name {
			case "-":
				return ""
			case "":
				return f.Name
			}
			return name
		})
	}
}

// validationErrors converts validator errors to field errors named by JSON path
// ("sdx[3].poa"); Go names of embedded structs are left out of the path.
func validationErrors(err error) []*FieldError {
	var ve validator.ValidationErrors
	if !errors.As(err, &ve) {
		return []*FieldError{{Field: "body", Message: err.Error()}}
	}
	out := make([]*FieldError, 0, len(ve))
	for _, fe := range ve {
		parts := strings.Split(fe.Namespace(), ".")
		if goParts := strings.Split(fe.StructNamespace(), "."); len(parts) > 1 && parts[0] == goParts[0] {
			parts = parts[1:] // the top-level type's name (absent for an anonymous struct)
		}
		var keep []string
		for _, p := range parts {
			if p != "" && p[0] >= 'A' && p[0] <= 'Z' {
				continue // embedded Go structs
			}
			keep = append(keep, p)
		}
		out = append(out, &FieldError{Field: strings.Join(keep, "."), Message: validationMessage(fe)})
	}
	return out
}

func validationMessage(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "required"
	case "oneof":
		return "must be one of " + fe.Param()
	case "max":
		if k := fe.Kind(); k == reflect.Slice || k == reflect.Array {
			return "at most " + fe.Param() + " items"
		}
		if fe.Kind() == reflect.String {
			return "at most " + fe.Param() + " characters"
		}
		return "at most " + fe.Param()
	case "min":
		if fe.Kind() == reflect.String {
			return "at least " + fe.Param() + " characters"
		}
		return "at least " + fe.Param()
	case "alphanum":
		return "letters and digits only"
	}
	return "fails the " + fe.Tag() + " rule"
}
