package server

import (
	"github.com/valyala/fasthttp"

	"github.com/edgepurge/edgepurge/internal/event"
	"github.com/edgepurge/edgepurge/internal/fanout"
)

// noteBackendPanics counts and logs every backend of a that panicked:
// fanout recovered the panic and answered it as a failed result, which
// becomes a 502, so the sender retries.
func (s *Server) noteBackendPanics(ctx *fasthttp.RequestCtx, ev event.Event, a fanout.Answer) {
	for _, r := range a.Results {
		if r.Error == fanout.PanicError {
			s.cfg.Metrics.Panics.Inc()
			s.log.Error("panic in backend", "request_id", requestID(ctx), "id", ev.ID, "backend", r.Backend)
		}
	}
}
