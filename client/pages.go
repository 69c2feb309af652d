package client

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"time"
)

// Page is a custom page an org or workspace uploaded for one of the
// edge's own pages.
type Page struct {
	OwnerID string `json:"owner_id"`
	// Kind is not-found, bad-gateway, loading, tls-pending or
	// rate-limited.
	Kind      string    `json:"kind"`
	Digest    string    `json:"digest"`
	Size      int       `json:"size"`
	UpdatedAt time.Time `json:"updated_at"`
}

// RoutesResync is what `berth routes resync` did.
type RoutesResync struct {
	// Version is the route change that invalidated every edge.
	Version uint64 `json:"version"`
	// Hostnames is how many names the records route.
	Hostnames int `json:"hostnames"`
}

func pagePath(ownerKind, ownerID, kind string) string {
	return "/" + ownerKind + "/" + url.PathEscape(ownerID) + "/pages/" + url.PathEscape(kind)
}

// PutOrgPage uploads the org's custom page of a kind: an HTML template.
func (c *Client) PutOrgPage(ctx context.Context, orgID, kind string, html []byte) (*Page, error) {
	var out Page
	return &out, c.Do(ctx, http.MethodPut, pagePath("orgs", orgID, kind), bytes.NewReader(html), "text/html; charset=utf-8", &out)
}

// PutWorkspacePage uploads the workspace's custom page of a kind.
func (c *Client) PutWorkspacePage(ctx context.Context, wsID, kind string, html []byte) (*Page, error) {
	var out Page
	return &out, c.Do(ctx, http.MethodPut, pagePath("workspaces", wsID, kind), bytes.NewReader(html), "text/html; charset=utf-8", &out)
}

// OrgPage returns the template of the org's custom page of a kind.
func (c *Client) OrgPage(ctx context.Context, orgID, kind string) ([]byte, error) {
	var b bytes.Buffer
	err := c.Do(ctx, http.MethodGet, pagePath("orgs", orgID, kind), nil, "", &b)
	return b.Bytes(), err
}

// WorkspacePage returns the template of the workspace's custom page.
func (c *Client) WorkspacePage(ctx context.Context, wsID, kind string) ([]byte, error) {
	var b bytes.Buffer
	err := c.Do(ctx, http.MethodGet, pagePath("workspaces", wsID, kind), nil, "", &b)
	return b.Bytes(), err
}

// DeleteOrgPage removes the org's custom page of a kind.
func (c *Client) DeleteOrgPage(ctx context.Context, orgID, kind string) error {
	return c.Do(ctx, http.MethodDelete, pagePath("orgs", orgID, kind), nil, "", nil)
}

// DeleteWorkspacePage removes the workspace's custom page of a kind.
func (c *Client) DeleteWorkspacePage(ctx context.Context, wsID, kind string) error {
	return c.Do(ctx, http.MethodDelete, pagePath("workspaces", wsID, kind), nil, "", nil)
}

// ResyncRoutes re-registers every route from the records (platform admin
// key).
func (c *Client) ResyncRoutes(ctx context.Context) (*RoutesResync, error) {
	var out RoutesResync
	return &out, c.json(ctx, http.MethodPost, "/routes/resync", nil, &out)
}
