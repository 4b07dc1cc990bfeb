// Package admin is the admin listener's handler: Go's profiles on demand
// under /debug/pprof/ (net/http/pprof). It is served on its own listener
// (server.admin_listen, loopback by default), never on the public one that
// takes the hooks: a profile shows the process's internals, and a CPU
// profile costs CPU while it runs.
package admin

import (
	"net/http"
	"net/http/pprof"
)

// Handler serves /debug/pprof/ and its profiles (index, profile, symbol,
// trace, and the named ones: heap, goroutine, allocs, block, mutex,
// threadcreate) on a mux of its own; every other path is 404. The command
// line (pprof's cmdline) is left out: what is secret stays off every
// listener.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
