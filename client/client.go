// Package client is the Go client of Berth's public API, used by the
// CLI, the portal and the tests.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls the public API with one key.
type Client struct {
	// BaseURL is the server's URL without /api/v1.
	BaseURL string
	Key     string
	HTTP    *http.Client
}

// New returns a client for the server at baseURL.
func New(baseURL, key string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Key: key, HTTP: http.DefaultClient}
}

// Do sends a request and decodes a JSON answer into out (unless nil). An
// answer of 400 or more is returned as *Problem.
func (c *Client) Do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+"/api/v1"+path, body)
	if err != nil {
		return fmt.Errorf("making request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("calling %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		p := &Problem{}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, p) != nil || p.Code == "" {
			p = &Problem{Status: resp.StatusCode, Code: "http_" + strconv.Itoa(resp.StatusCode), Detail: string(b)}
		}
		return p
	}
	if w, ok := out.(io.Writer); ok {
		_, err := io.Copy(w, resp.Body)
		return err
	}
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding answer of %s %s: %w", method, path, err)
	}
	return nil
}

func (c *Client) json(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	return c.Do(ctx, method, path, body, "application/json", out)
}

// CreateOrg creates an org (platform admin key).
func (c *Client) CreateOrg(ctx context.Context, in CreateOrg) (*Org, error) {
	var out Org
	return &out, c.json(ctx, http.MethodPost, "/orgs", in, &out)
}

// CreateWorkspace creates a workspace.
func (c *Client) CreateWorkspace(ctx context.Context, in CreateWorkspace) (*Workspace, error) {
	var out Workspace
	return &out, c.json(ctx, http.MethodPost, "/workspaces", in, &out)
}

// CreateProject creates a project.
func (c *Client) CreateProject(ctx context.Context, in CreateProject) (*Project, error) {
	var out Project
	return &out, c.json(ctx, http.MethodPost, "/projects", in, &out)
}

// CreateAPIKey creates a scoped key; the answer carries its secret once.
func (c *Client) CreateAPIKey(ctx context.Context, in CreateAPIKey) (*APIKey, error) {
	var out APIKey
	return &out, c.json(ctx, http.MethodPost, "/api-keys", in, &out)
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
	return &out, c.json(ctx, http.MethodPost, "/sandboxes", in, &out)
}

// GetSandbox shows a sandbox.
func (c *Client) GetSandbox(ctx context.Context, id string) (*Sandbox, error) {
	var out Sandbox
	return &out, c.json(ctx, http.MethodGet, "/sandboxes/"+id, nil, &out)
}

// RestartSandbox restarts a sandbox's container.
func (c *Client) RestartSandbox(ctx context.Context, id string) (*Sandbox, error) {
	var out Sandbox
	return &out, c.json(ctx, http.MethodPost, "/sandboxes/"+id+"/restart", nil, &out)
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
	return c.Do(ctx, http.MethodPut, "/sandboxes/"+id+"/files/"+filePath(path), bytes.NewReader(data), "application/octet-stream", nil)
}

// ReadFile reads a file of a sandbox.
func (c *Client) ReadFile(ctx context.Context, id, path string) ([]byte, error) {
	var b bytes.Buffer
	err := c.Do(ctx, http.MethodGet, "/sandboxes/"+id+"/files/"+filePath(path), nil, "", &b)
	return b.Bytes(), err
}

// ListFiles lists a directory of a sandbox.
func (c *Client) ListFiles(ctx context.Context, id, path string) ([]FileEntry, error) {
	var out struct{ Entries []FileEntry }
	err := c.json(ctx, http.MethodGet, "/sandboxes/"+id+"/files/"+filePath(path), nil, &out)
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
	return c.Do(ctx, http.MethodDelete, "/sandboxes/"+id+"/files/"+filePath(path), nil, "", nil)
}

// Exec runs a one-shot command in a sandbox.
func (c *Client) Exec(ctx context.Context, id string, in Exec) (*ExecResult, error) {
	var out ExecResult
	return &out, c.json(ctx, http.MethodPost, "/sandboxes/"+id+"/exec", in, &out)
}

// StartProcess starts a background process in a sandbox.
func (c *Client) StartProcess(ctx context.Context, id string, in Exec) (*Process, error) {
	in.Background = true
	var out Process
	return &out, c.json(ctx, http.MethodPost, "/sandboxes/"+id+"/exec", in, &out)
}

// Preview points the sandbox URL at a port and waits up to 30 s until it
// serves.
func (c *Client) Preview(ctx context.Context, id string, port int) (*Preview, error) {
	var out Preview
	return &out, c.json(ctx, http.MethodPost, "/sandboxes/"+id+"/preview", map[string]int{"port": port}, &out)
}

// PreviewWait is Preview waiting up to wait (whole seconds, at most 2
// minutes; 0 answers at once) instead of 30 s.
func (c *Client) PreviewWait(ctx context.Context, id string, port int, wait time.Duration) (*Preview, error) {
	var out Preview
	in := map[string]int{"port": port, "wait_seconds": int(wait / time.Second)}
	return &out, c.json(ctx, http.MethodPost, "/sandboxes/"+id+"/preview", in, &out)
}

// Publish freezes a sandbox's files into a release.
func (c *Client) Publish(ctx context.Context, id string) (*Release, error) {
	var out Release
	return &out, c.json(ctx, http.MethodPost, "/sandboxes/"+id+"/publish", nil, &out)
}

// ReleaseOptions say how to build an uploaded release.
type ReleaseOptions struct {
	ProjectID  string
	TemplateID string
	Port       int
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
	var out Release
	return &out, c.Do(ctx, http.MethodPost, "/releases?"+q.Encode(), tar, "application/x-tar", &out)
}

// GetRelease shows a release.
func (c *Client) GetRelease(ctx context.Context, id string) (*Release, error) {
	var out Release
	return &out, c.json(ctx, http.MethodGet, "/releases/"+id, nil, &out)
}

// Deploy points a project's deployment at a release.
func (c *Client) Deploy(ctx context.Context, in CreateDeployment) (*Deployment, error) {
	var out Deployment
	return &out, c.json(ctx, http.MethodPost, "/deployments", in, &out)
}

// GetDeployment shows a deployment.
func (c *Client) GetDeployment(ctx context.Context, id string) (*Deployment, error) {
	var out Deployment
	return &out, c.json(ctx, http.MethodGet, "/deployments/"+id, nil, &out)
}

// Rollback re-points a deployment at an earlier release.
func (c *Client) Rollback(ctx context.Context, id, releaseID string) (*Deployment, error) {
	var out Deployment
	return &out, c.json(ctx, http.MethodPost, "/deployments/"+id+"/rollback", Rollback{ReleaseID: releaseID}, &out)
}

// Events lists a resource's events after a sequence number.
func (c *Client) Events(ctx context.Context, resourceID string, after int64) ([]Event, error) {
	var out List[Event]
	q := url.Values{"resource_id": {resourceID}, "after": {strconv.FormatInt(after, 10)}}
	return out.Data, c.json(ctx, http.MethodGet, "/events?"+q.Encode(), nil, &out)
}

// Templates lists the template catalogue.
func (c *Client) Templates(ctx context.Context) ([]Template, error) {
	var out List[Template]
	return out.Data, c.json(ctx, http.MethodGet, "/docker-deploy/templates", nil, &out)
}
