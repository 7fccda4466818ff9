package main

import (
	"io"
	"net/http"
	"testing"
)

func TestPprofEndpoint(t *testing.T) {
	t.Run("no profile endpoint is served by default", func(t *testing.T) {
		m, _ := startServer(t, t.TempDir())
		if addr := m.PprofAddr(); addr != "" {
			t.Fatalf("a server without --pprof-listen serves profiles on %s", addr)
		}
		cfg, err := ParseConfig(nil, func(string) string { return "" }, io.Discard)
		if err != nil || cfg.PprofListen != "" {
			t.Fatalf("default --pprof-listen %q, %v", cfg.PprofListen, err)
		}
	})
	t.Run("--pprof-listen serves a CPU profile of the server", func(t *testing.T) {
		cfg, err := ParseConfig([]string{"--pprof-listen", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := startServerWith(t, Config{Store: StorePebble, Data: t.TempDir(), PprofListen: cfg.PprofListen})
		// No connection is kept for later: the test leaves no goroutine behind.
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Get("http://" + m.PprofAddr() + "/debug/pprof/profile?seconds=1")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		// A CPU profile is a gzipped protobuf.
		if resp.StatusCode != http.StatusOK || len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
			t.Fatalf("status %s, %d bytes starting %x", resp.Status, len(body), body[:min(len(body), 8)])
		}
	})
}
