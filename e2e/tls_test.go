package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/up"
)

// zoneServer is an authoritative DNS server on loopback for the test's
// names: A 127.0.0.1 for the hosts it was told about (what Pebble's
// validation resolves), TXT records for Berth's domain verification.
type zoneServer struct {
	addr string
	mu   sync.Mutex
	a    map[string]bool
	txt  map[string][]string
}

func startZoneServer(t testing.TB) *zoneServer {
	t.Helper()
	// Pebble's validation asks over TCP, Berth's verification over UDP:
	// one port number serves both, so take a TCP port and then its UDP
	// twin, trying again if that one is taken.
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
	s := &zoneServer{addr: pc.LocalAddr().String(), a: map[string]bool{}, txt: map[string][]string{}}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		s.mu.Lock()
		hasA, txt := s.a[name], s.txt[name]
		s.mu.Unlock()
		switch {
		case !hasA && txt == nil:
			m.Rcode = dns.RcodeNameError
		case q.Qtype == dns.TypeA && hasA:
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(127, 0, 0, 1)})
		case q.Qtype == dns.TypeTXT:
			for _, v := range txt {
				m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{v}})
			}
		}
		w.WriteMsg(m)
	})
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return s
}

func (s *zoneServer) host(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		s.a[dns.Fqdn(n)] = true
	}
}

func (s *zoneServer) publish(t testing.TB, d *client.Domain) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range d.Records {
		if r.Type == "TXT" {
			s.txt[dns.Fqdn(r.Name)] = []string{r.Value}
			return
		}
	}
	t.Fatalf("domain %s lists no TXT record", d.Hostname)
}

// pebbleBin finds Pebble, which scripts/ensure-deps.sh installs with
// go install.
func pebbleBin(t testing.TB) string {
	if p, err := exec.LookPath("pebble"); err == nil {
		return p
	}
	out, _ := exec.Command("go", "env", "GOPATH").Output()
	p := filepath.Join(strings.TrimSpace(string(out)), "bin", "pebble")
	if _, err := os.Stat(p); err != nil {
		t.Skip("Pebble is not installed: go install github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.1 (scripts/ensure-deps.sh does)")
	}
	return p
}

// pebble is a running Pebble ACME server.
type pebble struct {
	files   string // its config, certificate and key
	addr    string // its ACME listener
	dir     string // the ACME directory URL
	mgmt    string // management base URL
	trust   *x509.CertPool
	rootPEM string // file with the root of Pebble's own HTTPS
	mu      sync.Mutex
	out     bytes.Buffer
}

// orders counts the orders Pebble has accepted.
func (p *pebble) orders() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Count(p.out.String(), "Added order")
}

func (p *pebble) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// preparePebble makes Pebble's HTTPS certificate (its own little CA) and
// picks its ports; start runs it once the edge's HTTP port is known.
func preparePebble(t testing.TB) *pebble {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pebble wfe test root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := &pebble{trust: x509.NewCertPool(), rootPEM: write("root.pem", "CERTIFICATE", caDER)}
	p.trust.AddCert(ca)
	write("cert.pem", "CERTIFICATE", leafDER)
	write("key.pem", "EC PRIVATE KEY", keyDER)
	p.files, p.addr = dir, freePort(t)
	p.dir, p.mgmt = "https://"+p.addr+"/dir", "https://"+freePort(t)
	return p
}

func (p *pebble) start(t testing.TB, bin string, httpPort int, dnsAddr string) {
	t.Helper()
	dir := p.files
	_, tp, _ := net.SplitHostPort(freePort(t))
	tlsPort, _ := strconv.Atoi(tp)
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":                  p.addr,
		"managementListenAddress":        strings.TrimPrefix(p.mgmt, "https://"),
		"certificate":                    filepath.Join(dir, "cert.pem"),
		"privateKey":                     filepath.Join(dir, "key.pem"),
		"httpPort":                       httpPort,
		"tlsPort":                        tlsPort,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"profiles":                       map[string]any{"default": map[string]any{"description": "test", "validityPeriod": 7776000}},
	}}
	b, _ := json.Marshal(cfg)
	conf := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(conf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", conf, "-dnsserver", dnsAddr)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	cmd.Stdout, cmd.Stderr = p, p
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("pebble's output:\n%s", p.out.String())
		}
	})
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.trust}}}
	eventually(t, 15*time.Second, "pebble answers", func() bool {
		resp, err := hc.Get(p.dir)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// issuingRoot fetches the root Pebble signs certificates with.
func (p *pebble) issuingRoot(t testing.TB) *x509.CertPool {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.trust}}}
	resp, err := hc.Get(p.mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("pebble's /roots/0 is not PEM: %q", b)
	}
	return pool
}

// TestEdgeTLS gets a certificate from a real ACME server (Pebble) for a
// deployment domain as soon as it verifies, serves it, and redirects
// HTTP to HTTPS; names the control plane does not route or whose domain
// is not verified never cause an order.
func TestEdgeTLS(t *testing.T) {
	bin := pebbleBin(t)
	zone := startZoneServer(t)
	peb := preparePebble(t)
	var tlsAddr string
	p := start(t, func(c *up.Config) {
		c.DNSResolver = zone.addr
		c.TLS = up.TLSConfig{Listen: "127.0.0.1:0", CA: peb.dir, CARoot: peb.rootPEM, Email: "ops@berth.test"}
		ready := c.Ready
		c.Ready = func(i up.Info) { tlsAddr = i.EdgeTLSAddr; ready(i) }
	})
	_, httpPort, _ := net.SplitHostPort(p.edgeAddr)
	port, _ := strconv.Atoi(httpPort)
	peb.start(t, bin, port, zone.addr)
	ctx := context.Background()

	o, _, pr := p.tenant(t, "Dr Smith")
	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>program home</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, rel.ID)

	const host, pending = "program.drsmithclinic.test", "pending.drsmithclinic.test"
	zone.host(host, pending, "unknown.drsmithclinic.test")
	dom, err := p.api.CreateDomain(ctx, client.CreateDomain{Hostname: host, DeploymentID: d.ID})
	if err != nil {
		t.Fatal(err)
	}
	unverified, err := p.api.CreateDomain(ctx, client.CreateDomain{Hostname: pending, DeploymentID: d.ID})
	if err != nil {
		t.Fatal(err)
	}
	zone.publish(t, dom)

	roots := peb.issuingRoot(t)
	handshake := func(name string) (*tls.Conn, error) {
		dialer := &net.Dialer{Timeout: 5 * time.Second}
		return tls.DialWithDialer(dialer, "tcp", tlsAddr, &tls.Config{ServerName: name, RootCAs: roots})
	}

	// Names that must not be ordered: unknown, routed only by a domain
	// that is not verified, and the app's managed name (no DNS provider
	// for the platform domain, no opt-in to HTTP-01 for managed names).
	// Their handshakes fail and Pebble sees nothing.
	for _, name := range []string{"unknown.drsmithclinic.test", pending, "127.0.0.1", pr.Slug + "." + o.Slug + ".localhost"} {
		if c, err := handshake(name); err == nil {
			c.Close()
			t.Errorf("the TLS handshake for %s succeeded", name)
		}
	}
	if n := peb.orders(); n != 0 {
		t.Fatalf("pebble received %d orders for names the control plane does not allow", n)
	}

	// Verifying the domain orders its certificate (the first HTTPS
	// request would, too, and waits for that order); the edge serves it
	// and a client that trusts Pebble's root validates it for the name.
	if v, err := p.api.VerifyDomain(ctx, dom.ID); err != nil || v.Status != "verified" {
		t.Fatalf("verify = %+v, %v", v, err)
	}
	https := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, tlsAddr)
		},
		TLSClientConfig: &tls.Config{RootCAs: roots},
	}}
	resp, err := https.Get("https://" + host + "/")
	if err != nil {
		t.Fatalf("HTTPS GET: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "program home") {
		t.Fatalf("HTTPS GET: %d %q", resp.StatusCode, body)
	}
	leaf := resp.TLS.PeerCertificates[0]
	if err := leaf.VerifyHostname(host); err != nil {
		t.Fatalf("served certificate: %v", err)
	}
	if n := peb.orders(); n != 1 {
		t.Errorf("pebble received %d orders, want 1", n)
	}

	// The domain records the certificate, with an event.
	eventually(t, 10*time.Second, "domain certificate_issued", func() bool {
		got, err := p.api.GetDomain(ctx, dom.ID)
		return err == nil && got.Status == "certificate_issued" && got.StatusReason == ""
	})
	evs, err := p.api.Events(ctx, dom.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	issued := false
	for _, e := range evs {
		issued = issued || (e.Type == "domain.certificate_issued" && strings.Contains(e.Message, host))
	}
	if !issued {
		t.Errorf("no domain.certificate_issued event: %+v", evs)
	}

	// HTTP now redirects to HTTPS: 301 for GET, 308 for POST; the ACME
	// challenge path is never redirected.
	noFollow := *p.web
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	tlsPort := tlsAddr[strings.LastIndexByte(tlsAddr, ':'):]
	for _, tc := range []struct {
		method, path string
		code         int
		location     string
	}{
		{"GET", "/cart?x=1", 301, "https://" + host + tlsPort + "/cart?x=1"},
		{"POST", "/api/orders", 308, "https://" + host + tlsPort + "/api/orders"},
		{"GET", "/.well-known/acme-challenge/not-a-token", 404, ""}, // the app's own 404, over HTTP
	} {
		req, _ := http.NewRequest(tc.method, "http://"+host+tc.path, strings.NewReader("{}"))
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code || resp.Header.Get("Location") != tc.location {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.code, tc.location)
		}
	}

	// The unverified domain still gets neither a certificate nor a
	// redirect, and no further order was placed.
	if c, err := handshake(pending); err == nil {
		c.Close()
		t.Errorf("the TLS handshake for the unverified %s succeeded", pending)
	}
	if got, _ := p.api.GetDomain(ctx, unverified.ID); got == nil || got.Status != "pending_verification" {
		t.Errorf("the unverified domain: %+v", got)
	}
	if n := peb.orders(); n != 1 {
		t.Errorf("pebble received %d orders in all, want 1", n)
	}

	// A verified domain whose name does not resolve: the order fails, the
	// handshake fails at once, and the domain says what to fix. The next
	// handshake does not order again; verifying again retries.
	const broken = "broken.drsmithclinic.test"
	bd, err := p.api.CreateDomain(ctx, client.CreateDomain{Hostname: broken, DeploymentID: d.ID})
	if err != nil {
		t.Fatal(err)
	}
	zone.publish(t, bd)
	if v, err := p.api.VerifyDomain(ctx, bd.ID); err != nil || v.Status != "verified" {
		t.Fatalf("verify = %+v, %v", v, err)
	}
	began := time.Now()
	if c, err := handshake(broken); err == nil {
		c.Close()
		t.Fatalf("the TLS handshake for %s, which does not resolve, succeeded", broken)
	}
	if took := time.Since(began); took > 15*time.Second {
		t.Errorf("the failing handshake took %v", took)
	}
	var failed *client.Domain
	eventually(t, 10*time.Second, "domain failed", func() bool {
		failed, err = p.api.GetDomain(ctx, bd.ID)
		return err == nil && failed.Status == "failed"
	})
	if !strings.Contains(failed.StatusReason, "make sure "+broken+" resolves to the edge") || !strings.Contains(failed.StatusReason, "verify the domain again") ||
		strings.Contains(failed.StatusReason, "127.0.0.1") || failed.VerifiedAt.IsZero() {
		t.Errorf("failed domain = %+v", failed)
	}
	evs, _ = p.api.Events(ctx, bd.ID, 0)
	if len(evs) == 0 || evs[len(evs)-1].Type != "domain.certificate_failed" {
		t.Errorf("events of the failed domain: %+v", evs)
	}
	// It still serves over HTTP and keeps its claim on the name.
	if code, body, _ := p.get(t, "http://"+broken+"/"); code != 200 || !strings.Contains(body, "program home") {
		t.Errorf("HTTP on the domain whose certificate failed: %d %q", code, body)
	}
	orders := peb.orders()
	if c, err := handshake(broken); err == nil {
		c.Close()
		t.Error("a handshake right after the failure succeeded")
	}
	if n := peb.orders(); n != orders {
		t.Errorf("a handshake right after the failure placed %d more orders", n-orders)
	}
	zone.host(broken)
	if v, err := p.api.VerifyDomain(ctx, bd.ID); err != nil || v.Status != "verified" {
		t.Fatalf("verify again = %+v, %v", v, err)
	}
	if c, err := handshake(broken); err != nil {
		t.Errorf("the handshake after fixing DNS and verifying again: %v", err)
	} else {
		c.Close()
	}
}
