// Package chart draws latency distributions as a self-contained SVG: one
// panel per measurement, each series a percentile curve on a log scale.
package chart

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"sort"
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

// Percentile is the nearest-rank percentile p (0..100) of sorted (ascending);
// 0 for no samples.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

const (
	width   = 900
	panelH  = 320
	left    = 70
	right   = 220
	top     = 40
	bottom  = 50
	minimum = 0.01 // ms: the floor of the log scale
)

var colours = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

// WriteSVG writes the panels stacked vertically under title.
func WriteSVG(w io.Writer, title string, panels []Panel) error {
	bw := bufio.NewWriter(w)
	height := 40 + len(panels)*panelH
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(bw, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(bw, `<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
	for i, p := range panels {
		drawPanel(bw, p, 40+i*panelH)
	}
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

func drawPanel(w *bufio.Writer, p Panel, y0 int) {
	plotW, plotH := width-left-right, panelH-top-bottom
	x0, yTop := left, y0+top
	sorted := make([][]float64, len(p.Series))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, s := range p.Series {
		v := make([]float64, len(s.Millis))
		for j, m := range s.Millis {
			v[j] = math.Max(m, minimum)
		}
		sort.Float64s(v)
		sorted[i] = v
		if len(v) > 0 {
			lo, hi = math.Min(lo, v[0]), math.Max(hi, v[len(v)-1])
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 10
	}
	ticks := logTicks(lo, hi)
	logLo, logHi := math.Log10(ticks[0]), math.Log10(ticks[len(ticks)-1])
	if logHi <= logLo {
		logHi = logLo + 1
	}
	yOf := func(ms float64) float64 {
		return float64(yTop+plotH) - (math.Log10(math.Max(ms, minimum))-logLo)/(logHi-logLo)*float64(plotH)
	}
	xOf := func(pct float64) float64 { return float64(x0) + pct/100*float64(plotW) }

	fmt.Fprintf(w, `<text x="%d" y="%d" font-size="14">%s</text>`+"\n", x0, y0+top-12, html.EscapeString(p.Title))
	fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", x0, yTop, plotW, plotH)
	for _, t := range ticks {
		y := yOf(t)
		fmt.Fprintf(w, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`+"\n", x0, y, x0+plotW, y)
		fmt.Fprintf(w, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", x0-6, y+4, label(t))
	}
	for _, pct := range []float64{0, 50, 90, 95, 99, 100} {
		x := xOf(pct)
		fmt.Fprintf(w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`+"\n", x, yTop, x, yTop+plotH)
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">%g</text>`+"\n", x, yTop+plotH+16, pct)
	}
	fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle">percentile</text>`+"\n", x0+plotW/2, yTop+plotH+36)
	fmt.Fprintf(w, `<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">milliseconds (log)</text>`+"\n", yTop+plotH/2, yTop+plotH/2)

	for i, s := range p.Series {
		colour := colours[i%len(colours)]
		v := sorted[i]
		ly := yTop + 14 + i*34
		fmt.Fprintf(w, `<rect x="%d" y="%d" width="14" height="4" fill="%s"/>`+"\n", x0+plotW+12, ly-4, colour)
		fmt.Fprintf(w, `<text x="%d" y="%d">%s</text>`+"\n", x0+plotW+32, ly, html.EscapeString(s.Name))
		fmt.Fprintf(w, `<text x="%d" y="%d" fill="#555">p50 %s ms, p99 %s ms</text>`+"\n", x0+plotW+32, ly+15, label(Percentile(v, 50)), label(Percentile(v, 99)))
		if len(v) == 0 {
			continue
		}
		fmt.Fprintf(w, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="`, colour)
		steps := min(len(v), 400)
		for k := 0; k <= steps; k++ {
			pct := float64(k) / float64(steps) * 100
			fmt.Fprintf(w, "%.1f,%.1f ", xOf(pct), yOf(Percentile(v, pct)))
		}
		fmt.Fprintln(w, `"/>`)
	}
}

// logTicks are 1-2-5 ticks covering lo..hi.
func logTicks(lo, hi float64) []float64 {
	start := math.Pow(10, math.Floor(math.Log10(lo)))
	var out []float64
	for d := start; ; d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			t := d * m
			if t < lo/5 && len(out) == 0 && m != 1 {
				continue
			}
			out = append(out, t)
			if t >= hi {
				return out
			}
		}
	}
}

func label(v float64) string {
	switch {
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2g", v)
	}
}
