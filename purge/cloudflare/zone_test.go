package cloudflare

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/edgepurge/edgepurge/purge"
	"github.com/edgepurge/edgepurge/test/cfstub"
)

func TestCheckZone(t *testing.T) {
	stub, base := startStub(t, cfstub.Options{})
	ctx := context.Background()
	if err := newPurger(t, base, Config{}).CheckZone(ctx, testZone); err != nil {
		t.Errorf("known zone: %v", err)
	}

	err := newPurger(t, base, Config{}).CheckZone(ctx, "unknown-zone")
	pe := purge.AsError(err)
	if pe == nil || pe.StatusCode != 400 || !slices.Equal(pe.Codes, []int{7003, 7000}) || pe.Retryable {
		t.Errorf("unknown zone: %#v", err)
	}

	err = newPurger(t, base, Config{APIToken: "some-other-token"}).CheckZone(ctx, testZone)
	pe = purge.AsError(err)
	if pe == nil || pe.StatusCode != 403 || !slices.Equal(pe.Codes, []int{9109}) || strings.Contains(err.Error(), "some-other-token") {
		t.Errorf("rejected token: %v", err)
	}

	stub.SetFailure(cfstub.Failure{Status: 503})
	if pe := purge.AsError(newPurger(t, base, Config{}).CheckZone(ctx, testZone)); pe == nil || pe.StatusCode != 503 || !pe.Retryable {
		t.Errorf("outage: %#v", pe)
	}
	stub.Close()
	if pe := purge.AsError(newPurger(t, base, Config{}).CheckZone(ctx, testZone)); pe == nil || !pe.Retryable || pe.StatusCode != 0 {
		t.Errorf("unreachable: %#v", pe)
	}
}

func TestObservingTransportCountsPurgesByZone(t *testing.T) {
	_, base := startStub(t, cfstub.Options{})
	type seen struct {
		zone   string
		status int
	}
	var got []seen
	hc := &http.Client{Transport: ObservingTransport(nil, func(zone string, status int) { got = append(got, seen{zone, status}) })}
	p := newPurger(t, base, Config{HTTPClient: hc})
	_ = p.CheckToken(context.Background()) // not a purge: not observed
	_, _ = p.Purge(context.Background(), purge.Request{Zone: testZone, URLs: []string{"https://a.example/"}})
	_, _ = p.Purge(context.Background(), purge.Request{Zone: "nope", Tags: []string{"t"}})
	if want := []seen{{testZone, 200}, {"nope", 400}}; !slices.Equal(got, want) {
		t.Errorf("observed %v, want %v", got, want)
	}
}
