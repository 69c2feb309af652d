package cli

import (
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/client"
)

// The read commands: a list prints a table (-o json: an array of what the
// API returned), a show prints one resource's fields (-o json: the
// resource).

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04")
}

// listCmd is "list": every item the key can see, all pages.
func listCmd[T any](short string, flags func(*cobra.Command, *client.ListOptions), items func(*client.Client, *cobra.Command, client.ListOptions) ([]T, error), header []string, row func(T) []string) *cobra.Command {
	var o client.ListOptions
	cmd := &cobra.Command{
		Use: "list", Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			list, err := items(c, cmd, o)
			if err != nil {
				return err
			}
			return emitTable(cmd, list, header, row)
		},
	}
	cmd.Flags().StringVar(&o.ExternalID, "external-id", "", "only the one with this external id")
	if flags != nil {
		flags(cmd, &o)
	}
	return cmd
}

// showCmd is "show ID".
func showCmd[T any](use, short string, get func(*client.Client, *cobra.Command, string) (*T, error), fields func(*T) [][2]string) *cobra.Command {
	return &cobra.Command{
		Use: "show " + use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			v, err := get(c, cmd, args[0])
			if err != nil {
				return err
			}
			return emitFields(cmd, v, fields(v))
		},
	}
}

func orgFields(o *client.Org) [][2]string {
	return [][2]string{{"id", o.ID}, {"name", o.Name}, {"slug", o.Slug}, {"external id", o.ExternalID}, {"created", when(o.CreatedAt)}}
}

func orgReadCmds() []*cobra.Command {
	return []*cobra.Command{
		listCmd("List the orgs the key can see", nil,
			func(c *client.Client, cmd *cobra.Command, o client.ListOptions) ([]client.Org, error) {
				return collect(c.Orgs(cmd.Context(), o))
			},
			[]string{"ID", "SLUG", "NAME", "CREATED"},
			func(o client.Org) []string { return []string{o.ID, o.Slug, o.Name, when(o.CreatedAt)} }),
		showCmd("ORG_ID", "Show an org",
			func(c *client.Client, cmd *cobra.Command, id string) (*client.Org, error) {
				return c.GetOrg(cmd.Context(), id)
			},
			orgFields),
	}
}

func workspaceReadCmds() []*cobra.Command {
	return []*cobra.Command{
		listCmd("List the workspaces the key can see",
			func(cmd *cobra.Command, o *client.ListOptions) {
				cmd.Flags().StringVar(&o.OrgID, "org", "", "only this org's")
			},
			func(c *client.Client, cmd *cobra.Command, o client.ListOptions) ([]client.Workspace, error) {
				return collect(c.Workspaces(cmd.Context(), o))
			},
			[]string{"ID", "ORG", "SLUG", "NAME", "CREATED"},
			func(w client.Workspace) []string { return []string{w.ID, w.OrgID, w.Slug, w.Name, when(w.CreatedAt)} }),
		showCmd("WORKSPACE_ID", "Show a workspace",
			func(c *client.Client, cmd *cobra.Command, id string) (*client.Workspace, error) {
				return c.GetWorkspace(cmd.Context(), id)
			},
			func(w *client.Workspace) [][2]string {
				return [][2]string{{"id", w.ID}, {"org", w.OrgID}, {"name", w.Name}, {"slug", w.Slug}, {"external id", w.ExternalID}, {"created", when(w.CreatedAt)}}
			}),
	}
}

func projectReadCmds() []*cobra.Command {
	return []*cobra.Command{
		listCmd("List the projects the key can see",
			func(cmd *cobra.Command, o *client.ListOptions) {
				cmd.Flags().StringVar(&o.OrgID, "org", "", "only this org's")
				cmd.Flags().StringVar(&o.WorkspaceID, "workspace", "", "only this workspace's")
			},
			func(c *client.Client, cmd *cobra.Command, o client.ListOptions) ([]client.Project, error) {
				return collect(c.Projects(cmd.Context(), o))
			},
			[]string{"ID", "WORKSPACE", "SLUG", "NAME", "CREATED"},
			func(p client.Project) []string {
				return []string{p.ID, p.WorkspaceID, p.Slug, p.Name, when(p.CreatedAt)}
			}),
		showCmd("PROJECT_ID", "Show a project",
			func(c *client.Client, cmd *cobra.Command, id string) (*client.Project, error) {
				return c.GetProject(cmd.Context(), id)
			},
			func(p *client.Project) [][2]string {
				return [][2]string{{"id", p.ID}, {"org", p.OrgID}, {"workspace", p.WorkspaceID}, {"name", p.Name}, {"slug", p.Slug}, {"external id", p.ExternalID}, {"created", when(p.CreatedAt)}}
			}),
	}
}

// projectFilter is the --project filter of the lists of a project's
// resources.
func projectFilter(cmd *cobra.Command, o *client.ListOptions) {
	cmd.Flags().StringVar(&o.ProjectID, "project", "", "only this project's")
}

func sandboxFields(s *client.Sandbox) [][2]string {
	return [][2]string{{"id", s.ID}, {"project", s.ProjectID}, {"template", s.TemplateID}, {"status", s.Status}, {"reason", s.StatusReason}, {"preview", s.PreviewURL}, {"ports", joinInts(s.Ports)}, {"env", strings.Join(s.EnvNames, " ")}, {"external id", s.ExternalID}, {"created", when(s.CreatedAt)}}
}

func joinInts(ns []int) string {
	var s []string
	for _, n := range ns {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, " ")
}

func sandboxesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sandboxes", Aliases: []string{"sandbox"}, Short: "Create, list and show sandboxes"}
	var in client.CreateSandbox
	var env []string
	var noWait bool
	create := &cobra.Command{
		Use: "create", Short: "Create a sandbox; waits briefly for it to run", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if in.ProjectID == "" || in.TemplateID == "" {
				return usagef("give the project and the template: --project ID --template ID")
			}
			in.Env = map[string]string{}
			for _, kv := range env {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return usagef("--env %q: write NAME=VALUE", kv)
				}
				in.Env[k] = v
			}
			c, err := apiClient()
			if err != nil {
				return err
			}
			create := c.CreateSandbox
			if noWait {
				create = c.CreateSandboxNoWait
			}
			s, err := create(cmd.Context(), in)
			if err != nil {
				return err
			}
			return emitFields(cmd, s, sandboxFields(s))
		},
	}
	create.Flags().StringVar(&in.ProjectID, "project", "", "project id")
	create.Flags().StringVar(&in.TemplateID, "template", "", "template id, e.g. node-vite")
	create.Flags().StringArrayVar(&env, "env", nil, "NAME=VALUE, repeatable")
	create.Flags().IntSliceVar(&in.Ports, "port", nil, "port to expose, repeatable (default: the template's)")
	create.Flags().StringVar(&in.ExternalID, "external-id", "", "your own id for this sandbox")
	create.Flags().BoolVar(&noWait, "no-wait", false, "answer at once, while it is still pending")
	cmd.AddCommand(
		create,
		listCmd("List the sandboxes the key can see", projectFilter,
			func(c *client.Client, cmd *cobra.Command, o client.ListOptions) ([]client.Sandbox, error) {
				return collect(c.Sandboxes(cmd.Context(), o))
			},
			[]string{"ID", "PROJECT", "TEMPLATE", "STATUS", "PREVIEW", "CREATED"},
			func(s client.Sandbox) []string {
				return []string{s.ID, s.ProjectID, s.TemplateID, s.Status, s.PreviewURL, when(s.CreatedAt)}
			}),
		showCmd("SANDBOX_ID", "Show a sandbox",
			func(c *client.Client, cmd *cobra.Command, id string) (*client.Sandbox, error) {
				return c.GetSandbox(cmd.Context(), id)
			},
			sandboxFields),
	)
	return cmd
}

func releasesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "releases", Aliases: []string{"release"}, Short: "List and show releases"}
	cmd.AddCommand(
		listCmd("List the releases the key can see", projectFilter,
			func(c *client.Client, cmd *cobra.Command, o client.ListOptions) ([]client.Release, error) {
				return collect(c.Releases(cmd.Context(), o))
			},
			[]string{"ID", "PROJECT", "DIGEST", "SIZE", "SOURCE", "CREATED"},
			func(r client.Release) []string {
				return []string{r.ID, r.ProjectID, shortDigest(r.Digest), humanBytes(r.Size), r.Provenance.Source, when(r.CreatedAt)}
			}),
		showCmd("RELEASE_ID", "Show a release",
			func(c *client.Client, cmd *cobra.Command, id string) (*client.Release, error) {
				return c.GetRelease(cmd.Context(), id)
			},
			func(r *client.Release) [][2]string {
				port := ""
				if r.Build.Port != 0 {
					port = strconv.Itoa(r.Build.Port)
				}
				return [][2]string{{"id", r.ID}, {"project", r.ProjectID}, {"digest", r.Digest}, {"size", humanBytes(r.Size)}, {"template", r.Build.TemplateID}, {"port", port}, {"source", r.Provenance.Source}, {"files", strconv.Itoa(len(r.Provenance.Files))}, {"env", strings.Join(r.EnvNames, " ")}, {"external id", r.ExternalID}, {"created", when(r.CreatedAt)}}
			}),
	)
	return cmd
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func deploymentReadCmds() []*cobra.Command {
	return []*cobra.Command{
		listCmd("List the deployments the key can see", projectFilter,
			func(c *client.Client, cmd *cobra.Command, o client.ListOptions) ([]client.Deployment, error) {
				return collect(c.Deployments(cmd.Context(), o))
			},
			[]string{"ID", "PROJECT", "STATUS", "RELEASE", "URL", "UPDATED"},
			func(d client.Deployment) []string {
				return []string{d.ID, d.ProjectID, d.Status, d.ReleaseID, d.URL, when(d.UpdatedAt)}
			}),
		showCmd("DEPLOYMENT_ID", "Show a deployment",
			func(c *client.Client, cmd *cobra.Command, id string) (*client.Deployment, error) {
				return c.GetDeployment(cmd.Context(), id)
			},
			func(d *client.Deployment) [][2]string {
				return [][2]string{{"id", d.ID}, {"project", d.ProjectID}, {"product", d.DeploymentProduct}, {"status", d.Status}, {"reason", d.StatusReason}, {"url", d.URL}, {"release", d.ReleaseID}, {"serving", d.ServingReleaseID}, {"standby", d.StandbyReleaseID}, {"desired", d.DesiredState}, {"env", strings.Join(d.EnvNames, " ")}, {"external id", d.ExternalID}, {"created", when(d.CreatedAt)}, {"updated", when(d.UpdatedAt)}}
			}),
	}
}

// buildVersion is this binary's version as the Go toolchain recorded it:
// the main module's version, and the VCS revision it was built from.
type buildVersion struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

func readBuildVersion() buildVersion {
	v := buildVersion{Version: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Version, v.Go = info.Main.Version, info.GoVersion
	if v.Version == "" {
		v.Version = "(devel)"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use: "version", Short: "Print the version of this berth binary", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := readBuildVersion()
			return emit(cmd, v, func(w io.Writer) {
				line := "berth " + v.Version
				if v.Revision != "" {
					line += " (" + v.Revision
					if v.Modified {
						line += ", modified"
					}
					line += ")"
				}
				fmt.Fprintf(w, "%s %s\n", line, v.Go)
			})
		},
	}
}

func whoamiCmd() *cobra.Command {
	return &cobra.Command{
		Use: "whoami", Short: "Show the API key the CLI calls with: its role and scope", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			k, err := c.Self(cmd.Context())
			if err != nil {
				return err
			}
			scope := "platform"
			switch {
			case k.ProjectID != "":
				scope = "project " + k.ProjectID
			case k.WorkspaceID != "":
				scope = "workspace " + k.WorkspaceID
			case k.OrgID != "":
				scope = "org " + k.OrgID
			}
			return emitFields(cmd, k, [][2]string{{"key", k.ID}, {"name", k.Name}, {"prefix", k.Prefix}, {"role", k.Role}, {"scope", scope}, {"api", loadConfig().APIURL}})
		},
	}
}
