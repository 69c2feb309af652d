package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// serve runs s's Handler on loopback under /v1/blobs, as the agent mounts
// it, behind wrap when given.
func serve(t *testing.T, s *Store, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = http.StripPrefix("/v1/blobs", Handler(s))
	if wrap != nil {
		h = wrap(h)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/blobs/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/v1/blobs"
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// requestLog records the requests that reach the handler.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.reqs = append(l.reqs, strings.TrimSpace(r.Method+" "+r.Header.Get("Content-Range")))
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (l *requestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.reqs, ", ")
}

func checkBlob(t *testing.T, s *Store, data []byte) {
	t.Helper()
	f, err := s.Open(digestOf(data))
	if err != nil {
		t.Fatalf("blob not stored: %v", err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("stored blob differs: %d bytes, want %d", len(got), len(data))
	}
	if u := uploads(t, s); len(u) != 0 {
		t.Fatalf("uploads left behind: %v", u)
	}
}

func TestPush(t *testing.T) {
	s := openStore(t)
	var log requestLog
	base := serve(t, s, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer secret" {
				problem(w, http.StatusUnauthorized, "unauthorized", "")
				return
			}
			log.wrap(next).ServeHTTP(w, r)
		})
	})
	data := randomBytes(t, 1<<20+123)
	u := &Uploader{BaseURL: base, ChunkSize: 256 << 10, Header: http.Header{"Authorization": {"Bearer secret"}}}
	if err := u.Push(t.Context(), digestOf(data), bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	checkBlob(t, s, data)
	want := "HEAD, POST, PATCH 0-262143, PATCH 262144-524287, PATCH 524288-786431, PATCH 786432-1048575, PATCH 1048576-1048698, PUT"
	if got := log.String(); got != want {
		t.Errorf("requests:\n%s\nwant:\n%s", got, want)
	}

	// An empty blob needs no chunk.
	if err := u.Push(t.Context(), digestOf(nil), bytes.NewReader(nil), 0); err != nil {
		t.Fatal(err)
	}
	checkBlob(t, s, nil)

	// Without credentials the push fails at once.
	anon := &Uploader{BaseURL: base}
	var se *StatusError
	if err := anon.Push(t.Context(), digestOf([]byte("x")), strings.NewReader("x"), 1); !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Fatalf("push without credentials: %v", err)
	}
}

func TestPushSkipsKnownBlob(t *testing.T) {
	s := openStore(t)
	data := []byte("already there")
	if _, _, err := s.Put(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	var log requestLog
	u := &Uploader{BaseURL: serve(t, s, log.wrap)}
	if err := u.Push(t.Context(), digestOf(data), bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if got := log.String(); got != "HEAD" {
		t.Fatalf("requests = %s, want HEAD only", got)
	}
}

// errReader fails every read.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// discardWriter is a ResponseWriter whose answer never leaves the server.
type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header         { return w.h }
func (w discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w discardWriter) WriteHeader(int)             {}

func TestPushResumesAfterBreaks(t *testing.T) {
	const chunk = 64 << 10
	s := openStore(t)
	var log requestLog
	var patches atomic.Int32
	base := serve(t, s, func(next http.Handler) http.Handler {
		return log.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPatch {
				next.ServeHTTP(w, r)
				return
			}
			switch patches.Add(1) {
			case 2:
				// Half the chunk arrives, then the connection drops before
				// any answer, as when a network breaks.
				r.Body = io.NopCloser(io.MultiReader(io.LimitReader(r.Body, chunk/2), errReader{io.ErrUnexpectedEOF}))
				next.ServeHTTP(discardWriter{http.Header{}}, r)
				panic(http.ErrAbortHandler)
			case 4:
				problem(w, http.StatusServiceUnavailable, "unavailable", "restarting")
				return
			}
			next.ServeHTTP(w, r)
		}))
	})
	data := randomBytes(t, 4*chunk+10)
	u := &Uploader{BaseURL: base, ChunkSize: chunk}
	if err := u.Push(t.Context(), digestOf(data), bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	checkBlob(t, s, data)
	// After the cut the client asks what arrived and sends only the rest;
	// after the 503 it asks again and sends the same chunk again.
	want := "HEAD, POST, PATCH 0-65535, PATCH 65536-131071, GET, PATCH 98304-163839, " +
		"PATCH 163840-229375, GET, PATCH 163840-229375, PATCH 229376-262153, PUT"
	if got := log.String(); got != want {
		t.Errorf("requests:\n%s\nwant:\n%s", got, want)
	}
}

func TestPushRestartsLostUpload(t *testing.T) {
	s := openStore(t)
	var log requestLog
	var patches atomic.Int32
	base := serve(t, s, func(next http.Handler) http.Handler {
		return log.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch && patches.Add(1) == 2 {
				// The server lost the upload, as after a prune.
				for _, id := range uploads(t, s) {
					s.CancelUpload(id)
				}
			}
			next.ServeHTTP(w, r)
		}))
	})
	data := randomBytes(t, 3000)
	u := &Uploader{BaseURL: base + "/", ChunkSize: 1000}
	if err := u.Push(t.Context(), digestOf(data), bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	checkBlob(t, s, data)
	want := "HEAD, POST, PATCH 0-999, PATCH 1000-1999, GET, HEAD, POST, PATCH 0-999, PATCH 1000-1999, PATCH 2000-2999, PUT"
	if got := log.String(); got != want {
		t.Errorf("requests:\n%s\nwant:\n%s", got, want)
	}
}

func TestPushRefusesWrongDigest(t *testing.T) {
	s := openStore(t)
	u := &Uploader{BaseURL: serve(t, s, nil), ChunkSize: 4}
	data := []byte("the bytes that are sent")
	claimed := digestOf([]byte("the bytes that were meant"))
	err := u.Push(t.Context(), claimed, bytes.NewReader(data), int64(len(data)))
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("Push = %v, want ErrDigestMismatch", err)
	}
	if s.Has(claimed) || s.Has(digestOf(data)) {
		t.Fatal("a refused upload was stored")
	}
	if got := uploads(t, s); len(got) != 0 {
		t.Fatalf("a refused upload was kept: %v", got)
	}
	if err := u.Push(t.Context(), "sha256:nope", bytes.NewReader(data), 1); !errors.Is(err, ErrInvalidDigest) {
		t.Fatalf("Push with a malformed digest = %v", err)
	}
}

func TestPushConcurrently(t *testing.T) {
	s := openStore(t)
	u := &Uploader{BaseURL: serve(t, s, nil), ChunkSize: 16 << 10}
	shared := randomBytes(t, 100<<10)
	blobs := [][]byte{shared, shared, shared}
	for range 8 {
		blobs = append(blobs, randomBytes(t, 50<<10+17))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(blobs))
	for i, b := range blobs {
		wg.Go(func() {
			errs[i] = u.Push(t.Context(), digestOf(b), bytes.NewReader(b), int64(len(b)))
		})
	}
	wg.Wait()
	for i, b := range blobs {
		if errs[i] != nil {
			t.Fatalf("push %d: %v", i, errs[i])
		}
		checkBlob(t, s, b)
	}
}

func TestPushGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		down := func(*http.Request) (*http.Response, error) {
			calls.Add(1)
			return &http.Response{StatusCode: http.StatusBadGateway, Body: http.NoBody, Header: http.Header{}}, nil
		}
		u := &Uploader{BaseURL: "http://agent.invalid/v1/blobs", Client: &http.Client{Transport: roundTripper(down)}}
		err := u.Push(t.Context(), digestOf([]byte("x")), strings.NewReader("x"), 1)
		var se *StatusError
		if !errors.As(err, &se) || se.Status != http.StatusBadGateway {
			t.Fatalf("Push = %v, want the 502", err)
		}
		if n := calls.Load(); n != maxAttempts {
			t.Fatalf("%d requests, want %d", n, maxAttempts)
		}

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := u.Push(ctx, digestOf([]byte("x")), strings.NewReader("x"), 1); !errors.Is(err, context.Canceled) {
			t.Fatalf("Push with a cancelled context = %v", err)
		}
	})
}

// roundTripper stands in for a network that cannot exist in a synctest
// bubble.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func send(t *testing.T, method, url string, body []byte, h map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func problemCode(t *testing.T, resp *http.Response) string {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("error content type %q", ct)
	}
	var p problemBody
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.Status != resp.StatusCode || p.Detail == "" {
		t.Errorf("problem %+v for status %d", p, resp.StatusCode)
	}
	return p.Code
}

func TestHandlerProtocol(t *testing.T) {
	s := openStore(t)
	base := serve(t, s, nil)
	data := []byte("0123456789")

	resp := send(t, http.MethodPost, base+"/uploads", nil, nil)
	id := resp.Header.Get("Docker-Upload-UUID")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || loc != "/v1/blobs/uploads/"+id || resp.Header.Get("Range") != "" {
		t.Fatalf("POST: %d, Location %q, UUID %q, Range %q", resp.StatusCode, loc, id, resp.Header.Get("Range"))
	}
	upload := strings.TrimSuffix(base, "/v1/blobs") + loc

	// Empty: no Range header.
	resp = send(t, http.MethodGet, upload, nil, nil)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Range") != "" {
		t.Fatalf("GET empty upload: %d, Range %q", resp.StatusCode, resp.Header.Get("Range"))
	}
	// A chunk that does not start at 0 is 416.
	resp = send(t, http.MethodPatch, upload, data[5:], map[string]string{"Content-Range": "5-9"})
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || problemCode(t, resp) != "range_mismatch" {
		t.Fatalf("PATCH at a wrong offset: %d", resp.StatusCode)
	}
	resp = send(t, http.MethodPatch, upload, data[:5], map[string]string{"Content-Range": "0-4"})
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Range") != "0-4" || resp.Header.Get("Location") != loc {
		t.Fatalf("PATCH: %d, Range %q, Location %q", resp.StatusCode, resp.Header.Get("Range"), resp.Header.Get("Location"))
	}
	resp = send(t, http.MethodPatch, upload, data[2:5], map[string]string{"Content-Range": "2-4"})
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || resp.Header.Get("Range") != "0-4" {
		t.Fatalf("PATCH overlapping: %d, Range %q", resp.StatusCode, resp.Header.Get("Range"))
	}
	resp = send(t, http.MethodPatch, upload, data[5:], map[string]string{"Content-Range": "5-99"})
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, resp) != "invalid_range" {
		t.Fatalf("PATCH with a range longer than the body: %d", resp.StatusCode)
	}
	resp = send(t, http.MethodGet, upload, nil, nil)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Range") != "0-4" {
		t.Fatalf("GET upload: %d, Range %q", resp.StatusCode, resp.Header.Get("Range"))
	}
	// The last chunk can come with the commit; a bad digest is refused first.
	resp = send(t, http.MethodPut, upload+"?digest=sha256:xyz", data[5:], map[string]string{"Content-Range": "5-9"})
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, resp) != "invalid_digest" {
		t.Fatalf("PUT with a malformed digest: %d", resp.StatusCode)
	}
	resp = send(t, http.MethodPut, upload+"?digest="+digestOf(data), data[5:], map[string]string{"Content-Range": "5-9"})
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Docker-Content-Digest") != digestOf(data) ||
		resp.Header.Get("Location") != "/v1/blobs/"+digestOf(data) {
		t.Fatalf("PUT: %d, digest %q, Location %q", resp.StatusCode, resp.Header.Get("Docker-Content-Digest"), resp.Header.Get("Location"))
	}
	checkBlob(t, s, data)

	resp = send(t, http.MethodHead, base+"/"+digestOf(data), nil, nil)
	if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(data)) || resp.Header.Get("Docker-Content-Digest") != digestOf(data) {
		t.Fatalf("HEAD: %d, length %d", resp.StatusCode, resp.ContentLength)
	}
	resp = send(t, http.MethodGet, base+"/"+digestOf(data), nil, nil)
	if got, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("GET blob: %d %q", resp.StatusCode, got)
	}
	resp = send(t, http.MethodGet, base+"/"+digestOf(data), nil, map[string]string{"Range": "bytes=3-5"})
	if got, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusPartialContent || string(got) != "345" {
		t.Fatalf("GET blob range: %d %q", resp.StatusCode, got)
	}
	resp = send(t, http.MethodHead, base+"/"+digestOf([]byte("missing")), nil, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("HEAD missing: %d", resp.StatusCode)
	}
	resp = send(t, http.MethodGet, base+"/"+digestOf([]byte("missing")), nil, nil)
	if resp.StatusCode != http.StatusNotFound || problemCode(t, resp) != "blob_not_found" {
		t.Fatalf("GET missing: %d", resp.StatusCode)
	}
	resp = send(t, http.MethodGet, base+"/sha256:..%2F..%2Fetc", nil, nil)
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, resp) != "invalid_digest" {
		t.Fatalf("GET malformed digest: %d", resp.StatusCode)
	}
	resp = send(t, http.MethodGet, upload, nil, nil)
	if resp.StatusCode != http.StatusNotFound || problemCode(t, resp) != "upload_not_found" {
		t.Fatalf("GET committed upload: %d", resp.StatusCode)
	}
	resp = send(t, http.MethodPatch, base+"/uploads/..%2F..%2Fsha256", data, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("PATCH a path trick: %d", resp.StatusCode)
	}

	// A commit whose bytes hash to something else stores nothing.
	resp = send(t, http.MethodPost, base+"/uploads", nil, nil)
	upload = strings.TrimSuffix(base, "/v1/blobs") + resp.Header.Get("Location")
	resp = send(t, http.MethodPut, upload+"?digest="+digestOf([]byte("other")), data, nil)
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, resp) != "digest_mismatch" {
		t.Fatalf("PUT with a wrong digest: %d", resp.StatusCode)
	}
	if s.Has(digestOf([]byte("other"))) || len(uploads(t, s)) != 0 {
		t.Fatal("a refused upload left something behind")
	}

	// Cancelling drops an upload.
	resp = send(t, http.MethodPost, base+"/uploads", nil, nil)
	upload = strings.TrimSuffix(base, "/v1/blobs") + resp.Header.Get("Location")
	if resp = send(t, http.MethodDelete, upload, nil, nil); resp.StatusCode != http.StatusNoContent || len(uploads(t, s)) != 0 {
		t.Fatalf("DELETE upload: %d, uploads %v", resp.StatusCode, uploads(t, s))
	}
}

func ExampleHandler() {
	s, err := Open("/var/lib/berth/blobs")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/blobs/", http.StripPrefix("/v1/blobs", Handler(s)))
	http.ListenAndServe("10.0.0.5:7001", mux)
}
