package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// summary is the JSON object --json prints: the figures of the registry
// (of the baseline with --baseline), and with --compare-baseline the
// baseline's figures and the registry's ratios to them.
type summary struct {
	Target       string  `json:"target"`
	TradesPerSec float64 `json:"trades_per_sec"`
	P50ms        float64 `json:"p50_ms"`
	P95ms        float64 `json:"p95_ms"`
	P99ms        float64 `json:"p99_ms"`
	Refused      int64   `json:"refused"`
	Errors       int64   `json:"errors"`
	// ServerCPU is the server's CPU microseconds per settled trade, over
	// what CPUScope says; absent when not known.
	ServerCPU *float64 `json:"server_cpu_us_per_trade,omitempty"`
	CPUScope  string   `json:"cpu_scope,omitempty"`
	// LoadCPU is this process's CPU microseconds per answered trade, when
	// the server is a process of its own: the load generator's cost.
	LoadCPU *float64 `json:"load_generator_cpu_us_per_trade,omitempty"`
	// Baseline and the ratios are there with --compare-baseline: the
	// registry's throughput and CPU per trade divided by the baseline's.
	Baseline        *summary `json:"baseline,omitempty"`
	ThroughputRatio *float64 `json:"throughput_ratio,omitempty"`
	CPURatio        *float64 `json:"cpu_ratio,omitempty"`
}

func summarize(t *target) *summary {
	r := t.total
	s := &summary{Target: t.name, TradesPerSec: float64(r.completed) / r.measured.Seconds(), P50ms: ms(r.percentile(50)),
		P95ms: ms(r.percentile(95)), P99ms: ms(r.percentile(99)), Refused: r.refused, Errors: r.errors}
	if r.serverKnown && r.settled > 0 {
		v := float64(r.serverCPU.Microseconds()) / float64(r.settled)
		s.ServerCPU, s.CPUScope = &v, t.cpuScope
	}
	if t.external && r.completed > 0 {
		v := float64(r.cpu.Microseconds()) / float64(r.completed)
		s.LoadCPU = &v
	}
	return s
}

// compared returns the registry's summary with the baseline's and the
// ratios, or the one target's summary.
func compared(ts *targets) *summary {
	if ts.registry == nil {
		return summarize(ts.baseline)
	}
	s := summarize(ts.registry)
	if ts.baseline == nil {
		return s
	}
	b := summarize(ts.baseline)
	s.Baseline = b
	if b.TradesPerSec > 0 {
		v := s.TradesPerSec / b.TradesPerSec
		s.ThroughputRatio = &v
	}
	if s.ServerCPU != nil && b.ServerCPU != nil && *b.ServerCPU > 0 {
		v := *s.ServerCPU / *b.ServerCPU
		s.CPURatio = &v
	}
	return s
}

// report prints the figures: one JSON object with --json, else text.
func report(stdout io.Writer, cfg config, ts *targets) {
	s := compared(ts)
	if cfg.json {
		b, _ := json.Marshal(s)
		fmt.Fprintln(stdout, string(b))
		return
	}
	fmt.Fprintf(stdout, "mode          %s\n", modeOf(cfg))
	fmt.Fprintf(stdout, "rights        %d, %s\n", cfg.rights, spreadOf(cfg))
	fmt.Fprintf(stdout, "measured      %s after a %s warm-up", cfg.duration, cfg.warmup)
	if cfg.rounds > 1 {
		fmt.Fprintf(stdout, ", %d rounds each", cfg.rounds)
	}
	fmt.Fprintln(stdout)
	for _, t := range ts.list() {
		if len(ts.list()) > 1 {
			fmt.Fprintf(stdout, "%s:\n", t.name)
		}
		reportTarget(stdout, t, summarize(t))
	}
	if s.Baseline != nil {
		fmt.Fprintf(stdout, "ratio         registry / baseline: throughput %s, CPU per trade %s\n", ratio(s.ThroughputRatio), ratio(s.CPURatio))
	}
}

func reportTarget(stdout io.Writer, t *target, s *summary) {
	r := t.total
	fmt.Fprintf(stdout, "trades        %d answered: %d settled, %d refused, %d errors\n", r.completed, r.settled, r.refused, r.errors)
	fmt.Fprintf(stdout, "throughput    %.0f trades/s\n", s.TradesPerSec)
	fmt.Fprintf(stdout, "latency       p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms\n", s.P50ms, s.P95ms, s.P99ms, ms(r.percentile(100)))
	switch {
	case s.ServerCPU != nil:
		fmt.Fprintf(stdout, "server cpu    %.1f µs per settled trade (%s), %.2f cores busy\n", *s.ServerCPU, s.CPUScope, r.serverCPU.Seconds()/r.measured.Seconds())
	case r.settled > 0:
		fmt.Fprintf(stdout, "server cpu    not known (give --server-pid)\n")
	}
	if s.LoadCPU != nil {
		fmt.Fprintf(stdout, "ecobench cpu  %.1f µs per trade (the load generator), %.2f cores busy\n", *s.LoadCPU, r.cpu.Seconds()/r.measured.Seconds())
	}
	if len(r.firstErrors) > 0 {
		fmt.Fprintf(stdout, "first errors  %v\n", r.firstErrors)
	}
}

func ratio(v *float64) string {
	if v == nil {
		return "not known"
	}
	return fmt.Sprintf("%.2f", *v)
}

// printWorld tells another load generator what --setup-only made.
func printWorld(stdout io.Writer, cfg config) {
	w, sellers, _ := newWorld(cfg.runID, cfg)
	fmt.Fprintf(stdout, "run id        %s\n", cfg.runID)
	fmt.Fprintf(stdout, "rights        %s to %s, each held by %d sellers; right r by sellers r to r+%d (modulo %d)\n",
		w.rights[0], w.rights[len(w.rights)-1], holdersPerRight, holdersPerRight-1, len(sellers))
	fmt.Fprintf(stdout, "sellers       %s to %s\n", sellers[0], sellers[len(sellers)-1])
	fmt.Fprintf(stdout, "buyers        %s to %s\n", w.buyers[0], w.buyers[len(w.buyers)-1])
	fmt.Fprintf(stdout, "exchange      %s\n", exchangeID)
}
