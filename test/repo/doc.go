// Package repo holds the tests of the repository itself rather than of one
// package: the documentation matches the code (config keys, environment
// variables, CLI commands and flags, metrics, the answer's JSON), the
// example config loads strictly, the Dockerfile's default base images are
// the official ones (make test-container builds and runs the image itself),
// no tracked file is over 1 MB, and every relative link in README.md and
// docs/ resolves.
//
// Plain `go test`; run from anywhere in the checkout (the root is found by
// walking up to go.mod). It needs the go tool (go test puts it on PATH),
// and uses git and make when they are installed.
package repo
