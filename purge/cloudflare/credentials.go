package cloudflare

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/cloudflare/cloudflare-go/v7/accounts"
	"github.com/cloudflare/cloudflare-go/v7/option"

	"github.com/edgepurge/edgepurge/purge"
)

// codeInvalidAPIToken is the code of a verify endpoint's 401 for a token it
// does not verify: an unknown token, or at the user endpoint an
// account-owned one.
const codeInvalidAPIToken = 1000

// tokenStatus is token verify's result.
type tokenStatus struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// CheckToken asks Cloudflare whether the API token is valid and active:
// with Config.AccountID at the account-owned tokens' endpoint, GET
// /accounts/{account_id}/tokens/verify (the SDK's accounts package),
// otherwise at the user tokens' GET /user/tokens/verify. The user endpoint
// answers an account-owned token as it answers an unknown one (401, code
// 1000), so that error says the token may be account-owned and to set
// cloudflare.account_id. Verifying needs no permission. Its error is a
// *purge.Error that never contains the token; Retryable tells an
// unreachable API apart from a rejected token.
func (p *Purger) CheckToken(ctx context.Context) error {
	if p.accountID != "" {
		return p.checkAccountToken(ctx)
	}
	const op = "verify cloudflare token"
	var env envelope[tokenStatus]
	var res *http.Response
	_, err := p.tokens.Verify(ctx, option.WithResponseBodyInto(&env), option.WithResponseInto(&res))
	if err != nil {
		pe := p.toError(ctx, op, res, err)
		if rejected(pe) {
			pe.Message += "; the token is invalid, or it looks like an account-owned token, which this user-token endpoint " +
				"does not verify: for an account-owned token set cloudflare.account_id (env CLOUDFLARE_ACCOUNT_ID) " +
				"to verify it at /accounts/{account_id}/tokens/verify"
		}
		return pe
	}
	return active(op, env, res)
}

// checkAccountToken verifies an account-owned token at its account's
// endpoint.
func (p *Purger) checkAccountToken(ctx context.Context) error {
	op := "verify cloudflare account token (account " + p.accountID + ")"
	var params accounts.TokenVerifyParams
	params.AccountID.Value, params.AccountID.Present = p.accountID, true
	var env envelope[tokenStatus]
	var res *http.Response
	_, err := p.accountTokens.Verify(ctx, params, option.WithResponseBodyInto(&env), option.WithResponseInto(&res))
	if err != nil {
		pe := p.toError(ctx, op, res, err)
		if rejected(pe) {
			pe.Message += fmt.Sprintf("; the token is invalid, or not owned by account %s "+
				"(a user token verifies without cloudflare.account_id; check the account id)", p.accountID)
		}
		return pe
	}
	return active(op, env, res)
}

// rejected reports whether a verify endpoint refused the token itself
// (401, code 1000), as opposed to an outage or a malformed request.
func rejected(pe *purge.Error) bool {
	return pe.StatusCode == http.StatusUnauthorized && slices.Contains(pe.Codes, codeInvalidAPIToken)
}

// active checks a verify answer that arrived without error.
func active(op string, env envelope[tokenStatus], res *http.Response) error {
	if pe := env.check(op, res); pe != nil {
		return pe
	}
	if env.Result.Status != "active" {
		return &purge.Error{Op: op, StatusCode: res.StatusCode, Message: fmt.Sprintf("token is %q, not active", env.Result.Status)}
	}
	return nil
}
