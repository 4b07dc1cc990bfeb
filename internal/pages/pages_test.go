package pages

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgepurge/edgepurge/internal/audit"
	"github.com/edgepurge/edgepurge/internal/plan"
	"github.com/edgepurge/edgepurge/internal/registry"
	"github.com/edgepurge/edgepurge/test/testkit/redistest"
)

func planner(t *testing.T) *plan.Planner {
	t.Helper()
	p, err := plan.New(plan.Rules{MaxURLs: 1000}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A zone the configuration does not have is refused, listing the ones
// it has, before Redis is asked anything.
func TestUnknownZoneNamesTheZones(t *testing.T) {
	s := New(Config{Registry: registry.New(nil, "x:"), Planner: planner(t), Zones: []string{"za", "zb"}})
	_, _, err := s.Put(context.Background(), []Write{{ID: "p1", Hosts: []string{"a.example.com"}, Zone: "zc"}}, false, "api_token", "")
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Field != "zone" || !strings.Contains(inv.Reason, "want one of za, zb") {
		t.Errorf("unknown zone: %v", err)
	}
	s = New(Config{Registry: registry.New(nil, "x:"), Planner: planner(t)})
	if _, _, err := s.Put(context.Background(), []Write{{ID: "p1", Hosts: []string{"a.example.com"}, Zone: "zc"}}, false, "api_token", ""); err == nil || !strings.Contains(err.Error(), "no CDN zone is configured") {
		t.Errorf("a zone with none configured: %v", err)
	}
}

// A change made whose audit record cannot be written is answered with a
// warning saying so, not as a failure (it is made).
func TestPutWarnsWhenTheAuditTrailIsUnwritable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prefix := redistest.Prefix(t)
	srv := redistest.StartServer(t)
	down := redistest.ClientOf(t, srv.Addr())
	srv.Stop()
	s := New(Config{
		Registry: registry.New(redistest.Client(t), prefix+"page:"),
		Planner:  planner(t),
		Trail:    audit.NewPageTrail(down, "audit:pages", 100),
	})
	res, warnings, err := s.Put(ctx, []Write{{ID: "p1", Hosts: []string{"a.example.com"}}}, false, "api_token", "req_1")
	if err != nil || res[0].Result != registry.ResultCreated || len(warnings) != 1 || !strings.Contains(warnings[0], "audit trail could not be written") {
		t.Errorf("Put = %+v, %q, %v", res, warnings, err)
	}
}
