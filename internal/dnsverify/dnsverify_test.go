package dnsverify

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// serve starts a real authoritative DNS server on loopback (UDP) that
// answers TXT queries from records, and NXDOMAIN for other names.
func serve(t *testing.T, records map[string][]string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q := req.Question[0]
		mu.Lock()
		txts, ok := records[strings.ToLower(q.Name)]
		mu.Unlock()
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		if q.Qtype == dns.TypeTXT {
			for _, v := range txts {
				m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{v}})
			}
		}
		w.WriteMsg(m)
	})
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestLookupTXT(t *testing.T) {
	addr := serve(t, map[string][]string{
		"_berth-challenge.clinic.example.": {"tok-1", "other"},
		"empty.example.":                   nil,
	})
	r := Resolver{Addr: addr}
	ctx := context.Background()

	got, err := r.LookupTXT(ctx, "_berth-challenge.clinic.example")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"tok-1", "other"}) {
		t.Errorf("got %q", got)
	}
	for _, name := range []string{"missing.example", "empty.example"} {
		if _, err := r.LookupTXT(ctx, name); !errors.Is(err, ErrNoRecord) {
			t.Errorf("%s: got %v, want ErrNoRecord", name, err)
		}
	}
	// A nameserver that does not answer is an error, not "no record".
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer pc.Close()
	dead := Resolver{Addr: pc.LocalAddr().String(), Timeout: 200e6}
	if _, err := dead.LookupTXT(ctx, "x.example"); err == nil || errors.Is(err, ErrNoRecord) {
		t.Errorf("silent nameserver: got %v, want a timeout", err)
	}
}
