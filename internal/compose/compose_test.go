package compose

import (
	"errors"
	"io/fs"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/templates"
)

func parse(t *testing.T, yaml string) error {
	t.Helper()
	_, err := Parse([]File{{Name: "compose.yaml", Content: []byte(yaml)}}, nil)
	return err
}

func TestRefusals(t *testing.T) {
	const web = "services:\n  web:\n    image: berth/node:bookworm\n"
	for _, tc := range []struct {
		name, yaml, code, field string
	}{
		{"privileged", web + "    privileged: true\n", "compose_privileged", "services.web.privileged"},
		{"cap_add", web + "    cap_add: [NET_ADMIN]\n", "compose_cap_add", "services.web.cap_add"},
		{"devices", web + "    devices: [/dev/kvm:/dev/kvm]\n", "compose_devices", "services.web.devices"},
		{"gpus", web + "    gpus: all\n", "compose_devices", "services.web.devices"},
		{"device reservations", web + "    deploy:\n      resources:\n        reservations:\n          devices: [{capabilities: [gpu]}]\n", "compose_devices", "services.web.devices"},
		{"host network", web + "    network_mode: host\n", "compose_host_network", "services.web.network_mode"},
		{"another container's network", web + "    network_mode: container:berth-agent\n", "compose_host_network", "services.web.network_mode"},
		{"host network driver", web + "networks:\n  default:\n    driver: host\n", "compose_host_network", "networks.default.driver"},
		{"macvlan", web + "networks:\n  lan:\n    driver: macvlan\n", "compose_host_network", "networks.lan.driver"},
		{"host pid", web + "    pid: host\n", "compose_host_pid", "services.web.pid"},
		{"host ipc", web + "    ipc: host\n", "compose_host_namespace", "services.web.ipc"},
		{"host userns", web + "    userns_mode: host\n", "compose_host_namespace", "services.web.userns_mode"},
		{"cgroup parent", web + "    cgroup_parent: /system.slice\n", "compose_host_namespace", "services.web.cgroup_parent"},
		{"seccomp unconfined", web + "    security_opt: [seccomp=unconfined]\n", "compose_security_opt", "services.web.security_opt"},
		{"docker socket", web + "    volumes: [/var/run/docker.sock:/var/run/docker.sock]\n", "compose_docker_socket", "services.web.volumes[0]"},
		{"docker socket long form", web + "    volumes:\n      - {type: bind, source: /run/docker.sock, target: /s}\n", "compose_docker_socket", "services.web.volumes[0]"},
		{"bind outside", web + "    volumes: [/etc:/host-etc:ro]\n", "compose_bind_outside_project", "services.web.volumes[0]"},
		{"bind escaping", web + "    volumes: [../../etc:/x]\n", "compose_bind_outside_project", "services.web.volumes[0]"},
		{"bind home", web + "    volumes: [~/.ssh:/x]\n", "compose_bind_outside_project", "services.web.volumes[0]"},
		{"named volume binding the host", web + "    volumes: [data:/x]\nvolumes:\n  data:\n    driver_opts: {type: none, o: bind, device: /}\n", "compose_volume_driver", "volumes.data.driver_opts"},
		{"external volume", web + "    volumes: [data:/x]\nvolumes:\n  data:\n    external: true\n", "compose_external", "volumes.data.external"},
		{"external network", web + "    networks: [shared]\nnetworks:\n  shared:\n    external: true\n", "compose_external", "networks.shared.external"},
		{"published port", web + "    ports: [\"80:3000\"]\n", "compose_ports", "services.web.ports"},
		{"build outside", "services:\n  web:\n    build: ../other\n", "compose_path_outside_project", "services.web.build.context"},
		{"env_file outside", web + "    env_file: /etc/environment\n", "compose_path_outside_project", "services.web.env_file"},
		{"secret outside", web + "    secrets: [key]\nsecrets:\n  key:\n    file: /etc/shadow\n", "compose_path_outside_project", "secrets.key.file"},
		{"include", "include: [../other/compose.yaml]\n" + web, "compose_include", "include"},
		{"extends another file", web + "  api:\n    extends: {file: /etc/compose.yaml, service: x}\n", "compose_include", "services.api.extends.file"},
		{"not compose", "services: [1, 2]\n", "compose_invalid", ""},
		{"not yaml", "services:\n  web: [\n", "compose_invalid", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := parse(t, tc.yaml)
			var p *problem.Error
			if !errors.As(err, &p) {
				t.Fatalf("err = %v, want a problem", err)
			}
			if p.Code != tc.code || p.Status != http.StatusUnprocessableEntity || p.Detail == "" {
				t.Fatalf("got %d %s %q, want 422 %s", p.Status, p.Code, p.Detail, tc.code)
			}
			if tc.field != "" && (len(p.Fields) == 0 || p.Fields[0].Field != tc.field) {
				t.Errorf("fields = %+v, want %s first", p.Fields, tc.field)
			}
			if strings.Contains(p.Detail, ProjectDir+"/") {
				t.Errorf("detail names the virtual project dir: %q", p.Detail)
			}
		})
	}
}

func TestEveryRefusalIsListed(t *testing.T) {
	err := parse(t, "services:\n  web:\n    image: x\n    privileged: true\n    pid: host\n    volumes: [/var/run/docker.sock:/s]\n")
	var p *problem.Error
	if !errors.As(err, &p) || len(p.Fields) != 3 {
		t.Fatalf("err = %#v", err)
	}
	if p.Code != "compose_host_pid" || !strings.Contains(p.Detail, "2 more") {
		t.Errorf("first refusal %s %q", p.Code, p.Detail)
	}
}

func TestAllowed(t *testing.T) {
	for name, yaml := range map[string]string{
		"bind inside":        "services:\n  web:\n    image: x\n    volumes: [./data:/data, .:/app:ro]\n",
		"named volumes":      "services:\n  web:\n    image: x\n    volumes: [data:/data]\nvolumes:\n  data: {}\n",
		"tmpfs":              "services:\n  web:\n    image: x\n    tmpfs: [/tmp]\n",
		"service network":    "services:\n  web:\n    image: x\n  side:\n    image: x\n    network_mode: service:web\n",
		"no new privileges":  "services:\n  web:\n    image: x\n    security_opt: [no-new-privileges:true]\n    cap_drop: [ALL]\n",
		"extends same file":  "services:\n  base:\n    image: x\n  web:\n    extends: base\n",
		"required variable":  "services:\n  web:\n    image: x\n    environment:\n      KEY: ${KEY:?set KEY}\n",
		"defaults":           "services:\n  web:\n    image: ${IMAGE:-x}\n",
		"build in a subdir":  "services:\n  web:\n    build: ./web\n    env_file: [.env.example]\n",
		"bridge network":     "services:\n  web:\n    image: x\n    networks: [back]\nnetworks:\n  back:\n    driver: bridge\n",
		"expose, not ports":  "services:\n  web:\n    image: x\n    expose: [\"3000\"]\n",
		"secret inside":      "services:\n  web:\n    image: x\n    secrets: [key]\nsecrets:\n  key:\n    file: ./key.txt\n",
		"healthcheck escape": "services:\n  web:\n    image: x\n    healthcheck:\n      test: [\"CMD-SHELL\", \"test $${HOME}\"]\n",
	} {
		t.Run(name, func(t *testing.T) {
			if err := parse(t, yaml); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestVariablesDecide shows why a runner parses again with the real
// environment: a value can turn an allowed file into a refused one.
func TestVariablesDecide(t *testing.T) {
	f := []File{{Name: "compose.yaml", Content: []byte("services:\n  web:\n    image: x\n    network_mode: ${MODE:-bridge}\n")}}
	if _, err := Parse(f, nil); err != nil {
		t.Fatal(err)
	}
	_, err := Parse(f, map[string]string{"MODE": "host"})
	var p *problem.Error
	if !errors.As(err, &p) || p.Code != "compose_host_network" {
		t.Fatalf("with MODE=host: %v", err)
	}
	req := []File{{Name: "compose.yaml", Content: []byte("services:\n  web:\n    image: x\n    environment: [\"KEY=${KEY:?set KEY}\"]\n")}}
	if _, err := Parse(req, map[string]string{}); !errors.As(err, &p) || p.Code != "compose_invalid" || !strings.Contains(p.Detail, "KEY") {
		t.Fatalf("required variable with a known, empty environment: %v", err)
	}
}

func TestOverrideFileIsChecked(t *testing.T) {
	_, err := Parse([]File{
		{Name: "compose.yaml", Content: []byte("services:\n  web:\n    image: x\n")},
		{Name: "compose.override.yaml", Content: []byte("services:\n  web:\n    privileged: true\n")},
	}, nil)
	var p *problem.Error
	if !errors.As(err, &p) || p.Code != "compose_privileged" {
		t.Fatalf("err = %v", err)
	}
}

// TestStarter parses the compose template's starter: web, api, worker,
// db and redis, with their volumes.
func TestStarter(t *testing.T) {
	cat := templates.New(nil)
	tpl, _ := cat.Get("compose-full-stack")
	files, err := cat.Starter(tpl)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(files, tpl.ComposeFile)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse([]File{{Name: tpl.ComposeFile, Content: b}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sortedKeys(p.Services), " "); got != "api db redis web worker" {
		t.Errorf("services %s", got)
	}
	if got := strings.Join(sortedKeys(p.Volumes), " "); got != "db-data redis-data" {
		t.Errorf("volumes %s", got)
	}
	for _, s := range []string{"web", "api", "worker"} {
		ctx := p.Services[s].Build.Context
		if ctx != "./"+s {
			t.Errorf("%s builds from %s", s, ctx)
		}
		if _, err := fs.Stat(files, s+"/Dockerfile"); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if url := p.Services["api"].Environment["DATABASE_URL"]; url == nil || *url != "postgres://app:app@db:5432/app" {
		t.Errorf("api DATABASE_URL = %v", url)
	}
}
