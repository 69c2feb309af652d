// Package s3store is how the control plane keeps buckets on an S3
// endpoint: Berth's embedded server (whose admin API gives each bucket
// its owner) or an external endpoint reached with the operator's keys.
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Config names an S3 endpoint and the keys Berth manages it with.
type Config struct {
	// Endpoint is the S3 API's URL, as Berth reaches it.
	Endpoint string
	Region   string
	// Access and Secret are the embedded server's root keys, or the
	// operator's keys of an external endpoint.
	Access, Secret string
	// Admin is the embedded server's admin API URL; empty for an
	// external endpoint, whose buckets are owned by the operator's keys.
	Admin string
}

// Store manages buckets on one endpoint.
type Store struct {
	cfg  Config
	s3   *s3.Client
	http *http.Client
}

// New returns a Store for cfg.
func New(cfg Config) *Store {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return &Store{cfg: cfg, s3: client(cfg.Endpoint, cfg.Region, cfg.Access, cfg.Secret), http: &http.Client{Timeout: 30 * time.Second}}
}

func client(endpoint, region, access, secret string) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(endpoint), Region: region, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(access, secret, ""),
		// Presigned URLs and plain uploads carry no checksum the caller
		// did not ask for: a browser or curl cannot compute one.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// ErrExists is a bucket name the endpoint already has.
var ErrExists = errors.New("the bucket already exists at the S3 endpoint")

// CreateBucket makes a bucket. On the embedded server, owner (an access
// key the server resolves) owns it and reaches it alone.
func (s *Store) CreateBucket(ctx context.Context, name, owner string) error {
	if s.cfg.Admin != "" {
		err := s.admin(ctx, http.MethodPatch, "/"+url.PathEscape(name)+"/create", nil, map[string]string{"x-vgw-owner": owner})
		if err != nil && (strings.Contains(err.Error(), "BucketAlreadyExists") || strings.Contains(err.Error(), "BucketAlreadyOwnedByYou")) {
			return ErrExists
		}
		return err
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if s.cfg.Region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(s.cfg.Region)}
	}
	_, err := s.s3.CreateBucket(ctx, in)
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "BucketAlreadyExists" || ae.ErrorCode() == "BucketAlreadyOwnedByYou") {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("creating bucket %s: %w", name, err)
	}
	return nil
}

// SetOwner gives a bucket of the embedded server to another access key
// (after a rotation). An external endpoint has no owners to change.
func (s *Store) SetOwner(ctx context.Context, name, owner string) error {
	if s.cfg.Admin == "" {
		return nil
	}
	q := url.Values{"bucket": {name}, "owner": {owner}}
	return s.admin(ctx, http.MethodPatch, "/change-bucket-owner", q, nil)
}

// Usage counts a bucket's objects and their bytes.
func (s *Store) Usage(ctx context.Context, name string) (objects, bytes int64, err error) {
	p := s3.NewListObjectsV2Paginator(s.s3, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("listing bucket %s: %w", name, err)
		}
		for _, o := range page.Contents {
			objects++
			bytes += aws.ToInt64(o.Size)
		}
	}
	return objects, bytes, nil
}

// IsEmpty reports whether a bucket has no objects.
func (s *Store) IsEmpty(ctx context.Context, name string) (bool, error) {
	out, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(name), MaxKeys: aws.Int32(1)})
	if err != nil {
		return false, fmt.Errorf("listing bucket %s: %w", name, err)
	}
	return len(out.Contents) == 0, nil
}

// DeleteBucket removes a bucket; with force, its objects and unfinished
// uploads first. A bucket the endpoint does not have is already gone.
func (s *Store) DeleteBucket(ctx context.Context, name string, force bool) error {
	if force {
		if err := s.empty(ctx, name); err != nil {
			return err
		}
	}
	_, err := s.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting bucket %s: %w", name, err)
	}
	return nil
}

func (s *Store) empty(ctx context.Context, name string) error {
	p := s3.NewListObjectsV2Paginator(s.s3, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket" {
			return nil
		}
		if err != nil {
			return fmt.Errorf("listing bucket %s: %w", name, err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, 0, len(page.Contents))
		for _, o := range page.Contents {
			ids = append(ids, types.ObjectIdentifier{Key: o.Key})
		}
		out, err := s.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(name), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("emptying bucket %s: %w", name, err)
		}
		if len(out.Errors) > 0 {
			return fmt.Errorf("emptying bucket %s: %s: %s", name, aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Message))
		}
	}
	ups, err := s.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(name)})
	if err != nil {
		return fmt.Errorf("listing uploads of bucket %s: %w", name, err)
	}
	for _, u := range ups.Uploads {
		if _, err := s.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(name), Key: u.Key, UploadId: u.UploadId}); err != nil {
			return fmt.Errorf("aborting an upload in bucket %s: %w", name, err)
		}
	}
	return nil
}

// PresignRequest asks for a presigned URL.
type PresignRequest struct {
	// Endpoint is the URL the link names (the public one).
	Endpoint       string
	Region         string
	Access, Secret string
	Bucket, Key    string
	Method         string // GET or PUT
	Expires        time.Duration
	ContentType    string // PUT only: the upload must send it
}

// Presigned is a SigV4 presigned URL and the headers its request must
// carry.
type Presigned struct {
	URL     string
	Headers map[string]string
}

// Presign signs a request to an object with a bucket's keys.
func Presign(ctx context.Context, r PresignRequest) (Presigned, error) {
	pc := s3.NewPresignClient(client(r.Endpoint, r.Region, r.Access, r.Secret))
	exp := s3.WithPresignExpires(r.Expires)
	var (
		req *v4.PresignedHTTPRequest
		err error
	)
	switch r.Method {
	case http.MethodGet:
		req, err = pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(r.Bucket), Key: aws.String(r.Key)}, exp)
	case http.MethodPut:
		in := &s3.PutObjectInput{Bucket: aws.String(r.Bucket), Key: aws.String(r.Key)}
		if r.ContentType != "" {
			in.ContentType = aws.String(r.ContentType)
		}
		req, err = pc.PresignPutObject(ctx, in, exp)
	default:
		return Presigned{}, fmt.Errorf("presigning: method %q", r.Method)
	}
	if err != nil {
		return Presigned{}, fmt.Errorf("presigning: %w", err)
	}
	h := map[string]string{}
	for k, vs := range req.SignedHeader {
		if strings.EqualFold(k, "host") || len(vs) == 0 {
			continue
		}
		h[http.CanonicalHeaderKey(k)] = vs[0]
	}
	return Presigned{URL: req.URL, Headers: h}, nil
}

// admin sends a request to the embedded server's admin API, signed with
// the root keys.
func (s *Store) admin(ctx context.Context, method, path string, q url.Values, headers map[string]string) error {
	u := strings.TrimRight(s.cfg.Admin, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, http.NoBody)
	if err != nil {
		return err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	req.Header.Set("X-Amz-Content-Sha256", emptySHA)
	creds := aws.Credentials{AccessKeyID: s.cfg.Access, SecretAccessKey: s.cfg.Secret}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptySHA, "s3", s.cfg.Region, time.Now()); err != nil {
		return fmt.Errorf("signing an admin request: %w", err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("calling the S3 admin API: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the S3 admin API answered %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}
