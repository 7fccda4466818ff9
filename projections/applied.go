package projections

import (
	"time"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// AppliedBatch is what one commit of a read model holds: the events it
// applied since its previous commit. Options.Applied hears of each, to
// trace them.
type AppliedBatch struct {
	// Projection and Generation name the read model and its build.
	Projection string
	Generation uint64
	// First and Last are the positions of the first and last events applied.
	First, Last eventstore.Position
	// Events is how many events were applied.
	Events uint64
	// Started is when the first of them was taken from the log; Committing
	// when the commit began (the checkpoint's Committed).
	Started, Committing time.Time
}

// batchStart is where the batch a runner is applying began: the position
// of its first event and when it was taken from the log. It is kept only
// when Options.Applied is set.
type batchStart struct {
	first   eventstore.Position
	started time.Time
	applied uint64
}

// begin notes the start of a batch when items are its first events.
func (b *batchStart) begin(hook func(AppliedBatch), uncommitted int, items []item, ck *Checkpoint) {
	if hook != nil && uncommitted == 0 && len(items) > 0 {
		*b = batchStart{first: items[0].ev.Position, started: time.Now(), applied: ck.Applied}
	}
}

// committed tells hook of the batch that the commit of ck ended.
func (b *batchStart) committed(hook func(AppliedBatch), name string, generation uint64, uncommitted int, ck *Checkpoint) {
	if hook == nil || uncommitted == 0 {
		return
	}
	hook(AppliedBatch{Projection: name, Generation: generation, First: b.first, Last: ck.Position,
		Events: ck.Applied - b.applied, Started: b.started, Committing: ck.Committed})
}
