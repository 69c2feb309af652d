package compose

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// RouteExtension marks the service the platform routes the deployment's
// URL to (`x-berth-route: true`).
const RouteExtension = "x-berth-route"

// Order returns the project's service names with every service after the
// services it depends on; ties are in name order, so the order is the
// same on every run.
func Order(p *Project) ([]string, error) {
	names := sortedKeys(p.Services)
	var out []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("services depend on each other in a cycle through %s", n)
		case 2:
			return nil
		}
		state[n] = 1
		s, ok := p.Services[n]
		if !ok {
			return fmt.Errorf("a service depends on %s, which does not exist", n)
		}
		for _, dep := range sortedKeys(s.DependsOn) {
			if err := visit(dep); err != nil {
				return err
			}
		}
		state[n] = 2
		out = append(out, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Route names the service the deployment's URL reaches and its port: the
// one marked x-berth-route: true, else "web", else the first (by name)
// that exposes a port. The port is the service's first exposed one, or
// fallback. An empty name means no service can be routed.
func Route(p *Project, fallback int) (string, int) {
	name := ""
	for _, n := range sortedKeys(p.Services) {
		if v, ok := p.Services[n].Extensions[RouteExtension].(bool); ok && v {
			name = n
			break
		}
	}
	if name == "" {
		if _, ok := p.Services["web"]; ok {
			name = "web"
		}
	}
	if name == "" {
		for _, n := range sortedKeys(p.Services) {
			if len(p.Services[n].Expose) > 0 {
				name = n
				break
			}
		}
	}
	if name == "" {
		return "", 0
	}
	for _, e := range p.Services[name].Expose {
		port, _, _ := strings.Cut(e, "/")
		port, _, _ = strings.Cut(port, "-")
		if n, err := strconv.Atoi(port); err == nil && n > 0 && n < 65536 {
			return name, n
		}
	}
	return name, fallback
}

// LocalImage returns the logical image name (the platform's image map:
// node, node-build, nginx, python, postgres, redis) that stands in for an
// official image a compose file names, or "" for any other image. A node
// image maps to node-build, which has npm, since a Dockerfile FROM the
// official node image may run npm.
func LocalImage(ref string) string {
	repo := ref
	if i := strings.LastIndex(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	repo = strings.TrimPrefix(strings.TrimPrefix(repo, "docker.io/"), "library/")
	switch repo {
	case "node":
		return "node-build"
	case "nginx", "python", "postgres", "redis":
		return repo
	}
	return ""
}

// RewriteDockerfile returns a service's Dockerfile with the image of
// every FROM replaced by image(ref) (when it returns something other than
// ""), and, when caFile is set, the build stage of every FROM trusting
// that CA bundle (copied from the context root) for npm, pip and Node.
// The copy of the bundle that a `COPY . .` brings along is removed.
func RewriteDockerfile(df string, image func(string) string, caFile string) string {
	var b strings.Builder
	for line := range strings.Lines(df) {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.EqualFold(f[0], "FROM") {
			i := 1
			for i < len(f) && strings.HasPrefix(f[i], "--") {
				i++
			}
			if i < len(f) {
				if ref := image(f[i]); ref != "" {
					f[i] = ref
				}
			}
			b.WriteString(strings.Join(f, " ") + "\n")
			if caFile != "" {
				fmt.Fprintf(&b, "COPY %s /etc/ssl/berth-build-ca.crt\n", caFile)
				b.WriteString("ENV NODE_EXTRA_CA_CERTS=/etc/ssl/berth-build-ca.crt SSL_CERT_FILE=/etc/ssl/berth-build-ca.crt PIP_CERT=/etc/ssl/berth-build-ca.crt npm_config_cafile=/etc/ssl/berth-build-ca.crt\n")
			}
			continue
		}
		b.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			b.WriteString("\n")
		}
		if caFile != "" && len(f) >= 3 && (strings.EqualFold(f[0], "COPY") || strings.EqualFold(f[0], "ADD")) &&
			slices.Contains(f[1:len(f)-1], ".") {
			fmt.Fprintf(&b, "RUN rm -f %s/%s\n", strings.TrimSuffix(f[len(f)-1], "/"), caFile)
		}
	}
	return b.String()
}

// Command returns a compose command or entrypoint as an argv.
func Command(c types.ShellCommand) []string { return []string(c) }
