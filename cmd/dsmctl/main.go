// Command dsmctl manages a Synology DSM from the command line and serves
// the DSM simulator. Run "dsmctl demo" for a tour, "dsmctl --help" for
// the commands.
package main

import (
	"os"

	"github.com/dsmkit/dsm/internal/cli"
)

func main() { os.Exit(cli.Main()) }
