package esdbfake

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// MaxAppendSize is EventStoreDB's default limit on the size of one append.
const MaxAppendSize = 1 << 20

// eventSize is what an event counts toward MaxAppendSize, as EventStoreDB
// counts it: its data and custom metadata, and its type at two bytes a
// character.
func eventSize(typ string, data, metadata []byte) int {
	return len(data) + len(metadata) + 2*len(typ)
}

// Append implements Streams.Append: one options message, then the proposed
// events, then one reply.
func (n *streamsService) Append(srv streams.Streams_AppendServer) error {
	first, err := srv.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return errorf(codes.InvalidArgument, "an append must start with its options")
	}
	if err := n.srv.authorize(srv.Context(), false); err != nil {
		return err
	}
	stream := string(opts.GetStreamIdentifier().GetStreamName())
	if stream == "" {
		return errorf(codes.InvalidArgument, "an append must name a stream")
	}
	exp, err := expectationOf(opts)
	if err != nil {
		return err
	}
	events, err := receiveEvents(srv)
	if err != nil {
		return err
	}
	// Like EventStoreDB, which hands the whole write to its core before it
	// learns that the node cannot take it, refuse only once the request
	// has been read.
	if err := n.srv.refuse(); err != nil {
		return err
	}
	if err := n.checkLeader(srv.Context()); err != nil {
		return err
	}
	out := n.srv.log.appendEvents(stream, exp, events)
	if !out.ok {
		return srv.SendAndClose(&streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: wrongExpected(exp, out)}})
	}
	if err := n.srv.replyFault(srv.Context()); err != nil {
		return err
	}
	ok := &streams.AppendResp_Success{}
	if out.exists {
		ok.CurrentRevisionOption = &streams.AppendResp_Success_CurrentRevision{CurrentRevision: out.current}
	} else {
		ok.CurrentRevisionOption = &streams.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
	}
	if out.noPosition {
		ok.PositionOption = &streams.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
	} else {
		// EventStoreDB reports the log position of the last event as
		// both commit and prepare position.
		ok.PositionOption = &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{
			CommitPosition: out.lastPos, PreparePosition: out.lastPos}}
	}
	return srv.SendAndClose(&streams.AppendResp{Result: &streams.AppendResp_Success_{Success: ok}})
}

// expectationOf reads an append's expected stream revision.
func expectationOf(opts *streams.AppendReq_Options) (expectation, error) {
	switch r := opts.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_Any:
		return expectation{kind: expectAny}, nil
	case *streams.AppendReq_Options_NoStream:
		return expectation{kind: expectNoStream}, nil
	case *streams.AppendReq_Options_StreamExists:
		return expectation{kind: expectStreamExists}, nil
	case *streams.AppendReq_Options_Revision:
		return expectation{kind: expectRevision, revision: r.Revision}, nil
	}
	return expectation{}, errorf(codes.InvalidArgument, "an append must state an expected stream revision")
}

// receiveEvents reads an append's proposed events, refusing the append as
// soon as they pass MaxAppendSize, as EventStoreDB does.
func receiveEvents(srv streams.Streams_AppendServer) ([]proposed, error) {
	var events []proposed
	size := 0
	for {
		req, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return nil, err
		}
		pm := req.GetProposedMessage()
		if pm == nil {
			return nil, errorf(codes.InvalidArgument, "after the options an append sends only proposed messages")
		}
		typ, ok := pm.GetMetadata()["type"]
		if !ok {
			return nil, requiredMetadata("type")
		}
		contentType, ok := pm.GetMetadata()["content-type"]
		if !ok {
			return nil, requiredMetadata("content-type")
		}
		id, err := fromUUID(pm.GetId())
		if err != nil {
			return nil, errorf(codes.InvalidArgument, "event %d: %v", len(events), err)
		}
		size += eventSize(typ, pm.GetData(), pm.GetCustomMetadata())
		if size > MaxAppendSize {
			_ = grpc.SetTrailer(srv.Context(), metadataPairs("exception", "maximum-append-size-exceeded"))
			return nil, status.Errorf(codes.InvalidArgument, "Maximum Append Size of %d Exceeded.", MaxAppendSize)
		}
		events = append(events, proposed{
			id: id, typ: typ, json: contentType == "application/json",
			data: pm.GetData(), metadata: pm.GetCustomMetadata(),
		})
	}
}

// wrongExpected is the WrongExpectedVersion reply to an append that
// expected exp of a stream the outcome describes.
func wrongExpected(exp expectation, out appendOutcome) *streams.AppendResp_WrongExpectedVersion {
	wrong := &streams.AppendResp_WrongExpectedVersion{}
	if out.exists {
		wrong.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: out.current}
	} else {
		wrong.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
	}
	switch exp.kind {
	case expectAny:
		wrong.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
	case expectStreamExists:
		wrong.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
	case expectNoStream:
		wrong.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	default:
		wrong.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: exp.revision}
	}
	return wrong
}

// Read implements Streams.Read: reads of one stream or of $all, and
// subscriptions to $all.
func (n *streamsService) Read(req *streams.ReadReq, srv streams.Streams_ReadServer) error {
	opts := req.GetOptions()
	if opts == nil {
		return errorf(codes.InvalidArgument, "a read needs options")
	}
	if err := n.srv.refuse(); err != nil {
		return err
	}
	if err := n.srv.authorize(srv.Context(), opts.GetAll() != nil); err != nil {
		return err
	}
	if err := n.checkLeader(srv.Context()); err != nil {
		return err
	}
	filter, err := compileFilter(opts)
	if err != nil {
		return err
	}
	enc := encoder{asString: opts.GetUuidOption().GetString_() != nil,
		noPosition: opts.GetStream() != nil && !n.srv.streamReadsCarryPositions()}
	backwards := opts.GetReadDirection() == streams.ReadReq_Options_Backwards
	switch opts.GetCountOption().(type) {
	case *streams.ReadReq_Options_Subscription:
		if opts.GetAll() == nil {
			return errorf(codes.Unimplemented, "subscriptions to a single stream are not implemented")
		}
		if backwards {
			return errorf(codes.InvalidArgument, "a subscription reads forwards")
		}
		return n.subscribeAll(opts.GetAll(), filter, enc, srv)
	case *streams.ReadReq_Options_Count:
	default:
		return errorf(codes.InvalidArgument, "a read needs a count or subscription options")
	}
	count := opts.GetCount()
	switch {
	case opts.GetStream() != nil:
		return n.readStream(opts.GetStream(), backwards, count, enc, srv)
	case opts.GetAll() != nil:
		return n.readAll(opts.GetAll(), backwards, count, filter, enc, srv)
	}
	return errorf(codes.InvalidArgument, "a read names a stream or $all")
}

func (n *streamsService) readStream(o *streams.ReadReq_Options_StreamOptions, backwards bool, count uint64, enc encoder, srv streams.Streams_ReadServer) error {
	name := o.GetStreamIdentifier().GetStreamName()
	records := n.visible(n.srv.log.stream(string(name)))
	if len(records) == 0 {
		return srv.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{StreamNotFound: &streams.ReadResp_StreamNotFound{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: name}}}})
	}
	last := uint64(len(records) - 1)
	var from uint64
	switch r := o.GetRevisionOption().(type) {
	case *streams.ReadReq_Options_StreamOptions_Start:
		from = 0
	case *streams.ReadReq_Options_StreamOptions_End:
		if !backwards {
			return nil
		}
		from = last
	case *streams.ReadReq_Options_StreamOptions_Revision:
		from = r.Revision
	default:
		return errorf(codes.InvalidArgument, "a stream read needs a start revision")
	}
	sent := uint64(0)
	if backwards {
		// Backwards from beyond the end starts at the last event.
		for i := int64(min(from, last)); i >= 0 && sent < count; i-- {
			if err := srv.Send(enc.event(records[i])); err != nil {
				return err
			}
			sent++
		}
		return nil
	}
	for i := from; i <= last && sent < count; i++ {
		if err := srv.Send(enc.event(records[i])); err != nil {
			return err
		}
		sent++
	}
	return nil
}

func (n *streamsService) readAll(o *streams.ReadReq_Options_AllOptions, backwards bool, count uint64, filter *filter, enc encoder, srv streams.Streams_ReadServer) error {
	records, _ := n.srv.log.snapshot()
	records = n.visible(records)
	send := func(r *record) (bool, error) {
		if filter != nil && !filter.match(r) {
			return false, nil
		}
		return true, srv.Send(enc.event(r))
	}
	sent := uint64(0)
	if backwards {
		// Backwards from P returns the events that end at or before P, so
		// the event at P itself is excluded.
		start := len(records)
		if p := o.GetPosition(); p != nil {
			at := position{p.GetCommitPosition(), p.GetPreparePosition()}
			start = sort.Search(len(records), func(i int) bool {
				return at.less(position{records[i].next, records[i].next})
			})
		} else if o.GetStart() != nil {
			start = 0
		}
		for i := start - 1; i >= 0 && sent < count; i-- {
			ok, err := send(records[i])
			if err != nil {
				return err
			}
			if ok {
				sent++
			}
		}
		return nil
	}
	// Forwards from P includes the event at P.
	start := 0
	if p := o.GetPosition(); p != nil {
		start = firstAtOrAfter(records, position{p.GetCommitPosition(), p.GetPreparePosition()})
	} else if o.GetEnd() != nil {
		start = len(records)
	}
	for i := start; i < len(records) && sent < count; i++ {
		ok, err := send(records[i])
		if err != nil {
			return err
		}
		if ok {
			sent++
		}
	}
	return nil
}

// liveSubscription is a running subscription, which the server can drop.
type liveSubscription struct {
	dropped  chan struct{}
	dropOnce sync.Once
}

// subscribeAll serves a subscription to $all: a confirmation, the stored
// events after the start position (catch-up), a caught-up message, then each
// new event as it is written (live). With a filter it sends checkpoints, as
// SetCheckpoints says.
func (n *streamsService) subscribeAll(o *streams.ReadReq_Options_AllOptions, filter *filter, enc encoder, srv streams.Streams_ReadServer) error {
	ctx := srv.Context()
	s := n.srv
	sub := s.register(o, filter)
	defer s.unregister(sub)

	records, changed := s.log.snapshot()
	records = n.visible(records)
	next := subscriptionStart(records, o)
	if err := srv.Send(&streams.ReadResp{Content: &streams.ReadResp_Confirmation{Confirmation: &streams.ReadResp_SubscriptionConfirmation{
		SubscriptionId: uuid.NewString()}}}); err != nil {
		return err
	}
	cp := &checkpointer{srv: srv, server: s, filter: filter}
	caughtUp := false
	for {
		for ; next < len(records); next++ {
			select {
			case <-sub.dropped:
				return cp.dropped()
			case <-ctx.Done():
				return status.FromContextError(ctx.Err()).Err()
			default:
			}
			r := records[next]
			if filter == nil || filter.match(r) {
				if err := srv.Send(enc.event(r)); err != nil {
					return err
				}
			}
			if err := cp.considered(r); err != nil {
				return err
			}
		}
		if !caughtUp {
			caughtUp = true
			if err := srv.Send(&streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: &streams.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		if err := cp.waiting(); err != nil {
			return err
		}
		select {
		case <-changed:
			records, changed = s.log.snapshot()
			records = n.visible(records)
		case <-sub.dropped:
			return cp.dropped()
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

// subscriptionStart is the index in records of the first record a
// subscription with options o sends: the one after its start position.
func subscriptionStart(records []*record, o *streams.ReadReq_Options_AllOptions) int {
	switch {
	case o.GetPosition() != nil:
		p := o.GetPosition()
		return firstAfter(records, position{p.GetCommitPosition(), p.GetPreparePosition()})
	case o.GetEnd() != nil:
		return len(records)
	}
	return 0
}

// register records a subscription request and returns the subscription,
// which the server can then drop.
func (s *Server) register(o *streams.ReadReq_Options_AllOptions, filter *filter) *liveSubscription {
	sub := &liveSubscription{dropped: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs[sub] = struct{}{}
	req := filter.describe()
	switch p := o.GetPosition(); {
	case p != nil:
		req.From = fmt.Sprintf("%d/%d", p.GetCommitPosition(), p.GetPreparePosition())
	case o.GetEnd() != nil:
		req.From = "end"
	default:
		req.From = "start"
	}
	s.requests = append(s.requests, req)
	return sub
}

func (s *Server) unregister(sub *liveSubscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, sub)
}

// checkpointer sends a filtered subscription's checkpoints.
type checkpointer struct {
	srv    streams.Streams_ReadServer
	server *Server
	filter *filter
	count  int
}

// considered counts record r as considered by the filter and sends a
// checkpoint after every interval of them, at r's position.
func (c *checkpointer) considered(r *record) error {
	if c.filter == nil {
		return nil
	}
	c.count++
	if c.count < c.filter.checkpointInterval {
		return nil
	}
	c.count = 0
	p := r.position()
	if c.server.checkpointStyle() == CheckpointsCommitOnly {
		p.prepare = 0
	}
	return c.send(p)
}

// waiting is called when the subscription has sent every record it read;
// in the CheckpointsAheadAtEnd style it sends a checkpoint at the end of
// the log as it is now, which may be past records not sent yet.
func (c *checkpointer) waiting() error {
	if c.filter == nil || c.server.checkpointStyle() != CheckpointsAheadAtEnd {
		return nil
	}
	end := c.server.log.endPosition()
	return c.send(position{end, end})
}

// dropped ends the subscription as DropSubscriptions asks. In the
// CheckpointsAheadAtEnd style a checkpoint at the end of the log comes
// first, as the subscription has then sent everything it read: a client
// that resumes after it skips the next event written.
func (c *checkpointer) dropped() error {
	if err := c.waiting(); err != nil {
		return err
	}
	return dropped()
}

func (c *checkpointer) send(p position) error {
	return c.srv.Send(&streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{Checkpoint: &streams.ReadResp_Checkpoint{
		CommitPosition: p.commit, PreparePosition: p.prepare}}})
}

func dropped() error {
	return status.Error(codes.Unavailable, "esdbfake: subscription dropped: the node is changing role")
}

// filter is a compiled server-side filter on stream names or event types.
type filter struct {
	onStream           bool
	prefixes           []string
	regex              *regexp.Regexp
	checkpointInterval int
}

// compileFilter reads a read request's filter options; it returns nil for
// no filter.
func compileFilter(opts *streams.ReadReq_Options) (*filter, error) {
	fo := opts.GetFilter()
	if fo == nil {
		return nil, nil
	}
	f := &filter{}
	var expr *streams.ReadReq_Options_FilterOptions_Expression
	switch x := fo.GetFilter().(type) {
	case *streams.ReadReq_Options_FilterOptions_StreamIdentifier:
		f.onStream, expr = true, x.StreamIdentifier
	case *streams.ReadReq_Options_FilterOptions_EventType:
		expr = x.EventType
	default:
		return nil, errorf(codes.InvalidArgument, "a filter applies to stream names or event types")
	}
	// As in EventStoreDB, prefixes win over a regular expression.
	if len(expr.GetPrefix()) > 0 {
		f.prefixes = expr.GetPrefix()
	} else {
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return nil, errorf(codes.InvalidArgument, "filter regex %q: %v", expr.GetRegex(), err)
		}
		f.regex = re
	}
	window := 32 // EventStoreDB's read batch size, used when no window is given
	if m, ok := fo.GetWindow().(*streams.ReadReq_Options_FilterOptions_Max); ok && m.Max > 0 {
		window = int(m.Max)
	}
	multiplier := int(fo.GetCheckpointIntervalMultiplier())
	if multiplier == 0 {
		return nil, errorf(codes.InvalidArgument, "checkpoint interval multiplier must be positive")
	}
	f.checkpointInterval = window * multiplier
	return f, nil
}

func (f *filter) match(r *record) bool {
	name := r.typ
	if f.onStream {
		name = r.stream
	}
	if f.prefixes != nil {
		for _, p := range f.prefixes {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	return f.regex.MatchString(name)
}

func (f *filter) describe() SubscriptionRequest {
	if f == nil {
		return SubscriptionRequest{}
	}
	d := SubscriptionRequest{OnStreamName: f.onStream, Prefixes: f.prefixes, CheckpointInterval: f.checkpointInterval}
	if f.regex != nil {
		d.Regex = f.regex.String()
	}
	return d
}

// encoder turns records into read responses. noPosition sends events
// without their log positions, as servers before 22.6 did on stream reads.
type encoder struct{ asString, noPosition bool }

func (e encoder) event(r *record) *streams.ReadResp {
	id := &shared.UUID{}
	if e.asString {
		id.Value = &shared.UUID_String_{String_: r.id.String()}
	} else {
		most, least := splitUUID(r.id)
		id.Value = &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least}}
	}
	contentType := "application/octet-stream"
	if r.json {
		contentType = "application/json"
	}
	pos := r.pos
	if e.noPosition {
		pos = math.MaxUint64
	}
	return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: &streams.ReadResp_ReadEvent{
		Event: &streams.ReadResp_ReadEvent_RecordedEvent{
			Id:               id,
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
			StreamRevision:   r.revision,
			CommitPosition:   pos,
			PreparePosition:  pos,
			Metadata: map[string]string{
				"type":         r.typ,
				"content-type": contentType,
				// .NET ticks (100 ns) since the Unix epoch.
				"created": strconv.FormatInt(r.created.UnixNano()/100, 10),
			},
			CustomMetadata: r.metadata,
			Data:           r.data,
		},
		Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: pos},
	}}}
}

func splitUUID(id uuid.UUID) (most, least int64) {
	return int64(binary.BigEndian.Uint64(id[:8])), int64(binary.BigEndian.Uint64(id[8:]))
}

func fromUUID(u *shared.UUID) (uuid.UUID, error) {
	if s := u.GetStructured(); s != nil {
		var id uuid.UUID
		binary.BigEndian.PutUint64(id[:8], uint64(s.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(id[8:], uint64(s.GetLeastSignificantBits()))
		return id, nil
	}
	if u.GetString_() != "" {
		return uuid.Parse(u.GetString_())
	}
	return uuid.Nil, errors.New("the event has no id")
}

// requiresLeader reports whether the call carries EventStoreDB's
// requires-leader header.
func requiresLeader(ctx context.Context) bool {
	md, _ := metadata.FromIncomingContext(ctx)
	v := md.Get("requires-leader")
	return len(v) > 0 && v[0] == "true"
}

func requiredMetadata(key string) error {
	return status.Errorf(codes.InvalidArgument, "Required Metadata Property '%s' is missing", key)
}

func metadataPairs(kv ...string) metadata.MD { return metadata.Pairs(kv...) }
