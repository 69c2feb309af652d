package store

import (
	"context"
	"time"
)

// CertStore holds what the edges' certificate manager keeps: certificates,
// their private keys, ACME account keys and challenge state, as opaque
// values under slash-separated keys ("certificates/acme…/example.com/example.com.key").
// Values are sealed at rest. Its locks let several edges on one store
// agree on which of them orders a certificate.
type CertStore interface {
	// PutCertObject creates or replaces the value at key.
	PutCertObject(ctx context.Context, o *CertObject) error
	// GetCertObject returns the object at key, or ErrNotFound.
	GetCertObject(ctx context.Context, key string) (*CertObject, error)
	// DeleteCertObjects deletes key and every key under key + "/". It is
	// not an error when there is none.
	DeleteCertObjects(ctx context.Context, key string) error
	// ListCertKeys returns, in order, the keys under prefix + "/" (every
	// key when prefix is empty).
	ListCertKeys(ctx context.Context, prefix string) ([]string, error)
	// TryLockCert takes the lock name for owner until expires when it is
	// free, expired or already owner's (which extends it), and reports
	// whether owner now holds it.
	TryLockCert(ctx context.Context, name, owner string, expires time.Time) (bool, error)
	// UnlockCert releases name if owner holds it.
	UnlockCert(ctx context.Context, name, owner string) error
}

// CertObject is one value of the certificate manager's storage.
type CertObject struct {
	Key       string
	Value     []byte
	UpdatedAt time.Time
}
