package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// ListOptions filter and page a list call. Each list sends the filters
// that apply to it: OrgID to workspaces; OrgID and WorkspaceID to
// projects; ProjectID to sandboxes, releases and deployments. A key sees
// only what its scope holds, whatever the filters.
type ListOptions struct {
	OrgID       string
	WorkspaceID string
	ProjectID   string
	// ExternalID finds a resource by your own id for it.
	ExternalID string
	// Limit is the page's size, 1 to 1000 (0: the API's default, 100).
	Limit int
	// Cursor is the NextCursor of the page before.
	Cursor string
}

// query is the list's query string with the filters named in filters.
func (o ListOptions) query(filters ...string) string {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	for _, f := range filters {
		switch f {
		case "org_id":
			set(f, o.OrgID)
		case "workspace_id":
			set(f, o.WorkspaceID)
		case "project_id":
			set(f, o.ProjectID)
		}
	}
	set("external_id", o.ExternalID)
	set("cursor", o.Cursor)
	if o.Limit != 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func list[T any](ctx context.Context, c *Client, path string) (*List[T], error) {
	var out List[T]
	if err := c.json(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListOrgs returns one page of the orgs the key can see.
func (c *Client) ListOrgs(ctx context.Context, o ListOptions) (*List[Org], error) {
	return list[Org](ctx, c, "/orgs"+o.query())
}

// GetOrg shows an org.
func (c *Client) GetOrg(ctx context.Context, id string) (*Org, error) {
	var out Org
	return &out, c.json(ctx, http.MethodGet, "/orgs/"+url.PathEscape(id), nil, &out)
}

// ListWorkspaces returns one page of the workspaces the key can see, of
// o.OrgID when set.
func (c *Client) ListWorkspaces(ctx context.Context, o ListOptions) (*List[Workspace], error) {
	return list[Workspace](ctx, c, "/workspaces"+o.query("org_id"))
}

// GetWorkspace shows a workspace.
func (c *Client) GetWorkspace(ctx context.Context, id string) (*Workspace, error) {
	var out Workspace
	return &out, c.json(ctx, http.MethodGet, "/workspaces/"+url.PathEscape(id), nil, &out)
}

// ListProjects returns one page of the projects the key can see, of
// o.OrgID and o.WorkspaceID when set.
func (c *Client) ListProjects(ctx context.Context, o ListOptions) (*List[Project], error) {
	return list[Project](ctx, c, "/projects"+o.query("org_id", "workspace_id"))
}

// GetProject shows a project.
func (c *Client) GetProject(ctx context.Context, id string) (*Project, error) {
	var out Project
	return &out, c.json(ctx, http.MethodGet, "/projects/"+url.PathEscape(id), nil, &out)
}

// ListSandboxes returns one page of the sandboxes the key can see, of
// o.ProjectID when set.
func (c *Client) ListSandboxes(ctx context.Context, o ListOptions) (*List[Sandbox], error) {
	return list[Sandbox](ctx, c, "/sandboxes"+o.query("project_id"))
}

// ListReleases returns one page of the releases the key can see, of
// o.ProjectID when set.
func (c *Client) ListReleases(ctx context.Context, o ListOptions) (*List[Release], error) {
	return list[Release](ctx, c, "/releases"+o.query("project_id"))
}

// ListDeployments returns one page of the deployments the key can see,
// of o.ProjectID when set.
func (c *Client) ListDeployments(ctx context.Context, o ListOptions) (*List[Deployment], error) {
	return list[Deployment](ctx, c, "/deployments"+o.query("project_id"))
}
