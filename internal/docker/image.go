package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
)

// logTailLines is how much of a failed build's log its error carries.
const logTailLines = 20

// BuildError is a failed build: the engine's message and the end of the
// build log, which is what a person needs to fix it.
type BuildError struct {
	Ref     string
	Message string
	// LogTail is the last lines of the build log.
	LogTail string
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("building image %s: %s\n%s", e.Ref, e.Message, e.LogTail)
}

// ImageExists reports whether ref is in the engine's image store.
func (r *Runtime) ImageExists(ctx context.Context, ref string) (bool, error) {
	_, err := r.c.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	return true, nil
}

// InspectImage returns an image's id and labels; a missing image is
// agent.ErrNotFound.
func (r *Runtime) InspectImage(ctx context.Context, ref string) (id string, labels map[string]string, err error) {
	res, err := r.c.ImageInspect(ctx, ref)
	if err != nil {
		return "", nil, fmt.Errorf("inspecting image %s: %w", ref, notFound(err))
	}
	if res.Config != nil {
		labels = res.Config.Labels
	}
	return res.ID, labels, nil
}

// BuildImage builds ref with the engine's classic builder from a tar
// build context, dockerfile being the Dockerfile's path inside it. It
// never pulls (base images must be local), removes intermediate
// containers even when a step fails, writes the build log to log as
// plain text, and on failure returns a *BuildError carrying the log's
// tail.
func (r *Runtime) BuildImage(ctx context.Context, ref string, buildContext io.Reader, dockerfile string, labels map[string]string, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	res, err := r.c.ImageBuild(ctx, buildContext, client.ImageBuildOptions{
		Tags:        []string{ref},
		Dockerfile:  dockerfile,
		Labels:      labels,
		Remove:      true,
		ForceRemove: true,
		PullParent:  false,
		Version:     build.BuilderV1,
		// No SecurityOpt: the engine refuses security options on Linux
		// builds, so build steps run with its default capabilities.
	})
	if err != nil {
		return fmt.Errorf("building image %s: %w", ref, err)
	}
	defer res.Body.Close()

	tail := &tailWriter{w: log, n: logTailLines}
	msg, err := readMessages(res.Body, tail)
	if err != nil {
		return fmt.Errorf("building image %s: %w", ref, err)
	}
	if msg != "" {
		return &BuildError{Ref: ref, Message: msg, LogTail: tail.String()}
	}
	return nil
}

// ImportImage makes ref from a tar of a root filesystem, applying
// Dockerfile instructions in changes (such as `CMD ["bash"]` or
// `LABEL k=v`), like `docker import`.
func (r *Runtime) ImportImage(ctx context.Context, ref string, rootfs io.Reader, changes []string) error {
	res, err := r.c.ImageImport(ctx, client.ImageImportSource{Source: rootfs, SourceName: "-"}, ref, client.ImageImportOptions{Changes: changes})
	if err != nil {
		return fmt.Errorf("importing image %s: %w", ref, err)
	}
	defer res.Close()
	msg, err := readMessages(res, io.Discard)
	if err != nil {
		return fmt.Errorf("importing image %s: %w", ref, err)
	}
	if msg != "" {
		return fmt.Errorf("importing image %s: %s", ref, msg)
	}
	return nil
}

// RemoveImage removes ref, or only untags it when other tags share the
// image. A missing image is agent.ErrNotFound; an image a container still
// uses is an error.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	if _, err := r.c.ImageRemove(ctx, ref, client.ImageRemoveOptions{PruneChildren: true}); err != nil {
		return fmt.Errorf("removing image %s: %w", ref, notFound(err))
	}
	return nil
}

// RemoveImageIfUntagged removes the image id when no tag refers to it
// any more, as happens to the image a tag pointed to before a rebuild.
// An image a container or another image still uses stays, and so does a
// missing one: neither is an error.
func (r *Runtime) RemoveImageIfUntagged(ctx context.Context, id string) error {
	res, err := r.c.ImageInspect(ctx, id)
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("inspecting image %s: %w", id, err)
	}
	if len(res.RepoTags) > 0 {
		return nil
	}
	_, err = r.c.ImageRemove(ctx, res.ID, client.ImageRemoveOptions{PruneChildren: true})
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		return fmt.Errorf("removing image %s: %w", id, err)
	}
	return nil
}

// RemoveVolume removes a named volume. A missing volume is
// agent.ErrNotFound; a volume a container still mounts is an error.
func (r *Runtime) RemoveVolume(ctx context.Context, name string) error {
	if _, err := r.c.VolumeRemove(ctx, name, client.VolumeRemoveOptions{}); err != nil {
		return fmt.Errorf("removing volume %s: %w", name, notFound(err))
	}
	return nil
}

// message is one entry of the engine's JSON progress stream. Old engines
// put the error in "error" as well as "errorDetail".
type message struct {
	Stream      string `json:"stream"`
	Status      string `json:"status"`
	ID          string `json:"id"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// ansi matches the terminal escapes the classic builder puts in its
// output.
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[a-zA-Z]`)

// readMessages writes a JSON progress stream to w as plain text and
// returns the error message the stream ended with, if any.
func readMessages(r io.Reader, w io.Writer) (string, error) {
	dec := json.NewDecoder(r)
	var failure string
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return failure, nil
		} else if err != nil {
			return "", fmt.Errorf("reading engine output: %w", err)
		}
		switch {
		case m.ErrorDetail != nil || m.Error != "":
			failure = m.Error
			if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
				failure = m.ErrorDetail.Message
			}
			fmt.Fprintf(w, "ERROR: %s\n", failure)
		case m.Stream != "":
			io.WriteString(w, ansi.ReplaceAllString(m.Stream, ""))
		case m.Status != "" && m.ID != "":
			fmt.Fprintf(w, "%s: %s\n", m.ID, m.Status)
		case m.Status != "":
			fmt.Fprintln(w, m.Status)
		}
	}
}

// tailWriter passes writes through to w and remembers the last n lines.
type tailWriter struct {
	w       io.Writer
	n       int
	lines   []string
	partial []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.add(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	return t.w.Write(p)
}

func (t *tailWriter) add(line string) {
	// A carriage return redraws the line: keep what a terminal shows.
	if i := strings.LastIndexByte(strings.TrimRight(line, "\r"), '\r'); i >= 0 {
		line = line[i+1:]
	}
	line = strings.TrimRight(line, " \r\t")
	t.lines = append(t.lines, line)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

// String returns the remembered lines, ending with any unterminated one.
func (t *tailWriter) String() string {
	lines := t.lines
	if len(t.partial) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(t.partial))
		if len(lines) > t.n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
