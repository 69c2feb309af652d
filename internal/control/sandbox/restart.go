package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/store"
)

// RestartLinked makes a sandbox's container again so that it boots with
// the variables of what is linked to it now; its files and processes
// survive. done is true once it is asked (or when there is nothing to
// restart).
func (c *Service) RestartLinked(ctx context.Context, sid, why string) (done bool, err error) {
	unlock, err := c.locks.Lock(ctx, sid)
	if err != nil {
		return false, err
	}
	defer unlock()
	s, err := c.st.GetSandbox(ctx, sid)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if held(s.Status) {
		return true, nil
	}
	if s.HostID != "" {
		a, err := c.agents.ForHost(ctx, s.HostID)
		if err != nil {
			return false, err
		}
		if err := a.StopContainer(ctx, "berth-"+s.ID, 5*time.Second); err != nil && !errors.Is(err, agent.ErrNotFound) {
			return false, fmt.Errorf("stopping sandbox: %w", err)
		}
		if err := a.RemoveContainer(ctx, "berth-"+s.ID); err != nil {
			return false, fmt.Errorf("removing sandbox container: %w", err)
		}
	}
	s.Status, s.StatusReason = store.SandboxPending, ""
	if err := c.st.UpdateSandbox(ctx, s); err != nil {
		return false, err
	}
	c.events.Record(ctx, s.ID, "sandbox.restarting", "restarting: %s", why)
	c.routes.Changed(ctx, s.ID)
	c.queue.Kick(s.ID)
	return true, nil
}
