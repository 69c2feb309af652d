package rfc2136_test

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/berth-dev/berth/internal/dnstest"
	"github.com/berth-dev/berth/internal/rfc2136"
)

var secret = base64.StdEncoding.EncodeToString([]byte("a test key of thirty-two bytes!!"))

// lookup asks the server for the TXT values at name, as a resolver would.
func lookup(t *testing.T, addr, name string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	r, _, err := new(dns.Client).Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(txt.Txt, ""))
		}
	}
	return out
}

// TestAppendAndDelete publishes and removes TXT records through a signed
// update, as certmagic's DNS-01 solver does, and the server then serves
// (or no longer serves) them.
func TestAppendAndDelete(t *testing.T) {
	z := dnstest.Start(t, "cliniciq.test", "berth-edge", secret)
	p := &rfc2136.Provider{Server: z.Addr, Zone: "cliniciq.test", KeyName: "berth-edge", Secret: secret}
	ctx := context.Background()
	// certmagic passes the zone it found by SOA and a name relative to it.
	long := strings.Repeat("v", 300) + `\end`
	got, err := p.AppendRecords(ctx, "cliniciq.test.", []libdns.Record{
		libdns.RR{Name: "_acme-challenge", Type: "TXT", Data: "token-1", TTL: time.Minute},
		libdns.TXT{Name: "_acme-challenge.sandbox", Text: long},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RR().Name != "_acme-challenge" || got[0].RR().Data != "token-1" {
		t.Fatalf("AppendRecords returned %+v", got)
	}
	if _, ok := got[0].(libdns.TXT); !ok {
		t.Errorf("AppendRecords returned a %T, want libdns.TXT", got[0])
	}
	if v := lookup(t, z.Addr, "_acme-challenge.cliniciq.test"); !slices.Equal(v, []string{"token-1"}) {
		t.Errorf("served TXT = %q", v)
	}
	if v := z.TXT("_acme-challenge.sandbox.cliniciq.test"); !slices.Equal(v, []string{long}) {
		t.Errorf("the long value came out as %q", v)
	}
	// A second value at the same name is added beside the first.
	if _, err := p.AppendRecords(ctx, "cliniciq.test.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "token-2"}}); err != nil {
		t.Fatal(err)
	}
	if v := lookup(t, z.Addr, "_acme-challenge.cliniciq.test"); len(v) != 2 {
		t.Errorf("after a second append: %q", v)
	}
	// Deleting what AppendRecords returned removes exactly that record.
	if _, err := p.DeleteRecords(ctx, "cliniciq.test.", got[:1]); err != nil {
		t.Fatal(err)
	}
	if v := lookup(t, z.Addr, "_acme-challenge.cliniciq.test"); !slices.Equal(v, []string{"token-2"}) {
		t.Errorf("after deleting token-1: %q", v)
	}
	// Empty data removes the whole set.
	if _, err := p.DeleteRecords(ctx, "cliniciq.test.", []libdns.Record{libdns.RR{Name: "_acme-challenge", Type: "TXT"}}); err != nil {
		t.Fatal(err)
	}
	if v := lookup(t, z.Addr, "_acme-challenge.cliniciq.test"); len(v) != 0 {
		t.Errorf("after deleting the set: %q", v)
	}
	if n := z.Updates(); n != 4 {
		t.Errorf("the server applied %d updates, want 4", n)
	}
}

// TestZoneFromConfiguration sends the update to the configured zone when
// certmagic found a deeper one (a delegated subzone the primary also
// serves as part of its own), and refuses names outside it unsent.
func TestZoneFromConfiguration(t *testing.T) {
	z := dnstest.Start(t, "cliniciq.test", "berth-edge", secret)
	p := &rfc2136.Provider{Server: z.Addr, Zone: "cliniciq.test.", KeyName: "berth-edge", Secret: secret}
	ctx := context.Background()
	if _, err := p.AppendRecords(ctx, "drsmith.cliniciq.test", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "t"}}); err != nil {
		t.Fatal(err)
	}
	if v := z.TXT("_acme-challenge.drsmith.cliniciq.test"); !slices.Equal(v, []string{"t"}) {
		t.Errorf("served %q", v)
	}
	_, err := p.AppendRecords(ctx, "elsewhere.test.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "t"}})
	if err == nil || !strings.Contains(err.Error(), "not in the zone") {
		t.Errorf("a name outside the zone: %v", err)
	}
	if n := z.Updates(); n != 1 || len(z.Refused()) != 0 {
		t.Errorf("updates %d, refused %q; want 1 and none", n, z.Refused())
	}
	if !p.Covers("*.cliniciq.test") || !p.Covers("*.sandbox.drsmith.cliniciq.test") || p.Covers("*.example.com") || p.Covers("*.xcliniciq.test") {
		t.Error("Covers is wrong")
	}
}

// TestRefused: the server refuses an update signed with the wrong secret
// or an unknown key, and the error says which key, never the secret.
func TestRefused(t *testing.T) {
	z := dnstest.Start(t, "cliniciq.test", "berth-edge", secret)
	wrong := base64.StdEncoding.EncodeToString([]byte("another key, thirty-two bytes!!!"))
	ctx := context.Background()
	rec := []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "t"}}
	for _, p := range []*rfc2136.Provider{
		{Server: z.Addr, KeyName: "berth-edge", Secret: wrong},
		{Server: z.Addr, KeyName: "someone-else", Secret: secret},
	} {
		_, err := p.AppendRecords(ctx, "cliniciq.test.", rec)
		if err == nil {
			t.Fatalf("the update with key %s and a wrong secret was accepted", p.KeyName)
		}
		if strings.Contains(err.Error(), p.Secret) {
			t.Errorf("the error repeats the secret: %v", err)
		}
	}
	if n := z.Updates(); n != 0 {
		t.Errorf("the server applied %d updates", n)
	}
	if v := z.TXT("_acme-challenge.cliniciq.test"); len(v) != 0 {
		t.Errorf("a refused update left %q", v)
	}
	// The server itself refuses an unsigned update.
	m := new(dns.Msg)
	m.SetUpdate("cliniciq.test.")
	rr, _ := dns.NewRR(`_acme-challenge.cliniciq.test. 60 IN TXT "unsigned"`)
	m.Insert([]dns.RR{rr})
	r, _, err := (&dns.Client{Net: "tcp"}).Exchange(m, z.Addr)
	if err != nil || r.Rcode != dns.RcodeRefused {
		t.Errorf("an unsigned update: %v, %v", r, err)
	}
	if v := z.TXT("_acme-challenge.cliniciq.test"); len(v) != 0 {
		t.Errorf("the unsigned update left %q", v)
	}
}

// TestCheck names what is missing without repeating the secret.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		p    rfc2136.Provider
		want string
	}{
		{rfc2136.Provider{KeyName: "k", Secret: secret}, "server"},
		{rfc2136.Provider{Server: "127.0.0.1:53", Secret: secret}, "key name"},
		{rfc2136.Provider{Server: "127.0.0.1:53", KeyName: "k"}, "secret is not set"},
		{rfc2136.Provider{Server: "127.0.0.1:53", KeyName: "k", Secret: "not base64!"}, "not base64"},
		{rfc2136.Provider{Server: "127.0.0.1:53", KeyName: "k", Secret: secret, Algorithm: "hmac-md5"}, "not one of"},
		{rfc2136.Provider{Server: "127.0.0.1:53", KeyName: "k", Secret: secret, Zone: "bad zone"}, "not a domain name"},
	} {
		err := tc.p.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.p.Secret != "" && strings.Contains(err.Error(), tc.p.Secret)) {
			t.Errorf("Check(%+v) = %v, want it to say %q", tc.p, err, tc.want)
		}
	}
	ok := rfc2136.Provider{Server: "127.0.0.1:53", KeyName: "k", Secret: secret, Algorithm: "HMAC-SHA512."}
	if err := ok.Check(); err != nil {
		t.Errorf("Check = %v", err)
	}
}
