// Command netlab benchmarks VMDT against single-path transports on an
// emulated network it builds itself out of Linux network namespaces and a
// user-space TUN link emulator (see packages lab and emu). It must run as
// root and removes everything it created when it exits, also on Ctrl-C.
//
// Usage:
//
//	netlab run   [-config full|quick|FILE] [-report FILE.md] [-plots DIR] [-json FILE]
//	             [-scenarios a,b] [-transports a,b] [-runs N] [-budget D]
//	netlab quick [-json FILE]     the quick configuration; prints the headline lines
//	netlab check                  says whether this machine can run the lab
//
// "make bench" and "make bench-quick" at the repository root run it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/agent"
	"github.com/vmdt/vmdt/bench/netlab/config"
	"github.com/vmdt/vmdt/bench/netlab/lab"
	"github.com/vmdt/vmdt/bench/netlab/runner"
	"github.com/vmdt/vmdt/bench/netlab/transport"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == transport.AgentCommand {
		os.Exit(agent.Main(os.Args[2:]))
	}
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = cmdRun(os.Args[2:], false)
	case "quick":
		err = cmdRun(os.Args[2:], true)
	case "check":
		err = cmdCheck()
	default:
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "netlab:", err)
		if errors.Is(err, context.Canceled) {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  netlab run   [-config full|quick|FILE] [-report FILE.md] [-plots DIR] [-json FILE]
               [-scenarios a,b] [-transports a,b] [-runs N] [-budget D]
  netlab quick [-json FILE]
  netlab check`)
}

func cmdCheck() error {
	if err := lab.Check(); err != nil {
		return err
	}
	m := runner.DescribeMachine()
	fmt.Printf("ok: root, iproute2 and /dev/net/tun present\nkernel %s, default TCP congestion control %s, available: %s\ntransports: %s\n",
		m.Kernel, m.DefaultCC, m.CCs, strings.Join(transport.Names(), ", "))
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func loadConfig(name string) (*config.Config, error) {
	if name == "full" || name == "quick" {
		return config.Builtin(name)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return config.Parse(b)
}

func cmdRun(args []string, quick bool) error {
	fs := flag.NewFlagSet("netlab", flag.ContinueOnError)
	cfgName := fs.String("config", "full", "built-in configuration (full, quick) or a JSON file")
	reportPath := fs.String("report", "", "write the Markdown report here (e.g. docs/BENCHMARKS.md)")
	plotDir := fs.String("plots", "", "write SVG plots here (default: benchmarks/ beside the report)")
	jsonPath := fs.String("json", "", "write the results (run) or the headlines (quick) as JSON here")
	scenarios := fs.String("scenarios", "", "only these scenario ids, comma-separated")
	transports := fs.String("transports", "", "only these transports, comma-separated")
	runs := fs.Int("runs", 0, "override runs per measurement")
	budget := fs.Duration("budget", -1, "override the wall-clock budget per measurement (0 = none)")
	if quick {
		*cfgName = "quick"
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := lab.Check(); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgName)
	if err != nil {
		return err
	}
	if ids := splitList(*scenarios); len(ids) > 0 {
		cfg.Scenarios = slices.DeleteFunc(cfg.Scenarios, func(s config.Scenario) bool { return !slices.Contains(ids, s.ID) })
		if len(cfg.Scenarios) == 0 {
			return fmt.Errorf("no scenario matches %q", *scenarios)
		}
	}
	if t := splitList(*transports); len(t) > 0 {
		cfg.Transports = t
	}
	if *runs > 0 {
		cfg.Runs, cfg.MinRuns = *runs, min(cfg.MinRuns, *runs)
		for i := range cfg.Scenarios {
			cfg.Scenarios[i].Runs = min(cfg.Scenarios[i].Runs, *runs)
		}
	}
	if *budget >= 0 {
		cfg.Budget = config.Duration(*budget)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	rep, err := runner.Run(ctx, runner.Options{Config: cfg, ConfigName: *cfgName, Exe: exe, Progress: os.Stdout})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted; the lab was removed: %w", context.Canceled)
		}
		return err
	}
	fmt.Printf("finished in %v\n", time.Since(start).Round(time.Second))

	h := runner.ComputeHeadlines(rep)
	fmt.Println("== headlines")
	h.Print(os.Stdout)
	if *reportPath != "" {
		dir := *plotDir
		if dir == "" {
			dir = filepath.Join(filepath.Dir(*reportPath), "benchmarks")
		}
		plots, err := runner.WritePlots(rep, cfg, dir)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(filepath.Dir(*reportPath), dir)
		if err != nil {
			rel = dir
		}
		f, err := os.Create(*reportPath)
		if err != nil {
			return err
		}
		if err := runner.WriteMarkdown(f, rep, cfg, plots, rel); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Printf("report written to %s, %d plots in %s\n", *reportPath, len(plots), dir)
	}
	if *jsonPath != "" {
		var v any = rep
		if quick {
			v = h
		}
		if err := runner.WriteJSON(*jsonPath, v); err != nil {
			return err
		}
		what := "results"
		if quick {
			what = "headline"
		}
		fmt.Printf("%s JSON written to %s\n", what, *jsonPath)
	}
	return nil
}
