// Package rediscmd runs a Redis command within its context, whatever the
// client: the per-event look-ups share go-redis's auto-pipeliner, which
// does not honor a queued command's context by itself.
package rediscmd

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Do runs cmd on c and returns its error, or ctx's error if ctx ends first.
//
// go-redis's auto-pipeliner runs a queued command on its own context: its
// blocking face (AutoPipeline) waits for the command's batch whatever the
// caller's deadline, so a stalled Redis held every caller until the socket
// timeout. On its deferred face (AsyncAutoPipeline) the command is submitted
// and waited for with ctx: a caller gives up at its deadline, and the
// command, still queued or in flight, completes unread. Any other client
// honors ctx itself. After an error of ctx, cmd's result must not be read.
func Do(ctx context.Context, c redis.UniversalClient, cmd redis.Cmder) error {
	if ap, ok := c.(*redis.AutoPipeliner); ok && !ap.IsBlocking() {
		return ap.Submit(ctx, cmd).WaitContext(ctx)
	}
	return c.Process(ctx, cmd)
}
