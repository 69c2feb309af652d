package cli

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/client"
)

// The exit codes scripts can rely on; docs/guide.md lists them.
const (
	exitOK       = 0
	exitFailure  = 1 // anything else
	exitUsage    = 2 // a wrong command line
	exitNotFound = 3 // the API answered 404
	exitAuth     = 4 // not logged in, or the API answered 401 or 403
	exitRefused  = 5 // the API refused the input: 400, 409 or 422
)

// outputFlag is the client commands' -o/--output: table (or text), the
// default, or json.
const outputFlag = "output"

// usageError is a command line that cannot run as written.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// errNotLoggedIn is a client command without an API URL and key.
var errNotLoggedIn = errors.New("not logged in: run `berth up`, or `berth login --api URL --key KEY`")

// exitCode is the exit code err stands for, and the line that says it on
// stderr: a problem from the API as "error: <detail> (<code>)".
func exitCode(err error) (int, string) {
	if err == nil {
		return exitOK, ""
	}
	var p *client.Problem
	if errors.As(err, &p) {
		msg := fmt.Sprintf("error: %s (%s)", p.Detail, p.Code)
		switch p.Status {
		case http.StatusNotFound:
			return exitNotFound, msg
		case http.StatusUnauthorized, http.StatusForbidden:
			return exitAuth, msg
		case http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity:
			return exitRefused, msg
		}
		return exitFailure, msg
	}
	msg := "error: " + err.Error()
	var u usageError
	switch {
	case errors.As(err, &u),
		// cobra reports an unknown command with an error of its own kind.
		strings.HasPrefix(err.Error(), "unknown command "):
		return exitUsage, msg
	case errors.Is(err, errNotLoggedIn):
		return exitAuth, msg
	}
	return exitFailure, msg
}

// markUsage makes cobra's flag and argument errors in the tree under cmd
// usage errors.
func markUsage(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, c := range cmd.Commands() {
		markUsage(c)
	}
}

// addOutputFlag gives cmd and the commands under it -o/--output.
func addOutputFlag(cmd *cobra.Command) {
	cmd.PersistentFlags().StringP(outputFlag, "o", "table", "output format: table (text) or json")
}

// jsonOutput says whether cmd was asked for JSON; an unknown format is a
// usage error.
func jsonOutput(cmd *cobra.Command) (bool, error) {
	f := cmd.Flags().Lookup(outputFlag)
	if f == nil {
		return false, nil
	}
	switch v := f.Value.String(); v {
	case "json":
		return true, nil
	case "table", "text", "":
		return false, nil
	default:
		return false, usagef("unknown output format %q: use table or json", v)
	}
}

// emit writes v, what the API returned, as JSON with -o json, else as
// text writes it.
func emit(cmd *cobra.Command, v any, text func(w io.Writer)) error {
	asJSON, err := jsonOutput(cmd)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(cmd.OutOrStdout(), v)
	}
	text(cmd.OutOrStdout())
	return nil
}

// emitTable writes rows under a header as aligned columns, or items as a
// JSON array with -o json.
func emitTable[T any](cmd *cobra.Command, items []T, header []string, row func(T) []string) error {
	if items == nil {
		items = []T{} // an empty list is [] in JSON, not null
	}
	return emit(cmd, items, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, it := range items {
			fmt.Fprintln(tw, strings.Join(row(it), "\t"))
		}
		tw.Flush()
	})
}

// emitFields writes v as "name: value" lines, or as JSON with -o json.
func emitFields(cmd *cobra.Command, v any, fields [][2]string) error {
	return emit(cmd, v, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
		for _, f := range fields {
			if f[1] != "" {
				fmt.Fprintf(tw, "%s:\t%s\n", f[0], f[1])
			}
		}
		tw.Flush()
	})
}

// collect gathers every item of a list iterator.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for it, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// jsonList prints items as a JSON array when -o json asks for it, and
// says whether it did: the lists that draw their own tables start so.
func jsonList[T any](cmd *cobra.Command, items []T) (bool, error) {
	asJSON, err := jsonOutput(cmd)
	if err != nil || !asJSON {
		return false, err
	}
	if items == nil {
		items = []T{}
	}
	return true, printJSON(cmd.OutOrStdout(), items)
}
