// Command ecoctl is the operator and regulator command line of ecoregistry,
// the event-sourced registry of carbon emission allowances, water-use rights,
// pollutant-discharge rights and carbon-sink rights. Each invocation sends
// one gRPC request to the registry and prints the answer.
//
// Usage:
//
//	ecoctl [global flags] <command> [flags] [arguments]
//
// The commands are:
//
//	account open     open an account for a holder
//	account status   change an account's status (open, restricted, suspended, closed)
//	account show     show an account
//	right register   register (issue) a right of one of the four types to a holder
//	right show       show a right's attributes and a table of its holdings
//	holding show     show what one account holds of one right
//	transfer         move a quantity or a serial range between accounts
//	retire           retire (surrender) a quantity or a serial range
//	trade submit     submit an exchange's matched trade for settlement; a
//	                 resubmission prints the original outcome
//
// The queries of the read models print one page of a table each, the
// position the answer reflects, and the --page-token that continues it;
// --min-position waits until a read model has applied a command's position:
//
//	holdings list         what an account holds, by state, with serial blocks
//	holdings totals       unit totals by state per right type and jurisdiction
//	holders               the holders of a right
//	trades                settled trades in a time range
//	market stats          volume, turnover, VWAP and last price per right, type or exchange
//	market daily          daily open, high, low and close
//	stats                 regulators' statistics by jurisdiction, type and period
//	projections status    where each read model stands, and its lag
//	projections rebuild   rebuild a read model while it keeps answering
//
// Tamper evidence: these make several calls, or none, and are not bounded
// as a whole by --timeout:
//
//	keys generate            make an ed25519 key that signs checkpoints and certificates
//	audit checkpoint save    keep the registry's latest signed checkpoint in a file
//	audit checkpoint check   prove that today's log extends a saved checkpoint
//	audit verify             have the registry verify its whole history (progress bar)
//	certificate issue        have the registry sign a certificate of a holding
//	certificate verify       check a certificate offline; with --server, whether it is current
//
// The operator's maintenance of a running registry:
//
//	admin backup          copy the registry's data, while it serves, into a
//	                      directory that ecoregistryd --data restores from
//
// "ecoctl --help" lists them with examples and "ecoctl <command> -h" lists a
// command's flags with their meaning and defaults.
//
// Global flags, accepted before or after the command: --server (default
// 127.0.0.1:50051, or $ECOREGISTRY_SERVER), --actor (sent as the gRPC
// metadata x-ecoregistry-actor and recorded on every event the command
// writes when the registry runs without TLS; default $ECOREGISTRY_ACTOR,
// else the OS user name), --json, --timeout (default 10s), and for a
// registry that serves mutual TLS --cert and --key (the client certificate
// that names who you are) and --ca (the CA of the registry's certificate),
// or $ECOREGISTRY_CERT, $ECOREGISTRY_KEY and $ECOREGISTRY_CA.
//
// "ecoctl dev certs --out DIR" sends nothing: it writes a development CA, a
// server certificate, one client certificate per role and a sample access
// policy.
//
// Quantities are whole units. Amounts with a fraction are read as decimal
// strings and converted exactly, never through floating point: --price is
// the price per unit in yuan (58.25 is sent as 5825 fen) and --area-ha is
// hectares with at most four decimals (12.34 is sent as 123400 square metres).
// Dates are YYYY-MM-DD at 00:00 China Standard Time, or RFC 3339 times.
//
// By default the output is aligned text: key/value lines, then tables of
// holdings or serial blocks, with the commit (stream, revision, global
// position) of every command that wrote. With --json, stdout carries exactly
// one JSON object: the response in protojson, or, on failure,
// {"code", "message", "check", "metadata", "violations"}.
//
// When the registry refuses a command, ecoctl prints "error: <code>:
// <message>", the registry's check code (the google.rpc.ErrorInfo reason,
// e.g. E5001) with its metadata, and each google.rpc.BadRequest field
// violation on its own line, and exits 1. A wrong command line prints the
// problem and the command's usage and exits 2 without sending anything.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// An interrupt cancels the call in flight instead of killing the
	// process mid-write, so the error says what happened.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
