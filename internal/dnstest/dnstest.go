// Package dnstest is a real authoritative DNS server on loopback for
// tests: it answers for one zone from the records it holds, over UDP and
// TCP on one port, and takes RFC 2136 dynamic updates of them signed with
// its TSIG key, refusing unsigned and wrongly signed ones.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Zone is a running server for one zone.
type Zone struct {
	// Addr is the server's address (host:port), UDP and TCP.
	Addr string
	// Name is the zone's apex, fully qualified ("example.test.").
	Name string
	// KeyName and Secret are the TSIG key updates must be signed with.
	KeyName, Secret string

	mu      sync.Mutex
	records map[string][]dns.RR // by lowercase owner name
	updates int
	refused []string // why each refused update was refused
	refuse  bool     // refuse every update, as a misconfigured primary would
}

// Start runs a server for zone until the test ends, taking updates
// signed with the key keyName (hmac-sha256 or another algorithm the
// client names) and the base64 secret.
func Start(t testing.TB, zone, keyName, secret string) *Zone {
	t.Helper()
	z := &Zone{Name: dns.Fqdn(strings.ToLower(zone)), KeyName: dns.Fqdn(strings.ToLower(keyName)), Secret: secret,
		records: map[string][]dns.RR{}}
	z.Add(t, z.Name+" 60 IN SOA ns."+z.Name+" hostmaster."+z.Name+" 1 3600 600 86400 60")
	z.Add(t, z.Name+" 60 IN NS ns."+z.Name)
	// A resolver asks over UDP, Pebble's validation and updates over
	// TCP: one port number serves both, so take a TCP port and then its
	// UDP twin, trying again if that one is taken.
	var pc net.PacketConn
	var ln net.Listener
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if pc, err = net.ListenPacket("udp", l.Addr().String()); err == nil {
			ln = l
			break
		}
		l.Close()
	}
	if ln == nil {
		t.Fatal("no loopback port free for both TCP and UDP")
	}
	z.Addr = pc.LocalAddr().String()
	secrets := map[string]string{z.KeyName: secret}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: z, TsigSecret: secrets}, {Listener: ln, Handler: z, TsigSecret: secrets}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		srv.MsgAcceptFunc = acceptUpdates
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return z
}

// Add puts a record, in zone-file syntax, into the zone.
func (z *Zone) Add(t testing.TB, record string) {
	t.Helper()
	rr, err := dns.NewRR(record)
	if err != nil {
		t.Fatalf("dnstest: %q: %v", record, err)
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	z.add(rr)
}

func (z *Zone) add(rr dns.RR) {
	name := strings.ToLower(rr.Header().Name)
	for _, have := range z.records[name] {
		if dns.IsDuplicate(have, rr) {
			return
		}
	}
	z.records[name] = append(z.records[name], rr)
}

// TXT returns the values of the TXT records at name.
func (z *Zone) TXT(name string) []string {
	z.mu.Lock()
	defer z.mu.Unlock()
	var out []string
	for _, rr := range z.records[dns.Fqdn(strings.ToLower(name))] {
		if txt, ok := rr.(*dns.TXT); ok {
			out = append(out, unescape(strings.Join(txt.Txt, "")))
		}
	}
	return out
}

// unescape turns a TXT string as miekg/dns presents it (\X, \DDD) back
// into its bytes.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] != '\\' || i+1 == len(s):
			b.WriteByte(s[i])
		case i+3 < len(s) && isDigits(s[i+1:i+4]):
			b.WriteByte((s[i+1]-'0')*100 + (s[i+2]-'0')*10 + s[i+3] - '0')
			i += 3
		default:
			b.WriteByte(s[i+1])
			i++
		}
	}
	return b.String()
}

func isDigits(s string) bool { return strings.Trim(s, "0123456789") == "" }

// Updates counts the updates the zone accepted.
func (z *Zone) Updates() int {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.updates
}

// RefuseUpdates makes the server refuse (or take again) every update,
// signed or not, as a primary that does not know the key would.
func (z *Zone) RefuseUpdates(refuse bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.refuse = refuse
}

// Refused says why each refused update was refused.
func (z *Zone) Refused() []string {
	z.mu.Lock()
	defer z.mu.Unlock()
	return append([]string(nil), z.refused...)
}

// ServeDNS answers a query or applies an update.
func (z *Zone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	if req.Opcode == dns.OpcodeUpdate {
		z.update(w, req, m)
		return
	}
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if !dns.IsSubDomain(z.Name, name) {
		m.Rcode, m.Authoritative = dns.RcodeRefused, false
		w.WriteMsg(m)
		return
	}
	z.mu.Lock()
	rrs, ok := z.records[name]
	if !ok {
		// The closest wildcard, as RFC 4592 would have it for the
		// simple cases tests need.
		labels := dns.SplitDomainName(name)
		for i := 1; i < len(labels) && !ok; i++ {
			wild := "*." + strings.Join(labels[i:], ".") + "."
			if !dns.IsSubDomain(z.Name, wild) {
				break
			}
			if rrs, ok = z.records[wild]; ok {
				rrs = synthesize(rrs, q.Name)
			}
		}
	}
	for _, rr := range rrs {
		if t := rr.Header().Rrtype; t == q.Qtype || t == dns.TypeCNAME || q.Qtype == dns.TypeANY {
			m.Answer = append(m.Answer, rr)
		}
	}
	soa := z.records[z.Name][0]
	z.mu.Unlock()
	switch {
	case !ok:
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{soa}
	case len(m.Answer) == 0:
		m.Ns = []dns.RR{soa}
	}
	w.WriteMsg(m)
}

// synthesize makes the records of a wildcard owner answer for name.
func synthesize(rrs []dns.RR, name string) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		out[i].Header().Name = name
	}
	return out
}

// update applies an RFC 2136 update signed with the zone's key.
func (z *Zone) update(w dns.ResponseWriter, req, m *dns.Msg) {
	refuse := func(rcode int, why string) {
		z.mu.Lock()
		z.refused = append(z.refused, why)
		z.mu.Unlock()
		m.Rcode = rcode
		w.WriteMsg(m)
	}
	sig := req.IsTsig()
	z.mu.Lock()
	off := z.refuse
	z.mu.Unlock()
	switch {
	case off:
		refuse(dns.RcodeRefused, "updates are turned off")
		return
	case sig == nil:
		refuse(dns.RcodeRefused, "unsigned")
		return
	case w.TsigStatus() != nil:
		refuse(dns.RcodeNotAuth, "bad signature: "+w.TsigStatus().Error())
		return
	case len(req.Question) != 1 || strings.ToLower(req.Question[0].Name) != z.Name:
		refuse(dns.RcodeNotZone, "not this zone")
		return
	}
	for _, rr := range req.Ns {
		if !dns.IsSubDomain(z.Name, strings.ToLower(rr.Header().Name)) {
			refuse(dns.RcodeNotZone, rr.Header().Name+" is outside the zone")
			return
		}
	}
	z.mu.Lock()
	for _, rr := range req.Ns {
		h := rr.Header()
		name := strings.ToLower(h.Name)
		switch h.Class {
		case dns.ClassINET:
			z.add(rr)
		case dns.ClassANY: // an RRset, or every RRset of the name
			z.records[name] = keep(z.records[name], func(have dns.RR) bool {
				return h.Rrtype != dns.TypeANY && have.Header().Rrtype != h.Rrtype
			})
		case dns.ClassNONE: // one record
			z.records[name] = keep(z.records[name], func(have dns.RR) bool {
				c := dns.Copy(rr)
				c.Header().Class, c.Header().Ttl = dns.ClassINET, have.Header().Ttl
				return !dns.IsDuplicate(have, c)
			})
		}
		if len(z.records[name]) == 0 {
			delete(z.records, name)
		}
	}
	z.updates++
	z.mu.Unlock()
	m.SetTsig(sig.Hdr.Name, sig.Algorithm, 300, time.Now().Unix())
	w.WriteMsg(m)
}

// acceptUpdates lets UPDATE messages through, which miekg/dns's default
// acceptance refuses as not implemented.
func acceptUpdates(h dns.Header) dns.MsgAcceptAction {
	if int(h.Bits>>11)&0xF == dns.OpcodeUpdate {
		return dns.MsgAccept
	}
	return dns.DefaultMsgAcceptFunc(h)
}

func keep(rrs []dns.RR, f func(dns.RR) bool) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if f(rr) {
			out = append(out, rr)
		}
	}
	return out
}
