package grpcserver

import (
	"sort"
	"strings"
	"testing"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// Every field a refusal names is a field of the request as the proto
// declares it (or a request header), so that a client can map it to its
// form. Every unary method is sent a plausible request for each choice of
// its oneofs, against a registry where the accounts and the right it names
// exist, and then that request with each field made bad in turn.
func TestRefusalsNameTheRequestsOwnFields(t *testing.T) {
	ts := startTestServer(t, zap.NewNop())
	setUpRight(t, ts, "CEA-1")
	f := &requestFiller{right: "CEA-1", creditCode: openAccountRequest("X").GetHolder().GetCreditCode()}
	ctx := asActor("office", "fields")
	named := map[string]bool{}
	calls := 0
	check := func(m apiMethod, req proto.Message, fields []string) {
		t.Helper()
		for _, field := range fields {
			named[field] = true
			if field == ActorHeader || field == CorrelationHeader {
				continue
			}
			if !resolves(req.ProtoReflect().Descriptor(), field) && !(m.name == "/ecoregistry.v1.SettlementService/SubmitTrade" && resolves(matchedTradeDescriptor, field)) {
				t.Errorf("%s names the field %q, which %s does not have; request %s", m.name, field, req.ProtoReflect().Descriptor().FullName(), describe(req))
			}
		}
	}
	for _, m := range unaryMethods(t, ts.srv) {
		for _, req := range f.plausibleRequests(m.input) {
			cases := append([]mutation{{req: req}, {req: m.input.New().Interface()}}, mutations(req, badValues)...)
			for _, c := range cases {
				calls++
				resp, err := call(ctx, ts.conn, m, c.req)
				check(m, c.req, refusalOf(err).fields)
				if o, ok := resp.(*pb.SubmitTradeResponse); ok && o.GetOutcome().GetRefused() != nil {
					check(m, c.req, []string{o.GetOutcome().GetRefused().GetField()})
				}
			}
		}
	}
	// The fields the issue found misnamed are among those checked.
	for _, want := range []string{"from_account_id", "to_account_id", "holder_account_id", "buyer_account_id", "seller_account_id",
		"pledgor_account_id", "pledgee_account_id", "price.amount_minor", "water_right.annual_volume_m3", "carbon_sink.verification_date"} {
		if !named[want] {
			t.Errorf("no refusal named %s; the requests do not reach its check", want)
		}
	}
	var all []string
	for f := range named {
		all = append(all, f)
	}
	sort.Strings(all)
	t.Logf("%d calls; %d distinct fields named: %s", calls, len(all), strings.Join(all, " "))
}

// A trade's refusal names the field of the matched trade.
func TestATradeRefusalNamesTheMatchedTradesField(t *testing.T) {
	ts := startTestServer(t, zap.NewNop())
	setUpRight(t, ts, "CEA-1")
	tr := trade("CEA-1", "X-9", 10, timeValue("matched_at"))
	tr.SellerAccountId = "NOBODY"
	resp, err := pb.NewSettlementServiceClient(ts.conn).SubmitTrade(asActor("hbex", "c"), &pb.SubmitTradeRequest{Trade: tr})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.GetOutcome().GetRefused()
	if r.GetCheckCode() != domain.CheckAccountNotFound.Code || r.GetField() != "seller_account_id" || !strings.Contains(r.GetMessage(), "(seller_account_id)") {
		t.Fatalf("refusal %v", r)
	}
}
