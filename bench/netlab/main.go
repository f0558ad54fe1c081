// Command netlab benchmarks VMDT against single-path transports on an
// emulated network it builds itself out of Linux network namespaces and a
// user-space TUN link emulator (see packages lab and emu). It must run as
// root and removes everything it created when it exits, also on Ctrl-C.
//
// Usage:
//
//	netlab run    [-config full|quick|FILE] [-report FILE.md] [-plots DIR] [-json FILE]
//	              [-micro FILE] [-scenarios a,b] [-transports a,b] [-runs N] [-budget D]
//	netlab quick  [-json FILE]     the quick configuration; prints the headline lines
//	netlab report -json FILE -report FILE.md [-plots DIR] [-config full|quick|FILE] [-micro FILE]
//	                               renders saved results again (no root, no network)
//	netlab check                   says whether this machine can run the lab
//
// With -json, run writes the results after every measurement, so an
// interrupted run keeps what it measured; report renders them.
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
	"github.com/vmdt/vmdt/bench/netlab/micro"
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
	case "report":
		err = cmdReport(os.Args[2:])
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
  netlab run    [-config full|quick|FILE] [-report FILE.md] [-plots DIR] [-json FILE]
                [-micro FILE] [-scenarios a,b] [-transports a,b] [-runs N] [-budget D]
  netlab quick  [-json FILE]
  netlab report -json FILE -report FILE.md [-plots DIR] [-config full|quick|FILE] [-micro FILE]
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

func loadMicro(path string) (*micro.Results, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return micro.Parse(f)
}

func cmdRun(args []string, quick bool) error {
	fs := flag.NewFlagSet("netlab", flag.ContinueOnError)
	cfgName := fs.String("config", "full", "built-in configuration (full, quick) or a JSON file")
	reportPath := fs.String("report", "", "write the Markdown report here (e.g. docs/BENCHMARKS.md)")
	plotDir := fs.String("plots", "", "write SVG plots here (default: benchmarks/ beside the report)")
	jsonPath := fs.String("json", "", "write the results (run; after every measurement) or the headlines (quick) as JSON here")
	microPath := fs.String("micro", "", "go test -bench output to include in the report (make bench writes bench/.out/micro.txt)")
	scenarios := fs.String("scenarios", "", "only these scenario ids, comma-separated")
	transports := fs.String("transports", "", "only these transports, comma-separated")
	runs := fs.Int("runs", 0, "override runs per measurement")
	budget := fs.Duration("budget", -1, "override the wall-clock budget per measurement, every scenario's too (0 = none)")
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
	cfg.OverrideRuns(*runs)
	if *budget >= 0 {
		cfg.SetBudget(*budget)
	}
	mic, err := loadMicro(*microPath)
	if err != nil {
		return fmt.Errorf("microbenchmarks: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	o := runner.Options{Config: cfg, ConfigName: *cfgName, Exe: exe, Progress: os.Stdout, Micro: mic}
	if !quick {
		// The headline file of quick is written once, at the end.
		o.Checkpoint = *jsonPath
	}
	rep, err := runner.Run(ctx, o)
	if err != nil {
		if rep != nil && o.Checkpoint != "" && len(rep.Measurements) > 0 {
			fmt.Fprintf(os.Stderr, "netlab: %d measurements saved in %s; render them with: netlab report -json %s -report FILE.md\n",
				len(rep.Measurements), o.Checkpoint, o.Checkpoint)
		}
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
		plots, err := runner.Render(rep, cfg, *reportPath, *plotDir)
		if err != nil {
			return err
		}
		fmt.Printf("report written to %s, %d plots in %s\n", *reportPath, len(plots), plotDirFor(*reportPath, *plotDir))
	}
	if *jsonPath != "" {
		what := "results"
		if quick {
			what = "headline"
			if err := runner.WriteJSON(*jsonPath, h); err != nil {
				return err
			}
		}
		fmt.Printf("%s JSON written to %s\n", what, *jsonPath)
	}
	return nil
}

func plotDirFor(reportPath, plotDir string) string {
	if plotDir != "" {
		return plotDir
	}
	return filepath.Join(filepath.Dir(reportPath), "benchmarks")
}

// cmdReport renders the Markdown report and the plots from a saved
// results file. It needs neither root nor the lab.
func cmdReport(args []string) error {
	fs := flag.NewFlagSet("netlab report", flag.ContinueOnError)
	jsonPath := fs.String("json", "", "results file written by netlab run -json (required)")
	reportPath := fs.String("report", "", "write the Markdown report here (required)")
	plotDir := fs.String("plots", "", "write SVG plots here (default: benchmarks/ beside the report)")
	cfgName := fs.String("config", "", "configuration to render with: full, quick or a JSON file (default: the one saved in the results)")
	microPath := fs.String("micro", "", "go test -bench output to include (default: the microbenchmarks saved in the results)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *jsonPath == "" || *reportPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("report: -json and -report are required")
	}
	rep, err := runner.LoadReport(*jsonPath)
	if err != nil {
		return err
	}
	var cfg *config.Config
	switch {
	case *cfgName != "":
		cfg, err = loadConfig(*cfgName)
	default:
		cfg, err = rep.SavedConfig()
		if err == nil && cfg == nil {
			if rep.ConfigName != "full" && rep.ConfigName != "quick" {
				return fmt.Errorf("report: %s holds no configuration and was run with %q: pass -config", *jsonPath, rep.ConfigName)
			}
			cfg, err = config.Builtin(rep.ConfigName)
		}
	}
	if err != nil {
		return err
	}
	if *microPath != "" {
		if rep.Micro, err = loadMicro(*microPath); err != nil {
			return fmt.Errorf("microbenchmarks: %w", err)
		}
	}
	plots, err := runner.Render(rep, cfg, *reportPath, *plotDir)
	if err != nil {
		return err
	}
	fmt.Printf("report written to %s from %d measurements, %d plots in %s\n", *reportPath, len(rep.Measurements), len(plots), plotDirFor(*reportPath, *plotDir))
	if rep.Incomplete != "" {
		fmt.Printf("note: the results are incomplete (%s)\n", rep.Incomplete)
	}
	return nil
}
