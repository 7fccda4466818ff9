package grpcserver

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"github.com/ecoregistry/ecoregistry/registry"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// settlementServices names the services registerSettlement adds, for health.
var settlementServices = []string{pb.SettlementService_ServiceDesc.ServiceName}

// registerSettlement adds the settlement service to s.
func registerSettlement(s *grpc.Server, h *handlers) {
	pb.RegisterSettlementServiceServer(s, &settlementHandlers{handlers: h})
}

// settlementHandlers serves exchange settlement with the common handlers'
// metadata and error mapping.
type settlementHandlers struct {
	pb.UnimplementedSettlementServiceServer
	*handlers
}

// Limits of one SubmitTrades stream.
const (
	// streamWindow bounds the trades of one stream being decided at once.
	// While that many wait, the stream is not read, and gRPC's flow control
	// holds the exchange back. It is large enough for the trades of one
	// stream to fill the batches of its busiest rights.
	streamWindow = 4096
	// maxOutcomesPerMessage bounds the outcomes sent in one message.
	maxOutcomesPerMessage = 512
	// maxChunk bounds the trades one goroutine decides together.
	maxChunk = 256
)

// SubmitTrade settles one trade; see the service's documentation.
func (h *settlementHandlers) SubmitTrade(ctx context.Context, req *pb.SubmitTradeRequest) (*pb.SubmitTradeResponse, error) {
	const method = "SubmitTrade"
	meta, err := h.meta(ctx)
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	out, err := h.settle(ctx, meta, req.GetTrade())
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	return &pb.SubmitTradeResponse{Outcome: out}, nil
}

// settle decides one trade and returns its outcome, or the error that kept
// the registry from deciding it.
func (h *settlementHandlers) settle(ctx context.Context, meta registry.Meta, t *pb.MatchedTrade) (*pb.TradeOutcome, error) {
	if t == nil {
		return refusedTrade(t, domain.CheckRequiredFieldMissing, "trade", "the request carries no trade"), nil
	}
	if refused := tradeTimestampRefusal(t); refused != nil {
		return refused, nil
	}
	o, err := h.svc.SettleTrade(ctx, meta, matchedTradeFromProto(t))
	if err != nil {
		return nil, err
	}
	return tradeOutcomeToProto(o), nil
}

// SubmitTrades settles the trades of a stream, several at once, and answers
// each as soon as it is decided; see the service's documentation.
func (h *settlementHandlers) SubmitTrades(stream pb.SettlementService_SubmitTradesServer) error {
	const method = "SubmitTrades"
	ctx := stream.Context()
	meta, err := h.meta(ctx)
	if err != nil {
		return h.fail(ctx, method, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Each trade holds a slot of window from the moment it is read until
	// its outcome is queued for sending, and the queue holds as many as the
	// window, so neither the deciders nor the reader block on the sender
	// unless the exchange stops reading outcomes.
	window := make(chan struct{}, streamWindow)
	outcomes := make(chan *pb.TradeOutcome, streamWindow)
	sent := make(chan error, 1)
	go func() { sent <- sendOutcomes(stream, outcomes, cancel) }()

	var (
		wg      sync.WaitGroup
		readErr error
	)
	// Trades are decided in chunks, each by one goroutine that queues all
	// of its trades for their rights' batches before it waits for the
	// first, so that the trades of a message share batches and goroutines.
	settleChunk := func(chunk []*pb.MatchedTrade) {
		defer wg.Done()
		for _, o := range h.settleAll(ctx, meta, method, chunk) {
			outcomes <- o
			<-window
		}
	}
read:
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		trades := req.GetTrades()
		countStreamItems(ctx, len(trades))
		for len(trades) > 0 {
			n := 0
			for n < len(trades) && n < maxChunk {
				select {
				case window <- struct{}{}:
					n++
				case <-ctx.Done():
					if n > 0 {
						wg.Add(1)
						go settleChunk(trades[:n])
					}
					readErr = ctx.Err()
					break read
				}
			}
			wg.Add(1)
			go settleChunk(trades[:n])
			trades = trades[n:]
		}
	}
	// Trades being decided are answered even after the exchange closed its
	// side: it waits for their outcomes.
	wg.Wait()
	close(outcomes)
	if err := <-sent; err != nil {
		return err
	}
	if readErr != nil {
		if _, ok := status.FromError(readErr); ok {
			return readErr
		}
		return h.fail(ctx, method, readErr)
	}
	return nil
}

// settleAll decides trades together and returns their outcomes in order; a
// trade the registry could not decide gets a failed outcome.
func (h *settlementHandlers) settleAll(ctx context.Context, meta registry.Meta, method string, trades []*pb.MatchedTrade) []*pb.TradeOutcome {
	out := make([]*pb.TradeOutcome, len(trades))
	cmds := make([]domain.SettleTrade, 0, len(trades))
	for i, t := range trades {
		if t == nil {
			out[i] = refusedTrade(t, domain.CheckRequiredFieldMissing, "trade", "the request carries no trade")
			continue
		}
		// The stream's caller was allowed to open it; each trade's exchange
		// and accounts are checked on their own.
		if err := authorizeItem(ctx, pb.SettlementService_SubmitTrades_FullMethodName, t); err != nil {
			if rej, ok := domain.RejectionOf(err); ok {
				out[i] = refusedTrade(t, rej.Check, rej.Field, rej.Detail)
			} else {
				out[i] = failedTrade(t, toStatus(ctx, h.log, method, err))
			}
			continue
		}
		if refused := tradeTimestampRefusal(t); refused != nil {
			out[i] = refused
			continue
		}
		cmds = append(cmds, matchedTradeFromProto(t))
	}
	outcomes, errs := h.svc.SettleTrades(ctx, meta, cmds)
	j := 0
	for i, t := range trades {
		if out[i] != nil {
			continue
		}
		if errs[j] != nil {
			h.noteStoreFailure(errs[j])
			out[i] = failedTrade(t, toStatus(ctx, h.log, method, errs[j]))
		} else {
			out[i] = tradeOutcomeToProto(outcomes[j])
		}
		j++
	}
	return out
}

// failedTrade is the outcome of a trade the registry could not decide.
func failedTrade(t *pb.MatchedTrade, err error) *pb.TradeOutcome {
	st, _ := status.FromError(err)
	return &pb.TradeOutcome{ExchangeId: clip(t.GetExchangeId()), TradeId: clip(t.GetTradeId()), RightId: clip(t.GetRightId()),
		Result: &pb.TradeOutcome_Failed{Failed: &pb.TradeFailure{Code: int32(st.Code()), Message: st.Message()}}}
}

// sendOutcomes sends the outcomes as they come, gathering those that are
// ready into one message, until outcomes is closed. After a failed send it
// cancels the stream's work and drains the rest.
func sendOutcomes(stream pb.SettlementService_SubmitTradesServer, outcomes <-chan *pb.TradeOutcome, cancel context.CancelFunc) error {
	var failed error
	batch := make([]*pb.TradeOutcome, 0, maxOutcomesPerMessage)
	for o := range outcomes {
		if failed != nil {
			continue
		}
		batch = append(batch[:0], o)
	gather:
		for len(batch) < maxOutcomesPerMessage {
			select {
			case more, ok := <-outcomes:
				if !ok {
					break gather
				}
				batch = append(batch, more)
			default:
				break gather
			}
		}
		// Send encodes the message before it returns, so batch may be reused.
		if err := stream.Send(&pb.SubmitTradesResponse{Outcomes: batch}); err != nil {
			failed = err
			cancel()
		}
	}
	return failed
}
