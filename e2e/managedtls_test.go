package e2e

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/dnstest"
	"github.com/berth-dev/berth/internal/logtest"
	"github.com/berth-dev/berth/internal/up"
)

// startStoppable runs `berth up` as start does, and returns a stop that
// ends it and waits; the containers it leaves are removed when the test
// ends, by a later start on the same data dir or here.
func startStoppable(t *testing.T, opts ...func(*up.Config)) (*platform, func()) {
	t.Helper()
	requireDocker(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan up.Info, 1)
	done := make(chan error, 1)
	cfg := up.Config{
		DataDir: t.TempDir(), Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", Domain: "localhost",
		BootstrapKey: adminKey, Log: logtest.New(t), Ready: func(i up.Info) { ready <- i }, AgentBinary: berthBin,
	}
	for _, o := range opts {
		o(&cfg)
	}
	go func() { done <- up.Run(ctx, cfg) }()
	var info up.Info
	select {
	case info = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("berth up: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("berth up did not start in 30s")
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	dir := cfg.DataDir
	t.Cleanup(func() {
		stop()
		removeContainers(t, dir)
	})
	p := &platform{api: client.New(info.APIURL, adminKey), apiURL: info.APIURL, edgeAddr: loopbackPort(info.EdgeURL), dataDir: dir, info: info}
	p.web = webClient(p.edgeAddr)
	return p, stop
}

// loopbackPort is 127.0.0.1 with the port of an edge URL.
func loopbackPort(edgeURL string) string {
	i := strings.LastIndexByte(edgeURL, ':')
	return "127.0.0.1" + edgeURL[i:]
}

// httpsVia is a client that sends every request to the edge's HTTPS
// listener and trusts the roots.
func httpsVia(t *testing.T, tlsAddr string, roots *tls.Config) func(rawURL string) (*http.Response, string) {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, tlsAddr)
		},
		TLSClientConfig: roots,
	}}
	return func(rawURL string) (*http.Response, string) {
		t.Helper()
		resp, err := hc.Get(rawURL)
		if err != nil {
			t.Fatalf("GET %s: %v", rawURL, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
}

// orgEvents counts the org's events of a type.
func orgEvents(t *testing.T, p *platform, orgID, typ string) int {
	t.Helper()
	evs, err := p.api.Events(context.Background(), orgID, 0)
	if err != nil {
		t.Fatalf("events of %s: %v", orgID, err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestManagedWildcardTLS: with an RFC 2136 DNS provider whose zone is the
// platform domain, a new org gets *.{org}.P and *.sandbox.{org}.P from a
// real ACME server (Pebble, validating against the test's authoritative
// zone, which takes only TSIG-signed updates): exactly two orders, none
// for a name. Its deployment and sandbox preview are then served over
// HTTPS at their managed names, validated by a client trusting Pebble's
// root, and the API's URLs say https. After a restart the wildcards are
// loaded from the store, not ordered again.
func TestManagedWildcardTLS(t *testing.T) {
	bin := pebbleBin(t)
	const P = "berth.test"
	secret := base64.StdEncoding.EncodeToString([]byte("the edge's key, thirty-two bytes"))
	zone := dnstest.Start(t, P, "berth-edge", secret)
	secretFile := filepath.Join(t.TempDir(), "tsig.secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	peb := preparePebble(t)
	dataDir := t.TempDir()
	var tlsAddr string
	opts := func(c *up.Config) {
		c.DataDir, c.Domain, c.DNSResolver = dataDir, P, zone.Addr
		c.TLS = up.TLSConfig{Listen: "127.0.0.1:0", CA: peb.dir, CARoot: peb.rootPEM, Email: "ops@berth.test",
			RFC2136: up.RFC2136Config{Server: zone.Addr, Zone: P, KeyName: "berth-edge", SecretFile: secretFile}}
		ready := c.Ready
		c.Ready = func(i up.Info) { tlsAddr = i.EdgeTLSAddr; ready(i) }
	}
	p, stop := startStoppable(t, opts)
	if want := "each org's *.{org}.berth.test and *.sandbox.{org}.berth.test over DNS-01"; p.info.ManagedNames != want {
		t.Errorf("berth up says of the managed names %q, want %q", p.info.ManagedNames, want)
	}
	_, httpPort, _ := net.SplitHostPort(p.edgeAddr)
	port, _ := strconv.Atoi(httpPort)
	peb.start(t, bin, port, zone.Addr)
	ctx := context.Background()
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)

	// Creating the org orders its two wildcards.
	began := time.Now()
	o, _, pr := p.tenant(t, "Acme Health")
	D := o.Slug + "." + P
	eventually(t, 60*time.Second, "the org's two wildcards issued", func() bool {
		return orgEvents(t, p, o.ID, "org.certificate_issued") == 2
	})
	t.Logf("the org's two wildcards were issued %v after it was created", time.Since(began).Round(time.Millisecond))
	if n := peb.orders(); n != 2 {
		t.Errorf("pebble received %d orders, want 2 (the wildcards)", n)
	}
	if n := zone.Updates(); n < 4 {
		t.Errorf("the zone took %d updates; want at least 4 (two challenges published and removed)", n)
	}

	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>acme home</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatal(err)
	}
	d = waitReady(t, p, d.ID, rel.ID)
	host := pr.Slug + "." + D
	if d.URL != "https://"+host+":"+tlsPort {
		t.Errorf("the deployment's URL is %s, want https://%s:%s", d.URL, host, tlsPort)
	}
	fetch := httpsVia(t, tlsAddr, &tls.Config{RootCAs: peb.issuingRoot(t)})
	resp, body := fetch(d.URL + "/")
	if resp.StatusCode != 200 || !strings.Contains(body, "acme home") {
		t.Fatalf("HTTPS GET %s: %d %q", d.URL, resp.StatusCode, body)
	}
	if names := resp.TLS.PeerCertificates[0].DNSNames; !slices.Equal(names, []string{"*." + D}) {
		t.Errorf("served certificate names %q, want the wildcard *.%s", names, D)
	}
	// Plain HTTP to the managed name redirects.
	noFollow := *p.web
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if r, err := noFollow.Get("http://" + host + "/x"); err != nil || r.StatusCode != 301 || r.Header.Get("Location") != "https://"+host+":"+tlsPort+"/x" {
		t.Errorf("HTTP on the managed name: %v %v", r, err)
	} else {
		r.Body.Close()
	}

	// A sandbox preview, served with *.sandbox.{org}.P.
	sb, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "static-html"})
	if err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	prev, err := p.api.Preview(ctx, sb.ID, 8080)
	if err != nil || !prev.Ready {
		t.Fatalf("preview = %+v, %v", prev, err)
	}
	slug, ok := strings.CutSuffix(strings.TrimPrefix(prev.URL, "https://"), ".sandbox."+D+":"+tlsPort)
	if !strings.HasPrefix(prev.URL, "https://") || !ok || strings.Contains(slug, ".") {
		t.Fatalf("preview URL %s, want https://{sandbox}.sandbox.%s:%s", prev.URL, D, tlsPort)
	}
	if got, err := p.api.GetSandbox(ctx, sb.ID); err != nil || !strings.HasPrefix(got.PreviewURL, "https://"+slug+".sandbox."+D+":"+tlsPort) {
		t.Errorf("the sandbox's preview_url: %+v, %v", got, err)
	}
	resp, body = fetch(prev.URL + "/")
	if resp.StatusCode != 200 || !strings.Contains(body, "It works") {
		t.Errorf("HTTPS preview: %d %q", resp.StatusCode, body)
	}
	if names := resp.TLS.PeerCertificates[0].DNSNames; !slices.Equal(names, []string{"*.sandbox." + D}) {
		t.Errorf("preview certificate names %q", names)
	}

	// Still two orders; Pebble never saw a name of its own.
	if n := peb.orders(); n != 2 {
		t.Errorf("pebble received %d orders, want 2", n)
	}
	if out := peb.output(); strings.Contains(out, host) || strings.Contains(out, slug+".sandbox") {
		t.Errorf("pebble saw a per-name identifier:\n%s", out)
	}

	// A restart loads the wildcards from the store: no order, and the new
	// listener serves them.
	stop()
	p, _ = startStoppable(t, opts)
	_, tlsPort, _ = net.SplitHostPort(tlsAddr)
	eventually(t, 30*time.Second, "the deployment's URL says https after the restart", func() bool {
		got, err := p.api.GetDeployment(ctx, d.ID)
		return err == nil && got.URL == "https://"+host+":"+tlsPort
	})
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", tlsAddr, &tls.Config{ServerName: host, RootCAs: peb.issuingRoot(t)})
	if err != nil {
		t.Fatalf("handshake for %s after the restart: %v", host, err)
	}
	if names := c.ConnectionState().PeerCertificates[0].DNSNames; !slices.Equal(names, []string{"*." + D}) {
		t.Errorf("after the restart, certificate names %q", names)
	}
	c.Close()
	if n := peb.orders(); n != 2 {
		t.Errorf("after the restart pebble has received %d orders, want 2", n)
	}
}

// TestManagedHTTP01TLS: without a DNS provider, the operator's opt-in
// (--acme-managed-names=http-01) gets a managed name its own certificate
// over HTTP-01 on its first HTTPS request, for an app that exists; a
// managed name nothing serves never causes an order.
func TestManagedHTTP01TLS(t *testing.T) {
	bin := pebbleBin(t)
	const P = "berth.test"
	zone := dnstest.Start(t, P, "unused", base64.StdEncoding.EncodeToString([]byte("no updates are sent in this test")))
	zone.Add(t, "*."+P+". 60 IN A 127.0.0.1")
	peb := preparePebble(t)
	var tlsAddr string
	p := start(t, func(c *up.Config) {
		c.Domain, c.DNSResolver = P, zone.Addr
		c.TLS = up.TLSConfig{Listen: "127.0.0.1:0", CA: peb.dir, CARoot: peb.rootPEM, ManagedNames: "http-01"}
		ready := c.Ready
		c.Ready = func(i up.Info) { tlsAddr = i.EdgeTLSAddr; ready(i) }
	})
	if !strings.Contains(p.info.ManagedNames, "one certificate per name over HTTP-01") {
		t.Errorf("berth up says of the managed names %q", p.info.ManagedNames)
	}
	_, httpPort, _ := net.SplitHostPort(p.edgeAddr)
	port, _ := strconv.Atoi(httpPort)
	peb.start(t, bin, port, zone.Addr)
	ctx := context.Background()
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)

	o, _, pr := p.tenant(t, "Acme Health")
	D := o.Slug + "." + P
	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>acme home</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatal(err)
	}
	d = waitReady(t, p, d.ID, rel.ID)
	host := pr.Slug + "." + D
	// No wildcard without a DNS provider, and nothing before a visit.
	if n := peb.orders(); n != 0 {
		t.Errorf("pebble received %d orders before any HTTPS request", n)
	}
	if d.URL != "http://"+host+":"+httpPort {
		t.Errorf("the deployment's URL before its certificate: %s", d.URL)
	}

	roots := peb.issuingRoot(t)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	for _, name := range []string{"nothing." + D, "*." + D, "ghost-org." + P} {
		if c, err := tls.DialWithDialer(dialer, "tcp", tlsAddr, &tls.Config{ServerName: name, RootCAs: roots}); err == nil {
			c.Close()
			t.Errorf("the TLS handshake for %s succeeded", name)
		}
	}
	if n := peb.orders(); n != 0 {
		t.Errorf("pebble received %d orders for names nothing serves", n)
	}

	// The first HTTPS request orders the name's own certificate.
	fetch := httpsVia(t, tlsAddr, &tls.Config{RootCAs: roots})
	resp, body := fetch("https://" + host + ":" + tlsPort + "/")
	if resp.StatusCode != 200 || !strings.Contains(body, "acme home") {
		t.Fatalf("HTTPS GET: %d %q", resp.StatusCode, body)
	}
	if names := resp.TLS.PeerCertificates[0].DNSNames; !slices.Equal(names, []string{host}) {
		t.Errorf("served certificate names %q, want %s's own", names, host)
	}
	if n := peb.orders(); n != 1 {
		t.Errorf("pebble received %d orders, want 1", n)
	}
	eventually(t, 10*time.Second, "the deployment's URL says https", func() bool {
		got, err := p.api.GetDeployment(ctx, d.ID)
		return err == nil && got.URL == "https://"+host+":"+tlsPort
	})
	eventually(t, 10*time.Second, "org.certificate_issued", func() bool {
		return orgEvents(t, p, o.ID, "org.certificate_issued") == 1
	})
	// The next request is served from memory.
	if resp, _ := fetch("https://" + host + ":" + tlsPort + "/"); resp.StatusCode != 200 {
		t.Errorf("second HTTPS GET: %d", resp.StatusCode)
	}
	if n := peb.orders(); n != 1 {
		t.Errorf("pebble received %d orders in all, want 1", n)
	}
}
