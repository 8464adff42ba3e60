package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"palate/api"
	"palate/internal/testmodel"
	"palate/train"
)

// startDemo runs a tiny `palate demo` in dir on a free port and returns
// its URL once the page is ready and its model is served.
func startDemo(t *testing.T, dir string) string { return startDemoWait(t, dir, true) }

// startDemoWait is startDemo; without ready it returns as soon as the page
// is served, while the model may still train.
func startDemoWait(t *testing.T, dir string, ready bool) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"demo", "--dir", dir, "--users", "30", "--comparisons", "16", "--steps", "20",
			"--addr", "127.0.0.1:0", "--bench", filepath.Join("..", "..", "docs", "bench-quick-default.json")}, &out, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo exited %d: %s", code, errOut.String())
		}
	})
	re := regexp.MustCompile(`open (http://\S+/)`)
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			// The page is served at once; wait for the model too.
			if !ready {
				return m[1]
			}
			if _, err := keyedClient(strings.TrimSuffix(m[1], "/")).Ready(context.Background()); err == nil {
				return m[1]
			}
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("demo exited %d before it was ready:\n%s\n%s", code, out.String(), errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("demo not ready after 3 minutes:\n%s\n%s", out.String(), errOut.String())
	return ""
}

// chromium finds Debian's headless browser. Without one the browser tests
// skip, saying so, so that the README's test command passes on a machine
// with only Go; PALATE_REQUIRE_BROWSER=1 (.ci/run sets it) makes a missing
// browser a failure instead.
func chromium(t *testing.T) string {
	t.Helper()
	if os.Getenv("PALATE_SKIP_BROWSER") == "1" {
		t.Skip("PALATE_SKIP_BROWSER=1: browser tests skipped")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no chromium on PATH: install it (apt-get install -y chromium chromium-driver; .ci/run does) to run the browser tests"
	if os.Getenv("PALATE_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + " (PALATE_REQUIRE_BROWSER=1)")
	}
	t.Skip(msg + "; skipped")
	return ""
}

// TestBrowser drives the demo's web page in headless Chromium: a new
// person makes 10 picks with the keyboard, the picks reach the store, the
// For-you ranking moves and differs from the non-personal one, and a
// click on the taste map opens another person. It takes screenshots of
// each view into a temporary directory, or, with PALATE_SCREENSHOTS=DIR
// (the README's are made with PALATE_SCREENSHOTS=docs/screenshots run
// from the repository root, i.e. ../../docs/screenshots here), into DIR, so
// that a plain test run leaves the working tree as it was.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	dir := t.TempDir()
	url := startDemo(t, dir)
	shots := os.Getenv("PALATE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if !filepath.IsAbs(shots) {
		shots = filepath.Join("..", "..", shots) // the test runs in cmd/palate
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx := browserContext(t, exe)

	// Collect console errors, warnings and exceptions from the start.
	var mu sync.Mutex
	var consoleErrs []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				mu.Lock()
				consoleErrs = append(consoleErrs, m.String())
				mu.Unlock()
			}
		}
	}()

	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	shot := func(name string) {
		t.Helper()
		run("settle", chromedp.Sleep(300*time.Millisecond))
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wait := waitFor(t, ctx, 30*time.Second, `document.getElementById("status").textContent + " | error: " + document.getElementById("error").textContent`)
	imagesLoaded := `[...document.querySelectorAll("main > section:not([hidden]) img")].every(i => i.complete && i.naturalWidth > 0)`

	// Start as a new user.
	run("open the page", chromedp.Navigate(url+"#rate"), chromedp.WaitVisible(chromedp.ID("new-user")))
	// The rate view asks for a For-you pool as soon as the first pair is
	// shown; hold that answer back for 1.5 s, so that For you, opened
	// meanwhile, must use the same pool rather than ask for a second one
	// that the late answer then replaces. The page before session 9 asked
	// for its own, and failed here in 3 runs of 3: For you showed the late
	// pool after the picks. When the late answer landed while For you's
	// ranking was in flight, it showed one pool's scores under the other
	// pool's pictures: the rare failure of .ci/run in sessions 5 and 7
	// (the same pictures, other non-personal scores after the picks).
	if got := eval(`(() => {
		const f = window.fetch;
		let held = false;
		window.fetch = async (path, opts) => {
			const hold = !held && path === "/v1/generate" && opts && opts.body === '{"n":12}';
			if (hold) held = window.palatePoolAsked = true;
			const resp = await f(path, opts);
			if (hold) {
				await new Promise((r) => setTimeout(r, 1500));
				window.palatePoolLanded = true;
			}
			return resp;
		};
		return "held";
	})()`); got != "held" {
		t.Fatalf("wrapping fetch: %q", got)
	}
	run("new user", chromedp.Click(chromedp.ID("new-user")))
	wait("first pair", `document.getElementById("img-left").naturalWidth > 0 && document.getElementById("img-right").naturalWidth > 0`)
	user := eval(`document.getElementById("user-select").value`)
	if !strings.HasPrefix(user, "you-") {
		t.Fatalf("new user id %q", user)
	}

	// The For-you ranking before any pick is the cold start.
	pList := `[...document.querySelectorAll("#foryou-personal li")].map(li => li.dataset.id + "=" + li.dataset.p).join(",")`
	gList := `[...document.querySelectorAll("#foryou-general li")].map(li => li.dataset.id + "=" + li.dataset.p).join(",")`
	// Open For you only once the rate view has asked for its pool (and
	// that answer is held back), so that the race is run every time.
	wait("the rate view's pool request", `window.palatePoolAsked === true`)
	run("for you, cold", chromedp.Navigate(url+"#foryou"))
	wait("for-you grid", `document.querySelectorAll("#foryou-personal li").length === 12`)
	before, general := eval(pList), eval(gList)
	if before != general {
		t.Fatalf("a new user's ranking should be the non-personal one:\n%s\n%s", before, general)
	}
	// Let the held answer land before the picks, so that a page which
	// took it as a second pool shows that pool after them.
	wait("the held pool answer", `window.palatePoolLanded === true`)

	// Ten picks with the keyboard.
	run("back to rating", chromedp.Navigate(url+"#rate"))
	wait("pair", `document.getElementById("img-left").naturalWidth > 0`)
	keys := []string{kb.ArrowLeft, kb.ArrowLeft, kb.ArrowRight, kb.ArrowLeft, " ", kb.ArrowLeft, kb.ArrowRight, kb.ArrowLeft, kb.ArrowDown, kb.ArrowLeft}
	for i, k := range keys {
		run(fmt.Sprintf("pick %d", i+1), chromedp.KeyEvent(k))
		wait(fmt.Sprintf("pick %d recorded", i+1), fmt.Sprintf(`document.getElementById("pick-count").textContent === "%d" && !document.getElementById("img-left").src.endsWith("/") && document.getElementById("view-rate").getAttribute("aria-busy") !== "true"`, i+1))
	}
	wait("top picks", `document.querySelectorAll("#rate-top li").length === 6 && `+imagesLoaded)
	if got, want := eval(`document.getElementById("user-select").selectedOptions[0].textContent`), user+" (9 picks, 2 votes)"; got != want {
		t.Errorf("the person list says %q after the picks; want %q", got, want)
	}
	shot("rate.png")

	// The picks reached the store.
	st, err := openStore(context.Background(), "sqlite:"+filepath.Join(dir, "palate.db"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := st.History(context.Background(), user)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Comparisons) != 9 || len(h.Votes) != 2 {
		t.Fatalf("store holds %d comparisons and %d votes of %s; want 9 and 2 (one \"both bad\")", len(h.Comparisons), len(h.Votes), user)
	}
	ties := 0
	for _, c := range h.Comparisons {
		if c.Label0 == 0.5 {
			ties++
		}
	}
	if ties != 1 {
		t.Fatalf("%d ties recorded, want 1 (space)", ties)
	}

	// The ranking moved and is no longer the non-personal one.
	run("for you, after", chromedp.Navigate(url+"#foryou"))
	wait("personal ranking", `document.getElementById("foryou-state").textContent.startsWith("read against") && document.querySelectorAll("#foryou-personal li").length === 12 && `+imagesLoaded)
	run("let a late answer land", chromedp.Sleep(200*time.Millisecond))
	after, generalAfter, state := eval(pList), eval(gList), eval(`document.getElementById("foryou-state").textContent`)
	if after == before {
		t.Fatal("the For-you ranking did not change after 10 picks")
	}
	if after == generalAfter {
		t.Fatal("the For-you ranking equals the non-personal one after 10 picks")
	}
	if generalAfter != general {
		// Say whether the server now answers differently for good or the
		// page showed another answer (or pool), and what the page holds.
		logGeneralAgain(t, strings.TrimSuffix(url, "/"), user, general)
		t.Logf("page's last non-personal answer: %s", eval(`(() => { try { return JSON.stringify(state.ranking.general.results.map(r => r.id + "=" + r.p_like.toFixed(6))) } catch (e) { return String(e) } })()`))
		t.Logf("personal ranking after: %s", after)
		t.Fatalf("the non-personal ranking changed with the person's picks:\n%s\n%s", general, generalAfter)
	}
	t.Logf("for you: %s; order changed: %v", state, order(after) != order(before))
	shot("foryou.png")

	// The taste map; a click opens another person.
	run("map", chromedp.Navigate(url+"#map"))
	wait("map points", `document.querySelectorAll("#map-svg circle").length >= 10 && document.querySelectorAll("#map-legend li").length >= 2`)
	shot("map.png")
	// The map is one Tab stop, the person shown; the arrow keys move between
	// people (every point used to be a Tab stop).
	if got := eval(`[...document.querySelectorAll("#map-svg circle[tabindex='0']")].map(c => c.dataset.user).join(",")`); got != user {
		t.Fatalf("the map's Tab stops: %q; want only %s", got, user)
	}
	run("keys on the map", chromedp.Focus(chromedp.CSS(`#map-svg circle.me`)), chromedp.KeyEvent(kb.Home))
	first := eval(`document.activeElement.dataset.user`)
	run("arrow on the map", chromedp.KeyEvent(kb.ArrowRight))
	moved := eval(`(() => { const a = document.activeElement, stops = document.querySelectorAll("#map-svg circle[tabindex='0']"); return a.tagName === "circle" && stops.length === 1 && stops[0] === a ? a.dataset.user : "focus " + a.tagName + ", " + stops.length + " stops"; })()`)
	if first == "" || moved == first || strings.HasPrefix(moved, "focus ") {
		t.Fatalf("Home then → on the map: focus on %q, then %q; want two people, each the one Tab stop", first, moved)
	}
	// A redraw (as a new width makes) keeps the focus and the Tab stop.
	redrawn := `(() => { drawMap(); const a = document.activeElement, stops = document.querySelectorAll("#map-svg circle[tabindex='0']"); return a.tagName === "circle" && stops.length === 1 && stops[0] === a ? a.dataset.user : "focus " + a.tagName + ", " + stops.length + " stops"; })()`
	if got := eval(redrawn); got != moved {
		t.Fatalf("after a redraw the map's focus is on %q; want %q", got, moved)
	}
	// Also on the person shown, whose point the redraw puts on top (it
	// used to lose the focus there).
	eval(`(() => { const a = document.activeElement, me = document.querySelector("#map-svg circle.me"); a.setAttribute("tabindex", "-1"); me.setAttribute("tabindex", "0"); me.focus(); return me.dataset.user; })()`)
	if got := eval(redrawn); got != user {
		t.Fatalf("after a redraw with the focus on %s's own point the map's focus is on %q", user, got)
	}
	// A point another point covers would take the click: pick one that is
	// itself the element at its centre.
	other := eval(`[...document.querySelectorAll("#map-svg circle:not(.me)")].reverse().find(c => { const b = c.getBoundingClientRect(); return document.elementFromPoint(b.x + b.width/2, b.y + b.height/2) === c; }).dataset.user`)
	run("click the point", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#map-svg circle[data-user=%q]`, other))))
	wait("profile opened", fmt.Sprintf(`location.hash === "#profile" && document.getElementById("user-select").value === %q && document.getElementById("profile-facts").textContent.includes(%q) && document.querySelector("#profile-truth .truth") !== null && `+imagesLoaded, other, other))
	shot("profile.png")

	// Choosing a person in the list hands the keyboard back to picking
	// (the arrow keys used to move through the list, recording nothing),
	// and Space on a focused button presses it (it used to record a tie).
	run("rate", chromedp.Navigate(url+"#rate"), chromedp.Focus(chromedp.ID("user-select")))
	if got := eval(fmt.Sprintf(`(() => { const s = document.getElementById("user-select"); s.value = %q; s.dispatchEvent(new Event("change")); return s.value; })()`, user)); got != user {
		t.Fatalf("choosing %s in the list: %q", user, got)
	}
	wait("pair", `document.getElementById("img-left").naturalWidth > 0`)
	run("arrow after choosing", chromedp.KeyEvent(kb.ArrowLeft))
	wait("a pick, not another person", fmt.Sprintf(`document.getElementById("pick-count").textContent === "1" && document.getElementById("pick-word").textContent === "pick" && document.getElementById("user-select").value === %q && document.getElementById("view-rate").getAttribute("aria-busy") !== "true"`, user))
	run("space on a button", chromedp.Focus(chromedp.ID("pick-bad")), chromedp.KeyEvent(" "))
	wait("both bad", `document.getElementById("pick-count").textContent === "2" && document.getElementById("status").textContent.startsWith("Recorded: both bad")`)
	// A link clicked with the mouse keeps the focus, but not Space: it
	// still means "can't decide" (the page used to leave it to the link).
	run("click Rate, then space", chromedp.Click(chromedp.CSS(`nav a[data-view=rate]`)), chromedp.KeyEvent(" "))
	wait("can't decide after a click", `document.getElementById("pick-count").textContent === "3" && document.getElementById("status").textContent.startsWith("Recorded: can't decide")`)

	// Guide and model panels render.
	run("guide", chromedp.Navigate(url+"#guide"), chromedp.WaitVisible(chromedp.CSS("#guide-form button")), chromedp.Click(chromedp.CSS("#guide-form button")))
	wait("guided pictures", `document.querySelectorAll("#guide-result figure").length === 2 && `+imagesLoaded)
	shot("guide.png")
	run("model", chromedp.Navigate(url+"#model"))
	wait("model facts", `document.querySelectorAll("#model-bench table tr").length > 3 && document.getElementById("model-facts").textContent.includes("steps")`)
	shot("model.png")

	if msg := eval(`document.getElementById("error").hidden ? "" : document.getElementById("error").textContent`); msg != "" {
		t.Fatalf("the page shows an error: %s", msg)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(consoleErrs) > 0 {
		t.Fatalf("console errors:\n%s", strings.Join(consoleErrs, "\n"))
	}
}

// order keeps the ids of a ranking list "id=p,id=p".
func order(list string) string {
	var ids []string
	for _, e := range strings.Split(list, ",") {
		id, _, _ := strings.Cut(e, "=")
		ids = append(ids, id)
	}
	return strings.Join(ids, ",")
}

// TestBrowserTraining opens the demo's page while the model trains (held
// at step 1): the Model view shows a progress bar and the step, the Rate
// view records a pick and says the model is training where its ranking
// would be, and once training ends the Model view shows the trained model
// without a reload.
func TestBrowserTraining(t *testing.T) {
	exe := chromium(t)
	release := make(chan struct{})
	var once sync.Once
	demoStepHook = func(train.StepInfo) { once.Do(func() { <-release }) }
	t.Cleanup(func() { demoStepHook = nil })
	url := startDemoWait(t, t.TempDir(), false)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})

	ctx := browserContext(t, exe)
	var mu sync.Mutex
	var exceptions []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() {
				mu.Lock()
				exceptions = append(exceptions, m.String())
				mu.Unlock()
			}
		}
	}()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	wait := waitFor(t, ctx, 60*time.Second, `document.getElementById("status").textContent + " | error: " + document.getElementById("error").textContent + " | model: " + document.getElementById("view-model").textContent`)

	run("open the model view", chromedp.Navigate(url+"#model"))
	// 20 joint steps after up to 80 base steps (BaseSteps defaults to 4×Steps).
	wait("progress bar at step 1", `!document.getElementById("model-training").hidden && document.getElementById("training-bar").value === 1/100 && document.getElementById("training-facts").textContent.includes("1 of 100 (base)") && !document.getElementById("training-banner").hidden`)

	run("new user", chromedp.Navigate(url+"#rate"), chromedp.WaitVisible(chromedp.ID("new-user")), chromedp.Click(chromedp.ID("new-user")))
	wait("pair and training note", `document.getElementById("img-left").naturalWidth > 0 && document.getElementById("rate-top").textContent.includes("model is training") && document.getElementById("error").hidden`)
	run("pick", chromedp.KeyEvent(kb.ArrowLeft))
	wait("pick recorded", `document.getElementById("pick-count").textContent === "1" && document.getElementById("error").hidden`)
	// Views that need the model say so in words, not with the API's text.
	run("profile while training", chromedp.Navigate(url+"#profile"))
	wait("profile notice", `document.getElementById("status").textContent.startsWith("The model is still training") && document.getElementById("error").hidden`)

	run("back to the model view", chromedp.Navigate(url+"#model"))
	wait("still training", `document.getElementById("training-facts").textContent.includes("training")`)
	close(release)
	wait("trained model shown without a reload", `document.getElementById("model-facts").textContent.includes("steps") && document.getElementById("training-facts").textContent.includes("done") && document.getElementById("training-bar").value === 1 && document.getElementById("training-banner").hidden`)
	if msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("error").hidden ? "" : document.getElementById("error").textContent`)); err != nil || msg != "" {
		t.Fatalf("the page shows an error: %q %v", msg, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(exceptions) > 0 {
		t.Fatalf("exceptions on the page:\n%s", strings.Join(exceptions, "\n"))
	}
}

// TestDemoReuses runs a tiny demo twice in one directory. The first run
// serves the page while it trains (held at step 1 by demoStepHook): the
// page and the people are there, readiness says a model is training and
// GET /v1/training reports the step; once training ends readiness flips
// without a restart. The second run reuses the world, the model and the
// database, is ready at once and trains nothing.
func TestDemoReuses(t *testing.T) {
	dir := t.TempDir()
	release := make(chan struct{})
	var once sync.Once
	demoStepHook = func(train.StepInfo) { once.Do(func() { <-release }) }
	t.Cleanup(func() { demoStepHook = nil })
	for run := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- Main(ctx, []string{"demo", "--dir", dir, "--users", "12", "--comparisons", "8", "--steps", "4", "--addr", "127.0.0.1:0"}, &out, &errOut)
		}()
		re := regexp.MustCompile(`open (http://\S+/)`)
		var url string
		for deadline := time.Now().Add(2 * time.Minute); url == "" && time.Now().Before(deadline); {
			if m := re.FindStringSubmatch(out.String()); m != nil {
				url = m[1]
				break
			}
			select {
			case code := <-done:
				t.Fatalf("run %d: demo exited %d:\n%s\n%s", run, code, out.String(), errOut.String())
			case <-time.After(50 * time.Millisecond):
			}
		}
		if url == "" {
			t.Fatalf("run %d: demo not ready:\n%s", run, errOut.String())
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("run %d: page %d %s", run, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		c := keyedClient(strings.TrimSuffix(url, "/"))
		users, err := c.Users(context.Background())
		if err != nil || len(users.Users) != 12 {
			t.Fatalf("run %d: users %v %v", run, users, err)
		}
		if run == 0 {
			// Training is held at its first step: the page serves, the
			// model is not there yet.
			var tr *api.Training
			for deadline := time.Now().Add(2 * time.Minute); ; {
				tr, err = c.Training(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if tr.Step >= 1 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			// 16 base steps (BaseSteps defaults to 4×Steps), then 4 joint.
			const total = 20
			if tr.State != api.TrainingRunning || tr.Step != 1 || tr.TotalSteps != total || tr.Stage != string(train.StageBase) || tr.EpisodesPerSecond <= 0 {
				t.Fatalf("training while held: %+v", tr)
			}
			if _, err := c.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("training (step 1 of %d)", total)) {
				t.Fatalf("ready while training: %v", err)
			}
			close(release)
			var ready error = errors.New("not asked")
			for deadline := time.Now().Add(2 * time.Minute); ready != nil && time.Now().Before(deadline); {
				_, ready = c.Ready(context.Background())
				time.Sleep(50 * time.Millisecond)
			}
			if ready != nil {
				t.Fatalf("not ready after training: %v\n%s", ready, errOut.String())
			}
			if tr, err = c.Training(context.Background()); err != nil || tr.State != api.TrainingDone || tr.Step != total {
				t.Fatalf("training after it ended: %+v %v", tr, err)
			}
		} else {
			if _, err := c.Ready(context.Background()); err != nil {
				t.Fatalf("run %d: reused model not ready at once: %v", run, err)
			}
			if tr, err := c.Training(context.Background()); err != nil || tr.State != api.TrainingNone {
				t.Fatalf("run %d: training %+v %v", run, tr, err)
			}
		}
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("run %d: exit %d: %s", run, code, errOut.String())
		}
		reused := strings.Count(errOut.String(), "demo: reusing")
		if (run == 0 && reused != 0) || (run == 1 && reused != 3) {
			t.Fatalf("run %d: %d reuse messages:\n%s", run, reused, errOut.String())
		}
		if trains := strings.Count(errOut.String(), "demo: training a model"); trains != 1-run {
			t.Fatalf("run %d: %d training messages:\n%s", run, trains, errOut.String())
		}
	}
}

// browserContext starts headless Chromium (exe) for one test, with a
// 90-second limit on everything the test does in it; it is closed when the
// test ends.
func browserContext(t *testing.T, exe string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1100, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)
	return ctx
}

// logGeneralAgain asks the server three times for the non-personal scores
// of the candidates in list ("id=p,id=p,...") and logs the answers.
func logGeneralAgain(t *testing.T, url, user, list string) {
	t.Helper()
	var cands []api.Candidate
	for _, kv := range strings.Split(list, ",") {
		id, _, _ := strings.Cut(kv, "=")
		cands = append(cands, api.Candidate{ID: id})
	}
	personal := false
	for rep := range 3 {
		r, err := keyedClient(url).Rank(context.Background(), user, api.RankRequest{Candidates: cands, Personal: &personal})
		if err != nil {
			t.Logf("non-personal scores asked again (%d): %v", rep+1, err)
			continue
		}
		var b strings.Builder
		for _, x := range r.Results {
			fmt.Fprintf(&b, "%s=%.6f,", x.ID, x.PLike)
		}
		t.Logf("non-personal scores asked again (%d): %s", rep+1, strings.TrimSuffix(b.String(), ","))
	}
}

// TestBrowserKey opens the page of a server with keys without one: the page
// says, and keeps saying, that a key is needed (it used to show "loading…"
// for ever, its error cleared at once), and loads the people once the key
// is entered.
func TestBrowserKey(t *testing.T) {
	exe := chromium(t)
	t.Setenv("PALATE_WRITE_KEY", "wr1te")
	t.Setenv("PALATE_READ_KEY", "")
	url := startServe(t, "--db", "mem:", "--model", testmodel.Dir(t, 1))
	ctx := browserContext(t, exe)
	wait := waitFor(t, ctx, 20*time.Second, `document.getElementById("error").textContent + " | " + document.getElementById("user-select").textContent`)
	keyNeeded := `!document.getElementById("error").hidden && document.getElementById("error").textContent.includes("this server needs an API key")`
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/#rate")); err != nil {
		t.Fatal(err)
	}
	wait("the key is asked for", keyNeeded)
	if err := chromedp.Do(ctx, chromedp.Sleep(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	wait("the request stays shown", keyNeeded+` && document.getElementById("user-select").textContent === "people could not be loaded"`)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const k = document.getElementById("api-key"); k.value = "wr1te"; k.dispatchEvent(new Event("change")); return "ok"; })()`)); err != nil {
		t.Fatal(err)
	}
	wait("people loaded with the key", `document.getElementById("error").hidden && document.getElementById("user-select").options[0].textContent.startsWith("choose one of")`)
}

// waitFor returns a wait(what, cond) for a browser test: it polls the
// JavaScript condition cond for up to timeout and, when it never holds,
// fails the test with what, the error and the page's state as the
// expression page gives it.
func waitFor(t *testing.T, ctx context.Context, timeout time.Duration, page string) func(what, cond string) {
	return func(what, cond string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(timeout))); err != nil {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](page))
			t.Fatalf("%s: %v (page: %s)", what, err, state)
		}
	}
}
