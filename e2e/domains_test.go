package e2e

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/up"
)

// txtServer is a real authoritative DNS server on loopback (UDP) that
// answers TXT queries from its records, NXDOMAIN otherwise.
type txtServer struct {
	addr string
	mu   sync.Mutex
	txt  map[string][]string // by FQDN, lowercase
}

func startTXTServer(t *testing.T) *txtServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &txtServer{addr: pc.LocalAddr().String(), txt: map[string][]string{}}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q := req.Question[0]
		s.mu.Lock()
		vals, ok := s.txt[strings.ToLower(q.Name)]
		s.mu.Unlock()
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		if q.Qtype == dns.TypeTXT {
			for _, v := range vals {
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
	return s
}

func (s *txtServer) set(name string, values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txt[dns.Fqdn(strings.ToLower(name))] = values
}

// publish creates the TXT record a domain asks for.
func (s *txtServer) publish(t *testing.T, d *client.Domain) {
	t.Helper()
	for _, r := range d.Records {
		if r.Type == "TXT" {
			s.set(r.Name, r.Value)
			return
		}
	}
	t.Fatalf("domain %s lists no TXT record: %+v", d.Hostname, d.Records)
}

// TestCustomDomains verifies custom domains against a real DNS server and
// reaches apps on them through the edge, with the org's branding.
func TestCustomDomains(t *testing.T) {
	ns := startTXTServer(t)
	p := start(t, func(c *up.Config) { c.DNSResolver = ns.addr; c.DomainTarget = "edge.berth.localhost" })
	ctx := context.Background()
	o, _, pr := p.tenant(t, "Clinic IQ")
	edgePort := p.edgeAddr[strings.LastIndexByte(p.edgeAddr, ':'):]

	if _, err := p.api.SetOrgBranding(ctx, o.ID, client.Branding{ProductName: "ClinicIQ Care", PrimaryColor: "#0a7755",
		SupportEmail: "help@cliniciq.localhost"}); err != nil {
		t.Fatalf("set branding: %v", err)
	}

	// An org domain: pending with the records to create, failed while DNS
	// does not have the token, verified once it does.
	dom, err := p.api.CreateDomain(ctx, client.CreateDomain{Hostname: "CliniCIQ.localhost", OrgID: o.ID})
	if err != nil {
		t.Fatalf("create domain: %v", err)
	}
	if dom.Hostname != "cliniciq.localhost" || dom.Status != "pending_verification" || dom.Level != "org" ||
		dom.Records[0].Name != "_berth-challenge.cliniciq.localhost" ||
		!containsRecord(dom.Records, client.DNSRecord{Type: "CNAME", Name: "cliniciq.localhost", Value: "edge.berth.localhost"}) {
		t.Fatalf("new domain = %+v", dom)
	}
	ns.set("_berth-challenge.cliniciq.localhost", "someone-else")
	_, err = p.api.VerifyDomain(ctx, dom.ID)
	if prob, ok := err.(*client.Problem); !ok || prob.Status != 422 || prob.Code != "dns_not_verified" ||
		!strings.Contains(prob.Detail, dom.Records[0].Value) || !strings.Contains(prob.Detail, "someone-else") {
		t.Fatalf("verify with a wrong TXT: %v", err)
	}
	if got, err := p.api.GetDomain(ctx, dom.ID); err != nil || got.Status != "pending_verification" {
		t.Fatalf("after a failed verify: %+v %v", got, err)
	}
	ns.publish(t, dom)
	if v, err := p.api.VerifyDomain(ctx, dom.ID); err != nil || v.Status != "verified" || v.VerifiedAt.IsZero() {
		t.Fatalf("verify = %+v, %v", v, err)
	}

	// A deployment gets its URL on the org domain and answers there, and
	// on its managed name too.
	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>clinic home</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	d = waitReady(t, p, d.ID, rel.ID)
	if want := "http://" + pr.Slug + ".cliniciq.localhost" + edgePort; d.URL != want {
		t.Fatalf("deployment URL %s, want %s", d.URL, want)
	}
	for _, u := range []string{d.URL, "http://" + pr.Slug + "." + o.Slug + ".localhost" + edgePort} {
		if code, body, _ := p.get(t, u); code != 200 || !strings.Contains(body, "clinic home") {
			t.Fatalf("GET %s: %d %q", u, code, body)
		}
	}

	// A deployment-level domain adds one exact name, which the API then
	// names as the deployment's URL.
	exact, err := p.api.CreateDomain(ctx, client.CreateDomain{Hostname: "program.drsmithclinic.localhost", DeploymentID: d.ID})
	if err != nil || exact.Level != "deployment" {
		t.Fatalf("deployment domain = %+v, %v", exact, err)
	}
	ns.publish(t, exact)
	if v, err := p.api.VerifyDomain(ctx, exact.ID); err != nil || v.Status != "verified" {
		t.Fatalf("verify deployment domain = %+v, %v", v, err)
	}
	if code, body, _ := p.get(t, "http://program.drsmithclinic.localhost"+edgePort+"/"); code != 200 || !strings.Contains(body, "clinic home") {
		t.Fatalf("deployment domain served %d %q", code, body)
	}
	if got, _ := p.api.GetDeployment(ctx, d.ID); got == nil || got.URL != "http://program.drsmithclinic.localhost"+edgePort {
		t.Fatalf("deployment URL after its own domain: %+v", got)
	}

	// Another org cannot claim the verified domain.
	rival, err := p.api.CreateOrg(ctx, client.CreateOrg{Name: "Rival"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.api.CreateDomain(ctx, client.CreateDomain{Hostname: "cliniciq.localhost", OrgID: rival.ID})
	if prob, ok := err.(*client.Problem); !ok || prob.Status != 409 || prob.Code != "domain_taken" {
		t.Fatalf("a rival claiming the verified domain: %v", err)
	}

	// An unknown name under the org domain gets the org's branded 404.
	code, body, _ := p.get(t, "http://no-such-app.cliniciq.localhost"+edgePort+"/")
	if code != 404 || !strings.Contains(body, "ClinicIQ Care") || !strings.Contains(body, "mailto:help@cliniciq.localhost") ||
		!strings.Contains(body, "#0a7755") {
		t.Fatalf("unknown host under the org domain: %d %s", code, body)
	}

	// Removing the org domain takes its names away; the URL falls back.
	if err := p.api.DeleteDomain(ctx, exact.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.api.DeleteDomain(ctx, dom.ID); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := p.get(t, "http://"+pr.Slug+".cliniciq.localhost"+edgePort+"/"); code != 404 {
		t.Fatalf("after removing the domain: %d", code)
	}
	if got, _ := p.api.GetDeployment(ctx, d.ID); got == nil || !strings.Contains(got.URL, "."+o.Slug+".localhost") {
		t.Fatalf("URL after removing the domains: %+v", got)
	}
}

func containsRecord(recs []client.DNSRecord, want client.DNSRecord) bool {
	for _, r := range recs {
		if r == want {
			return true
		}
	}
	return false
}
