// Package client is the Go client of Berth's public API, used by the
// CLI, the portal, the MCP server and the tests.
//
// Every operation of api/openapi.yaml has a method. Errors the API
// answers are *Problem, with the answer's status, the problem's stable
// code and its detail:
//
//	var p *client.Problem
//	if errors.As(err, &p) && p.Code == "port_not_exposed" { … }
//
// Lists come a page at a time (ListProjects) or whole, as iterators that
// fetch the pages as the loop goes (Projects). Calls that create send an
// Idempotency-Key, and busy answers (429, 503), other server errors and
// network errors are sent again when that is safe; see Do.
package client

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls the public API with one key. Its zero fields take the
// defaults New sets; change them before the first call.
type Client struct {
	// BaseURL is the server's URL without /api/v1.
	BaseURL string
	Key     string
	HTTP    *http.Client
	// UserAgent is sent with every request (empty: DefaultUserAgent).
	UserAgent string
	// Timeout bounds each call whose context has no deadline, its
	// retries included (0: DefaultTimeout; negative: none). Exec extends
	// it by the command's own timeout.
	Timeout time.Duration
	// Retries is how many times a call is sent again after a 429, a 5xx
	// or a network error, when sending it again is safe (0:
	// DefaultRetries; negative: never). See Do.
	Retries int
}

// The defaults of a Client's zero fields.
const (
	DefaultUserAgent = "berth-go-client"
	DefaultTimeout   = 5 * time.Minute
	DefaultRetries   = 3
)

// New returns a client for the server at baseURL.
func New(baseURL, key string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Key: key, HTTP: http.DefaultClient,
		UserAgent: DefaultUserAgent, Timeout: DefaultTimeout, Retries: DefaultRetries}
}

type idempotencyKey struct{}

// WithIdempotencyKey makes the creating calls made with ctx send key as
// their Idempotency-Key: a call repeated with the same key and body, even
// by another process after a crash, answers what the first one created
// instead of creating again. Without it, each creating call sends a key of
// its own, the same on each of its retries.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, key)
}

// call is one API call.
type call struct {
	method, path string
	body         io.Reader
	contentType  string
	// create says the call creates something: it sends an
	// Idempotency-Key, which makes sending it again safe.
	create bool
	// timeout, when set, replaces the client's.
	timeout time.Duration
}

// Do sends a request and decodes a JSON answer into out (unless nil; an
// io.Writer gets the body as it is). An answer of 400 or more is returned
// as *Problem, whatever its body.
//
// A call is sent again, up to Retries times with a growing, jittered
// wait (or the answer's Retry-After), when the answer is 429 or 503 (the
// server did not act on it), and when it is another 5xx or a network
// error if the call is safe to repeat: GET, PUT and DELETE, and the POSTs
// that create, which carry an Idempotency-Key. A body is sent again only
// when it can be read again (bytes.Reader, bytes.Buffer, strings.Reader).
func (c *Client) Do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	return c.do(ctx, call{method: method, path: path, body: body, contentType: contentType}, out)
}

func (c *Client) do(ctx context.Context, cl call, out any) error {
	timeout := cl.timeout
	if timeout == 0 {
		timeout = c.Timeout
		if timeout == 0 {
			timeout = DefaultTimeout
		}
	}
	if _, ok := ctx.Deadline(); !ok && timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.BaseURL+"/api/v1"+cl.path, cl.body)
	if err != nil {
		return fmt.Errorf("making request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	if cl.contentType != "" {
		req.Header.Set("Content-Type", cl.contentType)
	}
	if cl.create {
		key, _ := ctx.Value(idempotencyKey{}).(string)
		if key == "" {
			key = newIdempotencyKey()
		}
		req.Header.Set("Idempotency-Key", key)
	}
	safe := cl.create || cl.method == http.MethodGet || cl.method == http.MethodHead || cl.method == http.MethodPut || cl.method == http.MethodDelete
	replayable := cl.body == nil || req.GetBody != nil
	retries := c.Retries
	if retries == 0 {
		retries = DefaultRetries
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 && req.GetBody != nil {
			if req.Body, err = req.GetBody(); err != nil {
				return fmt.Errorf("reading the body again: %w", err)
			}
		}
		resp, err := hc.Do(req)
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil || !safe {
				return fmt.Errorf("calling %s %s: %w", cl.method, cl.path, err)
			}
		case resp.StatusCode < 400:
			defer resp.Body.Close()
			return decodeAnswer(resp, cl, out)
		default:
			p := problemOf(resp)
			resp.Body.Close()
			again := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable ||
				resp.StatusCode >= 500 && safe
			if !again || attempt >= retries || !replayable {
				return p
			}
			wait = retryAfter(resp)
			err = p
		}
		if attempt >= retries || !replayable {
			return fmt.Errorf("calling %s %s: %w", cl.method, cl.path, err)
		}
		if wait == 0 {
			wait = backoff(attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("calling %s %s: %w (after %v)", cl.method, cl.path, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// decodeAnswer reads a successful answer into out.
func decodeAnswer(resp *http.Response, cl call, out any) error {
	if w, ok := out.(io.Writer); ok {
		if _, err := io.Copy(w, resp.Body); err != nil {
			return fmt.Errorf("reading answer of %s %s: %w", cl.method, cl.path, err)
		}
		return nil
	}
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding answer of %s %s: %w", cl.method, cl.path, err)
	}
	return nil
}

// problemOf reads an error answer: the API's problem, or one made of the
// status and the start of the body when something else answered (a
// proxy).
func problemOf(resp *http.Response) *Problem {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	p := &Problem{}
	if json.Unmarshal(b, p) != nil || p.Code == "" {
		detail := strings.TrimSpace(string(b))
		if len(detail) > 512 {
			detail = detail[:512]
		}
		if detail == "" {
			detail = http.StatusText(resp.StatusCode)
		}
		p = &Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Code: "http_" + strconv.Itoa(resp.StatusCode), Detail: detail}
	}
	if p.Status == 0 {
		p.Status = resp.StatusCode
	}
	return p
}

// backoff is the wait before retry n+1: 250 ms doubling up to 8 s, with
// half of it random so that many clients do not come back at once.
func backoff(n int) time.Duration {
	d := min(250*time.Millisecond<<n, 8*time.Second)
	return d/2 + rand.N(d/2+1)
}

// retryAfter is an answer's Retry-After in seconds, at most 30 s; 0 when
// it has none.
func retryAfter(resp *http.Response) time.Duration {
	s, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || s <= 0 {
		return 0
	}
	return min(time.Duration(s)*time.Second, 30*time.Second)
}

// newIdempotencyKey is a random key for one creating call.
func newIdempotencyKey() string {
	var b [16]byte
	cryptorand.Read(b[:])
	return "berth-go-" + hex.EncodeToString(b[:])
}

func (c *Client) json(ctx context.Context, method, path string, in, out any) error {
	return c.jsonCall(ctx, call{method: method, path: path}, in, out)
}

// create is a POST that creates something, with an Idempotency-Key.
func (c *Client) create(ctx context.Context, path string, in, out any) error {
	return c.jsonCall(ctx, call{method: http.MethodPost, path: path, create: true}, in, out)
}

func (c *Client) jsonCall(ctx context.Context, cl call, in, out any) error {
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding the body of %s %s: %w", cl.method, cl.path, err)
		}
		cl.body = bytes.NewReader(b)
		cl.contentType = "application/json"
	}
	return c.do(ctx, cl, out)
}

// CreateOrg creates an org (platform admin key).
func (c *Client) CreateOrg(ctx context.Context, in CreateOrg) (*Org, error) {
	var out Org
	return &out, c.create(ctx, "/orgs", in, &out)
}

// CreateWorkspace creates a workspace.
func (c *Client) CreateWorkspace(ctx context.Context, in CreateWorkspace) (*Workspace, error) {
	var out Workspace
	return &out, c.create(ctx, "/workspaces", in, &out)
}

// CreateProject creates a project.
func (c *Client) CreateProject(ctx context.Context, in CreateProject) (*Project, error) {
	var out Project
	return &out, c.create(ctx, "/projects", in, &out)
}

// CreateAPIKey creates a scoped key; the answer carries its secret once.
func (c *Client) CreateAPIKey(ctx context.Context, in CreateAPIKey) (*APIKey, error) {
	var out APIKey
	return &out, c.create(ctx, "/api-keys", in, &out)
}

// Self shows the key the client calls with: its role and scope, without
// its secret.
func (c *Client) Self(ctx context.Context) (*APIKey, error) {
	var out APIKey
	return &out, c.json(ctx, http.MethodGet, "/api-keys/self", nil, &out)
}

// CreateSandbox creates a sandbox and waits briefly for it to run.
func (c *Client) CreateSandbox(ctx context.Context, in CreateSandbox) (*Sandbox, error) {
	var out Sandbox
	return &out, c.create(ctx, "/sandboxes", in, &out)
}

// CreateSandboxNoWait creates a sandbox and answers at once, while it is
// still pending: follow it with GetSandbox.
func (c *Client) CreateSandboxNoWait(ctx context.Context, in CreateSandbox) (*Sandbox, error) {
	var out Sandbox
	return &out, c.create(ctx, "/sandboxes?wait=false", in, &out)
}

// GetSandbox shows a sandbox.
func (c *Client) GetSandbox(ctx context.Context, id string) (*Sandbox, error) {
	var out Sandbox
	return &out, c.json(ctx, http.MethodGet, "/sandboxes/"+url.PathEscape(id), nil, &out)
}

// RestartSandbox restarts a sandbox's container.
func (c *Client) RestartSandbox(ctx context.Context, id string) (*Sandbox, error) {
	var out Sandbox
	return &out, c.json(ctx, http.MethodPost, "/sandboxes/"+url.PathEscape(id)+"/restart", nil, &out)
}

// DeleteSandbox removes a sandbox's container, volume and preview; its
// releases stay. Deleting a deleted sandbox succeeds.
func (c *Client) DeleteSandbox(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, "/sandboxes/"+url.PathEscape(id), nil, "", nil)
}

// StopSandbox stops a sandbox's container; its files are kept.
func (c *Client) StopSandbox(ctx context.Context, id string) (*Sandbox, error) {
	return c.sandboxAction(ctx, id, "stop")
}

// StartSandbox starts a stopped sandbox and its background processes.
func (c *Client) StartSandbox(ctx context.Context, id string) (*Sandbox, error) {
	return c.sandboxAction(ctx, id, "start")
}

// PauseSandbox freezes a running sandbox; memory and processes are kept.
func (c *Client) PauseSandbox(ctx context.Context, id string) (*Sandbox, error) {
	return c.sandboxAction(ctx, id, "pause")
}

// ResumeSandbox thaws a paused sandbox.
func (c *Client) ResumeSandbox(ctx context.Context, id string) (*Sandbox, error) {
	return c.sandboxAction(ctx, id, "resume")
}

func (c *Client) sandboxAction(ctx context.Context, id, action string) (*Sandbox, error) {
	var out Sandbox
	return &out, c.json(ctx, http.MethodPost, "/sandboxes/"+url.PathEscape(id)+"/"+action, nil, &out)
}

func filePath(p string) string {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// WriteFile writes a file in a sandbox.
func (c *Client) WriteFile(ctx context.Context, id, path string, data []byte) error {
	return c.Do(ctx, http.MethodPut, "/sandboxes/"+url.PathEscape(id)+"/files/"+filePath(path), bytes.NewReader(data), "application/octet-stream", nil)
}

// ReadFile reads a file of a sandbox.
func (c *Client) ReadFile(ctx context.Context, id, path string) ([]byte, error) {
	var b bytes.Buffer
	err := c.Do(ctx, http.MethodGet, "/sandboxes/"+url.PathEscape(id)+"/files/"+filePath(path), nil, "", &b)
	return b.Bytes(), err
}

// ListFiles lists a directory of a sandbox.
func (c *Client) ListFiles(ctx context.Context, id, path string) ([]FileEntry, error) {
	var out struct{ Entries []FileEntry }
	err := c.json(ctx, http.MethodGet, "/sandboxes/"+url.PathEscape(id)+"/files/"+filePath(path), nil, &out)
	return out.Entries, err
}

// UploadFiles extracts a tar over a sandbox's /workspace (nothing else is
// deleted) and returns how many files it held.
func (c *Client) UploadFiles(ctx context.Context, id string, tar io.Reader) (int, error) {
	var out struct {
		Files int `json:"files"`
	}
	err := c.Do(ctx, http.MethodPut, "/sandboxes/"+url.PathEscape(id)+"/files", tar, "application/x-tar", &out)
	return out.Files, err
}

// DeleteFile deletes a file or directory of a sandbox.
func (c *Client) DeleteFile(ctx context.Context, id, path string) error {
	return c.Do(ctx, http.MethodDelete, "/sandboxes/"+url.PathEscape(id)+"/files/"+filePath(path), nil, "", nil)
}

// Exec runs a one-shot command in a sandbox. The call's timeout is the
// client's plus the command's own (60 s when not given).
func (c *Client) Exec(ctx context.Context, id string, in Exec) (*ExecResult, error) {
	var out ExecResult
	limit := time.Duration(in.TimeoutSec) * time.Second
	if in.TimeoutSec <= 0 || in.TimeoutSec > 600 {
		limit = time.Minute
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout > 0 {
		timeout += limit
	}
	return &out, c.jsonCall(ctx, call{method: http.MethodPost, path: "/sandboxes/" + url.PathEscape(id) + "/exec", timeout: timeout}, in, &out)
}

// StartProcess starts a background process in a sandbox.
func (c *Client) StartProcess(ctx context.Context, id string, in Exec) (*Process, error) {
	in.Background = true
	var out Process
	return &out, c.json(ctx, http.MethodPost, "/sandboxes/"+url.PathEscape(id)+"/exec", in, &out)
}

// Preview points the sandbox URL at a port and waits up to 30 s until it
// serves.
func (c *Client) Preview(ctx context.Context, id string, port int) (*Preview, error) {
	var out Preview
	return &out, c.json(ctx, http.MethodPost, "/sandboxes/"+url.PathEscape(id)+"/preview", map[string]int{"port": port}, &out)
}

// PreviewWait is Preview waiting up to wait (whole seconds, at most 2
// minutes; 0 answers at once) instead of 30 s.
func (c *Client) PreviewWait(ctx context.Context, id string, port int, wait time.Duration) (*Preview, error) {
	var out Preview
	in := map[string]int{"port": port, "wait_seconds": int(wait / time.Second)}
	return &out, c.json(ctx, http.MethodPost, "/sandboxes/"+url.PathEscape(id)+"/preview", in, &out)
}

// Publish freezes a sandbox's files into a release.
func (c *Client) Publish(ctx context.Context, id string) (*Release, error) {
	var out Release
	return &out, c.create(ctx, "/sandboxes/"+url.PathEscape(id)+"/publish", nil, &out)
}

// ReleaseOptions say how to build an uploaded release.
type ReleaseOptions struct {
	ProjectID  string
	TemplateID string
	Port       int
	// Command is how the built image starts, when not the template's.
	Command string
	// ExternalID is your own id for the release.
	ExternalID string
}

// CreateRelease uploads a tar of files as a release.
func (c *Client) CreateRelease(ctx context.Context, tar io.Reader, o ReleaseOptions) (*Release, error) {
	q := url.Values{"project_id": {o.ProjectID}}
	if o.TemplateID != "" {
		q.Set("template_id", o.TemplateID)
	}
	if o.Port != 0 {
		q.Set("port", strconv.Itoa(o.Port))
	}
	if o.Command != "" {
		q.Set("command", o.Command)
	}
	if o.ExternalID != "" {
		q.Set("external_id", o.ExternalID)
	}
	var out Release
	return &out, c.do(ctx, call{method: http.MethodPost, path: "/releases?" + q.Encode(), body: tar, contentType: "application/x-tar", create: true}, &out)
}

// GetRelease shows a release.
func (c *Client) GetRelease(ctx context.Context, id string) (*Release, error) {
	var out Release
	return &out, c.json(ctx, http.MethodGet, "/releases/"+url.PathEscape(id), nil, &out)
}

// Deploy points a project's deployment at a release.
func (c *Client) Deploy(ctx context.Context, in CreateDeployment) (*Deployment, error) {
	var out Deployment
	return &out, c.create(ctx, "/deployments", in, &out)
}

// GetDeployment shows a deployment.
func (c *Client) GetDeployment(ctx context.Context, id string) (*Deployment, error) {
	var out Deployment
	return &out, c.json(ctx, http.MethodGet, "/deployments/"+url.PathEscape(id), nil, &out)
}

// Rollback re-points a deployment at an earlier release.
func (c *Client) Rollback(ctx context.Context, id, releaseID string) (*Deployment, error) {
	var out Deployment
	return &out, c.json(ctx, http.MethodPost, "/deployments/"+url.PathEscape(id)+"/rollback", Rollback{ReleaseID: releaseID}, &out)
}

// Events lists a resource's events after a sequence number.
func (c *Client) Events(ctx context.Context, resourceID string, after int64) ([]Event, error) {
	var out List[Event]
	q := url.Values{"resource_id": {resourceID}, "after": {strconv.FormatInt(after, 10)}}
	return out.Data, c.json(ctx, http.MethodGet, "/events?"+q.Encode(), nil, &out)
}

// GetTemplate shows one template of the catalogue.
func (c *Client) GetTemplate(ctx context.Context, id string) (*Template, error) {
	var out Template
	return &out, c.json(ctx, http.MethodGet, "/docker-deploy/templates/"+url.PathEscape(id), nil, &out)
}

// Health asks whether the API answers; it needs no key.
func (c *Client) Health(ctx context.Context) error {
	return c.json(ctx, http.MethodGet, "/healthz", nil, nil)
}

// Templates lists the template catalogue.
func (c *Client) Templates(ctx context.Context) ([]Template, error) {
	var out List[Template]
	return out.Data, c.json(ctx, http.MethodGet, "/docker-deploy/templates", nil, &out)
}
