package resolve

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/edge"
)

// idleStream is how long a change stream may stay silent before the
// client gives up on it: a few missed heartbeats.
const idleStream = 3 * heartbeat

// Client asks a control plane's resolver over HTTP.
type Client struct {
	base string
	key  string
	http *http.Client
}

// NewClient returns a Client for the resolver at baseURL
// ("http://10.0.0.5:7790") with the internal key.
func NewClient(baseURL, key string) *Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), key: key, http: &http.Client{Transport: tr}}
}

func (c *Client) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		res.Body.Close()
		return nil, fmt.Errorf("resolver answered %s: %s", res.Status, strings.TrimSpace(string(b)))
	}
	return res, nil
}

// Resolve asks for one hostname.
func (c *Client) Resolve(ctx context.Context, host string) (edge.Answer, error) {
	res, err := c.get(ctx, ResolvePath+"?host="+url.QueryEscape(host))
	if err != nil {
		return edge.Answer{}, fmt.Errorf("resolving %s: %w", host, err)
	}
	defer res.Body.Close()
	var w answer
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&w); err != nil {
		return edge.Answer{}, fmt.Errorf("resolving %s: decoding the answer: %w", host, err)
	}
	return fromWire(host, w), nil
}

// Page fetches a custom page template by digest.
func (c *Client) Page(ctx context.Context, digest string) (string, error) {
	res, err := c.get(ctx, PagesPath+url.PathEscape(digest))
	if err != nil {
		return "", fmt.Errorf("fetching page %s: %w", digest, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, edge.MaxCustomPageBytes+1))
	if err != nil {
		return "", fmt.Errorf("fetching page %s: %w", digest, err)
	}
	return string(b), nil
}

// Watch follows the change stream until ctx ends or the stream breaks.
func (c *Client) Watch(outer context.Context, fn func(edge.Change)) error {
	ctx, cancel := context.WithCancel(outer)
	defer cancel()
	res, err := c.get(ctx, ChangesPath)
	if err != nil {
		return fmt.Errorf("opening the change stream: %w", err)
	}
	defer res.Body.Close()
	// A stream that goes silent past a few heartbeats is dead, even if
	// its connection never says so.
	alive := make(chan struct{}, 1)
	go func() {
		t := time.NewTimer(idleStream)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-alive:
				t.Reset(idleStream)
			case <-t.C:
				cancel()
				return
			}
		}
	}()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var data strings.Builder
	for sc.Scan() {
		select {
		case alive <- struct{}{}:
		default:
		}
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() == 0 {
				continue
			}
			var w change
			if err := json.Unmarshal([]byte(data.String()), &w); err != nil {
				return fmt.Errorf("decoding a change: %w", err)
			}
			data.Reset()
			fn(changeFromWire(w))
		case strings.HasPrefix(line, "data:"):
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if outer.Err() != nil {
		return outer.Err()
	}
	if ctx.Err() != nil {
		return fmt.Errorf("the change stream was silent for %s", idleStream)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the change stream: %w", err)
	}
	return errors.New("the change stream ended")
}

// Interface guard.
var _ edge.Resolver = (*Client)(nil)
