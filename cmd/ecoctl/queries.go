package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// The query commands read the registry's read models (projections). Each
// prints one page as a table, then the position the answer reflects and,
// when there is more, the --page-token that continues it.

// pageFlags are the flags every query takes.
type pageFlags struct {
	minPosition string
	size        int64
	token       string
}

func (p *pageFlags) define(fs *flagSet) {
	fs.section("paging and freshness")
	fs.StringVar(&p.minPosition, "min-position", "", "wait until the read model has applied this `position` (a command's\ncommit position, N or COMMIT/PREPARE), up to --timeout")
	fs.Int64Var(&p.size, "page-size", 0, "most `rows` to print; 0 means 100, at most 1000")
	fs.StringVar(&p.token, "page-token", "", "continue a query with the `token` its last page printed")
}

// resolve returns the parsed minimum position (nil when not given) and the
// page size.
func (p *pageFlags) resolve() (*ecov1.Position, int32, error) {
	size, err := checkInt32("page-size", p.size)
	if err != nil {
		return nil, 0, err
	}
	if p.minPosition == "" {
		return nil, size, nil
	}
	pos, err := parsePosition(p.minPosition)
	if err != nil {
		return nil, 0, fmt.Errorf("--min-position: %w", err)
	}
	return pos, size, nil
}

// parsePosition reads "N" (the embedded store's positions, where commit and
// prepare are equal) or "COMMIT/PREPARE".
func parsePosition(s string) (*ecov1.Position, error) {
	c, p, two := strings.Cut(s, "/")
	commit, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not a position: write N or COMMIT/PREPARE", s)
	}
	prepare := commit
	if two {
		if prepare, err = strconv.ParseUint(p, 10, 64); err != nil {
			return nil, fmt.Errorf("%q is not a position: write N or COMMIT/PREPARE", s)
		}
	}
	return &ecov1.Position{Commit: commit, Prepare: prepare}, nil
}

// positionText formats a position as parsePosition reads it.
func positionText(p *ecov1.Position) string {
	if p.GetCommit() == p.GetPrepare() {
		return strconv.FormatUint(p.GetCommit(), 10)
	}
	return fmt.Sprintf("%d/%d", p.GetCommit(), p.GetPrepare())
}

// writePageEnd prints the position an answer reflects and how to go on.
func writePageEnd(w io.Writer, pos *ecov1.Position, next string) error {
	_, err := fmt.Fprintf(w, "\nAs of position %s.\n", positionText(pos))
	if err == nil && next != "" {
		_, err = fmt.Fprintf(w, "More: --page-token %s\n", next)
	}
	return err
}

// rightTypeKey is the key of a right type in market statistics: its API
// name without prefix, e.g. CARBON_ALLOWANCE.
func rightTypeKey(t ecov1.RightType) string {
	return strings.TrimPrefix(t.String(), "RIGHT_TYPE_")
}

var (
	marketDimensions = choices[ecov1.MarketDimension]{
		{"right", ecov1.MarketDimension_MARKET_DIMENSION_RIGHT},
		{"type", ecov1.MarketDimension_MARKET_DIMENSION_RIGHT_TYPE},
		{"exchange", ecov1.MarketDimension_MARKET_DIMENSION_EXCHANGE},
	}
	levels = choices[ecov1.AdministrativeLevel]{
		{"national", ecov1.AdministrativeLevel_ADMINISTRATIVE_LEVEL_NATIONAL},
		{"province", ecov1.AdministrativeLevel_ADMINISTRATIVE_LEVEL_PROVINCE},
		{"prefecture", ecov1.AdministrativeLevel_ADMINISTRATIVE_LEVEL_PREFECTURE},
		{"division", ecov1.AdministrativeLevel_ADMINISTRATIVE_LEVEL_DIVISION},
	}
	granularities = choices[ecov1.StatisticsGranularity]{
		{"month", ecov1.StatisticsGranularity_STATISTICS_GRANULARITY_MONTH},
		{"year", ecov1.StatisticsGranularity_STATISTICS_GRANULARITY_YEAR},
	}
)

// marketKey reads --key for a dimension: a right type is given by its
// ecoctl name (carbon-allowance) and sent as the API's key
// (CARBON_ALLOWANCE).
func marketKey(dim ecov1.MarketDimension, key string) (string, error) {
	if dim != ecov1.MarketDimension_MARKET_DIMENSION_RIGHT_TYPE {
		return key, nil
	}
	var t ecov1.RightType
	f := &enumFlag[ecov1.RightType]{choices: rightTypes, value: &t}
	if err := f.Set(key); err != nil {
		return "", fmt.Errorf("--key: %w", err)
	}
	return rightTypeKey(t), nil
}

var projectionsStatusCommand = &command{
	path:    "projections status",
	summary: "show where each read model stands in the log, and its lag",
	about: `Shows each projection (holdings, market, statistics): the generation that
answers queries, the position of the last event it applied, its lag behind
the head of the log (events not yet applied), the events it applied and
skipped (types this registry does not handle), its last commit and its last
error, and the same for a rebuild under way.`,
	example: `ecoctl projections status`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		return func([]string) (proto.Message, error) { return &ecov1.GetProjectionStatusRequest{}, nil }
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.GetProjectionStatusRequest) (*ecov1.GetProjectionStatusResponse, error) {
		return ecov1.NewProjectionAdminServiceClient(cc).GetProjectionStatus(ctx, req)
	}),
	render: view(func(w io.Writer, _ *ecov1.GetProjectionStatusRequest, resp *ecov1.GetProjectionStatusResponse) error {
		fmt.Fprintf(w, "Head of the log: position %s\n\n", positionText(resp.GetHead()))
		return writeProjectionStatuses(w, resp.GetProjections())
	}),
}

func writeProjectionStatuses(w io.Writer, sts []*ecov1.ProjectionStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROJECTION\tVERSION\tGENERATION\tPOSITION\tLAG\tAPPLIED\tSKIPPED\tCOMMITTED\tERROR")
	row := func(name string, version uint32, g *ecov1.ProjectionGeneration) {
		var skipped []string
		for _, t := range sortedKeys(g.GetSkippedByType()) {
			skipped = append(skipped, fmt.Sprintf("%s×%d", t, g.GetSkippedByType()[t]))
		}
		if len(skipped) == 0 {
			skipped = []string{"0"}
		}
		errText := g.GetError()
		if errText == "" {
			errText = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%d\t%s\t%s\t%s\n", name, version, g.GetGeneration(), positionText(g.GetPosition()), lagText(g),
			g.GetEventsApplied(), strings.Join(skipped, " "), formatTime(g.GetCommittedAt()), errText)
	}
	for _, st := range sts {
		row(st.GetName(), st.GetSchemaVersion(), st.GetActive())
		if st.GetRebuild() != nil {
			row(st.GetName()+" (rebuild)", st.GetSchemaVersion(), st.GetRebuild())
		}
	}
	return tw.Flush()
}

// lagText shows a generation's lag with its unit: events on the embedded
// store, bytes of the server's log on EventStoreDB.
func lagText(g *ecov1.ProjectionGeneration) string {
	switch g.GetLagUnit() {
	case ecov1.LagUnit_LAG_UNIT_EVENTS:
		return fmt.Sprintf("%d events", g.GetLag())
	case ecov1.LagUnit_LAG_UNIT_BYTES:
		return fmt.Sprintf("%d bytes", g.GetLag())
	}
	return strconv.FormatUint(g.GetLag(), 10)
}

var projectionsRebuildCommand = &command{
	path:    "projections rebuild",
	args:    []string{"NAME"},
	summary: "rebuild a read model from the start of the log while it keeps answering",
	about: `Builds projection NAME (holdings, market or statistics) again from the start
of the log, beside its current state, which keeps answering queries until the
new one has caught up; then the new one answers and the old one is deleted.
A rebuild already under way is left alone. With --wait, ecoctl returns once
the rebuilt state answers (raise --timeout for large logs), and on a terminal
shows a progress bar of the rebuild's position against the head of the log.`,
	example: `ecoctl projections rebuild market --wait --timeout 10m`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.RebuildProjectionRequest{}
		fs.BoolVar(&req.Wait, "wait", false, "wait until the rebuilt state answers queries")
		return func(pos []string) (proto.Message, error) {
			req.Name = pos[0]
			return req, nil
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.RebuildProjectionRequest) (*ecov1.RebuildProjectionResponse, error) {
		if req.GetWait() {
			stop := showRebuildProgress(ctx, cc, req.GetName())
			defer stop()
		}
		return ecov1.NewProjectionAdminServiceClient(cc).RebuildProjection(ctx, req)
	}),
	render: view(func(w io.Writer, req *ecov1.RebuildProjectionRequest, resp *ecov1.RebuildProjectionResponse) error {
		if resp.GetStatus().GetRebuild() != nil {
			fmt.Fprintf(w, "Rebuilding %s; the current state answers until the rebuild has caught up.\n\n", req.GetName())
		} else {
			fmt.Fprintf(w, "%s answers from generation %d.\n\n", req.GetName(), resp.GetStatus().GetActive().GetGeneration())
		}
		return writeProjectionStatuses(w, []*ecov1.ProjectionStatus{resp.GetStatus()})
	}),
}

var holdingsListCommand = &command{
	path:    "holdings list",
	summary: "list what an account holds of every right, by state, with serial blocks",
	about: `Lists account --account's holdings from the holdings read model: per right, the
units available, pledged, frozen, reserved and retired, and their serial blocks
(one line per block). With --min-position, the answer includes every command
up to that position (pass a command's commit position to read your writes).`,
	example: `ecoctl holdings list --account HB001 --type carbon-allowance`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.ListAccountHoldingsRequest{}
		var page pageFlags
		fs.StringVar(&req.AccountId, "account", "", "the `account`")
		enum(fs, &req.RightType, "type", rightTypes, "only rights of this `type`")
		fs.require("account")
		page.define(fs)
		return func([]string) (proto.Message, error) {
			var err error
			req.MinPosition, req.PageSize, err = page.resolve()
			req.PageToken = page.token
			return req, err
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.ListAccountHoldingsRequest) (*ecov1.ListAccountHoldingsResponse, error) {
		return ecov1.NewHoldingsQueryServiceClient(cc).ListAccountHoldings(ctx, req)
	}),
	render: view(func(w io.Writer, _ *ecov1.ListAccountHoldingsRequest, resp *ecov1.ListAccountHoldingsResponse) error {
		if err := writeBalances(w, "RIGHT", resp.GetHoldings(), func(h *ecov1.HoldingBalance) string { return h.GetRightId() }); err != nil {
			return err
		}
		return writePageEnd(w, resp.GetPosition(), resp.GetNextPageToken())
	}),
}

// writeBalances prints holdings, one line per serial block: the first line
// of a holding carries its name and counts, the others only a block.
func writeBalances(w io.Writer, first string, hs []*ecov1.HoldingBalance, name func(*ecov1.HoldingBalance) string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tTYPE\tAVAILABLE\tPLEDGED\tFROZEN\tRESERVED\tRETIRED\tSERIALS\n", first)
	if len(hs) == 0 {
		fmt.Fprintln(tw, "(none)\t\t\t\t\t\t\t")
	}
	for _, h := range hs {
		var blocks []string
		for _, s := range []struct {
			state  string
			ranges []*ecov1.SerialRange
		}{{"", h.GetAvailableRanges()}, {"pledged ", h.GetPledgedRanges()}, {"frozen ", h.GetFrozenRanges()},
			{"reserved ", h.GetReservedRanges()}, {"retired ", h.GetRetiredRanges()}} {
			for _, r := range s.ranges {
				blocks = append(blocks, s.state+rangeText(r))
			}
		}
		if len(blocks) == 0 {
			blocks = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", name(h), rightTypes.nameOf(h.GetRightType()), h.GetAvailable(), h.GetPledged(),
			h.GetFrozen(), h.GetReserved(), h.GetRetired(), blocks[0])
		for _, b := range blocks[1:] {
			fmt.Fprintf(tw, "\t\t\t\t\t\t\t%s\n", b)
		}
	}
	return tw.Flush()
}

var holdingsTotalsCommand = &command{
	path:    "holdings totals",
	summary: "show unit totals by state per right type and jurisdiction",
	about: `Shows, per right type and registering jurisdiction, the rights registered and
their units issued, in buffer pools, available, pledged, frozen, reserved,
retired, cancelled and expired. --jurisdiction 420000 covers a whole province,
420100 a prefecture and its counties.`,
	example: `ecoctl holdings totals --type water --jurisdiction 640000`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.ListHoldingTotalsRequest{}
		var page pageFlags
		enum(fs, &req.RightType, "type", rightTypes, "only rights of this `type`")
		fs.StringVar(&req.Jurisdiction, "jurisdiction", "", "only rights registered within this division `code`")
		page.define(fs)
		return func([]string) (proto.Message, error) {
			var err error
			req.MinPosition, req.PageSize, err = page.resolve()
			req.PageToken = page.token
			return req, err
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.ListHoldingTotalsRequest) (*ecov1.ListHoldingTotalsResponse, error) {
		return ecov1.NewHoldingsQueryServiceClient(cc).ListHoldingTotals(ctx, req)
	}),
	render: view(func(w io.Writer, _ *ecov1.ListHoldingTotalsRequest, resp *ecov1.ListHoldingTotalsResponse) error {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TYPE\tJURISDICTION\tRIGHTS\tISSUED\tBUFFER\tAVAILABLE\tPLEDGED\tFROZEN\tRESERVED\tRETIRED\tCANCELLED\tEXPIRED")
		for _, t := range resp.GetTotals() {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", rightTypes.nameOf(t.GetRightType()), t.GetJurisdiction(), t.GetRights(),
				t.GetIssued(), t.GetBuffer(), t.GetAvailable(), t.GetPledged(), t.GetFrozen(), t.GetReserved(), t.GetRetired(), t.GetCancelled(), t.GetExpired())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		return writePageEnd(w, resp.GetPosition(), resp.GetNextPageToken())
	}),
}

var holdersCommand = &command{
	path:    "holders",
	summary: "list the holders of a right, with the right's totals by state",
	about: `Lists the accounts that hold units of right --right, in any state, with
their serial blocks, after the right's totals.`,
	example: `ecoctl holders --right HB2025A`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.ListRightHoldersRequest{}
		var page pageFlags
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`")
		fs.require("right")
		page.define(fs)
		return func([]string) (proto.Message, error) {
			var err error
			req.MinPosition, req.PageSize, err = page.resolve()
			req.PageToken = page.token
			return req, err
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.ListRightHoldersRequest) (*ecov1.ListRightHoldersResponse, error) {
		return ecov1.NewHoldingsQueryServiceClient(cc).ListRightHolders(ctx, req)
	}),
	render: view(func(w io.Writer, _ *ecov1.ListRightHoldersRequest, resp *ecov1.ListRightHoldersResponse) error {
		r := resp.GetRight()
		unit := units.nameOf(r.GetUnit())
		f := newFields(w)
		f.add("Right", r.GetRightId())
		f.add("Type", rightTypes.nameOf(r.GetRightType()))
		f.add("Jurisdiction", r.GetJurisdiction())
		f.add("Issued", fmt.Sprintf("%d %s", r.GetIssued(), unit))
		f.add("By state", fmt.Sprintf("%d available, %d pledged, %d frozen, %d reserved, %d retired, %d cancelled, %d expired, %d in the buffer pool",
			r.GetAvailable(), r.GetPledged(), r.GetFrozen(), r.GetReserved(), r.GetRetired(), r.GetCancelled(), r.GetExpired(), r.GetBuffer()))
		f.add("Holders", r.GetHolders())
		if err := f.flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
		if err := writeBalances(w, "ACCOUNT", resp.GetHolders(), func(h *ecov1.HoldingBalance) string { return h.GetAccountId() }); err != nil {
			return err
		}
		return writePageEnd(w, resp.GetPosition(), resp.GetNextPageToken())
	}),
}

var tradesCommand = &command{
	path:    "trades",
	summary: "list settled trades in a time range",
	about: `Lists settled trades in time order from the market ledger. Until exchange
settlement has events of its own, a transfer with a price and a reference is a
trade; a reference "EXCHANGE:TRADE-ID" names its exchange. --from is inclusive,
--to exclusive; dates are 00:00 China Standard Time. --exchange "" selects
trades of no named exchange.`,
	example: `ecoctl trades --from 2026-11-01 --to 2026-12-01 --exchange CEEX`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.ListTradesRequest{}
		var page pageFlags
		var from, to, exchange string
		fs.StringVar(&from, "from", "", "trades settled at or after this `date` or time")
		fs.StringVar(&to, "to", "", "trades settled before this `date` or time")
		fs.StringVar(&req.RightId, "right", "", "only trades of this right (`ID`)")
		enum(fs, &req.RightType, "type", rightTypes, "only rights of this `type`")
		fs.StringVar(&exchange, "exchange", "", "only trades of this `exchange`")
		page.define(fs)
		return func([]string) (proto.Message, error) {
			var err error
			if fs.given("from") {
				if req.FromTime, err = parseTime(from); err != nil {
					return nil, errors.New("--from: " + err.Error())
				}
			}
			if fs.given("to") {
				if req.ToTime, err = parseTime(to); err != nil {
					return nil, errors.New("--to: " + err.Error())
				}
			}
			if fs.given("exchange") {
				req.Exchange = &exchange
			}
			req.MinPosition, req.PageSize, err = page.resolve()
			req.PageToken = page.token
			return req, err
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.ListTradesRequest) (*ecov1.ListTradesResponse, error) {
		return ecov1.NewMarketQueryServiceClient(cc).ListTrades(ctx, req)
	}),
	render: view(func(w io.Writer, _ *ecov1.ListTradesRequest, resp *ecov1.ListTradesResponse) error {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SETTLED\tEXCHANGE\tTRADE\tRIGHT\tSELLER\tBUYER\tQUANTITY\tPRICE\tCURRENCY")
		for _, t := range resp.GetTrades() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", formatTime(t.GetSettledAt()), orDash(t.GetExchange()), t.GetTradeId(), t.GetRightId(),
				t.GetSellerAccountId(), t.GetBuyerAccountId(), t.GetQuantity(), formatMinor(strconv.FormatInt(t.GetPrice().GetAmountMinor(), 10), t.GetPrice().GetCurrency()),
				t.GetPrice().GetCurrency())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		return writePageEnd(w, resp.GetPosition(), resp.GetNextPageToken())
	}),
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// formatMinor shows a decimal string of minor units in major units of
// currency (58.25 for 5825 CNY), exactly; an unknown currency's amounts stay
// in minor units.
func formatMinor(minor, currency string) string {
	exp, ok := currencyExponents[currency]
	if !ok || exp == 0 {
		return minor
	}
	neg := strings.HasPrefix(minor, "-")
	digits := strings.TrimPrefix(minor, "-")
	if len(digits) <= exp {
		digits = strings.Repeat("0", exp-len(digits)+1) + digits
	}
	out := digits[:len(digits)-exp] + "." + digits[len(digits)-exp:]
	if neg {
		out = "-" + out
	}
	return out
}

var marketStatsCommand = &command{
	path:    "market stats",
	summary: "show volume, turnover, VWAP and last price per right, type or exchange",
	about: `Shows the market ledger's running statistics grouped --by right, type or
exchange, per currency: trades, volume, turnover (exact), VWAP (turnover over
volume, rounded to the nearest minor unit, halves up) and the last price.
Amounts are in major units (yuan for CNY).`,
	example: `ecoctl market stats --by type`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.ListMarketStatsRequest{}
		var page pageFlags
		var key string
		enum(fs, &req.Dimension, "by", marketDimensions, "what to group by (`dimension`)")
		fs.StringVar(&key, "key", "", "only this right `ID`, type (e.g. carbon-allowance) or exchange")
		fs.StringVar(&req.Currency, "currency", "", "only this `currency`")
		fs.require("by")
		page.define(fs)
		return func([]string) (proto.Message, error) {
			var err error
			if fs.given("key") {
				k, err := marketKey(req.Dimension, key)
				if err != nil {
					return nil, err
				}
				req.Key = &k
			}
			req.MinPosition, req.PageSize, err = page.resolve()
			req.PageToken = page.token
			return req, err
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.ListMarketStatsRequest) (*ecov1.ListMarketStatsResponse, error) {
		return ecov1.NewMarketQueryServiceClient(cc).ListMarketStats(ctx, req)
	}),
	render: view(func(w io.Writer, req *ecov1.ListMarketStatsRequest, resp *ecov1.ListMarketStatsResponse) error {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "%s\tCURRENCY\tTRADES\tVOLUME\tTURNOVER\tVWAP\tLAST PRICE\tLAST TRADE\n", strings.ToUpper(marketDimensions.nameOf(req.GetDimension())))
		for _, s := range resp.GetStats() {
			c := s.GetCurrency()
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", orDash(s.GetKey()), c, s.GetTrades(), s.GetVolume(), formatMinor(s.GetTurnoverMinor(), c),
				formatMinor(strconv.FormatInt(s.GetVwapMinor(), 10), c), formatMinor(strconv.FormatInt(s.GetLastPriceMinor(), 10), c), formatTime(s.GetLastTradeTime()))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		return writePageEnd(w, resp.GetPosition(), resp.GetNextPageToken())
	}),
}

var marketDailyCommand = &command{
	path:    "market daily",
	summary: "show daily open, high, low and close of a right, type or exchange",
	about: `Shows the daily bars of one right, type or exchange (--by and --key) per
currency: open, high, low and close prices, trades, volume, turnover and VWAP.
Days are China Standard Time calendar days; open and close are the day's first
and last trades in the order the registry recorded them.`,
	example: `ecoctl market daily --by right --key HB2025A --from 2026-11-01 --to 2026-11-30`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.ListDailyBarsRequest{}
		var page pageFlags
		var key string
		enum(fs, &req.Dimension, "by", marketDimensions, "what the --key names (`dimension`)")
		fs.StringVar(&key, "key", "", "the right `ID`, type (e.g. carbon-allowance) or exchange (\"\" for none)")
		fs.StringVar(&req.Currency, "currency", "", "only this `currency`")
		fs.StringVar(&req.FromDay, "from", "", "first `day`, YYYY-MM-DD")
		fs.StringVar(&req.ToDay, "to", "", "last `day`, YYYY-MM-DD, inclusive")
		fs.require("by", "key")
		page.define(fs)
		return func([]string) (proto.Message, error) {
			var err error
			if req.Key, err = marketKey(req.Dimension, key); err != nil {
				return nil, err
			}
			req.MinPosition, req.PageSize, err = page.resolve()
			req.PageToken = page.token
			return req, err
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.ListDailyBarsRequest) (*ecov1.ListDailyBarsResponse, error) {
		return ecov1.NewMarketQueryServiceClient(cc).ListDailyBars(ctx, req)
	}),
	render: view(func(w io.Writer, _ *ecov1.ListDailyBarsRequest, resp *ecov1.ListDailyBarsResponse) error {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DAY\tCURRENCY\tOPEN\tHIGH\tLOW\tCLOSE\tTRADES\tVOLUME\tTURNOVER\tVWAP")
		for _, b := range resp.GetBars() {
			c := b.GetCurrency()
			m := func(n int64) string { return formatMinor(strconv.FormatInt(n, 10), c) }
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", b.GetDay(), c, m(b.GetOpenMinor()), m(b.GetHighMinor()), m(b.GetLowMinor()),
				m(b.GetCloseMinor()), b.GetTrades(), b.GetVolume(), formatMinor(b.GetTurnoverMinor(), c), m(b.GetVwapMinor()))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		return writePageEnd(w, resp.GetPosition(), resp.GetNextPageToken())
	}),
}

var statsCommand = &command{
	path:    "stats",
	summary: "show regulators' statistics (生态保护补偿统计) by jurisdiction, type and period",
	about: `Shows the quantities issued, transferred, retired, pledged, frozen, cancelled
and expired, and the numbers of issuances, transfers and retirements, per
jurisdiction at --level, right type and --period (months or years of the
event's time in China Standard Time). --jurisdiction selects the division at
--level that contains the code; --from and --to are periods like 2026-11 or
2026, inclusive.`,
	example: `ecoctl stats --level province --period month --from 2026-01 --to 2026-12 --type carbon-allowance`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.ListStatisticsRequest{}
		var page pageFlags
		enum(fs, &req.Level, "level", levels, "the administrative `level` to sum at")
		enum(fs, &req.Granularity, "period", granularities, "the `length` of a period")
		fs.StringVar(&req.Jurisdiction, "jurisdiction", "", "only the division at --level containing this `code`")
		enum(fs, &req.RightType, "type", rightTypes, "only rights of this `type`")
		fs.StringVar(&req.FromPeriod, "from", "", "first `period`, e.g. 2026-01 or 2026")
		fs.StringVar(&req.ToPeriod, "to", "", "last `period`, inclusive")
		fs.require("level", "period")
		page.define(fs)
		return func([]string) (proto.Message, error) {
			var err error
			req.MinPosition, req.PageSize, err = page.resolve()
			req.PageToken = page.token
			return req, err
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.ListStatisticsRequest) (*ecov1.ListStatisticsResponse, error) {
		return ecov1.NewStatisticsQueryServiceClient(cc).ListStatistics(ctx, req)
	}),
	render: view(func(w io.Writer, _ *ecov1.ListStatisticsRequest, resp *ecov1.ListStatisticsResponse) error {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "JURISDICTION\tTYPE\tPERIOD\tISSUED\tTRANSFERRED\tRETIRED\tPLEDGED\tFROZEN\tCANCELLED\tEXPIRED\tISSUANCES\tTRANSFERS\tRETIREMENTS")
		for _, r := range resp.GetRows() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", r.GetJurisdiction(), rightTypes.nameOf(r.GetRightType()), r.GetPeriod(),
				r.GetIssued(), r.GetTransferred(), r.GetRetired(), r.GetPledged(), r.GetFrozen(), r.GetCancelled(), r.GetExpired(),
				r.GetIssuances(), r.GetTransfers(), r.GetRetirements())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		return writePageEnd(w, resp.GetPosition(), resp.GetNextPageToken())
	}),
}
