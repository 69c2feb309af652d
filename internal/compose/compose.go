// Package compose reads a release's compose files with compose-spec's own
// loader and refuses what would let the app out of its sandbox: privileged
// mode, added capabilities, devices, the host's network, PID or other
// namespaces, the Docker socket, bind mounts and files outside the
// project, and volumes or networks that belong to the host.
//
// Parse reads only the bytes it is given: never a file of the machine it
// runs on. Files that pull in other files (include, extends with a file)
// are refused rather than followed.
package compose

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/interpolation"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/berth-dev/berth/internal/problem"
)

// ProjectDir is where a project's files are, as its compose files see
// them. It is a name only: nothing is read from it.
const ProjectDir = "/project"

// ProjectName names every parsed project; the platform gives running
// projects their own names.
const ProjectName = "app"

// MainFiles are the names a project's compose file may have, in the order
// Compose itself prefers them.
var MainFiles = []string{"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}

// OverrideFiles are read after the main file, as Compose does.
var OverrideFiles = []string{"compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml", "docker-compose.override.yml"}

// File is one compose file: its path in the project and its contents.
type File struct {
	Name    string
	Content []byte
}

// Project is a compose project that passed every check.
type Project struct {
	*types.Project
}

// Parse loads files (the main file first, then its overrides) and checks
// every service, volume and network. env holds the values of ${VAR}
// references; nil means they are not known yet (at publish, before a
// deployment gives them), and then a required variable is no error. A
// runner parses again with the deployment's environment before it starts
// anything, since a value can change what a file asks for.
//
// Errors are *problem.Error (422): compose_invalid when the files cannot
// be read as compose, otherwise a compose_* code for the first refusal,
// with every refusal in its Fields.
func Parse(files []File, env map[string]string) (*Project, error) {
	if len(files) == 0 {
		return nil, problem.Unprocessable("compose_invalid", "no compose file: add compose.yaml at the root of the project")
	}
	var refusals []refusal
	details := types.ConfigDetails{WorkingDir: ProjectDir, Environment: types.Mapping{}}
	for _, f := range files {
		refusals = append(refusals, prescan(f)...)
		details.ConfigFiles = append(details.ConfigFiles, types.ConfigFile{Filename: path.Join(ProjectDir, f.Name), Content: f.Content})
	}
	if len(refusals) > 0 {
		return nil, refuse(refusals)
	}
	lookup := func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
	p, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName(ProjectName, true)
		// Paths stay as written, so that refusals quote them and nothing
		// of this machine (a home directory) is ever resolved into them.
		o.ResolvePaths = false
		o.SkipInclude = true // refused above; never read from the disk
		o.SkipResolveEnvironment = true
		o.SkipResolveLabels = true
		o.Interpolate = &interpolation.Options{LookupValue: lookup, Substitute: substitute(env == nil)}
	})
	if err != nil {
		return nil, problem.Unprocessable("compose_invalid", "the compose file is not valid: %s", describe(err))
	}
	refusals = check(p)
	if len(refusals) > 0 {
		return nil, refuse(refusals)
	}
	return &Project{Project: p}, nil
}

// substitute interpolates ${VAR} forms without logging; with unknown
// values, a required variable (${VAR:?message}) becomes empty instead of
// an error.
func substitute(unknown bool) func(string, template.Mapping) (string, error) {
	var required func(string, template.Mapping) (string, bool, error)
	required = func(sub string, m template.Mapping) (string, bool, error) {
		if unknown {
			for _, op := range []string{":?", "?"} {
				if name, _, ok := strings.Cut(sub, op); ok && !strings.ContainsAny(name, ":-+?") {
					v, _ := m(name)
					return v, true, nil
				}
			}
		}
		v, err := template.SubstituteWithOptions("${"+sub+"}", m, template.WithoutLogging)
		return v, true, err
	}
	return func(s string, m template.Mapping) (string, error) {
		return template.SubstituteWithOptions(s, m, template.WithoutLogging, template.WithSubstitutionFunction(required))
	}
}

// describe shortens the loader's error to what a person can act on.
func describe(err error) string {
	var missing *template.MissingRequiredError
	if errors.As(err, &missing) {
		return fmt.Sprintf("variable %s must be set (%s)", missing.Variable, missing.Reason)
	}
	s := err.Error()
	s = strings.ReplaceAll(s, ProjectDir+"/", "")
	return s
}

// refusal is one thing a compose file asks for that Berth refuses.
type refusal struct {
	code   string
	field  string
	detail string
}

func refuse(rs []refusal) error {
	p := problem.Unprocessable(rs[0].code, "%s", rs[0].detail)
	if len(rs) > 1 {
		p.Detail += fmt.Sprintf(" (and %d more problems: see errors)", len(rs)-1)
	}
	for _, r := range rs {
		p.Fields = append(p.Fields, problem.Field{Field: r.field, Detail: r.detail})
	}
	return p
}

// prescan refuses what makes the loader read other files: a top-level
// include, and extends from another file.
func prescan(f File) []refusal {
	var doc map[string]any
	if err := yaml.Unmarshal(f.Content, &doc); err != nil {
		return []refusal{{code: "compose_invalid", field: f.Name,
			detail: fmt.Sprintf("%s is not valid YAML: %v", f.Name, err)}}
	}
	var rs []refusal
	if doc["include"] != nil {
		rs = append(rs, refusal{"compose_include", "include",
			f.Name + " uses include: put every service in " + f.Name + " (or its override file) instead"})
	}
	services, _ := doc["services"].(map[string]any)
	for _, name := range sortedKeys(services) {
		svc, _ := services[name].(map[string]any)
		if ext, ok := svc["extends"].(map[string]any); ok && ext["file"] != nil {
			rs = append(rs, refusal{"compose_include", "services." + name + ".extends.file",
				fmt.Sprintf("service %s extends a service of another file: extend a service of the same file instead", name)})
		}
	}
	return rs
}

// check returns what p asks for that a tenant's app may not have.
func check(p *types.Project) []refusal {
	var rs []refusal
	add := func(code, field, format string, args ...any) {
		rs = append(rs, refusal{code: code, field: field, detail: fmt.Sprintf(format, args...)})
	}
	for _, name := range sortedKeys(p.Services) {
		s := p.Services[name]
		f := "services." + name
		if s.Privileged {
			add("compose_privileged", f+".privileged", "service %s asks for privileged mode: remove privileged: true", name)
		}
		if len(s.CapAdd) > 0 {
			add("compose_cap_add", f+".cap_add", "service %s adds capabilities %s: remove cap_add; apps run with the default capabilities", name, strings.Join(s.CapAdd, ", "))
		}
		if len(s.Devices) > 0 || len(s.DeviceCgroupRules) > 0 || len(s.Gpus) > 0 || reservesDevices(s) {
			add("compose_devices", f+".devices", "service %s asks for host devices: remove devices, device_cgroup_rules and gpus", name)
		}
		switch mode := s.NetworkMode; {
		case mode == "host":
			add("compose_host_network", f+".network_mode", "service %s asks for the host's network: remove network_mode: host and reach services by name", name)
		case strings.HasPrefix(mode, "container:"):
			add("compose_host_network", f+".network_mode", "service %s joins the network of a container outside the project: use network_mode: service:NAME or none", name)
		}
		if s.Pid == "host" || strings.HasPrefix(s.Pid, "container:") {
			add("compose_host_pid", f+".pid", "service %s asks for the host's processes (pid: %s): remove pid", name, s.Pid)
		}
		for key, v := range map[string]string{"ipc": s.Ipc, "uts": s.Uts, "userns_mode": s.UserNSMode, "cgroup": s.Cgroup} {
			if v == "host" || strings.HasPrefix(v, "container:") {
				add("compose_host_namespace", f+"."+key, "service %s asks for a namespace of the host (%s: %s): remove %s", name, key, v, key)
			}
		}
		if s.CgroupParent != "" {
			add("compose_host_namespace", f+".cgroup_parent", "service %s names a cgroup of the host: remove cgroup_parent", name)
		}
		for _, o := range s.SecurityOpt {
			if o != "no-new-privileges" && o != "no-new-privileges:true" && o != "no-new-privileges=true" {
				add("compose_security_opt", f+".security_opt", "service %s changes its confinement (security_opt: %s): only no-new-privileges is allowed", name, o)
			}
		}
		if len(s.Ports) > 0 {
			add("compose_ports", f+".ports", "service %s publishes ports on the host: use expose instead; the platform routes the web service", name)
		}
		for i, v := range s.Volumes {
			vf := fmt.Sprintf("%s.volumes[%d]", f, i)
			switch v.Type {
			case types.VolumeTypeBind:
				switch {
				case isDockerSocket(v.Source):
					add("compose_docker_socket", vf, "service %s mounts the Docker socket (%s): apps never get the Docker engine", name, v.Source)
				case !inProject(v.Source):
					add("compose_bind_outside_project", vf, "service %s mounts %s, outside the project: mount a path under ./ or use a named volume", name, v.Source)
				}
			case types.VolumeTypeVolume, types.VolumeTypeTmpfs:
				if isDockerSocket(v.Source) {
					add("compose_docker_socket", vf, "service %s mounts the Docker socket: apps never get the Docker engine", name)
				}
			default:
				add("compose_bind_outside_project", vf, "service %s mounts a %s volume: use a named volume or a path under ./", name, v.Type)
			}
		}
		if s.Build != nil && !isRemote(s.Build.Context) && !inProject(s.Build.Context) {
			add("compose_path_outside_project", f+".build.context", "service %s builds from %s, outside the project: build from a directory under ./", name, s.Build.Context)
		}
		for _, e := range s.EnvFiles {
			if !inProject(e.Path) {
				add("compose_path_outside_project", f+".env_file", "service %s reads env_file %s, outside the project: use a file under ./", name, e.Path)
			}
		}
	}
	for _, name := range sortedKeys(p.Volumes) {
		v := p.Volumes[name]
		if bool(v.External) {
			add("compose_external", "volumes."+name+".external", "volume %s is external (it belongs to the host): remove external; the platform makes the project's volumes", name)
		}
		if len(v.DriverOpts) > 0 || (v.Driver != "" && v.Driver != "local") {
			add("compose_volume_driver", "volumes."+name+".driver_opts", "volume %s sets a driver or driver_opts, which can mount host paths: remove them", name)
		}
	}
	for _, name := range sortedKeys(p.Networks) {
		n := p.Networks[name]
		if bool(n.External) {
			add("compose_external", "networks."+name+".external", "network %s is external (it belongs to the host): remove external; the project gets a network of its own", name)
		}
		if n.Driver != "" && n.Driver != "bridge" {
			add("compose_host_network", "networks."+name+".driver", "network %s uses the %s driver: remove driver; the project gets a bridge network of its own", name, n.Driver)
		}
	}
	for kind, set := range map[string]map[string]types.FileObjectConfig{"configs": fileObjects(p.Configs), "secrets": fileObjects(p.Secrets)} {
		for _, name := range sortedKeys(set) {
			o := set[name]
			if bool(o.External) {
				add("compose_external", kind+"."+name+".external", "%s %s is external: give its content in the project (file: ./…)", kind, name)
			}
			if o.File != "" && !inProject(o.File) {
				add("compose_path_outside_project", kind+"."+name+".file", "%s %s reads %s, outside the project: use a file under ./", kind, name, o.File)
			}
		}
	}
	slices.SortStableFunc(rs, func(a, b refusal) int { return strings.Compare(a.field, b.field) })
	return rs
}

// fileObjects returns the configs or secrets of a project as what they
// both are.
func fileObjects[T ~map[string]V, V types.SecretConfig | types.ConfigObjConfig](m T) map[string]types.FileObjectConfig {
	out := make(map[string]types.FileObjectConfig, len(m))
	for k, v := range m {
		out[k] = types.FileObjectConfig(v)
	}
	return out
}

func reservesDevices(s types.ServiceConfig) bool {
	return s.Deploy != nil && s.Deploy.Resources.Reservations != nil && len(s.Deploy.Resources.Reservations.Devices) > 0
}

// inProject reports whether a path, relative to the project or absolute
// as the project's files see it, is the project directory or under it.
func inProject(p string) bool {
	if p == "~" || strings.HasPrefix(p, "~/") {
		return false
	}
	if !path.IsAbs(p) {
		p = path.Join(ProjectDir, p)
	}
	p = path.Clean(p)
	return p == ProjectDir || strings.HasPrefix(p, ProjectDir+"/")
}

func isDockerSocket(p string) bool {
	return strings.Contains(p, "docker.sock") || strings.HasSuffix(path.Clean(p), "/containerd.sock")
}

// isRemote reports whether a build context is a URL (a Git repository),
// which the builder fetches rather than reading the host.
func isRemote(ctx string) bool {
	return strings.Contains(ctx, "://") || strings.HasPrefix(ctx, "git@")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
