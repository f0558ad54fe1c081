package namerec

import (
	"errors"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	good := map[string]string{
		"alice":            "alice",
		"Alice":            "alice",
		"BOB_2-x":          "bob_2-x",
		"a":                "a",
		"0123456789abcdef": "0123456789abcdef",
		"_-_":              "_-_",
	}
	for in, want := range good {
		got, err := NormalizeName(in)
		if err != nil || got != want {
			t.Errorf("NormalizeName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{
		"",
		"0123456789abcdefg", // 17 characters
		"al ice",
		"al.ice",
		"al/ice",
		"\u212aelvin", // Kelvin sign, which Unicode case folding maps to "k"
		"älice",
		"alice\x00",
	}
	for _, in := range bad {
		if got, err := NormalizeName(in); !errors.Is(err, ErrInvalidName) {
			t.Errorf("NormalizeName(%q) = %q, %v; want ErrInvalidName", in, got, err)
		}
	}
}
