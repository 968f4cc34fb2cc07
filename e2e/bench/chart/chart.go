// Package chart renders latency distributions as self-contained SVG files
// using only the standard library.
package chart

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Series is one latency distribution.
type Series struct {
	Name   string
	Millis []float64 // one sample per operation, unsorted
}

// Panel is one chart: a title and the series drawn in it.
type Panel struct {
	Title  string
	Series []Series
}

// Layout constants (pixels).
const (
	width        = 900.0
	headerHeight = 40.0 // document title band
	panelHeight  = 320.0
	footer       = 10.0

	plotLeft   = 70.0  // room for y tick labels and y axis label
	plotRight  = 660.0 // legend lives to the right of this
	plotTop    = 34.0  // relative to panel top; room for the panel title
	plotBottom = 272.0 // relative to panel top; room for x ticks and label
	legendX    = 680.0

	minMillis    = 0.01 // values <= 0 are clamped to this for the log scale
	curvePoints  = 1000 // percentile resolution of each curve (steps of 0.1)
	maxNameRunes = 30
)

var palette = []string{
	"#1f77b4", // blue
	"#d62728", // red
	"#2ca02c", // green
	"#ff7f0e", // orange
	"#9467bd", // purple
	"#8c564b", // brown
	"#e377c2", // pink
	"#17becf", // cyan
	"#7f7f7f", // grey
	"#bcbd22", // olive
}

// xTicks are the labelled percentiles on the x axis.
var xTicks = []float64{0, 50, 90, 95, 99}

// Percentile returns the nearest-rank p-th percentile (p in 0..100) of sorted,
// which must be sorted ascending. It returns 0 for an empty slice.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if math.IsNaN(p) || p <= 0 {
		return sorted[0]
	}
	if p >= 100 {
		return sorted[n-1]
	}
	// Multiply before dividing so that exact ranks (e.g. 99*100/100) stay exact.
	rank := int(math.Ceil(p*float64(n)/100 - 1e-9))
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	return sorted[rank-1]
}

// WriteSVG writes a self-contained SVG with one panel per element of panels,
// stacked vertically, each showing the latency distribution of each series as
// a percentile curve (x axis: percentile 0..100 with ticks at 50, 90, 95, 99;
// y axis: milliseconds, logarithmic scale with labelled ticks 1,2,5,10,20,50,100,...,
// chosen to cover the data), one colour per series, a legend with the name and
// the p50/p99 of each series, axis labels, and the panel title.
func WriteSVG(w io.Writer, title string, panels []Panel) error {
	var b strings.Builder
	height := headerHeight + float64(len(panels))*panelHeight + footer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="Helvetica, Arial, sans-serif">
`, num(width), num(height), num(width), num(height))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%s" height="%s" fill="#ffffff"/>
`, num(width), num(height))
	fmt.Fprintf(&b, `<text x="%s" y="26" font-size="18" font-weight="bold" text-anchor="middle" fill="#222">%s</text>
`, num(width/2), esc(title))
	for i, p := range panels {
		writePanel(&b, headerHeight+float64(i)*panelHeight, p)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// prepared is a series with its finite samples sorted ascending.
type prepared struct {
	name   string
	sorted []float64
	color  string
}

func prepare(series []Series) []prepared {
	out := make([]prepared, len(series))
	for i, s := range series {
		vals := make([]float64, 0, len(s.Millis))
		for _, v := range s.Millis {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			vals = append(vals, v)
		}
		sort.Float64s(vals)
		out[i] = prepared{name: s.Name, sorted: vals, color: palette[i%len(palette)]}
	}
	return out
}

func clamp(v float64) float64 {
	if v <= minMillis {
		return minMillis
	}
	return v
}

func writePanel(b *strings.Builder, top float64, p Panel) {
	series := prepare(p.Series)
	x0, x1 := plotLeft, plotRight
	y0, y1 := top+plotTop, top+plotBottom // y0 is the top edge, y1 the bottom edge

	// Data range across all series of the panel.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		if len(s.sorted) == 0 {
			continue
		}
		lo = math.Min(lo, clamp(s.sorted[0]))
		hi = math.Max(hi, clamp(s.sorted[len(s.sorted)-1]))
	}
	if math.IsInf(lo, 1) { // no data at all
		lo, hi = 1, 100
	}
	ticks := yTicks(lo, hi)
	ylo, yhi := ticks[0], ticks[len(ticks)-1]
	llo, lhi := math.Log10(ylo), math.Log10(yhi)
	xpos := func(pct float64) float64 { return x0 + (x1-x0)*pct/100 }
	ypos := func(ms float64) float64 {
		return y1 - (y1-y0)*(math.Log10(clamp(ms))-llo)/(lhi-llo)
	}

	b.WriteString("<g>\n")
	// Panel title.
	fmt.Fprintf(b, `<text x="%s" y="%s" font-size="14" font-weight="bold" fill="#222">%s</text>
`, num(x0), num(top+20), esc(p.Title))
	// Plot background and frame.
	fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" fill="#fafafa" stroke="#999" stroke-width="1"/>
`, num(x0), num(y0), num(x1-x0), num(y1-y0))

	// Y grid, ticks and labels.
	for _, t := range ticks {
		y := ypos(t)
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e0e0e0" stroke-width="1"/>
`, num(x0), num(y), num(x1), num(y))
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999" stroke-width="1"/>
`, num(x0-4), num(y), num(x0), num(y))
		fmt.Fprintf(b, `<text x="%s" y="%s" font-size="11" text-anchor="end" fill="#444">%s</text>
`, num(x0-7), num(y+4), tickLabel(t))
	}
	// X grid, ticks and labels.
	for _, t := range xTicks {
		x := xpos(t)
		if t > 0 {
			fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e0e0e0" stroke-width="1"/>
`, num(x), num(y0), num(x), num(y1))
		}
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999" stroke-width="1"/>
`, num(x), num(y1), num(x), num(y1+4))
		fmt.Fprintf(b, `<text x="%s" y="%s" font-size="11" text-anchor="middle" fill="#444">%s</text>
`, num(x), num(y1+16), strconv.FormatFloat(t, 'f', -1, 64))
	}
	// Axis labels.
	fmt.Fprintf(b, `<text x="%s" y="%s" font-size="12" text-anchor="middle" fill="#222">percentile</text>
`, num((x0+x1)/2), num(y1+34))
	cy := (y0 + y1) / 2
	fmt.Fprintf(b, `<text x="18" y="%s" font-size="12" text-anchor="middle" fill="#222" transform="rotate(-90 18 %s)">latency (ms, log scale)</text>
`, num(cy), num(cy))

	// Curves.
	for _, s := range series {
		if len(s.sorted) == 0 {
			continue
		}
		var pts strings.Builder
		for k := 0; k <= curvePoints; k++ {
			pct := 100 * float64(k) / curvePoints
			if k > 0 {
				pts.WriteByte(' ')
			}
			pts.WriteString(num(xpos(pct)))
			pts.WriteByte(',')
			pts.WriteString(num(ypos(Percentile(s.sorted, pct))))
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.8" stroke-linejoin="round" points="%s"/>
`, s.color, pts.String())
	}

	// Legend.
	ly := y0 + 4
	for _, s := range series {
		name := s.name
		if utf8.RuneCountInString(name) > maxNameRunes {
			r := []rune(name)
			name = string(r[:maxNameRunes-1]) + "…"
		}
		var stats string
		if len(s.sorted) == 0 {
			stats = "no samples"
		} else {
			stats = fmt.Sprintf("p50 %s · p99 %s ms · n=%d",
				fmtMs(Percentile(s.sorted, 50)), fmtMs(Percentile(s.sorted, 99)), len(s.sorted))
		}
		fmt.Fprintf(b, `<g><title>%s</title>
<rect x="%s" y="%s" width="14" height="4" fill="%s"/>
<text x="%s" y="%s" font-size="12" fill="#222">%s</text>
<text x="%s" y="%s" font-size="10.5" fill="#555">%s</text></g>
`, esc(s.name), num(legendX), num(ly+4), s.color,
			num(legendX+20), num(ly+10), esc(name),
			num(legendX+20), num(ly+24), esc(stats))
		ly += 34
	}
	b.WriteString("</g>\n")
}

// yTicks returns ascending 1-2-5 tick values covering [lo, hi] (both > 0).
// When the range spans many decades only powers of ten are used.
func yTicks(lo, hi float64) []float64 {
	elo := int(math.Floor(math.Log10(lo)))
	ehi := int(math.Ceil(math.Log10(hi)))
	if ehi <= elo {
		ehi = elo + 1
	}
	mants := []int{1, 2, 5}
	step := 1
	if ehi-elo > 4 {
		mants = []int{1}
		step = (ehi - elo + 7) / 8 // at most ~8 labelled decades
	}
	var all []float64
	for e := elo; ; e += step {
		for _, m := range mants {
			v, _ := strconv.ParseFloat(fmt.Sprintf("%de%d", m, e), 64)
			all = append(all, v)
		}
		if e >= ehi {
			break
		}
	}
	// Trim to the smallest tick <= lo and the largest tick >= hi.
	first, last := 0, len(all)-1
	for i, v := range all {
		if v <= lo {
			first = i
		}
	}
	for i := len(all) - 1; i >= 0; i-- {
		if all[i] >= hi {
			last = i
		}
	}
	if last <= first { // degenerate: lo == hi exactly on a tick
		if last < len(all)-1 {
			last = first + 1
		} else {
			first = last - 1
		}
	}
	return all[first : last+1]
}

func tickLabel(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// fmtMs formats a latency with about three significant digits.
func fmtMs(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// num formats a coordinate compactly.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// esc escapes s for use as XML character data or attribute value.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
