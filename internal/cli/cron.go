package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/client"
)

func cronCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cron", Short: "Manage cron jobs: scheduled HTTP requests and commands against a deployment"}
	cmd.AddCommand(cronCreateCmd(), cronListCmd(), cronRunsCmd(), cronTriggerCmd(), cronPauseCmd(true), cronPauseCmd(false), cronDeleteCmd())
	return cmd
}

func cronCreateCmd() *cobra.Command {
	var in client.CreateCronJob
	var req client.CronHTTP
	var headers []string
	var shell string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "create [NAME] [-- COMMAND [ARG…]]",
		Short: "Create a cron job (--path for an HTTP request; a command after --, run without a shell)",
		Example: `  berth cron create cleanup --project prj_… --deployment dep_… --schedule "*/5 * * * *" --path /tasks/cleanup --method POST
  berth cron create report --project prj_… --deployment dep_… --schedule "0 9 * * 1-5" --timezone Europe/Berlin -- node report.js
  berth cron create vacuum --project prj_… --deployment dep_… --schedule "0 3 * * *" --shell 'psql "$DATABASE_URL" -c vacuum'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if in.ProjectID == "" {
				return usagef("give the project with --project ID")
			}
			if in.DeploymentID == "" {
				return usagef("give the deployment the job targets with --deployment ID")
			}
			var argv []string
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				args, argv = args[:dash], args[dash:]
			}
			if len(args) > 1 {
				return usagef("one NAME at most, then the command after --: got %q", args)
			}
			if len(args) == 1 {
				in.Name = args[0]
			}
			if shell != "" {
				if len(argv) > 0 {
					return usagef("give a command after -- or --shell, not both")
				}
				argv = []string{"sh", "-c", shell}
			}
			for _, h := range headers {
				k, v, ok := strings.Cut(h, ":")
				if !ok {
					return usagef("--header %q: want Name: value", h)
				}
				if req.Headers == nil {
					req.Headers = map[string]string{}
				}
				req.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
			switch {
			case len(argv) > 0 && (req.Path != "" || len(req.Headers) > 0 || req.Body != ""):
				return usagef("give either --path (an HTTP request) or a command, not both")
			case len(argv) > 0:
				in.Target.Command = argv
			case req.Path == "":
				return usagef("give what the job runs: --path /… for an HTTP request, or a command after --")
			default:
				in.Target.HTTP = &req
			}
			in.TimeoutS = int(timeout / time.Second)
			c, err := apiClient()
			if err != nil {
				return err
			}
			j, err := c.CreateCronJob(cmd.Context(), in)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), j)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.ProjectID, "project", "", "project id")
	f.StringVar(&in.DeploymentID, "deployment", "", "the deployment the job targets")
	f.StringVar(&in.Schedule, "schedule", "", `five fields: minute hour day-of-month month day-of-week, as in "*/5 * * * *"`)
	f.StringVar(&in.Timezone, "timezone", "UTC", "IANA time zone the schedule is read in")
	f.StringVar(&req.Path, "path", "", "HTTP target: the path to request on the deployment's URL")
	f.StringVar(&req.Method, "method", "GET", "HTTP target: GET or POST")
	f.StringArrayVar(&headers, "header", nil, `HTTP target: a header "Name: value" (repeatable)`)
	f.StringVar(&req.Body, "body", "", "HTTP target: the POST body")
	f.StringVar(&shell, "shell", "", `command target: a shell line, run as ["sh", "-c", LINE]`)
	f.StringVar(&in.Concurrency, "concurrency", "forbid", "forbid (skip a run while one runs) or allow")
	f.DurationVar(&timeout, "timeout", time.Minute, "how long one run may take")
	return cmd
}

func cronListCmd() *cobra.Command {
	var projectID string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List cron jobs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			jobs, err := c.ListCronJobs(cmd.Context(), projectID)
			if err != nil {
				return err
			}
			if done, err := jsonList(cmd, jobs); done || err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSCHEDULE\tZONE\tTARGET\tNEXT RUN\tDEPLOYMENT")
			for _, j := range jobs {
				next := j.Status
				if j.NextRunAt != nil {
					next = j.NextRunAt.Format(time.RFC3339)
				}
				target := strings.Join(j.Target.Command, " ")
				if h := j.Target.HTTP; h != nil {
					target = h.Method + " " + h.Path
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Name, j.Schedule, j.Timezone, target, next, j.DeploymentID)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&projectID, "project", "", "only this project's")
	return cmd
}

func cronRunsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "runs JOB_ID",
		Short: "List a cron job's runs, oldest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			runs, err := c.CronRuns(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if done, err := jsonList(cmd, runs); done || err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTRIGGER\tSCHEDULED\tSTATUS\tRESULT\tDURATION\tREASON")
			for _, r := range runs {
				result, took := "", ""
				switch {
				case r.HTTPStatus != 0:
					result = fmt.Sprintf("HTTP %d", r.HTTPStatus)
				case r.ExitCode != nil:
					result = fmt.Sprintf("exit %d", *r.ExitCode)
				}
				if r.DurationMS != nil {
					took = (time.Duration(*r.DurationMS) * time.Millisecond).String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Trigger, r.ScheduledAt.Format(time.RFC3339), r.Status, result, took, r.Reason)
			}
			return tw.Flush()
		},
	}
}

func cronTriggerCmd() *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:     "trigger JOB_ID",
		Aliases: []string{"run"},
		Short:   "Run a cron job now and print the run once it ends",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			r, err := c.TriggerCronJob(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			deadline := time.Now().Add(wait)
			for (r.Status == "scheduled" || r.Status == "running") && time.Now().Before(deadline) {
				time.Sleep(250 * time.Millisecond)
				if r, err = c.CronRun(cmd.Context(), args[0], r.ID); err != nil {
					return err
				}
			}
			if err := printJSON(cmd.OutOrStdout(), r); err != nil {
				return err
			}
			if r.Status != "succeeded" && r.Status != "scheduled" && r.Status != "running" {
				return fmt.Errorf("the run %s: %s", r.Status, r.Reason)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 2*time.Minute, "wait this long for the run to end (0: do not wait)")
	return cmd
}

func cronPauseCmd(pause bool) *cobra.Command {
	use, short := "resume JOB_ID", "Resume a paused cron job"
	if pause {
		use, short = "pause JOB_ID", "Pause a cron job (no scheduled runs until resumed)"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			enabled := !pause
			j, err := c.UpdateCronJob(cmd.Context(), args[0], client.UpdateCronJob{Enabled: &enabled})
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), j)
		},
	}
}

func cronDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete JOB_ID",
		Short: "Delete a cron job and its run history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			return c.DeleteCronJob(cmd.Context(), args[0])
		},
	}
}
