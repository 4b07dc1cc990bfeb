package cloudfront

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/edgepurge/edgepurge/purge"
)

// CheckDistribution reads distribution id (GetDistribution) with the
// purger's credentials: it must exist and be readable. Refused
// credentials say which to fix; a missing permission names
// cloudfront:GetDistribution and the two the purges need. Its error is a
// *purge.Error; Retryable tells an unreachable API apart from a refusal.
func (p *Purger) CheckDistribution(ctx context.Context, id string) error {
	op := "read cloudfront distribution " + id
	if !validDistribution(id) {
		return &purge.Error{Op: op, Message: distributionRule}
	}
	out, err := p.api.GetDistribution(ctx, &cf.GetDistributionInput{Id: aws.String(id)})
	if err != nil {
		pe := apiError(ctx, op, PermGetDistribution, err)
		if pe.Permission != "" {
			pe.Message += " (purging needs " + PermCreateInvalidation + " and " + PermGetInvalidation + ")"
		}
		if codeOf(err) == codeNoDistribution {
			pe.Message += "; check cloudfront.distribution_id, distributions and zones"
		}
		return pe
	}
	if out.Distribution == nil {
		return &purge.Error{Op: op, Retryable: true, Message: "answer without a distribution"}
	}
	var aliases []string
	if dc := out.Distribution.DistributionConfig; dc != nil && dc.Aliases != nil {
		aliases = dc.Aliases.Items
	}
	// A host the config says the distribution serves alone is purged as
	// "/*" there: that must not purge another of its hosts.
	for host, d := range p.cfg.Distributions {
		if d != id || p.cfg.HostPurge(host) != nil {
			continue
		}
		for _, a := range aliases {
			if !strings.EqualFold(a, host) {
				return &purge.Error{Op: op, StatusCode: http.StatusOK,
					Message: fmt.Sprintf("the distribution also serves %s, so a purge of host %s (\"/*\") would purge it too: map %s in cloudfront.distributions as well", a, host, a)}
			}
		}
	}
	return nil
}

// ProveInvalidation creates one invalidation of path on distribution id,
// without waiting for it to complete: the deploy gate's proof that the
// credentials may purge (cloudfront:CreateInvalidation), which no read
// can give. Each call is a new invalidation of one path, so it is kept
// for `edgepurge check`, not the readiness probe (see docs/cdns.md). Its
// error is a *purge.Error naming the permission a refusal lacks.
func (p *Purger) ProveInvalidation(ctx context.Context, id, path string) error {
	op := fmt.Sprintf("invalidate %s on cloudfront distribution %s", path, id)
	if !validDistribution(id) {
		return &purge.Error{Op: op, Message: distributionRule}
	}
	ref := fmt.Sprintf("edgepurge-check-%d", time.Now().UnixNano())
	_, err := p.api.CreateInvalidation(ctx, &cf.CreateInvalidationInput{
		DistributionId: aws.String(id),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String(ref),
			Paths:           &types.Paths{Quantity: aws.Int32(1), Items: []string{path}},
		},
	})
	if err != nil {
		return apiError(ctx, op, PermCreateInvalidation, err)
	}
	return nil
}
