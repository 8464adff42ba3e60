// Command palate learns each person's visual taste for generated images and
// serves it: it builds taste worlds, embeds images, trains the preference
// model and scores, compares and steers. Run `palate help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"palate"
)

// command is one subcommand: its flags are declared on fs by setup, which
// returns the function that runs it.
type command struct {
	name    string
	summary string // one line for `palate help`
	usage   string // arguments after the flags, for `palate help CMD`; "" refuses any
	long    string // paragraphs for `palate help CMD`
	setup   func(fs *flag.FlagSet) func(ctx context.Context, env *Env) error
}

// Env is what a command may touch: its output streams and arguments. Tests
// run commands with their own Env.
type Env struct {
	Stdout, Stderr io.Writer
	Args           []string // positional arguments after the flags
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs palate with args and returns the exit status: 0 success, 1 a
// failure, 2 a usage error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		if len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				fmt.Fprintf(stderr, "palate: unknown command %q\n\n", args[1])
				usage(stderr)
				return 2
			}
			commandUsage(stdout, c)
			return 0
		}
		usage(stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "palate: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("palate "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	run := c.setup(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandUsage(stdout, c)
			return 0
		}
		fmt.Fprintf(stderr, "palate %s: %v\n(see 'palate help %s')\n", c.name, err, c.name)
		return 2
	}
	if c.usage == "" && fs.NArg() > 0 {
		// A command that takes no positional arguments says so, rather
		// than running without the words a user meant as input (a list
		// split by a space instead of a comma, say).
		fmt.Fprintf(stderr, "palate %s: unexpected arguments %q (flags go before them; lists are comma-separated)\n(see 'palate help %s')\n", c.name, fs.Args(), c.name)
		return 2
	}
	env := &Env{Stdout: stdout, Stderr: stderr, Args: fs.Args()}
	if err := run(ctx, env); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "palate %s: %v\n(see 'palate help %s')\n", c.name, err, c.name)
			return 2
		}
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "palate %s: interrupted\n", c.name)
			return 130
		}
		fmt.Fprintf(stderr, "palate %s: %v\n", c.name, err)
		if code := palate.ErrorCode(err); code != palate.EINTERNAL {
			fmt.Fprintf(stderr, "(error code %s)\n", code)
		}
		return 1
	}
	return 0
}

// usageError is a mistake in how the command was called.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// flagMin is a numeric flag's name, value and least allowed value.
type flagMin struct {
	name     string
	val, min int64
}

// atLeast returns a usage error naming the first flag below its least
// allowed value, so that a negative count is refused rather than quietly
// read as "the default".
func atLeast(flags ...flagMin) error {
	for _, f := range flags {
		if f.val < f.min {
			return usagef("--%s %d: want a whole number >= %d", f.name, f.val, f.min)
		}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "palate learns each person's visual taste for generated images.")
	fmt.Fprintln(w, "\nUsage: palate COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'palate help COMMAND' for a command's flags.")
}

func commandUsage(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: palate %s [flags] %s\n\n%s\n", c.name, c.usage, c.summary)
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.long))
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}
