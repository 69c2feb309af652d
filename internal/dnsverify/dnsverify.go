// Package dnsverify looks up the TXT records that prove a custom domain's
// owner controls its DNS, against a configured nameserver or the system's
// resolver.
package dnsverify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// ErrNoRecord is returned when the name exists but has no TXT record, or
// does not exist.
var ErrNoRecord = errors.New("no TXT record")

// Resolver looks up TXT records. The zero Resolver uses the system's.
type Resolver struct {
	// Addr is a nameserver's host:port, queried over UDP (falling back to
	// TCP when the answer is truncated); empty uses the system resolver.
	Addr string
	// Timeout bounds one query (0: 5s).
	Timeout time.Duration
}

// LookupTXT returns the TXT strings at name, each record's strings joined.
func (r Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	if r.Addr == "" {
		txt, err := net.DefaultResolver.LookupTXT(ctx, name)
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return nil, fmt.Errorf("looking up TXT %s: %w", name, ErrNoRecord)
		}
		if err != nil {
			return nil, fmt.Errorf("looking up TXT %s: %w", name, err)
		}
		return txt, nil
	}
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	c := &dns.Client{Net: "udp", Timeout: timeout}
	in, _, err := c.ExchangeContext(ctx, m, r.Addr)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, m, r.Addr)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up TXT %s: %w", name, err)
	}
	switch in.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, fmt.Errorf("looking up TXT %s: %w", name, ErrNoRecord)
	default:
		return nil, fmt.Errorf("looking up TXT %s: nameserver answered %s", name, dns.RcodeToString[in.Rcode])
	}
	var out []string
	for _, rr := range in.Answer {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("looking up TXT %s: %w", name, ErrNoRecord)
	}
	return out, nil
}
