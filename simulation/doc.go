// Package simulation is the deterministic simulation of the registry, in
// the spirit of TigerBeetle's VOPR and FoundationDB's simulation testing.
//
// Its test runs the registry service (package registry, with the holdings
// read model answering what accounts hold, as ecoregistryd wires it) over
// an in-memory store (package memstore) that injects faults chosen from a
// seed: appends that fail, appends that are written but answered with a
// timeout, crashes between an append and its acknowledgement (the service,
// its caches and the read models are dropped and started again over the
// same log), storage that stops taking writes until a restart, and
// subscribers that fall behind. Simulated clients issue random commands of
// every kind, re-use ids with other content on purpose, send again commands
// acknowledged before, and retry, with the same ids and content, every
// command whose outcome they could not learn; they rely on the registry to
// answer a retry with the recorded outcome (a replay), and never on reading
// the log, but for an account or a right whose opening or registration
// they retried. Throughout the run the test checks that
// units are conserved on every right, that nothing is overdrawn, that no
// command is recorded twice, that every acknowledged command is recorded
// where its client was told, that the service's cached state and the
// holdings read model equal a replay of the log, and that every stream's
// hash chain verifies.
//
// Everything the registry decides comes from the seed: the commands, the
// faults, the simulated clock, and the order of events. One command is in
// flight at a time, so the registry's batches, which run on goroutines of
// their own, each hold that one command and never race over the order of
// events; the batching of concurrent commands is left to the registry's
// own concurrency tests and to the whole-server crash test. The read
// models follow the log on their own goroutines, pausing at random; what
// the registry decides never depends on their timing (a query waits for
// the position it needs), and the checks read them only once they reach
// the log's head. Event ids are random, by design, and nothing decides on
// them. A failing seed reproduces exactly; the test prints the command that
// reruns it (-sim.trace prints every step):
//
//	go test ./simulation -run 'TestSimulation$' -sim.seed=N -sim.seeds=1 -v
//
// CI runs a fixed set of seeds in seconds; -sim.seeds=N runs N more, from a
// random start unless -sim.seed sets it, and -sim.steps sets the steps of
// each. See the README's Reliability section.
package simulation
