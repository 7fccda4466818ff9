package eventstore

// DensePositions is implemented by stores whose appends give their events
// consecutive global positions, with Commit equal to Prepare: the events of
// an append that ends at position P with n events are at P-n+1 .. P. Such a
// store tells every event's position in its AppendResult; for the others
// (EventStoreDB's positions are log offsets, with gaps) a caller that needs
// them reads the events back.
type DensePositions interface {
	// DensePositions reports whether the store's appends have dense positions.
	DensePositions() bool
}

// AppendedPositions returns the global positions of the n events an append
// wrote, in order, when store has dense positions; ok is false otherwise.
func AppendedPositions(store Store, res AppendResult, n int) (positions []Position, ok bool) {
	d, isDense := store.(DensePositions)
	if !isDense || !d.DensePositions() || n <= 0 || res.Position.Commit != res.Position.Prepare || res.Position.Commit < uint64(n) {
		return nil, false
	}
	positions = make([]Position, n)
	first := res.Position.Commit - uint64(n) + 1
	for i := range positions {
		positions[i] = Position{Commit: first + uint64(i), Prepare: first + uint64(i)}
	}
	return positions, true
}
