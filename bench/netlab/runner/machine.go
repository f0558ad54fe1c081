package runner

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Machine describes where the numbers were taken.
type Machine struct {
	CPU        string
	Cores      int
	Kernel     string
	GoVersion  string
	DefaultCC  string // the kernel's default TCP congestion control
	CCs        string // available congestion controls
	LoadAvg    string // /proc/loadavg at the start: other work on the machine
	MemTotal   string
	Hostname   string
	StartedUTC string
	// Commit is the source netlab (and, built with it, vmdt) was built
	// from: the VCS revision Go stamped into the binary, "+modified" if
	// the tree had uncommitted changes, "" if unknown.
	Commit string
}

// DescribeMachine reads the machine's description from /proc and uname.
func DescribeMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), StartedUTC: time.Now().UTC().Format(time.RFC3339)}
	m.CPU = procField("/proc/cpuinfo", "model name")
	m.MemTotal = procField("/proc/meminfo", "MemTotal")
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Machine[:])
	}
	m.DefaultCC = readTrim("/proc/sys/net/ipv4/tcp_congestion_control")
	m.CCs = readTrim("/proc/sys/net/ipv4/tcp_available_congestion_control")
	m.LoadAvg = readTrim("/proc/loadavg")
	m.Hostname, _ = os.Hostname()
	m.Commit = buildCommit()
	return m
}

// buildCommit returns the VCS revision stamped into this binary or, if
// it was built without (GOFLAGS=-buildvcs=false), the revision of the git
// checkout netlab runs in, as make bench runs it.
func buildCommit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return gitCommit()
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return gitCommit()
	}
	if modified == "true" {
		rev += "+modified"
	}
	return rev
}

// gitCommit asks git for the checkout's revision, "" if it cannot.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += "+modified"
	}
	return rev + " (from git at run time)"
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
