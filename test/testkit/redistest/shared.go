package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/test/testkit/integration"
	"github.com/redis/go-redis/v9"
)

// SharedAddr is the address of the Redis that every dev and CI machine runs.
const SharedAddr = "127.0.0.1:6379"

// sharedNeeds is what a test of the shared Redis says it needs when skipped.
const sharedNeeds = "Redis at " + SharedAddr

// Client returns a client of the shared Redis at SharedAddr, closed when the
// test ends. Outside the integration layer the test is skipped; in it, the
// test fails (it is not skipped) when Redis does not answer: a missing
// Redis must never make a test suite pass quietly.
func Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	integration.Need(t, sharedNeeds)
	client := newSharedClient()
	t.Cleanup(func() { _ = client.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("redistest: Redis is not reachable at %s (these tests need a real Redis 6.2+ there; start one with `redis-server --daemonize yes`): %v", SharedAddr, err)
	}
	return client
}

// Prefix returns a key prefix unique to this test run, such as
// "edgepurge-test:TestLookup:3f9c2a1b:". When the test ends, every key of the
// shared Redis under that prefix is unlinked (SCAN + UNLINK), so tests can
// write freely without clashing with each other or leaving keys behind.
// Outside the integration layer the test is skipped.
func Prefix(t testing.TB) string {
	t.Helper()
	integration.Need(t, sharedNeeds)
	var random [4]byte
	if _, err := rand.Read(random[:]); err != nil {
		t.Fatalf("redistest: random prefix: %v", err)
	}
	prefix := "edgepurge-test:" + safeName(t.Name()) + ":" + hex.EncodeToString(random[:]) + ":"

	t.Cleanup(func() {
		client := newSharedClient()
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := deletePrefix(ctx, client, prefix); err != nil {
			t.Errorf("redistest: delete keys under %q: %v", prefix, err)
		}
	})
	return prefix
}

func newSharedClient() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: SharedAddr})
}

// deletePrefix unlinks every key under prefix, one SCAN page at a time.
func deletePrefix(ctx context.Context, client *redis.Client, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := client.Scan(ctx, cursor, globEscape(prefix)+"*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := client.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// safeName keeps the readable part of a test name and drops characters that
// mean something in a key: glob characters for SCAN and braces, which would
// turn the prefix into a Cluster hash tag.
func safeName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '/', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// globEscape quotes the characters SCAN MATCH treats as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
