package store

import (
	"context"
	"time"
)

// ManagedCertStore holds what became of the certificates of the managed
// names under the platform domain, which no custom domain record carries:
// the wildcards of each org's managed domain and, where the operator opted
// in, managed names ordered one by one. The certificates themselves are
// in the CertStore.
type ManagedCertStore interface {
	// PutManagedCert creates or replaces the record of c.Name.
	PutManagedCert(ctx context.Context, c *ManagedCert) error
	// GetManagedCert returns the record of name, or ErrNotFound.
	GetManagedCert(ctx context.Context, name string) (*ManagedCert, error)
	// ListManagedCerts returns the records of one org (every org's when
	// orgID is empty), in name order.
	ListManagedCerts(ctx context.Context, orgID string) ([]*ManagedCert, error)
}

// ManagedCert is the outcome of the last order of one certificate name
// under the platform domain.
type ManagedCert struct {
	// Name is the certificate's name: "*.{org}.P", "*.sandbox.{org}.P" or
	// an exact managed name.
	Name   string
	OrgID  string
	Status string // ManagedCertIssued or ManagedCertFailed
	// Reason says, for a person, why the order failed.
	Reason    string
	UpdatedAt time.Time
}

// Outcomes of a managed certificate's order.
const (
	ManagedCertIssued = "issued"
	ManagedCertFailed = "failed"
)
