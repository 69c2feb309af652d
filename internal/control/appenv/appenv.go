// Package appenv says what a sandbox's or deployment's container starts
// with: its variables (the template's, the linked data services' and
// buckets', its own), the network it joins and the hosts entries its
// links need.
package appenv

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"

	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// Store is what Links reads.
type Store interface {
	ListDatabaseLinks(ctx context.Context, f store.DatabaseLinkFilter) ([]*store.DatabaseLink, error)
	GetDatabase(ctx context.Context, id string) (*store.Database, error)
}

// Databases gives the variables of a data service.
type Databases interface {
	DatabaseEnv(db *store.Database) map[string]string
}

// Buckets gives the variables of the buckets linked to a target and the
// hosts entries those need.
type Buckets interface {
	LinkedBuckets(ctx context.Context, projectID, targetID string) (map[string]string, []string, error)
}

// Links answers what a target's links give its containers.
type Links struct {
	st        Store
	databases Databases
	buckets   Buckets
	log       *slog.Logger
}

// NewLinks returns Links over the store and the two kinds of linked
// resource.
func NewLinks(st Store, databases Databases, buckets Buckets, log *slog.Logger) *Links {
	return &Links{st: st, databases: databases, buckets: buckets, log: cmp.Or(log, slog.New(slog.DiscardHandler))}
}

// Boot returns the variables a sandbox or deployment (targetID) of a
// project gets at boot from the data services and buckets linked to it.
func (l *Links) Boot(ctx context.Context, projectID, targetID string) (map[string]string, error) {
	links, err := l.st.ListDatabaseLinks(ctx, store.DatabaseLinkFilter{TargetID: targetID})
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, link := range links {
		db, err := l.st.GetDatabase(ctx, link.DatabaseID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if db.ProjectID != projectID || db.Status == store.DatabaseDeleting {
			continue
		}
		maps.Copy(env, l.databases.DatabaseEnv(db))
	}
	benv, _, err := l.buckets.LinkedBuckets(ctx, projectID, targetID)
	if err != nil {
		return nil, err
	}
	maps.Copy(env, benv)
	return env, nil
}

// Container is the env a sandbox's or deployment's container starts
// with: the template's defaults, then the linked data services', then the
// resource's own, each overriding the one before.
func (l *Links) Container(ctx context.Context, projectID, targetID string, defaults, own map[string]string) (map[string]string, error) {
	boot, err := l.Boot(ctx, projectID, targetID)
	if err != nil {
		return nil, err
	}
	env := maps.Clone(defaults)
	if env == nil {
		env = map[string]string{}
	}
	maps.Copy(env, boot)
	maps.Copy(env, own)
	return env, nil
}

// Network is the network a sandbox or deployment (targetID) joins: its
// project's when a data service is linked to it, so that it reaches the
// service by name; else none, and the runtime puts it on its isolated
// bridge, where containers cannot reach one another. A link or an unlink
// restarts the target, which then joins or leaves.
func (l *Links) Network(ctx context.Context, projectID, targetID string) string {
	links, err := l.st.ListDatabaseLinks(ctx, store.DatabaseLinkFilter{TargetID: targetID})
	if err != nil || len(links) == 0 {
		return ""
	}
	return names.ProjectNetwork(projectID)
}

// ExtraHosts are the hosts entries ("name:ip") the buckets linked to
// targetID need.
func (l *Links) ExtraHosts(ctx context.Context, projectID, targetID string) []string {
	_, hosts, err := l.buckets.LinkedBuckets(ctx, projectID, targetID)
	if err != nil {
		l.log.Warn("listing linked buckets failed", "target", targetID, "err", err)
	}
	return hosts
}

// Buckets returns the variables the buckets linked to targetID give its
// containers, and the hosts entries those need.
func (l *Links) Buckets(ctx context.Context, projectID, targetID string) (map[string]string, []string, error) {
	return l.buckets.LinkedBuckets(ctx, projectID, targetID)
}

var name = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// IsName reports whether s is a valid variable name.
func IsName(s string) bool { return name.MatchString(s) }

// Validate refuses variables whose names a shell could not hold.
func Validate(env map[string]string) error {
	for k := range env {
		if !IsName(k) {
			return problem.Unprocessable("invalid_env_name",
				"environment variable name %q is not valid: use letters, digits and _, not starting with a digit", k)
		}
	}
	return nil
}

// List is env as the engine takes it: KEY=value, sorted by key.
func List(env map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// LinkRequest links a data service or a bucket to a sandbox or a deployment.
type LinkRequest struct {
	SandboxID    string
	DeploymentID string
}

// TargetProject returns the project of a link's target, or a problem
// naming the field.
func TargetProject(ctx context.Context, st store.Store, req LinkRequest) (string, error) {
	if req.SandboxID != "" {
		s, err := st.GetSandbox(ctx, req.SandboxID)
		if errors.Is(err, store.ErrNotFound) {
			return "", problem.Unprocessable("target_not_found", "sandbox %q does not exist", req.SandboxID)
		}
		if err != nil {
			return "", err
		}
		return s.ProjectID, nil
	}
	d, err := st.GetDeployment(ctx, req.DeploymentID)
	if errors.Is(err, store.ErrNotFound) {
		return "", problem.Unprocessable("target_not_found", "deployment %q does not exist", req.DeploymentID)
	}
	if err != nil {
		return "", err
	}
	return d.ProjectID, nil
}

// WrapConflict passes problems through, and turns a conflict the store
// found on creating a linkable resource (a race with another create)
// into one.
func WrapConflict(err error, what string) error {
	var p *problem.Error
	switch {
	case errors.As(err, &p):
		return err
	case errors.Is(err, store.ErrConflict):
		return problem.Conflict("name_taken", "the name or external_id is taken in the project; choose another")
	}
	return fmt.Errorf("%s: %w", what, err)
}
