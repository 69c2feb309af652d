package mcp

import (
	"context"

	"github.com/berth-dev/berth/client"
)

// Identity is the key a caller acts with.
type Identity struct {
	KeyID string `json:"key_id"`
	Name  string `json:"name"`
	Role  string `json:"role" jsonschema:"admin (everything in its scope), deployer (sandboxes, releases, deployments, reads) or viewer (reads only)"`
	Scope string `json:"scope" jsonschema:"how far the key reaches: platform, org, workspace or project"`
	// The ids of the key's scope; a platform key has none.
	OrgID       string `json:"org_id,omitempty"`
	WorkspaceID string `json:"workspace_id,omitempty"`
	ProjectID   string `json:"project_id,omitempty"`
}

// TemplateSummary is a template without its Dockerfile.
type TemplateSummary struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Description   string `json:"description"`
	Runtime       string `json:"runtime"`
	Port          int    `json:"port" jsonschema:"the port its dev server and its deployments listen on"`
	DevCommand    string `json:"dev_command" jsonschema:"what the sandbox runs in the background; do not start it again"`
	StartCommand  string `json:"start_command"`
	HealthPath    string `json:"health_path" jsonschema:"the path a deployment must answer before it serves"`
	DesignContext string `json:"design_context" jsonschema:"a brief for writing this template's code"`
}

// Templates is the catalogue.
type Templates struct {
	Templates []TemplateSummary `json:"templates"`
}

// Projects is a list of projects.
type Projects struct {
	Projects []client.Project `json:"projects"`
	// More is true when there are more than were listed.
	More bool `json:"more,omitempty"`
}

// Workspaces is a list of workspaces.
type Workspaces struct {
	Workspaces []client.Workspace `json:"workspaces"`
	More       bool               `json:"more,omitempty"`
}

// Host is a workspace's Docker Deploy host, as a model needs it.
type Host struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	State       string `json:"state" jsonschema:"provisioning, bootstrapping, active or failed"`
	StateReason string `json:"state_reason,omitempty"`
	PortalURL   string `json:"portal_url,omitempty" jsonschema:"where the workspace's people sign in to the host's portal"`
	Agent       string `json:"agent" jsonschema:"the health of the host's agent: unknown, healthy, unhealthy or skipped"`
	Portal      string `json:"portal" jsonschema:"the health of the host's portal"`
	Containers  int    `json:"containers" jsonschema:"app containers it runs"`
}

// Hosts is a list of hosts.
type Hosts struct {
	Hosts []Host `json:"hosts"`
}

func hostOf(h *client.Host) Host {
	return Host{ID: h.ID, WorkspaceID: h.WorkspaceID, State: h.State, StateReason: h.StateReason, PortalURL: h.PortalURL,
		Agent: h.Agent.Status, Portal: h.Portal.Status, Containers: h.Usage.Containers}
}

type noInput struct{}

type listProjectsInput struct {
	WorkspaceID string `json:"workspace_id,omitempty" jsonschema:"only this workspace's projects"`
	ExternalID  string `json:"external_id,omitempty" jsonschema:"find a project by your own id for it"`
}

type listWorkspacesInput struct {
	OrgID      string `json:"org_id,omitempty" jsonschema:"only this org's workspaces"`
	ExternalID string `json:"external_id,omitempty" jsonschema:"find a workspace by your own id for it"`
}

type createProjectInput struct {
	WorkspaceID string `json:"workspace_id" jsonschema:"the workspace (ws_…) the project belongs to"`
	Name        string `json:"name" jsonschema:"a name for people"`
	Slug        string `json:"slug,omitempty" jsonschema:"1–40 of a-z, 0-9 and -, unique in the org; it starts the project's URL (derived from name when left out)"`
	ExternalID  string `json:"external_id,omitempty" jsonschema:"your own id for the project, unique in the workspace"`
}

type workspaceInput struct {
	WorkspaceID string `json:"workspace_id" jsonschema:"the workspace (ws_…)"`
}

type hostsInput struct {
	WorkspaceID string `json:"workspace_id,omitempty" jsonschema:"only this workspace's host"`
}

// listLimit is how many items a list tool shows; a model filters rather
// than pages.
const listLimit = 200

func (t *toolset) tenants() {
	add(t, spec{name: "whoami", readOnly: true,
		description: "Show the API key these tools act with: its role and its scope (org, workspace, project ids). Call it first to learn which ids you may use.",
	}, func(ctx context.Context, c *client.Client, _ noInput) (Identity, error) {
		k, err := c.Self(ctx)
		if err != nil {
			return Identity{}, err
		}
		id := Identity{KeyID: k.ID, Name: k.Name, Role: k.Role, OrgID: k.OrgID, WorkspaceID: k.WorkspaceID, ProjectID: k.ProjectID}
		switch {
		case k.ProjectID != "":
			id.Scope = "project"
		case k.WorkspaceID != "":
			id.Scope = "workspace"
		case k.OrgID != "":
			id.Scope = "org"
		default:
			id.Scope = "platform"
		}
		return id, nil
	})

	add(t, spec{name: "list_templates", readOnly: true,
		description: "List the templates a sandbox starts from (static-html, express-api, nextjs-app, …), with each one's port, dev command and a design brief for its code.",
	}, func(ctx context.Context, c *client.Client, _ noInput) (Templates, error) {
		ts, err := c.Templates(ctx)
		if err != nil {
			return Templates{}, err
		}
		out := Templates{Templates: []TemplateSummary{}}
		for _, tp := range ts {
			out.Templates = append(out.Templates, TemplateSummary{ID: tp.ID, Name: tp.Name, Description: tp.Description, Runtime: tp.Runtime,
				Port: tp.Port, DevCommand: tp.DevCommand, StartCommand: tp.StartCommand, HealthPath: tp.HealthPath, DesignContext: tp.DesignContext})
		}
		return out, nil
	})

	add(t, spec{name: "list_workspaces", readOnly: true,
		description: "List the workspaces your key can see (oldest first), optionally of one org or by your external id.",
	}, func(ctx context.Context, c *client.Client, in listWorkspacesInput) (Workspaces, error) {
		page, err := c.ListWorkspaces(ctx, client.ListOptions{OrgID: in.OrgID, ExternalID: in.ExternalID, Limit: listLimit})
		if err != nil {
			return Workspaces{}, err
		}
		return Workspaces{Workspaces: page.Data, More: page.NextCursor != ""}, nil
	})

	add(t, spec{name: "list_projects", readOnly: true,
		description: "List the projects your key can see (oldest first), optionally of one workspace or by your external id.",
	}, func(ctx context.Context, c *client.Client, in listProjectsInput) (Projects, error) {
		page, err := c.ListProjects(ctx, client.ListOptions{WorkspaceID: in.WorkspaceID, ExternalID: in.ExternalID, Limit: listLimit})
		if err != nil {
			return Projects{}, err
		}
		return Projects{Projects: page.Data, More: page.NextCursor != ""}, nil
	})

	add(t, spec{name: "create_project",
		description: "Create a project (one app) in a workspace; its sandboxes, releases and its deployment's stable URL belong to it.",
	}, func(ctx context.Context, c *client.Client, in createProjectInput) (client.Project, error) {
		p, err := c.CreateProject(ctx, client.CreateProject{WorkspaceID: in.WorkspaceID, Name: in.Name, Slug: in.Slug, ExternalID: in.ExternalID})
		if err != nil {
			return client.Project{}, err
		}
		return *p, nil
	})

	add(t, spec{name: "docker_deploy_ensure", idempotent: true,
		description: "Make sure a workspace has its own Docker Deploy host (a private server with a portal for its people), creating it on first use; answers at once, follow it with docker_deploy_hosts.",
	}, func(ctx context.Context, c *client.Client, in workspaceInput) (Host, error) {
		h, err := c.EnsureHost(ctx, client.EnsureHost{WorkspaceID: in.WorkspaceID})
		if err != nil {
			return Host{}, err
		}
		return hostOf(h), nil
	})

	add(t, spec{name: "docker_deploy_hosts", readOnly: true,
		description: "List the Docker Deploy hosts your key can see, with their state (active when ready), health and portal URL.",
	}, func(ctx context.Context, c *client.Client, in hostsInput) (Hosts, error) {
		hs, err := c.ListHosts(ctx, in.WorkspaceID)
		if err != nil {
			return Hosts{}, err
		}
		out := Hosts{Hosts: []Host{}}
		for i := range hs {
			out.Hosts = append(out.Hosts, hostOf(&hs[i]))
		}
		return out, nil
	})
}
