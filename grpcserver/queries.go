package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/holdings"
	"github.com/ecoregistry/ecoregistry/projections/market"
	"github.com/ecoregistry/ecoregistry/projections/statistics"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// RegisterQueryServices registers the query services of the read models
// (holdings, market ledger, statistics) and the projection administration
// service on s, answering from m. m must run the holdings, market and
// statistics projections. Call it after New and before serving.
func RegisterQueryServices(s *grpc.Server, m *projections.Manager, log *zap.Logger) error {
	q := &queryHandlers{m: m, log: log}
	for _, name := range []string{holdings.Name, market.Name, statistics.Name} {
		r, ok := m.Runner(name)
		if !ok {
			return fmt.Errorf("grpcserver: the projection manager does not run %q", name)
		}
		switch name {
		case holdings.Name:
			q.holdings = holdings.NewQueries(r)
		case market.Name:
			q.market = market.NewQueries(r)
		case statistics.Name:
			q.stats = statistics.NewQueries(r)
		}
	}
	pb.RegisterHoldingsQueryServiceServer(s, q)
	pb.RegisterMarketQueryServiceServer(s, q)
	pb.RegisterStatisticsQueryServiceServer(s, q)
	pb.RegisterProjectionAdminServiceServer(s, q)
	return nil
}

type queryHandlers struct {
	pb.UnimplementedHoldingsQueryServiceServer
	pb.UnimplementedMarketQueryServiceServer
	pb.UnimplementedStatisticsQueryServiceServer
	pb.UnimplementedProjectionAdminServiceServer
	m        *projections.Manager
	holdings *holdings.Queries
	market   *market.Queries
	stats    *statistics.Queries
	log      *zap.Logger
}

// fail turns a query's error into a status. A minimum position the
// projection did not reach in time is DEADLINE_EXCEEDED (or CANCELLED) with
// where it stood; everything else goes through the one error table.
func (q *queryHandlers) fail(ctx context.Context, method string, err error) error {
	var nr *projections.PositionNotReachedError
	if errors.As(err, &nr) {
		code := codes.DeadlineExceeded
		if errors.Is(nr.Cause, context.Canceled) {
			code = codes.Canceled
		}
		return status.Errorf(code, "the %s projection had applied the log up to position %s, not min_position %s, when the call's deadline passed; retry with a longer deadline, or see ProjectionAdminService.GetProjectionStatus",
			nr.Projection, nr.Reached, nr.Wanted)
	}
	if errors.Is(err, projections.ErrUnknownProjection) {
		rej := &domain.Rejection{Check: domain.CheckInvalidEnumValue, Field: "name",
			Detail: fmt.Sprintf("%v; the projections are %s", strings.TrimPrefix(err.Error(), "projections: "), strings.Join(q.m.Names(), ", "))}
		return toStatus(ctx, q.log, method, rej)
	}
	return toStatus(ctx, q.log, method, err)
}

// answerBeforeDeadline shortens ctx's deadline by a quarter of the time
// left, at most 250ms, so that a query that waits for its minimum position
// until the deadline still gets its DEADLINE_EXCEEDED answer, which says how
// far the projection got, to the client before the client's own deadline
// fires. A tenth was too little: on a loaded machine a 50ms call lost the
// race and the client saw only "context deadline exceeded".
func answerBeforeDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(time.Until(deadline)/4, 250*time.Millisecond)
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

func pageRequest(min *pb.Position, size int32, token string) projections.PageRequest {
	r := projections.PageRequest{PageSize: size, PageToken: token}
	if min != nil {
		r.MinPosition = &eventstore.Position{Commit: min.GetCommit(), Prepare: min.GetPrepare()}
	}
	return r
}

func (q *queryHandlers) ListAccountHoldings(ctx context.Context, req *pb.ListAccountHoldingsRequest) (*pb.ListAccountHoldingsResponse, error) {
	ctx, cancel := answerBeforeDeadline(ctx)
	defer cancel()
	pg, err := q.holdings.AccountHoldings(ctx, holdings.AccountHoldingsQuery{AccountID: req.GetAccountId(), RightType: domain.RightType(req.GetRightType()),
		PageRequest: pageRequest(req.GetMinPosition(), req.GetPageSize(), req.GetPageToken())})
	if err != nil {
		return nil, q.fail(ctx, "ListAccountHoldings", err)
	}
	out := &pb.ListAccountHoldingsResponse{NextPageToken: pg.NextPageToken, Position: positionToProto(pg.Position)}
	for i := range pg.Items {
		out.Holdings = append(out.Holdings, holdingBalanceToProto(&pg.Items[i]))
	}
	return out, nil
}

func (q *queryHandlers) ListRightHolders(ctx context.Context, req *pb.ListRightHoldersRequest) (*pb.ListRightHoldersResponse, error) {
	ctx, cancel := answerBeforeDeadline(ctx)
	defer cancel()
	rh, err := q.holdings.RightHolders(ctx, holdings.RightHoldersQuery{RightID: req.GetRightId(),
		PageRequest: pageRequest(req.GetMinPosition(), req.GetPageSize(), req.GetPageToken())})
	if err != nil {
		return nil, q.fail(ctx, "ListRightHolders", err)
	}
	out := &pb.ListRightHoldersResponse{Right: rightBalanceToProto(&rh.Right), NextPageToken: rh.NextPageToken, Position: positionToProto(rh.Position)}
	for i := range rh.Items {
		out.Holders = append(out.Holders, holdingBalanceToProto(&rh.Items[i]))
	}
	return out, nil
}

func (q *queryHandlers) ListHoldingTotals(ctx context.Context, req *pb.ListHoldingTotalsRequest) (*pb.ListHoldingTotalsResponse, error) {
	ctx, cancel := answerBeforeDeadline(ctx)
	defer cancel()
	pg, err := q.holdings.Totals(ctx, holdings.TotalsQuery{RightType: domain.RightType(req.GetRightType()), Jurisdiction: req.GetJurisdiction(),
		PageRequest: pageRequest(req.GetMinPosition(), req.GetPageSize(), req.GetPageToken())})
	if err != nil {
		return nil, q.fail(ctx, "ListHoldingTotals", err)
	}
	out := &pb.ListHoldingTotalsResponse{NextPageToken: pg.NextPageToken, Position: positionToProto(pg.Position)}
	for _, t := range pg.Items {
		out.Totals = append(out.Totals, &pb.HoldingTotals{RightType: pb.RightType(t.Type), Jurisdiction: t.Jurisdiction, Rights: t.Rights,
			Issued: t.Issued, Buffer: t.Buffer, Available: t.Total(holdings.Available), Pledged: t.Total(holdings.Pledged),
			Frozen: t.Total(holdings.Frozen), Reserved: t.Total(holdings.Reserved), Retired: t.Total(holdings.Retired),
			Cancelled: t.Cancelled, Expired: t.Expired})
	}
	return out, nil
}

func holdingBalanceToProto(h *holdings.Holding) *pb.HoldingBalance {
	p := h.Right.SerialPrefix
	return &pb.HoldingBalance{
		AccountId: h.AccountID, RightId: h.Right.RightID, RightType: pb.RightType(h.Right.Type), Jurisdiction: h.Right.Jurisdiction, Unit: pb.Unit(h.Right.Unit),
		Available: h.Count(holdings.Available), Pledged: h.Count(holdings.Pledged), Frozen: h.Count(holdings.Frozen),
		Reserved: h.Count(holdings.Reserved), Retired: h.Count(holdings.Retired),
		AvailableRanges: prefixedRanges(p, h.Blocks[holdings.Available]), PledgedRanges: prefixedRanges(p, h.Blocks[holdings.Pledged]),
		FrozenRanges: prefixedRanges(p, h.Blocks[holdings.Frozen]), ReservedRanges: prefixedRanges(p, h.Blocks[holdings.Reserved]),
		RetiredRanges: prefixedRanges(p, h.Blocks[holdings.Retired]),
	}
}

func rightBalanceToProto(r *holdings.RightInfo) *pb.RightBalance {
	var buffer int64
	if !r.Buffer.IsZero() {
		buffer = r.Buffer.Size()
	}
	return &pb.RightBalance{
		RightId: r.RightID, RightType: pb.RightType(r.Type), Jurisdiction: r.Jurisdiction, Vintage: int32(r.Vintage), Unit: pb.Unit(r.Unit),
		Issued: r.Issued, Buffer: buffer, Available: r.Total(holdings.Available), Pledged: r.Total(holdings.Pledged),
		Frozen: r.Total(holdings.Frozen), Reserved: r.Total(holdings.Reserved), Retired: r.Total(holdings.Retired),
		Cancelled: r.Cancelled, Expired: r.Expired, Holders: r.Holders, RegisteredAt: ts(r.RegisteredAt),
	}
}

func (q *queryHandlers) ListTrades(ctx context.Context, req *pb.ListTradesRequest) (*pb.ListTradesResponse, error) {
	ctx, cancel := answerBeforeDeadline(ctx)
	defer cancel()
	query := market.TradesQuery{From: tm(req.GetFromTime()), To: tm(req.GetToTime()), RightID: req.GetRightId(), RightType: domain.RightType(req.GetRightType()),
		Exchange: req.Exchange, PageRequest: pageRequest(req.GetMinPosition(), req.GetPageSize(), req.GetPageToken())}
	pg, err := q.market.Trades(ctx, query)
	if err != nil {
		return nil, q.fail(ctx, "ListTrades", err)
	}
	out := &pb.ListTradesResponse{NextPageToken: pg.NextPageToken, Position: positionToProto(pg.Position)}
	for _, t := range pg.Items {
		out.Trades = append(out.Trades, &pb.Trade{Exchange: t.Exchange, TradeId: t.TradeID, Reference: t.Reference, RightId: t.RightID,
			RightType: pb.RightType(t.RightType), TransferId: t.TransferID, BuyerAccountId: t.Buyer, SellerAccountId: t.Seller,
			Quantity: t.Quantity, Price: &pb.Price{AmountMinor: t.Price, Currency: t.Currency}, SettledAt: ts(t.Time), Position: positionToProto(t.Position),
			MatchedAt: ts(t.MatchedAt)})
	}
	return out, nil
}

func (q *queryHandlers) ListMarketStats(ctx context.Context, req *pb.ListMarketStatsRequest) (*pb.ListMarketStatsResponse, error) {
	ctx, cancel := answerBeforeDeadline(ctx)
	defer cancel()
	pg, err := q.market.Stats(ctx, market.StatsQuery{Dimension: market.Dimension(req.GetDimension()), Key: req.Key, Currency: req.GetCurrency(),
		PageRequest: pageRequest(req.GetMinPosition(), req.GetPageSize(), req.GetPageToken())})
	if err != nil {
		return nil, q.fail(ctx, "ListMarketStats", err)
	}
	out := &pb.ListMarketStatsResponse{NextPageToken: pg.NextPageToken, Position: positionToProto(pg.Position)}
	for i := range pg.Items {
		s := &pg.Items[i]
		out.Stats = append(out.Stats, &pb.MarketStats{Dimension: pb.MarketDimension(s.Dimension), Key: s.Key, Currency: s.Currency,
			Trades: s.Trades, Volume: s.Volume, TurnoverMinor: s.Turnover.String(), VwapMinor: s.VWAP(), LastPriceMinor: s.LastPrice,
			LastTradeTime: ts(s.LastTime), LastTradePosition: positionToProto(s.LastPosition)})
	}
	return out, nil
}

func (q *queryHandlers) ListDailyBars(ctx context.Context, req *pb.ListDailyBarsRequest) (*pb.ListDailyBarsResponse, error) {
	ctx, cancel := answerBeforeDeadline(ctx)
	defer cancel()
	pg, err := q.market.Bars(ctx, market.BarsQuery{Dimension: market.Dimension(req.GetDimension()), Key: req.GetKey(), Currency: req.GetCurrency(),
		FromDay: req.GetFromDay(), ToDay: req.GetToDay(), PageRequest: pageRequest(req.GetMinPosition(), req.GetPageSize(), req.GetPageToken())})
	if err != nil {
		return nil, q.fail(ctx, "ListDailyBars", err)
	}
	out := &pb.ListDailyBarsResponse{NextPageToken: pg.NextPageToken, Position: positionToProto(pg.Position)}
	for i := range pg.Items {
		b := &pg.Items[i]
		out.Bars = append(out.Bars, &pb.DailyBar{Dimension: pb.MarketDimension(b.Dimension), Key: b.Key, Currency: b.Currency, Day: b.Day,
			OpenMinor: b.Open, HighMinor: b.High, LowMinor: b.Low, CloseMinor: b.Close, Trades: b.Trades, Volume: b.Volume,
			TurnoverMinor: b.Turnover.String(), VwapMinor: b.VWAP()})
	}
	return out, nil
}

// granularities maps the API's granularities to the projection's; an
// unknown one maps to zero, which the query refuses.
var granularities = map[pb.StatisticsGranularity]statistics.Granularity{
	pb.StatisticsGranularity_STATISTICS_GRANULARITY_MONTH: statistics.Monthly,
	pb.StatisticsGranularity_STATISTICS_GRANULARITY_YEAR:  statistics.Yearly,
}

func (q *queryHandlers) ListStatistics(ctx context.Context, req *pb.ListStatisticsRequest) (*pb.ListStatisticsResponse, error) {
	ctx, cancel := answerBeforeDeadline(ctx)
	defer cancel()
	pg, err := q.stats.Rows(ctx, statistics.Query{Level: statistics.Level(req.GetLevel()), Jurisdiction: req.GetJurisdiction(),
		RightType: domain.RightType(req.GetRightType()), Granularity: granularities[req.GetGranularity()], From: req.GetFromPeriod(), To: req.GetToPeriod(),
		PageRequest: pageRequest(req.GetMinPosition(), req.GetPageSize(), req.GetPageToken())})
	if err != nil {
		return nil, q.fail(ctx, "ListStatistics", err)
	}
	out := &pb.ListStatisticsResponse{NextPageToken: pg.NextPageToken, Position: positionToProto(pg.Position)}
	for i := range pg.Items {
		r := &pg.Items[i]
		out.Rows = append(out.Rows, &pb.StatisticsRow{Level: pb.AdministrativeLevel(r.Level), Jurisdiction: r.Jurisdiction, RightType: pb.RightType(r.RightType),
			Period: r.Period.String(), Issued: r.Value(statistics.Issued), Transferred: r.Value(statistics.Transferred), Retired: r.Value(statistics.Retired),
			Pledged: r.Value(statistics.Pledged), Frozen: r.Value(statistics.Frozen), Cancelled: r.Value(statistics.Cancelled), Expired: r.Value(statistics.Expired),
			Issuances: r.Value(statistics.Issuances), Transfers: r.Value(statistics.Transfers), Retirements: r.Value(statistics.Retirements)})
	}
	return out, nil
}

func (q *queryHandlers) GetProjectionStatus(ctx context.Context, _ *pb.GetProjectionStatusRequest) (*pb.GetProjectionStatusResponse, error) {
	rep, err := q.m.Status(ctx)
	if err != nil {
		return nil, q.fail(ctx, "GetProjectionStatus", err)
	}
	out := &pb.GetProjectionStatusResponse{Head: positionToProto(rep.Head)}
	for _, st := range rep.Projections {
		out.Projections = append(out.Projections, projectionStatusToProto(st, rep.Head, eventstore.PositionUnitOf(q.m.Events())))
	}
	return out, nil
}

func (q *queryHandlers) RebuildProjection(ctx context.Context, req *pb.RebuildProjectionRequest) (*pb.RebuildProjectionResponse, error) {
	const method = "RebuildProjection"
	// A rebuild writes no event, but it is an operator's act: it is logged
	// with who asked, and refused without an actor like every command.
	ci := infoFrom(ctx)
	if err := domain.ValidateActor(ActorHeader, ci.actor); err != nil {
		return nil, q.fail(ctx, method, err)
	}
	if _, err := q.m.Rebuild(req.GetName()); err != nil {
		return nil, q.fail(ctx, method, err)
	}
	q.log.Info("projection rebuild requested", zap.String("projection", req.GetName()), zap.String("actor", ci.actor), zap.String("correlation_id", ci.correlationID))
	r, _ := q.m.Runner(req.GetName())
	if req.GetWait() {
		if err := r.WaitRebuilt(ctx); err != nil {
			return nil, q.fail(ctx, method, err)
		}
	}
	head, err := projections.Head(ctx, q.m.Events())
	if err != nil {
		return nil, q.fail(ctx, method, err)
	}
	return &pb.RebuildProjectionResponse{Status: projectionStatusToProto(r.Status(), head, eventstore.PositionUnitOf(q.m.Events()))}, nil
}

// lagUnits maps what a store's positions count to the API's lag unit.
var lagUnits = map[eventstore.PositionUnit]pb.LagUnit{
	eventstore.UnitEvents:   pb.LagUnit_LAG_UNIT_EVENTS,
	eventstore.UnitLogBytes: pb.LagUnit_LAG_UNIT_BYTES,
}

func projectionStatusToProto(st projections.Status, head eventstore.Position, unit eventstore.PositionUnit) *pb.ProjectionStatus {
	gen := func(g projections.GenerationStatus) *pb.ProjectionGeneration {
		out := &pb.ProjectionGeneration{Generation: g.Generation, Position: positionToProto(g.Checkpoint.Position),
			Lag: projections.Lag(g.Checkpoint.Position, head), LagUnit: lagUnits[unit], EventsApplied: g.Checkpoint.Applied, SkippedByType: g.Checkpoint.Skipped,
			CommittedAt: ts(g.Checkpoint.Committed)}
		if g.Err != nil {
			out.Error = g.Err.Error()
		}
		return out
	}
	out := &pb.ProjectionStatus{Name: st.Name, SchemaVersion: st.SchemaVersion, Active: gen(st.Active)}
	if st.Rebuild != nil {
		out.Rebuild = gen(*st.Rebuild)
	}
	return out
}
