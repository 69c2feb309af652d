package cli

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"
)

// logFlags gives a server role's command --log-format and --log-level,
// which newLogger reads.
func logFlags(cmd *cobra.Command) {
	cmd.Flags().String("log-format", "text", "format of the log on stderr: text or json (one object a line)")
	cmd.Flags().String("log-level", "info", "least severe messages logged: debug, info, warn or error")
}

// newLogger makes the logger that cmd's log flags ask for, writing to its
// stderr.
func newLogger(cmd *cobra.Command) (*slog.Logger, error) {
	format, _ := cmd.Flags().GetString("log-format")
	level, _ := cmd.Flags().GetString("log-level")
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: give debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: give text or json", format)
}
