package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Bucket is an S3 bucket of a project.
type Bucket struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	// Name is yours, unique in the project; S3Name is the bucket's name
	// at the S3 endpoint, which apps use (S3_BUCKET).
	Name   string `json:"name"`
	S3Name string `json:"s3_name"`
	// Endpoint is the S3 endpoint URL for browsers and SDKs outside the
	// platform; linked apps get their own in S3_ENDPOINT.
	Endpoint string `json:"endpoint"`
	Region   string `json:"region"`
	// KeyScope says what the keys reach: "bucket" (this bucket alone) or
	// "operator" (the operator's keys of an external endpoint, shared by
	// every bucket there).
	KeyScope string `json:"key_scope"`
	// AccessKeyID identifies the bucket's keys; the secret is shown at
	// creation and rotation only.
	AccessKeyID        string `json:"access_key_id,omitempty"`
	CredentialsVersion int    `json:"credentials_version"`
	// Objects and Bytes count what the bucket holds, as the endpoint
	// reports it now; absent when it did not answer.
	Objects    *int64    `json:"objects,omitempty"`
	Bytes      *int64    `json:"bytes,omitempty"`
	ExternalID string    `json:"external_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Credentials are in the answers to create and rotate only.
	Credentials *BucketCredentials `json:"credentials,omitempty"`
}

// BucketCredentials are the keys and variables of a bucket.
type BucketCredentials struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	// Env is what a linked app gets at boot.
	Env map[string]string `json:"env"`
}

// CreateBucket creates a bucket.
type CreateBucket struct {
	ProjectID  string `json:"project_id"`
	Name       string `json:"name"`
	ExternalID string `json:"external_id,omitempty"`
}

// PresignBucket asks for a presigned URL.
type PresignBucket struct {
	Key    string `json:"key"`
	Method string `json:"method"` // GET or PUT
	// ExpiresIn is in seconds, 1 to 604800.
	ExpiresIn int `json:"expires_in"`
	// ContentType, for a PUT, is the Content-Type the upload must send.
	ContentType string `json:"content_type,omitempty"`
}

// PresignedURL is a SigV4 presigned URL.
type PresignedURL struct {
	URL       string    `json:"url"`
	Method    string    `json:"method"`
	ExpiresAt time.Time `json:"expires_at"`
	// Headers must be sent with the request, as they are signed.
	Headers map[string]string `json:"headers"`
}

// BucketLink gives a sandbox or deployment a bucket's variables.
type BucketLink struct {
	BucketID     string    `json:"bucket_id"`
	SandboxID    string    `json:"sandbox_id,omitempty"`
	DeploymentID string    `json:"deployment_id,omitempty"`
	EnvNames     []string  `json:"env_names"`
	CreatedAt    time.Time `json:"created_at"`
}

// CreateBucketLink links a bucket to one sandbox or deployment.
type CreateBucketLink struct {
	SandboxID    string `json:"sandbox_id,omitempty"`
	DeploymentID string `json:"deployment_id,omitempty"`
}

// CreateBucket creates a bucket; the answer carries its keys, this once.
func (c *Client) CreateBucket(ctx context.Context, in CreateBucket) (*Bucket, error) {
	var out Bucket
	return &out, c.create(ctx, "/buckets", in, &out)
}

// GetBucket shows a bucket, with what it holds.
func (c *Client) GetBucket(ctx context.Context, id string) (*Bucket, error) {
	var out Bucket
	return &out, c.json(ctx, http.MethodGet, "/buckets/"+url.PathEscape(id), nil, &out)
}

// ListBuckets lists buckets, of one project when projectID is set, and
// with that external id when externalID is set.
func (c *Client) ListBuckets(ctx context.Context, projectID, externalID string) ([]Bucket, error) {
	var out List[Bucket]
	q := url.Values{"limit": {"1000"}}
	if projectID != "" {
		q.Set("project_id", projectID)
	}
	if externalID != "" {
		q.Set("external_id", externalID)
	}
	return out.Data, c.json(ctx, http.MethodGet, "/buckets?"+q.Encode(), nil, &out)
}

// DeleteBucket deletes a bucket; one that holds objects only with force,
// which deletes them too.
func (c *Client) DeleteBucket(ctx context.Context, id string, force bool) error {
	path := "/buckets/" + url.PathEscape(id)
	if force {
		path += "?force=true"
	}
	return c.Do(ctx, http.MethodDelete, path, nil, "", nil)
}

// RotateBucketKeys issues new keys (admin keys); the answer carries them,
// this once.
func (c *Client) RotateBucketKeys(ctx context.Context, id string) (*Bucket, error) {
	var out Bucket
	return &out, c.json(ctx, http.MethodPost, "/buckets/"+url.PathEscape(id)+"/credentials/rotate", nil, &out)
}

// PresignBucket returns a presigned URL to an object of the bucket.
func (c *Client) PresignBucket(ctx context.Context, id string, in PresignBucket) (*PresignedURL, error) {
	var out PresignedURL
	return &out, c.json(ctx, http.MethodPost, "/buckets/"+url.PathEscape(id)+"/presign", in, &out)
}

// LinkBucket links a bucket to a sandbox or deployment.
func (c *Client) LinkBucket(ctx context.Context, id string, in CreateBucketLink) (*BucketLink, error) {
	var out BucketLink
	return &out, c.create(ctx, "/buckets/"+url.PathEscape(id)+"/links", in, &out)
}

// BucketLinks lists a bucket's links.
func (c *Client) BucketLinks(ctx context.Context, id string) ([]BucketLink, error) {
	var out List[BucketLink]
	return out.Data, c.json(ctx, http.MethodGet, "/buckets/"+url.PathEscape(id)+"/links", nil, &out)
}

// UnlinkBucket removes the link of a bucket to a sandbox or deployment.
func (c *Client) UnlinkBucket(ctx context.Context, id, targetID string) error {
	return c.Do(ctx, http.MethodDelete, "/buckets/"+url.PathEscape(id)+"/links/"+url.PathEscape(targetID), nil, "", nil)
}
