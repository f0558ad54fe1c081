package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vmdt/vmdt/bench/netlab/config"
	"github.com/vmdt/vmdt/internal/atomicfile"
)

// ErrBadResults is wrapped by LoadReport's errors for a file that is not
// a netlab results file.
var ErrBadResults = errors.New("runner: not a netlab results file")

// Render writes the SVG plots into plotDir and the Markdown report to
// reportPath, each file atomically. It touches no network and needs no
// privileges. plotDir "" means benchmarks/ beside the report.
func Render(rep *Report, cfg *config.Config, reportPath, plotDir string) ([]Plot, error) {
	if plotDir == "" {
		plotDir = filepath.Join(filepath.Dir(reportPath), "benchmarks")
	}
	plots, err := WritePlots(rep, cfg, plotDir)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(filepath.Dir(reportPath), plotDir)
	if err != nil {
		rel = plotDir
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, rep, cfg, plots, rel); err != nil {
		return nil, err
	}
	return plots, writeFileAtomic(reportPath, md.Bytes())
}

// WriteJSON writes v as indented JSON to path, creating its directory; the
// file is replaced atomically, so a reader (or a crash) never sees half of it.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// LoadReport reads a results file written by `netlab run -json`.
func LoadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rep, err := ParseReport(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rep, nil
}

// ParseReport decodes a results file. It checks the structure the
// renderers rely on, not the numbers: a hand-edited file renders as
// edited.
func ParseReport(b []byte) (*Report, error) {
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResults, err)
	}
	if rep.Started.IsZero() || rep.Machine.GoVersion == "" {
		return nil, fmt.Errorf("%w: no run description (a headline file from netlab quick?)", ErrBadResults)
	}
	for i, m := range rep.Measurements {
		if m == nil {
			return nil, fmt.Errorf("%w: measurement %d is null", ErrBadResults, i)
		}
	}
	return &rep, nil
}

// SavedConfig returns the configuration stored in a report, validated
// again, or nil if the report has none (results written before netlab
// stored it).
func (rep *Report) SavedConfig() (*config.Config, error) {
	if rep.Config == nil {
		return nil, nil
	}
	b, err := json.Marshal(rep.Config)
	if err != nil {
		return nil, err
	}
	return config.Parse(b)
}

// writeFileAtomic writes data to a temporary file beside path, syncs it
// and renames it over path (readable by all, as docs are), creating the
// directory if need be.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(dir, filepath.Base(path), "."+filepath.Base(path)+".tmp-*", data); err != nil {
		return err
	}
	return os.Chmod(path, 0o644)
}
