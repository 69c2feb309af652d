package buckets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/control/appenv"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/s3store"
	"github.com/berth-dev/berth/internal/store"
)

// ObjectStore is the S3 endpoint buckets live on.
type ObjectStore interface {
	// CreateBucket makes a bucket owned by the access key owner (where
	// the endpoint has owners); s3store.ErrExists when the name is taken.
	CreateBucket(ctx context.Context, name, owner string) error
	SetOwner(ctx context.Context, name, owner string) error
	Usage(ctx context.Context, name string) (objects, bytes int64, err error)
	IsEmpty(ctx context.Context, name string) (bool, error)
	DeleteBucket(ctx context.Context, name string, force bool) error
}

// Config wires S3 buckets.
type Config struct {
	// Names makes the endpoint's public host.
	Names names.Names
	// Store is the endpoint; nil offers no buckets.
	Store  ObjectStore
	Region string
	// KeyScope is store.KeyScopeBucket when the endpoint enforces one key
	// pair per bucket (the embedded server), or store.KeyScopeOperator
	// when every bucket uses the operator's keys below.
	KeyScope                       string
	OperatorAccess, OperatorSecret string
	// Prefix starts every bucket's S3 name (an external endpoint's
	// namespace is shared with whatever else the operator keeps there).
	Prefix string
	// AppEndpoint is the S3_ENDPOINT linked apps get, reachable from
	// their containers; AppHosts are the hosts entries ("name:ip") their
	// containers need to resolve it.
	AppEndpoint string
	AppHosts    []string
	// RemoteEdgeIP is the address apps on Docker Deploy hosts of other
	// machines reach the edge at, for a network where the org's s3.{D}
	// is not in their DNS: their hosts file then maps s3.{D} to it.
	// Empty: they resolve it by DNS, as browsers do.
	RemoteEdgeIP string
	// Upstream is the embedded server's loopback address: the edge serves
	// it at s3.{D} for every org deployment domain D, and presigned URLs
	// name that host. Empty: presigned URLs name PublicEndpoint.
	Upstream       string
	PublicEndpoint string
}

// Presign bounds.
const (
	MinPresignExpiry = time.Second
	MaxPresignExpiry = 7 * 24 * time.Hour
)

// s3Label is the S3 rule for bucket names, applied to the user's name and
// to the full S3 name: 3 to 63 lower-case letters, digits, dots and
// dashes, starting and ending with a letter or digit.
var s3Label = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// bucketNameProblem says what is wrong with a bucket name, or "".
func bucketNameProblem(name string, max int) string {
	switch {
	case len(name) < 3 || len(name) > max:
		return fmt.Sprintf("use 3 to %d characters", max)
	case !s3Label.MatchString(name):
		return "use lower-case letters, digits, dots and dashes, starting and ending with a letter or digit"
	case strings.Contains(name, "..") || strings.Contains(name, ".-") || strings.Contains(name, "-."):
		return "no two dots, nor a dot beside a dash, in a row"
	case net.ParseIP(name) != nil:
		return "a name cannot look like an IP address"
	case strings.HasPrefix(name, "xn--") || strings.HasPrefix(name, "sthree-") || strings.HasSuffix(name, "-s3alias") || strings.HasSuffix(name, "--ol-s3"):
		return "S3 reserves the prefixes xn-- and sthree- and the suffixes -s3alias and --ol-s3"
	}
	return ""
}

// bucketS3Name is a bucket's name at the endpoint: the prefix, a tag of
// its project, and the user's name, so every bucket of a project shares
// one prefix (which an operator's own policies can name) and two projects
// can both have an "uploads".
func (c *Service) bucketS3Name(projectID, name string) string {
	return c.cfg.Prefix + projectTag(projectID) + "-" + name
}

// projectTag is the random tail of a project id: lower-case letters and
// digits.
func projectTag(projectID string) string {
	if len(projectID) < 10 {
		return strings.ToLower(projectID)
	}
	return projectID[len(projectID)-10:]
}

const accessKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// newBucketKeys returns a fresh access key id (20 characters, as AWS's)
// and secret (40).
func newBucketKeys() (access, secret string) {
	return "BK" + id.Secret(accessKeyAlphabet, 18), id.Secret(id.Alphanumeric, 40)
}

func (c *Service) bucketsOffered() error {
	if c.cfg.Store == nil {
		return problem.New(http.StatusServiceUnavailable, "buckets_unavailable", "this installation has no S3 endpoint configured for buckets")
	}
	return nil
}

// BucketRequest asks for a bucket.
type BucketRequest struct {
	Project    *store.Project
	Name       string
	ExternalID string
}

// CreateBucket records a bucket with new keys and makes it at the
// endpoint. Nothing is left behind when the endpoint refuses.
func (c *Service) CreateBucket(ctx context.Context, req BucketRequest) (*store.Bucket, error) {
	if err := c.bucketsOffered(); err != nil {
		return nil, err
	}
	max := 63 - len(c.cfg.Prefix) - len(projectTag(req.Project.ID)) - 1
	if why := bucketNameProblem(req.Name, max); why != "" {
		return nil, problem.Unprocessable("invalid_bucket_name", "bucket name %q is not valid: %s", req.Name, why)
	}
	now := time.Now().UTC()
	b := &store.Bucket{
		ID: id.New(id.Bucket), OrgID: req.Project.OrgID, WorkspaceID: req.Project.WorkspaceID, ProjectID: req.Project.ID,
		Name: req.Name, S3Name: c.bucketS3Name(req.Project.ID, req.Name), KeyScope: c.cfg.KeyScope,
		CredentialsVersion: 1, ExternalID: req.ExternalID, CreatedAt: now, UpdatedAt: now,
	}
	if b.KeyScope == store.KeyScopeBucket {
		b.AccessKeyID, b.SecretKey = newBucketKeys()
	}
	err := c.st.InTx(ctx, func(tx store.Store) error {
		existing, err := store.ListAll(ctx, func(ctx context.Context, f store.ListFilter) ([]*store.Bucket, error) {
			f.ProjectID = req.Project.ID
			return tx.ListBuckets(ctx, f)
		})
		if err != nil {
			return err
		}
		for _, e := range existing {
			if e.Name == req.Name {
				return problem.Conflict("bucket_name_taken", "the project already has a bucket named %q (%s); choose another name", req.Name, e.ID)
			}
			if req.ExternalID != "" && e.ExternalID == req.ExternalID {
				return problem.Conflict("external_id_taken", "a bucket with external_id %q already exists", req.ExternalID)
			}
		}
		return tx.CreateBucket(ctx, b)
	})
	if err != nil {
		return nil, appenv.WrapConflict(err, "creating bucket")
	}
	if err := c.cfg.Store.CreateBucket(ctx, b.S3Name, b.AccessKeyID); err != nil {
		if derr := c.st.DeleteBucket(context.WithoutCancel(ctx), b.ID); derr != nil {
			c.log.Error("bucket record left behind after a failed create", "bucket", b.ID, "err", derr)
		}
		if errors.Is(err, s3store.ErrExists) {
			return nil, problem.Conflict("bucket_name_taken", "the S3 endpoint already has a bucket named %q; choose another name", b.S3Name)
		}
		c.log.Error("creating bucket at the endpoint failed", "bucket", b.S3Name, "err", err)
		return nil, problem.New(http.StatusServiceUnavailable, "s3_unavailable", "the S3 endpoint did not create the bucket; try again, and ask the operator if it keeps failing")
	}
	c.events.Record(ctx, b.ID, "bucket.created", "created bucket %q", b.Name)
	return b, nil
}

// BucketUsage counts a bucket's objects and bytes at the endpoint.
func (c *Service) BucketUsage(ctx context.Context, b *store.Bucket) (objects, bytes int64, err error) {
	if err := c.bucketsOffered(); err != nil {
		return 0, 0, err
	}
	return c.cfg.Store.Usage(ctx, b.S3Name)
}

// RotateBucketKeys issues new keys, hands the bucket to them (the old
// keys stop working within seconds) and restarts every linked sandbox and
// deployment with them.
func (c *Service) RotateBucketKeys(ctx context.Context, bucketID string) (*store.Bucket, error) {
	if err := c.bucketsOffered(); err != nil {
		return nil, err
	}
	b, err := c.st.GetBucket(ctx, bucketID)
	if err != nil {
		return nil, err
	}
	if b.KeyScope != store.KeyScopeBucket {
		return nil, problem.Conflict("keys_not_rotatable", "this bucket uses the operator's keys of the external S3 endpoint; rotate them there and restart Berth with the new ones")
	}
	old := *b
	b.AccessKeyID, b.SecretKey = newBucketKeys()
	b.CredentialsVersion++
	if err := c.st.UpdateBucket(ctx, b); err != nil {
		return nil, err
	}
	if err := c.cfg.Store.SetOwner(ctx, b.S3Name, b.AccessKeyID); err != nil {
		if rerr := c.st.UpdateBucket(context.WithoutCancel(ctx), &old); rerr != nil {
			c.log.Error("bucket keys not restored after a failed rotation", "bucket", b.ID, "err", rerr)
		}
		c.log.Error("handing bucket to its new keys failed", "bucket", b.S3Name, "err", err)
		return nil, problem.New(http.StatusServiceUnavailable, "s3_unavailable", "the S3 endpoint did not take the new keys; the old ones still work; try again")
	}
	c.events.Record(ctx, b.ID, "bucket.rotated", "issued keys version %d", b.CredentialsVersion)
	c.restartBucketTargets(ctx, b.ID, "the bucket's keys were rotated")
	return b, nil
}

func (c *Service) restartBucketTargets(ctx context.Context, bucketID, why string) {
	links, err := c.st.ListBucketLinks(ctx, store.BucketLinkFilter{BucketID: bucketID})
	if err != nil {
		c.log.Warn("listing bucket links failed", "bucket", bucketID, "err", err)
		return
	}
	for _, l := range links {
		if _, err := c.targets.Restart(ctx, l.TargetID, why, true); err != nil {
			c.log.Warn("restarting linked target failed", "target", l.TargetID, "err", err)
		}
	}
}

// DeleteBucket removes a bucket at the endpoint and its record. A bucket
// that holds objects is refused unless force, which deletes them; a
// linked one is refused: unlink it first.
func (c *Service) DeleteBucket(ctx context.Context, bucketID string, force bool) error {
	if err := c.bucketsOffered(); err != nil {
		return err
	}
	b, err := c.st.GetBucket(ctx, bucketID)
	if err != nil {
		return err
	}
	links, err := c.st.ListBucketLinks(ctx, store.BucketLinkFilter{BucketID: b.ID})
	if err != nil {
		return err
	}
	if len(links) > 0 {
		var targets []string
		for _, l := range links {
			targets = append(targets, l.TargetID)
		}
		return problem.Conflict("bucket_linked", "the bucket is linked to %s; unlink it first (DELETE /buckets/%s/links/{target_id})", strings.Join(targets, ", "), b.ID)
	}
	if !force {
		empty, err := c.cfg.Store.IsEmpty(ctx, b.S3Name)
		if err != nil {
			c.log.Error("listing bucket failed", "bucket", b.S3Name, "err", err)
			return problem.New(http.StatusServiceUnavailable, "s3_unavailable", "the S3 endpoint did not answer; try again")
		}
		if !empty {
			return problem.Conflict("bucket_not_empty", "the bucket holds objects; delete them first, or delete with ?force=true to delete them too")
		}
	}
	if err := c.cfg.Store.DeleteBucket(ctx, b.S3Name, force); err != nil {
		c.log.Error("deleting bucket at the endpoint failed", "bucket", b.S3Name, "err", err)
		if !force {
			return problem.Conflict("bucket_not_empty", "the bucket could not be deleted (objects may have arrived meanwhile); retry, or delete with ?force=true")
		}
		return problem.New(http.StatusServiceUnavailable, "s3_unavailable", "the S3 endpoint did not delete the bucket; try again")
	}
	if err := c.st.DeleteBucket(ctx, b.ID); err != nil {
		return fmt.Errorf("deleting bucket record: %w", err)
	}
	c.events.Record(ctx, b.ID, "bucket.deleted", "deleted bucket %q", b.Name)
	return nil
}

// LinkBucket records a link and restarts the target with the bucket's
// variables.
func (c *Service) LinkBucket(ctx context.Context, bucketID string, req appenv.LinkRequest) (*store.BucketLink, error) {
	target := req.SandboxID + req.DeploymentID
	switch {
	case target == "":
		return nil, problem.Unprocessable("missing_target", "give the sandbox_id or the deployment_id to link")
	case req.SandboxID != "" && req.DeploymentID != "":
		return nil, problem.Unprocessable("invalid_target", "give one of sandbox_id and deployment_id, not both")
	}
	var l *store.BucketLink
	err := c.st.InTx(ctx, func(tx store.Store) error {
		b, err := tx.GetBucket(ctx, bucketID)
		if err != nil {
			return err
		}
		projectID, err := appenv.TargetProject(ctx, tx, req)
		if err != nil {
			return err
		}
		if projectID != b.ProjectID {
			return problem.Unprocessable("target_of_another_project",
				"%s belongs to another project; link buckets to sandboxes and deployments of project %s", target, b.ProjectID)
		}
		links, err := tx.ListBucketLinks(ctx, store.BucketLinkFilter{TargetID: target})
		if err != nil {
			return err
		}
		for _, e := range links {
			if e.BucketID == b.ID {
				return problem.Conflict("already_linked", "the bucket is already linked to %s", target)
			}
			return problem.Conflict("bucket_already_linked", "%s already gets bucket %s and its S3_* variables; unlink that one first", target, e.BucketID)
		}
		l = &store.BucketLink{BucketID: b.ID, TargetID: target, ProjectID: b.ProjectID, CreatedAt: time.Now().UTC()}
		return tx.CreateBucketLink(ctx, l)
	})
	if err != nil {
		return nil, err
	}
	c.events.Record(ctx, bucketID, "bucket.linked", "linked to %s", target)
	if _, err := c.targets.Restart(ctx, target, "a bucket was linked", true); err != nil {
		return nil, err
	}
	return l, nil
}

// UnlinkBucket removes a link and restarts the target without the
// bucket's variables.
func (c *Service) UnlinkBucket(ctx context.Context, bucketID, targetID string) error {
	err := c.st.DeleteBucketLink(ctx, bucketID, targetID)
	if errors.Is(err, store.ErrNotFound) {
		return problem.NotFound("link_not_found", "the bucket is not linked to %q", targetID)
	}
	if err != nil {
		return err
	}
	c.events.Record(ctx, bucketID, "bucket.unlinked", "unlinked from %s", targetID)
	_, err = c.targets.Restart(ctx, targetID, "a bucket was unlinked", true)
	return err
}

// BucketKeys are the keys apps use with a bucket: its own, or the
// operator's.
func (c *Service) BucketKeys(b *store.Bucket) (access, secret string) {
	if b.KeyScope == store.KeyScopeOperator {
		return c.cfg.OperatorAccess, c.cfg.OperatorSecret
	}
	return b.AccessKeyID, b.SecretKey
}

// BucketEnv is what a linked app of the bucket gets at boot: the names
// the AWS SDKs read, and S3_* for code that builds its client by hand.
func (c *Service) BucketEnv(b *store.Bucket) map[string]string {
	access, secret := c.BucketKeys(b)
	return map[string]string{
		"S3_ENDPOINT": c.cfg.AppEndpoint, "S3_BUCKET": b.S3Name, "S3_REGION": c.cfg.Region,
		"AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": c.cfg.Region,
		"AWS_ENDPOINT_URL_S3": c.cfg.AppEndpoint,
	}
}

// BucketHost is the public host of a bucket's org's S3 endpoint, under
// its deployment domain; "" when presigned URLs name PublicEndpoint.
func (c *Service) BucketHost(ctx context.Context, b *store.Bucket) string {
	if c.cfg.Upstream == "" {
		return ""
	}
	slug := names.OrgSlug(ctx, c.st, b.OrgID)
	cd, err := c.hostnames.Verified(ctx, b.OrgID)
	if err != nil {
		return names.S3Label + "." + c.cfg.Names.OrgDomain(slug)
	}
	if ds := cd.Org[b.OrgID]; len(ds) > 0 {
		return names.S3Label + "." + ds[0]
	}
	return names.S3Label + "." + c.cfg.Names.OrgDomain(slug)
}

// BucketPublicEndpoint is the S3 endpoint URL browsers and SDKs outside
// the platform use for a bucket.
func (c *Service) BucketPublicEndpoint(ctx context.Context, b *store.Bucket) string {
	if h := c.BucketHost(ctx, b); h != "" {
		return c.cfg.Names.URL(h)
	}
	return c.cfg.PublicEndpoint
}

// PresignRequest asks for a presigned URL to an object.
type PresignRequest struct {
	Key         string
	Method      string
	Expires     time.Duration
	ContentType string
}

// ValidatePresign checks a presign request before anything is looked up.
func ValidatePresign(req PresignRequest) error {
	switch req.Method {
	case http.MethodGet, http.MethodPut:
	default:
		return problem.Unprocessable("invalid_method", "method %q cannot be presigned: use GET or PUT", req.Method)
	}
	if req.Key == "" || len(req.Key) > 1024 || strings.ContainsAny(req.Key, "\x00\r\n") {
		return problem.Unprocessable("invalid_key", "give the object key: 1 to 1024 bytes, without NUL or line breaks")
	}
	if req.Expires < MinPresignExpiry || req.Expires > MaxPresignExpiry {
		return problem.Unprocessable("invalid_expires_in", "expires_in must be from 1 to 604800 seconds (7 days)")
	}
	if req.ContentType != "" && req.Method != http.MethodPut {
		return problem.Unprocessable("invalid_content_type", "content_type applies to PUT only")
	}
	return nil
}

// Presign returns a SigV4 presigned URL for the bucket's public endpoint,
// signed with the bucket's keys.
func (c *Service) Presign(ctx context.Context, b *store.Bucket, req PresignRequest) (s3store.Presigned, time.Time, error) {
	if err := c.bucketsOffered(); err != nil {
		return s3store.Presigned{}, time.Time{}, err
	}
	if err := ValidatePresign(req); err != nil {
		return s3store.Presigned{}, time.Time{}, err
	}
	access, secret := c.BucketKeys(b)
	now := time.Now().UTC()
	p, err := s3store.Presign(ctx, s3store.PresignRequest{
		Endpoint: c.BucketPublicEndpoint(ctx, b), Region: c.cfg.Region, Access: access, Secret: secret,
		Bucket: b.S3Name, Key: req.Key, Method: req.Method, Expires: req.Expires, ContentType: req.ContentType,
	})
	if err != nil {
		return s3store.Presigned{}, time.Time{}, err
	}
	return p, now.Add(req.Expires).Truncate(time.Second), nil
}

// Route is the edge route of the embedded S3 server; nil when
// buckets live on an external endpoint.
func (c *Service) Route() *edge.Route {
	if c.cfg.Upstream == "" {
		return nil
	}
	return &edge.Route{State: edge.Ready, Upstream: c.cfg.Upstream}
}

// BucketRegion is the region buckets are in.
func (c *Service) BucketRegion() string { return c.cfg.Region }
