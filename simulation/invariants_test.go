package simulation

import (
	"fmt"
	"strings"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/holdings"
	"github.com/ecoregistry/ecoregistry/registry"
)

// setUp opens six accounts and registers a right of each type, with no
// faults.
func (w *world) setUp() {
	must := func(cmd *command) {
		w.t.Helper()
		c := &client{name: "set-up", pending: cmd}
		c.attempt(w)
		if c.pending != nil || len(w.ledger.refused) > 0 {
			w.fatalf("set-up: %s was not recorded", cmd.describe())
		}
	}
	for range 6 {
		cmd := w.openAccount()
		cmd.kind = "open"
		must(cmd)
	}
	for kind := range 4 {
		cmd := w.registerCommand(w.registration(w.fresh("RIGHT"), w.known.accounts[kind], kind))
		cmd.kind = "register"
		must(cmd)
	}
}

// check checks everything the simulation promises, at one moment: the log
// (chains, nothing recorded twice, every acknowledgement where its client
// was told), every right and account (the service's state equals a replay
// of the log; units conserved, none negative) and the read models (they
// reach the log's head without error, and the holdings equal a replay).
func (w *world) check() {
	w.t.Helper()
	w.stats.checks++
	st := w.log.Open()
	defer st.Close()
	all, err := st.ReadAll(w.ctx, eventstore.Start, eventstore.Forwards, 0, eventstore.Filter{})
	if err != nil {
		w.fatalf("read the log: %v", err)
	}
	envs := w.checkChains(all)
	w.checkOnce(all, envs)
	w.checkLedger(all, envs)
	fresh := registry.New(st, registry.Options{Clock: w.clock})
	defer fresh.Close()
	var rights []string
	for _, e := range all {
		switch e.Type {
		case domain.EventTypeRightRegistered:
			rights = append(rights, strings.TrimPrefix(e.Stream, domain.RightStreamPrefix))
			w.checkRight(fresh, rights[len(rights)-1])
		case domain.EventTypeAccountOpened:
			w.checkAccount(fresh, strings.TrimPrefix(e.Stream, domain.AccountStreamPrefix))
		}
	}
	w.checkReadModels(fresh, rights, all[len(all)-1].Position)
}

// checkChains verifies every stream's hash chain and returns the envelopes
// of the events, in log order.
func (w *world) checkChains(all []eventstore.RecordedEvent) []eventcodec.Envelope {
	byStream := map[string][]eventcodec.StoredEvent{}
	envs := make([]eventcodec.Envelope, len(all))
	for i, e := range all {
		byStream[e.Stream] = append(byStream[e.Stream], eventcodec.StoredEvent{Type: e.Type, Data: e.Data, Metadata: e.Metadata})
		env, err := eventcodec.DecodeMetadata(e.Metadata)
		if err != nil {
			w.fatalf("%s revision %d: %v", e.Stream, e.Revision, err)
		}
		envs[i] = env
	}
	for s, evs := range byStream {
		if _, err := eventcodec.VerifyChain(evs); err != nil {
			w.fatalf("stream %s: %v", s, err)
		}
	}
	return envs
}

// checkOnce checks that no command is recorded twice: on one stream, one
// event of a type per command id, and one outcome per trade in the whole
// log.
func (w *world) checkOnce(all []eventstore.RecordedEvent, envs []eventcodec.Envelope) {
	seen := map[string]eventstore.Position{}
	for i, e := range all {
		id := envs[i].CommandID
		if id == "" {
			continue
		}
		keys := []string{e.Stream + " " + e.Type + " " + id}
		if e.Type == domain.EventTypeTradeSettled || e.Type == domain.EventTypeTradeRefused {
			keys = []string{"trade " + id}
		}
		for _, k := range keys {
			if at, dup := seen[k]; dup {
				w.fatalf("%s is recorded twice: at position %d and at %d", k, at.Commit, e.Position.Commit)
			}
			seen[k] = e.Position
		}
	}
}

// checkLedger checks that every command a client was told is recorded is
// recorded where it was told, and that no command refused on a new id
// is recorded.
func (w *world) checkLedger(all []eventstore.RecordedEvent, envs []eventcodec.Envelope) {
	at := map[string]int{}
	for i, e := range all {
		at[fmt.Sprintf("%s/%d", e.Stream, e.Revision)] = i
	}
	for _, a := range w.ledger.acked {
		i, ok := at[fmt.Sprintf("%s/%d", a.commit.Stream, a.commit.Revision)]
		if !ok || all[i].Type != a.eventType || envs[i].CommandID != a.cmd.id || all[i].Position != a.commit.Position {
			w.fatalf("%s was acknowledged as %s at %s/%d (position %d), which the log does not hold", a.cmd.describe(), a.eventType,
				a.commit.Stream, a.commit.Revision, a.commit.Position.Commit)
		}
	}
	for _, r := range w.ledger.refused {
		// Another content sent under the id on purpose may hold it.
		if !r.cmd.creates || r.cmd.unknown || r.cmd.reuses || r.cmd.id == "" || w.known.taken[r.cmd.id] {
			continue
		}
		for i, e := range all {
			if e.Stream == r.cmd.stream && envs[i].CommandID == r.cmd.id && recordsKind(r.cmd.kind, e.Type) {
				w.fatalf("%s was refused with %s, but is recorded at position %d", r.cmd.describe(), r.code, e.Position.Commit)
			}
		}
	}
}

// snapshot renders everything observable of a right, so that two states
// compare equal exactly when they hold the same units in the same places.
func snapshot(r domain.Right) string {
	return fmt.Sprintf("version %d totals %+v buffer %v cancelled %v expired %v at %v\nholdings %+v\npledges %+v\nfreezes %+v\nreservations %+v",
		r.Version(), r.Totals(), r.Buffer(), r.CancelledBlocks(), r.ExpiredBlocks(), r.ExpiredAt(),
		r.Holdings(), r.Pledges(""), r.Freezes(), r.Reservations())
}

// checkRight checks that the service's state of a right equals a replay of
// its stream by a service that never saw it, and that the replay conserves
// units and overdraws nothing.
func (w *world) checkRight(fresh *registry.Service, id string) {
	live, _, err := w.proc.svc.Right(w.ctx, id)
	if err != nil {
		w.fatalf("read right %s: %v", id, err)
	}
	r, _, err := fresh.Right(w.ctx, id)
	if err != nil {
		w.fatalf("replay right %s: %v", id, err)
	}
	if a, b := snapshot(live), snapshot(r); a != b {
		w.fatalf("right %s in the service:\n%s\nreplayed from the log:\n%s", id, a, b)
	}
	if err := r.CheckInvariants(); err != nil {
		w.fatalf("right %s: %v", id, err)
	}
	tot := r.Totals()
	states := []int64{tot.Available, tot.Pledged, tot.Frozen, tot.Reserved, tot.Retired, tot.Cancelled, tot.Expired, tot.Buffer}
	sum := int64(0)
	for _, n := range states {
		if n < 0 {
			w.fatalf("right %s is overdrawn: %+v", id, tot)
		}
		sum += n
	}
	if sum != tot.Issued {
		w.fatalf("right %s: its units in every state add up to %d, %d were issued: %+v", id, sum, tot.Issued, tot)
	}
	for _, h := range r.Holdings() {
		if h.Available < 0 || h.Pledged < 0 || h.Frozen < 0 || h.Reserved < 0 || h.Retired < 0 {
			w.fatalf("right %s: account %s is overdrawn: %+v", id, h.AccountID, h)
		}
	}
}

// checkAccount checks that the service's state of an account equals a
// replay of its stream.
func (w *world) checkAccount(fresh *registry.Service, id string) {
	live, _, err := w.proc.svc.Account(w.ctx, id)
	if err != nil {
		w.fatalf("read account %s: %v", id, err)
	}
	a, _, err := fresh.Account(w.ctx, id)
	if err != nil {
		w.fatalf("replay account %s: %v", id, err)
	}
	if live.View() != a.View() {
		w.fatalf("account %s in the service %+v, replayed from the log %+v", id, live.View(), a.View())
	}
}

// checkReadModels waits for every read model to reach the log's head, and
// checks that none stopped on an error and that the holdings read model
// holds what a replay of each right holds, unit for unit.
func (w *world) checkReadModels(fresh *registry.Service, rights []string, head eventstore.Position) {
	for _, name := range w.proc.proj.Names() {
		r, _ := w.proc.proj.Runner(name)
		if err := r.Wait(w.ctx, head); err != nil {
			w.fatalf("read model %s: %v (status %+v)", name, err, r.Status().Active.Err)
		}
		if err := r.Status().Active.Err; err != nil {
			w.fatalf("read model %s stopped: %v", name, err)
		}
	}
	held, _ := w.proc.proj.Runner(holdings.Name)
	q := holdings.NewQueries(held)
	for _, id := range rights {
		page, err := q.RightHolders(w.ctx, holdings.RightHoldersQuery{RightID: id, PageRequest: projections.PageRequest{MinPosition: &head, PageSize: 1000}})
		if err != nil || page.NextPageToken != "" {
			w.fatalf("the holders of %s in the read model: %v", id, err)
		}
		projected := map[string]string{}
		for _, h := range page.Items {
			projected[h.AccountID] = fmt.Sprint(h.Counts[holdings.Available], h.Blocks[holdings.Available], h.Counts[holdings.Pledged], h.Blocks[holdings.Pledged],
				h.Counts[holdings.Frozen], h.Blocks[holdings.Frozen], h.Counts[holdings.Reserved], h.Blocks[holdings.Reserved], h.Counts[holdings.Retired], h.Blocks[holdings.Retired])
		}
		r, _, _ := fresh.Right(w.ctx, id)
		replayed := map[string]string{}
		for _, h := range r.Holdings() {
			if h.Available+h.Pledged+h.Frozen+h.Reserved+h.Retired > 0 {
				replayed[h.AccountID] = fmt.Sprint(h.Available, h.AvailableBlocks, h.Pledged, h.PledgedBlocks, h.Frozen, h.FrozenBlocks,
					h.Reserved, h.ReservedBlocks, h.Retired, h.RetiredBlocks)
			}
		}
		if fmt.Sprint(projected) != fmt.Sprint(replayed) {
			w.fatalf("right %s: the holdings read model holds %v, a replay of the log %v", id, projected, replayed)
		}
	}
}
