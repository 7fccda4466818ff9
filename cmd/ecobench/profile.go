package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// serverProfiler takes the CPU profile of a server over a measured window
// from its pprof endpoint at addr (ecoregistryd --pprof-listen) and writes
// it to path. pprof counts whole seconds: the window is rounded to them.
func serverProfiler(addr, path string) func(clock) func() error {
	return func(c clock) func() error {
		done := make(chan error, 1)
		go func() {
			time.Sleep(time.Until(c.from))
			secs := max(1, int(c.to.Sub(c.from).Round(time.Second)/time.Second))
			// One request: no connection is kept for later.
			client := &http.Client{Timeout: time.Duration(secs)*time.Second + 30*time.Second,
				Transport: &http.Transport{DisableKeepAlives: true}}
			done <- fetchProfile(client, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs), path)
		}()
		return func() error { return <-done }
	}
}

func fetchProfile(client *http.Client, url, path string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s: %s", url, resp.Status, msg)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
