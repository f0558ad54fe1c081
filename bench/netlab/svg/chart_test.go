package svg

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
)

// parse checks that the document is well-formed XML and returns how many
// elements of each name it holds.
func parse(t *testing.T, doc []byte) map[string]int {
	t.Helper()
	counts := map[string]int{}
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		if se, ok := tok.(xml.StartElement); ok {
			counts[se.Name.Local]++
		}
	}
	return counts
}

func TestChartWritesOneLinePerSeriesAndEscapesText(t *testing.T) {
	c := Chart{
		Title:  "time <vs> loss & more",
		XLabel: "loss %",
		YLabel: "ms",
		LogY:   true,
		Series: []Series{
			{Name: "tcp-cubic", Points: []Point{{0, 100}, {1, 150}, {3, 400}, {6, 2000}}},
			{Name: "kcp \"fec\"", Points: []Point{{0, 80}, {1, 90}, {3, 95}, {6, 120}}},
			{Name: "limit", Dashed: true, Points: []Point{{0, 50}, {6, 50}}},
		},
	}
	var buf bytes.Buffer
	n, err := c.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("WriteTo returned %d, wrote %d", n, buf.Len())
	}
	counts := parse(t, buf.Bytes())
	if counts["svg"] != 1 || counts["polyline"] != 3 {
		t.Errorf("svg=%d polyline=%d, want 1 and 3", counts["svg"], counts["polyline"])
	}
	if counts["circle"] != 8 {
		t.Errorf("markers = %d, want 8 (dashed series has none)", counts["circle"])
	}
	s := buf.String()
	for _, want := range []string{"time &lt;vs&gt; loss &amp; more", "tcp-cubic", "kcp &#34;fec&#34;", "stroke-dasharray"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestChartBreaksLineAtMissingPoints(t *testing.T) {
	c := Chart{LogY: true, Series: []Series{{Name: "s", Points: []Point{
		{0, 1}, {1, 2}, {2, math.Inf(1)}, {3, 4}, {4, 5}, {5, 0}, {6, math.NaN()},
	}}}}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	counts := parse(t, buf.Bytes())
	if counts["polyline"] != 2 || counts["circle"] != 4 {
		t.Errorf("polyline=%d circle=%d, want 2 and 4", counts["polyline"], counts["circle"])
	}
	if strings.Contains(buf.String(), "NaN") || strings.Contains(buf.String(), "Inf") {
		t.Error("non-finite coordinate written")
	}
}

func TestChartWithoutDataIsStillValid(t *testing.T) {
	for _, c := range []Chart{{}, {LogY: true, Series: []Series{{Name: "empty"}}}, {Series: []Series{{Points: []Point{{1, 1}}}}}} {
		var buf bytes.Buffer
		if _, err := c.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		parse(t, buf.Bytes())
		if strings.Contains(buf.String(), "NaN") {
			t.Errorf("NaN in output: %s", buf.String())
		}
	}
	if _, err := (&Chart{Width: 50, Height: 50}).WriteTo(io.Discard); err == nil {
		t.Error("tiny chart accepted")
	}
}

func TestTicksCoverRange(t *testing.T) {
	for _, r := range [][2]float64{{0, 10}, {0, 0.37}, {3, 3}, {-5, 17}, {20, 1e6}} {
		tk := linearTicks(r[0], r[1])
		if len(tk) < 2 || tk[0] > r[0] || tk[len(tk)-1] < r[1] {
			t.Errorf("linearTicks(%v) = %v", r, tk)
		}
	}
	for _, r := range [][2]float64{{3, 3000}, {0.05, 0.07}, {12, 9e5}} {
		tk := logTicks(r[0], r[1])
		if tk[0] > r[0] || tk[len(tk)-1] < r[1] {
			t.Errorf("logTicks(%v) = %v", r, tk)
		}
	}
}

func TestTickLabelsAreRounded(t *testing.T) {
	tk := linearTicks(6, 7)
	for _, v := range tk {
		if l := label(v, tk); len(l) > 4 {
			t.Errorf("label %q for tick %v", l, v)
		}
	}
	if l := label(2.5, []float64{0, 2.5, 5}); l != "2.5" {
		t.Errorf("label(2.5) = %q", l)
	}
	if l := label(40, []float64{0, 20, 40}); l != "40" {
		t.Errorf("label(40) = %q", l)
	}
}

func TestSinglePointSeriesGetMarkersAndEmptyOnesAreLabelled(t *testing.T) {
	c := Chart{Series: []Series{
		{Name: "limit", Dashed: true, Points: []Point{{6, 60}}},
		{Name: "vmdt", Points: []Point{{6, math.NaN()}}},
	}}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if counts := parse(t, buf.Bytes()); counts["circle"] != 1 {
		t.Errorf("circles = %d, want 1 for the single dashed point", counts["circle"])
	}
	if !strings.Contains(buf.String(), "vmdt (no data)") {
		t.Error("empty series not marked in the legend")
	}
}
