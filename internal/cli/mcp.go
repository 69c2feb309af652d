package cli

import (
	"errors"
	"fmt"
	"log/slog"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/mcp"
)

func mcpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "mcp",
		Short: "Serve Berth's tools to an AI agent over MCP on stdin and stdout",
		Long: `Serve Berth's MCP tools on stdin and stdout, for an agent that starts it as a
subprocess. The tools call the API with the CLI's key (berth login, or
BERTH_API_URL and BERTH_API_KEY), and may do what that key may do.
The same tools answer over streamable HTTP at /mcp on berth up's API listener.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			// stdout is the protocol's: messages for a person go to stderr.
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			srv := mcp.NewServer(func(*sdk.CallToolRequest) (*client.Client, error) { return c, nil }, log)
			err = srv.Run(cmd.Context(), &sdk.StdioTransport{})
			if err != nil && !errors.Is(err, cmd.Context().Err()) {
				return fmt.Errorf("serving MCP on stdio: %w", err)
			}
			return nil
		},
	}
}
