package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/edgepurge/edgepurge/purge"
)

// zoneDetails is the part of GET zones/{id}'s result CheckZone reads.
type zoneDetails struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Paused bool   `json:"paused"`
}

// CheckZone reads zone zoneID with the purger's token: the zone must exist
// and be visible to the token (a token scoped to other zones cannot read,
// nor purge, this one). Reading needs "Zone → Zone → Read", which purging
// does not: a token without it is refused with 403 (code 9109), and the
// error names PermissionZoneRead. It is a plain authenticated GET: the
// SDK's zones package would add a large dependency for one call. Its error
// is a *purge.Error that never contains the token.
func (p *Purger) CheckZone(ctx context.Context, zoneID string) error {
	op := "read cloudflare zone " + zoneID
	if zoneID == "" {
		return &purge.Error{Op: op, Message: "no zone id"}
	}
	u := strings.TrimRight(p.baseURL, "/") + "/zones/" + url.PathEscape(zoneID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &purge.Error{Op: op, Message: p.redact(err.Error())}
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	hc := p.httpClient
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return p.toError(ctx, op, nil, err)
	}
	defer res.Body.Close()
	var env envelope[zoneDetails]
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, &env)
	}
	if err != nil {
		return &purge.Error{Op: op, StatusCode: res.StatusCode, Retryable: purge.RetryableStatus(res.StatusCode),
			Message: "unreadable answer: " + p.redact(err.Error())}
	}
	if res.StatusCode/100 != 2 {
		env.Success = false
	}
	if pe := env.check(op, res); pe != nil {
		pe.Retryable = purge.RetryableStatus(res.StatusCode)
		return refused(pe, PermissionZoneRead, zoneID, "only this read needs it; purging needs "+PermissionCachePurge)
	}
	if env.Result.Paused || (env.Result.Status != "" && env.Result.Status != "active") {
		return &purge.Error{Op: op, StatusCode: res.StatusCode,
			Message: fmt.Sprintf("zone %s (%s) is %s, paused=%t", env.Result.ID, env.Result.Name, env.Result.Status, env.Result.Paused)}
	}
	return nil
}
