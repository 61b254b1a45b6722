// Command mkzip writes a deployment zip: each NAME=PATH argument becomes the
// file NAME at the root of the archive, executable (mode 0755, as Lambda's
// bootstrap and SCF's main and scf_bootstrap must be), with a fixed
// modification time so the same inputs always give the same zip.
//
//	mkzip dist/sendverify/sendverify-lambda-arm64.zip bootstrap=dist/sendverify/lambda-arm64/bootstrap
package main

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: mkzip OUT.zip NAME=PATH...")
		os.Exit(2)
	}
	if err := write(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "mkzip: %v\n", err)
		os.Exit(1)
	}
}

// modified is every entry's time: 2020-01-01, inside the DOS date range.
var modified = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func write(out string, files []string) error {
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	zw := zip.NewWriter(f)
	for _, spec := range files {
		name, path, ok := strings.Cut(spec, "=")
		if !ok || name == "" || path == "" {
			return fmt.Errorf("%q is not NAME=PATH", spec)
		}
		if err := add(zw, name, path); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

func add(zw *zip.Writer, name, path string) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, src)
	return err
}
