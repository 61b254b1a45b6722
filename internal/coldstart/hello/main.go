// Command hello is coldstart's baseline: the smallest net/http server, which
// answers every request on $ADDR with "ok".
package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	if err := http.ListenAndServe(os.Getenv("ADDR"), nil); err != nil {
		os.Exit(1)
	}
}
