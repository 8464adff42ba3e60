package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress shows how far a long job is: a redrawn line on a terminal, a
// plain line every few seconds otherwise (logs, CI).
type progress struct {
	mu          sync.Mutex
	w           io.Writer
	label, unit string
	total       int
	tty         bool
	start, last time.Time
}

func newProgress(w io.Writer, label string, total int, unit string) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	now := time.Now()
	return &progress{w: w, label: label, unit: unit, total: total, tty: tty, start: now, last: now}
}

func (p *progress) set(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
	now := time.Now()
	if p.tty {
		if now.Sub(p.last) < 100*time.Millisecond && done < total {
			return
		}
	} else if now.Sub(p.last) < 5*time.Second {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	rate := float64(done) / max(el, 1e-9)
	eta := ""
	if done > 0 && done < total {
		eta = fmt.Sprintf(", %s left", (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second))
	}
	line := fmt.Sprintf("%s: %d/%d %s (%.0f%%), %.1f %s/s%s", p.label, done, total, p.unit,
		100*float64(done)/float64(max(total, 1)), rate, p.unit, eta)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
