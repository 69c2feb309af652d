package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/client"
)

func bucketsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "buckets", Short: "Manage S3 buckets: per-bucket keys and presigned URLs"}
	cmd.AddCommand(bucketsCreateCmd(), bucketsListCmd(), bucketsPresignCmd(), bucketsDeleteCmd())
	return cmd
}

func bucketsCreateCmd() *cobra.Command {
	var in client.CreateBucket
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a bucket; prints its keys, this once",
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
			b, err := c.CreateBucket(cmd.Context(), in)
			if err != nil {
				return err
			}
			if err := printJSON(cmd.OutOrStdout(), b); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "The secret key is shown this once; linked apps get it in AWS_SECRET_ACCESS_KEY.")
			return nil
		},
	}
	cmd.Flags().StringVar(&in.ProjectID, "project", "", "project id")
	cmd.Flags().StringVar(&in.ExternalID, "external-id", "", "your own id for this bucket")
	return cmd
}

func bucketsListCmd() *cobra.Command {
	var projectID, externalID string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List buckets with what they hold",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			list, err := c.ListBuckets(cmd.Context(), projectID, externalID)
			if err != nil {
				return err
			}
			if done, err := jsonList(cmd, list); done || err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tS3 NAME\tOBJECTS\tSIZE\tKEYS\tPROJECT")
			for _, b := range list {
				objects, size := "?", "?"
				if b.Objects != nil {
					objects = fmt.Sprint(*b.Objects)
				}
				if b.Bytes != nil {
					size = humanBytes(*b.Bytes)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, b.Name, b.S3Name, objects, size, b.KeyScope, b.ProjectID)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&projectID, "project", "", "only this project's")
	cmd.Flags().StringVar(&externalID, "external-id", "", "only the one with this external id")
	return cmd
}

func bucketsPresignCmd() *cobra.Command {
	var in client.PresignBucket
	var expires time.Duration
	cmd := &cobra.Command{
		Use:   "presign BUCKET_ID KEY",
		Short: "Print a presigned URL to GET (the default) or PUT an object",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			in.Key, in.ExpiresIn = args[1], int(expires/time.Second)
			p, err := c.PresignBucket(cmd.Context(), args[0], in)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), p.URL)
			for k, v := range p.Headers {
				fmt.Fprintf(cmd.ErrOrStderr(), "send the header %s: %s\n", k, v)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "valid until %s\n", p.ExpiresAt.Local().Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().StringVar(&in.Method, "method", "GET", "GET or PUT")
	cmd.Flags().DurationVar(&expires, "expires", 15*time.Minute, "how long the URL works (1s to 168h)")
	cmd.Flags().StringVar(&in.ContentType, "content-type", "", "for PUT: the Content-Type the upload must send")
	return cmd
}

func bucketsDeleteCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "delete BUCKET_ID",
		Short: "Delete a bucket (one that holds objects only with --force, which deletes them)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			if err := c.DeleteBucket(cmd.Context(), args[0], force); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "delete the bucket's objects too")
	return cmd
}
