package pki

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// serve runs an HTTPS server with cfg on loopback and returns its address.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		ReadHeaderTimeout: time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func get(addr string, cfg *tls.Config) error {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	resp, err := c.Get("https://" + addr + "/")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssueAgent("host_a")
	if err != nil {
		t.Fatal(err)
	}
	srvCfg, err := ServerTLS(certPEM, keyPEM, ca.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, srvCfg)

	if err := get(addr, ca.ClientTLS("host_a")); err != nil {
		t.Fatalf("the control plane's certificate was refused: %v", err)
	}
	noCert := ca.ClientTLS("host_a")
	noCert.Certificates = nil
	if err := get(addr, noCert); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	if err := get(addr, ca.ClientTLS("host_b")); err == nil {
		t.Fatal("host_a's agent passed for host_b")
	}
	// An agent's server certificate is no client certificate.
	agentAsClient := ca.ClientTLS("host_a")
	pair, _ := tls.X509KeyPair(certPEM, keyPEM)
	agentAsClient.Certificates = []tls.Certificate{pair}
	if err := get(addr, agentAsClient); err == nil {
		t.Fatal("an agent certificate was accepted as a client certificate")
	}
	// Another CA's client is refused.
	other, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	foreign := ca.ClientTLS("host_a")
	foreign.Certificates = other.ClientTLS("host_a").Certificates
	if err := get(addr, foreign); err == nil {
		t.Fatal("a client certificate of another CA was accepted")
	}

	// Loading again gives the same CA and client certificate.
	again, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.CertPEM(), ca.CertPEM()) {
		t.Fatal("reloading made a new CA")
	}
	if !bytes.Equal(again.client.Certificate[0], ca.client.Certificate[0]) {
		t.Fatal("reloading made a new client certificate")
	}
	if err := get(addr, again.ClientTLS("host_a")); err != nil {
		t.Fatalf("after reloading: %v", err)
	}
	if st, err := os.Stat(filepath.Join(dir, caKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("CA key mode: %v %v", st, err)
	}
}

func TestServerTLSRefusesGarbage(t *testing.T) {
	ca, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, k, _ := ca.IssueAgent("h")
	if _, err := ServerTLS(c, k, []byte("nope")); err == nil {
		t.Fatal("a CA bundle without certificates was accepted")
	}
	if _, err := ServerTLS(c, []byte("nope"), ca.CertPEM()); err == nil {
		t.Fatal("a bad key was accepted")
	}
}
