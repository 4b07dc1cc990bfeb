// Package redistest holds helpers for tests that use a real Redis: a client
// for the shared server at 127.0.0.1:6379, a per-test key prefix that is
// cleaned up afterwards, and private processes for tests that need to stop,
// restart, shard or fail over Redis: a single redis-server, a Cluster with
// or without replicas (NewCluster), and a primary, a replica and their
// sentinels (NewSentinel), each with helpers to kill a primary and wait for
// a replica's promotion. Each of those is the integration layer: outside it
// (see test/testkit/integration) the test that asks for one is skipped.
package redistest
