package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/vmdt/vmdt/node"
)

// errHelp reports that -h was asked for and the usage was printed.
var errHelp = flag.ErrHelp

// usageError is a bad command line; it exits with exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// stringList is a repeatable string flag: --listen a --listen b.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// newFlagSet returns a flag set that reports errors instead of printing
// usage and exiting.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// cmdFlags is a subcommand's flag set with the flags every command has.
type cmdFlags struct {
	*flag.FlagSet
	e        *env
	synopsis string
	repo     string
	json     bool
}

// newCmdFlags returns a flag set for a subcommand; withJSON adds --json.
func newCmdFlags(e *env, name, synopsis string, withJSON bool) *cmdFlags {
	f := &cmdFlags{FlagSet: newFlagSet("vmdt " + name), e: e, synopsis: synopsis}
	f.StringVar(&f.repo, "repo", e.repo, "repository directory (default $VMDT_REPO, else ~/.vmdt)")
	if withJSON {
		f.BoolVar(&f.json, "json", false, "print JSON")
	}
	return f
}

// parse parses args, allowing flags after positional arguments, and
// checks the number of positional arguments. On -h it prints the usage.
func (f *cmdFlags) parse(args []string, minArgs, maxArgs int) ([]string, error) {
	var pos, rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printUsage()
				return nil, errHelp
			}
			return nil, &usageError{msg: err.Error() + " (see " + f.Name() + " -h)"}
		}
		args = f.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	pos = append(pos, rest...)
	if len(pos) < minArgs || len(pos) > maxArgs {
		return nil, usageErrorf("usage: %s", f.synopsis)
	}
	return pos, nil
}

func (f *cmdFlags) printUsage() {
	w := f.e.stdout
	fmt.Fprintf(w, "Usage: %s\n\nFlags:\n", f.synopsis)
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// repoDir returns the repository directory the flags name.
func (f *cmdFlags) repoDir() (string, error) {
	if f.repo != "" {
		return f.repo, nil
	}
	return node.DefaultRepoDir()
}

// oneLine flattens a message to a single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
