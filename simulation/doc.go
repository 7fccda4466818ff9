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
// every kind and retry, with the same ids and content, every command whose
// outcome they could not learn. Throughout the run the test checks that
// units are conserved on every right, that nothing is overdrawn, that no
// command is recorded twice, that every acknowledged command is recorded
// where its client was told, that the service's cached state and the
// holdings read model equal a replay of the log, and that every stream's
// hash chain verifies.
//
// Everything the registry decides comes from the seed: the commands, the
// faults, the simulated clock, and the order of events. A failing seed
// reproduces exactly; the test prints the command that reruns it:
//
//	go test ./simulation -run 'TestSimulation$' -sim.seed=N -v
//
// CI runs a fixed set of seeds in seconds; -sim.seeds=N runs N more, from a
// random start unless -sim.seed sets it, and -sim.steps sets the steps of
// each. See the README's Reliability section.
package simulation
