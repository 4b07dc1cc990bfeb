// Package redistest holds helpers for tests that use a real Redis: a client
// for the shared server at 127.0.0.1:6379, a per-test key prefix that is
// cleaned up afterwards, and private redis-server processes (single node or
// Cluster) for tests that need to stop, restart or shard Redis.
package redistest
