package cloudfrontstub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// apiPrefix is the path prefix of API version 2020-05-31.
const apiPrefix = "/2020-05-31/distribution/"

// xmlns is the namespace of CloudFront's documents.
const xmlns = "http://cloudfront.amazonaws.com/doc/2020-05-31/"

// answer is one HTTP answer.
type answer struct {
	status int
	code   string
	header http.Header
	body   any // marshalled as XML
}

// errorResponse is CloudFront's error document.
type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

// fail is an error answer.
func fail(status int, code, msg string) answer {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	return answer{status: status, code: code, body: &errorResponse{Xmlns: xmlns, Type: typ, Code: code, Message: msg}}
}

func (s *Server) write(w http.ResponseWriter, a answer) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	reqID := s.newID("req-")
	w.Header().Set("X-Amz-Cf-Id", reqID)
	w.Header().Set("x-amzn-RequestId", reqID)
	var body []byte
	if e, ok := a.body.(*errorResponse); ok {
		e.RequestID = reqID
	}
	if a.body != nil {
		data, err := xml.Marshal(a.body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body = append([]byte(xml.Header), data...)
		w.Header().Set("Content-Type", "text/xml")
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(body)
}

// batchDoc is an InvalidationBatch, in requests and answers.
type batchDoc struct {
	XMLName         xml.Name `xml:"InvalidationBatch"`
	Xmlns           string   `xml:"xmlns,attr,omitempty"`
	Quantity        int      `xml:"Paths>Quantity"`
	Items           []string `xml:"Paths>Items>Path"`
	CallerReference string   `xml:"CallerReference"`
}

// invalidationDoc is an Invalidation answer.
type invalidationDoc struct {
	XMLName    xml.Name `xml:"Invalidation"`
	Xmlns      string   `xml:"xmlns,attr"`
	ID         string   `xml:"Id"`
	Status     string   `xml:"Status"`
	CreateTime string   `xml:"CreateTime"`
	Batch      batchDoc `xml:"InvalidationBatch"`
}

// distributionDoc is the part of a Distribution answer edgepurge reads.
type distributionDoc struct {
	XMLName    xml.Name `xml:"Distribution"`
	Xmlns      string   `xml:"xmlns,attr"`
	ID         string   `xml:"Id"`
	ARN        string   `xml:"ARN"`
	Status     string   `xml:"Status"`
	InProgress int      `xml:"InProgressInvalidationBatches"`
	DomainName string   `xml:"DomainName"`
	Quantity   int      `xml:"DistributionConfig>Aliases>Quantity"`
	Aliases    []string `xml:"DistributionConfig>Aliases>Items>CNAME"`
	Enabled    bool     `xml:"DistributionConfig>Enabled"`
}

// route serves one call.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	call := Call{At: time.Now()}
	rest, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
	parts := strings.Split(rest, "/")
	switch {
	case ok && len(parts) == 1 && r.Method == http.MethodGet:
		call.Op, call.Distribution = OpGetDistribution, parts[0]
	case ok && len(parts) == 2 && parts[1] == "invalidation" && r.Method == http.MethodPost:
		call.Op, call.Distribution = OpCreateInvalidation, parts[0]
	case ok && len(parts) == 3 && parts[1] == "invalidation" && r.Method == http.MethodGet:
		call.Op, call.Distribution, call.Invalidation = OpGetInvalidation, parts[0], parts[2]
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	var batch batchDoc
	if call.Op == OpCreateInvalidation {
		if xml.Unmarshal(body, &batch) == nil {
			call.CallerReference, call.Paths = batch.CallerReference, batch.Items
		}
	}
	s.core.Hold(r, call)
	a, failed := s.injected(call.Op)
	if !failed {
		a, failed = s.authenticate(r, body, call.Op)
	}
	lose := false
	if !failed {
		switch call.Op {
		case OpGetDistribution:
			a = s.getDistribution(call.Distribution)
		case OpCreateInvalidation:
			a, lose = s.createInvalidation(call.Distribution, body, &call)
		case OpGetInvalidation:
			a = s.getInvalidation(call.Distribution, call.Invalidation)
		default:
			a = fail(http.StatusNotFound, "NotFound", "no such resource: "+r.Method+" "+r.URL.Path)
		}
	}
	if lose {
		// The invalidation was made; the answer never arrives.
		s.core.Record(call)
		panic(http.ErrAbortHandler)
	}
	s.write(w, a)
	call.Status, call.Code = a.status, a.code
	s.core.Record(call)
}

// injected is the injected failure's answer for a CreateInvalidation.
func (s *Server) injected(op string) (answer, bool) {
	if op != OpCreateInvalidation {
		return answer{}, false
	}
	f, failed := s.core.Failure()
	if !failed {
		return answer{}, false
	}
	code := f.Code
	if code == "" {
		switch f.Status {
		case http.StatusInternalServerError:
			code = "InternalError"
		case http.StatusServiceUnavailable:
			code = "ServiceUnavailable"
		case http.StatusBadRequest, http.StatusTooManyRequests:
			code = "Throttling"
		case http.StatusForbidden:
			code = "AccessDenied"
		default:
			code = "InvalidArgument"
		}
	}
	a := fail(f.Status, code, http.StatusText(f.Status))
	if code == "Throttling" {
		a.body.(*errorResponse).Message = "Rate exceeded"
	}
	if f.RetryAfter > 0 {
		a.header = http.Header{"Retry-After": {strconv.Itoa(int(f.RetryAfter / time.Second))}}
	}
	return a, true
}

// authenticate checks the call's SigV4 signature and the key's permission
// for op; it returns the refusal and true when the call may not go on.
func (s *Server) authenticate(r *http.Request, body []byte, op string) (answer, bool) {
	auth := r.Header.Get("Authorization")
	scheme, params, _ := strings.Cut(auth, " ")
	if scheme != "AWS4-HMAC-SHA256" {
		return fail(http.StatusForbidden, "MissingAuthenticationToken", "Missing Authentication Token"), true
	}
	fields := map[string]string{}
	for _, f := range strings.Split(params, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return fail(http.StatusForbidden, "IncompleteSignature", "Authorization header requires a valid Credential"), true
	}
	if scope[0] != s.opts.AccessKeyID {
		return fail(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."), true
	}
	if !s.signatureMatches(r, body, fields, scope) {
		return fail(http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."), true
	}
	action := map[string]string{OpCreateInvalidation: ActionCreateInvalidation, OpGetInvalidation: ActionGetInvalidation, OpGetDistribution: ActionGetDistribution}[op]
	if action != "" && slices.Contains(s.opts.Denied, action) {
		return fail(http.StatusForbidden, "AccessDenied",
			fmt.Sprintf("User: arn:aws:iam::123456789012:user/edgepurge is not authorized to perform: %s on resource: arn:aws:cloudfront::123456789012:distribution/%s",
				action, strings.Split(strings.TrimPrefix(r.URL.Path, apiPrefix), "/")[0])), true
	}
	return answer{}, false
}

// signatureMatches recomputes the signature with the SDK's signer over the
// headers the client signed, and compares.
func (s *Server) signatureMatches(r *http.Request, body []byte, fields map[string]string, scope []string) bool {
	signedAt, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return false
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != hash {
		return false
	}
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return false
	}
	again.Host = r.Host
	again.ContentLength = r.ContentLength
	again.Header = http.Header{}
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		if h != "host" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	creds := aws.Credentials{AccessKeyID: s.opts.AccessKeyID, SecretAccessKey: s.opts.SecretAccessKey, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hash, scope[3], scope[2], signedAt); err != nil {
		return false
	}
	_, want, _ := strings.Cut(again.Header.Get("Authorization"), "Signature=")
	return want != "" && want == fields["Signature"]
}

// known reports whether the distribution exists.
func (s *Server) known(id string) bool {
	_, ok := s.opts.Distributions[id]
	return ok
}

func noSuchDistribution() answer {
	return fail(http.StatusNotFound, "NoSuchDistribution", "The specified distribution does not exist.")
}

func (s *Server) getDistribution(id string) answer {
	if !s.known(id) {
		return noSuchDistribution()
	}
	s.core.Lock()
	n := 0
	for _, inv := range s.invalidations {
		if inv.Distribution == id && !s.completedLocked(inv, time.Now(), false) {
			n++
		}
	}
	s.core.Unlock()
	aliases := s.opts.Distributions[id]
	return answer{status: http.StatusOK, header: http.Header{"Etag": {"E2QWRUHEXAMPLE"}}, body: &distributionDoc{
		Xmlns: xmlns, ID: id, ARN: "arn:aws:cloudfront::123456789012:distribution/" + id, Status: "Deployed",
		InProgress: n, DomainName: strings.ToLower(id) + ".cloudfront.net", Quantity: len(aliases), Aliases: aliases, Enabled: true,
	}}
}

// completedLocked says whether inv is Completed at now; read counts a
// GetInvalidation. Called with the core's lock held.
func (s *Server) completedLocked(inv *Invalidation, now time.Time, read bool) bool {
	if read {
		inv.reads++
	}
	if inv.completed {
		return true
	}
	if s.hold {
		return false
	}
	if s.opts.CompleteAfter > 0 && now.Sub(inv.Created) >= s.opts.CompleteAfter ||
		s.opts.CompleteAfter == 0 && inv.reads > 0 {
		inv.completed = true
	}
	return inv.completed
}

// wildcard reports whether an invalidation path is a wildcard path.
func wildcard(p string) bool { return strings.HasSuffix(p, "*") }

func (s *Server) createInvalidation(dist string, body []byte, call *Call) (answer, bool) {
	if !s.known(dist) {
		return noSuchDistribution(), false
	}
	if len(body) == 0 {
		return fail(http.StatusBadRequest, "MissingBody", "This operation requires a body."), false
	}
	var b batchDoc
	if err := xml.Unmarshal(body, &b); err != nil {
		return fail(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed: "+err.Error()), false
	}
	if b.CallerReference == "" {
		return fail(http.StatusBadRequest, "InvalidArgument", "CallerReference is required."), false
	}
	if b.Quantity != len(b.Items) {
		return fail(http.StatusBadRequest, "InconsistentQuantities", "The value of Quantity and the size of Items don't match."), false
	}
	if len(b.Items) == 0 {
		return fail(http.StatusBadRequest, "InvalidArgument", "Your request must contain at least one path."), false
	}
	for _, p := range b.Items {
		if !strings.HasPrefix(p, "/") || strings.Count(p, "*") > 1 || strings.Contains(p, "*") && !wildcard(p) {
			return fail(http.StatusBadRequest, "InvalidArgument", "Invalid path: "+p), false
		}
	}
	if len(b.Items) > s.opts.MaxPathsPerBatch {
		return fail(http.StatusRequestEntityTooLarge, "BatchTooLarge", "Invalidation batch specified is too large."), false
	}
	now := time.Now()
	s.core.Lock()
	defer s.core.Unlock()
	for _, inv := range s.invalidations {
		if inv.Distribution == dist && inv.CallerReference == b.CallerReference {
			if !slices.Equal(inv.Paths, b.Items) {
				return fail(http.StatusConflict, "InvalidationBatchAlreadyExists",
					"The CallerReference you attempted to create the invalidation with is already in use by another invalidation batch."), false
			}
			call.Invalidation = inv.ID
			return s.invalidationAnswer(inv, now, http.StatusCreated), false
		}
	}
	paths, wilds := 0, 0
	for _, inv := range s.invalidations {
		if inv.Distribution == dist && !s.completedLocked(inv, now, false) {
			for _, p := range inv.Paths {
				if wildcard(p) {
					wilds++
				} else {
					paths++
				}
			}
		}
	}
	for _, p := range b.Items {
		if wildcard(p) {
			wilds++
		} else {
			paths++
		}
	}
	if paths > s.opts.MaxPathsInProgress || wilds > s.opts.MaxWildcardsInProgress {
		s.refusedLimit++
		return fail(http.StatusBadRequest, "TooManyInvalidationsInProgress",
			"Your request contains too many invalidations in progress: you have exceeded the maximum number of allowable InProgress invalidation batch requests, or invalidation objects."), false
	}
	s.peakPaths[dist] = max(s.peakPaths[dist], paths)
	s.peakWildcards[dist] = max(s.peakWildcards[dist], wilds)
	inv := &Invalidation{ID: s.newID("I"), Distribution: dist, CallerReference: b.CallerReference, Paths: b.Items, Created: now}
	s.invalidations = append(s.invalidations, inv)
	call.Invalidation = inv.ID
	lose := s.loseAnswers > 0
	if lose {
		s.loseAnswers--
	}
	return s.invalidationAnswer(inv, now, http.StatusCreated), lose
}

// invalidationAnswer is inv's document; with the lock held.
func (s *Server) invalidationAnswer(inv *Invalidation, now time.Time, status int) answer {
	st := StatusInProgress
	if inv.completed {
		st = StatusCompleted
	}
	a := answer{status: status, body: &invalidationDoc{
		Xmlns: xmlns, ID: inv.ID, Status: st, CreateTime: inv.Created.UTC().Format("2006-01-02T15:04:05.000Z"),
		Batch: batchDoc{Quantity: len(inv.Paths), Items: inv.Paths, CallerReference: inv.CallerReference},
	}}
	if status == http.StatusCreated {
		a.header = http.Header{"Location": {"https://cloudfront.amazonaws.com" + apiPrefix + inv.Distribution + "/invalidation/" + inv.ID}}
	}
	return a
}

func (s *Server) getInvalidation(dist, id string) answer {
	if !s.known(dist) {
		return noSuchDistribution()
	}
	now := time.Now()
	s.core.Lock()
	defer s.core.Unlock()
	for _, inv := range s.invalidations {
		if inv.Distribution == dist && inv.ID == id {
			s.completedLocked(inv, now, true)
			return s.invalidationAnswer(inv, now, http.StatusOK)
		}
	}
	return fail(http.StatusNotFound, "NoSuchInvalidation", "The specified invalidation does not exist.")
}
