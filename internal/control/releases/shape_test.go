package releases

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/artifact"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

func shapeControl(bundle string) *Service {
	return New(Config{Templates: templates.New(nil), BuildCABundle: bundle}, nil, nil, nil)
}

// release returns what buildShape sees of a release of files.
func release(files map[string]string) (artifact.Info, func(string) ([]byte, error)) {
	var info artifact.Info
	for _, p := range slices.Sorted(func(yield func(string) bool) {
		for p := range files {
			if !yield(p) {
				return
			}
		}
	}) {
		info.Files = append(info.Files, artifact.File{Path: p, Size: int64(len(files[p]))})
	}
	return info, func(name string) ([]byte, error) {
		b, ok := files[name]
		if !ok {
			return nil, fs.ErrNotExist
		}
		return []byte(b), nil
	}
}

func TestBuildShape(t *testing.T) {
	c := shapeControl("")
	next := `{"dependencies": {"next": "^15.5.0", "react": "^19.1.0"}}`
	vite := `{"dependencies": {"react": "^19.1.0"}, "devDependencies": {"vite": "^6.3.0"}}`
	for _, tc := range []struct {
		name     string
		files    map[string]string
		template string
		want     store.Build
		code     string
	}{
		{"static", map[string]string{"index.html": "x"}, "", store.Build{TemplateID: "static-html", Port: 8080, Command: "nginx"}, ""},
		{"next", map[string]string{"package.json": next, "app/page.js": "x"}, "", store.Build{TemplateID: "nextjs-app", Port: 3000, Command: "node server.js"}, ""},
		{"vite beats index.html", map[string]string{"package.json": vite, "index.html": "x"}, "", store.Build{TemplateID: "vite-react-spa", Port: 8080, Command: "nginx"}, ""},
		{"node", map[string]string{"package.json": `{}`, "server.js": "x"}, "", store.Build{TemplateID: "express-api", Port: 3000, Command: "node server.js"}, ""},
		{"python", map[string]string{"requirements.txt": "fastapi>=0.92", "main.py": "x"}, "", store.Build{TemplateID: "fastapi-service", Port: 8000, Command: "uvicorn main:app --host 0.0.0.0 --port ${PORT:-8000}"}, ""},
		{"funnel named", map[string]string{"package.json": next}, "nextjs-funnel", store.Build{TemplateID: "nextjs-funnel", Port: 3000, Command: "node server.js"}, ""},
		{"compose", map[string]string{"compose.yaml": "services:\n  web:\n    build: ./web\n"}, "", store.Build{TemplateID: "compose-full-stack", Port: 3000}, ""},
		{"dockerfile with EXPOSE", map[string]string{"Dockerfile": "FROM x\nEXPOSE 9000/tcp\n"}, "", store.Build{Dockerfile: "Dockerfile", Port: 9000}, ""},
		{"dockerfile says no port", map[string]string{"Dockerfile": "FROM x\n", "compose.yaml": "services: {}\n"}, "", store.Build{Dockerfile: "Dockerfile"}, ""},
		{"nothing", map[string]string{"notes.txt": "x"}, "", store.Build{}, "no_build_shape"},
		{"express without server.js", map[string]string{"package.json": `{}`}, "express-api", store.Build{}, "missing_entrypoint"},
		{"fastapi without main.py", map[string]string{"requirements.txt": "x"}, "fastapi-service", store.Build{}, "missing_entrypoint"},
		{"static without index", map[string]string{"a.html": "x"}, "static-html", store.Build{}, "missing_index_html"},
		{"compose without compose.yaml", map[string]string{"web/server.js": "x"}, "compose-full-stack", store.Build{}, "missing_entrypoint"},
		{"privileged compose", map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    privileged: true\n"}, "", store.Build{}, "compose_privileged"},
		{"socket in the override", map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n", "compose.override.yml": "services:\n  web:\n    volumes: [/var/run/docker.sock:/s]\n"}, "", store.Build{}, "compose_docker_socket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, read := release(tc.files)
			got, err := c.buildShape(info, Request{TemplateID: tc.template}, read)
			if tc.code != "" {
				var p *problem.Error
				if !errors.As(err, &p) || p.Code != tc.code || p.Status != 422 {
					t.Fatalf("err = %v, want 422 %s", err, tc.code)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestRunShape(t *testing.T) {
	c := shapeControl("")
	dep := func(tid string) *store.Deployment {
		return &store.Deployment{Metadata: map[string]string{MetadataTemplate: tid}}
	}
	for _, tc := range []struct {
		name   string
		build  store.Build
		d      *store.Deployment
		port   int
		health string
		cmd    []string
		env    string
	}{
		{"template release", store.Build{TemplateID: "express-api", Port: 3000, Command: "node server.js"}, dep(""), 3000, "/health", nil, "PORT"},
		{"its own port wins", store.Build{TemplateID: "express-api", Port: 4000, Command: "node server.js"}, dep("fastapi-service"), 4000, "/health", nil, "PORT"},
		{"another command", store.Build{TemplateID: "express-api", Port: 3000, Command: "node worker.js"}, nil, 3000, "/health", []string{"sh", "-c", "exec node worker.js"}, "PORT"},
		{"a shell command", store.Build{TemplateID: "express-api", Port: 3000, Command: "npm run migrate && node server.js"}, nil, 3000, "/health", []string{"sh", "-c", "npm run migrate && node server.js"}, "PORT"},
		{"dockerfile, template from metadata", store.Build{Dockerfile: "Dockerfile"}, dep("fastapi-service"), 8000, "/health", nil, "PORT"},
		{"dockerfile with EXPOSE, template from metadata", store.Build{Dockerfile: "Dockerfile", Port: 9000}, dep("nextjs-app"), 9000, "/api/health", nil, "NEXT_TELEMETRY_DISABLED"},
		{"dockerfile command", store.Build{Dockerfile: "Dockerfile", Command: "node server.js"}, dep("express-api"), 3000, "/health", []string{"sh", "-c", "exec node server.js"}, "PORT"},
		{"dockerfile alone", store.Build{Dockerfile: "Dockerfile"}, dep(""), 8080, "/", nil, ""},
		{"no template at all", store.Build{}, dep("nextjs-funnel"), 3000, "/", nil, "PORT"},
		{"unknown metadata template", store.Build{Dockerfile: "Dockerfile"}, dep("cobol"), 8080, "/", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := c.RunShape(&store.Release{Build: tc.build}, tc.d)
			if s.Port != tc.port || s.HealthPath != tc.health || !slices.Equal(s.Cmd, tc.cmd) {
				t.Errorf("port %d health %q cmd %q; want %d %q %q", s.Port, s.HealthPath, s.Cmd, tc.port, tc.health, tc.cmd)
			}
			if _, ok := s.Env[tc.env]; tc.env != "" && !ok {
				t.Errorf("env %v lacks the template's %s", s.Env, tc.env)
			}
		})
	}
}

func TestDockerfileFor(t *testing.T) {
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withCA, without := shapeControl(bundle), shapeControl("")
	next := &store.Release{ID: "rel_1", Build: store.Build{TemplateID: "nextjs-app", Port: 3000}}

	df, files, err := withCA.DockerfileFor(next, nil)
	if err != nil || !strings.Contains(df, "COPY berth-ca.crt ") || files[templates.BuildCAFile] == "" {
		t.Fatalf("next with a CA: files %v, %v\n%s", files, err, df)
	}
	df, files, err = without.DockerfileFor(next, nil)
	if err != nil || strings.Contains(df, "berth-ca.crt") || files != nil {
		t.Fatalf("next without a CA: files %v, %v\n%s", files, err, df)
	}
	// A static site downloads nothing: its context never gets the CA.
	static := &store.Release{ID: "rel_2", Build: store.Build{TemplateID: "static-html", Port: 8080}}
	if df, files, err := withCA.DockerfileFor(static, nil); err != nil || files != nil || strings.Contains(df, "berth-ca") {
		t.Fatalf("static with a CA: files %v, %v\n%s", files, err, df)
	}
	// No template and no Dockerfile: the deployment's template builds it.
	bare := &store.Release{ID: "rel_3", Build: store.Build{}}
	d := &store.Deployment{Metadata: map[string]string{MetadataTemplate: "fastapi-service"}}
	if df, _, err := without.DockerfileFor(bare, d); err != nil || !strings.Contains(df, "EXPOSE 8000\n") || !strings.Contains(df, "pip install") {
		t.Fatalf("bare release with a metadata template: %v\n%s", err, df)
	}
	if _, _, err := without.DockerfileFor(bare, &store.Deployment{}); err == nil || !strings.Contains(err.Error(), MetadataTemplate) {
		t.Fatalf("bare release without a template: %v", err)
	}
	composeRel := &store.Release{ID: "rel_4", Build: store.Build{TemplateID: "compose-full-stack"}}
	if _, _, err := without.DockerfileFor(composeRel, nil); err == nil || !strings.Contains(err.Error(), "not available yet") {
		t.Fatalf("compose release: %v", err)
	}
	// A bundle that cannot be read fails the build, naming no path.
	gone := shapeControl(filepath.Join(t.TempDir(), "missing.pem"))
	if _, _, err := gone.DockerfileFor(next, nil); err == nil || strings.Contains(err.Error(), "missing.pem") {
		t.Fatalf("unreadable bundle: %v", err)
	}
}
