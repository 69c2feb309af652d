// Command berth is every Berth role in one binary: the all-in-one `berth
// up`, the control plane, the agent, the edge and the CLI.
package main

import (
	"os"

	"github.com/berth-dev/berth/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
