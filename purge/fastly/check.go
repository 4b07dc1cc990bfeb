package fastly

import (
	"context"
	"net/http"
	"strings"

	"github.com/edgepurge/edgepurge/purge"
)

// tokenDetails is the part of GET /tokens/self's answer CheckToken reads.
type tokenDetails struct {
	ID    string `json:"id"`
	Scope string `json:"scope"`
}

// CheckToken asks Fastly about the API token (GET /tokens/self): it must be
// accepted and its scope must allow purging (global, purge_select or
// purge_all). Its error is a *purge.Error that never contains the token;
// Retryable tells an unreachable API apart from a rejected token.
func (p *Purger) CheckToken(ctx context.Context) error {
	const op = "check fastly token"
	var tok tokenDetails
	if pe := p.call(ctx, op, http.MethodGet, "/tokens/self", nil, false, &tok); pe != nil {
		return pe
	}
	if tok.Scope == "" {
		return nil
	}
	for _, s := range strings.Fields(tok.Scope) {
		if s == "global" || s == "purge_select" || s == "purge_all" {
			return nil
		}
	}
	return &purge.Error{Op: op, StatusCode: http.StatusOK, Permission: ScopePurgeSelect,
		Message: p.redact("token " + tok.ID + " has scope \"" + tok.Scope + "\", which cannot purge; give the token scope " + ScopePurgeSelect)}
}

// serviceDetails is the part of GET /service/{id}'s answer CheckService
// reads.
type serviceDetails struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	DeletedAt *string `json:"deleted_at"`
}

// CheckService reads service serviceID with the purger's token (GET
// /service/{id}): the service must exist and be visible to the token. A
// token limited to purge_select or purge_all cannot read services and is
// refused with 403; the error then names ScopeGlobalRead in Permission. Its
// error is a *purge.Error that never contains the token.
func (p *Purger) CheckService(ctx context.Context, serviceID string) error {
	op := "read fastly service " + serviceID
	if serviceID == "" {
		return &purge.Error{Op: op, Message: "no service id"}
	}
	var svc serviceDetails
	if pe := p.call(ctx, op, http.MethodGet, servicePath(serviceID), nil, false, &svc); pe != nil {
		return refused(pe, ScopeGlobalRead, "only this read needs it; purging needs "+ScopePurgeSelect)
	}
	if svc.DeletedAt != nil {
		return &purge.Error{Op: op, StatusCode: http.StatusOK,
			Message: p.redact("service " + svc.ID + " (" + svc.Name + ") was deleted at " + *svc.DeletedAt)}
	}
	return nil
}
