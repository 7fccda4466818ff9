package main

import (
	"context"
	"io"

	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

var accountOpenCommand = &command{
	path:    "account open",
	summary: "open an account for a holder",
	about: `Opens an account. The account id is chosen by the registration office and
is refused with ALREADY_EXISTS if taken. Enterprises, cooperatives and
government bodies need their unified social credit code (18 characters).`,
	example: `ecoctl account open --id HB001 --holder-name "Hubei Steel Co." --holder-kind enterprise --credit-code 91420100MA4K2XXX1X --jurisdiction 420000`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.OpenAccountRequest{Holder: &ecov1.Holder{}, Type: ecov1.AccountType_ACCOUNT_TYPE_HOLDING}
		fs.StringVar(&req.AccountId, "id", "", "the new account's `ID`: 1 to 64 characters of A-Z a-z 0-9 . _ -")
		fs.StringVar(&req.Holder.Name, "holder-name", "", "the holder's legal `name`")
		enum(fs, &req.Holder.Kind, "holder-kind", holderKinds, "the holder's legal `kind`")
		fs.StringVar(&req.Holder.CreditCode, "credit-code", "", "the holder's unified social credit `code` (GB 32100, 18 characters);\nrequired for enterprises, cooperatives and government bodies")
		fs.StringVar(&req.Jurisdiction, "jurisdiction", "", "the account's six-digit administrative division `code` (GB/T 2260), e.g. 420000")
		enum(fs, &req.Type, "type", accountTypes, "the account's `role`\n(registry: a registration authority's, e.g. a province's allocation account;\nexchange: an exchange's clearing account)")
		fs.require("id", "holder-name", "holder-kind", "jurisdiction")
		return func([]string) (proto.Message, error) { return req, nil }
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.OpenAccountRequest) (*ecov1.OpenAccountResponse, error) {
		return ecov1.NewAccountServiceClient(cc).OpenAccount(ctx, req)
	}),
	render: view(func(w io.Writer, _ *ecov1.OpenAccountRequest, resp *ecov1.OpenAccountResponse) error {
		return writeAccount(w, resp.GetAccount(), resp.GetCommit())
	}),
}

var accountStatusCommand = &command{
	path:    "account status",
	args:    []string{"ID"},
	summary: "change an account's status: open, restricted, suspended or closed",
	about: `Changes the status of account ID. An open account may do everything; a
restricted one may receive and retire units but not send them; a suspended one
may do nothing until reopened; a closed one never again. The reason is
recorded with the change and shown with the account.`,
	example: `ecoctl account status HB001 --status suspended --reason "court order (2025) E 0102 Zhi 345"`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.ChangeAccountStatusRequest{}
		enum(fs, &req.Status, "status", accountStatuses, "the new `status`")
		fs.StringVar(&req.Reason, "reason", "", "why the status changes, e.g. the order or decision `text`")
		fs.require("status", "reason")
		return func(pos []string) (proto.Message, error) {
			req.AccountId = pos[0]
			return req, nil
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.ChangeAccountStatusRequest) (*ecov1.ChangeAccountStatusResponse, error) {
		return ecov1.NewAccountServiceClient(cc).ChangeAccountStatus(ctx, req)
	}),
	render: view(func(w io.Writer, _ *ecov1.ChangeAccountStatusRequest, resp *ecov1.ChangeAccountStatusResponse) error {
		return writeAccount(w, resp.GetAccount(), resp.GetCommit())
	}),
}

var accountShowCommand = &command{
	path:    "account show",
	args:    []string{"ID"},
	summary: "show an account: holder, jurisdiction, type and status",
	about:   `Shows account ID as the registry holds it now (read from its stream, so it reflects every command already answered).`,
	example: `ecoctl account show HB001`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		return func(pos []string) (proto.Message, error) {
			return &ecov1.GetAccountRequest{AccountId: pos[0]}, nil
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.GetAccountRequest) (*ecov1.GetAccountResponse, error) {
		return ecov1.NewAccountServiceClient(cc).GetAccount(ctx, req)
	}),
	render: view(func(w io.Writer, _ *ecov1.GetAccountRequest, resp *ecov1.GetAccountResponse) error {
		return writeAccount(w, resp.GetAccount(), nil)
	}),
}
