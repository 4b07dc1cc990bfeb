package bench

import (
	"context"
	"fmt"
	"net"

	"github.com/redis/go-redis/v9"
)

// openRedis connects to the Redis the server uses, refusing anything but a
// loopback address: the bench never sends traffic off the machine.
func openRedis(ctx context.Context, url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("redis url: address %q: %w", opts.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("redis url: host %q: the bench only talks to 127.0.0.1", host)
	}
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("redis at %s does not answer (start one with `make redis`): %w", opts.Addr, err)
	}
	return client, nil
}

// deleteKeys unlinks every key whose name contains id (the dedupe records,
// the registry look-ups and the rate-limit state of the bench's servers),
// one SCAN page at a time; it returns how many it unlinked.
func deleteKeys(ctx context.Context, client *redis.Client, id string) (int, error) {
	var cursor uint64
	deleted := 0
	// A SCAN of a keyspace of n keys takes about n/1000 pages; the bound
	// only stops a misbehaving server from looping forever.
	for range 1_000_000 {
		keys, next, err := client.Scan(ctx, cursor, "*"+id+"*", 1000).Result()
		if err != nil {
			return deleted, fmt.Errorf("scan bench keys: %w", err)
		}
		if len(keys) > 0 {
			if err := client.Unlink(ctx, keys...).Err(); err != nil {
				return deleted, fmt.Errorf("unlink bench keys: %w", err)
			}
			deleted += len(keys)
		}
		if next == 0 {
			return deleted, nil
		}
		cursor = next
	}
	return deleted, fmt.Errorf("scan bench keys: did not finish")
}
