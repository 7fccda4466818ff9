package pebblestore

// DensePositions reports that the store's appends have dense positions (see
// eventstore.DensePositions): the sequencer gives the events of an append
// the consecutive positions that follow the last append's, under its lock,
// with Commit equal to Prepare.
func (s *Store) DensePositions() bool { return true }
