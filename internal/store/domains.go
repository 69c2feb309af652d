package store

// DomainStore holds branding and custom domains.
type DomainStore interface{}
