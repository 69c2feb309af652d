package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// ListOptions filter and page a list call. Each list sends the filters
// its endpoint takes: OrgID to workspaces and domains; OrgID and
// WorkspaceID to projects; WorkspaceID to hosts; ProjectID to sandboxes,
// releases, deployments, databases, buckets and cron jobs; ExternalID to
// those that have one. A key sees only what its scope holds, whatever the
// filters.
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

// query is the list's query string with the filters named.
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
		case "external_id":
			set(f, o.ExternalID)
		}
	}
	set("cursor", o.Cursor)
	if o.Limit != 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// all walks every page of a list, from o.Cursor on, yielding items
// oldest first; it stops at the first error, which it yields.
func all[T any](ctx context.Context, o ListOptions, page func(context.Context, ListOptions) (*List[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			p, err := page(ctx, o)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.Data {
				if !yield(it, nil) {
					return
				}
			}
			if p.NextCursor == "" || len(p.Data) == 0 {
				return
			}
			o.Cursor = p.NextCursor
		}
	}
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
	return list[Org](ctx, c, "/orgs"+o.query("external_id"))
}

// GetOrg shows an org.
func (c *Client) GetOrg(ctx context.Context, id string) (*Org, error) {
	var out Org
	return &out, c.json(ctx, http.MethodGet, "/orgs/"+url.PathEscape(id), nil, &out)
}

// ListWorkspaces returns one page of the workspaces the key can see, of
// o.OrgID when set.
func (c *Client) ListWorkspaces(ctx context.Context, o ListOptions) (*List[Workspace], error) {
	return list[Workspace](ctx, c, "/workspaces"+o.query("org_id", "external_id"))
}

// GetWorkspace shows a workspace.
func (c *Client) GetWorkspace(ctx context.Context, id string) (*Workspace, error) {
	var out Workspace
	return &out, c.json(ctx, http.MethodGet, "/workspaces/"+url.PathEscape(id), nil, &out)
}

// ListProjects returns one page of the projects the key can see, of
// o.OrgID and o.WorkspaceID when set.
func (c *Client) ListProjects(ctx context.Context, o ListOptions) (*List[Project], error) {
	return list[Project](ctx, c, "/projects"+o.query("org_id", "workspace_id", "external_id"))
}

// GetProject shows a project.
func (c *Client) GetProject(ctx context.Context, id string) (*Project, error) {
	var out Project
	return &out, c.json(ctx, http.MethodGet, "/projects/"+url.PathEscape(id), nil, &out)
}

// ListSandboxes returns one page of the sandboxes the key can see, of
// o.ProjectID when set.
func (c *Client) ListSandboxes(ctx context.Context, o ListOptions) (*List[Sandbox], error) {
	return list[Sandbox](ctx, c, "/sandboxes"+o.query("project_id", "external_id"))
}

// ListReleases returns one page of the releases the key can see, of
// o.ProjectID when set.
func (c *Client) ListReleases(ctx context.Context, o ListOptions) (*List[Release], error) {
	return list[Release](ctx, c, "/releases"+o.query("project_id", "external_id"))
}

// ListDeployments returns one page of the deployments the key can see,
// of o.ProjectID when set.
func (c *Client) ListDeployments(ctx context.Context, o ListOptions) (*List[Deployment], error) {
	return list[Deployment](ctx, c, "/deployments"+o.query("project_id", "external_id"))
}

// ListDatabasesPage returns one page of the data services the key can
// see, of o.ProjectID when set.
func (c *Client) ListDatabasesPage(ctx context.Context, o ListOptions) (*List[Database], error) {
	return list[Database](ctx, c, "/databases"+o.query("project_id", "external_id"))
}

// ListBucketsPage returns one page of the buckets the key can see, of
// o.ProjectID when set.
func (c *Client) ListBucketsPage(ctx context.Context, o ListOptions) (*List[Bucket], error) {
	return list[Bucket](ctx, c, "/buckets"+o.query("project_id", "external_id"))
}

// ListCronJobsPage returns one page of the cron jobs the key can see, of
// o.ProjectID when set.
func (c *Client) ListCronJobsPage(ctx context.Context, o ListOptions) (*List[CronJob], error) {
	return list[CronJob](ctx, c, "/cron-jobs"+o.query("project_id"))
}

// ListDomainsPage returns one page of the custom domains the key can see,
// of o.OrgID and o.WorkspaceID when set.
func (c *Client) ListDomainsPage(ctx context.Context, o ListOptions) (*List[Domain], error) {
	return list[Domain](ctx, c, "/domains"+o.query("org_id", "workspace_id"))
}

// ListHostsPage returns one page of the Docker Deploy hosts the key can
// see, of o.WorkspaceID when set.
func (c *Client) ListHostsPage(ctx context.Context, o ListOptions) (*List[Host], error) {
	return list[Host](ctx, c, "/docker-deploy/hosts"+o.query("workspace_id"))
}

// ListCronRunsPage returns one page of a job's runs, oldest first.
func (c *Client) ListCronRunsPage(ctx context.Context, jobID string, o ListOptions) (*List[CronRun], error) {
	return list[CronRun](ctx, c, "/cron-jobs/"+url.PathEscape(jobID)+"/runs"+o.query())
}

// The iterators below walk every page of a list, from o.Cursor on, so a
// loop sees every item however many there are:
//
//	for p, err := range c.Projects(ctx, client.ListOptions{WorkspaceID: ws}) {
//		if err != nil {
//			return err
//		}
//		…
//	}

// Orgs yields every org the key can see.
func (c *Client) Orgs(ctx context.Context, o ListOptions) iter.Seq2[Org, error] {
	return all(ctx, o, c.ListOrgs)
}

// Workspaces yields every workspace the key can see.
func (c *Client) Workspaces(ctx context.Context, o ListOptions) iter.Seq2[Workspace, error] {
	return all(ctx, o, c.ListWorkspaces)
}

// Projects yields every project the key can see.
func (c *Client) Projects(ctx context.Context, o ListOptions) iter.Seq2[Project, error] {
	return all(ctx, o, c.ListProjects)
}

// Sandboxes yields every sandbox the key can see.
func (c *Client) Sandboxes(ctx context.Context, o ListOptions) iter.Seq2[Sandbox, error] {
	return all(ctx, o, c.ListSandboxes)
}

// Releases yields every release the key can see.
func (c *Client) Releases(ctx context.Context, o ListOptions) iter.Seq2[Release, error] {
	return all(ctx, o, c.ListReleases)
}

// Deployments yields every deployment the key can see.
func (c *Client) Deployments(ctx context.Context, o ListOptions) iter.Seq2[Deployment, error] {
	return all(ctx, o, c.ListDeployments)
}

// Databases yields every data service the key can see.
func (c *Client) Databases(ctx context.Context, o ListOptions) iter.Seq2[Database, error] {
	return all(ctx, o, c.ListDatabasesPage)
}

// Buckets yields every bucket the key can see.
func (c *Client) Buckets(ctx context.Context, o ListOptions) iter.Seq2[Bucket, error] {
	return all(ctx, o, c.ListBucketsPage)
}

// CronJobs yields every cron job the key can see.
func (c *Client) CronJobs(ctx context.Context, o ListOptions) iter.Seq2[CronJob, error] {
	return all(ctx, o, c.ListCronJobsPage)
}

// Domains yields every custom domain the key can see.
func (c *Client) Domains(ctx context.Context, o ListOptions) iter.Seq2[Domain, error] {
	return all(ctx, o, c.ListDomainsPage)
}

// Hosts yields every Docker Deploy host the key can see.
func (c *Client) Hosts(ctx context.Context, o ListOptions) iter.Seq2[Host, error] {
	return all(ctx, o, c.ListHostsPage)
}

// CronJobRuns yields every run of a job, oldest first.
func (c *Client) CronJobRuns(ctx context.Context, jobID string, o ListOptions) iter.Seq2[CronRun, error] {
	return all(ctx, o, func(ctx context.Context, o ListOptions) (*List[CronRun], error) {
		return c.ListCronRunsPage(ctx, jobID, o)
	})
}
