package eventstore

// WritesStoppedNotifier is implemented by a store that can stop taking
// appends after a storage failure it cannot recover from while it runs
// (ErrWritesStopped), as the embedded store does after a failed write or
// sync of its log. Whoever meets the failure first, a call, the expiry
// scheduler or any other writer, the store itself tells the watchers, so
// that the server's health does not wait for a call to meet it too.
type WritesStoppedNotifier interface {
	// NotifyWritesStopped has f called once, with the error every append
	// gets from then on (it wraps ErrWritesStopped), when the store stops
	// taking appends; at once, on the caller's goroutine, when it has
	// stopped already. f must not block: it runs on the goroutine of the
	// append that failed.
	NotifyWritesStopped(f func(error))
}

// NotifyWritesStopped has f called as WritesStoppedNotifier says when store
// can stop taking appends, and reports whether it can; a store that cannot
// never calls f.
func NotifyWritesStopped(store Store, f func(error)) bool {
	n, ok := store.(WritesStoppedNotifier)
	if ok {
		n.NotifyWritesStopped(f)
	}
	return ok
}
