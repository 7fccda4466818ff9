package eventstore

// Decorated is the base of a Store that wraps another to add to what it does
// (timing appends, tracing them): embed it, and override the methods that
// change. It answers every optional interface of this package
// (DensePositions, PositionUnits, AppendLimit, WritesStoppedNotifier) as
// the wrapped store does, so
// that a caller that asks for one, as the registry does, sees through the
// decoration. A new optional interface gets its forwarding method here.
type Decorated struct {
	// Store is the store decorated.
	Store
}

var (
	_ DensePositions = Decorated{}
	_ PositionUnits  = Decorated{}
	_ AppendLimit    = Decorated{}

	_ WritesStoppedNotifier = Decorated{}
)

// DensePositions answers as the wrapped store does; false when it does not
// say.
func (d Decorated) DensePositions() bool {
	dp, ok := d.Store.(DensePositions)
	return ok && dp.DensePositions()
}

// PositionUnit answers as PositionUnitOf the wrapped store.
func (d Decorated) PositionUnit() PositionUnit { return PositionUnitOf(d.Store) }

// MaxAppendSize answers as the wrapped store does; 0 (no limit) when it has
// none.
func (d Decorated) MaxAppendSize() int {
	if l, ok := d.Store.(AppendLimit); ok {
		return l.MaxAppendSize()
	}
	return 0
}

// AppendSize answers as the wrapped store does; 0 when it has no limit.
func (d Decorated) AppendSize(events ...EventData) int {
	if l, ok := d.Store.(AppendLimit); ok {
		return l.AppendSize(events...)
	}
	return 0
}

// NotifyWritesStopped passes f to the wrapped store; a store that cannot
// stop taking appends never calls it.
func (d Decorated) NotifyWritesStopped(f func(error)) { NotifyWritesStopped(d.Store, f) }
