// Package cli is the berth command line: the server roles and the client
// verbs over the public API.
package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/client"
)

// Main runs the berth command with args and returns the exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, os.Stdout, os.Stderr)
}

// run runs the command tree with args and turns its error into the exit
// code and the line on stderr that docs/guide.md documents.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	code, msg := exitCode(root.ExecuteContext(ctx))
	if msg != "" {
		fmt.Fprintln(stderr, msg)
	}
	return code
}

// serverRoles are the commands that run a part of Berth rather than call
// its API.
var serverRoles = map[string]bool{"up": true, "agent": true, "edge": true, "portal": true, "mcp": true, "s3-server": true, "images": true}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "berth",
		Short:         "Run the apps your product generates: sandboxes, previews, releases, deployments",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddGroup(
		&cobra.Group{ID: "client", Title: "Client commands (they call the API; -o json prints what it returned):"},
		&cobra.Group{ID: "server", Title: "Server roles:"},
	)
	root.AddCommand(upCmd(), imagesCmd(), loginCmd(), versionCmd(), whoamiCmd(), orgsCmd(), workspacesCmd(), projectsCmd(), sandboxesCmd(), releasesCmd(), deployCmd(), rollbackCmd())
	root.AddCommand(extraCommands()...)
	root.AddCommand(agentCmd())
	for _, c := range root.Commands() {
		if serverRoles[c.Name()] {
			c.GroupID = "server"
			continue
		}
		c.GroupID = "client"
		if c.Name() != "login" {
			addOutputFlag(c)
		}
	}
	markUsage(root)
	return root
}

// Config is what the CLI remembers between runs.
type Config struct {
	APIURL string `json:"api_url"`
	Key    string `json:"key"`
}

// configPath is $BERTH_CONFIG, else berth/config.json in the user's
// config directory.
func configPath() string {
	if p := os.Getenv("BERTH_CONFIG"); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = "."
	}
	return filepath.Join(dir, "berth", "config.json")
}

func loadConfig() Config {
	var c Config
	if b, err := os.ReadFile(configPath()); err == nil {
		json.Unmarshal(b, &c)
	}
	if v := os.Getenv("BERTH_API_URL"); v != "" {
		c.APIURL = v
	}
	if v := os.Getenv("BERTH_API_KEY"); v != "" {
		c.Key = v
	}
	return c
}

func saveConfig(c Config) error {
	p := configPath()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("making config dir: %w", err)
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := os.WriteFile(p, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

func apiClient() (*client.Client, error) {
	c := loadConfig()
	if c.APIURL == "" || c.Key == "" {
		return nil, errNotLoggedIn
	}
	return client.New(c.APIURL, c.Key), nil
}

func loginCmd() *cobra.Command {
	var c Config
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Save the API URL and key the CLI uses",
		RunE: func(cmd *cobra.Command, args []string) error {
			if c.APIURL == "" || c.Key == "" {
				return usagef("give both --api and --key")
			}
			c.APIURL = strings.TrimRight(c.APIURL, "/")
			if err := saveConfig(c); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved to %s\n", configPath())
			return nil
		},
	}
	cmd.Flags().StringVar(&c.APIURL, "api", "", "API URL, e.g. http://127.0.0.1:7700")
	cmd.Flags().StringVar(&c.Key, "key", "", "API key")
	return cmd
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func orgsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "orgs", Short: "Manage orgs"}
	var in client.CreateOrg
	create := &cobra.Command{
		Use: "create NAME", Short: "Create an org", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			in.Name = args[0]
			o, err := c.CreateOrg(cmd.Context(), in)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), o)
		},
	}
	create.Flags().StringVar(&in.Slug, "slug", "", "slug used in URLs")
	create.Flags().StringVar(&in.ExternalID, "external-id", "", "your own id for this org")
	cmd.AddCommand(create)
	cmd.AddCommand(orgReadCmds()...)
	return cmd
}

func workspacesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "workspaces", Short: "Manage workspaces"}
	var in client.CreateWorkspace
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a workspace", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			in.Name = args[0]
			w, err := c.CreateWorkspace(cmd.Context(), in)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), w)
		},
	}
	create.Flags().StringVar(&in.OrgID, "org", "", "org id")
	create.Flags().StringVar(&in.Slug, "slug", "", "slug")
	create.Flags().StringVar(&in.ExternalID, "external-id", "", "your own id for this workspace")
	cmd.AddCommand(create)
	cmd.AddCommand(workspaceReadCmds()...)
	return cmd
}

func projectsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "projects", Short: "Manage projects"}
	var in client.CreateProject
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a project", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			in.Name = args[0]
			p, err := c.CreateProject(cmd.Context(), in)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), p)
		},
	}
	create.Flags().StringVar(&in.WorkspaceID, "workspace", "", "workspace id")
	create.Flags().StringVar(&in.Slug, "slug", "", "slug used in the app's URL")
	create.Flags().StringVar(&in.ExternalID, "external-id", "", "your own id for this project")
	cmd.AddCommand(create)
	cmd.AddCommand(projectReadCmds()...)
	return cmd
}
