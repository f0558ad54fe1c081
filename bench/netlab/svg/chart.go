// Package svg draws simple line charts as standalone SVG documents, written
// directly as text so the benchmark report needs no plotting library.
//
// A Chart holds named series of (x, y) points. WriteTo scales them into a
// fixed-size plot area with ticked axes (linear, or logarithmic on y),
// draws one polyline with point markers per series and a legend. Points
// whose coordinates are NaN or infinite (for example a transfer that timed
// out) are left out, which breaks the line there.
package svg

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Point is one (x, y) sample.
type Point struct{ X, Y float64 }

// Series is one line on the chart.
type Series struct {
	Name   string
	Points []Point
	Dashed bool // for reference lines such as a physical limit
}

// Chart is a line chart. Zero Width/Height mean 720x420.
type Chart struct {
	Title          string
	XLabel, YLabel string
	LogY           bool
	Width, Height  int
	Series         []Series
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf", "#bcbd22"}

const (
	marginLeft   = 70
	marginRight  = 190
	marginTop    = 40
	marginBottom = 55
)

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// bounds returns the data range over all drawable points.
func (c *Chart) bounds() (x0, x1, y0, y1 float64, ok bool) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, s := range c.Series {
		for _, p := range s.Points {
			if !c.drawable(p) {
				continue
			}
			x0, x1 = math.Min(x0, p.X), math.Max(x1, p.X)
			y0, y1 = math.Min(y0, p.Y), math.Max(y1, p.Y)
			ok = true
		}
	}
	return
}

func (c *Chart) drawable(p Point) bool {
	return finite(p.X) && finite(p.Y) && (!c.LogY || p.Y > 0)
}

// WriteTo writes the chart as an SVG document.
func (c *Chart) WriteTo(w io.Writer) (int64, error) {
	width, height := c.Width, c.Height
	if width <= 0 || height <= 0 {
		width, height = 720, 420
	}
	pw := float64(width - marginLeft - marginRight)
	ph := float64(height - marginTop - marginBottom)
	if pw < 10 || ph < 10 {
		return 0, fmt.Errorf("svg: chart %dx%d too small", width, height)
	}

	x0, x1, y0, y1, ok := c.bounds()
	if !ok {
		x0, x1, y0, y1 = 0, 1, 1, 10
	}
	if x0 == x1 { // one x value: centre it
		x0, x1 = x0-1, x1+1
	}
	xt := linearTicks(x0, x1)
	x0, x1 = math.Min(x0, xt[0]), math.Max(x1, xt[len(xt)-1])
	var yt []float64
	if c.LogY {
		yt = logTicks(y0, y1)
	} else {
		yt = linearTicks(math.Min(0, y0), y1)
	}
	y0, y1 = math.Min(y0, yt[0]), math.Max(y1, yt[len(yt)-1])
	if x1 == x0 {
		x1 = x0 + 1
	}
	sx := func(v float64) float64 { return marginLeft + (v-x0)/(x1-x0)*pw }
	sy := func(v float64) float64 {
		if c.LogY {
			return marginTop + ph - (math.Log10(v)-math.Log10(y0))/(math.Log10(y1)-math.Log10(y0))*ph
		}
		return marginTop + ph - (v-y0)/(y1-y0)*ph
	}
	if c.LogY && y1 == y0 {
		y1 = y0 * 10
	} else if y1 == y0 {
		y1 = y0 + 1
	}

	cw := &countingWriter{w: bufio.NewWriter(w)}
	p := func(format string, a ...any) { fmt.Fprintf(cw, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	p(`<rect x="0" y="0" width="%d" height="%d" fill="white"/>`+"\n", width, height)
	p(`<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", marginLeft, esc(c.Title))

	// Grid and ticks.
	for _, v := range xt {
		x := sx(v)
		p(`<line x1="%s" y1="%d" x2="%s" y2="%s" stroke="#ddd"/>`+"\n", f(x), marginTop, f(x), f(marginTop+ph))
		p(`<text x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", f(x), f(marginTop+ph+16), esc(label(v, xt)))
	}
	for _, v := range yt {
		y := sy(v)
		p(`<line x1="%d" y1="%s" x2="%s" y2="%s" stroke="#ddd"/>`+"\n", marginLeft, f(y), f(marginLeft+pw), f(y))
		p(`<text x="%d" y="%s" text-anchor="end">%s</text>`+"\n", marginLeft-6, f(y+4), esc(label(v, yt)))
	}
	p(`<rect x="%d" y="%d" width="%s" height="%s" fill="none" stroke="#333"/>`+"\n", marginLeft, marginTop, f(pw), f(ph))
	p(`<text x="%s" y="%d" text-anchor="middle">%s</text>`+"\n", f(marginLeft+pw/2), height-12, esc(c.XLabel))
	p(`<text x="16" y="%s" text-anchor="middle" transform="rotate(-90 16 %s)">%s</text>`+"\n", f(marginTop+ph/2), f(marginTop+ph/2), esc(c.YLabel))

	// Series.
	for i, s := range c.Series {
		color := palette[i%len(palette)]
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		var seg []string
		flush := func() {
			if len(seg) > 1 {
				p(`<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", color, dash, strings.Join(seg, " "))
			}
			seg = seg[:0]
		}
		drawn := 0
		for _, pt := range s.Points {
			if c.drawable(pt) {
				drawn++
			}
		}
		for _, pt := range s.Points {
			if !c.drawable(pt) {
				flush()
				continue
			}
			seg = append(seg, f(sx(pt.X))+","+f(sy(pt.Y)))
			if !s.Dashed || drawn == 1 {
				p(`<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", f(sx(pt.X)), f(sy(pt.Y)), color)
			}
		}
		flush()
		ly := marginTop + 10 + i*18
		lx := width - marginRight + 12
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", lx, ly, lx+22, ly, color, dash)
		name := s.Name
		if drawn == 0 {
			name += " (no data)"
		}
		p(`<text x="%d" y="%d">%s</text>`+"\n", lx+28, ly+4, esc(name))
	}
	if !ok {
		p(`<text x="%s" y="%s" text-anchor="middle" fill="#888">no data</text>`+"\n", f(marginLeft+pw/2), f(marginTop+ph/2))
	}
	p("</svg>\n")
	if err := cw.w.(*bufio.Writer).Flush(); err != nil && cw.err == nil {
		cw.err = err
	}
	return cw.n, cw.err
}

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
	return n, err
}

func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// label formats a tick value with the fewest decimals (at most 6) that
// show every tick of its axis exactly.
func label(v float64, ticks []float64) string {
	if v != 0 && (math.Abs(v) >= 1e6 || math.Abs(v) < 1e-3) {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	decimals := 0
	for ; decimals < 6; decimals++ {
		scale, exact := math.Pow(10, float64(decimals)), true
		for _, t := range append([]float64{v}, ticks...) {
			if math.Abs(t*scale-math.Round(t*scale)) > 1e-6*math.Max(1, math.Abs(t*scale)) {
				exact = false
				break
			}
		}
		if exact {
			break
		}
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// linearTicks returns 2 to about 8 evenly spaced "nice" tick values (steps
// of 1, 2 or 5 times a power of ten) that cover [lo, hi].
func linearTicks(lo, hi float64) []float64 {
	if hi < lo {
		lo, hi = hi, lo
	}
	if hi == lo {
		hi = lo + 1
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	start := math.Floor(lo/step) * step
	var t []float64
	for v := start; v < hi+step*0.999 && len(t) < 20; v += step {
		t = append(t, math.Round(v/step)*step)
	}
	if len(t) < 2 {
		t = append(t, start+step)
	}
	return t
}

// logTicks returns powers of ten covering [lo, hi] (both > 0), with 2 and 5
// multiples added when the range spans fewer than three decades.
func logTicks(lo, hi float64) []float64 {
	if !(lo > 0) || !(hi > 0) {
		return []float64{1, 10}
	}
	a := math.Floor(math.Log10(lo))
	b := math.Ceil(math.Log10(hi))
	if b == a {
		b = a + 1
	}
	mults := []float64{1}
	if b-a < 3 {
		mults = []float64{1, 2, 5}
	}
	var t []float64
	for e := a; e <= b && len(t) < 40; e++ {
		for _, m := range mults {
			v := m * math.Pow(10, e)
			if e == b && m > 1 {
				break
			}
			t = append(t, v)
		}
	}
	return t
}
