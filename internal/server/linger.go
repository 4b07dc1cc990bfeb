package server

import (
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// A refused body is drained before its connection closes.
//
// When a body is over server.max_body_bytes, fasthttp answers (413, see
// transportError and expectContinue) and closes the connection with the
// rest of the body unread. Closing a socket with unread input makes the
// kernel answer RST instead of FIN, and an RST can reach the client before
// it has read the 413, which it then never sees: a client that writes its
// whole body before reading gets "connection reset" and retries forever.
//
// fasthttp has no option for this: it discards up to 256 KiB of an unread
// streamed body and only between keep-alive requests (StreamRequestBody,
// which would also hand every handler a stream instead of a body), and
// ConnState is told of the close only after it. So Serve wraps the
// listener: a connection whose request got a 413 is marked (markLinger),
// and its Close first sends the answer's FIN (CloseWrite) and then reads
// and throws away what the client still sends, until the client closes,
// lingerBytes have been read or lingerTime has passed, whichever comes
// first; only then is the socket closed. The 413 has Connection: close, so
// a client that has read it closes its end and the drain ends at once.
//
// The drain is bounded so that it cannot be used to hold connections: the
// read deadline is set once, lingerTime from the start, so a sender that
// trickles a byte at a time is cut off at lingerTime as surely as a silent
// one (a slowloris gets at most lingerTime more, after it has sent headers
// that declare or a body that exceeds the limit); at most lingerBytes are
// read, through io.Discard's small pooled buffers, so nothing is kept. A
// client still sending after either bound may see a reset, as before.
// Other connections are not marked and close as they always did.
const (
	lingerBytes = 4 << 20
	lingerTime  = 2 * time.Second
)

// lingerListener wraps each accepted connection in a lingerConn.
type lingerListener struct{ net.Listener }

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &lingerConn{Conn: c}, nil
}

// lingerConn drains its input on Close once marked (see above).
type lingerConn struct {
	net.Conn
	linger atomic.Bool
}

// markLinger asks that ctx's connection drain before it closes. A
// connection that is not a lingerConn (a test's own listener) is left
// alone.
func markLinger(ctx *fasthttp.RequestCtx) {
	if c, ok := ctx.Conn().(*lingerConn); ok {
		c.linger.Store(true)
	}
}

func (c *lingerConn) Close() error {
	if c.linger.Swap(false) {
		c.drain()
	}
	return c.Conn.Close()
}

// drain sends FIN after what was written, then discards the client's input
// within lingerBytes and lingerTime.
func (c *lingerConn) drain() {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	if c.Conn.SetReadDeadline(time.Now().Add(lingerTime)) != nil {
		return
	}
	_, _ = io.CopyN(io.Discard, c.Conn, lingerBytes)
}
