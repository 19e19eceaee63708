// Command bare is the baseline of kvclass's node benchmark: a bare net/http
// server that answers every request with the same small JSON body, as fast
// as net/http can on this machine.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7000", "address to listen on")
	flag.Parse()
	body := []byte(`{"value":"value-1"}` + "\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // a PUT's body is read, as the node must
		w.Header()["Content-Type"] = []string{"application/json"}
		w.Write(body)
	})
	log.Fatal(http.ListenAndServe(*addr, h))
}
