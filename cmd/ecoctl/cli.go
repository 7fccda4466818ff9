package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// ActorHeader is the gRPC metadata key that names who issues a command. The
// registry records it on every event it writes and refuses commands without
// it.
const ActorHeader = "x-ecoregistry-actor"

// DefaultServer is the registry address used when neither --server nor
// ECOREGISTRY_SERVER is given.
const DefaultServer = "127.0.0.1:50051"

// Exit codes of ecoctl.
const (
	exitOK       = 0
	exitRejected = 1 // the registry (or the network) refused or failed the call
	exitUsage    = 2 // the command line is wrong; nothing was sent
)

// command is one ecoctl subcommand: how to read its command line into a
// request, which RPC sends it, and how to show the answer.
type command struct {
	// path is the words that name the command, e.g. "account open".
	path string
	// args names the positional arguments, e.g. []string{"ID"}.
	args []string
	// summary is the one line shown in the command list.
	summary string
	// about is the longer prose shown by the command's -h.
	about string
	// example is a complete command line.
	example string
	// define declares the command's flags and returns the function that
	// builds the request once they are parsed; pos holds the positional
	// arguments, already checked against args.
	define func(fs *flagSet) func(pos []string) (proto.Message, error)
	// call sends req over cc.
	call func(ctx context.Context, cc grpc.ClientConnInterface, req proto.Message) (proto.Message, error)
	// render prints a successful response as text.
	render func(w io.Writer, req, resp proto.Message) error
	// exit, when set, gives the exit code of a call that succeeded: a
	// trade's refusal is an answer, not a failed call, yet it exits 1.
	exit func(resp proto.Message) int
	// local, when set instead of define, call and render, makes a command
	// that runs on this machine and sends nothing: it declares the flags
	// and returns the function that does the work and gives the exit code.
	local func(fs *flagSet) func(pos []string, stdout, stderr io.Writer) (int, error)
	// act, when set, replaces define, call and render, for a command that
	// is more than one call: it declares the command's flags and returns
	// the function that makes its action once they are parsed.
	act func(fs *flagSet) func(pos []string) (action, error)
}

// action is what an act command does: its calls over cc (none for
// offline commands), its own output, and its exit code.
type action func(ctx context.Context, cc grpc.ClientConnInterface, env actionEnv) int

// actionEnv is what an action writes to and the global flags it runs
// with; serverGiven tells whether --server was given, for commands that
// ask a registry only when told to.
type actionEnv struct {
	stdout, stderr io.Writer
	g              globals
	serverGiven    bool
}

// declare declares the command's flags on fs.
func (c *command) declare(fs *flagSet) {
	if c.act != nil {
		c.act(fs)
		return
	}
	defineCommand(c, fs)
}

// rpc adapts a typed client method to command.call.
func rpc[Req, Resp proto.Message](f func(ctx context.Context, cc grpc.ClientConnInterface, req Req) (Resp, error)) func(context.Context, grpc.ClientConnInterface, proto.Message) (proto.Message, error) {
	return func(ctx context.Context, cc grpc.ClientConnInterface, req proto.Message) (proto.Message, error) {
		resp, err := f(ctx, cc, req.(Req))
		if err != nil {
			// A typed nil inside a non-nil interface would look like a response.
			return nil, err
		}
		return resp, nil
	}
}

// view adapts a typed renderer to command.render.
func view[Req, Resp proto.Message](f func(w io.Writer, req Req, resp Resp) error) func(io.Writer, proto.Message, proto.Message) error {
	return func(w io.Writer, req, resp proto.Message) error { return f(w, req.(Req), resp.(Resp)) }
}

// groups are the nouns that take a verb; the others are single words.
var groups = map[string]string{
	"account":     "open, change the status of, and show accounts",
	"right":       "register and show rights",
	"holding":     "show what an account holds of a right",
	"pledge":      "pledge units as collateral, release, enforce and list pledges",
	"reservation": "settle or void a reservation made with reserve",
	"projections": "show where the read models stand and rebuild them",
	"holdings":    "list an account's holdings and totals per type and jurisdiction (read model)",
	"market":      "show market statistics and daily bars (read model)",
	"trade":       "submit a matched trade of an exchange for settlement",
	// Tamper evidence (integrity.go).
	"keys":             "make the ed25519 key that signs checkpoints and certificates",
	"audit":            "prove that the registry's history was not rewritten",
	"audit checkpoint": "keep a signed checkpoint outside the registry, and prove later that the log extends it",
	"certificate":      "issue and check signed certificates of what an account holds",
	"admin":            "operate a running registry: backups",
	"dev":              "development helpers that run on this machine and send nothing",
}

// commands lists every subcommand in the order help shows them.
var commands = []*command{
	accountOpenCommand, accountStatusCommand, accountShowCommand,
	rightRegisterCommand, rightShowCommand, holdingShowCommand,
	transferCommand, retireCommand,
	// The lifecycle commands (lifecycle.go).
	pledgeCreateCommand, pledgeReleaseCommand, pledgeEnforceCommand, pledgeListCommand,
	freezeCommand, unfreezeCommand,
	reserveCommand, reservationSettleCommand, reservationVoidCommand,
	cancelCommand, correctCommand,
	tradeSubmitCommand,
	// The queries of the read models (queries.go).
	holdingsListCommand, holdingsTotalsCommand, holdersCommand,
	tradesCommand, marketStatsCommand, marketDailyCommand, statsCommand,
	projectionsStatusCommand, projectionsRebuildCommand,
	// Tamper evidence (integrity.go).
	keysGenerateCommand, auditCheckpointSaveCommand, auditCheckpointCheckCommand, auditVerifyCommand,
	certificateIssueCommand, certificateVerifyCommand,
	adminBackupCommand,
	// Local commands (dev.go).
	devCertsCommand,
}

func findCommand(path string) *command {
	for _, c := range commands {
		if c.path == path {
			return c
		}
	}
	return nil
}

// invocation is a parsed command line: what to send, where, and how.
type invocation struct {
	cmd     *command
	req     proto.Message
	act     action
	globals globals
	// local runs a local command; nil for a call of the registry.
	local func(stdout, stderr io.Writer) (int, error)
	// serverGiven tells whether a registry was named (see actionEnv).
	serverGiven bool
}

// usageError is a command line ecoctl cannot act on. usage is the short
// help printed after the message.
type usageError struct {
	msg   string
	usage string
}

// commandError is a usage error of one command.
func commandError(cmd *command, format string, a ...any) *usageError {
	return &usageError{msg: fmt.Sprintf(format, a...), usage: fmt.Sprintf("usage: %s\nRun 'ecoctl %s -h' for its flags.\n", synopsis(cmd), cmd.path)}
}

// rootError is a usage error before a command was identified.
func rootError(format string, a ...any) *usageError {
	return &usageError{msg: fmt.Sprintf(format, a...), usage: shortRootUsage()}
}

func (e *usageError) Error() string { return e.msg }

// helpRequest is returned by parse when the user asked for help; text is
// what to print on stdout.
type helpRequest struct{ text string }

func (h *helpRequest) Error() string { return "help requested" }

// defaultGlobals reads the environment for the global flags' defaults.
func defaultGlobals() globals {
	g := globals{server: os.Getenv("ECOREGISTRY_SERVER"), actor: os.Getenv("ECOREGISTRY_ACTOR"), timeout: 10 * time.Second,
		cert: os.Getenv("ECOREGISTRY_CERT"), key: os.Getenv("ECOREGISTRY_KEY"), ca: os.Getenv("ECOREGISTRY_CA")}
	if g.server == "" {
		g.server = DefaultServer
	}
	if g.actor == "" {
		if u, err := user.Current(); err == nil {
			g.actor = u.Username
		} else {
			// Containers often run as a uid with no passwd entry.
			g.actor = os.Getenv("USER")
		}
	}
	return g
}

// parse reads a whole command line (without the program name). It returns a
// *usageError for a command line that is wrong and a *helpRequest when help
// was asked for; nothing is sent in either case.
func parse(args []string) (*invocation, error) {
	g := defaultGlobals()
	root := newFlagSet("ecoctl")
	g.register(root)
	if err := root.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, &helpRequest{text: rootUsage(root)}
		}
		return nil, rootError("%s", flagError(err))
	}
	rest := root.Args()
	if len(rest) == 0 {
		return nil, rootError("no command given")
	}
	word := rest[0]
	rest = rest[1:]
	if word == "help" {
		return nil, helpFor(rest, root)
	}
	path := word
	// A group's subcommand may be a group of its own ("audit checkpoint").
	for _, ok := groups[path]; ok; _, ok = groups[path] {
		switch {
		case len(rest) == 0:
			return nil, &usageError{msg: fmt.Sprintf("%q needs a subcommand", path), usage: groupUsage(path)}
		case rest[0] == "-h" || rest[0] == "--help" || rest[0] == "-help":
			return nil, &helpRequest{text: groupUsage(path)}
		}
		path += " " + rest[0]
		rest = rest[1:]
	}
	cmd := findCommand(path)
	if cmd == nil {
		if _, ok := groups[word]; ok {
			return nil, &usageError{msg: fmt.Sprintf("unknown command %q", path), usage: groupUsage(word)}
		}
		return nil, rootError("unknown command %q", path)
	}

	fs := newFlagSet("ecoctl " + cmd.path)
	var build func(pos []string) (proto.Message, error)
	var runLocal func([]string, io.Writer, io.Writer) (int, error)
	var buildAction func(pos []string) (action, error)
	if cmd.act != nil {
		buildAction = cmd.act(fs)
	} else {
		build, runLocal = defineCommand(cmd, fs)
	}
	g.register(fs)
	pos, err := fs.parseInterleaved(rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, &helpRequest{text: commandUsage(cmd, fs)}
		}
		return nil, commandError(cmd, "%s", flagError(err))
	}
	if len(pos) != len(cmd.args) {
		want := "no arguments"
		if len(cmd.args) > 0 {
			want = fmt.Sprintf("%d argument(s), %s", len(cmd.args), strings.Join(cmd.args, " "))
		}
		return nil, commandError(cmd, "%s takes %s; got %d: %q", cmd.path, want, len(pos), pos)
	}
	if missing := fs.missing(); len(missing) > 0 {
		return nil, commandError(cmd, "missing required flag(s): %s", strings.Join(missing, ", "))
	}
	serverGiven := root.given("server") || fs.given("server")
	if buildAction != nil {
		a, err := buildAction(pos)
		if err != nil {
			return nil, commandError(cmd, "%s", err)
		}
		return &invocation{cmd: cmd, act: a, globals: g, serverGiven: serverGiven}, nil
	}
	if runLocal != nil {
		return &invocation{cmd: cmd, globals: g, local: func(stdout, stderr io.Writer) (int, error) { return runLocal(pos, stdout, stderr) }}, nil
	}
	req, err := build(pos)
	if err != nil {
		return nil, commandError(cmd, "%s", err)
	}
	return &invocation{cmd: cmd, req: req, globals: g}, nil
}

// defineCommand declares a command's flags on fs and returns how to build
// its request or, for a local command, how to run it.
func defineCommand(cmd *command, fs *flagSet) (func([]string) (proto.Message, error), func([]string, io.Writer, io.Writer) (int, error)) {
	if cmd.local != nil {
		return nil, cmd.local(fs)
	}
	return cmd.define(fs), nil
}

// flagError rewrites the flag package's messages with the double dash
// ecoctl's help uses.
func flagError(err error) string {
	msg := err.Error()
	msg = strings.Replace(msg, "flag provided but not defined: -", "unknown flag --", 1)
	msg = strings.Replace(msg, " for flag -", " for flag --", 1)
	msg = strings.Replace(msg, "flag needs an argument: -", "flag needs an argument: --", 1)
	return msg
}

func helpFor(words []string, root *flagSet) error {
	if len(words) == 0 {
		return &helpRequest{text: rootUsage(root)}
	}
	if _, ok := groups[strings.Join(words, " ")]; ok {
		return &helpRequest{text: groupUsage(strings.Join(words, " "))}
	}
	cmd := findCommand(strings.Join(words, " "))
	if cmd == nil {
		return rootError("no help for unknown command %q", strings.Join(words, " "))
	}
	fs := newFlagSet("ecoctl " + cmd.path)
	cmd.declare(fs)
	g := defaultGlobals()
	g.register(fs)
	return &helpRequest{text: commandUsage(cmd, fs)}
}

// run is ecoctl: it parses args (without the program name), sends one
// request, prints the outcome and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	inv, err := parse(args)
	var help *helpRequest
	var usage *usageError
	switch {
	case errors.As(err, &help):
		fmt.Fprint(stdout, help.text)
		return exitOK
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "error: %s\n\n%s", usage.msg, usage.usage)
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	g := inv.globals
	if inv.local != nil {
		code, err := inv.local(stdout, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
		}
		return code
	}

	creds, err := g.transportCredentials()
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitUsage
	}
	conn, err := grpc.NewClient(g.server, grpc.WithTransportCredentials(creds))
	if err != nil {
		fmt.Fprintf(stderr, "error: --server %q: %v\n", g.server, err)
		return exitUsage
	}
	defer conn.Close()

	if inv.act != nil {
		// An action bounds each of its calls itself: a verification of the
		// whole log takes longer than --timeout allows one call.
		if g.actor != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, ActorHeader, g.actor)
		}
		return inv.act(ctx, conn, actionEnv{stdout: stdout, stderr: stderr, g: g, serverGiven: inv.serverGiven})
	}
	if g.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.timeout)
		defer cancel()
	}
	if g.actor != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, ActorHeader, g.actor)
	}
	if !g.json && drawsOn(stdout) {
		ctx = withProgress(ctx, stdout)
	}
	resp, err := inv.cmd.call(ctx, conn, inv.req)
	if err != nil {
		if g.json {
			writeErrorJSON(stdout, err)
		} else {
			writeErrorText(stderr, err)
		}
		return exitRejected
	}
	if g.json {
		b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(resp)
		if err != nil {
			fmt.Fprintf(stderr, "error: encoding the response as JSON: %v\n", err)
			return exitRejected
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return inv.exitCode(resp)
	}
	if err := inv.cmd.render(stdout, inv.req, resp); err != nil {
		fmt.Fprintf(stderr, "error: writing output: %v\n", err)
		return exitRejected
	}
	return inv.exitCode(resp)
}

func (inv *invocation) exitCode(resp proto.Message) int {
	if inv.cmd.exit == nil {
		return exitOK
	}
	return inv.cmd.exit(resp)
}
