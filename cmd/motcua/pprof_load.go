//go:build load

package main

import (
	"net"
	"net/http"
	_ "net/http/pprof" // the profiles, on http.DefaultServeMux
	"os"
	"runtime"
)

// A motcua built with the load tag (by cmd/motcua-load, never for a
// release) serves Go's profiles at http://ADDR/debug/pprof/ when
// MOTCUA_LOAD_PPROF=ADDR is set, so the load test can tell where a
// portal process spends its CPU and where its goroutines wait for a lock
// (one contention in 10 is sampled). A release build has no such
// listener.
func init() {
	addr := os.Getenv("MOTCUA_LOAD_PPROF")
	if addr == "" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		os.Stderr.WriteString("motcua: MOTCUA_LOAD_PPROF: " + err.Error() + "\n")
		os.Exit(1)
	}
	runtime.SetMutexProfileFraction(10)
	go http.Serve(ln, http.DefaultServeMux)
}
