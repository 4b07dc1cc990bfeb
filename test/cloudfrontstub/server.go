// Package cloudfrontstub is an in-process stand-in for the parts of Amazon
// CloudFront's REST-XML API (version 2020-05-31) that edgepurge uses:
// CreateInvalidation (POST /2020-05-31/distribution/{Id}/invalidation),
// GetInvalidation (GET /2020-05-31/distribution/{Id}/invalidation/{Id}) and
// GetDistribution (GET /2020-05-31/distribution/{Id}). Tests drive it
// through the real aws-sdk-go-v2 client, pointed at it with BaseEndpoint.
//
// What is modelled, as AWS documents it:
//   - Signatures: every call must carry an AWS Signature Version 4
//     Authorization header. The stand-in knows one key pair
//     (Options.AccessKeyID and SecretAccessKey) and recomputes the
//     signature with the SDK's own signer (aws/signer/v4) from the headers
//     the client says it signed: an unknown access key is refused with 403
//     InvalidClientTokenId, a wrong secret with 403 SignatureDoesNotMatch, a
//     missing signature with 403 MissingAuthenticationToken.
//   - Permissions: Options.Denied lists IAM actions
//     ("cloudfront:CreateInvalidation", ...) the key lacks; such a call is
//     refused with 403 AccessDenied naming the action.
//   - CallerReference: a CreateInvalidation with a CallerReference the
//     distribution has seen, and the same paths, answers the existing
//     invalidation (201) without creating one; with other paths it is
//     refused with 409 InvalidationBatchAlreadyExists.
//   - Limits (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/InvalidationLimits.html):
//     at most MaxPathsInProgress individual paths (3,000) and
//     MaxWildcardsInProgress wildcard paths (15) in invalidations in
//     progress per distribution, and MaxPathsPerBatch (3,000) paths in one
//     batch; over a limit the call is refused with 400
//     TooManyInvalidationsInProgress (in progress) or 413 BatchTooLarge.
//   - An invalidation is InProgress until Options.CompleteAfter has passed
//     since its creation, then Completed (with 0, from the first
//     GetInvalidation on: the answer to the create still says InProgress,
//     as CloudFront's does); HoldInProgress keeps every invalidation
//     InProgress until released.
//   - Errors are CloudFront's XML body:
//     <ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>.
//
// Tests can also inject failures of CreateInvalidation (SetFailure), hang
// calls (Hang), lose the answer of a CreateInvalidation that was carried
// out (LoseAnswers: the connection is dropped after the invalidation is
// made), and read every call.
package cloudfrontstub

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/edgepurge/edgepurge/test/standin"
)

// The test key pair a stand-in accepts unless Options say otherwise; no
// real account's.
const (
	TestAccessKeyID     = "AKIAEDGEPURGETEST0001"
	TestSecretAccessKey = "edgepurge/test/secret/key/not-a-real-one00"
)

// CloudFront's documented limits, the defaults of Options.
const (
	DefaultMaxPathsInProgress     = 3000
	DefaultMaxWildcardsInProgress = 15
	DefaultMaxPathsPerBatch       = 3000
)

// IAM actions, as in Options.Denied.
const (
	ActionCreateInvalidation = "cloudfront:CreateInvalidation"
	ActionGetInvalidation    = "cloudfront:GetInvalidation"
	ActionGetDistribution    = "cloudfront:GetDistribution"
)

// Status values of an invalidation.
const (
	StatusInProgress = "InProgress"
	StatusCompleted  = "Completed"
)

// Operation names, as in Call.Op.
const (
	OpCreateInvalidation = "CreateInvalidation"
	OpGetInvalidation    = "GetInvalidation"
	OpGetDistribution    = "GetDistribution"
)

// Options configure a Server.
type Options struct {
	// AccessKeyID and SecretAccessKey are the one key pair accepted;
	// default TestAccessKeyID and TestSecretAccessKey.
	AccessKeyID, SecretAccessKey string
	// Denied are the IAM actions the key lacks.
	Denied []string
	// Distributions maps each known distribution id to its alternate
	// domain names; other ids answer 404 NoSuchDistribution.
	Distributions map[string][]string
	// CompleteAfter is how long an invalidation stays InProgress; 0: it
	// is Completed when first read after its creation.
	CompleteAfter time.Duration
	// MaxPathsInProgress, MaxWildcardsInProgress and MaxPathsPerBatch
	// default to CloudFront's limits.
	MaxPathsInProgress, MaxWildcardsInProgress, MaxPathsPerBatch int
	// Latency is added before every answer.
	Latency time.Duration
}

// Failure is an answer CreateInvalidation gives instead of its work.
type Failure struct {
	// Status is the HTTP status.
	Status int
	// Code is CloudFront's error code; default by status (500
	// InternalError, 503 ServiceUnavailable, 400 and 429 Throttling, 403
	// AccessDenied, others InvalidArgument).
	Code string
	// RetryAfter, when set, is sent as Retry-After.
	RetryAfter time.Duration
	// Count is how many calls fail; 0 means every call until cleared.
	Count int
}

// Call is one API call the stand-in received, whatever its outcome.
type Call struct {
	// At is when the call arrived.
	At time.Time
	// Op is OpCreateInvalidation, OpGetInvalidation, OpGetDistribution or
	// "" for another path.
	Op string
	// Distribution is the distribution id in the path.
	Distribution string
	// Invalidation is the invalidation id in the path or the one made.
	Invalidation string
	// CallerReference and Paths are a CreateInvalidation's batch.
	CallerReference string
	Paths           []string
	// Status is the HTTP status answered (0: none, the client gave up or
	// the answer was lost) and Code the error code, if any.
	Status int
	Code   string
}

// Invalidation is one invalidation the stand-in holds.
type Invalidation struct {
	// ID, Distribution, CallerReference and Paths are as created.
	ID, Distribution, CallerReference string
	Paths                             []string
	// Created is when it was made.
	Created time.Time
	// completed is set once it is seen Completed.
	completed bool
	reads     int
}

// Server is the stand-in. All its methods are safe for concurrent use.
type Server struct {
	opts Options
	core *standin.Core[Call, Failure, string]

	// Guarded by core's lock.
	invalidations []*Invalidation
	hold          bool
	loseAnswers   int
	peakPaths     map[string]int
	peakWildcards map[string]int
	refusedLimit  int
	seq           atomic.Int64
}

// New returns a Server configured by opts, not yet serving.
func New(opts Options) *Server {
	if opts.AccessKeyID == "" {
		opts.AccessKeyID, opts.SecretAccessKey = TestAccessKeyID, TestSecretAccessKey
	}
	if opts.MaxPathsInProgress == 0 {
		opts.MaxPathsInProgress = DefaultMaxPathsInProgress
	}
	if opts.MaxWildcardsInProgress == 0 {
		opts.MaxWildcardsInProgress = DefaultMaxWildcardsInProgress
	}
	if opts.MaxPathsPerBatch == 0 {
		opts.MaxPathsPerBatch = DefaultMaxPathsPerBatch
	}
	return &Server{
		opts: opts,
		core: standin.New[Call, Failure, string](standin.Config[Call]{
			Name: "cloudfrontstub", Latency: opts.Latency,
			Arrived: func(c Call) time.Time { return c.At },
			Status:  func(c Call) int { return c.Status },
		}),
		peakPaths:     map[string]int{},
		peakWildcards: map[string]int{},
	}
}

// Start serves on a free loopback port and returns the base URL.
func (s *Server) Start() (string, error) {
	return s.core.Start(s.core.Track(http.HandlerFunc(s.route)))
}

// Close stops serving.
func (s *Server) Close() { s.core.Close() }

// SetFailure makes CreateInvalidation answer f (f.Count times, or until
// ClearFailure).
func (s *Server) SetFailure(f Failure) { s.core.SetFailure(f, f.Count) }

// ClearFailure ends an injected failure.
func (s *Server) ClearFailure() { s.core.ClearFailure() }

// Hang(true) holds every call unanswered until the client gives up.
func (s *Server) Hang(on bool) { s.core.Hang(on) }

// Waiting is how many calls are held right now.
func (s *Server) Waiting() int { return s.core.Waiting() }

// HoldInProgress(true) keeps every invalidation InProgress, whatever
// CompleteAfter says, until HoldInProgress(false).
func (s *Server) HoldInProgress(on bool) {
	s.core.Lock()
	defer s.core.Unlock()
	s.hold = on
}

// LoseAnswers makes the next n CreateInvalidation calls that succeed lose
// their answer: the invalidation is made, the connection is dropped.
func (s *Server) LoseAnswers(n int) {
	s.core.Lock()
	defer s.core.Unlock()
	s.loseAnswers = n
}

// Calls returns every call received so far, in order of arrival.
func (s *Server) Calls() []Call { return s.core.Calls() }

// CreateCalls returns the CreateInvalidation calls received so far.
func (s *Server) CreateCalls() []Call {
	return s.core.CallsWhere(func(c Call) bool { return c.Op == OpCreateInvalidation })
}

// Invalidations returns a copy of the distribution's invalidations, in
// order of creation.
func (s *Server) Invalidations(distribution string) []Invalidation {
	s.core.Lock()
	defer s.core.Unlock()
	var out []Invalidation
	for _, inv := range s.invalidations {
		if inv.Distribution == distribution {
			c := *inv
			c.Paths = append([]string(nil), inv.Paths...)
			out = append(out, c)
		}
	}
	return out
}

// Peak returns the most individual and wildcard paths the distribution
// had in progress at once.
func (s *Server) Peak(distribution string) (paths, wildcards int) {
	s.core.Lock()
	defer s.core.Unlock()
	return s.peakPaths[distribution], s.peakWildcards[distribution]
}

// RefusedForLimits is how many CreateInvalidation calls were refused with
// TooManyInvalidationsInProgress.
func (s *Server) RefusedForLimits() int {
	s.core.Lock()
	defer s.core.Unlock()
	return s.refusedLimit
}

// newID is a fresh invalidation or request id.
func (s *Server) newID(prefix string) string {
	return fmt.Sprintf("%s%012d", prefix, s.seq.Add(1))
}
