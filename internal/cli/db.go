package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/client"
)

func dbCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Manage data services: Postgres, MySQL and Redis with issued credentials"}
	cmd.AddCommand(dbCreateCmd(), dbListCmd(), dbShowCmd(), dbRevealCmd(), dbLinkCmd(), dbUnlinkCmd(),
		dbRotateCmd(), dbDeleteCmd(), dbShellCmd())
	return cmd
}

func dbCreateCmd() *cobra.Command {
	var in client.CreateDatabase
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a data service; prints its credentials, this once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if in.ProjectID == "" {
				return usagef("give the project with --project ID")
			}
			c, err := apiClient()
			if err != nil {
				return err
			}
			in.Name = args[0]
			db, err := c.CreateDatabase(cmd.Context(), in)
			if err != nil {
				return err
			}
			if err := printJSON(cmd.OutOrStdout(), db); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "The password is shown this once; an admin key can reveal it with `berth db reveal`.")
			if wait <= 0 {
				return nil
			}
			_, err = waitHealthy(cmd.Context(), c, db.ID, wait, newProgress(cmd.ErrOrStderr()))
			return err
		},
	}
	cmd.Flags().StringVar(&in.ProjectID, "project", "", "project id")
	cmd.Flags().StringVar(&in.Engine, "engine", "postgres", "postgres, mysql or redis")
	cmd.Flags().StringVar(&in.ExternalID, "external-id", "", "your own id for this service")
	cmd.Flags().DurationVar(&wait, "wait", 2*time.Minute, "wait this long for the service to turn healthy (0: do not wait)")
	return cmd
}

// waitHealthy polls a data service until it is no longer provisioning.
func waitHealthy(ctx context.Context, c *client.Client, id string, timeout time.Duration, p *progress) (*client.Database, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p.step("provisioning %s: waiting for a login with the issued credentials", id)
	for {
		db, err := c.GetDatabase(ctx, id)
		if err != nil {
			return nil, err
		}
		switch db.Status {
		case "healthy":
			p.step("%s %s is healthy", db.Engine, db.Version)
			p.done("healthy")
			return db, nil
		case "failed", "unhealthy":
			p.done(db.Status)
			return db, fmt.Errorf("the service is %s: %s", db.Status, db.StatusReason)
		}
		select {
		case <-ctx.Done():
			p.done("timed out")
			return db, fmt.Errorf("the service is still %s after %s", db.Status, timeout)
		case <-time.After(250 * time.Millisecond):
			p.tick()
		}
	}
}

func dbListCmd() *cobra.Command {
	var projectID string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List data services",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			dbs, err := c.ListDatabases(cmd.Context(), projectID)
			if err != nil {
				return err
			}
			if done, err := jsonList(cmd, dbs); done || err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tENGINE\tSTATUS\tVERSION\tSIZE\tPROJECT")
			for _, db := range dbs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", db.ID, db.Name, db.Engine, db.Status, db.Version, humanBytes(db.SizeBytes), db.ProjectID)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&projectID, "project", "", "only this project's")
	return cmd
}

func dbShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a data service and its links (never its credentials)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			db, err := c.GetDatabase(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			links, err := c.DatabaseLinks(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), struct {
				*client.Database
				Links []client.DatabaseLink `json:"links"`
			}{db, links})
		},
	}
}

func dbRevealCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "reveal ID",
		Short: "Show a data service's credentials (admin keys)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			cr, err := c.RevealCredentials(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), cr)
		},
	}
}

func dbLinkCmd() *cobra.Command {
	var in client.CreateDatabaseLink
	cmd := &cobra.Command{
		Use:   "link ID",
		Short: "Give a sandbox or deployment the service's variables (it restarts with them)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			l, err := c.LinkDatabase(cmd.Context(), args[0], in)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), l)
		},
	}
	cmd.Flags().StringVar(&in.SandboxID, "sandbox", "", "sandbox id")
	cmd.Flags().StringVar(&in.DeploymentID, "deployment", "", "deployment id")
	return cmd
}

func dbUnlinkCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "unlink ID TARGET_ID",
		Short: "Take the service's variables from a sandbox or deployment (it restarts without them)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			if err := c.UnlinkDatabase(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "unlinked %s from %s\n", args[0], args[1])
			return nil
		},
	}
}

func dbRotateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate ID",
		Short: "Issue new credentials, apply them to the server and restart linked apps (admin keys)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			db, err := c.RotateCredentials(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := printJSON(cmd.OutOrStdout(), db); err != nil {
				return err
			}
			if !db.CredentialsApplied {
				fmt.Fprintln(cmd.ErrOrStderr(), "The server does not enforce the new credentials yet; `berth db show` says when it does.")
			}
			return nil
		},
	}
}

func dbDeleteCmd() *cobra.Command {
	var purge bool
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a data service (its data stays unless --purge)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			if err := c.DeleteDatabase(cmd.Context(), args[0], purge); err != nil {
				return err
			}
			if purge {
				fmt.Fprintf(cmd.OutOrStdout(), "deleted %s and its data\n", args[0])
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "deleted %s; its data volume is kept (a new service of the same engine and name in the project starts on it)\n", args[0])
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&purge, "purge", false, "remove the data too (admin keys)")
	return cmd
}

// dbShellCmd opens the engine's own client on the service's published
// address, with the password in the client's environment.
func dbShellCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "psql ID",
		Aliases: []string{"shell", "mysql", "redis-cli"},
		Short:   "Open psql, mysql or redis-cli on a data service (admin keys; on the machine it runs on)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			db, err := c.GetDatabase(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			cr, err := c.RevealCredentials(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if cr.PublishedURL == "" {
				return fmt.Errorf("the service is not running yet (%s)", db.Status)
			}
			name, argv, env, err := shellCommand(db.Engine, cr)
			if errors.Is(err, errNoClient) {
				// No client here: run the one in the service's own image, in
				// a container on the project's network, when this machine's
				// engine is the service's host.
				var cerr error
				if name, argv, env, cerr = containerShell(cmd.Context(), db, cr); cerr != nil {
					return fmt.Errorf("%w; %w", err, cerr)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%s is not installed here; running it from %s on the project's network\n", engineClient[db.Engine], db.Image)
				err = nil
			}
			if err != nil {
				return err
			}
			sh := exec.CommandContext(cmd.Context(), name, argv...)
			sh.Env = append(os.Environ(), env...)
			sh.Stdin, sh.Stdout, sh.Stderr = os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr()
			return sh.Run()
		},
	}
}

// shellCommand is the local client that opens a shell on cr's published
// address, the password in its environment rather than its arguments.
func shellCommand(engine string, cr *client.DatabaseCredentials) (name string, args, env []string, err error) {
	u, err := url.Parse(cr.PublishedURL)
	if err != nil {
		return "", nil, nil, fmt.Errorf("reading the published URL: %w", err)
	}
	find := func(names ...string) string {
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				return p
			}
		}
		return ""
	}
	var candidates []string
	switch engine {
	case "postgres":
		candidates = []string{"psql"}
		args = []string{"-h", u.Hostname(), "-p", u.Port(), "-U", cr.Username, "-d", cr.Database}
		env = []string{"PGPASSWORD=" + cr.Password}
	case "mysql":
		candidates = []string{"mariadb", "mysql"}
		args = []string{"--protocol=TCP", "-h", u.Hostname(), "-P", u.Port(), "-u", cr.Username, "-D", cr.Database}
		env = []string{"MYSQL_PWD=" + cr.Password}
	case "redis":
		candidates = []string{"redis-cli"}
		args = []string{"--no-auth-warning", "-h", u.Hostname(), "-p", u.Port(), "--user", cr.Username}
		env = []string{"REDISCLI_AUTH=" + cr.Password}
	default:
		return "", nil, nil, fmt.Errorf("no shell for engine %q", engine)
	}
	if name = find(candidates...); name == "" {
		return "", nil, nil, fmt.Errorf("%w: %s is not installed here (e.g. apt-get install %s), or connect any client to %s with the credentials of `berth db reveal`",
			errNoClient, strings.Join(candidates, " or "), map[string]string{"postgres": "postgresql-client", "mysql": "mariadb-client", "redis": "redis-tools"}[engine], u.Redacted())
	}
	return name, args, env, nil
}

// errNoClient is the engine's client missing on this machine.
var errNoClient = errors.New("no local client")

// engineClient is the client each engine's image carries.
var engineClient = map[string]string{"postgres": "psql", "mysql": "mariadb", "redis": "redis-cli"}

// containerShell is `docker run` of the client in the service's own image,
// on the project's network, reaching the service by its name: for a
// machine without the client whose Docker engine is the service's host
// (the `berth up` machine, or a Docker Deploy host the operator is logged
// in to). The password travels in the environment (`-e NAME` copies it
// from ours), never in arguments. Elsewhere it fails, saying what to run
// on the host.
func containerShell(ctx context.Context, db *client.Database, cr *client.DatabaseCredentials) (name string, args, env []string, err error) {
	network := "berth-" + strings.ReplaceAll(db.ProjectID, "_", "-")
	cmd, ok := engineClient[db.Engine]
	if !ok {
		return "", nil, nil, fmt.Errorf("no shell for engine %q", db.Engine)
	}
	port := strconv.Itoa(cr.Port)
	var clientArgs []string
	switch db.Engine {
	case "postgres":
		clientArgs = []string{"-h", cr.Host, "-p", port, "-U", cr.Username, "-d", cr.Database}
		env = []string{"PGPASSWORD=" + cr.Password}
	case "mysql":
		clientArgs = []string{"--protocol=TCP", "-h", cr.Host, "-P", port, "-u", cr.Username, "-D", cr.Database}
		env = []string{"MYSQL_PWD=" + cr.Password}
	case "redis":
		clientArgs = []string{"--no-auth-warning", "-h", cr.Host, "-p", port, "--user", cr.Username}
		env = []string{"REDISCLI_AUTH=" + cr.Password}
	}
	secretVar, _, _ := strings.Cut(env[0], "=")
	manual := fmt.Sprintf("on the service's host run: docker run --rm -it --network %s -e %s %s %s %s (with %s set to the password of `berth db reveal %s`)",
		network, secretVar, db.Image, cmd, strings.Join(clientArgs, " "), secretVar, db.ID)
	docker, err := exec.LookPath("docker")
	if err != nil {
		return "", nil, nil, fmt.Errorf("docker is not installed here either: %s", manual)
	}
	if out, err := exec.CommandContext(ctx, docker, "network", "inspect", "--format", "{{.Name}}", network).CombinedOutput(); err != nil {
		return "", nil, nil, fmt.Errorf("this machine's Docker engine is not the service's host (no network %s: %s): %s", network, strings.TrimSpace(string(out)), manual)
	}
	tty := "-i"
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		tty = "-it"
	}
	args = []string{"run", "--rm", tty, "--network", network, "-e", secretVar, "--entrypoint", cmd, db.Image}
	if db.Engine == "mysql" {
		// MariaDB's images carry mariadb, MySQL's mysql.
		args = []string{"run", "--rm", tty, "--network", network, "-e", secretVar, "--entrypoint", "sh", db.Image,
			"-c", `exec "$(command -v mariadb || command -v mysql)" "$@"`, "mysql"}
	}
	args = append(args, clientArgs...)
	return docker, args, env, nil
}
