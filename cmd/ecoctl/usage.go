package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

const rootExample = `  export ECOREGISTRY_SERVER=registry.example:50051 ECOREGISTRY_ACTOR=hubei-office.li
  ecoctl account open --id HB001 --holder-name "Hubei Steel Co." --holder-kind enterprise \
      --credit-code 91420100MA4K2XXX1X --jurisdiction 420000
  ecoctl transfer --right HB2025A --id T-0001 --from HB001 --to HBX.clearing \
      --quantity 500 --price 58.25 --reference TRADE-88321
  ecoctl --json right show HB2025A | jq .right.holdings
`

// shortRootUsage follows an error before any command was recognised.
func shortRootUsage() string {
	var b strings.Builder
	b.WriteString("usage: ecoctl [global flags] <command> [flags] [arguments]\n\ncommands:\n")
	writeCommandList(&b)
	b.WriteString("\nRun 'ecoctl --help' for global flags and examples, 'ecoctl <command> -h' for a command's flags.\n")
	return b.String()
}

func writeCommandList(b *strings.Builder) {
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.path, c.summary)
	}
	fmt.Fprintf(tw, "  %s\t%s\n", "help [command]", "show help for ecoctl or a command")
	tw.Flush()
}

// rootUsage is "ecoctl --help".
func rootUsage(root *flagSet) string {
	var b strings.Builder
	b.WriteString(`ecoctl is the operator and regulator command line of ecoregistry, the
registry of carbon emission allowances, water-use rights, pollutant-discharge
rights and carbon-sink rights.

usage: ecoctl [global flags] <command> [flags] [arguments]

commands:
`)
	writeCommandList(&b)
	b.WriteString("\nglobal flags (accepted before or after the command):\n")
	root.printFlags(&b, true)
	b.WriteString("\nexamples:\n" + rootExample)
	b.WriteString(`
Exit status is 0 on success, 1 when the registry refuses the command or cannot
be reached (the message names the registry's check code, e.g. E5001), and 2
when the command line is wrong, in which case nothing was sent.

Run 'ecoctl <command> -h' for a command's flags.
`)
	return b.String()
}

// groupUsage is "ecoctl account --help".
func groupUsage(group string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ecoctl %s: %s\n\ncommands:\n", group, groups[group])
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, c := range commands {
		if strings.HasPrefix(c.path, group+" ") {
			fmt.Fprintf(tw, "  %s\t%s\n", c.path, c.summary)
		}
	}
	tw.Flush()
	fmt.Fprintf(&b, "\nRun 'ecoctl %s <command> -h' for a command's flags.\n", group)
	return b.String()
}

// synopsis is the one-line usage of a command.
func synopsis(c *command) string {
	s := "ecoctl " + c.path + " [flags]"
	for _, a := range c.args {
		s += " " + a
	}
	return s
}

// commandUsage is "ecoctl <command> -h".
func commandUsage(c *command, fs *flagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s\n\n%s\n", synopsis(c), c.about)
	b.WriteString("\nflags:\n")
	fs.printFlags(&b, false)
	b.WriteString("\nglobal flags:\n")
	fs.printFlags(&b, true)
	fmt.Fprintf(&b, "\nexample:\n  %s\n", c.example)
	return b.String()
}
