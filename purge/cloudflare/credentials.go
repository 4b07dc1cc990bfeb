package cloudflare

import (
	"context"
	"fmt"
	"net/http"

	"github.com/cloudflare/cloudflare-go/v7/option"

	"github.com/edgepurge/edgepurge/purge"
)

// tokenStatus is token verify's result.
type tokenStatus struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// CheckToken asks Cloudflare whether the API token is valid and active. Its
// error is a *purge.Error that never contains the token; Retryable tells an
// unreachable API apart from a rejected token.
func (p *Purger) CheckToken(ctx context.Context) error {
	const op = "verify cloudflare token"
	var env envelope[tokenStatus]
	var res *http.Response
	_, err := p.tokens.Verify(ctx, option.WithResponseBodyInto(&env), option.WithResponseInto(&res))
	if err != nil {
		return p.toError(ctx, op, res, err)
	}
	if pe := env.check(op, res); pe != nil {
		return pe
	}
	if env.Result.Status != "active" {
		return &purge.Error{Op: op, StatusCode: res.StatusCode, Message: fmt.Sprintf("token is %q, not active", env.Result.Status)}
	}
	return nil
}
