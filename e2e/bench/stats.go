package bench

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/bench/chart"
)

// dist summarises one set of latencies.
type dist struct {
	N                  int
	P50, P95, P99, Max float64 // milliseconds
}

func summarise(ms []float64) dist {
	s := append([]float64(nil), ms...)
	sort.Float64s(s)
	d := dist{N: len(s)}
	if len(s) == 0 {
		return d
	}
	d.P50 = chart.Percentile(s, 50)
	d.P95 = chart.Percentile(s, 95)
	d.P99 = chart.Percentile(s, 99)
	d.Max = s[len(s)-1]
	return d
}

// metric is one line of the summary: a figure and, if it has one, its
// target.
type metric struct {
	Name   string
	Value  float64
	Unit   string
	Target string // e.g. "<= 5"; empty when there is none
	Met    bool
}

func (m metric) String() string {
	v := strconv.FormatFloat(m.Value, 'f', 2, 64)
	if m.Target == "" {
		return fmt.Sprintf("%-58s %12s %-6s", m.Name, v, m.Unit)
	}
	ok := "met"
	if !m.Met {
		ok = "MISSED"
	}
	return fmt.Sprintf("%-58s %12s %-6s target %-8s %s", m.Name, v, m.Unit, m.Target, ok)
}

func atMost(name string, v float64, unit string, limit float64) metric {
	return metric{Name: name, Value: v, Unit: unit, Target: "<= " + strconv.FormatFloat(limit, 'f', -1, 64), Met: v <= limit}
}

func atLeast(name string, v float64, unit string, limit float64) metric {
	return metric{Name: name, Value: v, Unit: unit, Target: ">= " + strconv.FormatFloat(limit, 'f', -1, 64), Met: v >= limit}
}

func info(name string, v float64, unit string) metric {
	return metric{Name: name, Value: v, Unit: unit}
}

// sample is one timed change, for the CSV.
type sample struct {
	Phase string
	Path  string
	Seq   int
	Ms    float64
	Err   string
}

func writeSamples(dir string, samples []sample) error {
	return writeCSV(filepath.Join(dir, "latency.csv"), []string{"phase", "path", "seq", "ms", "error"}, func(w *csv.Writer) error {
		for _, s := range samples {
			if err := w.Write([]string{s.Phase, s.Path, strconv.Itoa(s.Seq), strconv.FormatFloat(s.Ms, 'f', 3, 64), s.Err}); err != nil {
				return err
			}
		}
		return nil
	})
}

func writeMetrics(dir string, ms []metric) error {
	return writeCSV(filepath.Join(dir, "summary.csv"), []string{"metric", "value", "unit", "target", "met"}, func(w *csv.Writer) error {
		for _, m := range ms {
			met := ""
			if m.Target != "" {
				met = strconv.FormatBool(m.Met)
			}
			if err := w.Write([]string{m.Name, strconv.FormatFloat(m.Value, 'f', 3, 64), m.Unit, m.Target, met}); err != nil {
				return err
			}
		}
		return nil
	})
}

func writeCSV(path string, header []string, rows func(*csv.Writer) error) error {
	f, err := os.Create(path) //nolint:gosec // a file in the results directory
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if err := w.Write(header); err != nil {
		f.Close()
		return err
	}
	if err := rows(w); err != nil {
		f.Close()
		return err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
