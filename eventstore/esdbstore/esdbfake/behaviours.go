package esdbfake

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// CheckpointStyle is how a filtered subscription's checkpoints are shaped.
// EventStoreDB's have varied between releases; a client must cope with each.
type CheckpointStyle int

const (
	// CheckpointsAtLastConsidered sends, after every interval of considered
	// events, the position of the last one considered: what EventStoreDB
	// sends once its checkpoint fixes are in.
	CheckpointsAtLastConsidered CheckpointStyle = iota
	// CheckpointsAheadAtEnd also sends, whenever the subscription has sent
	// every event it read and waits for more (the switch to live, the end
	// of the log), a checkpoint at the end of the log at that moment: the
	// position the next event will take, ahead of any event written
	// meanwhile and not yet sent. Released 24.x servers did so.
	CheckpointsAheadAtEnd
	// CheckpointsCommitOnly sends the interval checkpoints with a prepare
	// position of 0, as some servers did.
	CheckpointsCommitOnly
)

// SetCheckpoints makes every subscription, running or new, shape its
// checkpoints as style says.
func (s *Server) SetCheckpoints(style CheckpointStyle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkpoints = style
}

func (s *Server) checkpointStyle() CheckpointStyle {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkpoints
}

// LagFollowers stops the leader's writes from reaching the followers: from
// now on, until CatchUpFollowers, each follower serves reads and
// subscriptions from the log as it was when it stopped receiving them (a
// leader that loses an election stops at the election). A client that does
// not require the leader and stays on a follower then reads stale data.
func (s *Server) LagFollowers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lagging = true
	end := s.log.endPosition()
	for i, nd := range s.nodes {
		if i != s.leader {
			nd.seenEnd = end
		}
	}
}

// CatchUpFollowers ends LagFollowers: every node serves the whole log.
func (s *Server) CatchUpFollowers() {
	s.mu.Lock()
	s.lagging = false
	s.mu.Unlock()
	// Wake the subscriptions waiting on a follower's stale copy.
	s.log.poke()
}

// FollowerRequests is the number of appends a follower forwarded and reads
// it served for clients that did not require the leader.
func (s *Server) FollowerRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.followerServed
}

// visibleEnd returns the log position up to which node n serves reads, and
// false when it serves the whole log.
func (n *node) visibleEnd() (uint64, bool) {
	s := n.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lagging || s.nodes[s.leader] == n {
		return 0, false
	}
	return n.seenEnd, true
}

// visible cuts records (in log order) to those node n has.
func (n *node) visible(records []*record) []*record {
	end, cut := n.visibleEnd()
	if !cut {
		return records
	}
	for len(records) > 0 && records[len(records)-1].pos >= end {
		records = records[:len(records)-1]
	}
	return records
}

// checkLeader refuses a call that requires the leader on a follower, as
// EventStoreDB does, and counts the calls a follower serves for clients
// that do not require it.
func (n *node) checkLeader(ctx context.Context) error {
	s := n.srv
	s.mu.Lock()
	leader := s.nodes[s.leader] == n
	if !leader && !requiresLeader(ctx) {
		s.followerServed++
	}
	s.mu.Unlock()
	if !leader && requiresLeader(ctx) {
		return n.notLeader(ctx)
	}
	return nil
}

// RefuseRequests makes the next n appends and reads, on any node, fail
// with Unavailable, as EventStoreDB's nodes answer while they elect a leader
// ("Server Is Not Ready").
func (s *Server) RefuseRequests(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals += n
}

// Refused is the number of requests refused by RefuseRequests so far.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// refuse takes one refusal, if any is left, and returns its error.
func (s *Server) refuse() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refusals == 0 {
		return nil
	}
	s.refusals--
	s.refused++
	return status.Error(codes.Unavailable, "Server Is Not Ready")
}

// replyFault is what happens to the reply of one successful append.
type replyFault struct {
	delay time.Duration
	lose  bool
	cut   bool
}

// DelayAppendReplies makes each of the next n successful appends write its
// events and reply only d later: a client whose deadline is shorter sees
// DeadlineExceeded for an append that happened.
func (s *Server) DelayAppendReplies(n int, d time.Duration) {
	s.addFaults(n, replyFault{delay: d})
}

// LoseAppendReplies makes each of the next n successful appends write its
// events and never reply, as when the reply is lost on the way: the call
// ends when the client gives up (its deadline), with the outcome unknown to
// it.
func (s *Server) LoseAppendReplies(n int) { s.addFaults(n, replyFault{lose: true}) }

// CutAppendReplies makes each of the next n successful appends write its
// events and then fail with Unavailable, as when the connection breaks
// before the reply reaches the client.
func (s *Server) CutAppendReplies(n int) { s.addFaults(n, replyFault{cut: true}) }

func (s *Server) addFaults(n int, f replyFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// replyFault applies the next fault, if any, to the reply of an append
// that succeeded; a non-nil error replaces the reply.
func (s *Server) replyFault(ctx context.Context) error {
	s.mu.Lock()
	if len(s.faults) == 0 {
		s.mu.Unlock()
		return nil
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	s.mu.Unlock()
	switch {
	case f.lose:
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	case f.cut:
		return status.Error(codes.Unavailable, "esdbfake: the connection broke before the reply")
	}
	t := time.NewTimer(f.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}
