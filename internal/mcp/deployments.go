package mcp

import (
	"context"
	"time"

	"github.com/berth-dev/berth/client"
)

// Deployment is a deployment as a model follows it.
type Deployment struct {
	ID           string `json:"id"`
	ProjectID    string `json:"project_id"`
	Product      string `json:"deployment_product"`
	URL          string `json:"url" jsonschema:"the stable URL; it never changes"`
	Status       string `json:"status" jsonschema:"pending, building, starting, ready or failed; paused or deleted when asked"`
	StatusReason string `json:"status_reason,omitempty" jsonschema:"why it failed, and what to change"`
	// Ready is true once the release asked for serves at the URL.
	Ready            bool                  `json:"ready"`
	ReleaseID        string                `json:"release_id" jsonschema:"the release asked for"`
	ServingReleaseID string                `json:"serving_release_id,omitempty" jsonschema:"the release that serves now"`
	StandbyReleaseID string                `json:"standby_release_id,omitempty" jsonschema:"the release a rollback switches to at once"`
	DesiredState     string                `json:"desired_state"`
	EnvNames         []string              `json:"env_names"`
	History          []client.HistoryEntry `json:"history"`
}

func deploymentOf(d *client.Deployment) Deployment {
	return Deployment{ID: d.ID, ProjectID: d.ProjectID, Product: d.DeploymentProduct, URL: d.URL, Status: d.Status, StatusReason: d.StatusReason,
		Ready: d.Ready && d.ServingReleaseID == d.ReleaseID, ReleaseID: d.ReleaseID, ServingReleaseID: d.ServingReleaseID,
		StandbyReleaseID: d.StandbyReleaseID, DesiredState: d.DesiredState, EnvNames: d.EnvNames, History: d.History}
}

// settled says a deployment has done what was asked, or failed.
func settled(d *client.Deployment) bool {
	switch {
	case d.Status == "failed":
		return true
	case d.DesiredState != "" && d.DesiredState != "running":
		return d.Status == d.DesiredState
	default:
		return d.Status == "ready" && d.ServingReleaseID == d.ReleaseID
	}
}

// Event is one step of a deployment.
type Event struct {
	Seq       int64     `json:"seq"`
	Type      string    `json:"type"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
}

// Events are a deployment's events.
type Events struct {
	Events []Event `json:"events"`
	// After is what to pass next time to get only newer events.
	After int64 `json:"after"`
}

type deployInput struct {
	ProjectID string            `json:"project_id" jsonschema:"the project (prj_…)"`
	ReleaseID string            `json:"release_id" jsonschema:"the release (rel_…) to run"`
	Env       map[string]string `json:"env,omitempty" jsonschema:"variables added to the deployment's (values kept secret); env_manifest of the release names what the app reads"`
	Product   string            `json:"deployment_product,omitempty" jsonschema:"standard (the default: the shared pool) or docker_deploy (the workspace's own Docker Deploy host)"`
}

type rollbackInput struct {
	DeploymentID string `json:"deployment_id" jsonschema:"the deployment (dep_…)"`
	ReleaseID    string `json:"release_id,omitempty" jsonschema:"a release from its history; default: the one before the current"`
}

type statusInput struct {
	DeploymentID string `json:"deployment_id" jsonschema:"the deployment (dep_…)"`
	WaitSeconds  int    `json:"wait_seconds,omitempty" jsonschema:"wait up to this long (0 to 120) for the deployment to be ready or to fail"`
}

type logsInput struct {
	DeploymentID string `json:"deployment_id" jsonschema:"the deployment (dep_…)"`
	After        int64  `json:"after,omitempty" jsonschema:"only events after this seq (the after of the previous answer)"`
}

func (t *toolset) deployments() {
	add(t, spec{name: "deploy", destructive: true,
		description: "Deploy a release at the project's stable URL: the first deploy makes the deployment, later ones promote it with no downtime; follow it with deployment_status.",
		input:       enum("deployment_product", "standard", "docker_deploy"),
	}, func(ctx context.Context, c *client.Client, in deployInput) (Deployment, error) {
		d, err := c.Deploy(ctx, client.CreateDeployment{ProjectID: in.ProjectID, ReleaseID: in.ReleaseID, Env: in.Env, DeploymentProduct: in.Product})
		if err != nil {
			return Deployment{}, err
		}
		return deploymentOf(d), nil
	})

	add(t, spec{name: "rollback", destructive: true,
		description: "Roll a deployment back to the release before the current one, or to a release of its history; the previous container usually serves again at once.",
	}, func(ctx context.Context, c *client.Client, in rollbackInput) (Deployment, error) {
		d, err := c.Rollback(ctx, in.DeploymentID, in.ReleaseID)
		if err != nil {
			return Deployment{}, err
		}
		return deploymentOf(d), nil
	})

	add(t, spec{name: "deployment_status", readOnly: true,
		description: "Show a deployment: its status, the release serving and its URL; with wait_seconds, wait until the release asked for serves or fails.",
		input:       between("wait_seconds", 0, 120),
	}, func(ctx context.Context, c *client.Client, in statusInput) (Deployment, error) {
		deadline := time.Now().Add(time.Duration(in.WaitSeconds) * time.Second)
		for {
			d, err := c.GetDeployment(ctx, in.DeploymentID)
			if err != nil {
				return Deployment{}, err
			}
			if settled(d) || !time.Now().Before(deadline) {
				return deploymentOf(d), nil
			}
			select {
			case <-ctx.Done():
				return Deployment{}, ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
		}
	})

	add(t, spec{name: "deployment_logs", readOnly: true,
		description: "Show a deployment's events, oldest first: uploading, building, starting, ready, and why a release failed; pass after for newer ones only.",
	}, func(ctx context.Context, c *client.Client, in logsInput) (Events, error) {
		if _, err := c.GetDeployment(ctx, in.DeploymentID); err != nil {
			return Events{}, err // events of an id that is no deployment are not this tool's
		}
		evs, err := c.Events(ctx, in.DeploymentID, in.After)
		if err != nil {
			return Events{}, err
		}
		out := Events{Events: []Event{}, After: in.After}
		for _, e := range evs {
			out.Events = append(out.Events, Event{Seq: e.Seq, Type: e.Type, Message: e.Message, CreatedAt: e.CreatedAt})
			out.After = e.Seq
		}
		return out, nil
	})
}
