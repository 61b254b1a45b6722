package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"strconv"
)

// PumpingRow is one bucket of simulated time of one run.
type PumpingRow struct {
	Run                                                    string
	Minute                                                 float64
	RealSent, RealRefused, Verified, AttackSent, AttackRef float64
}

// ReadPumpingCSV reads the pumping simulation's CSV.
func ReadPumpingCSV(r io.Reader) ([]PumpingRow, error) {
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
	names := []string{"run", "minute", "real_sent", "real_refused", "verified", "attack_sent", "attack_refused"}
	for _, name := range names {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("no %s column", name)
		}
	}
	var out []PumpingRow
	for _, row := range rows[1:] {
		v := make([]float64, len(names))
		for i, name := range names[1:] {
			f, err := strconv.ParseFloat(row[col[name]], 64)
			if err != nil {
				return nil, err
			}
			v[i+1] = f
		}
		out = append(out, PumpingRow{Run: row[col["run"]], Minute: v[1], RealSent: v[2], RealRefused: v[3], Verified: v[4], AttackSent: v[5], AttackRef: v[6]})
	}
	return out, nil
}

func runPumping(in, out, title string, stderr io.Writer) int {
	f, err := os.Open(in)
	if err != nil {
		fmt.Fprintf(stderr, "benchchart: %v\n", err)
		return 1
	}
	rows, err := ReadPumpingCSV(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(stderr, "benchchart: %s: %v\n", in, err)
		return 1
	}
	img := DrawPumping(title, rows)
	o, err := os.Create(out)
	if err == nil {
		err = png.Encode(o, img)
		if cerr := o.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "benchchart: %v\n", err)
		return 1
	}
	return 0
}

// DrawPumping renders the pumping chart: the top panel has the attack's
// sends per bucket, offered and delivered with and without the guard; the
// bottom panel the share of real sends refused per bucket, with the guard.
func DrawPumping(title string, rows []PumpingRow) *image.RGBA {
	c := canvas{image.NewRGBA(image.Rect(0, 0, width, height))}
	draw.Draw(c.RGBA, c.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)
	c.text(left, 28, title, black)
	type line struct {
		name string
		pts  [][2]float64
	}
	offered := line{name: "attack sends offered"}
	without := line{name: "delivered without the guard"}
	with := line{name: "delivered with the guard"}
	realRef := line{name: "real sends refused, with the guard (%)"}
	realOff := line{name: "without (%)"}
	xMax, yMax, rMax := 0.0, 0.0, 1.0
	for _, r := range rows {
		h := r.Minute / 60
		xMax = math.Max(xMax, h)
		yMax = math.Max(yMax, r.AttackSent)
		share := 0.0
		if r.RealSent > 0 {
			share = 100 * r.RealRefused / r.RealSent
		}
		rMax = math.Max(rMax, share)
		switch r.Run {
		case "with guard":
			offered.pts = append(offered.pts, [2]float64{h, r.AttackSent})
			with.pts = append(with.pts, [2]float64{h, r.AttackSent - r.AttackRef})
			realRef.pts = append(realRef.pts, [2]float64{h, share})
		default:
			without.pts = append(without.pts, [2]float64{h, r.AttackSent - r.AttackRef})
			realOff.pts = append(realOff.pts, [2]float64{h, share})
		}
	}
	if xMax == 0 {
		xMax = 1
	}
	if yMax == 0 {
		yMax = 1
	}
	xStep := niceStep(xMax, 6)
	xMax = math.Ceil(xMax/xStep) * xStep
	yStep := niceStep(yMax, 6)
	yMax = math.Ceil(yMax/yStep) * yStep
	rStep := niceStep(rMax, 5)
	rMax = math.Ceil(rMax/rStep) * rStep

	lines := []line{offered, without, with}
	lx := left
	for i, l := range append(lines, realRef, realOff) {
		col := palette[i%len(palette)]
		if lx+30+7*len(l.name) > width-right {
			lx = left
		}
		y := 50
		if i >= 3 {
			y = 68
		}
		if i == 3 {
			lx = left
		}
		c.line(lx, y, lx+24, y, col, 3, 0)
		c.text(lx+30, y+5, l.name, black)
		lx += 30 + 7*len(l.name) + 24
	}
	w := width - left - right
	top := panel{x0: left, y0: topPanelY + 10, w: w, h: panelHeight, xMax: xMax, y: func(v float64) float64 { return v / yMax }, xLabel: "simulated hours"}
	c.frame(top, xStep, "attack sends per bucket of simulated time")
	for y := 0.0; y <= yMax+1e-9; y += yStep {
		c.yTick(top, y, label(y))
	}
	bottom := panel{x0: left, y0: bottomPanelY, w: w, h: panelHeight, xMax: xMax, y: func(v float64) float64 { return v / rMax }, xLabel: "simulated hours"}
	c.frame(bottom, xStep, "real sign-up sends refused per bucket, %")
	for y := 0.0; y <= rMax+1e-9; y += rStep {
		c.yTick(bottom, y, label(y))
	}
	for i := len(lines) - 1; i >= 0; i-- {
		c.series(top, lines[i].pts, palette[i%len(palette)])
	}
	c.series(bottom, realOff.pts, palette[4])
	c.series(bottom, realRef.pts, palette[3])
	return c.RGBA
}
