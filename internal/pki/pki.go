// Package pki is the certificate authority the control plane keeps in its
// data dir for mutual TLS with the agents of Docker Deploy hosts: each
// host's agent gets a server certificate bound to its host id, and the
// control plane one client certificate. An agent accepts only clients
// that present a certificate of this CA; the control plane accepts only
// an agent whose certificate names the host it meant to reach.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Validity of what the CA issues. Agent certificates are issued again at
// every bootstrap, so a year is plenty.
const (
	caValidity     = 20 * 365 * 24 * time.Hour
	clientValidity = 2 * 365 * 24 * time.Hour
	serverValidity = 365 * 24 * time.Hour
	// renewBefore is how close to its expiry the client certificate is
	// replaced when the CA is loaded.
	renewBefore = 30 * 24 * time.Hour
)

// File names inside the CA's directory.
const (
	caCertFile     = "ca.crt"
	caKeyFile      = "ca.key"
	clientCertFile = "control.crt"
	clientKeyFile  = "control.key"
)

// CA signs the certificates of one control plane's agents.
type CA struct {
	cert    *x509.Certificate
	certPEM []byte
	key     *ecdsa.PrivateKey
	pool    *x509.CertPool
	client  tls.Certificate
}

// LoadOrCreate loads the CA kept in dir, creating it (and the control
// plane's client certificate) on first use.
func LoadOrCreate(dir string) (*CA, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("making %s: %w", dir, err)
	}
	certPath, keyPath := filepath.Join(dir, caCertFile), filepath.Join(dir, caKeyFile)
	certPEM, err := os.ReadFile(certPath)
	if errors.Is(err, os.ErrNotExist) {
		if err := create(certPath, keyPath); err != nil {
			return nil, err
		}
		certPEM, err = os.ReadFile(certPath)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the CA certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("reading the CA key: %w", err)
	}
	ca, err := parseCA(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading the CA in %s: %w", dir, err)
	}
	if ca.client, err = ca.loadClient(filepath.Join(dir, clientCertFile), filepath.Join(dir, clientKeyFile)); err != nil {
		return nil, err
	}
	return ca, nil
}

func create(certPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("making the CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Berth agents CA", Organization: []string{"Berth"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("making the CA certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return err
	}
	// The key goes first: a certificate without its key would be a CA
	// that can never sign.
	if err := writeFile(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func parseCA(certPEM, keyPEM []byte) (*CA, error) {
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, errors.New("the certificate is not a CA")
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, errors.New("the CA key does not match its certificate")
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{cert: cert, certPEM: certPEM, key: key, pool: pool}, nil
}

// loadClient loads the control plane's client certificate, issuing a new
// one when it is missing, not of this CA or close to its expiry.
func (ca *CA) loadClient(certPath, keyPath string) (tls.Certificate, error) {
	if c, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		if leaf := c.Leaf; leaf != nil && time.Until(leaf.NotAfter) > renewBefore && leaf.CheckSignatureFrom(ca.cert) == nil {
			return c, nil
		}
	}
	certPEM, keyPEM, err := ca.issue("berth-control-plane", nil, x509.ExtKeyUsageClientAuth, clientValidity)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFile(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFile(certPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("loading the control plane certificate: %w", err)
	}
	return c, nil
}

// CertPEM is the CA certificate: what an agent trusts its clients by.
func (ca *CA) CertPEM() []byte { return append([]byte(nil), ca.certPEM...) }

// AgentServerName is the name in a host's agent certificate, and the name
// the control plane asks for when it connects: a certificate issued to
// one host does not pass for another.
func AgentServerName(hostID string) string { return hostID + ".agent.berth.internal" }

// IssueAgent returns a new server certificate and key (PEM) for the agent
// of hostID.
func (ca *CA) IssueAgent(hostID string) (certPEM, keyPEM []byte, err error) {
	return ca.issue(AgentServerName(hostID), []string{AgentServerName(hostID)}, x509.ExtKeyUsageServerAuth, serverValidity)
}

// ClientTLS is the TLS configuration the control plane dials the agent of
// hostID with: its client certificate, this CA as the only root, and the
// host's own name.
func (ca *CA) ClientTLS(hostID string) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{ca.client},
		RootCAs:      ca.pool,
		ServerName:   AgentServerName(hostID),
		MinVersion:   tls.VersionTLS13,
	}
}

func (ca *CA) issue(cn string, dnsNames []string, usage x509.ExtKeyUsage, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("making a key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Berth"}},
		DNSNames:     dnsNames,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("issuing a certificate for %s: %w", cn, err)
	}
	if keyPEM, err = encodeKey(key); err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

// ServerTLS is the TLS configuration of an agent: its certificate, and
// only clients with a certificate of the CA in caPEM.
func ServerTLS(certPEM, keyPEM, caPEM []byte) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading the agent certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("loading the client CA: no certificate in it")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS13,
	}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux.
	}
	return n
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding a key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func parseCert(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(blk.Bytes)
}

func parseKey(b []byte) (*ecdsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM key")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing the key: %w", err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, not ECDSA", k)
	}
	return ek, nil
}

// writeFile writes atomically: a crash leaves the old file or the new
// one, never half of one.
func writeFile(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
