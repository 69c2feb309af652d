package store

import "context"

// Desired states of a deployment: what its reconciler makes true. The
// zero value, "", is a deployment that runs and serves its release.
const (
	// DesiredPaused: its containers are stopped (kept, to start again
	// without a build) and its URL answers the edge's unavailable page.
	DesiredPaused = "paused"
	// DesiredDeleted: its containers are removed and its URL unrouted;
	// the record stays, with its release history, as a tombstone.
	DesiredDeleted = "deleted"
)

// Deployment statuses the reconciler writes once a pause or a delete is
// done.
const (
	DeploymentPaused  = "paused"
	DeploymentDeleted = "deleted"
)

// DeploymentStateStore writes a deployment's desired state. It is apart
// from UpdateDeployment, which never writes it, so that a reconciler
// writing back what it observed cannot undo a pause or a delete that
// arrived meanwhile.
type DeploymentStateStore interface {
	// SetDeploymentDesired sets the deployment's desired state: "" (run),
	// DesiredPaused or DesiredDeleted.
	SetDeploymentDesired(ctx context.Context, id, desired string) error
}
