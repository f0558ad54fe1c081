package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid is wrapped by every parse and validation error of this package.
var ErrInvalid = errors.New("netlab config: invalid")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Size is a payload size in bytes. Its text form is a decimal number with
// an optional unit: B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers
// of 1024), e.g. "70800", "64KiB", "1MiB".
type Size int64

// MaxSize bounds payloads to what one process can hold comfortably.
const MaxSize Size = 1 << 30

var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
	{"B", 1},
}

// ParseSize parses the text form of a Size.
func ParseSize(s string) (Size, error) {
	num, mult := strings.TrimSpace(s), 1.0
	for _, u := range sizeUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || v <= 0 || v*mult > float64(MaxSize) {
		return 0, invalid("size %q: want a positive number of bytes up to 1GiB, e.g. 64KiB", s)
	}
	b := Size(math.Round(v * mult))
	if b <= 0 {
		return 0, invalid("size %q rounds to zero bytes", s)
	}
	return b, nil
}

func (s Size) String() string {
	switch {
	case s >= 1<<20 && s%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", s>>20)
	case s >= 1<<10 && s%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", s>>10)
	}
	return fmt.Sprintf("%dB", int64(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	*s = v
	return err
}

// Rate is a link rate in bits per second; 0 means unlimited. Its text form
// is a number followed by bit/s, kbit/s, Mbit/s or Gbit/s (the "/s" may be
// left out; k, M, G are powers of 1000), or "0" / "unlimited".
type Rate float64

// MaxRate is the largest rate accepted (10 Gbit/s), far above what the
// user-space emulator can forward.
const MaxRate Rate = 10e9

// ParseRate parses the text form of a Rate.
func ParseRate(s string) (Rate, error) {
	t := strings.TrimSpace(s)
	if t == "0" || t == "unlimited" {
		return 0, nil
	}
	t = strings.TrimSuffix(t, "/s")
	mult := 0.0
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"kbit", 1e3}, {"Mbit", 1e6}, {"Gbit", 1e9}, {"bit", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if mult == 0 || err != nil || math.IsNaN(v) || v <= 0 || Rate(v*mult) > MaxRate || v*mult < 8000 {
		return 0, invalid("rate %q: want e.g. 20Mbit/s (8kbit/s to 10Gbit/s) or unlimited", s)
	}
	return Rate(v * mult), nil
}

func (r Rate) String() string {
	switch {
	case r == 0:
		return "unlimited"
	case r >= 1e9:
		return strconv.FormatFloat(float64(r)/1e9, 'f', -1, 64) + "Gbit/s"
	case r >= 1e6:
		return strconv.FormatFloat(float64(r)/1e6, 'f', -1, 64) + "Mbit/s"
	case r >= 1e3:
		return strconv.FormatFloat(float64(r)/1e3, 'f', -1, 64) + "kbit/s"
	}
	return strconv.FormatFloat(float64(r), 'f', -1, 64) + "bit/s"
}

// MarshalText implements encoding.TextMarshaler.
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	*r = v
	return err
}

// Duration is a time.Duration written as Go duration text ("20ms", "2m").
type Duration time.Duration

// MaxDuration bounds every configured duration.
const MaxDuration = Duration(24 * time.Hour)

// ParseDuration parses a non-negative duration of at most 24h.
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 || Duration(d) > MaxDuration {
		return 0, invalid("duration %q: want e.g. 20ms, between 0 and 24h", s)
	}
	return Duration(d), nil
}

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	*d = v
	return err
}
