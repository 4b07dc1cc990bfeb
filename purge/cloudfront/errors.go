package cloudfront

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/edgepurge/edgepurge/purge"
)

// IAM actions the purger needs, named in purge.Error.Permission.
const (
	PermCreateInvalidation = "cloudfront:CreateInvalidation"
	PermGetInvalidation    = "cloudfront:GetInvalidation"
	PermGetDistribution    = "cloudfront:GetDistribution"
)

// CloudFront's error codes the purger tells apart.
const (
	codeTooMany        = "TooManyInvalidationsInProgress"
	codeThrottling     = "Throttling"
	codeAccessDenied   = "AccessDenied"
	codeBadKey         = "InvalidClientTokenId"
	codeBadSignature   = "SignatureDoesNotMatch"
	codeNoCredentials  = "MissingAuthenticationToken"
	codeAlreadyExists  = "InvalidationBatchAlreadyExists"
	codeNoDistribution = "NoSuchDistribution"
	codeNoInvalidation = "NoSuchInvalidation"
)

// defaultThrottleWait is how long a throttled call waits when CloudFront
// says nothing of when to come back.
const defaultThrottleWait = time.Second

// apiErr is the part of the SDK's API errors the purger reads (smithy's
// APIError, without importing smithy).
type apiErr interface {
	ErrorCode() string
	ErrorMessage() string
}

// credentialsFix says how to fix credentials CloudFront refused.
const credentialsFix = "check the AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or cloudfront.access_key_id and secret_access_key, or AWS_PROFILE / the role edgepurge runs as)"

// apiError turns a failed SDK call into a *purge.Error: the status,
// CloudFront's code and message, whether a retry may pass, Retry-After,
// and for AccessDenied the IAM action perm the key lacks. It never carries
// the request's signature or keys: only the code and message CloudFront
// wrote.
func apiError(ctx context.Context, op, perm string, err error) *purge.Error {
	pe := &purge.Error{Op: op}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		pe.StatusCode = re.HTTPStatusCode()
		if re.Response != nil && re.Response.Response != nil {
			pe.RetryAfter = purge.ParseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
		}
	}
	var ae apiErr
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
		pe.Message = strings.TrimSpace(code + ": " + ae.ErrorMessage())
	}
	switch {
	case pe.StatusCode == 0 && ctx.Err() != nil:
		pe.Message, pe.Retryable = ctx.Err().Error(), true
		return pe
	case pe.StatusCode == 0 && code == "":
		// No answer: a network error or timeout, or no credentials at all.
		msg := err.Error()
		if strings.Contains(msg, "credentials") {
			pe.Message = "no AWS credentials: " + credentialsFix
			return pe
		}
		pe.Message, pe.Retryable = lastPart(msg), true
		return pe
	}
	switch {
	case code == codeTooMany || throttled(code) || code == "ServiceUnavailable":
		pe.Retryable = true
	case code == codeAccessDenied:
		pe.Permission = perm
		pe.Message += "; grant the key's IAM policy " + perm
	case code == codeBadKey || code == codeBadSignature || code == codeNoCredentials || code == "ExpiredToken" || code == "IncompleteSignature":
		pe.Message += "; " + credentialsFix
	default:
		pe.Retryable = purge.RetryableStatus(pe.StatusCode)
	}
	if throttled(code) || pe.StatusCode == http.StatusTooManyRequests {
		if pe.RetryAfter == 0 {
			pe.RetryAfter = defaultThrottleWait
		}
	}
	return pe
}

// throttled reports whether code is one of AWS's throttling codes
// (Throttling, ThrottlingException, RequestLimitExceeded): which one
// CloudFront's REST-XML API answers is not documented.
func throttled(code string) bool {
	return code == codeThrottling || code == "ThrottlingException" || code == "RequestLimitExceeded"
}

// codeOf is CloudFront's error code in err, "" when none.
func codeOf(err error) string {
	var ae apiErr
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// lastPart is the end of an SDK error's text ("operation error CloudFront:
// CreateInvalidation, https response error ...: dial tcp ...: connection
// refused"): what went wrong, without the operation the Op already names.
func lastPart(msg string) string {
	if i := strings.LastIndex(msg, ", "); i >= 0 && i+2 < len(msg) {
		return msg[i+2:]
	}
	return msg
}
