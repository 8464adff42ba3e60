package palate

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in the server's single table.
const (
	EINVALID        = "invalid"            // bad input; the message names the field, file or line
	ENOTFOUND       = "not_found"          // an id that is not known
	ECONFLICT       = "conflict"           // the same id with different content
	ETOOLARGE       = "too_large"          // input past a configured bound
	EUNAUTHORIZED   = "unauthorized"       // no or wrong credentials
	EFORBIDDEN      = "forbidden"          // credentials without the needed right
	EUNAVAILABLE    = "unavailable"        // not ready (no model loaded, store down)
	EINTERNAL       = "internal"           // a bug or an I/O failure
	ENOTIMPLEMENTED = "not_implemented"    // a known feature this build lacks
	EMETHOD         = "method_not_allowed" // a known path asked with a method it does not take
)

// Error is the one error type palate's parts return for failures a caller may
// act on. Code is one of the E* constants; Message is for people.
type Error struct {
	Code    string
	Message string
	Err     error // the underlying cause, if any
}

// Error returns Message, or the cause's text when Message is empty. Messages
// made by Errorf already include the text of a %w cause.
func (e *Error) Error() string {
	if e.Message == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
// A %w verb in format wraps its argument as usual.
func Errorf(code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), Err: errors.Unwrap(err)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}
