package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

func seq(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name   string
		sorted []float64
		p      float64
		want   float64
	}{
		{"1..100 p50", seq(100), 50, 50},
		{"1..100 p90", seq(100), 90, 90},
		{"1..100 p95", seq(100), 95, 95},
		{"1..100 p99", seq(100), 99, 99},
		{"1..100 p100", seq(100), 100, 100},
		{"1..100 p0", seq(100), 0, 1},
		{"1..100 p99.5", seq(100), 99.5, 100},
		{"1..10 p50", seq(10), 50, 5},
		{"1..10 p99", seq(10), 99, 10},
		{"1..10 p1", seq(10), 1, 1},
		{"1..1000 p99.9", seq(1000), 99.9, 999},
		{"single p0", []float64{7}, 0, 7},
		{"single p50", []float64{7}, 50, 7},
		{"single p100", []float64{7}, 100, 7},
		{"empty p50", nil, 50, 0},
		{"empty p100", []float64{}, 100, 0},
		{"p below range", seq(5), -10, 1},
		{"p above range", seq(5), 150, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%s, %v) = %v, want %v", tt.name, tt.p, got, tt.want)
			}
		})
	}
}

func TestYTicks(t *testing.T) {
	tests := []struct {
		lo, hi      float64
		first, last float64
	}{
		{1, 100, 1, 100},
		{3, 70, 2, 100},
		{0.01, 0.01, 0.01, 0.02},
		{10, 10, 10, 20},
		{0.3, 4000, 0.1, 10000}, // >4 decades: powers of ten only
		{0.3, 400, 0.2, 500},
		{0.01, 1e6, 0.01, 1e6},
	}
	for _, tt := range tests {
		got := yTicks(tt.lo, tt.hi)
		if len(got) < 2 || got[0] != tt.first || got[len(got)-1] != tt.last {
			t.Errorf("yTicks(%v, %v) = %v, want %v..%v", tt.lo, tt.hi, got, tt.first, tt.last)
		}
		if got[0] > tt.lo || got[len(got)-1] < tt.hi {
			t.Errorf("yTicks(%v, %v) = %v does not cover data", tt.lo, tt.hi, got)
		}
	}
}

// decodeAll checks that s is well-formed XML.
func decodeAll(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("invalid XML: %v\n%s", err, s)
		}
	}
}

func TestWriteSVG(t *testing.T) {
	tests := []struct {
		name      string
		title     string
		panels    []Panel
		wantCurve int      // expected number of <polyline / <path elements
		wantText  []string // substrings (already escaped) that must appear
	}{
		{
			name:  "two panels, several series",
			title: "Bench run",
			panels: []Panel{
				{Title: "login", Series: []Series{
					{Name: "baseline", Millis: []float64{5, 3, 9, 12, 4, 7, 150}},
					{Name: "with plugin", Millis: []float64{6, 8, 4, 11, 30}},
				}},
				{Title: "post", Series: []Series{
					{Name: "baseline", Millis: seq(1000)},
				}},
			},
			wantCurve: 3,
			wantText:  []string{"Bench run", "login", "post", "baseline", "with plugin"},
		},
		{
			name:  "escaping",
			title: `a <b> & "c"`,
			panels: []Panel{{Title: "t<&>", Series: []Series{
				{Name: "x<&>y", Millis: []float64{1, 2, 3}},
			}}},
			wantCurve: 1,
			wantText:  []string{"a &lt;b&gt; &amp;", "t&lt;&amp;&gt;", "x&lt;&amp;&gt;y"},
		},
		{
			name:  "empty and single-sample series",
			title: "edge",
			panels: []Panel{{Title: "p", Series: []Series{
				{Name: "empty"},
				{Name: "single", Millis: []float64{42}},
				{Name: "zeros", Millis: []float64{0, -1, 0}},
				{Name: "nan", Millis: []float64{math.NaN(), math.Inf(1)}},
			}}},
			wantCurve: 2,
			wantText:  []string{"empty", "single", "zeros", "nan", "no samples"},
		},
		{
			name:      "panel without series",
			title:     "nothing",
			panels:    []Panel{{Title: "blank"}},
			wantCurve: 0,
			wantText:  []string{"nothing", "blank"},
		},
		{
			name:      "no panels",
			title:     "none",
			wantCurve: 0,
			wantText:  []string{"none"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteSVG(&buf, tt.title, tt.panels); err != nil {
				t.Fatalf("WriteSVG: %v", err)
			}
			out := buf.String()
			decodeAll(t, out)
			for _, s := range tt.wantText {
				if !strings.Contains(out, s) {
					t.Errorf("output does not contain %q", s)
				}
			}
			if strings.Contains(out, "<&>") {
				t.Errorf("output contains unescaped <&>")
			}
			if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
				t.Errorf("output contains NaN/Inf coordinates")
			}
			curves := strings.Count(out, "<polyline") + strings.Count(out, "<path")
			if curves != tt.wantCurve {
				t.Errorf("got %d curves, want %d", curves, tt.wantCurve)
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("boom") }

func TestWriteSVGPropagatesError(t *testing.T) {
	if err := WriteSVG(failWriter{}, "t", nil); err == nil {
		t.Fatal("expected write error")
	}
}
