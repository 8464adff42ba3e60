package train

import (
	"errors"
	"fmt"
	"time"

	"palate"
)

// ErrStuck is wrapped by the error Guard returns when a computation made no
// progress within its time limit.
var ErrStuck = errors.New("computation made no progress")

// DefaultStepTimeout is how long one training step, validation pass or
// scoring call may run before the watchdog gives up on it. A normal step
// takes well under a second; the limit only has to catch a hang.
const DefaultStepTimeout = 2 * time.Minute

// Guard runs fn and returns its result, unless fn runs longer than timeout:
// then it returns an EINTERNAL palate.Error wrapping ErrStuck at once and
// leaves fn running in the background (a goroutine cannot be killed; a
// deadlocked one stays parked forever, costing nothing but its memory). The
// Go backend's worker pool has an upstream deadlock (see the package doc):
// this turns a silent hang into an error the caller can report, and after it
// the caller should treat the model state that fn was changing as lost.
//
// A timeout <= 0 runs fn inline, unguarded. A panic in fn becomes an
// EINTERNAL error.
func Guard[T any](timeout time.Duration, what string, fn func() (T, error)) (T, error) {
	call := func() (res T, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = palate.Errorf(palate.EINTERNAL, "%s: panic: %v", what, r)
			}
		}()
		return fn()
	}
	if timeout <= 0 {
		return call()
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: a late finisher never blocks
	go func() {
		v, err := call()
		done <- result{v, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-timer.C:
		var zero T
		return zero, &palate.Error{
			Code: palate.EINTERNAL,
			Message: fmt.Sprintf("%s: %v for %v; the pure-Go backend's worker pool may have deadlocked "+
				"(use backend %q), restart the process", what, ErrStuck, timeout, DefaultBackend),
			Err: ErrStuck,
		}
	}
}
