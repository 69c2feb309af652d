package control

import (
	"context"
	"errors"
	"maps"

	"github.com/berth-dev/berth/internal/store"
)

// bootEnv returns the variables a sandbox or deployment (targetID) of a
// project gets at boot from the data services linked to it.
func (c *Control) bootEnv(ctx context.Context, projectID, targetID string) (map[string]string, error) {
	links, err := c.st.ListDatabaseLinks(ctx, store.DatabaseLinkFilter{TargetID: targetID})
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, l := range links {
		db, err := c.st.GetDatabase(ctx, l.DatabaseID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if db.ProjectID != projectID || db.Status == store.DatabaseDeleting {
			continue
		}
		maps.Copy(env, c.DatabaseEnv(db))
	}
	benv, _, err := c.linkedBuckets(ctx, projectID, targetID)
	if err != nil {
		return nil, err
	}
	maps.Copy(env, benv)
	return env, nil
}

// containerEnv is the env a sandbox's or deployment's container starts
// with: the template's defaults, then the linked data services', then the
// resource's own, each overriding the one before.
func (c *Control) containerEnv(ctx context.Context, projectID, targetID string, defaults, own map[string]string) (map[string]string, error) {
	boot, err := c.bootEnv(ctx, projectID, targetID)
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
