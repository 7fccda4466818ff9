// Package esdbstore is the eventstore port over EventStoreDB / KurrentDB,
// through the EventStore-Client-Go v4 client: a registry that outgrows one
// node runs on a cluster of 3 or 5 nodes with quorum writes.
//
// The mapping is one to one. A stream is a stream; expected revisions are the
// client's Any, NoStream, StreamExists and StreamRevision; the server's
// wrong-expected-version reply becomes eventstore.ErrWrongExpectedRevision
// with the actual revision, and a missing stream ErrStreamNotFound. Global
// positions are the $all commit and prepare positions. Event ids, types and
// data are stored as given. EventStoreDB keeps only whether an event is JSON,
// so the adapter keeps the caller's content type in a small envelope in front
// of the caller's metadata (see envelope.go); both read back byte for byte.
//
// ReadAll reads $all page by page and keeps the events that match the filter
// (the v4 client's ReadAll takes no server-side filter). Subscribe subscribes
// to $all with a server-side filter (the stream prefixes, else the event
// types, else "no system events") and checkpoints; the other dimension of the
// filter, and the exclusion of system streams and types (names that start
// with '$'), are applied in the adapter. When the subscription drops (a node
// stops, a leader is elected) the adapter subscribes again after the last
// event the server sent it: subscriptions to $all start after their
// position, so nothing is skipped and nothing is delivered twice. The
// server's checkpoints are not used at all, neither to filter nor to
// resume: released servers sent some ahead of events not yet sent.
//
// Every call carries the requires-leader header (see requireLeader), so that
// it reaches the leader after an election, and is sent again while the
// cluster changes (see Retry); an append whose reply was lost is repeated
// with the same event ids, and its position read back. Open refuses a
// server older than MinServerVersion. The store states its positions' unit
// (log bytes) and its append limit, which the registry's batches respect.
package esdbstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"go.uber.org/zap"
	"google.golang.org/grpc/metadata"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// Logger receives the client's connection messages and the adapter's
	// resubscriptions. Nil discards them.
	Logger *zap.Logger
	// PageSize is how many events one read request asks for; 0 means 256.
	PageSize int
	// Retry says how long a call is sent again while the cluster changes.
	Retry Retry
	// MaxAppendSize is the server's maximum append size (its
	// MaxAppendSize setting), which batches of commands stay within; 0
	// means the server's default, 1 MiB.
	MaxAppendSize int
}

// Store is an eventstore.Store on an EventStoreDB server or cluster. It is
// safe for concurrent use.
type Store struct {
	clients *clients
	log     *zap.Logger
	page    int
	retry   Retry
	maxSize int

	mu     sync.Mutex
	closed bool
	subs   map[*subscription]struct{}
}

var _ eventstore.Store = (*Store)(nil)

// Open connects to the server or cluster that url names, in EventStoreDB's
// connection-string form (esdb://host:2113?tls=false for one node,
// esdb://host1:2113,host2:2113,host3:2113?tls=true for a cluster), and checks
// that it answers a read of $all before returning.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	config, err := parseURL(url)
	if err != nil {
		return nil, fmt.Errorf("esdbstore: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	if config.Username != "" && config.DisableTLS {
		logger.Warn("esdbstore: the connection string has credentials but tls=false: the client sends credentials only over TLS, so the server sees an anonymous user")
	}
	sugar := logger.Sugar().With("component", "esdb-client")
	config.Logger = func(level esdb.LogLevel, format string, args ...any) {
		// The client reports at error level what the adapter recovers from
		// (dropped subscriptions, reconnections), so nothing it says is
		// more than a warning here.
		switch level {
		case esdb.LogError, esdb.LogWarn:
			sugar.Warnf(format, args...)
		default:
			sugar.Debugf(format, args...)
		}
	}
	page := opts.PageSize
	if page <= 0 {
		page = 256
	}
	s := &Store{log: logger, page: page, retry: opts.Retry.withDefaults(), maxSize: opts.MaxAppendSize, subs: map[*subscription]struct{}{}}
	if s.maxSize <= 0 {
		s.maxSize = DefaultMaxAppendSize
	}
	if s.clients, err = newClients(config); err != nil {
		return nil, fmt.Errorf("esdbstore: %w", err)
	}
	// One attempt: the client's discovery already tries as often as the
	// connection string says (maxDiscoverAttempts), and a wrong address
	// should not keep the process waiting.
	if _, err := s.lastPosition(ctx, 0); err != nil {
		s.clients.close()
		return nil, fmt.Errorf("esdbstore: connect to %s: %w%s", Redact(url), err, accessHint(err))
	}
	if err := s.checkServerVersion(); err != nil {
		s.clients.close()
		return nil, fmt.Errorf("esdbstore: connect to %s: %w", Redact(url), err)
	}
	return s, nil
}

// MinServerVersion is the oldest EventStoreDB / KurrentDB release the
// adapter accepts: stream reads carry the events' log positions from 22.6
// on (older servers send the maximum value there), and the registry tells
// callers where their events are from those positions.
var MinServerVersion = esdb.ServerVersion{Major: 22, Minor: 6}

// checkServerVersion refuses a server older than MinServerVersion.
func (s *Store) checkServerVersion() error {
	c, err := s.clients.acquire()
	if err != nil {
		return err
	}
	v, err := c.c.GetServerVersion()
	s.clients.release(c)
	if err != nil {
		return fmt.Errorf("read the server's version: %w", err)
	}
	least := MinServerVersion
	if *v == (esdb.ServerVersion{}) {
		return fmt.Errorf("the server does not report its version (servers before 21.10 do not); ecoregistry needs EventStoreDB or KurrentDB %d.%d or later, whose stream reads carry the events' positions",
			least.Major, least.Minor)
	}
	if v.Major < least.Major || (v.Major == least.Major && v.Minor < least.Minor) {
		return fmt.Errorf("the server is EventStoreDB %d.%d.%d; ecoregistry needs %d.%d or later: older servers send no log positions with the events of stream reads, which the registry uses to tell where a command's events are",
			v.Major, v.Minor, v.Patch, least.Major, least.Minor)
	}
	return nil
}

// accessHint explains a refusal of the first read of $all.
func accessHint(err error) string {
	switch {
	case isCode(err, esdb.ErrorCodeUnauthenticated):
		return " (the server refused the credentials in the connection string: check the user and password)"
	case isCode(err, esdb.ErrorCodeAccessDenied):
		return " (the registry reads $all, which EventStoreDB reserves to $admins by default: give credentials of a user in $admins," +
			" or grant the user read on $all through the $$$all stream's ACL; see the README's EventStoreDB runbook)"
	}
	return ""
}

// parseURL reads a connection string, and says what to write instead of
// the kurrentdb:// scheme, which this client does not accept.
func parseURL(url string) (*esdb.Configuration, error) {
	config, err := esdb.ParseConnectionString(url)
	if err == nil {
		return config, nil
	}
	if scheme, _, _ := strings.Cut(url, "://"); strings.HasPrefix(scheme, "kurrent") {
		err = fmt.Errorf("the %s:// scheme is for the KurrentDB clients; this client (EventStore-Client-Go v4) takes esdb:// and esdb+discover:// with the same hosts and settings: %w", scheme, err)
	}
	// The parser's errors may quote the connection string whole.
	return nil, fmt.Errorf("connection string %q: %w", Redact(url), redactedError{err: err, userinfo: userinfo(url)})
}

// Redact returns the connection string url with its credentials, the user
// and password before the hosts, replaced by ***, for help texts, logs and
// errors.
func Redact(url string) string {
	if u := userinfo(url); u != "" {
		return strings.Replace(url, u+"@", "***@", 1)
	}
	return url
}

// userinfo returns the credentials of a connection string: what comes
// between the scheme and the last @ before the settings, or "" when it has
// none. The last @ counts, so that a password that holds one is masked
// whole.
func userinfo(url string) string {
	_, rest, ok := strings.Cut(url, "://")
	if !ok {
		return ""
	}
	if end := strings.IndexAny(rest, "?#"); end >= 0 {
		rest = rest[:end]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	return rest[:at]
}

// redactedError is err with the credentials userinfo masked in its text.
type redactedError struct {
	err      error
	userinfo string
}

func (e redactedError) Error() string {
	if e.userinfo == "" {
		return e.err.Error()
	}
	return strings.ReplaceAll(e.err.Error(), e.userinfo, "***")
}

func (e redactedError) Unwrap() error { return e.err }

// closedErr is ErrClosed once the store is closed, else nil.
func (s *Store) closedErr() error {
	if s.clients.isClosed() {
		return eventstore.ErrClosed
	}
	return nil
}

// Append implements eventstore.Store. A call that fails because a node went
// away, was not the leader, or did not reply in time is sent again, with the
// same event ids and expected revision, after a pause (see Retry).
// EventStoreDB takes a repeat of an append it already wrote as idempotent
// and answers it without a position, which is then read back: an append
// whose outcome was unknown is written once and reports where it is.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	ctx = requireLeader(ctx)
	opts := esdb.AppendToStreamOptions{ExpectedRevision: toExpected(expected)}
	data := toEventData(events)
	res, err := retry(ctx, s, s.retry.Budget, func(c *client) (*esdb.WriteResult, error) {
		return c.c.AppendToStream(ctx, stream, opts, data...)
	})
	switch {
	case err == nil:
		return s.appended(ctx, stream, res, events[len(events)-1].ID)
	case isCode(err, esdb.ErrorCodeWrongExpectedVersion):
		return eventstore.AppendResult{}, s.wrongRevision(ctx, stream, expected, err)
	case errors.Is(err, eventstore.ErrClosed):
		return eventstore.AppendResult{}, err
	}
	return eventstore.AppendResult{}, fmt.Errorf("esdbstore: append to %q: %w", stream, err)
}

// toEventData converts the port's events into the client's.
func toEventData(events []eventstore.EventData) []esdb.EventData {
	data := make([]esdb.EventData, len(events))
	for i, e := range events {
		ct := esdb.ContentTypeBinary
		if e.ContentType == "application/json" {
			// Let the server's own projections and UI read JSON as JSON.
			ct = esdb.ContentTypeJson
		}
		data[i] = esdb.EventData{EventID: e.ID, EventType: e.Type, ContentType: ct, Data: e.Data,
			Metadata: wrapMetadata(e.ContentType, e.Metadata)}
	}
	return data
}

// appended turns the server's answer to an append into the port's. The
// server answers an append it had already written (a repeat with the same
// event ids) without a log position, which the v4 client reports as 0/0:
// the position of the last event, whose id is lastID, is then read back, so
// that a caller waiting for it does not wait for nothing.
func (s *Store) appended(ctx context.Context, stream string, res *esdb.WriteResult, lastID uuid.UUID) (eventstore.AppendResult, error) {
	out := eventstore.AppendResult{
		NextExpectedRevision: res.NextExpectedVersion,
		Position:             eventstore.Position{Commit: res.CommitPosition, Prepare: res.PreparePosition},
	}
	if out.Position != (eventstore.Position{}) {
		return out, nil
	}
	last, err := s.ReadStream(ctx, stream, res.NextExpectedVersion, eventstore.Forwards, 1)
	switch {
	case err != nil:
		return eventstore.AppendResult{}, fmt.Errorf("esdbstore: append to %q: written, but its position cannot be read: %w", stream, err)
	case len(last) != 1 || last[0].ID != lastID:
		return eventstore.AppendResult{}, fmt.Errorf("esdbstore: append to %q: the server reported it written up to revision %d, which does not hold its last event %s",
			stream, res.NextExpectedVersion, lastID)
	}
	out.Position = last[0].Position
	return out, nil
}

func toExpected(e eventstore.ExpectedRevision) esdb.ExpectedRevision {
	switch e.Kind() {
	case eventstore.ExpectNoStream:
		return esdb.NoStream{}
	case eventstore.ExpectStreamExists:
		return esdb.StreamExists{}
	case eventstore.ExpectExact:
		return esdb.Revision(e.Revision())
	}
	return esdb.Any{}
}

// wrongExpected matches the message the v4 client gives a
// wrong-expected-version reply; the actual revision is only in its text.
var wrongExpected = regexp.MustCompile(`but got '([^']*)'`)

// wrongRevision builds the port's conflict error from the client's. When the
// client's message cannot be read (another client version), the actual
// revision is read from the stream instead.
func (s *Store) wrongRevision(ctx context.Context, stream string, expected eventstore.ExpectedRevision, cause error) error {
	werr := &eventstore.WrongExpectedRevisionError{Stream: stream, Expected: expected}
	if m := wrongExpected.FindStringSubmatch(cause.Error()); m != nil {
		if m[1] == "no_stream" {
			return werr
		}
		if rev, err := strconv.ParseUint(m[1], 10, 64); err == nil {
			werr.Exists, werr.Actual = true, rev
			return werr
		}
	}
	last, err := s.ReadStream(ctx, stream, eventstore.StreamEnd, eventstore.Backwards, 1)
	switch {
	case errors.Is(err, eventstore.ErrStreamNotFound):
	case err != nil:
		return fmt.Errorf("%w (reading the actual revision: %v)", werr, err)
	case len(last) == 1:
		werr.Exists, werr.Actual = true, last[0].Revision
	}
	return werr
}

// ReadStream implements eventstore.Store. It reads from the leader, so that
// it sees every append acknowledged before it.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.RecordedEvent, error) {
	if err := s.closedErr(); err != nil {
		return nil, err
	}
	ctx = requireLeader(ctx)
	var out []eventstore.RecordedEvent
	for {
		want := s.page
		if limit > 0 {
			want = min(want, limit-len(out))
		}
		opts := esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(from)}
		if dir == eventstore.Backwards {
			opts.Direction = esdb.Backwards
			if from == eventstore.StreamEnd {
				opts.From = esdb.End{}
			}
		}
		page, err := s.read(ctx, s.retry.Budget, func(c *esdb.Client) (*esdb.ReadStream, error) {
			return c.ReadStream(ctx, stream, opts, uint64(want))
		})
		if isCode(err, esdb.ErrorCodeResourceNotFound) {
			return nil, &eventstore.StreamNotFoundError{Stream: stream}
		}
		if err != nil {
			return nil, fmt.Errorf("esdbstore: read stream %q: %w", stream, err)
		}
		out = append(out, page...)
		if len(page) < want || (limit > 0 && len(out) >= limit) {
			return out, nil
		}
		last := page[len(page)-1].Revision
		if dir == eventstore.Backwards {
			if last == 0 {
				return out, nil
			}
			from = last - 1
		} else {
			from = last + 1
		}
	}
}

// ReadAll implements eventstore.Store. It reads $all in pages, from the
// leader, and keeps the events that match filter and are not the server's
// own.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, dir eventstore.Direction, limit int, filter eventstore.Filter) ([]eventstore.RecordedEvent, error) {
	if err := s.closedErr(); err != nil {
		return nil, err
	}
	ctx = requireLeader(ctx)
	if (dir == eventstore.Forwards && from == eventstore.End) || (dir == eventstore.Backwards && from == eventstore.Start) {
		return nil, nil
	}
	var out []eventstore.RecordedEvent
	for {
		opts := esdb.ReadAllOptions{Direction: esdb.Forwards, From: toAllPosition(from)}
		if dir == eventstore.Backwards {
			opts.Direction = esdb.Backwards
		}
		page, err := s.read(ctx, s.retry.Budget, func(c *esdb.Client) (*esdb.ReadStream, error) {
			return c.ReadAll(ctx, opts, uint64(s.page))
		})
		if err != nil {
			return nil, fmt.Errorf("esdbstore: read $all from %s: %w", from, err)
		}
		for _, e := range page {
			// A forward read of $all includes the event at its start
			// position; the port's positions are exclusive.
			if dir == eventstore.Forwards && !from.Before(e.Position) {
				continue
			}
			if selected(filter, e.Stream, e.Type) {
				out = append(out, e)
				if limit > 0 && len(out) == limit {
					return out, nil
				}
			}
		}
		if len(page) < s.page {
			return out, nil
		}
		from = page[len(page)-1].Position
	}
}

func toAllPosition(p eventstore.Position) esdb.AllPosition {
	switch p {
	case eventstore.Start:
		return esdb.Start{}
	case eventstore.End:
		return esdb.End{}
	}
	return esdb.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// selected reports whether an event matches filter and is not one of the
// server's own (a stream or type whose name starts with '$').
func selected(filter eventstore.Filter, stream, typ string) bool {
	return !strings.HasPrefix(stream, "$") && !strings.HasPrefix(typ, "$") && filter.Matches(stream, typ)
}

// read runs one read request and collects its events, sending it again
// while the cluster is changing.
func (s *Store) read(ctx context.Context, budget time.Duration, open func(*esdb.Client) (*esdb.ReadStream, error)) ([]eventstore.RecordedEvent, error) {
	return retry(ctx, s, budget, func(c *client) ([]eventstore.RecordedEvent, error) {
		return collect(open(c.c))
	})
}

func collect(rs *esdb.ReadStream, err error) ([]eventstore.RecordedEvent, error) {
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []eventstore.RecordedEvent
	for {
		e, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if e.Event == nil {
			continue
		}
		out = append(out, fromRecorded(e.Event))
	}
}

// fromRecorded converts the client's event into the port's.
func fromRecorded(e *esdb.RecordedEvent) eventstore.RecordedEvent {
	contentType, metadata, ok := unwrapMetadata(e.UserMetadata)
	if !ok {
		contentType = e.ContentType
	}
	data := e.Data
	if len(data) == 0 {
		data = nil
	}
	return eventstore.RecordedEvent{
		EventData: eventstore.EventData{ID: e.EventID, Type: e.EventType, ContentType: contentType, Data: data, Metadata: metadata},
		Stream:    e.StreamID,
		Revision:  e.EventNumber,
		Position:  eventstore.Position{Commit: e.Position.Commit, Prepare: e.Position.Prepare},
		Recorded:  e.CreatedDate,
	}
}

// lastPosition returns the position of the last event in $all, or Start
// when $all is empty, retrying within budget.
func (s *Store) lastPosition(ctx context.Context, budget time.Duration) (eventstore.Position, error) {
	ctx = requireLeader(ctx)
	page, err := s.read(ctx, budget, func(c *esdb.Client) (*esdb.ReadStream, error) {
		return c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	})
	if err != nil || len(page) == 0 {
		return eventstore.Start, err
	}
	return page[0].Position, nil
}

// Close implements eventstore.Store: it ends every subscription with
// ErrClosed and closes the client once no call uses it.
func (s *Store) Close() error {
	if !s.clients.close() {
		return eventstore.ErrClosed
	}
	s.mu.Lock()
	s.closed = true
	subs := s.subs
	s.subs = nil
	s.mu.Unlock()
	for sub := range subs {
		sub.end(eventstore.ErrClosed)
	}
	return nil
}

// requireLeader makes the calls made with ctx carry EventStoreDB's
// requires-leader header, so that a follower refuses them and names the
// leader, to which the client then reconnects. The v4 client means to send
// it (its default node preference is the leader) but puts it in the
// incoming metadata of the call's context, which gRPC never sends; it
// offers no dial option or interceptor either, but it keeps the outgoing
// metadata of the context it is given. Without the header a client left on
// a deposed leader after an election has its appends forwarded and its
// reads served from that node's copy of the log, which may be stale.
func requireLeader(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "requires-leader", "true")
}

// renewed replaces c after a failure the client cannot recover from itself.
func (s *Store) renewed(c *client) {
	if s.clients.renew(c) {
		s.log.Warn("esdbstore: the connection to the cluster broke; starting a new client")
	}
}

func isCode(err error, code esdb.ErrorCode) bool {
	var e *esdb.Error
	return errors.As(err, &e) && e.Code() == code
}

// CheckURL reports whether url is a connection string the client accepts,
// without connecting, so that a command can refuse a bad one up front.
func CheckURL(url string) error {
	_, err := parseURL(url)
	return err
}

// PositionUnit implements eventstore.PositionUnits: EventStoreDB's positions
// are byte offsets in its transaction log, so a lag counts bytes, the
// server's own records included, not events.
func (s *Store) PositionUnit() eventstore.PositionUnit { return eventstore.UnitLogBytes }

// DefaultMaxAppendSize is EventStoreDB's default maximum append size.
const DefaultMaxAppendSize = 1 << 20

// MaxAppendSize implements eventstore.AppendLimit.
func (s *Store) MaxAppendSize() int { return s.maxSize }

// AppendSize implements eventstore.AppendLimit, counting as EventStoreDB
// does: each event's data and custom metadata (the caller's, behind the
// adapter's content-type envelope) and its type twice (the server counts
// UTF-16 characters at two bytes; a type's UTF-8 bytes are at least as
// many).
func (s *Store) AppendSize(events ...eventstore.EventData) int {
	n := 0
	for _, e := range events {
		n += len(e.Data) + wrappedSize(e.ContentType, e.Metadata) + 2*len(e.Type)
	}
	return n
}
