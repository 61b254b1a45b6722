package main

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Chart geometry.
const (
	width, height = 960, 820
	left, right   = 90, 30
	panelHeight   = 300
	topPanelY     = 90  // top of the throughput panel
	bottomPanelY  = 470 // top of the latency panel
)

var (
	white = color.RGBA{255, 255, 255, 255}
	black = color.RGBA{0, 0, 0, 255}
	grey  = color.RGBA{215, 215, 215, 255}
	dark  = color.RGBA{110, 110, 110, 255}
	// palette holds the series colours, in order.
	palette = []color.RGBA{
		{31, 119, 180, 255}, {214, 39, 40, 255}, {44, 160, 44, 255}, {255, 127, 14, 255}, {148, 103, 189, 255},
	}
)

// canvas is an image with the few drawing operations the chart needs.
type canvas struct{ *image.RGBA }

func (c canvas) dot(x, y int, col color.RGBA, size int) {
	for dx := -size / 2; dx <= size/2; dx++ {
		for dy := -size / 2; dy <= size/2; dy++ {
			if image.Pt(x+dx, y+dy).In(c.Bounds()) {
				c.SetRGBA(x+dx, y+dy, col)
			}
		}
	}
}

// line draws from (x0,y0) to (x1,y1); dash > 0 leaves gaps every dash pixels.
func (c canvas) line(x0, y0, x1, y1 int, col color.RGBA, size, dash int) {
	n := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= n; i++ {
		if dash > 0 && (i/dash)%2 == 1 {
			continue
		}
		x := x0 + (x1-x0)*i/n
		y := y0 + (y1-y0)*i/n
		c.dot(x, y, col, size)
	}
}

func (c canvas) text(x, y int, s string, col color.RGBA) {
	d := font.Drawer{Dst: c.RGBA, Src: image.NewUniform(col), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// textRight draws s ending at x.
func (c canvas) textRight(x, y int, s string, col color.RGBA) { c.text(x-7*len(s), y, s, col) }

// textCenter draws s centred on x.
func (c canvas) textCenter(x, y int, s string, col color.RGBA) { c.text(x-7*len(s)/2, y, s, col) }

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// niceStep returns a step of 1, 2 or 5 times a power of ten giving about
// n intervals over span.
func niceStep(span float64, n int) float64 {
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// label formats a requests/s value: 500, 2k, 12.5k.
func label(v float64) string {
	v = math.Round(v*1e6) / 1e6 // 0.6, not 0.6000000000000001
	if v >= 1000 {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// panel maps data to pixels for one plot area.
type panel struct {
	x0, y0, w, h int
	xMax         float64
	y            func(float64) float64 // data to [0,1]
	xLabel       string                // default "offered requests/s"
}

func (p panel) px(x, y float64) (int, int) {
	fx := x / p.xMax
	fy := math.Min(math.Max(p.y(y), 0), 1)
	return p.x0 + int(fx*float64(p.w)), p.y0 + p.h - int(fy*float64(p.h))
}

// frame draws the grid, the axes and the x ticks.
func (c canvas) frame(p panel, xStep float64, title string) {
	c.text(p.x0, p.y0-12, title, black)
	for x := 0.0; x <= p.xMax+1e-9; x += xStep {
		px, _ := p.px(x, 0)
		c.line(px, p.y0, px, p.y0+p.h, grey, 1, 0)
		c.textCenter(px, p.y0+p.h+18, label(x), black)
	}
	c.line(p.x0, p.y0, p.x0, p.y0+p.h, black, 1, 0)
	c.line(p.x0, p.y0+p.h, p.x0+p.w, p.y0+p.h, black, 1, 0)
	xl := p.xLabel
	if xl == "" {
		xl = "offered requests/s"
	}
	c.textCenter(p.x0+p.w/2, p.y0+p.h+36, xl, black)
}

// yTick draws one horizontal grid line with its label.
func (c canvas) yTick(p panel, y float64, text string) {
	_, py := p.px(0, y)
	c.line(p.x0, py, p.x0+p.w, py, grey, 1, 0)
	c.textRight(p.x0-6, py+4, text, black)
}

// series draws one line with a dot per point.
func (c canvas) series(p panel, pts [][2]float64, col color.RGBA) {
	for i, pt := range pts {
		x, y := p.px(pt[0], pt[1])
		c.dot(x, y, col, 7)
		if i > 0 {
			px, py := p.px(pts[i-1][0], pts[i-1][1])
			c.line(px, py, x, y, col, 3, 0)
		}
	}
}

// Draw renders the chart.
func Draw(title string, all []Series) *image.RGBA {
	c := canvas{image.NewRGBA(image.Rect(0, 0, width, height))}
	draw.Draw(c.RGBA, c.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)
	c.text(left, 28, title, black)

	xMax, yMax, pMin, pMax := 0.0, 0.0, math.Inf(1), 0.0
	for _, s := range all {
		for _, pt := range s.Points {
			xMax = math.Max(xMax, pt.Offered)
			yMax = math.Max(yMax, math.Max(pt.Achieved, pt.Offered))
			if pt.P99 > 0 {
				pMin, pMax = math.Min(pMin, pt.P99), math.Max(pMax, pt.P99)
			}
		}
	}
	if xMax == 0 {
		xMax, yMax, pMin, pMax = 1, 1, 0.1, 1
	}
	xStep := niceStep(xMax, 8)
	xMax = math.Ceil(xMax/xStep) * xStep
	yStep := niceStep(yMax, 6)
	yMax = math.Ceil(yMax/yStep) * yStep

	// Legend.
	lx := left
	for i, s := range all {
		col := palette[i%len(palette)]
		c.line(lx, 50, lx+24, 50, col, 3, 0)
		c.text(lx+30, 55, s.Name, black)
		lx += 30 + 7*len(s.Name) + 30
	}

	w := width - left - right
	top := panel{x0: left, y0: topPanelY, w: w, h: panelHeight, xMax: xMax, y: func(v float64) float64 { return v / yMax }}
	c.frame(top, xStep, "achieved requests/s (dashed: achieved = offered)")
	for y := 0.0; y <= yMax+1e-9; y += yStep {
		c.yTick(top, y, label(y))
	}
	x0, y0 := top.px(0, 0)
	x1, y1 := top.px(xMax, xMax)
	if xMax > yMax {
		x1, y1 = top.px(yMax, yMax)
	}
	c.line(x0, y0, x1, y1, dark, 1, 6)

	// Latency, log scale over whole decades.
	lo := math.Floor(math.Log10(math.Max(pMin, 0.01)))
	hi := math.Ceil(math.Log10(math.Max(pMax, 0.01)))
	if hi <= lo {
		hi = lo + 1
	}
	bottom := panel{x0: left, y0: bottomPanelY, w: w, h: panelHeight, xMax: xMax, y: func(v float64) float64 {
		return (math.Log10(math.Max(v, 1e-3)) - lo) / (hi - lo)
	}}
	c.frame(bottom, xStep, "p99 latency, ms (log scale; from when each request was due)")
	for e := lo; e <= hi; e++ {
		c.yTick(bottom, math.Pow(10, e), strconv.FormatFloat(math.Pow(10, e), 'f', -1, 64))
	}

	// The first series is drawn last, on top.
	for i := len(all) - 1; i >= 0; i-- {
		s, col := all[i], palette[i%len(palette)]
		var thr, lat [][2]float64
		for _, pt := range s.Points {
			thr = append(thr, [2]float64{pt.Offered, pt.Achieved})
			lat = append(lat, [2]float64{pt.Offered, pt.P99})
		}
		c.series(top, thr, col)
		c.series(bottom, lat, col)
	}
	return c.RGBA
}
