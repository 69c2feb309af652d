package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Domain is a custom hostname of an org (its apps' domain), a workspace
// (the same, for the workspace) or one deployment (an exact name).
type Domain struct {
	ID           string `json:"id"`
	Hostname     string `json:"hostname"`
	OrgID        string `json:"org_id"`
	WorkspaceID  string `json:"workspace_id,omitempty"`
	DeploymentID string `json:"deployment_id,omitempty"`
	// Level is "org", "workspace" or "deployment".
	Level string `json:"level"`
	// Status is pending_verification, verified or failed.
	Status       string `json:"status"`
	StatusReason string `json:"status_reason,omitempty"`
	// Records are the DNS records to create: the TXT that proves
	// control, and where traffic goes.
	Records []DNSRecord `json:"records"`
	// URL is where a verified deployment domain's app answers: https
	// once the edge has its certificate.
	URL        string    `json:"url,omitempty"`
	VerifiedAt time.Time `json:"verified_at,omitempty,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// DNSRecord is one record a domain's owner creates at their DNS host.
type DNSRecord struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// CreateDomain adds a custom domain; give exactly one owner.
type CreateDomain struct {
	Hostname     string `json:"hostname"`
	OrgID        string `json:"org_id,omitempty"`
	WorkspaceID  string `json:"workspace_id,omitempty"`
	DeploymentID string `json:"deployment_id,omitempty"`
}

// Branding is what the pages of an org or workspace carry. Empty fields
// are not set.
type Branding struct {
	ProductName  string `json:"product_name,omitempty"`
	LogoURL      string `json:"logo_url,omitempty"`
	PrimaryColor string `json:"primary_color,omitempty"`
	AccentColor  string `json:"accent_color,omitempty"`
	SupportURL   string `json:"support_url,omitempty"`
	SupportEmail string `json:"support_email,omitempty"`
}

// OwnerBranding is an org's or workspace's branding: what it sets, and
// what applies (a workspace inherits its org's fields it does not set).
type OwnerBranding struct {
	OwnerID   string   `json:"owner_id"`
	Set       Branding `json:"set"`
	Effective Branding `json:"effective"`
}

// CreateDomain adds a custom domain, pending verification; the answer
// lists the DNS records to create.
func (c *Client) CreateDomain(ctx context.Context, in CreateDomain) (*Domain, error) {
	var out Domain
	return &out, c.create(ctx, "/domains", in, &out)
}

// VerifyDomain checks a domain's TXT record now.
func (c *Client) VerifyDomain(ctx context.Context, id string) (*Domain, error) {
	var out Domain
	return &out, c.json(ctx, http.MethodPost, "/domains/"+url.PathEscape(id)+"/verify", nil, &out)
}

// GetDomain shows a domain.
func (c *Client) GetDomain(ctx context.Context, id string) (*Domain, error) {
	var out Domain
	return &out, c.json(ctx, http.MethodGet, "/domains/"+url.PathEscape(id), nil, &out)
}

// ListDomains lists domains, of one org or workspace when set.
func (c *Client) ListDomains(ctx context.Context, orgID, workspaceID string) ([]Domain, error) {
	var out List[Domain]
	q := url.Values{"limit": {"1000"}}
	if orgID != "" {
		q.Set("org_id", orgID)
	}
	if workspaceID != "" {
		q.Set("workspace_id", workspaceID)
	}
	return out.Data, c.json(ctx, http.MethodGet, "/domains?"+q.Encode(), nil, &out)
}

// DeleteDomain removes a domain; its names stop answering.
func (c *Client) DeleteDomain(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, "/domains/"+url.PathEscape(id), nil, "", nil)
}

// SetOrgBranding replaces what an org sets of its branding.
func (c *Client) SetOrgBranding(ctx context.Context, orgID string, in Branding) (*OwnerBranding, error) {
	var out OwnerBranding
	return &out, c.json(ctx, http.MethodPut, "/orgs/"+url.PathEscape(orgID)+"/branding", in, &out)
}

// OrgBranding shows an org's branding.
func (c *Client) OrgBranding(ctx context.Context, orgID string) (*OwnerBranding, error) {
	var out OwnerBranding
	return &out, c.json(ctx, http.MethodGet, "/orgs/"+url.PathEscape(orgID)+"/branding", nil, &out)
}

// SetWorkspaceBranding replaces what a workspace sets of its branding.
func (c *Client) SetWorkspaceBranding(ctx context.Context, wsID string, in Branding) (*OwnerBranding, error) {
	var out OwnerBranding
	return &out, c.json(ctx, http.MethodPut, "/workspaces/"+url.PathEscape(wsID)+"/branding", in, &out)
}

// WorkspaceBranding shows a workspace's branding, its org's included.
func (c *Client) WorkspaceBranding(ctx context.Context, wsID string) (*OwnerBranding, error) {
	var out OwnerBranding
	return &out, c.json(ctx, http.MethodGet, "/workspaces/"+url.PathEscape(wsID)+"/branding", nil, &out)
}
