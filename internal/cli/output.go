package cli

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// outputFormats are the values of -o: text for people, json for scripts.
var outputFormats = []string{"text", "json"}

func addOutputFlag(cmd *cobra.Command, format *string) {
	cmd.Flags().StringVarP(format, "output", "o", "text", "output format: "+strings.Join(outputFormats, " or "))
}

func checkOutput(format string) error {
	if !slices.Contains(outputFormats, format) {
		return usagef("-o %s: unknown output format; use %s", format, strings.Join(outputFormats, " or "))
	}
	return nil
}
