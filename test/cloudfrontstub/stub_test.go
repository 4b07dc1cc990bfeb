package cloudfrontstub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

const dist = "E2QWRUHEXAMPLE"

// client is the real SDK's client at the stand-in, signing with id and
// secret.
func client(t *testing.T, opts Options, id, secret string) (*Server, *cf.Client) {
	s, c, _ := clientAt(t, opts, id, secret)
	return s, c
}

// clientAt is client, with the stand-in's base URL.
func clientAt(t *testing.T, opts Options, id, secret string) (*Server, *cf.Client, string) {
	t.Helper()
	opts.Distributions = map[string][]string{dist: {"status.example.com"}}
	s := New(opts)
	base, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	c := cf.New(cf.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(base), Retryer: aws.NopRetryer{},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, nil
		}),
	})
	return s, c, base
}

func create(c *cf.Client, ref string, paths ...string) (*cf.CreateInvalidationOutput, error) {
	return c.CreateInvalidation(context.Background(), &cf.CreateInvalidationInput{
		DistributionId: aws.String(dist),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String(ref),
			Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	})
}

// code is the API error code of err, "" when none.
func code(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// The signature is checked: an unknown key, a wrong secret.
func TestSignatures(t *testing.T) {
	for _, c := range []struct{ id, secret, want string }{
		{"AKIAUNKNOWN000000000", TestSecretAccessKey, "InvalidClientTokenId"},
		{TestAccessKeyID, "wrong/secret/0000000000000000000000000000", "SignatureDoesNotMatch"},
		{TestAccessKeyID, TestSecretAccessKey, ""},
	} {
		_, cl := client(t, Options{}, c.id, c.secret)
		_, err := cl.GetDistribution(context.Background(), &cf.GetDistributionInput{Id: aws.String(dist)})
		if code(err) != c.want {
			t.Errorf("key %s: err %v, want code %q", c.id, err, c.want)
		}
	}
	// A request without a signature.
	_, _, base := clientAt(t, Options{}, TestAccessKeyID, TestSecretAccessKey)
	res, err := http.Get(base + "/2020-05-31/distribution/" + dist)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned: %d, want 403", res.StatusCode)
	}
}

// The same CallerReference with the same batch answers the invalidation
// made; with other paths, InvalidationBatchAlreadyExists.
func TestCallerReference(t *testing.T) {
	s, c := client(t, Options{}, TestAccessKeyID, TestSecretAccessKey)
	first, err := create(c, "ref-1", "/a", "/b")
	if err != nil {
		t.Fatal(err)
	}
	again, err := create(c, "ref-1", "/a", "/b")
	if err != nil || aws.ToString(again.Invalidation.Id) != aws.ToString(first.Invalidation.Id) {
		t.Fatalf("the same batch again: %v, %+v", err, again)
	}
	if _, err := create(c, "ref-1", "/a", "/c"); code(err) != "InvalidationBatchAlreadyExists" {
		t.Errorf("the same reference, other paths: %v", err)
	}
	if n := len(s.Invalidations(dist)); n != 1 {
		t.Errorf("%d invalidations, want 1", n)
	}
}

// The in-progress limits and the batch size are enforced; an invalidation
// completes once read, or after HoldInProgress ends.
func TestLimits(t *testing.T) {
	s, c := client(t, Options{MaxPathsInProgress: 3, MaxWildcardsInProgress: 1, MaxPathsPerBatch: 3}, TestAccessKeyID, TestSecretAccessKey)
	s.HoldInProgress(true)
	if _, err := create(c, "r1", "/a", "/b", "/c", "/d"); code(err) != "BatchTooLarge" {
		t.Errorf("4 paths in a batch of at most 3: %v", err)
	}
	if _, err := create(c, "r2", "/a", "/b", "/x/*"); err != nil {
		t.Fatal(err)
	}
	for i, paths := range [][]string{{"/c", "/d"}, {"/y/*"}} {
		if _, err := create(c, fmt.Sprint("r3-", i), paths...); code(err) != "TooManyInvalidationsInProgress" {
			t.Errorf("%v over the limits in progress: %v", paths, err)
		}
	}
	s.HoldInProgress(false)
	inv := s.Invalidations(dist)[0]
	out, err := c.GetInvalidation(context.Background(), &cf.GetInvalidationInput{DistributionId: aws.String(dist), Id: aws.String(inv.ID)})
	if err != nil || aws.ToString(out.Invalidation.Status) != StatusCompleted {
		t.Fatalf("read after the hold: %v %+v", err, out)
	}
	if _, err := create(c, "r4", "/c", "/d", "/y/*"); err != nil {
		t.Errorf("once completed, room again: %v", err)
	}
	if p, w := s.Peak(dist); p != 2 || w != 1 || s.RefusedForLimits() != 2 {
		t.Errorf("peak %d paths %d wildcards, %d refused", p, w, s.RefusedForLimits())
	}
}

// A key without a permission is refused with AccessDenied naming it.
func TestDenied(t *testing.T) {
	_, c := client(t, Options{Denied: []string{ActionCreateInvalidation}}, TestAccessKeyID, TestSecretAccessKey)
	if _, err := create(c, "r", "/a"); code(err) != "AccessDenied" || !strings.Contains(err.Error(), ActionCreateInvalidation) {
		t.Errorf("denied: %v", err)
	}
}
