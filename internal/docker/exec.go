package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/agent"
)

// Exec runs spec.Cmd in a running container. With spec.Detach it returns
// 0 as soon as the engine has started the process, which then outlives
// the call. Otherwise it copies the process's stdout and stderr to stdout
// and stderr (nil discards), feeds it spec.Stdin when set, and returns its
// exit code. Cancelling ctx stops waiting but does not kill the process.
// Exec does not wait for spec.Stdin to be drained once the process has
// exited.
func (r *Runtime) Exec(ctx context.Context, id string, spec agent.ExecSpec, stdout, stderr io.Writer) (int, error) {
	if len(spec.Cmd) == 0 {
		return 0, fmt.Errorf("exec in %s: command is required", id)
	}
	if spec.Detach && spec.Stdin != nil {
		return 0, fmt.Errorf("exec in %s: stdin cannot be attached to a detached command", id)
	}
	created, err := r.c.ExecCreate(ctx, id, client.ExecCreateOptions{
		User:         spec.User,
		Env:          spec.Env,
		WorkingDir:   spec.WorkDir,
		Cmd:          spec.Cmd,
		AttachStdin:  spec.Stdin != nil,
		AttachStdout: !spec.Detach,
		AttachStderr: !spec.Detach,
	})
	if err != nil {
		return 0, fmt.Errorf("creating exec in %s: %w", id, notFound(err))
	}

	if spec.Detach {
		if _, err := r.c.ExecStart(ctx, created.ID, client.ExecStartOptions{Detach: true}); err != nil {
			return 0, fmt.Errorf("starting exec in %s: %w", id, err)
		}
		return 0, nil
	}

	att, err := r.c.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return 0, fmt.Errorf("starting exec in %s: %w", id, err)
	}
	defer att.Close()
	// The hijacked connection ignores ctx once established: closing it
	// is what unblocks the reads below.
	stop := context.AfterFunc(ctx, att.Close)
	defer stop()

	if spec.Stdin != nil {
		go func() {
			// Errors here surface as the process seeing its stdin end.
			_, _ = io.Copy(att.Conn, spec.Stdin)
			_ = att.CloseWrite()
		}()
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	if _, err := stdcopy.StdCopy(stdout, stderr, att.Reader); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return 0, fmt.Errorf("reading exec output in %s: %w", id, err)
	}
	if ctx.Err() != nil {
		return 0, fmt.Errorf("reading exec output in %s: %w", id, ctx.Err())
	}
	return r.execExitCode(ctx, created.ID)
}

// execExitCode waits for the engine to record the exec's exit, which can
// lag a moment behind the end of its output stream.
func (r *Runtime) execExitCode(ctx context.Context, execID string) (int, error) {
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		res, err := r.c.ExecInspect(ctx, execID, client.ExecInspectOptions{})
		if err != nil {
			return 0, fmt.Errorf("inspecting exec: %w", err)
		}
		if !res.Running {
			return res.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("inspecting exec: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
}

// CopyTo extracts a tar stream into dir inside the container, which must
// exist; a missing container or dir is agent.ErrNotFound. It works on
// created and stopped containers too.
func (r *Runtime) CopyTo(ctx context.Context, id, dir string, tar io.Reader) error {
	_, err := r.c.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: dir, Content: tar})
	if err != nil {
		return fmt.Errorf("copying into %s:%s: %w", id, dir, notFound(err))
	}
	return nil
}

// CopyFrom returns a tar stream of path inside the container, its entries
// named after path's base name. A missing container or path is
// agent.ErrNotFound. The caller closes the stream.
func (r *Runtime) CopyFrom(ctx context.Context, id, path string) (io.ReadCloser, error) {
	res, err := r.c.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: path})
	if err != nil {
		return nil, fmt.Errorf("copying from %s:%s: %w", id, path, notFound(err))
	}
	if res.Content == nil {
		return nil, errors.New("copying from container: engine sent no content")
	}
	return res.Content, nil
}
