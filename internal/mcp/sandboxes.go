package mcp

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/berth-dev/berth/client"
)

// Release is a release without the digest of every file.
type Release struct {
	ID        string       `json:"id"`
	ProjectID string       `json:"project_id"`
	Digest    string       `json:"sha256" jsonschema:"the same files always give the same digest"`
	Size      int64        `json:"size"`
	Files     int          `json:"files" jsonschema:"how many files it holds"`
	EnvNames  []string     `json:"env_manifest" jsonschema:"the variables the app reads; give their values to deploy"`
	Build     client.Build `json:"build" jsonschema:"how it is built and run"`
	CreatedAt time.Time    `json:"created_at"`
}

func releaseOf(r *client.Release) Release {
	return Release{ID: r.ID, ProjectID: r.ProjectID, Digest: r.Digest, Size: r.Size, Files: len(r.Provenance.Files),
		EnvNames: r.EnvNames, Build: r.Build, CreatedAt: r.CreatedAt}
}

// WrittenFiles is what write_files did.
type WrittenFiles struct {
	SandboxID string   `json:"sandbox_id"`
	Written   int      `json:"written"`
	Paths     []string `json:"paths"`
}

// FileContent is one file read.
type FileContent struct {
	Path     string `json:"path"`
	Size     int    `json:"size" jsonschema:"the file's whole size in bytes"`
	Encoding string `json:"encoding" jsonschema:"utf-8 for text, base64 for other bytes"`
	Content  string `json:"content"`
	// Truncated says Content holds only the start of the file.
	Truncated bool `json:"truncated,omitempty"`
}

// Listing is a directory of a sandbox.
type Listing struct {
	Path    string             `json:"path"`
	Entries []client.FileEntry `json:"entries"`
}

// ExecOutput is what exec did: a one-shot command's exit code and output,
// or the background process it started.
type ExecOutput struct {
	ExitCode  *int   `json:"exit_code,omitempty"`
	Stdout    string `json:"stdout,omitempty"`
	Stderr    string `json:"stderr,omitempty"`
	Truncated bool   `json:"truncated,omitempty" jsonschema:"output was cut at 1 MiB per stream"`
	ProcessID string `json:"process_id,omitempty" jsonschema:"the background process started"`
	LogFile   string `json:"log_file,omitempty" jsonschema:"where a background process's output goes; read it with exec tail"`
}

type createSandboxInput struct {
	ProjectID  string            `json:"project_id" jsonschema:"the project (prj_…)"`
	TemplateID string            `json:"template_id" jsonschema:"a template id from list_templates, e.g. static-html or express-api"`
	Env        map[string]string `json:"env,omitempty" jsonschema:"variables for the sandbox's processes; values are kept secret"`
	Ports      []int             `json:"ports,omitempty" jsonschema:"extra ports to publish besides the template's, 3000, 5173, 8000 and 8080; they cannot be added later"`
	ExternalID string            `json:"external_id,omitempty" jsonschema:"your own id for the sandbox"`
}

type fileInput struct {
	Path     string `json:"path" jsonschema:"relative to /workspace, e.g. index.html or src/app.js"`
	Content  string `json:"content" jsonschema:"the whole file: text, or base64 when encoding is base64"`
	Encoding string `json:"encoding,omitempty" jsonschema:"utf-8 (the default) or base64"`
}

type writeFilesInput struct {
	SandboxID string      `json:"sandbox_id" jsonschema:"the sandbox (sbx_…)"`
	Files     []fileInput `json:"files" jsonschema:"the files to write; each replaces a file of the same path"`
}

type pathInput struct {
	SandboxID string `json:"sandbox_id" jsonschema:"the sandbox (sbx_…)"`
	Path      string `json:"path" jsonschema:"relative to /workspace"`
}

type listFilesInput struct {
	SandboxID string `json:"sandbox_id" jsonschema:"the sandbox (sbx_…)"`
	Path      string `json:"path,omitempty" jsonschema:"a directory relative to /workspace; empty for /workspace itself"`
}

type execInput struct {
	SandboxID      string            `json:"sandbox_id" jsonschema:"the sandbox (sbx_…)"`
	Command        string            `json:"command" jsonschema:"run with sh -c"`
	Cwd            string            `json:"cwd,omitempty" jsonschema:"relative to /workspace (the default)"`
	Env            map[string]string `json:"env,omitempty"`
	TimeoutSeconds int               `json:"timeout_seconds,omitempty" jsonschema:"1 to 600, default 60; the command keeps running after it"`
	Background     bool              `json:"background,omitempty" jsonschema:"start it as a background process that outlives the call and restarts with the sandbox (servers, watchers)"`
}

type previewInput struct {
	SandboxID   string `json:"sandbox_id" jsonschema:"the sandbox (sbx_…)"`
	Port        int    `json:"port,omitempty" jsonschema:"the port the app listens on (on 0.0.0.0); default: the port the preview serves now"`
	WaitSeconds *int   `json:"wait_seconds,omitempty" jsonschema:"how long to wait for the app to answer, 0 to 120 (default 30)"`
}

type sandboxInput struct {
	SandboxID string `json:"sandbox_id" jsonschema:"the sandbox (sbx_…)"`
}

// maxRead is how much of a file read_file returns: more is not useful in
// a model's context.
const maxRead = 512 << 10

func (t *toolset) sandboxes() {
	add(t, spec{name: "create_sandbox",
		description: "Create a sandbox for a project from a template: an editable container whose files live in /workspace, with a dev server already running and a preview URL.",
	}, func(ctx context.Context, c *client.Client, in createSandboxInput) (client.Sandbox, error) {
		sb, err := c.CreateSandbox(ctx, client.CreateSandbox{ProjectID: in.ProjectID, TemplateID: in.TemplateID, Env: in.Env, Ports: in.Ports, ExternalID: in.ExternalID})
		if err != nil {
			return client.Sandbox{}, err
		}
		return *sb, nil
	})

	add(t, spec{name: "write_files", destructive: true, idempotent: true,
		description: "Write several files into a sandbox's /workspace in one call; parent directories are made, other files are left as they are.",
		input: func(s *jsonschema.Schema) {
			files := s.Properties["files"]
			files.Types, files.Type = nil, "array"
			files.MinItems = new(1)
			files.Items.Properties["encoding"].Enum = []any{"utf-8", "base64"}
		},
	}, func(ctx context.Context, c *client.Client, in writeFilesInput) (WrittenFiles, error) {
		if len(in.Files) == 0 {
			return WrittenFiles{}, &Problem{Status: http.StatusUnprocessableEntity, Code: "missing_files", Detail: "give at least one file in files"}
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		out := WrittenFiles{SandboxID: in.SandboxID, Paths: []string{}}
		for i, f := range in.Files {
			data := []byte(f.Content)
			if f.Encoding == "base64" {
				var err error
				if data, err = base64.StdEncoding.DecodeString(f.Content); err != nil {
					return WrittenFiles{}, &Problem{Status: http.StatusUnprocessableEntity, Code: "invalid_base64", Detail: fmt.Sprintf("files[%d] (%s) is not valid base64: %v", i, f.Path, err)}
				}
			}
			name := strings.TrimLeft(f.Path, "/")
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data))}); err != nil {
				return WrittenFiles{}, fmt.Errorf("packing %s: %w", f.Path, err)
			}
			if _, err := tw.Write(data); err != nil {
				return WrittenFiles{}, fmt.Errorf("packing %s: %w", f.Path, err)
			}
			out.Paths = append(out.Paths, name)
		}
		if err := tw.Close(); err != nil {
			return WrittenFiles{}, fmt.Errorf("packing files: %w", err)
		}
		n, err := c.UploadFiles(ctx, in.SandboxID, &buf)
		if err != nil {
			return WrittenFiles{}, err
		}
		out.Written = n
		return out, nil
	})

	add(t, spec{name: "read_file", readOnly: true,
		description: "Read one file of a sandbox (path relative to /workspace): text as is, other bytes as base64, at most 512 KiB.",
	}, func(ctx context.Context, c *client.Client, in pathInput) (FileContent, error) {
		b, err := c.ReadFile(ctx, in.SandboxID, in.Path)
		if err != nil {
			return FileContent{}, err
		}
		out := FileContent{Path: in.Path, Size: len(b), Encoding: "utf-8"}
		if len(b) > maxRead {
			b, out.Truncated = b[:maxRead], true
		}
		text := b
		for i := 0; out.Truncated && i < utf8.UTFMax && len(text) > 0 && !utf8.Valid(text); i++ {
			text = text[:len(text)-1] // the cut split a character
		}
		if utf8.Valid(text) {
			out.Content = string(text)
		} else {
			out.Encoding, out.Content = "base64", base64.StdEncoding.EncodeToString(b)
		}
		return out, nil
	})

	add(t, spec{name: "list_files", readOnly: true,
		description: "List a directory of a sandbox (relative to /workspace; empty for the root): names, types (file, dir, symlink) and sizes.",
	}, func(ctx context.Context, c *client.Client, in listFilesInput) (Listing, error) {
		es, err := c.ListFiles(ctx, in.SandboxID, in.Path)
		if err != nil {
			return Listing{}, err
		}
		if es == nil {
			es = []client.FileEntry{}
		}
		return Listing{Path: "/" + strings.TrimLeft(in.Path, "/"), Entries: es}, nil
	})

	add(t, spec{name: "exec", destructive: true,
		description: "Run a shell command in a sandbox (in /workspace) and return its exit code and output; set background for servers and watchers.",
		input:       between("timeout_seconds", 0, 600),
	}, func(ctx context.Context, c *client.Client, in execInput) (ExecOutput, error) {
		req := client.Exec{Command: in.Command, Cwd: in.Cwd, Env: in.Env, TimeoutSec: in.TimeoutSeconds}
		if in.Background {
			p, err := c.StartProcess(ctx, in.SandboxID, req)
			if err != nil {
				return ExecOutput{}, err
			}
			return ExecOutput{ProcessID: p.ID, LogFile: "/tmp/" + p.ID + ".log"}, nil
		}
		r, err := c.Exec(ctx, in.SandboxID, req)
		if err != nil {
			return ExecOutput{}, err
		}
		return ExecOutput{ExitCode: &r.ExitCode, Stdout: r.Stdout, Stderr: r.Stderr, Truncated: r.Truncated}, nil
	})

	add(t, spec{name: "preview", idempotent: true,
		description: "Point the sandbox's preview URL at a port and wait until the app answers there through the edge; give the user the url it returns.",
		input:       tweaks(between("port", 0, 65535), between("wait_seconds", 0, 120)),
	}, func(ctx context.Context, c *client.Client, in previewInput) (client.Preview, error) {
		port := in.Port
		if port == 0 {
			sb, err := c.GetSandbox(ctx, in.SandboxID)
			if err != nil {
				return client.Preview{}, err
			}
			if port = sb.PreviewPort; port == 0 {
				return client.Preview{}, &Problem{Status: http.StatusUnprocessableEntity, Code: "missing_port", Detail: "give port: the port the app listens on"}
			}
		}
		var p *client.Preview
		var err error
		if in.WaitSeconds != nil {
			p, err = c.PreviewWait(ctx, in.SandboxID, port, time.Duration(*in.WaitSeconds)*time.Second)
		} else {
			p, err = c.Preview(ctx, in.SandboxID, port)
		}
		if err != nil {
			return client.Preview{}, err
		}
		return *p, nil
	})

	add(t, spec{name: "publish",
		description: "Freeze a sandbox's files into an immutable release (the same files always give the same sha256); deploy it with deploy.",
	}, func(ctx context.Context, c *client.Client, in sandboxInput) (Release, error) {
		r, err := c.Publish(ctx, in.SandboxID)
		if err != nil {
			return Release{}, err
		}
		return releaseOf(r), nil
	})

	add(t, spec{name: "delete_sandbox", destructive: true, idempotent: true,
		description: "Delete a sandbox: its container, files and preview URL go; releases published from it stay deployable. Publish first to keep its files.",
	}, func(ctx context.Context, c *client.Client, in sandboxInput) (DeletedSandbox, error) {
		if err := c.DeleteSandbox(ctx, in.SandboxID); err != nil {
			return DeletedSandbox{}, err
		}
		return DeletedSandbox{SandboxID: in.SandboxID, Status: "deleted"}, nil
	})
}

// DeletedSandbox is what delete_sandbox did.
type DeletedSandbox struct {
	SandboxID string `json:"sandbox_id"`
	Status    string `json:"status" jsonschema:"deleted"`
}
