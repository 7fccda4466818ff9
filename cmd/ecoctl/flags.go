package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// flagSet is a flag.FlagSet that also knows which of its flags are required
// and which are the global ones, so that help and the missing-flag check are
// derived from the same declaration.
type flagSet struct {
	*flag.FlagSet
	required map[string]bool
	global   map[string]bool
	// sectionOf groups flags under headings in help, in the order titles
	// lists them; see section.
	sectionOf map[string]string
	titles    []string
	current   string
}

func newFlagSet(name string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Errors and help are printed by run, in one format, to the right stream.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, required: map[string]bool{}, global: map[string]bool{}, sectionOf: map[string]string{}, titles: []string{""}}
}

// section starts a new heading in help: flags declared after it, until the
// next section, are listed under title.
func (fs *flagSet) section(title string) {
	fs.assignSection()
	fs.current = title
	fs.titles = append(fs.titles, title)
}

// assignSection puts the flags declared since the last section under it.
// The flag package does not keep declaration order, so this is how the
// flags of one section are told apart from those of the next.
func (fs *flagSet) assignSection() {
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := fs.sectionOf[f.Name]; !ok {
			fs.sectionOf[f.Name] = fs.current
		}
	})
}

// require marks flags that must be given.
func (fs *flagSet) require(names ...string) {
	for _, n := range names {
		if fs.Lookup(n) == nil {
			panic("ecoctl: require of undeclared flag " + n)
		}
		fs.required[n] = true
	}
}

// given reports whether a flag was set on the command line, which for
// numbers is the only way to tell "--buffer-bp 0" from no --buffer-bp.
func (fs *flagSet) given(name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}

// missing returns the required flags that were not given, sorted as help
// lists them.
func (fs *flagSet) missing() []string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(fs.required)) {
		if !fs.given(n) {
			out = append(out, "--"+n)
		}
	}
	return out
}

// parseInterleaved parses flags and positional arguments in any order
// ("account show HB001 --json" as well as "account show --json HB001"); the
// standard flag package stops at the first positional argument. Everything
// after "--" is positional.
func (fs *flagSet) parseInterleaved(args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// printFlags writes help for the flags of fs that are global (or not), one
// "--name VALUE" line and an indented description each, like the flag
// package's PrintDefaults but with the double dash operators type.
func (fs *flagSet) printFlags(w io.Writer, global bool) {
	fs.assignSection()
	if global {
		fs.printSection(w, func(f *flag.Flag) bool { return fs.global[f.Name] })
		return
	}
	for i, title := range fs.titles {
		if title != "" {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "  %s:\n", title)
		}
		fs.printSection(w, func(f *flag.Flag) bool { return !fs.global[f.Name] && fs.sectionOf[f.Name] == title })
	}
}

func (fs *flagSet) printSection(w io.Writer, include func(*flag.Flag) bool) {
	fs.VisitAll(func(f *flag.Flag) {
		if !include(f) {
			return
		}
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			// Upper-case placeholders tell the value apart from the prose.
			line += " " + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
		}
		fmt.Fprintln(w, line)
		var notes []string
		if fs.required[f.Name] {
			notes = append(notes, "required")
		}
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			notes = append(notes, "default "+f.DefValue)
		}
		if len(notes) > 0 {
			usage += " (" + strings.Join(notes, "; ") + ")"
		}
		for _, l := range strings.Split(usage, "\n") {
			fmt.Fprintln(w, "        "+l)
		}
	})
}

// enum declares a flag that takes one of a closed set of names. The names
// are listed after the first line of usage; further lines may explain them.
func enum[E ~int32](fs *flagSet, p *E, name string, cs choices[E], usage string) {
	first, more, _ := strings.Cut(usage, "\n")
	usage = first + ": " + strings.Join(cs.names(), ", ")
	if more != "" {
		usage += "\n" + more
	}
	fs.Var(&enumFlag[E]{choices: cs, value: p}, name, usage)
}

// globals are the flags every command accepts, before or after its name.
type globals struct {
	server  string
	actor   string
	json    bool
	timeout time.Duration
	// cert, key and ca are PEM files for mutual TLS: the client's
	// certificate and key, and the CA that issued the server's certificate.
	cert, key, ca string
}

// register declares the global flags on fs with the current values as
// defaults, so that declaring them again on a command's flag set after the
// root flags were parsed keeps what was given before the command. A
// command's own flag of the same name wins on its flag set: "market stats
// --key" is the market's key, and the TLS key then goes before the command.
func (g *globals) register(fs *flagSet) {
	str := func(p *string, name, usage string) {
		if fs.Lookup(name) == nil {
			fs.StringVar(p, name, *p, usage)
			fs.global[name] = true
		}
	}
	str(&g.server, "server", "the registry's gRPC `address` (host:port); env ECOREGISTRY_SERVER")
	str(&g.actor, "actor", "`who` is acting, recorded on every event the command writes (sent as\ngRPC metadata x-ecoregistry-actor) when the registry runs without TLS;\nenv ECOREGISTRY_ACTOR, else the OS user name")
	fs.BoolVar(&g.json, "json", g.json, "print the response, or the error, as one JSON object on stdout (protojson)")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "give up on the call after this `duration`; 0 waits forever")
	str(&g.cert, "cert", "PEM client certificate `file` naming who you are, for a registry that serves\nmutual TLS; with --key and --ca; env ECOREGISTRY_CERT")
	str(&g.key, "key", "PEM private key `file` of --cert (before the command for market stats and\nmarket daily, whose --key is their own); env ECOREGISTRY_KEY")
	str(&g.ca, "ca", "PEM `file` of the CA that issued the registry's certificate: connect over\nTLS 1.3; env ECOREGISTRY_CA")
	fs.global["json"], fs.global["timeout"] = true, true
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
