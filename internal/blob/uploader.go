package blob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// DefaultChunkSize is the chunk size of an Uploader that sets none.
	DefaultChunkSize = 8 << 20
	// maxAttempts bounds the consecutive failed requests, without progress
	// in between, before Push gives up.
	maxAttempts = 6
	// firstBackoff doubles after each failure, up to maxBackoff.
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 3 * time.Second
)

// Uploader pushes blobs to a Handler, resuming after network errors and
// server errors from what the server reports it holds.
type Uploader struct {
	Client    *http.Client // nil means http.DefaultClient
	BaseURL   string       // URL of the handler's mount point, e.g. "https://10.0.0.5:7001/v1/blobs"
	ChunkSize int64        // bytes per PATCH; 0 means DefaultChunkSize
	Header    http.Header  // added to every request, e.g. Authorization
}

// StatusError is a response Push could not get past. It wraps the Store
// error the code stands for (ErrDigestMismatch, ErrInvalidDigest,
// ErrRangeMismatch, ErrNotFound, ErrUploadNotFound) when there is one.
type StatusError struct {
	Status int
	Code   string // the problem's code, if the body was problem+json
	Detail string
}

// Error says what the server answered.
func (e *StatusError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("blob server answered %d", e.Status)
	}
	return fmt.Sprintf("blob server answered %d %s: %s", e.Status, e.Code, e.Detail)
}

// Unwrap maps the problem's code back to the Store error it came from.
func (e *StatusError) Unwrap() error {
	switch {
	case e.Code == "digest_mismatch":
		return ErrDigestMismatch
	case e.Code == "invalid_digest":
		return ErrInvalidDigest
	case e.Code == "blob_not_found":
		return ErrNotFound
	case e.Code == "upload_not_found":
		return ErrUploadNotFound
	case e.Status == http.StatusRequestedRangeNotSatisfiable:
		return ErrRangeMismatch
	}
	return nil
}

// retryable reports whether a request may succeed when tried again:
// network errors, server errors, throttling, a range the server disagrees
// with (after asking it where the upload ends), and an upload the server
// lost (by starting another).
func retryable(err error) bool {
	var se *StatusError
	if !errors.As(err, &se) {
		return true // no answer: a network error
	}
	return se.Status >= 500 || errors.Is(se, ErrUploadNotFound) || se.Status == http.StatusRequestedRangeNotSatisfiable ||
		se.Status == http.StatusTooManyRequests || se.Status == http.StatusRequestTimeout ||
		se.Code == "incomplete_chunk"
}

// Push uploads size bytes of f as the blob digest, unless the server has
// it already. After a failed request it asks the server how much of the
// upload arrived and goes on from there, with a growing pause, giving up
// after a few failures in a row without progress. Memory holds no more
// than one chunk's buffers whatever the size.
func (u *Uploader) Push(ctx context.Context, digest string, f io.ReaderAt, size int64) error {
	if _, err := ParseDigest(digest); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("pushing %s: negative size %d", digest, size)
	}
	p := &push{u: u, digest: digest, f: f, size: size}
	if err := p.run(ctx); err != nil {
		return fmt.Errorf("pushing %s: %w", digest, err)
	}
	return nil
}

// push is the state of one Push.
type push struct {
	u      *Uploader
	digest string
	f      io.ReaderAt
	size   int64

	location *url.URL // of the upload
	offset   int64    // bytes the server holds
	best     int64    // the most the server ever held: progress beyond it resets failures
	failures int      // in a row, without progress
}

func (p *push) run(ctx context.Context) error {
	// Even the first requests are retried: a server that restarts while
	// a deploy begins should not fail the deploy.
	for {
		err := p.step(ctx)
		if err == nil {
			return nil
		}
		if errors.Is(err, errMore) {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !retryable(err) {
			return err
		}
		if p.failures++; p.failures >= maxAttempts {
			return fmt.Errorf("giving up after %d attempts: %w", p.failures, err)
		}
		if err := sleep(ctx, backoff(p.failures)); err != nil {
			return err
		}
		if err := p.resync(ctx); err != nil && !retryable(err) {
			return err
		}
	}
}

// errMore says a step made progress and the next one should follow.
var errMore = errors.New("more to send")

// step sends the next request of the upload.
func (p *push) step(ctx context.Context) error {
	if p.location == nil {
		have, err := p.u.exists(ctx, p.digest)
		if err != nil || have {
			return err
		}
		loc, err := p.u.start(ctx)
		if err != nil {
			return err
		}
		p.location, p.offset = loc, 0
		return errMore
	}
	if p.offset < p.size {
		n := min(p.u.chunkSize(), p.size-p.offset)
		held, err := p.u.patch(ctx, p.location, p.f, p.offset, n)
		if err != nil {
			return err
		}
		p.progress(held)
		return errMore
	}
	return p.u.commit(ctx, p.location, p.digest)
}

// resync asks the server how much of the upload it holds, after a failed
// request left that unknown.
func (p *push) resync(ctx context.Context) error {
	if p.location == nil {
		return nil
	}
	held, err := p.u.status(ctx, p.location)
	if errors.Is(err, ErrUploadNotFound) {
		// Gone: committed before the answer was lost, discarded, or the
		// server lost it. Start over, after checking for the blob.
		p.location = nil
		return nil
	}
	if err != nil {
		return err
	}
	p.progress(held)
	return nil
}

func (p *push) progress(held int64) {
	if held > p.best {
		p.best, p.failures = held, 0
	}
	p.offset = held
}

func (u *Uploader) base() string { return strings.TrimSuffix(u.BaseURL, "/") }

func (u *Uploader) chunkSize() int64 {
	if u.ChunkSize > 0 {
		return u.ChunkSize
	}
	return DefaultChunkSize
}

func (u *Uploader) exists(ctx context.Context, digest string) (bool, error) {
	resp, err := u.do(ctx, http.MethodHead, u.base()+"/"+digest, nil, 0, nil)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	drain(resp)
	return true, nil
}

func (u *Uploader) start(ctx context.Context) (*url.URL, error) {
	target, err := url.Parse(u.base() + "/uploads")
	if err != nil {
		return nil, fmt.Errorf("parsing base url: %w", err)
	}
	resp, err := u.do(ctx, http.MethodPost, target.String(), nil, 0, nil)
	if err != nil {
		return nil, err
	}
	drain(resp)
	if loc := resp.Header.Get("Location"); loc != "" {
		l, err := target.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("parsing upload location %q: %w", loc, err)
		}
		return l, nil
	}
	if id := resp.Header.Get("Docker-Upload-UUID"); id != "" {
		return target.JoinPath(id), nil
	}
	return nil, errors.New("starting upload: the server named no upload")
}

// patch sends n bytes of f from offset and returns how many bytes the
// upload then holds.
func (u *Uploader) patch(ctx context.Context, loc *url.URL, f io.ReaderAt, offset, n int64) (int64, error) {
	h := http.Header{
		"Content-Range": {fmt.Sprintf("%d-%d", offset, offset+n-1)},
		"Content-Type":  {"application/octet-stream"},
	}
	body := func() io.Reader { return io.NewSectionReader(f, offset, n) }
	resp, err := u.do(ctx, http.MethodPatch, loc.String(), body, n, h)
	if err != nil {
		return 0, err
	}
	drain(resp)
	return heldBytes(resp)
}

func (u *Uploader) status(ctx context.Context, loc *url.URL) (int64, error) {
	resp, err := u.do(ctx, http.MethodGet, loc.String(), nil, 0, nil)
	if err != nil {
		return 0, err
	}
	drain(resp)
	return heldBytes(resp)
}

func (u *Uploader) commit(ctx context.Context, loc *url.URL, digest string) error {
	target := *loc
	q := target.Query()
	q.Set("digest", digest)
	target.RawQuery = q.Encode()
	resp, err := u.do(ctx, http.MethodPut, target.String(), nil, 0, nil)
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}

// heldBytes reads an upload response's "Range: 0-<last>"; no Range means
// the upload is empty.
func heldBytes(resp *http.Response) (int64, error) {
	rng := resp.Header.Get("Range")
	if rng == "" {
		return 0, nil
	}
	last, ok := strings.CutPrefix(rng, "0-")
	n, err := strconv.ParseInt(last, 10, 64)
	if !ok || err != nil || n < 0 {
		return 0, fmt.Errorf("reading upload range: unexpected Range %q", rng)
	}
	return n + 1, nil
}

// do sends one request and returns the response when its status is 2xx,
// else a *StatusError, or the transport's error. body, when not nil, makes
// a fresh reader of the n bytes to send.
func (u *Uploader) do(ctx context.Context, method, target string, body func() io.Reader, n int64, h http.Header) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = body()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, r)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	if body != nil {
		req.ContentLength = n
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(body()), nil }
	}
	for k, vs := range u.Header {
		req.Header[k] = vs
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	client := u.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer drain(resp)
	se := &StatusError{Status: resp.StatusCode}
	var pb problemBody
	if method != http.MethodHead && json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&pb) == nil {
		se.Code, se.Detail = pb.Code, pb.Detail
	}
	if method == http.MethodHead && resp.StatusCode == http.StatusNotFound {
		se.Code = "blob_not_found"
	}
	return nil, se
}

// drain reads what is left of a body, so that its connection can serve the
// next request, and closes it.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func backoff(failures int) time.Duration {
	return min(firstBackoff<<(failures-1), maxBackoff)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
