// Package projections keeps ecoregistry's read models: current state built
// from the global event log and kept in a local read store, so that queries
// never replay history.
//
// Each Projection (holdings, market ledger, statistics, in subpackages)
// follows the log through eventstore.Store.Subscribe, applies events to an
// in-memory write-back cache, and commits many events at once: one Pebble
// batch holds the changed state and the checkpoint (the position of the last
// event applied), so a restart resumes exactly after the last committed
// event and never counts an event twice.
//
// # Read store layout
//
// One Pebble database (conventionally <data>/projections) holds every
// projection, each under its own key prefix:
//
//	0x00 "format"                       the format marker of the read store
//	0x01 NAME                           meta: the active and the building generation
//	0x02 NAME 0x00 GEN(8, big endian)   a generation's keyspace:
//	    ... 0x00                            its checkpoint (schema version, position, counts)
//	    ... KEY                             the projection's own keys (never starting with 0x00)
//
// A generation is one build of a projection from the start of the log. The
// active generation answers queries. A rebuild (Manager.Rebuild, or ecoctl
// projections rebuild NAME) builds a new generation beside it while queries
// keep reading the active one; once the new one has caught up with it, one
// batch makes it active and deletes the old keyspace with a range deletion.
// A generation whose schema version differs from the code's is dropped when
// the read store opens, and the projection starts again from the log as on
// a fresh install: an older layout cannot be read safely.
//
// # Events this code does not know
//
// A projection skips an event type it does not handle, counts it per type in
// its checkpoint, logs the first of each type, and reports the counts in its
// status, instead of stopping: a binary that is older than the log (a
// rollback, a replica that is upgraded later) keeps answering, and the
// status says which events its answers leave out. A projection that starts
// handling a new event type must bump its schema version, which rebuilds it,
// so that the events an older binary skipped are counted. An event of a known
// type that does not decode, or does not apply to the state, stops the
// projection with an error in its status: the log or the code is wrong, and
// going on would serve wrong answers.
//
// # Read-your-writes
//
// Every query takes an optional minimum position and waits, bounded by its
// context, until the projection has committed it (Runner.View); the View it
// gets says which position its state reflects.
package projections
