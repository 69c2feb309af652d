package s3server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/logtest"
	"github.com/berth-dev/berth/internal/s3server"
	"github.com/berth-dev/berth/internal/s3store"
)

// TestMain lets this test binary be the server's child process too.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "s3-server" {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := s3server.ServeFromEnv(ctx); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func s3client(endpoint, access, secret string) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String("http://" + endpoint), Region: "us-east-1", UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(access, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
	})
}

// TestOwnership starts the server with two accounts the parent answers
// for: each reaches the bucket it owns and not the other's, and a key the
// parent does not know is refused.
func TestOwnership(t *testing.T) {
	keys := map[string]string{"AKIAALICE000000000000": "alice-secret-0000000000000000000000000000", "AKIABOB00000000000000": "bob-secret-000000000000000000000000000000"}
	accounts := httptest.NewServer(s3server.AccountsHandler("tok", func(_ context.Context, a string) (string, bool, error) {
		s, ok := keys[a]
		return s, ok, nil
	}, logtest.New(t)))
	defer accounts.Close()
	ctx := context.Background()
	srv, err := s3server.Start(ctx, s3server.StartConfig{Binary: os.Args[0], Dir: t.TempDir(), Region: "us-east-1",
		Accounts: accounts.URL, AccountsToken: "tok", Log: logtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	st := s3store.New(s3store.Config{Endpoint: "http://" + srv.Loopback, Access: srv.RootAccess, Secret: srv.RootSecret, Admin: "http://" + srv.Admin})
	if err := st.CreateBucket(ctx, "alice-1", "AKIAALICE000000000000"); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateBucket(ctx, "bob-1", "AKIABOB00000000000000"); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateBucket(ctx, "bob-1", "AKIABOB00000000000000"); !errors.Is(err, s3store.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	alice := s3client(srv.Loopback, "AKIAALICE000000000000", keys["AKIAALICE000000000000"])
	if _, err := alice.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("alice-1"), Key: aws.String("a.txt"), Body: strings.NewReader("hi")}); err != nil {
		t.Fatal(err)
	}
	_, err = alice.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bob-1"), Key: aws.String("a.txt"), Body: strings.NewReader("hi")})
	wantCode(t, err, "AccessDenied")
	_, err = alice.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bob-1")})
	wantCode(t, err, "AccessDenied")
	_, err = alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alice-2")})
	wantCode(t, err, "AccessDenied")
	stranger := s3client(srv.Loopback, "AKIASTRANGER00000000", "whatever-secret-00000000000000000000000")
	_, err = stranger.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("alice-1")})
	wantCode(t, err, "InvalidAccessKeyId")

	n, b, err := st.Usage(ctx, "alice-1")
	if err != nil || n != 1 || b != 2 {
		t.Fatalf("usage = %d objects, %d bytes, %v; want 1, 2", n, b, err)
	}
	// A presigned GET works once, and not with a changed key.
	p, err := s3store.Presign(ctx, s3store.PresignRequest{Endpoint: "http://" + srv.Loopback, Region: "us-east-1",
		Access: "AKIAALICE000000000000", Secret: keys["AKIAALICE000000000000"], Bucket: "alice-1", Key: "a.txt", Method: "GET", Expires: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, p.URL); code != 200 || body != "hi" {
		t.Fatalf("presigned GET: %d %q", code, body)
	}
	if code, _ := get(t, strings.Replace(p.URL, "a.txt", "b.txt", 1)); code != 403 {
		t.Fatalf("tampered presigned GET: %d, want 403", code)
	}
	// Ownership moves with a rotation.
	keys["AKIAALICE111111111111"] = "alice-secret-1111111111111111111111111111"
	if err := st.SetOwner(ctx, "alice-1", "AKIAALICE111111111111"); err != nil {
		t.Fatal(err)
	}
	alice2 := s3client(srv.Loopback, "AKIAALICE111111111111", keys["AKIAALICE111111111111"])
	if _, err := alice2.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("alice-1"), Key: aws.String("a.txt")}); err != nil {
		t.Fatalf("new owner: %v", err)
	}
	if empty, err := st.IsEmpty(ctx, "alice-1"); err != nil || empty {
		t.Fatalf("IsEmpty = %v, %v", empty, err)
	}
	if err := st.DeleteBucket(ctx, "alice-1", true); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

func get(t *testing.T, u string) (int, string) {
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	io.Copy(&buf, resp.Body)
	return resp.StatusCode, buf.String()
}
