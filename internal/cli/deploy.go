package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/artifact"
)

func deployCmd() *cobra.Command {
	var projectID, templateID string
	var port int
	var dockerDeploy, detach bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "deploy [DIR]",
		Short: "Publish a directory as a release and deploy it; prints the URL (-o json: the deployment)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if projectID == "" {
				return usagef("give the project with --project ID")
			}
			c, err := apiClient()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			p := newProgress(cmd.ErrOrStderr())
			p.step("packing %s", dir)
			tmp, err := os.CreateTemp("", "berth-deploy-*.tar")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			defer tmp.Close()
			info, err := artifact.FromDir(dir, tmp, artifact.Options{Limits: artifact.DefaultLimits, Exclude: artifact.DefaultExclude})
			if err != nil {
				return err
			}
			if _, err := tmp.Seek(0, io.SeekStart); err != nil {
				return err
			}
			p.step("uploading %d files (%s)", len(info.Files), humanBytes(info.Size))
			rel, err := c.CreateRelease(ctx, tmp, client.ReleaseOptions{ProjectID: projectID, TemplateID: templateID, Port: port})
			if err != nil {
				return err
			}
			p.step("release %s (%s)", rel.ID, rel.Digest[:19])
			product := "standard"
			if dockerDeploy {
				product = "docker_deploy"
			}
			d, err := c.Deploy(ctx, client.CreateDeployment{ProjectID: projectID, ReleaseID: rel.ID, DeploymentProduct: product})
			if err != nil {
				return err
			}
			p.step("deployment %s", d.ID)
			if d.Status == "pending" && d.StatusReason != "" {
				p.step("%s", d.StatusReason) // waiting for the workspace's Docker Deploy host
			}
			if !detach {
				if d, err = follow(ctx, c, d, p); err != nil {
					return err
				}
			}
			return emitDeployment(cmd, d)
		},
	}
	cmd.Flags().StringVar(&projectID, "project", "", "project id")
	cmd.Flags().StringVar(&templateID, "template", "", "template id (default: detected from the files)")
	cmd.Flags().IntVar(&port, "port", 0, "port the app listens on (default: the template's)")
	cmd.Flags().BoolVar(&dockerDeploy, "docker-deploy", false, "run it on the workspace's Docker Deploy host (waits for the host when it is not active)")
	cmd.Flags().DurationVar(&timeout, "timeout", 15*time.Minute, "how long to wait for the deployment")
	cmd.Flags().BoolVar(&detach, "detach", false, "return once the deployment is accepted, without waiting for it to serve")
	return cmd
}

func rollbackCmd() *cobra.Command {
	var releaseID string
	cmd := &cobra.Command{
		Use:   "rollback DEPLOYMENT_ID",
		Short: "Serve an earlier release again (the previous one by default), without a rebuild",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			d, err := c.Rollback(cmd.Context(), args[0], releaseID)
			if err != nil {
				return err
			}
			if d, err = follow(cmd.Context(), c, d, newProgress(cmd.ErrOrStderr())); err != nil {
				return err
			}
			return emitDeployment(cmd, d)
		},
	}
	cmd.Flags().StringVar(&releaseID, "release", "", "release to serve (default: the previous one)")
	return cmd
}

// emitDeployment prints a deployment's URL, which scripts read from
// stdout (the id is among the steps on stderr), or the deployment with
// -o json.
func emitDeployment(cmd *cobra.Command, d *client.Deployment) error {
	return emit(cmd, d, func(w io.Writer) { fmt.Fprintln(w, d.URL) })
}

// follow shows a deployment's events until it is ready or failed.
func follow(ctx context.Context, c *client.Client, d *client.Deployment, p *progress) (*client.Deployment, error) {
	var after int64
	if evs, err := c.Events(ctx, d.ID, 0); err == nil && len(evs) > 0 {
		after = evs[len(evs)-1].Seq - 1 // show the step the deployment is at now
	}
	for {
		evs, err := c.Events(ctx, d.ID, after)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			p.step("%s", e.Message)
			after = e.Seq
		}
		if d, err = c.GetDeployment(ctx, d.ID); err != nil {
			return nil, err
		}
		switch {
		case d.Ready && d.ServingReleaseID == d.ReleaseID:
			p.done("ready")
			return d, nil
		case d.Status == "failed":
			p.done("failed")
			return nil, fmt.Errorf("deployment failed: %s", d.StatusReason)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for deployment %s: %w", d.ID, ctx.Err())
		case <-time.After(150 * time.Millisecond):
		}
		p.tick()
	}
}

// progress shows steps: one line redrawn with a spinner on a terminal,
// plain lines otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time
	line  string
	n     int
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, tty: tty, start: time.Now()}
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *progress) step(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if !p.tty {
		fmt.Fprintf(p.w, "%s\n", line)
		return
	}
	if p.line != "" {
		fmt.Fprintf(p.w, "\r\033[K✓ %s\n", p.line)
	}
	p.line = line
	p.tick()
}

func (p *progress) tick() {
	if !p.tty || p.line == "" {
		return
	}
	p.n++
	fmt.Fprintf(p.w, "\r\033[K%s %s (%.1fs)", spinner[p.n%len(spinner)], p.line, time.Since(p.start).Seconds())
}

func (p *progress) done(status string) {
	if p.tty && p.line != "" {
		mark := "✓"
		if status != "ready" {
			mark = "✗"
		}
		fmt.Fprintf(p.w, "\r\033[K%s %s\n", mark, p.line)
	}
	fmt.Fprintf(p.w, "%s in %.1fs\n", status, time.Since(p.start).Seconds())
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
