package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/s3server"
	"github.com/berth-dev/berth/internal/up"
)

// sdk is an AWS SDK for Go v2 client with a bucket's keys against
// endpoint; hc sends its requests where the test wants (the edge).
func sdk(endpoint, access, secret string, hc *http.Client) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(endpoint), Region: "us-east-1", UsePathStyle: true, HTTPClient: hc,
		Credentials:                credentials.NewStaticCredentialsProvider(access, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

func s3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// bucketDirs lists the buckets the embedded server keeps on disk.
func bucketDirs(t *testing.T, dataDir string) []string {
	entries, err := os.ReadDir(filepath.Join(dataDir, "s3", "buckets"))
	if err != nil {
		t.Fatalf("reading the S3 data dir: %v", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestBuckets drives the embedded S3 server through the API, the AWS SDK,
// plain curl and a linked sandbox: keys per bucket, presigned URLs through
// the edge under the org's domain, denial across projects, rotation, and
// deletion that refuses a non-empty bucket.
func TestBuckets(t *testing.T) {
	requireDocker(t)
	ensureImages(t, images.Python)
	p := start(t)
	ctx := context.Background()
	org, ws, pr := p.tenant(t, "Bucket Co")
	other, err := p.api.CreateProject(ctx, client.CreateProject{WorkspaceID: ws.ID, Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}

	b, err := p.api.CreateBucket(ctx, client.CreateBucket{ProjectID: pr.ID, Name: "uploads", ExternalID: "bkt-ext-1"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if b.KeyScope != "bucket" || b.Credentials == nil || b.Credentials.SecretAccessKey == "" || !strings.HasSuffix(b.S3Name, "-uploads") {
		t.Fatalf("created %+v", b)
	}
	wantEndpoint := "http://s3." + org.Slug + ".localhost:" + strings.Split(p.edgeAddr, ":")[1]
	if b.Endpoint != wantEndpoint {
		t.Fatalf("endpoint %q, want %q", b.Endpoint, wantEndpoint)
	}
	env := b.Credentials.Env
	for _, k := range []string{"S3_ENDPOINT", "S3_BUCKET", "S3_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if env[k] == "" {
			t.Errorf("linked apps get no %s: %v", k, env)
		}
	}
	if u, _ := url.Parse(env["S3_ENDPOINT"]); u == nil || u.Hostname() != "s3.berth.internal" {
		t.Errorf("S3_ENDPOINT %q names an address, not the platform's name", env["S3_ENDPOINT"])
	}
	if got, err := p.api.GetBucket(ctx, b.ID); err != nil || got.Credentials != nil || got.AccessKeyID != b.AccessKeyID {
		t.Fatalf("get: %+v, %v (the secret must not be shown again)", got, err)
	}
	if l, err := p.api.ListBuckets(ctx, "", "bkt-ext-1"); err != nil || len(l) != 1 || l[0].ID != b.ID {
		t.Fatalf("list by external id: %+v, %v", l, err)
	}
	ob, err := p.api.CreateBucket(ctx, client.CreateBucket{ProjectID: other.ID, Name: "uploads"})
	if err != nil {
		t.Fatalf("the same name in another project: %v", err)
	}

	// Put, get and list with the AWS SDK, through the edge at s3.{org}.
	keys := b.Credentials
	c := sdk(b.Endpoint, keys.AccessKeyID, keys.SecretAccessKey, p.web)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b.S3Name, Key: aws.String("hello.txt"), Body: strings.NewReader("hello, bucket")}); err != nil {
		t.Fatalf("put: %v", err)
	}
	obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.S3Name, Key: aws.String("hello.txt")})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if string(body) != "hello, bucket" {
		t.Fatalf("got %q", body)
	}
	// A multipart upload of 64 MiB with the transfer manager.
	big := make([]byte, 64<<20)
	rand.Read(big)
	tm := transfermanager.New(c, func(o *transfermanager.Options) {
		o.PartSizeBytes, o.Concurrency = 8<<20, 4
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
	if _, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: &b.S3Name, Key: aws.String("big.bin"), Body: bytes.NewReader(big)}); err != nil {
		t.Fatalf("multipart upload: %v", err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.S3Name, Key: aws.String("big.bin")})
	if err != nil || aws.ToInt64(head.ContentLength) != 64<<20 || !strings.Contains(aws.ToString(head.ETag), "-8") {
		t.Fatalf("head big.bin: %+v, %v (want 64 MiB in 8 parts)", head, err)
	}
	bigObj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.S3Name, Key: aws.String("big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	io.Copy(h, bigObj.Body)
	bigObj.Body.Close()
	if want := sha256.Sum256(big); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("big.bin came back different")
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b.S3Name})
	if err != nil || len(list.Contents) != 2 {
		t.Fatalf("list: %+v, %v", list, err)
	}

	// Keys of one project cannot touch another project's bucket, nor make
	// buckets of their own.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &ob.S3Name, Key: aws.String("x"), Body: strings.NewReader("x")})
	if s3Code(err) != "AccessDenied" {
		t.Fatalf("put into another project's bucket: %v, want AccessDenied", err)
	}
	if _, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &ob.S3Name}); s3Code(err) != "AccessDenied" {
		t.Fatalf("list another project's bucket: %v, want AccessDenied", err)
	}
	if _, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("squatter-bucket")}); s3Code(err) != "AccessDenied" {
		t.Fatalf("create a bucket with bucket keys: %v, want AccessDenied", err)
	}

	// Usage in the API.
	got, err := p.api.GetBucket(ctx, b.ID)
	if err != nil || got.Objects == nil || *got.Objects != 2 || *got.Bytes != 64<<20+13 {
		t.Fatalf("usage: %+v, %v", got, err)
	}

	// A presigned PUT from plain curl, then a presigned GET.
	put, err := p.api.PresignBucket(ctx, b.ID, client.PresignBucket{Key: "from curl/note.txt", Method: "PUT", ExpiresIn: 300, ContentType: "text/plain"})
	if err != nil {
		t.Fatalf("presign PUT: %v", err)
	}
	if !strings.HasPrefix(put.URL, wantEndpoint+"/") || put.Headers["Content-Type"] != "text/plain" {
		t.Fatalf("presigned PUT %+v", put)
	}
	pu, _ := url.Parse(put.URL)
	resolve := pu.Hostname() + ":" + pu.Port() + ":127.0.0.1"
	out, err := exec.Command("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--resolve", resolve, "-X", "PUT",
		"-H", "Content-Type: text/plain", "--data-binary", "uploaded by curl", put.URL).CombinedOutput()
	if err != nil || string(out) != "200" {
		t.Fatalf("curl PUT: %s, %v", out, err)
	}
	out, _ = exec.Command("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--resolve", resolve, "-X", "PUT",
		"-H", "Content-Type: text/html", "--data-binary", "other type", put.URL).CombinedOutput()
	if string(out) != "403" {
		t.Fatalf("curl PUT with another Content-Type: %s, want 403", out)
	}
	getURL, err := p.api.PresignBucket(ctx, b.ID, client.PresignBucket{Key: "from curl/note.txt", Method: "GET", ExpiresIn: 300})
	if err != nil {
		t.Fatal(err)
	}
	if code, body, _ := p.get(t, getURL.URL); code != 200 || body != "uploaded by curl" {
		t.Fatalf("presigned GET: %d %q", code, body)
	}
	for what, u := range map[string]string{
		"another key":       strings.Replace(getURL.URL, "note.txt", "hello.txt", 1),
		"a changed expiry":  strings.Replace(getURL.URL, "X-Amz-Expires=300", "X-Amz-Expires=900", 1),
		"a wrong signature": getURL.URL[:len(getURL.URL)-4] + "0000",
	} {
		if code, _, _ := p.get(t, u); code != 403 {
			t.Errorf("presigned GET with %s: %d, want 403", what, code)
		}
	}
	req, _ := http.NewRequest(http.MethodPut, getURL.URL, strings.NewReader("overwrite"))
	if resp, err := p.web.Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("PUT with a presigned GET URL: %v %v, want 403", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	short, err := p.api.PresignBucket(ctx, b.ID, client.PresignBucket{Key: "hello.txt", Method: "GET", ExpiresIn: 1})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	if code, _, _ := p.get(t, short.URL); code != 403 {
		t.Errorf("expired presigned GET: %d, want 403", code)
	}

	// A linked sandbox reads the object with the variables it gets, from
	// inside its container.
	sb, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "fastapi-service"})
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	script, err := os.ReadFile(filepath.Join("testdata", "s3app", "s3get.py"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.LinkBucket(ctx, b.ID, client.CreateBucketLink{SandboxID: sb.ID}); err != nil {
		t.Fatalf("link: %v", err)
	}
	eventually(t, 90*time.Second, "the sandbox to restart with S3_BUCKET", func() bool {
		res, err := p.api.Exec(ctx, sb.ID, client.Exec{Command: "printenv S3_BUCKET"})
		return err == nil && strings.TrimSpace(res.Stdout) == b.S3Name
	})
	if err := p.api.WriteFile(ctx, sb.ID, "s3get.py", script); err != nil {
		t.Fatal(err)
	}
	res, err := p.api.Exec(ctx, sb.ID, client.Exec{Command: "python3 s3get.py hello.txt"})
	if err != nil || strings.TrimSpace(res.Stdout) != "status=200 body=hello, bucket" {
		t.Fatalf("from inside the sandbox: %+v, %v", res, err)
	}

	// Rotation: the old keys stop working, the new ones work, and the
	// sandbox restarts with them.
	rot, err := p.api.RotateBucketKeys(ctx, b.ID)
	if err != nil || rot.Credentials == nil || rot.AccessKeyID == b.AccessKeyID || rot.CredentialsVersion != 2 {
		t.Fatalf("rotate: %+v, %v", rot, err)
	}
	eventually(t, 10*time.Second, "the old keys to stop working", func() bool {
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.S3Name, Key: aws.String("hello.txt")})
		return s3Code(err) == "InvalidAccessKeyId" || strings.Contains(fmt.Sprint(err), "403")
	})
	nc := sdk(b.Endpoint, rot.Credentials.AccessKeyID, rot.Credentials.SecretAccessKey, p.web)
	if _, err := nc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.S3Name, Key: aws.String("hello.txt")}); err != nil {
		t.Fatalf("new keys: %v", err)
	}
	eventually(t, 90*time.Second, "the sandbox to restart with the new keys", func() bool {
		res, err := p.api.Exec(ctx, sb.ID, client.Exec{Command: "python3 s3get.py hello.txt"})
		return err == nil && strings.TrimSpace(res.Stdout) == "status=200 body=hello, bucket"
	})

	// Deletion refuses a linked bucket, then a non-empty one, unless force.
	if err := p.api.DeleteBucket(ctx, b.ID, false); problemCode(err) != "bucket_linked" {
		t.Fatalf("delete a linked bucket: %v, want bucket_linked", err)
	}
	if err := p.api.UnlinkBucket(ctx, b.ID, sb.ID); err != nil {
		t.Fatal(err)
	}
	err = p.api.DeleteBucket(ctx, b.ID, false)
	if pe, ok := err.(*client.Problem); !ok || pe.Status != 409 || pe.Code != "bucket_not_empty" {
		t.Fatalf("delete a non-empty bucket: %v, want 409 bucket_not_empty", err)
	}
	if _, err := nc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.S3Name, Key: aws.String("hello.txt")}); err != nil {
		t.Fatalf("a refused delete touched the objects: %v", err)
	}
	if err := p.api.DeleteBucket(ctx, ob.ID, false); err != nil {
		t.Fatalf("delete an empty bucket: %v", err)
	}
	if err := p.api.DeleteBucket(ctx, b.ID, true); err != nil {
		t.Fatalf("delete with force: %v", err)
	}
	if _, err := p.api.GetBucket(ctx, b.ID); problemCode(err) != "not_found" {
		t.Fatalf("get after delete: %v", err)
	}
	if d := bucketDirs(t, p.dataDir); len(d) != 0 {
		t.Fatalf("buckets left on disk: %v", d)
	}
}

// TestBucketsBadInput sends what the API must refuse with a 4xx and
// checks that nothing was written: no record, no bucket on disk.
func TestBucketsBadInput(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	org, _, pr := p.tenant(t, "Careful Co")
	_, _, strange := p.tenant(t, "Other Org")
	key, err := p.api.CreateAPIKey(ctx, client.CreateAPIKey{Name: "org admin", OrgID: org.ID, Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	orgAPI := client.New(p.apiURL, key.Secret)
	long := strings.Repeat("a", 60)
	for _, tc := range []struct {
		api  *client.Client
		in   client.CreateBucket
		code string
	}{
		{p.api, client.CreateBucket{ProjectID: pr.ID, Name: "ab"}, "invalid_bucket_name"},
		{p.api, client.CreateBucket{ProjectID: pr.ID, Name: "Uploads"}, "invalid_bucket_name"},
		{p.api, client.CreateBucket{ProjectID: pr.ID, Name: "has_underscore"}, "invalid_bucket_name"},
		{p.api, client.CreateBucket{ProjectID: pr.ID, Name: "-dash"}, "invalid_bucket_name"},
		{p.api, client.CreateBucket{ProjectID: pr.ID, Name: "two..dots"}, "invalid_bucket_name"},
		{p.api, client.CreateBucket{ProjectID: pr.ID, Name: "192.168.1.1"}, "invalid_bucket_name"},
		{p.api, client.CreateBucket{ProjectID: pr.ID, Name: "xn--punycode"}, "invalid_bucket_name"},
		{p.api, client.CreateBucket{ProjectID: pr.ID, Name: long}, "invalid_bucket_name"},
		{p.api, client.CreateBucket{ProjectID: pr.ID}, "missing_name"},
		{p.api, client.CreateBucket{Name: "fine"}, "missing_project_id"},
		{p.api, client.CreateBucket{ProjectID: "prj_00000000000000000000000000", Name: "fine"}, "project_not_found"},
		{orgAPI, client.CreateBucket{ProjectID: strange.ID, Name: "fine"}, "project_not_found"},
	} {
		_, err := tc.api.CreateBucket(ctx, tc.in)
		var pe *client.Problem
		if !errors.As(err, &pe) || pe.Code != tc.code || pe.Status < 400 || pe.Status > 499 {
			t.Errorf("create %+v: %v, want a 4xx %s", tc.in, err, tc.code)
		}
	}
	// An unknown field and a body that is not JSON.
	for _, body := range []string{`{"project_id":"` + pr.ID + `","name":"fine","region":"eu"}`, `{"project_id":`} {
		req, _ := http.NewRequest(http.MethodPost, p.apiURL+"/api/v1/buckets", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("body %s: %d %s, want a 400 problem", body, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if l, err := p.api.ListBuckets(ctx, "", ""); err != nil || len(l) != 0 {
		t.Fatalf("bad creates left records: %+v, %v", l, err)
	}
	if d := bucketDirs(t, p.dataDir); len(d) != 0 {
		t.Fatalf("bad creates left buckets on disk: %v", d)
	}

	b, err := p.api.CreateBucket(ctx, client.CreateBucket{ProjectID: pr.ID, Name: "good"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.CreateBucket(ctx, client.CreateBucket{ProjectID: pr.ID, Name: "good"}); problemCode(err) != "bucket_name_taken" {
		t.Fatalf("a taken name: %v", err)
	}
	for _, in := range []struct {
		req  client.PresignBucket
		code string
	}{
		{client.PresignBucket{Key: "a", Method: "DELETE", ExpiresIn: 60}, "invalid_method"},
		{client.PresignBucket{Key: "a", Method: "get", ExpiresIn: 60}, "invalid_method"},
		{client.PresignBucket{Key: "a", Method: "GET", ExpiresIn: 0}, "invalid_expires_in"},
		{client.PresignBucket{Key: "a", Method: "GET", ExpiresIn: 604801}, "invalid_expires_in"},
		{client.PresignBucket{Key: "a", Method: "GET", ExpiresIn: -5}, "invalid_expires_in"},
		{client.PresignBucket{Method: "GET", ExpiresIn: 60}, "invalid_key"},
		{client.PresignBucket{Key: "a", Method: "GET", ExpiresIn: 60, ContentType: "text/plain"}, "invalid_content_type"},
	} {
		_, err := p.api.PresignBucket(ctx, b.ID, in.req)
		var pe *client.Problem
		if !errors.As(err, &pe) || pe.Code != in.code || pe.Status != 422 {
			t.Errorf("presign %+v: %v, want 422 %s", in.req, err, in.code)
		}
	}
	if _, err := orgAPI.PresignBucket(ctx, b.ID, client.PresignBucket{Key: "a", Method: "GET", ExpiresIn: 60}); err != nil {
		t.Fatalf("presign with the org's key: %v", err)
	}
	strangerKey, err := p.api.CreateAPIKey(ctx, client.CreateAPIKey{Name: "other", OrgID: strange.OrgID, Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	stranger := client.New(p.apiURL, strangerKey.Secret)
	if _, err := stranger.PresignBucket(ctx, b.ID, client.PresignBucket{Key: "a", Method: "GET", ExpiresIn: 60}); problemCode(err) != "not_found" {
		t.Fatalf("presign another org's bucket: %v, want not_found", err)
	}
	if err := stranger.DeleteBucket(ctx, b.ID, true); problemCode(err) != "not_found" {
		t.Fatalf("delete another org's bucket: %v, want not_found", err)
	}
	if req, _ := http.NewRequest(http.MethodDelete, p.apiURL+"/api/v1/buckets/"+b.ID+"?force=yes", nil); req != nil {
		req.Header.Set("Authorization", "Bearer "+adminKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 400 {
			t.Fatalf("force=yes: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	if d := bucketDirs(t, p.dataDir); len(d) != 1 || d[0] != b.S3Name {
		t.Fatalf("buckets on disk: %v, want [%s]", d, b.S3Name)
	}
}

// startExternalS3 runs a second S3 server, as an operator's external
// endpoint: the gateway's root account alone.
func startExternalS3(t *testing.T) (endpoint, access, secret string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	access, secret = "OPERATORKEY000000000", "operator-secret-000000000000000000000000"
	cmd := exec.Command(berthBin, "s3-server")
	cmd.Env = append(os.Environ(), s3server.ChildEnv(s3server.Options{Dir: t.TempDir(), Listen: []string{addr}, Region: "us-east-1",
		RootAccess: access, RootSecret: secret}))
	var log lockedBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	eventually(t, 20*time.Second, "the external S3 server to answer", func() bool {
		resp, err := http.Get("http://" + addr + s3server.HealthPath)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return "http://" + addr, access, secret
}

// TestBucketsExternal points Berth at an external S3 endpoint: buckets
// are made there, named with the project's prefix, and reached with the
// operator's keys, which the API says (key_scope operator).
func TestBucketsExternal(t *testing.T) {
	endpoint, access, secret := startExternalS3(t)
	p := start(t, func(c *up.Config) {
		c.S3 = up.S3Config{Endpoint: endpoint, AccessKey: access, SecretKey: secret, Prefix: "ops-"}
	})
	ctx := context.Background()
	_, _, pr := p.tenant(t, "External Co")
	b, err := p.api.CreateBucket(ctx, client.CreateBucket{ProjectID: pr.ID, Name: "media"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if b.KeyScope != "operator" || b.Endpoint != endpoint || !strings.HasPrefix(b.S3Name, "ops-") || b.Credentials.AccessKeyID != access {
		t.Fatalf("created %+v %+v", b, b.Credentials)
	}
	if b.Credentials.Env["S3_ENDPOINT"] != endpoint {
		t.Fatalf("env %v", b.Credentials.Env)
	}
	op := sdk(endpoint, access, secret, http.DefaultClient)
	if _, err := op.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &b.S3Name}); err != nil {
		t.Fatalf("the external endpoint has no bucket %s: %v", b.S3Name, err)
	}
	if _, err := op.PutObject(ctx, &s3.PutObjectInput{Bucket: &b.S3Name, Key: aws.String("k"), Body: strings.NewReader("external")}); err != nil {
		t.Fatal(err)
	}
	ps, err := p.api.PresignBucket(ctx, b.ID, client.PresignBucket{Key: "k", Method: "GET", ExpiresIn: 60})
	if err != nil || !strings.HasPrefix(ps.URL, endpoint+"/") {
		t.Fatalf("presign: %+v, %v", ps, err)
	}
	resp, err := http.Get(ps.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != "external" {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, got)
	}
	if bb, err := p.api.GetBucket(ctx, b.ID); err != nil || bb.Objects == nil || *bb.Objects != 1 {
		t.Fatalf("usage: %+v, %v", bb, err)
	}
	if _, err := p.api.RotateBucketKeys(ctx, b.ID); problemCode(err) != "keys_not_rotatable" {
		t.Fatalf("rotate: %v, want keys_not_rotatable", err)
	}
	if err := p.api.DeleteBucket(ctx, b.ID, false); problemCode(err) != "bucket_not_empty" {
		t.Fatalf("delete: %v, want bucket_not_empty", err)
	}
	if err := p.api.DeleteBucket(ctx, b.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := op.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &b.S3Name}); err == nil {
		t.Fatal("the bucket is still at the external endpoint")
	}
}

// TestBucketsCLI runs `berth buckets create|list|presign|delete`.
func TestBucketsCLI(t *testing.T) {
	p := start(t)
	_, _, pr := p.tenant(t, "CLI Buckets")
	env := append(os.Environ(), "BERTH_API_URL="+p.apiURL, "BERTH_API_KEY="+adminKey, "BERTH_CONFIG="+filepath.Join(t.TempDir(), "c.json"))
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(berthBin, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("berth %s: %v", strings.Join(args, " "), err)
		}
		return string(out)
	}
	var b client.Bucket
	if err := json.Unmarshal([]byte(run("buckets", "create", "cli-bucket", "--project", pr.ID)), &b); err != nil || b.Credentials == nil {
		t.Fatalf("create printed %+v, %v", b, err)
	}
	if out := run("buckets", "list", "--project", pr.ID); !strings.Contains(out, b.ID) || !strings.Contains(out, "cli-bucket") {
		t.Fatalf("list: %s", out)
	}
	u := strings.TrimSpace(run("buckets", "presign", b.ID, "a.txt", "--method", "PUT", "--expires", "1m"))
	if !strings.HasPrefix(u, b.Endpoint+"/"+b.S3Name+"/a.txt?") || !strings.Contains(u, "X-Amz-Signature=") {
		t.Fatalf("presign: %s", u)
	}
	if out := run("buckets", "delete", b.ID); !strings.Contains(out, "deleted") {
		t.Fatalf("delete: %s", out)
	}
}
