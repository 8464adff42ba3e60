package train

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// StepInfo is a training run's state after a step or a validation, given
// to Options.OnStep.
type StepInfo struct {
	Stage Stage
	// Step counts the steps done, of TotalSteps planned; when early
	// stopping ends a stage sooner, TotalSteps shrinks by the steps it
	// skipped.
	Step, TotalSteps int
	// Loss and Accuracy are the moving averages of the training loss and
	// pairwise accuracy.
	Loss, Accuracy float64
	// ValAccuracy is the current stage's last validation accuracy, when
	// Validated (false until the stage's first validation).
	ValAccuracy float64
	Validated   bool
	// EpisodesPerSecond is the mean throughput since the start.
	EpisodesPerSecond float64
}

// progress reports training: a bar with loss, accuracy and episodes/s on a
// terminal, a plain line every LogEvery otherwise (logs, CI).
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	bar      *progressbar.ProgressBar
	every    time.Duration
	now      func() time.Time
	last     time.Time
	total    int
	lastVal  float64
	hasVal   bool
	silenced bool
	onStep   func(StepInfo)
	info     StepInfo
}

func newProgress(o Options, total int) *progress {
	p := &progress{w: o.Log, every: o.LogEvery, now: o.Now, total: total, onStep: o.OnStep}
	p.info.TotalSteps = total
	p.last = p.now()
	if o.Log == nil || o.Progress == ProgressNone {
		p.silenced = true
		return p
	}
	useBar := o.Progress == ProgressBar
	if o.Progress == ProgressAuto {
		if f, ok := o.Log.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			useBar = true
		}
	}
	if useBar {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(o.Log),
			progressbar.OptionSetDescription("train"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(24),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(o.Log) }),
		)
	}
	return p
}

func (p *progress) step(stage Stage, steps int, e *emaStats, epsPerSec float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.onStep != nil {
		p.info.Stage, p.info.Step, p.info.Loss, p.info.Accuracy, p.info.EpisodesPerSecond = stage, steps, e.loss, e.acc, epsPerSec
		p.onStep(p.info)
	}
	if p.silenced {
		return
	}
	val := ""
	if p.hasVal {
		val = fmt.Sprintf(" val %.3f", p.lastVal)
	}
	desc := fmt.Sprintf("%s loss %.3f acc %.3f%s %.0f ep/s", stage, e.loss, e.acc, val, epsPerSec)
	if p.bar != nil {
		p.bar.Describe(desc)
		_ = p.bar.Set(steps)
		return
	}
	if now := p.now(); now.Sub(p.last) >= p.every || steps == p.total {
		p.last = now
		fmt.Fprintf(p.w, "train: step %d/%d %s\n", steps, p.total, desc)
	}
}

func (p *progress) val(acc float64) {
	p.mu.Lock()
	p.lastVal, p.hasVal = acc, true
	if p.onStep != nil {
		p.info.ValAccuracy, p.info.Validated = acc, true
		p.onStep(p.info)
	}
	p.mu.Unlock()
}

// stageEnd closes a stage that ran skipped steps short of its plan (early
// stopping): the planned total shrinks by them, so that progress reaches
// its end, and the stage's validation accuracy is no longer shown beside
// the next stage's steps, which minimise another loss. OnStep hears of a
// shrunk total at once.
func (p *progress) stageEnd(skipped int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total -= skipped
	p.info.TotalSteps = p.total
	p.hasVal, p.info.Validated, p.info.ValAccuracy = false, false, 0
	if skipped == 0 {
		return
	}
	if p.onStep != nil {
		p.onStep(p.info)
	}
	if p.bar != nil {
		p.bar.ChangeMax(p.total)
	}
}

// event prints a line that stays, above the bar if there is one.
func (p *progress) event(format string, args ...any) {
	if p.silenced {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintf(p.w, "train: "+format+"\n", args...)
	if p.bar != nil {
		_ = p.bar.RenderBlank()
	}
}

func (p *progress) finish() {
	if p.silenced || p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Finish()
}
