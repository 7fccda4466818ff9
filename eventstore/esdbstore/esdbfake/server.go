// Package esdbfake is a TEST DOUBLE: an in-process gRPC server that speaks
// the wire protocol of EventStoreDB / KurrentDB well enough for the
// EventStore-Client-Go v4 client and the esdbstore adapter to run against it
// in tests. It is never used by the product, stores everything in memory,
// and implements only what the client calls:
//
//   - event_store.client.streams.Streams: Append (expected revisions, the
//     WrongExpectedVersion reply, event-id idempotency whose repeat comes
//     back without a position, the 1 MiB append limit counted as the server
//     counts it) and Read (one stream or $all, forwards or backwards, with a
//     count, with or without a stream-name or event-type filter, and
//     catch-up-then-live subscriptions to $all with checkpoints and the
//     caught-up message). Delete, Tombstone, BatchAppend and subscriptions
//     to a single stream answer Unimplemented.
//   - event_store.client.gossip.Gossip: Read, for cluster discovery.
//   - event_store.client.server_features.ServerFeatures: GetSupportedMethods,
//     with the server version.
//
// Its semantics follow EventStoreDB's server source and documentation:
// positions are byte offsets in one log, and an event written by an append
// has equal commit and prepare positions (its own log position); reads of
// $all forwards include the event at the start position, reads backwards
// and subscriptions exclude it; a new server's $all already holds system
// events (streams and types whose names start with '$'), so that clients
// must filter them out.
//
// A Server can run one node or a cluster of several nodes that serve the same
// log, as a replicated cluster does after a quorum write, with or without TLS
// and users (StartWith). Tests can switch on what real servers and networks
// have done to clients: drop every running subscription, move the leadership
// to another node or stop the leader outright, let followers fall behind the
// leader (LagFollowers), shape checkpoints as released servers did, ahead of
// unsent events or with a prepare position of 0 (SetCheckpoints), report an
// old version whose stream reads carry no positions, and delay, lose or cut
// the replies of appends that succeeded.
package esdbfake

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Version is the EventStoreDB server version whose protocol the fake follows;
// GetSupportedMethods reports it unless Options.Version says otherwise.
const Version = "24.10.0"

// Options configures a fake server. The zero value is one node without TLS
// or authentication, reporting Version.
type Options struct {
	// Nodes is the number of cluster members; 0 means 1.
	Nodes int
	// Version is the server version the nodes report, "major.minor.patch";
	// empty means Version. Versions before 22.6 send no positions with the
	// events of stream reads, as those servers did.
	Version string
	// TLS makes every node serve TLS with a certificate signed by a CA that
	// the fake makes for the test (see CAFile).
	TLS bool
	// Users, when not empty, makes Streams calls require one of these users'
	// credentials (HTTP basic authentication, as EventStoreDB takes them);
	// gossip and server features stay open, as on a secure cluster.
	Users []User
}

// User is an account of the fake server.
type User struct {
	Name, Password string
	// Admin puts the user in $admins, which may read $all. Others may read
	// and write user streams but not $all, as EventStoreDB's default ACL
	// reserves $all (a system stream) to $admins.
	Admin bool
}

// Server is a fake EventStoreDB cluster of one or more nodes over one log.
type Server struct {
	log     *eventLog
	version string
	users   map[string]User
	caFile  string
	tls     bool

	mu     sync.Mutex
	nodes  []*node
	leader int
	subs   map[*liveSubscription]struct{}
	// requests records every subscription to $all, in order.
	requests []SubscriptionRequest
	// checkpoints is how subscriptions shape their checkpoints.
	checkpoints CheckpointStyle
	// lagging tells whether followers have stopped receiving the leader's
	// writes (see LagFollowers); followerServed counts the calls a follower
	// served for a client that did not require the leader.
	lagging        bool
	followerServed int
	// faults are what the next successful appends do to their replies.
	faults []replyFault
	// refusals is how many more requests to refuse as during an election;
	// refused counts those refused.
	refusals, refused int
}

// SubscriptionRequest is what a subscription to $all asked for, as the fake
// received it: where to start and which server-side filter to apply.
type SubscriptionRequest struct {
	// From is "start", "end", or the position after which to start as
	// "commit/prepare".
	From string
	// OnStreamName is true for a filter on stream names, false for one on
	// event types. Both are empty when the subscription had no filter.
	OnStreamName bool
	Prefixes     []string
	Regex        string
	// CheckpointInterval is the number of considered events between
	// checkpoints (window times multiplier); 0 without a filter.
	CheckpointInterval int
}

// node is one member of the cluster: a gRPC server on its own port.
type node struct {
	srv   *Server
	id    uuid.UUID
	addr  *net.TCPAddr
	grpc  *grpc.Server
	alive bool
	// seenEnd, while followers lag, is the log position up to which this
	// node has the leader's writes; a node that is leader, or that does
	// not lag, has them all.
	seenEnd uint64
}

// streamsService, gossipService and featuresService are a node's three gRPC
// services; they are separate types because two of them have a Read method.
type streamsService struct {
	*node
	streams.UnimplementedStreamsServer
}

type gossipService struct {
	*node
	gossip.UnimplementedGossipServer
}

type featuresService struct {
	*node
	serverfeatures.UnimplementedServerFeaturesServer
}

// systemEvents are written to $all when a server starts, as a new
// EventStoreDB node writes its settings and default users.
var systemEvents = []struct{ stream, typ string }{
	{"$settings", "$settings"},
	{"$users", "$UserCreated"},
	{"$user-admin", "$user"},
}

// Start runs a single-node server for the test and stops it when the test
// ends.
func Start(tb testing.TB) *Server { return StartWith(tb, Options{}) }

// StartCluster runs a cluster of n nodes for the test, the first one leader,
// and stops it when the test ends.
func StartCluster(tb testing.TB, n int) *Server {
	tb.Helper()
	if n < 1 {
		tb.Fatalf("esdbfake: a cluster needs at least one node, not %d", n)
	}
	return StartWith(tb, Options{Nodes: n})
}

// StartWith runs a server as opts describe for the test, the first node
// leader, and stops it when the test ends.
func StartWith(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := &Server{log: newEventLog(), version: opts.Version, subs: map[*liveSubscription]struct{}{}, tls: opts.TLS}
	if s.version == "" {
		s.version = Version
	}
	if len(opts.Users) > 0 {
		s.users = map[string]User{}
		for _, u := range opts.Users {
			s.users[u.Name] = u
		}
	}
	for _, e := range systemEvents {
		s.log.appendEvents(e.stream, expectation{kind: expectAny},
			[]proposed{{id: uuid.New(), typ: e.typ, json: true, data: []byte("{}")}})
	}
	var serverOpts []grpc.ServerOption
	if opts.TLS {
		creds, caFile := newTestTLS(tb)
		s.caFile = caFile
		serverOpts = append(serverOpts, grpc.Creds(creds))
	}
	for range max(opts.Nodes, 1) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("esdbfake: listen: %v", err)
		}
		nd := &node{srv: s, id: uuid.New(), addr: lis.Addr().(*net.TCPAddr), grpc: grpc.NewServer(serverOpts...), alive: true}
		streams.RegisterStreamsServer(nd.grpc, &streamsService{node: nd})
		gossip.RegisterGossipServer(nd.grpc, &gossipService{node: nd})
		serverfeatures.RegisterServerFeaturesServer(nd.grpc, &featuresService{node: nd})
		go nd.grpc.Serve(lis)
		s.nodes = append(s.nodes, nd)
	}
	tb.Cleanup(s.stop)
	return s
}

func (s *Server) stop() {
	s.mu.Lock()
	nodes := s.nodes
	s.mu.Unlock()
	for _, nd := range nodes {
		nd.grpc.Stop()
	}
}

// URL is the connection string of the server: one host for a single node,
// every node as a gossip seed for a cluster; with TLS, tls=true and the
// fake's CA as tlsCAFile, else tls=false. It carries no credentials (see
// URLAs).
func (s *Server) URL() string { return s.url("") }

// URLAs is URL with a user's credentials in it, as user:password@.
func (s *Server) URLAs(user, password string) string {
	return s.url(url.UserPassword(user, password).String() + "@")
}

func (s *Server) url(credentials string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	hosts := make([]string, len(s.nodes))
	for i, nd := range s.nodes {
		hosts[i] = nd.addr.String()
	}
	query := "?tls=false"
	if s.tls {
		query = "?tls=true&tlsCAFile=" + url.QueryEscape(s.caFile)
	}
	return "esdb://" + credentials + strings.Join(hosts, ",") + query
}

// CAFile is the PEM file of the CA that signed the nodes' certificates,
// with TLS; else "".
func (s *Server) CAFile() string { return s.caFile }

// Leader is the address of the current leader node.
func (s *Server) Leader() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodes[s.leader].addr.String()
}

// DropSubscriptions ends every running subscription with an Unavailable
// error, as a node does when it changes role, and returns how many it ended.
func (s *Server) DropSubscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropLocked()
}

func (s *Server) dropLocked() int {
	n := 0
	for sub := range s.subs {
		sub.dropOnce.Do(func() { close(sub.dropped) })
		delete(s.subs, sub)
		n++
	}
	return n
}

// ElectNewLeader moves the leadership to the next live node, as an election
// does: every subscription is dropped, and the old leader serves on as a
// follower (which, like EventStoreDB's, forwards appends to the leader and
// serves reads from its own copy of the log). While followers lag (see
// LagFollowers), the old leader's copy stays as it was at the election. It
// returns how many subscriptions it dropped.
func (s *Server) ElectNewLeader() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodes[s.leader].seenEnd = s.log.endPosition()
	s.leader = s.nextAliveLocked()
	return s.dropLocked()
}

// StopLeader stops the leader node: its connections close and every call in
// flight on it fails with Unavailable. Another live node becomes leader, and
// every subscription is dropped, as in an election; StopLeader returns how
// many. It fails the test if no node would be left.
func (s *Server) StopLeader(tb testing.TB) int {
	tb.Helper()
	s.mu.Lock()
	old := s.nodes[s.leader]
	old.alive = false
	next := s.nextAliveLocked()
	if next == s.leader {
		s.mu.Unlock()
		tb.Fatalf("esdbfake: StopLeader on a cluster without another live node")
	}
	s.leader = next
	n := s.dropLocked()
	s.mu.Unlock()
	old.grpc.Stop()
	return n
}

func (s *Server) nextAliveLocked() int {
	for i := 1; i <= len(s.nodes); i++ {
		j := (s.leader + i) % len(s.nodes)
		if s.nodes[j].alive {
			return j
		}
	}
	return s.leader
}

// AppendSystemEvent writes an event of EventStoreDB's own (stream and type
// should start with '$') to $all, as a server does for statistics and
// settings, and returns its commit position.
func (s *Server) AppendSystemEvent(stream, typ string) uint64 {
	out := s.log.appendEvents(stream, expectation{kind: expectAny},
		[]proposed{{id: uuid.New(), typ: typ, json: true, data: []byte("{}")}})
	return out.lastPos
}

// SubscriptionRequests returns every subscription to $all the server
// received, in order.
func (s *Server) SubscriptionRequests() []SubscriptionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SubscriptionRequest(nil), s.requests...)
}

// Subscriptions is the number of subscriptions running now.
func (s *Server) Subscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// streamReadsCarryPositions reports whether the server's version sends log
// positions with the events of stream reads, which EventStoreDB does from
// 22.6 on.
func (s *Server) streamReadsCarryPositions() bool {
	var major, minor int
	if _, err := fmt.Sscanf(s.version, "%d.%d", &major, &minor); err != nil {
		return true
	}
	return major > 22 || (major == 22 && minor >= 6)
}

// Read answers Gossip.Read with every member and its state.
func (n *gossipService) Read(context.Context, *shared.Empty) (*gossip.ClusterInfo, error) {
	s := n.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	info := &gossip.ClusterInfo{}
	for i, nd := range s.nodes {
		state := gossip.MemberInfo_Follower
		switch {
		case !nd.alive:
			state = gossip.MemberInfo_Shutdown
		case i == s.leader:
			state = gossip.MemberInfo_Leader
		}
		most, least := splitUUID(nd.id)
		info.Members = append(info.Members, &gossip.MemberInfo{
			InstanceId: &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
				MostSignificantBits: most, LeastSignificantBits: least}}},
			TimeStamp:    time.Now().UnixNano() / 100,
			State:        state,
			IsAlive:      nd.alive,
			HttpEndPoint: &gossip.EndPoint{Address: nd.addr.IP.String(), Port: uint32(nd.addr.Port)},
		})
	}
	return info, nil
}

// GetSupportedMethods lists the methods the fake implements.
func (n *featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	m := func(service, method string) *serverfeatures.SupportedMethod {
		return &serverfeatures.SupportedMethod{ServiceName: service, MethodName: method}
	}
	return &serverfeatures.SupportedMethods{
		EventStoreServerVersion: n.srv.version,
		Methods: []*serverfeatures.SupportedMethod{
			m("event_store.client.streams.streams", "read"),
			m("event_store.client.streams.streams", "append"),
			m("event_store.client.gossip.gossip", "read"),
			m("event_store.client.server_features.serverfeatures", "getsupportedmethods"),
		},
	}, nil
}

// notLeader is EventStoreDB's answer to a request that requires the leader
// on a follower: NotFound with trailers that name the leader.
func (n *node) notLeader(ctx context.Context) error {
	leader := n.srv.Leader()
	host, port, _ := net.SplitHostPort(leader)
	_ = grpc.SetTrailer(ctx, metadataPairs(
		"exception", "not-leader",
		"leader-endpoint-host", host,
		"leader-endpoint-port", port,
	))
	return status.Error(codes.NotFound, "Leader info available")
}

func errorf(c codes.Code, format string, args ...any) error {
	return status.Error(c, fmt.Sprintf("esdbfake: "+format, args...))
}
