package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `server,store,mix,conns,offered_rps,achieved_rps,p50_ms,p90_ms,p99_ms,max_ms,requests,failures,missed
full,memory,SendVerifyCode:1,32,0,5000.0,1,2,3,4,50000,0,0
full,memory,SendVerifyCode:1,32,2000,2000.0,0.3,0.5,1.2,4,20000,0,0
ceiling,none,SendVerifyCode:1,32,2000,2000.0,0.2,0.3,0.8,2,20000,0,0
full,memory,SendVerifyCode:1,32,1000,1000.0,0.3,0.4,0.9,3,10000,0,0
ceiling,none,SendVerifyCode:1,32,1000,1000.0,0.2,0.3,0.6,2,10000,0,0
full,redis://127.0.0.1:6379/0,SendVerifyCode:1,32,1000,990.0,0.5,0.8,2.5,6,9900,0,100
`

func TestReadCSV(t *testing.T) {
	s, err := ReadCSV(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 3 {
		t.Fatalf("%d series: %+v", len(s), s)
	}
	if got, want := s[0].Name, "full (memory)"; got != want {
		t.Errorf("first series %q, want %q", got, want)
	}
	if got := s[0].Points; len(got) != 2 || got[0].Offered != 1000 || got[1].P99 != 1.2 {
		t.Errorf("full points %+v: want two, sorted by offered rate, flat out left out", got)
	}
	if got, want := s[2].Name, "full (Redis)"; got != want {
		t.Errorf("Redis series %q, want %q", got, want)
	}
	if _, err := ReadCSV(strings.NewReader("a,b\n1,2\n")); err == nil {
		t.Error("a CSV without the harness columns was accepted")
	}
}

func TestDraw(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.png")
	if err := os.WriteFile(in, []byte(sample), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run([]string{"-in", in, "-out", out}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != width || b.Dy() != height {
		t.Fatalf("size %v", b)
	}
	// Every series colour is drawn somewhere.
	for i := range 3 {
		want := palette[i]
		found := false
		for y := 0; y < height && !found; y++ {
			for x := 0; x < width && !found; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				found = uint8(r>>8) == want.R && uint8(g>>8) == want.G && uint8(b>>8) == want.B
			}
		}
		if !found {
			t.Errorf("series %d (colour %v) is not drawn", i, want)
		}
	}
}

func TestPumpingChart(t *testing.T) {
	rows, err := ReadPumpingCSV(strings.NewReader("run,minute,real_sent,real_refused,verified,attack_sent,attack_refused,failures\n" +
		"with guard,0,10,0,7,0,0,0\nwith guard,10,10,1,7,100,90,0\nwithout guard,0,10,0,7,0,0,0\nwithout guard,10,10,0,7,100,0,0\n"))
	if err != nil || len(rows) != 4 || rows[1].AttackRef != 90 || rows[3].Run != "without guard" {
		t.Fatalf("rows %+v, %v", rows, err)
	}
	if img := DrawPumping("t", rows); img.Bounds().Dx() != width {
		t.Fatal("no chart")
	}
	if _, err := ReadPumpingCSV(strings.NewReader("run,minute\nx,1\n")); err == nil {
		t.Fatal("a CSV without the columns was read")
	}
}
