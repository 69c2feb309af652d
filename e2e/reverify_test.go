package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/up"
)

// TestDomainReverification removes a verified domain's TXT record from a
// real DNS server and watches the domain fail after the grace period, with
// the reason and events, and its names stop answering.
func TestDomainReverification(t *testing.T) {
	ns := startTXTServer(t)
	p := start(t, func(c *up.Config) {
		c.DNSResolver = ns.addr
		c.DomainRecheck = 100 * time.Millisecond
		c.DomainGrace = 400 * time.Millisecond
	})
	ctx := context.Background()
	o, _, _ := p.tenant(t, "Recheck")
	port := p.edgeAddr[strings.LastIndexByte(p.edgeAddr, ':'):]

	dom, err := p.api.CreateDomain(ctx, client.CreateDomain{Hostname: "recheck.localhost", OrgID: o.ID})
	if err != nil {
		t.Fatal(err)
	}
	ns.publish(t, dom)
	if v, err := p.api.VerifyDomain(ctx, dom.ID); err != nil || v.Status != "verified" {
		t.Fatalf("verify: %+v %v", v, err)
	}
	// The record stays: several rechecks later the domain is verified.
	time.Sleep(600 * time.Millisecond)
	if got, _ := p.api.GetDomain(ctx, dom.ID); got == nil || got.Status != "verified" {
		t.Fatalf("with its record in place: %+v", got)
	}
	// Unknown names under the domain carry the org's brand while it is
	// verified.
	if code, body, _ := p.get(t, "http://nothing.recheck.localhost"+port+"/"); code != 404 || !strings.Contains(body, "Recheck") {
		t.Fatalf("404 under the verified domain: %d %s", code, body)
	}

	ns.set("_berth-challenge.recheck.localhost", "someone-else")
	removed := time.Now()
	var got *client.Domain
	eventually(t, 10*time.Second, "the domain to fail", func() bool {
		got, err = p.api.GetDomain(ctx, dom.ID)
		return err == nil && got.Status == "failed"
	})
	if since := time.Since(removed); since < 400*time.Millisecond {
		t.Errorf("the domain failed %s after its record went, within the grace period", since)
	}
	if !strings.Contains(got.StatusReason, dom.Records[0].Value) || !strings.Contains(got.StatusReason, "someone-else") {
		t.Errorf("reason %q does not say what was expected and found", got.StatusReason)
	}
	events, err := p.api.Events(ctx, dom.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	if all := strings.Join(types, " "); !strings.Contains(all, "domain.verified") || !strings.Contains(all, "domain.record_missing") || !strings.Contains(all, "domain.failed") {
		t.Errorf("events: %s", all)
	}
	if code, body, _ := p.get(t, "http://nothing.recheck.localhost"+port+"/"); code != 404 || strings.Contains(body, "Recheck") {
		t.Errorf("a failed domain's names still carry the org's brand: %d", code)
	}

	// Bad input for domains: 4xx problems, nothing written.
	before, err := p.api.ListDomains(ctx, o.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	rival, err := p.api.CreateOrg(ctx, client.CreateOrg{Name: "Rival Recheck"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   client.CreateDomain
		code string
	}{
		{client.CreateDomain{Hostname: "a.*.example.localhost", OrgID: o.ID}, "invalid_hostname"},
		{client.CreateDomain{Hostname: "*.example.localhost", OrgID: o.ID}, "invalid_hostname"},
		{client.CreateDomain{Hostname: strings.Repeat("a", 64) + ".example", OrgID: o.ID}, "invalid_hostname"},
		{client.CreateDomain{Hostname: "ab--cd.example", OrgID: o.ID}, "invalid_hostname"},
		{client.CreateDomain{Hostname: "127.0.0.1", OrgID: o.ID}, "invalid_hostname"},
		{client.CreateDomain{Hostname: "localhost", OrgID: o.ID}, "invalid_hostname"},
		{client.CreateDomain{Hostname: o.Slug + ".localhost", OrgID: o.ID}, "platform_domain"},
		{client.CreateDomain{Hostname: "x." + rival.Slug + ".localhost", OrgID: o.ID}, "platform_domain"},
	} {
		_, err := p.api.CreateDomain(ctx, tc.in)
		if prob, ok := err.(*client.Problem); !ok || prob.Status/100 != 4 || prob.Code != tc.code {
			t.Errorf("%s: %v, want %s", tc.in.Hostname, err, tc.code)
		}
	}
	after, err := p.api.ListDomains(ctx, o.ID, "")
	if err != nil || len(after) != len(before) {
		t.Errorf("bad input wrote domains: %d before, %d after (%v)", len(before), len(after), err)
	}
}
