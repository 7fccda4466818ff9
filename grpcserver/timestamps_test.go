package grpcserver

import (
	"math"
	"slices"
	"testing"
	"time"

	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// badTimestamps are Timestamps that CheckValid refuses, as the issue found
// them accepted.
var badTimestamps = map[string]*timestamppb.Timestamp{
	"nanos -1":             {Seconds: 1_800_000_000, Nanos: -1},
	"nanos 10^9":           {Seconds: 1_800_000_000, Nanos: 1_000_000_000},
	"after 9999-12-31":     {Seconds: 253402300800},
	"the year 0":           {Seconds: -62135596801},
	"the largest seconds":  {Seconds: math.MaxInt64},
	"the smallest seconds": {Seconds: math.MinInt64},
}

// Every Timestamp field a request can carry has its check.
func TestEveryRequestTimestampHasACheck(t *testing.T) {
	ts := startTestServer(t, zap.NewNop())
	seen := 0
	for _, m := range unaryMethods(t, ts.srv) {
		for _, path := range pathsToTimestamps(m.input.Descriptor()) {
			seen++
			if _, ok := timestampChecks[path[len(path)-1].FullName()]; !ok {
				t.Errorf("%s: the Timestamp %s has no entry in timestampChecks", m.name, path[len(path)-1].FullName())
			}
		}
	}
	if seen < len(timestampChecks) {
		t.Fatalf("found %d Timestamp fields in requests, fewer than the %d checks", seen, len(timestampChecks))
	}
}

// A Timestamp that is not valid is refused wherever it enters, commands
// and queries alike, with InvalidArgument naming its field (a trade is
// refused in its outcome), and nothing is recorded.
func TestInvalidTimestampsAreRefusedWhereverTheyEnter(t *testing.T) {
	ts := startTestServer(t, zap.NewNop())
	setUpRight(t, ts, "CEA-1")
	f := &requestFiller{right: "CEA-1", creditCode: openAccountRequest("X").GetHolder().GetCreditCode()}
	ctx := asActor("office", "times")
	head := func() uint64 {
		r, err := pb.NewRightServiceClient(ts.conn).GetRight(ctx, &pb.GetRightRequest{RightId: "CEA-1"})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetRight().GetRevision()
	}
	before := head()
	refused := 0
	for _, m := range unaryMethods(t, ts.srv) {
		for _, req := range f.plausibleRequests(m.input) {
			for name, bad := range badTimestamps {
				only := func(fd protoreflect.FieldDescriptor) []protoreflect.Value {
					if fd.Message() != nil && fd.Message().FullName() == timestampFullName {
						return []protoreflect.Value{protoreflect.ValueOfMessage(proto.Clone(bad).ProtoReflect())}
					}
					return nil
				}
				for _, c := range mutations(req, only) {
					refused++
					resp, err := call(ctx, ts.conn, m, c.req)
					if o, ok := resp.(*pb.SubmitTradeResponse); ok {
						if r := o.GetOutcome().GetRefused(); r.GetField() != "matched_at" || r.GetCommit() != nil {
							t.Errorf("%s with %s %s: outcome %v", m.name, c.path, name, o.GetOutcome())
						}
						continue
					}
					if r := refusalOf(err); r.st.Code() != codes.InvalidArgument || !slices.Contains(r.fields, c.path) {
						t.Errorf("%s with %s %s: %v %q %v", m.name, c.path, name, r.st.Code(), r.st.Message(), r.fields)
					}
				}
			}
		}
	}
	if after := head(); after != before {
		t.Fatalf("the right went from revision %d to %d", before, after)
	}
	t.Logf("%d requests with a bad Timestamp refused", refused)
}

// The queries the issue found answering nonsense with OK are refused, naming
// the field.
func TestNonsenseQueryRangesAreRefused(t *testing.T) {
	ts := startTestServer(t, zap.NewNop())
	market := pb.NewMarketQueryServiceClient(ts.conn)
	ctx := asActor("office", "queries")
	for name, c := range map[string]struct {
		call  func() error
		field string
	}{
		"trades from the year 0": {func() error {
			_, err := market.ListTrades(ctx, &pb.ListTradesRequest{FromTime: badTimestamps["the year 0"]})
			return err
		}, "from_time"},
		"trades up to the largest time": {func() error {
			_, err := market.ListTrades(ctx, &pb.ListTradesRequest{ToTime: badTimestamps["the largest seconds"]})
			return err
		}, "to_time"},
		"trades from the smallest time": {func() error {
			_, err := market.ListTrades(ctx, &pb.ListTradesRequest{FromTime: badTimestamps["the smallest seconds"]})
			return err
		}, "from_time"},
		"market statistics in a lower-case currency": {func() error {
			_, err := market.ListMarketStats(ctx, &pb.ListMarketStatsRequest{Dimension: pb.MarketDimension_MARKET_DIMENSION_RIGHT_TYPE, Currency: "cny"})
			return err
		}, "currency"},
		"daily bars in a lower-case currency": {func() error {
			_, err := market.ListDailyBars(ctx, &pb.ListDailyBarsRequest{Dimension: pb.MarketDimension_MARKET_DIMENSION_EXCHANGE, Currency: "cny"})
			return err
		}, "currency"},
		"daily bars from 0000-01-01": {func() error {
			_, err := market.ListDailyBars(ctx, &pb.ListDailyBarsRequest{Dimension: pb.MarketDimension_MARKET_DIMENSION_EXCHANGE, FromDay: "0000-01-01"})
			return err
		}, "from_day"},
	} {
		t.Run(name, func(t *testing.T) {
			if r := refusalOf(c.call()); r.st.Code() != codes.InvalidArgument || !slices.Equal(r.fields, []string{c.field, c.field}) {
				t.Fatalf("%v %q %v, want InvalidArgument naming %s", r.st.Code(), r.st.Message(), r.fields, c.field)
			}
		})
	}
}

// What the registry records can always be written as JSON: pledges whose
// maturity is not a valid Timestamp are refused, one with the latest
// maturity a Timestamp holds is recorded, and protojson writes the answers
// of GetRight and ListPledges.
func TestRecordedTimesCanBeWrittenAsJSON(t *testing.T) {
	ts := startTestServer(t, zap.NewNop())
	setUpRight(t, ts, "CEA-1")
	ctx := asActor("office", "json")
	for name, bad := range badTimestamps {
		_, err := pb.NewPledgeServiceClient(ts.conn).PledgeUnits(ctx, &pb.PledgeUnitsRequest{RightId: "CEA-1", PledgeId: "P-BAD", PledgorAccountId: "SELLER",
			PledgeeAccountId: "BUYER", LoanReference: "L-1", Maturity: bad, Amount: &pb.PledgeUnitsRequest_Quantity{Quantity: 10}})
		if r := refusalOf(err); r.st.Code() != codes.InvalidArgument {
			t.Errorf("a pledge maturing at %s: %v", name, err)
		}
	}
	latest := timestamppb.New(time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC))
	if _, err := pb.NewPledgeServiceClient(ts.conn).PledgeUnits(ctx, &pb.PledgeUnitsRequest{RightId: "CEA-1", PledgeId: "P-1", PledgorAccountId: "SELLER",
		PledgeeAccountId: "BUYER", LoanReference: "L-1", Maturity: latest, Amount: &pb.PledgeUnitsRequest_Quantity{Quantity: 10}}); err != nil {
		t.Fatal(err)
	}
	right, err := pb.NewRightServiceClient(ts.conn).GetRight(ctx, &pb.GetRightRequest{RightId: "CEA-1"})
	if err != nil {
		t.Fatal(err)
	}
	pledges, err := pb.NewPledgeServiceClient(ts.conn).ListPledges(ctx, &pb.ListPledgesRequest{RightId: "CEA-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pledges.GetPledges()) != 1 || !proto.Equal(pledges.GetPledges()[0].GetMaturity(), latest) {
		t.Fatalf("pledges %v", pledges)
	}
	for _, m := range []proto.Message{right, pledges} {
		if _, err := protojson.Marshal(m); err != nil {
			t.Fatalf("%T cannot be written as JSON: %v", m, err)
		}
	}
}
