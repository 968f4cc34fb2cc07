package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestPercentile(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(i + 1)
	}
	tests := []struct {
		name   string
		sorted []float64
		p      float64
		want   float64
	}{
		{"p50 of 1..100", hundred, 50, 50},
		{"p99 of 1..100", hundred, 99, 99},
		{"p100 of 1..100", hundred, 100, 100},
		{"p0 is the smallest", hundred, 0, 1},
		{"single sample", []float64{7}, 99, 7},
		{"empty", nil, 50, 0},
	}
	for _, tc := range tests {
		if got := Percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestWriteSVG(t *testing.T) {
	var buf bytes.Buffer
	panels := []Panel{
		{Title: "Zulip 0 ms", Series: []Series{{Name: "baseline", Millis: []float64{4, 3, 5, 9}}, {Name: "plugin <&>", Millis: []float64{6, 0, 12}}}},
		{Title: "empty & single", Series: []Series{{Name: "none"}, {Name: "one", Millis: []float64{2}}}},
	}
	if err := WriteSVG(&buf, "Latency <test>", panels); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	dec := xml.NewDecoder(strings.NewReader(out))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not valid XML: %v\n%s", err, out)
		}
	}
	for _, want := range []string{"Latency &lt;test&gt;", "plugin &lt;&amp;&gt;", "baseline", "Zulip 0 ms", "empty &amp; single"} {
		if !strings.Contains(out, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if n := strings.Count(out, "<polyline"); n != 3 {
		t.Errorf("%d curves, want 3 (one per non-empty series)", n)
	}
}
