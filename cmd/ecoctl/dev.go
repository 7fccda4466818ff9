package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ecoregistry/ecoregistry/access"
	"github.com/ecoregistry/ecoregistry/mtls"
)

// devPrincipals is who holds each role in the development PKI and its
// sample policy: the people and systems of the README's walkthrough.
var devPrincipals = []struct {
	role               access.Role
	organisation, name string
}{
	{access.RoleOffice, "hubei-office", "li.wei"},
	{access.RoleExchange, "hbex", "gateway"},
	{access.RoleHolder, "hubei-steel", "treasury"},
	{access.RolePledgee, "icbc-hubei", "loans"},
	{access.RoleRegulator, "mee", "inspector"},
	{access.RoleCourt, "wuhan-court", "clerk"},
	{access.RoleAuditor, "audit-office", "auditor"},
	{access.RoleAdministrator, "ops", "admin"},
}

// devPolicy is the sample policy "dev certs" writes beside the certificates.
const devPolicy = `# Sample access policy written by "ecoctl dev certs" for the README's walkthrough.
# Each binding gives one role, with its scope, to the principals of an
# organisation: ecoregistry://<organisation>/<name> in their certificates.
bindings:
  - organisation: hubei-office        # a registration office of Hubei and its prefectures
    role: registration_office
    jurisdictions: ["420000"]
  - organisation: hbex                # the Hubei exchange and the accounts admitted to it
    role: exchange
    exchanges: [HBEX]
    accounts: [HB-STEEL, HB-POWER]
  - organisation: hubei-steel         # a holder of its own account
    role: account_holder
    accounts: [HB-STEEL]
  - organisation: icbc-hubei          # a bank, pledgee of the pledges made to its account
    role: pledgee
    accounts: [ICBC-HB]
  - organisation: mee                 # MEE: carbon allowances and pollutant-discharge rights
    role: regulator
    authority: MEE
  - organisation: wuhan-court         # a court, acting by order in Hubei
    role: court
    jurisdictions: ["420000"]
  - organisation: audit-office        # reads everything, changes nothing
    role: auditor
  - organisation: ops                 # projection status and rebuilds
    role: administrator
`

var devCertsCommand = &command{
	path:    "dev certs",
	summary: "write a development CA, server and per-role client certificates, and a sample policy",
	about: `Writes, into --out, a development certificate authority (ca.pem), a server
certificate for --hosts (server.pem, server-key.pem), one client certificate
and key per role (<role>.pem, <role>-key.pem) naming the principal
ecoregistry://<organisation>/<name>, and a sample access policy
(policy.yaml) that gives each of them its role. All keys are ECDSA P-256;
the certificates are valid for --days. Nothing is sent to a registry. The
CA's key is not kept: run the command again for new certificates. For
development and tests only.`,
	example: "ecoctl dev certs --out ./dev-certs",
	local: func(fs *flagSet) func(pos []string, stdout, stderr io.Writer) (int, error) {
		out := fs.String("out", "", "`directory` to write into; created if missing")
		hosts := fs.String("hosts", "localhost,127.0.0.1,::1", "comma-separated host names and addresses of the server `names`")
		days := fs.Int("days", 30, "how many `days` the certificates are valid")
		fs.require("out")
		return func(_ []string, stdout, _ io.Writer) (int, error) {
			if *days < 1 {
				return exitUsage, errors.New("--days must be at least 1")
			}
			if err := writeDevCerts(*out, strings.Split(*hosts, ","), time.Duration(*days)*24*time.Hour, stdout); err != nil {
				return exitRejected, err
			}
			return exitOK, nil
		}
	},
}

// writeDevCerts writes the development PKI and policy into dir and lists
// what it wrote on w.
func writeDevCerts(dir string, hosts []string, valid time.Duration, w io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ca, err := mtls.NewCA("ecoregistry development CA", mtls.For(valid))
	if err != nil {
		return err
	}
	files := map[string][]byte{"ca.pem": ca.CertPEM(), "policy.yaml": []byte(devPolicy)}
	srv, err := ca.IssueServer(hosts, mtls.For(valid))
	if err != nil {
		return err
	}
	files["server.pem"], files["server-key.pem"] = srv.CertPEM, srv.KeyPEM
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ROLE\tPRINCIPAL\tCERTIFICATE\tKEY\n")
	for _, p := range devPrincipals {
		uri := access.Principal{Organisation: p.organisation, Name: p.name}.URI()
		c, err := ca.IssueClient(uri, mtls.For(valid))
		if err != nil {
			return err
		}
		files[string(p.role)+".pem"], files[string(p.role)+"-key.pem"] = c.CertPEM, c.KeyPEM
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.role, uri, filepath.Join(dir, string(p.role)+".pem"), filepath.Join(dir, string(p.role)+"-key.pem"))
	}
	for name, b := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, "-key.pem") {
			mode = 0o600
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, mode); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "CA:      %s\nServer:  %s, %s (for %s)\nPolicy:  %s\n\n", filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"),
		filepath.Join(dir, "server-key.pem"), strings.Join(hosts, ", "), filepath.Join(dir, "policy.yaml"))
	return tw.Flush()
}
