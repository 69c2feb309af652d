package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/control/appenv"
	"github.com/berth-dev/berth/internal/control/buckets"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// bucketRoutes registers the S3 bucket endpoints.
func (s *Server) bucketRoutes(h, idem func(string, handlerFunc)) {
	idem("POST /api/v1/buckets", s.createBucket)
	h("GET /api/v1/buckets", s.listBuckets)
	h("GET /api/v1/buckets/{id}", s.getBucket)
	h("DELETE /api/v1/buckets/{id}", s.deleteBucket)
	h("POST /api/v1/buckets/{id}/credentials/rotate", s.rotateBucketKeys)
	h("POST /api/v1/buckets/{id}/presign", s.presignBucket)
	idem("POST /api/v1/buckets/{id}/links", s.linkBucket)
	h("GET /api/v1/buckets/{id}/links", s.listBucketLinks)
	h("DELETE /api/v1/buckets/{id}/links/{target_id}", s.unlinkBucket)
}

func (s *Server) bucketView(r *http.Request, b *store.Bucket, usage bool) client.Bucket {
	v := client.Bucket{
		ID: b.ID, ProjectID: b.ProjectID, Name: b.Name, S3Name: b.S3Name, Endpoint: s.buckets.BucketPublicEndpoint(r.Context(), b),
		Region: s.buckets.BucketRegion(), KeyScope: b.KeyScope, AccessKeyID: b.AccessKeyID,
		CredentialsVersion: b.CredentialsVersion, ExternalID: b.ExternalID, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt,
	}
	if usage {
		if n, size, err := s.buckets.BucketUsage(r.Context(), b); err == nil {
			v.Objects, v.Bytes = &n, &size
		} else {
			s.log.Warn("counting bucket usage failed", "bucket", b.ID, "err", err)
		}
	}
	return v
}

func (s *Server) bucketCredentials(b *store.Bucket) *client.BucketCredentials {
	access, secret := s.buckets.BucketKeys(b)
	return &client.BucketCredentials{AccessKeyID: access, SecretAccessKey: secret, Env: s.buckets.BucketEnv(b)}
}

// bucket loads a bucket the key may act on.
func (s *Server) bucket(r *http.Request, p *principal, write bool) (*store.Bucket, error) {
	b, err := s.st.GetBucket(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := p.can(owner{org: b.OrgID, workspace: b.WorkspaceID, project: b.ProjectID}, write); err != nil {
		return nil, err
	}
	return b, nil
}

// writeBucketSecret is writeSecret for a bucket: a replay of the create
// shows the bucket without its keys.
func writeBucketSecret(w http.ResponseWriter, status int, v client.Bucket) {
	rec, ok := w.(*recorder)
	if !ok {
		writeJSON(w, status, v)
		return
	}
	full, _ := json.Marshal(v)
	v.Credentials = nil
	redacted, _ := json.Marshal(v)
	rec.ResponseWriter.Header().Set("Content-Type", "application/json")
	rec.WriteHeader(status)
	rec.ResponseWriter.Write(append(full, '\n'))
	rec.body.Reset()
	rec.body.Write(append(redacted, '\n'))
}

func (s *Server) createBucket(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.CreateBucket
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := requireField("project_id", req.ProjectID); err != nil {
		return err
	}
	if err := requireField("name", req.Name); err != nil {
		return err
	}
	pr, err := s.projectRef(r, p, req.ProjectID)
	if err != nil {
		return err
	}
	b, err := s.buckets.CreateBucket(r.Context(), buckets.BucketRequest{Project: pr, Name: req.Name, ExternalID: req.ExternalID})
	if err != nil {
		return err
	}
	v := s.bucketView(r, b, false)
	v.Credentials = s.bucketCredentials(b)
	writeBucketSecret(w, http.StatusCreated, v)
	return nil
}

func (s *Server) listBuckets(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	f.ProjectID = r.URL.Query().Get("project_id")
	p.scope(&f)
	list, err := s.st.ListBuckets(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(list, f, func(b *store.Bucket) client.Bucket { return s.bucketView(r, b, true) }))
	return nil
}

func (s *Server) getBucket(w http.ResponseWriter, r *http.Request, p *principal) error {
	b, err := s.bucket(r, p, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.bucketView(r, b, true))
	return nil
}

func (s *Server) deleteBucket(w http.ResponseWriter, r *http.Request, p *principal) error {
	force := false
	switch v := r.URL.Query().Get("force"); v {
	case "", "false":
	case "true":
		force = true
	default:
		return problem.BadRequest("invalid_force", "force must be true or false, not %q", v)
	}
	b, err := s.bucket(r, p, true)
	if err != nil {
		return err
	}
	if err := s.buckets.DeleteBucket(r.Context(), b.ID, force); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) rotateBucketKeys(w http.ResponseWriter, r *http.Request, p *principal) error {
	b, err := s.bucket(r, p, true)
	if err != nil {
		return err
	}
	if err := p.admin(owner{org: b.OrgID, workspace: b.WorkspaceID, project: b.ProjectID}); err != nil {
		return err
	}
	if b, err = s.buckets.RotateBucketKeys(r.Context(), b.ID); err != nil {
		return err
	}
	v := s.bucketView(r, b, false)
	v.Credentials = s.bucketCredentials(b)
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) presignBucket(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.PresignBucket
	if err := decode(r, &req); err != nil {
		return err
	}
	pr := buckets.PresignRequest{Key: req.Key, Method: req.Method, Expires: time.Duration(req.ExpiresIn) * time.Second, ContentType: req.ContentType}
	if err := buckets.ValidatePresign(pr); err != nil {
		return err
	}
	b, err := s.bucket(r, p, req.Method == http.MethodPut)
	if err != nil {
		return err
	}
	ps, exp, err := s.buckets.Presign(r.Context(), b, pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, client.PresignedURL{URL: ps.URL, Method: req.Method, ExpiresAt: exp, Headers: ps.Headers})
	return nil
}

func (s *Server) bucketLinkView(b *store.Bucket, l *store.BucketLink) client.BucketLink {
	v := client.BucketLink{BucketID: l.BucketID, EnvNames: slices.Sorted(maps.Keys(s.buckets.BucketEnv(b))), CreatedAt: l.CreatedAt}
	if id.HasPrefix(l.TargetID, id.Sandbox) {
		v.SandboxID = l.TargetID
	} else {
		v.DeploymentID = l.TargetID
	}
	return v
}

func (s *Server) linkBucket(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.CreateBucketLink
	if err := decode(r, &req); err != nil {
		return err
	}
	b, err := s.bucket(r, p, true)
	if err != nil {
		return err
	}
	if err := s.visibleTarget(r, p, client.CreateDatabaseLink{SandboxID: req.SandboxID, DeploymentID: req.DeploymentID}); err != nil {
		return err
	}
	l, err := s.buckets.LinkBucket(r.Context(), b.ID, appenv.LinkRequest{SandboxID: req.SandboxID, DeploymentID: req.DeploymentID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.bucketLinkView(b, l))
	return nil
}

func (s *Server) listBucketLinks(w http.ResponseWriter, r *http.Request, p *principal) error {
	b, err := s.bucket(r, p, false)
	if err != nil {
		return err
	}
	links, err := s.st.ListBucketLinks(r.Context(), store.BucketLinkFilter{BucketID: b.ID})
	if err != nil {
		return err
	}
	out := listPage[client.BucketLink]{Data: []client.BucketLink{}}
	for _, l := range links {
		out.Data = append(out.Data, s.bucketLinkView(b, l))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) unlinkBucket(w http.ResponseWriter, r *http.Request, p *principal) error {
	b, err := s.bucket(r, p, true)
	if err != nil {
		return err
	}
	if err := s.buckets.UnlinkBucket(r.Context(), b.ID, r.PathValue("target_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
