package retry

import (
	"strings"

	"github.com/edgepurge/edgepurge/purge"
)

// Reasons a purge is retried, the values of the retries metric's label.
const (
	ReasonThrottled = "429"
	ReasonServer    = "5xx"
	ReasonTimeout   = "timeout"
	ReasonNetwork   = "network"
	ReasonOther     = "other"
)

// Retryable reports whether err is a failure the same purge may get past
// later: a *purge.Error marked Retryable. Anything else, a permanent
// refusal or an error of unknown kind, is not retried.
func Retryable(err error) bool {
	pe := purge.AsError(err)
	return pe != nil && pe.Retryable
}

// Reason classifies a retryable failure for the retries metric.
func Reason(err error) string {
	pe := purge.AsError(err)
	switch {
	case pe == nil:
		return ReasonOther
	case pe.StatusCode == 429:
		return ReasonThrottled
	case pe.StatusCode >= 500:
		return ReasonServer
	case pe.StatusCode == 408, isTimeout(pe):
		return ReasonTimeout
	case pe.StatusCode == 0:
		return ReasonNetwork
	default:
		return ReasonOther
	}
}

// isTimeout reports whether no answer arrived in time. The purger keeps
// only the message of such failures, so the message is what is read.
func isTimeout(pe *purge.Error) bool {
	if pe.StatusCode != 0 {
		return false
	}
	m := strings.ToLower(pe.Message)
	return strings.Contains(m, "deadline exceeded") || strings.Contains(m, "timeout")
}
