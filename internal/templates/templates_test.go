package templates

import (
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// The seven templates of the catalogue (docs/templates.md).
var wantIDs = []string{"compose-full-stack", "express-api", "fastapi-service", "nextjs-app", "nextjs-funnel", "static-html", "vite-react-spa"}

func TestCatalogue(t *testing.T) {
	c := New(nil)
	if got := c.IDs(); !slices.Equal(got, wantIDs) {
		t.Fatalf("ids = %v, want %v", got, wantIDs)
	}
	for _, tpl := range c.List() {
		t.Run(tpl.ID, func(t *testing.T) {
			if tpl.Name == "" || tpl.Description == "" || tpl.Runtime == "" || tpl.DesignContext == "" {
				t.Errorf("missing name, description, runtime or design context: %+v", tpl)
			}
			if tpl.Port < 1 || tpl.HealthPath == "" || tpl.HealthPath[0] != '/' || tpl.Env == nil || tpl.Volumes == nil {
				t.Errorf("port %d, health path %q, env %v, volumes %v", tpl.Port, tpl.HealthPath, tpl.Env, tpl.Volumes)
			}
			if (tpl.Dockerfile == "") == (tpl.ComposeFile == "") {
				t.Errorf("a template has a Dockerfile or a compose file, not both nor neither")
			}
			if tpl.DevCommand == "" {
				t.Error("no dev command: the sandbox would serve nothing")
			}
			if c.ImageRef(tpl) == "" {
				t.Errorf("image %q is not in the image map", tpl.Image)
			}
			starter, err := c.Starter(tpl)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range append(slices.Clone(tpl.Requires), tpl.ComposeFile) {
				if f == "" {
					continue
				}
				if _, err := fs.Stat(starter, f); err != nil {
					t.Errorf("the starter lacks %s, which a release needs: %v", f, err)
				}
			}
			if tpl.Static {
				if _, err := fs.Stat(starter, "index.html"); err != nil {
					t.Error(err)
				}
			}
			if tpl.ComposeFile != "" && !strings.Contains(c.Compose(tpl), "services:") {
				t.Errorf("Compose = %q", c.Compose(tpl))
			}
		})
	}
}

// TestDockerfiles compares every rendered Dockerfile, as a user sees it
// and with the build CA, to testdata/; go test -update rewrites them.
func TestDockerfiles(t *testing.T) {
	c := New(nil)
	for _, tpl := range c.List() {
		if tpl.Dockerfile == "" {
			continue
		}
		for _, ca := range []bool{false, true} {
			name := tpl.ID + ".Dockerfile"
			if ca {
				name = tpl.ID + ".build-ca.Dockerfile"
			}
			t.Run(name, func(t *testing.T) {
				got, err := c.Render(tpl, BuildOptions{Port: tpl.Port, BuildCA: ca})
				if err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", name)
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to write it)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from the rendered Dockerfile (go test -update rewrites it):\n%s", golden, got)
				}
			})
		}
	}
}

func TestBuildCAOnlyWhenAsked(t *testing.T) {
	c := New(nil)
	for _, tpl := range c.List() {
		public, _ := c.Dockerfile(tpl, tpl.Port)
		if strings.Contains(public, BuildCAFile) {
			t.Errorf("%s: the Dockerfile a user sees names the platform's CA", tpl.ID)
		}
		withCA, _ := c.Render(tpl, BuildOptions{Port: tpl.Port, BuildCA: true})
		downloads := strings.Contains(withCA, "npm ") || strings.Contains(withCA, "pip ")
		if downloads != strings.Contains(withCA, "COPY "+BuildCAFile+" ") {
			t.Errorf("%s: downloads %v, but trusts the build CA %v", tpl.ID, downloads, !downloads)
		}
		if downloads {
			for _, env := range []string{"NODE_EXTRA_CA_CERTS=", "SSL_CERT_FILE=", "PIP_CERT=", "npm_config_cafile="} {
				if !strings.Contains(withCA, env) {
					t.Errorf("%s: no %s", tpl.ID, env)
				}
			}
		}
	}
}

// TestStartCommandIsTheImagesCommand keeps StartCommand (what the API
// shows, and what a release records) the image's CMD.
func TestStartCommandIsTheImagesCommand(t *testing.T) {
	c := New(nil)
	cmd := regexp.MustCompile(`(?m)^CMD (\[.*\])$`)
	for _, tpl := range c.List() {
		df, _ := c.Dockerfile(tpl, tpl.Port)
		m := cmd.FindAllStringSubmatch(df, -1)
		if len(m) == 0 {
			continue // the base image's command (nginx)
		}
		var argv []string
		if err := json.Unmarshal([]byte(m[len(m)-1][1]), &argv); err != nil {
			t.Fatalf("%s: %v", tpl.ID, err)
		}
		got := strings.Join(argv, " ")
		if len(argv) == 3 && argv[0] == "sh" && argv[1] == "-c" {
			got = strings.TrimPrefix(argv[2], "exec ")
		}
		if got != tpl.StartCommand {
			t.Errorf("%s: CMD runs %q, StartCommand says %q", tpl.ID, got, tpl.StartCommand)
		}
	}
}

func TestImagesAreMapped(t *testing.T) {
	c := New(Images{"python": "python:3.12-slim", "node-build": "node:20", "node": "node:20-slim"})
	df, err := c.Dockerfile(mustGet(t, c, "fastapi-service"), 8000)
	if err != nil || !strings.HasPrefix(df, "FROM python:3.12-slim\n") {
		t.Errorf("fastapi with the official image: %q, %v", df, err)
	}
	df, _ = c.Dockerfile(mustGet(t, c, "nextjs-app"), 3000)
	if !strings.Contains(df, "FROM node:20 AS build\n") || !strings.Contains(df, "FROM node:20-slim\n") {
		t.Errorf("next with the official images:\n%s", df)
	}
	if _, err := New(nil).Render(&Template{ID: "x", Dockerfile: `FROM {{image "cobol"}}`}, BuildOptions{}); err == nil {
		t.Error("an unknown image rendered")
	}
}

func TestDetect(t *testing.T) {
	c := New(nil)
	for id, deps := range map[string][]string{"nextjs-app": {"next", "react"}, "vite-react-spa": {"vite", "react"}} {
		set := map[string]bool{}
		for _, d := range deps {
			set[d] = true
		}
		var found []string
		for _, tpl := range c.List() {
			if tpl.Detect != nil && tpl.Detect(set) {
				found = append(found, tpl.ID)
			}
		}
		if !slices.Equal(found, []string{id}) {
			t.Errorf("%v detected as %v, want %s", deps, found, id)
		}
	}
}

func mustGet(t *testing.T, c *Catalogue, id string) *Template {
	t.Helper()
	tpl, ok := c.Get(id)
	if !ok {
		t.Fatalf("no template %s", id)
	}
	return tpl
}
