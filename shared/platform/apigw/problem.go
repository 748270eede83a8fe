package apigw

import (
	"context"
	"errors"
	"net/http"

	"tailor/shared/platform/errs"
)

// Problem is an RFC 9457 problem details document, the one error format of
// the whole API.
type Problem struct {
	Type     string            `json:"type"`
	Title    string            `json:"title"`
	Status   int               `json:"status"`
	Detail   string            `json:"detail,omitempty"`
	Instance string            `json:"instance,omitempty"`
	Errors   []errs.FieldError `json:"errors,omitempty"`
}

// problemTypes maps each kind to its status and a stable type URI (a
// relative reference, documented in docs/errors.md).
var problemTypes = map[errs.Kind]struct {
	status int
	slug   string
}{
	errs.Invalid:      {http.StatusBadRequest, "invalid-request"},
	errs.NotFound:     {http.StatusNotFound, "not-found"},
	errs.Conflict:     {http.StatusConflict, "conflict"},
	errs.Precondition: {http.StatusPreconditionFailed, "precondition-failed"},
	errs.TooLarge:     {http.StatusRequestEntityTooLarge, "too-large"},
	errs.Unsupported:  {http.StatusUnsupportedMediaType, "unsupported-media-type"},
	errs.Unauthorized: {http.StatusUnauthorized, "unauthorized"},
	errs.Forbidden:    {http.StatusForbidden, "forbidden"},
	errs.Transient:    {http.StatusServiceUnavailable, "unavailable"},
}

// ProblemFor maps err to its problem document. This is the only place where
// an error becomes an HTTP status. Details of unexpected errors are never
// shown to the caller.
func ProblemFor(err error) Problem {
	if errors.Is(err, context.DeadlineExceeded) {
		return Problem{Type: "/problems/timeout", Title: http.StatusText(http.StatusGatewayTimeout),
			Status: http.StatusGatewayTimeout, Detail: "the request did not finish in time; it is safe to retry"}
	}
	var e *errs.Error
	if errors.As(err, &e) {
		if t, ok := problemTypes[e.Kind]; ok {
			return Problem{Type: "/problems/" + t.slug, Title: http.StatusText(t.status), Status: t.status,
				Detail: e.Detail, Errors: e.Fields}
		}
	}
	return Problem{Type: "/problems/internal", Title: http.StatusText(http.StatusInternalServerError),
		Status: http.StatusInternalServerError, Detail: "an unexpected error occurred"}
}
