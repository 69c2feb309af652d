package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/berth-dev/berth/internal/blob"
)

// Client talks to one host's agent. It is the only way the control plane
// reaches a host.
type Client struct {
	base   string
	secret string
	hc     *http.Client
	addr   string      // host:port of base, for tunnels
	tls    *tls.Config // nil: plain TCP
}

// NewClient returns a client for the agent at baseURL (http://addr).
func NewClient(baseURL, secret string) *Client {
	return &Client{base: baseURL, secret: secret, addr: hostOf(baseURL), hc: &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}}}
}

// hostOf is the host:port of an agent's base URL.
func hostOf(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// Error is an answer of the agent other than success.
type Error struct {
	Status int
	Code   string
	Detail string
}

func (e *Error) Error() string { return fmt.Sprintf("agent: %s: %s", e.Code, e.Detail) }

func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	}
	return false
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("agent request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.secret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("reaching agent: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var p problem
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &p) != nil || p.Code == "" {
			p = problem{Code: "agent_error", Detail: string(b)}
		}
		return &Error{Status: resp.StatusCode, Code: p.Code, Detail: p.Detail}
	}
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if w, ok := out.(io.Writer); ok {
		_, err = io.Copy(w, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding agent answer: %w", err)
	}
	return nil
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

// Health checks the agent and its runtime.
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/v1/health", nil, nil)
}

// PushBlob uploads a local file to the agent's blob store, resuming after
// breaks, unless the agent already has it.
func (c *Client) PushBlob(ctx context.Context, digest, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening artifact: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("opening artifact: %w", err)
	}
	u := &blob.Uploader{Client: c.hc, BaseURL: c.base + "/v1/blobs", ChunkSize: 8 << 20,
		Header: http.Header{"Authorization": {"Bearer " + c.secret}}}
	if err := u.Push(ctx, digest, f, st.Size()); err != nil {
		return fmt.Errorf("uploading artifact: %w", err)
	}
	return nil
}

// ImageExists reports whether the host has the image.
func (c *Client) ImageExists(ctx context.Context, ref string) (bool, error) {
	err := c.do(ctx, http.MethodGet, "/v1/images?ref="+url.QueryEscape(ref), nil, nil)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Build builds an image from an uploaded blob.
func (c *Client) Build(ctx context.Context, req BuildRequest) error {
	return c.do(ctx, http.MethodPost, "/v1/images/build", jsonBody(req), nil)
}

// CreateContainer creates a container; a taken name is ErrConflict.
func (c *Client) CreateContainer(ctx context.Context, spec ContainerSpec) (string, error) {
	var out struct{ ID string }
	err := c.do(ctx, http.MethodPost, "/v1/containers", jsonBody(spec), &out)
	return out.ID, err
}

// StartContainer starts a created or stopped container.
func (c *Client) StartContainer(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/v1/containers/"+url.PathEscape(id)+"/start", nil, nil)
}

// StopContainer stops a container, killing it after timeout.
func (c *Client) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	return c.do(ctx, http.MethodPost, "/v1/containers/"+url.PathEscape(id)+"/stop?timeout="+timeout.String(), nil, nil)
}

// PauseContainer freezes a running container; a paused or stopped one
// is left as it is.
func (c *Client) PauseContainer(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/v1/containers/"+url.PathEscape(id)+"/pause", nil, nil)
}

// UnpauseContainer thaws a paused container; one not paused is left as
// it is.
func (c *Client) UnpauseContainer(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/v1/containers/"+url.PathEscape(id)+"/unpause", nil, nil)
}

// RemoveContainer removes a container; a missing one is not an error.
func (c *Client) RemoveContainer(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/containers/"+url.PathEscape(id), nil, nil)
}

// InspectContainer describes a container by id or name.
func (c *Client) InspectContainer(ctx context.Context, id string) (ContainerInfo, error) {
	var info ContainerInfo
	err := c.do(ctx, http.MethodGet, "/v1/containers/"+url.PathEscape(id), nil, &info)
	return info, err
}

// ListContainers lists containers carrying all labels.
func (c *Client) ListContainers(ctx context.Context, labels map[string]string) ([]ContainerInfo, error) {
	q := url.Values{}
	for k, v := range labels {
		q.Add("label", k+"="+v)
	}
	var out []ContainerInfo
	err := c.do(ctx, http.MethodGet, "/v1/containers?"+q.Encode(), nil, &out)
	return out, err
}

// Logs returns the tail of a container's output.
func (c *Client) Logs(ctx context.Context, id string, tail int) (string, error) {
	var b bytes.Buffer
	err := c.do(ctx, http.MethodGet, "/v1/containers/"+url.PathEscape(id)+"/logs?tail="+strconv.Itoa(tail), nil, &b)
	return b.String(), err
}

// Exec runs a command in a container.
func (c *Client) Exec(ctx context.Context, id string, req ExecRequest) (ExecResult, error) {
	var out ExecResult
	err := c.do(ctx, http.MethodPost, "/v1/containers/"+url.PathEscape(id)+"/exec", jsonBody(req), &out)
	return out, err
}

// CopyTo extracts a tar stream into dir inside a container.
func (c *Client) CopyTo(ctx context.Context, id, dir string, tar io.Reader) error {
	return c.do(ctx, http.MethodPut, "/v1/containers/"+url.PathEscape(id)+"/archive?dir="+url.QueryEscape(dir), tar, nil)
}

// CopyFrom writes a tar stream of path inside a container to w.
func (c *Client) CopyFrom(ctx context.Context, id, path string, w io.Writer) error {
	return c.do(ctx, http.MethodGet, "/v1/containers/"+url.PathEscape(id)+"/archive?path="+url.QueryEscape(path), nil, w)
}

// Probe waits until a container's port answers HTTP.
func (c *Client) Probe(ctx context.Context, id string, req ProbeRequest) (ProbeResult, error) {
	var out ProbeResult
	err := c.do(ctx, http.MethodPost, "/v1/containers/"+url.PathEscape(id)+"/probe", jsonBody(req), &out)
	return out, err
}

// RemoveVolume removes a named volume.
func (c *Client) RemoveVolume(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/v1/volumes/"+url.PathEscape(name), nil, nil)
}

// ConnectNetwork joins a container to a network, where others reach it
// by aliases.
func (c *Client) ConnectNetwork(ctx context.Context, id, network string, aliases []string) error {
	return c.do(ctx, http.MethodPost, "/v1/containers/"+url.PathEscape(id)+"/networks", jsonBody(NetworkRequest{Network: network, Aliases: aliases}), nil)
}

// DisconnectNetwork takes a container off a network.
func (c *Client) DisconnectNetwork(ctx context.Context, id, network string) error {
	return c.do(ctx, http.MethodDelete, "/v1/containers/"+url.PathEscape(id)+"/networks/"+url.PathEscape(network), nil, nil)
}
