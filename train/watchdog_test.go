package train

import (
	"context"
	"errors"
	"testing"
	"time"

	"palate"
)

func TestGuard(t *testing.T) {
	// A stuck computation: the watchdog must return promptly with ErrStuck.
	release := make(chan struct{})
	defer close(release)
	start := time.Now()
	_, err := Guard(50*time.Millisecond, "fake step", func() (int, error) {
		<-release
		return 1, nil
	})
	if !errors.Is(err, ErrStuck) || palate.ErrorCode(err) != palate.EINTERNAL {
		t.Fatalf("err = %v, want EINTERNAL wrapping ErrStuck", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("watchdog took %v", d)
	}

	// A normal computation passes its result and error through.
	v, err := Guard(time.Second, "ok", func() (int, error) { return 42, nil })
	if v != 42 || err != nil {
		t.Fatalf("got %v, %v", v, err)
	}
	boom := errors.New("boom")
	if _, err := Guard(time.Second, "fails", func() (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	// A panic becomes an error, with or without a timeout.
	for _, d := range []time.Duration{0, time.Second} {
		if _, err := Guard(d, "panics", func() (int, error) { panic("bad") }); palate.ErrorCode(err) != palate.EINTERNAL {
			t.Fatalf("timeout %v: panic gave %v", d, err)
		}
	}
}

// A training step that hangs (the upstream deadlock, faked) makes Run
// return ErrStuck instead of hanging, and the best checkpoint saved before
// it stays loadable.
func TestRunWatchdogFiresOnStuckStep(t *testing.T) {
	cfg := synthConfig()
	w := newSynthWorld(cfg, 20, 1)
	opts := quietOptions()
	opts.Steps = 100
	opts.EvalEvery = 2
	opts.OutDir = t.TempDir() + "/model"
	opts.StepTimeout = 3 * time.Second
	release := make(chan struct{})
	defer close(release)
	opts.stepHook = func(step int) {
		if step == 5 {
			<-release // never returns while the test runs
		}
	}
	start := time.Now()
	_, err := Run(context.Background(), cfg, opts, w.source(4, 0, 20, 1), ValidateOn(w.fixedBatches(1, 8, 0, 20, 2)))
	if !errors.Is(err, ErrStuck) {
		t.Fatalf("err = %v, want ErrStuck", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("took %v to notice", d)
	}
	ck, err := Load(opts.OutDir)
	if err != nil {
		t.Fatalf("best checkpoint before the hang: %v", err)
	}
	// Steps 1-4 ran (validated at 2 and 4); step 5 hung.
	if s := ck.Summary; s.StoppedBy != StopError || s.Steps != 4 || (s.BestStep != 2 && s.BestStep != 4) {
		t.Fatalf("saved summary: stopped by %q after %d steps, best step %d", s.StoppedBy, s.Steps, s.BestStep)
	}
}
