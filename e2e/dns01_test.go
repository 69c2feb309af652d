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
	"github.com/berth-dev/berth/internal/up"
)

// TestEdgeWildcardTLS: with an RFC 2136 DNS provider configured, an org
// domain that verifies gets *.D and *.sandbox.D over DNS-01 from a real
// ACME server (Pebble, validating against the test's authoritative
// zone, which takes only TSIG-signed updates). Its deployment and
// sandbox are then served over HTTPS with the wildcards, their URLs say
// https, and no order is placed for their own names. A deployment domain
// gets its certificate ordered as soon as it verifies, before any
// visitor.
func TestEdgeWildcardTLS(t *testing.T) {
	bin := pebbleBin(t)
	secret := base64.StdEncoding.EncodeToString([]byte("the edge's key, thirty-two bytes"))
	zone := dnstest.Start(t, "cliniciq.test", "berth-edge", secret)
	// Every name in the zone reaches the edge (what Pebble's HTTP-01
	// validation of the deployment domain resolves).
	zone.Add(t, "*.cliniciq.test. 60 IN A 127.0.0.1")
	secretFile := filepath.Join(t.TempDir(), "tsig.secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	peb := preparePebble(t)
	var tlsAddr string
	lt := &logTB{TB: t}
	p := start(lt, func(c *up.Config) {
		c.DNSResolver = zone.Addr
		c.TLS = up.TLSConfig{Listen: "127.0.0.1:0", CA: peb.dir, CARoot: peb.rootPEM, Email: "ops@berth.test",
			RFC2136: up.RFC2136Config{Server: zone.Addr, Zone: "cliniciq.test", KeyName: "berth-edge", SecretFile: secretFile}}
		ready := c.Ready
		c.Ready = func(i up.Info) { tlsAddr = i.EdgeTLSAddr; ready(i) }
	})
	_, httpPort, _ := net.SplitHostPort(p.edgeAddr)
	port, _ := strconv.Atoi(httpPort)
	peb.start(t, bin, port, zone.Addr)
	ctx := context.Background()
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)

	o, _, pr := p.tenant(t, "Clinic IQ")
	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>clinic home</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, rel.ID)

	// The org domain verifies; its wildcards are ordered over DNS-01.
	const D = "apps.cliniciq.test"
	host := pr.Slug + "." + D
	dom, err := p.api.CreateDomain(ctx, client.CreateDomain{Hostname: D, OrgID: o.ID})
	if err != nil {
		t.Fatal(err)
	}
	zone.Add(t, dom.Records[0].Name+". 60 IN TXT \""+dom.Records[0].Value+"\"")

	// First the primary refuses the updates: the wildcards fail, the
	// domain says so without naming the DNS server, the names under it
	// get no certificate of their own, and their URLs stay http.
	zone.RefuseUpdates(true)
	if v, err := p.api.VerifyDomain(ctx, dom.ID); err != nil || v.Status != "verified" {
		t.Fatalf("verify = %+v, %v", v, err)
	}
	var failed *client.Domain
	eventually(t, 30*time.Second, "org domain failed", func() bool {
		failed, err = p.api.GetDomain(ctx, dom.ID)
		return err == nil && failed.Status == "failed" && len(zone.Refused()) >= 2
	})
	if !strings.Contains(failed.StatusReason, "could not publish the DNS-01 record _acme-challenge.") || !strings.Contains(failed.StatusReason, D+" for the wildcard certificate *.") ||
		strings.Contains(failed.StatusReason, "127.0.0.1") || strings.Contains(failed.StatusReason, "cliniciq.test:") {
		t.Errorf("failed domain = %+v", failed)
	}
	ordersBefore := peb.orders()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if c, err := tls.DialWithDialer(dialer, "tcp", tlsAddr, &tls.Config{ServerName: host, RootCAs: peb.trust}); err == nil {
		c.Close()
		t.Errorf("a handshake for %s succeeded with no wildcard", host)
	}
	if got, _ := p.api.GetDeployment(ctx, d.ID); got == nil || got.URL != "http://"+host+":"+httpPort {
		t.Errorf("the deployment's URL without a certificate: %+v", got)
	}
	if code, body, _ := p.get(t, "http://"+host+"/"); code != 200 || !strings.Contains(body, "clinic home") {
		t.Errorf("HTTP without a certificate: %d %q", code, body)
	}

	// The primary takes the key again; verifying again orders again.
	zone.RefuseUpdates(false)
	refused := len(zone.Refused())
	if v, err := p.api.VerifyDomain(ctx, dom.ID); err != nil || v.Status != "verified" {
		t.Fatalf("verify again = %+v, %v", v, err)
	}
	eventually(t, 60*time.Second, "org domain certificate_issued", func() bool {
		got, err := p.api.GetDomain(ctx, dom.ID)
		return err == nil && got.Status == "certificate_issued"
	})
	if n := zone.Updates(); n < 4 {
		t.Errorf("the zone took %d updates; want at least 4 (two challenges published and removed)", n)
	}
	if r := zone.Refused(); len(r) != refused {
		t.Errorf("the zone refused updates: %q", r[refused:])
	}

	roots := peb.issuingRoot(t)
	https := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, tlsAddr)
		},
		TLSClientConfig: &tls.Config{RootCAs: roots},
	}}
	fetch := func(rawURL string) (*http.Response, string) {
		t.Helper()
		resp, err := https.Get(rawURL)
		if err != nil {
			t.Fatalf("GET %s: %v", rawURL, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}

	// The deployment under the org domain: an https URL that a client
	// trusting the CA validates, served with the wildcard.
	eventually(t, 10*time.Second, "the deployment's URL says https", func() bool {
		got, err := p.api.GetDeployment(ctx, d.ID)
		return err == nil && got.URL == "https://"+host+":"+tlsPort
	})
	resp, body := fetch("https://" + host + ":" + tlsPort + "/")
	if resp.StatusCode != 200 || !strings.Contains(body, "clinic home") {
		t.Fatalf("HTTPS GET: %d %q", resp.StatusCode, body)
	}
	leaf := resp.TLS.PeerCertificates[0]
	if !slices.Equal(leaf.DNSNames, []string{"*." + D}) {
		t.Errorf("served certificate names %q, want the wildcard", leaf.DNSNames)
	}

	// A sandbox under the org domain: its preview is served with
	// *.sandbox.D, and its URL says so.
	sb, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "static-html"})
	if err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	prev, err := p.api.Preview(ctx, sb.ID, 8080)
	if err != nil || !prev.Ready {
		t.Fatalf("preview = %+v, %v", prev, err)
	}
	if !strings.HasPrefix(prev.URL, "https://") || !strings.HasSuffix(prev.URL, ".sandbox."+D+":"+tlsPort) {
		t.Errorf("preview URL %s, want https://{sandbox}.sandbox.%s:%s", prev.URL, D, tlsPort)
	}
	resp, body = fetch(prev.URL + "/")
	if resp.StatusCode != 200 || !strings.Contains(body, "It works") {
		t.Errorf("HTTPS preview: %d %q", resp.StatusCode, body)
	}
	if names := resp.TLS.PeerCertificates[0].DNSNames; !slices.Equal(names, []string{"*.sandbox." + D}) {
		t.Errorf("preview certificate names %q", names)
	}
	// HTTP redirects to HTTPS for names the wildcard covers.
	noFollow := *p.web
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if r, err := noFollow.Get("http://" + host + "/x"); err != nil || r.StatusCode != 301 || r.Header.Get("Location") != "https://"+host+":"+tlsPort+"/x" {
		t.Errorf("HTTP on the org domain: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	// Two orders, one per wildcard; none for the names themselves.
	if n := peb.orders() - ordersBefore; n != 2 {
		t.Errorf("pebble received %d orders, want 2 (the wildcards)", n)
	}
	if out := peb.output(); strings.Contains(out, pr.Slug+"."+D) || strings.Contains(out, strings.TrimPrefix(strings.Split(prev.URL, ".")[0], "https://")+".sandbox") {
		t.Errorf("pebble saw a per-name identifier:\n%s", out)
	}

	// A deployment domain is ordered when it verifies, without a visitor.
	const exact = "program.cliniciq.test"
	ed, err := p.api.CreateDomain(ctx, client.CreateDomain{Hostname: exact, DeploymentID: d.ID})
	if err != nil {
		t.Fatal(err)
	}
	zone.Add(t, ed.Records[0].Name+". 60 IN TXT \""+ed.Records[0].Value+"\"")
	if v, err := p.api.VerifyDomain(ctx, ed.ID); err != nil || v.Status != "verified" {
		t.Fatalf("verify = %+v, %v", v, err)
	}
	var got *client.Domain
	eventually(t, 30*time.Second, "deployment domain certificate_issued", func() bool {
		got, err = p.api.GetDomain(ctx, ed.ID)
		return err == nil && got.Status == "certificate_issued"
	})
	if n := peb.orders() - ordersBefore; n != 3 {
		t.Errorf("pebble received %d orders, want 3", n)
	}
	// Its URL and the deployment's now say https; the certificate is its
	// own.
	eventually(t, 10*time.Second, "the deployment domain's URL says https", func() bool {
		got, err = p.api.GetDomain(ctx, ed.ID)
		dep, derr := p.api.GetDeployment(ctx, d.ID)
		return err == nil && derr == nil && got.URL == "https://"+exact+":"+tlsPort && dep.URL == got.URL
	})
	resp, body = fetch(got.URL + "/")
	if resp.StatusCode != 200 || !strings.Contains(body, "clinic home") || !slices.Equal(resp.TLS.PeerCertificates[0].DNSNames, []string{exact}) {
		t.Errorf("HTTPS on the deployment domain: %d %q %q", resp.StatusCode, body, resp.TLS.PeerCertificates[0].DNSNames)
	}
	if n := peb.orders() - ordersBefore; n != 3 {
		t.Errorf("the first visit placed an order: %d in all", n)
	}
	// The TSIG secret is in no log line.
	if strings.Contains(lt.String(), secret) {
		t.Error("a log line holds the TSIG secret")
	}
}

// output is what Pebble has printed so far.
func (p *pebble) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}
