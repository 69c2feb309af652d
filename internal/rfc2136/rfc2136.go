// Package rfc2136 changes records of a DNS zone by RFC 2136 dynamic
// update, signed with a TSIG key (RFC 8945), as a libdns provider: what
// the edge's certificate manager uses to publish ACME DNS-01 challenges
// on the operator's own authoritative server (BIND, Knot, PowerDNS,
// CoreDNS and most others accept such updates).
package rfc2136

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// Provider sends signed dynamic updates to one primary server.
type Provider struct {
	// Server is the primary's address (host:port).
	Server string
	// Zone is the zone the updates change ("example.com"). Empty: the
	// zone each call names. A record outside it is refused before
	// anything is sent.
	Zone string
	// KeyName, Algorithm and Secret are the TSIG key the server knows:
	// its name, its algorithm (empty: hmac-sha256) and its secret in
	// base64, as BIND's tsig-keygen prints it.
	KeyName, Algorithm, Secret string
	// Timeout bounds one exchange with the server (0: 10 s).
	Timeout time.Duration
}

// Algorithms are the TSIG algorithms a Provider signs with.
var Algorithms = []string{"hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1"}

// Check reports what is wrong with p's configuration, naming the
// setting; it never repeats the secret.
func (p *Provider) Check() error {
	switch {
	case p.Server == "":
		return errors.New("the RFC 2136 server's address is not set")
	case p.KeyName == "":
		return errors.New("the TSIG key name is not set")
	case p.Secret == "":
		return errors.New("the TSIG secret is not set")
	}
	if _, err := base64.StdEncoding.DecodeString(p.Secret); err != nil {
		return errors.New("the TSIG secret is not base64 (give it as tsig-keygen prints it)")
	}
	if _, err := p.algorithm(); err != nil {
		return err
	}
	if p.Zone != "" {
		if _, ok := dns.IsDomainName(p.Zone); !ok || strings.ContainsAny(p.Zone, " \t*") {
			return fmt.Errorf("the zone %q is not a domain name", p.Zone)
		}
	}
	return nil
}

func (p *Provider) algorithm() (string, error) {
	a := strings.TrimSuffix(strings.ToLower(p.Algorithm), ".")
	if a == "" {
		a = "hmac-sha256"
	}
	for _, known := range Algorithms {
		if a == known {
			return dns.Fqdn(a), nil
		}
	}
	return "", fmt.Errorf("the TSIG algorithm %q is not one of %s", p.Algorithm, strings.Join(Algorithms, ", "))
}

// Covers reports whether name ("*.example.com", "x.example.com") lies in
// the provider's zone, so that its DNS-01 record can be published.
func (p *Provider) Covers(name string) bool {
	if p.Zone == "" {
		return true
	}
	return dns.IsSubDomain(dns.Fqdn(strings.ToLower(p.Zone)), dns.Fqdn(strings.ToLower(strings.TrimPrefix(name, "*."))))
}

// AppendRecords adds recs to the zone in one update and returns them.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.update(ctx, zone, recs, (*dns.Msg).Insert)
}

// DeleteRecords removes recs from the zone in one update and returns
// them. A record whose type or data is empty removes every record of the
// name (and type) it names.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.update(ctx, zone, recs, nil)
}

// update sends one signed UPDATE for recs: add (insert), or remove when
// add is nil.
func (p *Provider) update(ctx context.Context, zone string, recs []libdns.Record, add func(*dns.Msg, []dns.RR)) ([]libdns.Record, error) {
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("rfc2136: %w", err)
	}
	target := dns.Fqdn(strings.ToLower(zone))
	if p.Zone != "" {
		target = dns.Fqdn(strings.ToLower(p.Zone))
	}
	m := new(dns.Msg)
	m.SetUpdate(target)
	out := make([]libdns.Record, 0, len(recs))
	for _, rec := range recs {
		r := rec.RR()
		fqdn := strings.ToLower(libdns.AbsoluteName(r.Name, dns.Fqdn(zone)))
		if !dns.IsSubDomain(target, fqdn) {
			return nil, fmt.Errorf("rfc2136: %s is not in the zone %s", fqdn, target)
		}
		rr, err := toRR(fqdn, r, add == nil)
		if err != nil {
			return nil, fmt.Errorf("rfc2136: %w", err)
		}
		switch {
		case add != nil:
			add(m, []dns.RR{rr})
		case r.Type == "":
			m.RemoveName([]dns.RR{rr})
		case r.Data == "":
			m.RemoveRRset([]dns.RR{rr})
		default:
			m.Remove([]dns.RR{rr})
		}
		if parsed, err := r.Parse(); err == nil {
			out = append(out, parsed)
		} else {
			out = append(out, r)
		}
	}
	alg, _ := p.algorithm()
	key := dns.Fqdn(strings.ToLower(p.KeyName))
	m.SetTsig(key, alg, 300, time.Now().Unix())
	timeout := p.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	// TCP: an update must not be lost or replayed the way a UDP one can.
	c := &dns.Client{Net: "tcp", Timeout: timeout, TsigSecret: map[string]string{key: p.Secret}}
	resp, _, err := c.ExchangeContext(ctx, m, p.Server)
	if err != nil {
		return nil, fmt.Errorf("rfc2136: updating %s at %s: %w", target, p.Server, err)
	}
	if resp.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("rfc2136: the server at %s refused the update of zone %s signed with key %s: %s",
			p.Server, target, p.KeyName, dns.RcodeToString[resp.Rcode])
	}
	return out, nil
}

// toRR makes the wire record of r at fqdn. For a removal the type and
// data may be empty; the class and TTL are set by the update's Remove
// functions.
func toRR(fqdn string, r libdns.RR, removal bool) (dns.RR, error) {
	ttl := uint32(r.TTL / time.Second)
	hdr := dns.RR_Header{Name: fqdn, Class: dns.ClassINET, Ttl: ttl}
	switch {
	case r.Type == "" && removal:
		hdr.Rrtype = dns.TypeANY
		return &dns.ANY{Hdr: hdr}, nil
	case r.Type == "":
		return nil, fmt.Errorf("the record at %s has no type", fqdn)
	case strings.EqualFold(r.Type, "TXT"):
		hdr.Rrtype = dns.TypeTXT
		return &dns.TXT{Hdr: hdr, Txt: splitTXT(r.Data)}, nil
	case r.Data == "" && removal:
		t, ok := dns.StringToType[strings.ToUpper(r.Type)]
		if !ok {
			return nil, fmt.Errorf("unknown record type %q", r.Type)
		}
		hdr.Rrtype = t
		return &dns.ANY{Hdr: hdr}, nil
	}
	rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", fqdn, ttl, strings.ToUpper(r.Type), r.Data))
	if err != nil {
		return nil, fmt.Errorf("the %s record at %s: %w", r.Type, fqdn, err)
	}
	return rr, nil
}

// splitTXT cuts a TXT value into the 255-byte strings a record holds,
// escaping the backslashes the wire encoder would otherwise read as
// escapes.
func splitTXT(s string) []string {
	var out []string
	for {
		n := min(len(s), 255)
		out = append(out, strings.ReplaceAll(s[:n], `\`, `\\`))
		if s = s[n:]; s == "" {
			return out
		}
	}
}

var (
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
)
