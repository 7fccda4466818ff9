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

// PositionUnit is what the distance between two commit positions of a store
// counts, which tells how to read a lag (head minus a reader's position).
type PositionUnit int

const (
	// UnitUnknown is for stores that do not say.
	UnitUnknown PositionUnit = iota
	// UnitEvents: positions are dense, and a distance is a number of events.
	UnitEvents
	// UnitLogBytes: positions are offsets in the store's log, and a distance
	// is a number of bytes of it, the store's own records included.
	UnitLogBytes
)

// String names the unit as a person reads a figure in it.
func (u PositionUnit) String() string {
	switch u {
	case UnitEvents:
		return "events"
	case UnitLogBytes:
		return "bytes"
	}
	return "unknown"
}

// PositionUnits is implemented by stores whose positions count something
// other than events, to say what (stores with dense positions count events).
type PositionUnits interface {
	// PositionUnit tells what a distance between two positions counts.
	PositionUnit() PositionUnit
}

// PositionUnitOf tells what a distance between two of store's positions
// counts.
func PositionUnitOf(store Store) PositionUnit {
	if u, ok := store.(PositionUnits); ok {
		return u.PositionUnit()
	}
	if d, ok := store.(DensePositions); ok && d.DensePositions() {
		return UnitEvents
	}
	return UnitUnknown
}
