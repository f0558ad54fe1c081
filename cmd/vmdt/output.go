package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// printJSON writes v as one line of JSON.
func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// field is one line of a "key  value" listing; a value with several
// lines continues under the first.
type field struct {
	key   string
	value []string
}

func kv(key string, value ...string) field { return field{key, value} }

// printFields writes fields as aligned "key  value" lines.
func printFields(w io.Writer, fields ...field) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range fields {
		if len(f.value) == 0 {
			fmt.Fprintf(tw, "%s\t-\n", f.key)
			continue
		}
		for i, v := range f.value {
			k := f.key
			if i > 0 {
				k = strings.Repeat(" ", len(k))
			}
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	return tw.Flush()
}
