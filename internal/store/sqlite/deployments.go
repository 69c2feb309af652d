package sqlite

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/internal/store"
)

const deploymentColumns = `id, org_id, workspace_id, project_id, product, COALESCE(release_id, ''), env, metadata,
	status, status_reason, COALESCE(host_id, ''), COALESCE(serving_release_id, ''), container_id, upstream,
	standby_container_id, standby_release_id, COALESCE(external_id, ''), desired_state, generation,
	created_at, updated_at`

func (d *DB) scanDeployment(sc scanner) (*store.Deployment, error) {
	var dep store.Deployment
	var env string
	err := sc.Scan(&dep.ID, &dep.OrgID, &dep.WorkspaceID, &dep.ProjectID, &dep.Product, &dep.ReleaseID, &env,
		jsonCol{&dep.Metadata}, &dep.Status, &dep.StatusReason, &dep.HostID, &dep.ServingReleaseID,
		&dep.ContainerID, &dep.Upstream, &dep.StandbyContainerID, &dep.StandbyReleaseID, &dep.ExternalID, &dep.Desired,
		&dep.Generation, utc{&dep.CreatedAt}, utc{&dep.UpdatedAt})
	if err != nil {
		return nil, err
	}
	if dep.Env, err = d.openEnv(env, deploymentEnvAD(dep.ID)); err != nil {
		return nil, err
	}
	return &dep, nil
}

// deploymentEnvAD binds a sealed env to its deployment.
func deploymentEnvAD(id string) string { return "deployments.env " + id }

func (d *DB) deploymentValues(dep *store.Deployment) (env, metadata string, err error) {
	if env, err = d.sealEnv(dep.Env, deploymentEnvAD(dep.ID)); err != nil {
		return "", "", err
	}
	if metadata, err = jsonText(dep.Metadata); err != nil {
		return "", "", err
	}
	return env, metadata, nil
}

// CreateDeployment records dep, its env sealed.
func (d *DB) CreateDeployment(ctx context.Context, dep *store.Deployment) error {
	env, metadata, err := d.deploymentValues(dep)
	if err != nil {
		return fmt.Errorf("creating deployment: %w", err)
	}
	_, err = d.w.ExecContext(ctx,
		`INSERT INTO deployments (id, org_id, workspace_id, project_id, product, release_id, env, metadata,
			status, status_reason, host_id, serving_release_id, container_id, upstream, standby_container_id,
			standby_release_id, external_id, generation, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		dep.ID, dep.OrgID, dep.WorkspaceID, dep.ProjectID, dep.Product, nullable(dep.ReleaseID), env, metadata,
		dep.Status, dep.StatusReason, nullable(dep.HostID), nullable(dep.ServingReleaseID), dep.ContainerID,
		dep.Upstream, dep.StandbyContainerID, dep.StandbyReleaseID, nullable(dep.ExternalID), dep.Generation,
		ts(dep.CreatedAt), ts(dep.UpdatedAt))
	if err != nil {
		return dbError("creating deployment", err)
	}
	return nil
}

// GetDeployment returns the deployment with the given id.
func (d *DB) GetDeployment(ctx context.Context, id string) (*store.Deployment, error) {
	dep, err := d.scanDeployment(d.r.QueryRowContext(ctx,
		`SELECT `+deploymentColumns+` FROM deployments WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("getting deployment", err)
	}
	return dep, nil
}

// UpdateDeployment records a new request of dep (product, release, env,
// metadata, external id, status), bumps its generation and sets
// dep.Generation and dep.UpdatedAt to what it wrote.
func (d *DB) UpdateDeployment(ctx context.Context, dep *store.Deployment) error {
	env, metadata, err := d.deploymentValues(dep)
	if err != nil {
		return fmt.Errorf("updating deployment: %w", err)
	}
	t := now()
	var gen int64
	err = d.w.QueryRowContext(ctx,
		`UPDATE deployments SET product = $1, release_id = $2, env = $3, metadata = $4, status = $5,
			status_reason = $6, external_id = $7, generation = generation + 1, updated_at = $8
		WHERE id = $9 RETURNING generation`,
		dep.Product, nullable(dep.ReleaseID), env, metadata, dep.Status,
		dep.StatusReason, nullable(dep.ExternalID), ts(t), dep.ID).Scan(&gen)
	if err != nil {
		return dbError("updating deployment", err)
	}
	dep.Generation, dep.UpdatedAt = gen, t
	return nil
}

// UpdateDeploymentRuntime records where dep runs and what serves it, and
// its status while its generation is still dep.Generation.
func (d *DB) UpdateDeploymentRuntime(ctx context.Context, dep *store.Deployment) error {
	t := now()
	err := d.execOne(ctx, "updating deployment",
		`UPDATE deployments SET host_id = $1, serving_release_id = $2, container_id = $3, upstream = $4,
			standby_container_id = $5, standby_release_id = $6,
			status = CASE WHEN generation = $7 THEN $8 ELSE status END,
			status_reason = CASE WHEN generation = $7 THEN $9 ELSE status_reason END,
			updated_at = $10
		WHERE id = $11`,
		nullable(dep.HostID), nullable(dep.ServingReleaseID), dep.ContainerID, dep.Upstream,
		dep.StandbyContainerID, dep.StandbyReleaseID, dep.Generation, dep.Status, dep.StatusReason,
		ts(t), dep.ID)
	if err != nil {
		return err
	}
	dep.UpdatedAt = t
	return nil
}

// ListDeployments returns deployments in id order.
func (d *DB) ListDeployments(ctx context.Context, f store.ListFilter) ([]*store.Deployment, error) {
	var q query
	q.filter("org_id = %s", f.OrgID)
	q.filter("workspace_id = %s", f.WorkspaceID)
	q.filter("project_id = %s", f.ProjectID)
	q.filter("external_id = %s", f.ExternalID)
	stmt := q.list(`SELECT `+deploymentColumns+` FROM deployments`, f)
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing deployments", d.scanDeployment)
}

// AddDeploymentRelease appends r to its deployment's history and sets
// r.ID.
func (d *DB) AddDeploymentRelease(ctx context.Context, r *store.DeploymentRelease) error {
	err := d.w.QueryRowContext(ctx,
		`INSERT INTO deployment_releases (deployment_id, release_id, reason, created_at)
		VALUES ($1, $2, $3, $4) RETURNING id`,
		r.DeploymentID, r.ReleaseID, r.Reason, ts(r.CreatedAt)).Scan(&r.ID)
	if err != nil {
		return dbError("adding deployment release", err)
	}
	return nil
}

// ListDeploymentReleases returns a deployment's history, oldest first.
func (d *DB) ListDeploymentReleases(ctx context.Context, deploymentID string) ([]*store.DeploymentRelease, error) {
	rows, err := d.r.QueryContext(ctx,
		`SELECT id, deployment_id, release_id, reason, created_at FROM deployment_releases
		WHERE deployment_id = $1 ORDER BY id`, deploymentID)
	return collect(rows, err, "listing deployment releases", func(sc scanner) (*store.DeploymentRelease, error) {
		var r store.DeploymentRelease
		if err := sc.Scan(&r.ID, &r.DeploymentID, &r.ReleaseID, &r.Reason, utc{&r.CreatedAt}); err != nil {
			return nil, err
		}
		return &r, nil
	})
}
