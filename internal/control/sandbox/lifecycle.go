package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// The statuses a sandbox is held in by a caller: the reconciler leaves
// them alone, so a periodic resync never starts what was stopped.
func held(status string) bool {
	return status == store.SandboxStopped || status == store.SandboxPaused || status == store.SandboxDeleted
}

// invalidState is the 409 of a transition the sandbox's status does not
// allow; nothing changes.
func invalidState(s *store.Sandbox, action, hint string) error {
	return problem.Conflict("invalid_state", "cannot %s a %s sandbox; %s", action, s.Status, hint)
}

// StopSandbox stops the sandbox's container; its files stay on the
// volume and StartSandbox brings it and its dev server back.
func (c *Service) StopSandbox(ctx context.Context, sid string) (*store.Sandbox, error) {
	unlock, err := c.locks.Lock(ctx, sid)
	if err != nil {
		return nil, err
	}
	defer unlock()
	s, err := c.st.GetSandbox(ctx, sid)
	if err != nil {
		return nil, err
	}
	switch s.Status {
	case store.SandboxStopped:
		return s, nil
	case store.SandboxDeleted:
		return nil, invalidState(s, "stop", "create a new sandbox")
	}
	if s.HostID != "" {
		a, err := c.agents.ForHost(ctx, s.HostID)
		if err != nil {
			return nil, err
		}
		if s.Status == store.SandboxPaused {
			if err := a.UnpauseContainer(ctx, "berth-"+s.ID); err != nil && !errors.Is(err, agent.ErrNotFound) {
				return nil, fmt.Errorf("unpausing sandbox: %w", err)
			}
		}
		if err := a.StopContainer(ctx, "berth-"+s.ID, 5*time.Second); err != nil && !errors.Is(err, agent.ErrNotFound) {
			return nil, fmt.Errorf("stopping sandbox: %w", err)
		}
	}
	return c.settle(ctx, s, store.SandboxStopped, "stopped on request; POST /sandboxes/"+s.ID+"/start starts it again", "sandbox.stopped")
}

// StartSandbox starts a stopped sandbox: the container with the files it
// had, and its background processes.
func (c *Service) StartSandbox(ctx context.Context, sid string) (*store.Sandbox, error) {
	s, err := c.start(ctx, sid)
	if err != nil || s.Status == store.SandboxRunning {
		return s, err
	}
	return c.WaitSandbox(ctx, s.ID, 30*time.Second)
}

func (c *Service) start(ctx context.Context, sid string) (*store.Sandbox, error) {
	unlock, err := c.locks.Lock(ctx, sid)
	if err != nil {
		return nil, err
	}
	defer unlock()
	s, err := c.st.GetSandbox(ctx, sid)
	if err != nil {
		return nil, err
	}
	switch s.Status {
	case store.SandboxRunning, store.SandboxPending:
		return s, nil
	case store.SandboxPaused:
		return nil, invalidState(s, "start", "resume it with POST /sandboxes/"+s.ID+"/resume")
	case store.SandboxDeleted:
		return nil, invalidState(s, "start", "create a new sandbox")
	}
	s.Status, s.StatusReason = store.SandboxPending, ""
	if err := c.st.UpdateSandbox(ctx, s); err != nil {
		return nil, err
	}
	c.events.Record(ctx, s.ID, "sandbox.starting", "sandbox starting")
	c.routes.Changed(ctx, s.ID)
	c.queue.Kick(s.ID)
	return s, nil
}

// PauseSandbox freezes the sandbox's processes (the cgroup freezer): its
// memory and processes are kept for ResumeSandbox.
func (c *Service) PauseSandbox(ctx context.Context, sid string) (*store.Sandbox, error) {
	unlock, err := c.locks.Lock(ctx, sid)
	if err != nil {
		return nil, err
	}
	defer unlock()
	s, err := c.st.GetSandbox(ctx, sid)
	if err != nil {
		return nil, err
	}
	switch s.Status {
	case store.SandboxPaused:
		return s, nil
	case store.SandboxRunning:
	case store.SandboxStopped:
		return nil, invalidState(s, "pause", "start it with POST /sandboxes/"+s.ID+"/start")
	case store.SandboxDeleted:
		return nil, invalidState(s, "pause", "create a new sandbox")
	default:
		return nil, invalidState(s, "pause", "wait until it is running, or restart it with POST /sandboxes/"+s.ID+"/restart")
	}
	a, err := c.agents.ForHost(ctx, s.HostID)
	if err != nil {
		return nil, err
	}
	if err := a.PauseContainer(ctx, "berth-"+s.ID); err != nil {
		return nil, fmt.Errorf("pausing sandbox: %w", err)
	}
	return c.settle(ctx, s, store.SandboxPaused, "paused on request; POST /sandboxes/"+s.ID+"/resume resumes it", "sandbox.paused")
}

// ResumeSandbox thaws a paused sandbox where it was.
func (c *Service) ResumeSandbox(ctx context.Context, sid string) (*store.Sandbox, error) {
	unlock, err := c.locks.Lock(ctx, sid)
	if err != nil {
		return nil, err
	}
	defer unlock()
	s, err := c.st.GetSandbox(ctx, sid)
	if err != nil {
		return nil, err
	}
	switch s.Status {
	case store.SandboxPaused:
	case store.SandboxRunning:
		return s, nil
	case store.SandboxStopped:
		return nil, invalidState(s, "resume", "a stopped sandbox is started with POST /sandboxes/"+s.ID+"/start")
	case store.SandboxDeleted:
		return nil, invalidState(s, "resume", "create a new sandbox")
	default:
		return nil, invalidState(s, "resume", "only a paused sandbox resumes")
	}
	a, err := c.agents.ForHost(ctx, s.HostID)
	if err != nil {
		return nil, err
	}
	if err := a.UnpauseContainer(ctx, "berth-"+s.ID); err != nil {
		return nil, fmt.Errorf("resuming sandbox: %w", err)
	}
	return c.settle(ctx, s, store.SandboxRunning, "", "sandbox.resumed")
}

// DeleteSandbox removes the sandbox's container and volume and takes its
// preview off the edge. Releases published from it stay. The record is
// kept as deleted, its external id freed; deleting again changes nothing.
func (c *Service) DeleteSandbox(ctx context.Context, sid string) error {
	unlock, err := c.locks.Lock(ctx, sid)
	if err != nil {
		return err
	}
	defer unlock()
	s, err := c.st.GetSandbox(ctx, sid)
	if err != nil {
		return err
	}
	if s.Status == store.SandboxDeleted {
		return nil
	}
	if s.HostID != "" {
		a, err := c.agents.ForHost(ctx, s.HostID)
		if err != nil {
			return err
		}
		name := "berth-" + s.ID
		if s.Status == store.SandboxPaused {
			if err := a.UnpauseContainer(ctx, name); err != nil && !errors.Is(err, agent.ErrNotFound) {
				return fmt.Errorf("unpausing sandbox: %w", err)
			}
		}
		if err := a.StopContainer(ctx, name, 5*time.Second); err != nil && !errors.Is(err, agent.ErrNotFound) {
			return fmt.Errorf("stopping sandbox: %w", err)
		}
		if err := a.RemoveContainer(ctx, name); err != nil && !errors.Is(err, agent.ErrNotFound) {
			return fmt.Errorf("removing sandbox container: %w", err)
		}
		if err := a.RemoveVolume(ctx, s.Volume); err != nil && !errors.Is(err, agent.ErrNotFound) {
			return fmt.Errorf("removing sandbox volume: %w", err)
		}
	}
	s.ExternalID, s.ContainerID, s.Upstreams = "", "", map[int]string{}
	_, err = c.settle(ctx, s, store.SandboxDeleted, "deleted on request; create a new sandbox to work again", "sandbox.deleted")
	return err
}

// settle records a status the caller asked for and republishes the route.
func (c *Service) settle(ctx context.Context, s *store.Sandbox, status, reason, event string) (*store.Sandbox, error) {
	s.Status, s.StatusReason = status, reason
	if err := c.st.UpdateSandbox(ctx, s); err != nil {
		return nil, err
	}
	c.events.Record(ctx, s.ID, event, "sandbox %s", status)
	if err := c.routes.Changed(ctx, s.ID); err != nil {
		return nil, err
	}
	return s, nil
}
