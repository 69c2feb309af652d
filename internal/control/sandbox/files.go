package sandbox

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/artifact"
	"github.com/berth-dev/berth/internal/control/appenv"
	"github.com/berth-dev/berth/internal/control/releases"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// MaxFileSize bounds one file written through the file API.
const MaxFileSize = 100 << 20

// FileEntry is one entry of a directory listing.
type FileEntry struct {
	Name    string
	Type    string
	Size    int64
	ModTime time.Time
}

// CleanPath turns a path of the file API into a path inside the sandbox's
// files, refusing anything that would leave them.
func CleanPath(p string) (string, error) {
	if strings.ContainsRune(p, 0) {
		return "", problem.BadRequest("invalid_path", "the path contains a NUL byte")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", problem.BadRequest("path_escape", "the path %q leaves the sandbox's files: remove the .. segments", p)
		}
	}
	clean := path.Clean("/" + p)
	return path.Join(Workdir, clean), nil
}

// WriteFile writes one file (and its parent directories).
func (c *Service) WriteFile(ctx context.Context, sid, p string, body io.Reader) error {
	full, err := CleanPath(p)
	if err != nil {
		return err
	}
	if full == Workdir {
		return problem.BadRequest("invalid_path", "give a file path after /files/")
	}
	data, err := io.ReadAll(io.LimitReader(body, MaxFileSize+1))
	if err != nil {
		return problem.BadRequest("invalid_body", "reading the file body: %v", err)
	}
	if len(data) > MaxFileSize {
		return problem.New(413, "file_too_large", "a file written through the API is at most %d MiB; upload a tar for larger content", MaxFileSize>>20)
	}
	s, a, err := c.running(ctx, sid)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	writeTarFile(tw, strings.TrimPrefix(full, Workdir+"/"), data, 0o644)
	tw.Close()
	if err := a.CopyTo(ctx, s.ContainerID, Workdir, &b); err != nil {
		return c.fileError(err, p)
	}
	return nil
}

// UploadTar extracts a tar into the sandbox's files after checking it with
// the same rules as a release.
func (c *Service) UploadTar(ctx context.Context, sid string, body io.Reader) (int, error) {
	tmp, err := os.CreateTemp("", "berth-upload-*.tar")
	if err != nil {
		return 0, fmt.Errorf("spooling upload: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	info, err := artifact.Normalize(body, tmp, artifact.Options{Limits: artifact.DefaultLimits})
	if err != nil {
		return 0, releases.ArtifactProblem(err)
	}
	s, a, err := c.running(ctx, sid)
	if err != nil {
		return 0, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	if err := a.CopyTo(ctx, s.ContainerID, Workdir, tmp); err != nil {
		return 0, fmt.Errorf("extracting upload: %w", err)
	}
	return len(info.Files), nil
}

// ReadFile writes a file's content to w, or returns the listing when the
// path is a directory.
func (c *Service) ReadFile(ctx context.Context, sid, p string, w func() io.Writer) ([]FileEntry, error) {
	full, err := CleanPath(p)
	if err != nil {
		return nil, err
	}
	s, a, err := c.running(ctx, sid)
	if err != nil {
		return nil, err
	}
	const script = `if [ -d "$1" ]; then echo DIR; find "$1" -mindepth 1 -maxdepth 1 -printf '%y\t%s\t%T@\t%f\n'; elif [ -e "$1" ]; then echo FILE; else exit 3; fi`
	res, err := a.Exec(ctx, s.ContainerID, agent.ExecRequest{Cmd: []string{"sh", "-c", script, "sh", full}})
	if err != nil {
		return nil, err
	}
	if res.ExitCode == 3 {
		return nil, problem.NotFound("file_not_found", "no file or directory at %q", p)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("listing %s: exit %d: %s", full, res.ExitCode, res.Stderr)
	}
	kind, rest, _ := strings.Cut(res.Stdout, "\n")
	if kind == "DIR" {
		return parseListing(rest), nil
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(a.CopyFrom(ctx, s.ContainerID, full, pw)) }()
	defer pr.Close()
	tr := tar.NewReader(pr)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return nil, c.fileError(err, p)
		}
		if hdr.Typeflag == tar.TypeReg {
			_, err := io.Copy(w(), tr)
			return nil, err
		}
		if hdr.Typeflag == tar.TypeSymlink {
			return nil, problem.Unprocessable("symlink", "%q is a symbolic link to %q; read its target instead", p, hdr.Linkname)
		}
	}
}

func parseListing(s string) []FileEntry {
	entries := []FileEntry{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 4)
		if len(f) != 4 {
			continue
		}
		size, _ := strconv.ParseInt(f[1], 10, 64)
		secs, _ := strconv.ParseFloat(f[2], 64)
		typ := map[string]string{"d": "dir", "f": "file", "l": "symlink"}[f[0]]
		if typ == "" {
			typ = "other"
		}
		entries = append(entries, FileEntry{Name: f[3], Type: typ, Size: size,
			ModTime: time.Unix(0, int64(secs*1e9)).UTC()})
	}
	return entries
}

// DeleteFile removes a file or a directory tree.
func (c *Service) DeleteFile(ctx context.Context, sid, p string) error {
	full, err := CleanPath(p)
	if err != nil {
		return err
	}
	if full == Workdir {
		return problem.BadRequest("invalid_path", "refusing to delete the sandbox's whole file tree; delete entries one by one")
	}
	s, a, err := c.running(ctx, sid)
	if err != nil {
		return err
	}
	res, err := a.Exec(ctx, s.ContainerID, agent.ExecRequest{Cmd: []string{"sh", "-c", `[ -e "$1" ] || [ -L "$1" ] || exit 3; rm -rf -- "$1"`, "sh", full}})
	if err != nil {
		return err
	}
	if res.ExitCode == 3 {
		return problem.NotFound("file_not_found", "no file or directory at %q", p)
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("deleting %s: %s", full, res.Stderr)
	}
	return nil
}

func (c *Service) fileError(err error, p string) error {
	if errors.Is(err, agent.ErrNotFound) || errors.Is(err, io.EOF) {
		return problem.NotFound("file_not_found", "no file at %q", p)
	}
	return err
}

// ExecRequest is a command to run in a sandbox.
type ExecRequest struct {
	Command    string
	Cwd        string
	Env        map[string]string
	Background bool
	Timeout    time.Duration
}

// Exec runs a command in a sandbox; a background one is recorded and
// relaunched whenever the sandbox's container starts.
func (c *Service) Exec(ctx context.Context, sid string, req ExecRequest) (agent.ExecResult, *store.Process, error) {
	if strings.TrimSpace(req.Command) == "" {
		return agent.ExecResult{}, nil, problem.Unprocessable("missing_command", "give the command to run in \"command\"")
	}
	if err := appenv.Validate(req.Env); err != nil {
		return agent.ExecResult{}, nil, err
	}
	cwd := Workdir
	if req.Cwd != "" {
		var err error
		if cwd, err = CleanPath(req.Cwd); err != nil {
			return agent.ExecResult{}, nil, err
		}
	}
	s, a, err := c.running(ctx, sid)
	if err != nil {
		return agent.ExecResult{}, nil, err
	}
	if req.Background {
		p := &store.Process{ID: id.New(id.Process), SandboxID: s.ID, Command: req.Command, Cwd: cwd, Env: req.Env, CreatedAt: time.Now().UTC()}
		if err := c.st.CreateProcess(ctx, p); err != nil {
			return agent.ExecResult{}, nil, err
		}
		if err := c.launch(ctx, a, s.ContainerID, p); err != nil {
			return agent.ExecResult{}, nil, err
		}
		c.events.Record(ctx, s.ID, "sandbox.process_started", "background process %s: %s", p.ID, req.Command)
		return agent.ExecResult{}, p, nil
	}
	timeout := req.Timeout
	switch {
	case timeout == 0:
		timeout = time.Minute
	case timeout < 0 || timeout > 10*time.Minute:
		return agent.ExecResult{}, nil, problem.Unprocessable("invalid_timeout", "timeout_seconds must be from 1 to 600; run longer commands with \"background\": true")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := a.Exec(ctx, s.ContainerID, agent.ExecRequest{Cmd: []string{"sh", "-c", req.Command}, WorkDir: cwd, Env: appenv.List(req.Env)})
	if ctx.Err() != nil {
		return agent.ExecResult{}, nil, problem.New(408, "exec_timeout", "the command ran longer than %s; run it with \"background\": true", timeout)
	}
	return res, nil, err
}
