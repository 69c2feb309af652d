package store

import (
	"context"
	"time"
)

// BucketStore holds S3 buckets and their links.
type BucketStore interface {
	// CreateBucket records b. A name or external_id taken in the project,
	// or an S3 name or access key taken anywhere, is ErrConflict.
	CreateBucket(ctx context.Context, b *Bucket) error
	GetBucket(ctx context.Context, id string) (*Bucket, error)
	// GetBucketByAccessKey finds the bucket whose keys have this access
	// key id.
	GetBucketByAccessKey(ctx context.Context, access string) (*Bucket, error)
	// UpdateBucket writes the keys, the credentials version and the
	// external id, and bumps updated_at.
	UpdateBucket(ctx context.Context, b *Bucket) error
	ListBuckets(ctx context.Context, f ListFilter) ([]*Bucket, error)
	// DeleteBucket removes a bucket and its links.
	DeleteBucket(ctx context.Context, id string) error

	// CreateBucketLink records a link; linking a bucket to a target twice
	// is ErrConflict.
	CreateBucketLink(ctx context.Context, l *BucketLink) error
	// DeleteBucketLink removes a link, or answers ErrNotFound.
	DeleteBucketLink(ctx context.Context, bucketID, targetID string) error
	// ListBucketLinks lists the links of a bucket, or to a target, or
	// both, oldest first.
	ListBucketLinks(ctx context.Context, f BucketLinkFilter) ([]*BucketLink, error)
}

// Key scopes: what a bucket's keys reach.
const (
	// KeyScopeBucket keys reach their bucket and nothing else: the
	// endpoint enforces it (the embedded server).
	KeyScopeBucket = "bucket"
	// KeyScopeOperator keys are the operator's own keys of an external
	// endpoint, shared by every bucket there; the project's buckets are
	// told apart by their name prefix.
	KeyScopeOperator = "operator"
)

// Bucket is an S3 bucket of a project.
type Bucket struct {
	ID          string
	OrgID       string
	WorkspaceID string
	ProjectID   string
	// Name is the user's, unique within the project.
	Name string
	// S3Name is the bucket's name at the endpoint (unique there).
	S3Name   string
	KeyScope string
	// AccessKeyID and SecretKey are the keys linked apps get; with
	// KeyScopeOperator they are empty here and the operator's are used.
	AccessKeyID string
	SecretKey   string // sealed at rest
	// CredentialsVersion counts the keys issued (1 at creation, one more
	// per rotation).
	CredentialsVersion int
	ExternalID         string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// GetID returns the bucket's id.
func (b *Bucket) GetID() string { return b.ID }

// BucketLink gives a sandbox or deployment (the target) a bucket's
// endpoint and keys at boot.
type BucketLink struct {
	BucketID  string
	TargetID  string // sbx_… or dep_…
	ProjectID string
	CreatedAt time.Time
}

// BucketLinkFilter narrows ListBucketLinks; empty fields do not filter.
type BucketLinkFilter struct {
	BucketID string
	TargetID string
}
