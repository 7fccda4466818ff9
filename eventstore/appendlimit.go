package eventstore

// AppendLimit is implemented by stores that refuse an append above a size,
// as EventStoreDB refuses one above its maximum append size (1 MiB by
// default). A caller that gathers many commands into one append, as the
// registry's batches do, starts a new append before the events would pass
// the limit; a single command whose events pass it alone is refused by the
// store.
type AppendLimit interface {
	// MaxAppendSize is the most one append may carry, as AppendSize
	// counts; 0 or less means no limit.
	MaxAppendSize() int
	// AppendSize is what events count toward MaxAppendSize.
	AppendSize(events ...EventData) int
}
