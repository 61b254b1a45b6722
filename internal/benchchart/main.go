// Command benchchart draws the chart of docs/benchmarks.md from the CSV that
// `verifyfn bench --sweep ... --csv FILE` writes: achieved requests/s (top)
// and p99 latency (bottom, log scale) against offered requests/s, one line
// per server and store (the full stack on each store, and the bare-envelope
// ceiling). With -kind pumping it draws the chart of docs/fraud.md from the
// CSV of `verifyfn bench --mix pumping --csv FILE` instead: the attack's
// sends delivered and refused, and the real traffic refused, over simulated
// time.
//
//	go run ./internal/benchchart -in docs/benchmarks.csv[,more.csv] -out docs/benchmarks.png
//	go run ./internal/benchchart -kind pumping -in docs/fraud.csv -out docs/fraud.png
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchchart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "docs/benchmarks.csv", "comma-separated CSV files written by verifyfn bench --csv")
	out := fs.String("out", "docs/benchmarks.png", "PNG to write")
	title := fs.String("title", "verifyfn SendVerifyCode, in-process on loopback", "chart title")
	kind := fs.String("kind", "sweep", "sweep (verifyfn bench --sweep --csv) or pumping (verifyfn bench --mix pumping --csv)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *kind == "pumping" {
		return runPumping(*in, *out, *title, stderr)
	}
	var all []Series
	for path := range strings.SplitSeq(*in, ",") {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(stderr, "benchchart: %v\n", err)
			return 1
		}
		s, err := ReadCSV(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "benchchart: %s: %v\n", path, err)
			return 1
		}
		all = merge(all, s)
	}
	img := Draw(*title, all)
	f, err := os.Create(*out)
	if err == nil {
		err = png.Encode(f, img)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "benchchart: %v\n", err)
		return 1
	}
	return 0
}

// Point is one phase of a sweep.
type Point struct {
	Offered, Achieved, P99 float64 // requests/s, requests/s, milliseconds
}

// Series is one line: a server on a store.
type Series struct {
	Name   string
	Points []Point // by offered rate
}

// ReadCSV reads the harness CSV into one series per server and store,
// skipping flat-out rows (offered 0).
func ReadCSV(r io.Reader) ([]Series, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) < 2 {
		return nil, errors.New("no data rows")
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, name := range []string{"server", "store", "offered_rps", "achieved_rps", "p99_ms"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("no %s column", name)
		}
	}
	var out []Series
	for _, row := range rows[1:] {
		num := func(name string) (float64, error) { return strconv.ParseFloat(row[col[name]], 64) }
		offered, err1 := num("offered_rps")
		achieved, err2 := num("achieved_rps")
		p99, err3 := num("p99_ms")
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, err
		}
		if offered <= 0 {
			continue
		}
		name := row[col["server"]]
		if st := row[col["store"]]; name != "ceiling" {
			if strings.HasPrefix(st, "redis") {
				st = "Redis"
			}
			name += " (" + st + ")"
		} else {
			name = "ceiling (bare envelope)"
		}
		out = merge(out, []Series{{Name: name, Points: []Point{{offered, achieved, p99}}}})
	}
	return out, nil
}

// merge adds the points of b to the series of a with the same name.
func merge(a, b []Series) []Series {
	for _, s := range b {
		i := slices.IndexFunc(a, func(x Series) bool { return x.Name == s.Name })
		if i < 0 {
			a = append(a, Series{Name: s.Name})
			i = len(a) - 1
		}
		a[i].Points = append(a[i].Points, s.Points...)
		slices.SortFunc(a[i].Points, func(p, q Point) int {
			switch {
			case p.Offered < q.Offered:
				return -1
			case p.Offered > q.Offered:
				return 1
			}
			return 0
		})
	}
	return a
}
