package storeopen_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verifyfn/verifyfn/shared/store"
	"github.com/verifyfn/verifyfn/shared/store/storeopen"
)

func TestParse(t *testing.T) {
	for spec, want := range map[string]storeopen.Spec{
		"":                              {Kind: storeopen.Memory},
		"memory":                        {Kind: storeopen.Memory},
		"file:./verifyfn.db":            {Kind: storeopen.File, Path: "./verifyfn.db"},
		"file:///var/lib/verifyfn.db":   {Kind: storeopen.File, Path: "/var/lib/verifyfn.db"},
		"redis://127.0.0.1:6379/0":      {Kind: storeopen.Redis, URL: "redis://127.0.0.1:6379/0"},
		"rediss://:pw@redis:6380":       {Kind: storeopen.Redis, URL: "rediss://:pw@redis:6380"},
		"redis+cluster://h1:7000,h2:70": {Kind: storeopen.Redis, URL: "redis+cluster://h1:7000,h2:70"},
	} {
		got, err := storeopen.Parse(spec)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	for _, spec := range []string{"mem", "file:", "file://relative", "redis:/x", "postgres://x", "redis://h:1?max_retries=1", "bolt:x.db"} {
		if _, err := storeopen.Parse(spec); err == nil {
			t.Errorf("Parse(%q) accepted", spec)
		}
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v.db")
	for _, spec := range []string{"memory", "file:" + path, "redis://127.0.0.1:1"} {
		st, err := storeopen.Open(spec)
		if err != nil {
			t.Fatalf("Open(%q): %v", spec, err)
		}
		if spec != "redis://127.0.0.1:1" { // Open does no I/O; nothing listens there
			if i, err := st.Apply(ctx, []store.Op{{Kind: store.Insert, Coll: "{1}:c", Key: "k"}}); i != -1 || err != nil {
				t.Fatalf("%s: Apply = %d, %v", spec, i, err)
			}
		}
		if err := st.Close(); err != nil {
			t.Fatalf("%s: Close: %v", spec, err)
		}
	}
	if _, err := storeopen.Open("redis://u:s3cret@h:1?nope=1"); err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "VERIFYFN_STORE") {
		t.Fatalf("Open with a bad URL: %v", err)
	}
}
