package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
	"github.com/ecoregistry/ecoregistry/mtls"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

func TestLogFlags(t *testing.T) {
	none := func(string) string { return "" }
	t.Run("by default the format follows stderr and calls over a second warn", func(t *testing.T) {
		cfg, err := ParseConfig(nil, none, io.Discard)
		if err != nil || cfg.LogFormat != "" || cfg.SlowRequest != time.Second {
			t.Fatalf("%+v %v", cfg, err)
		}
	})
	t.Run("flags set them", func(t *testing.T) {
		cfg, err := ParseConfig([]string{"--log-format", "console", "--slow-request", "250ms"}, none, io.Discard)
		if err != nil || cfg.LogFormat != "console" || cfg.SlowRequest != 250*time.Millisecond {
			t.Fatalf("%+v %v", cfg, err)
		}
	})
	t.Run("so does the environment", func(t *testing.T) {
		env := map[string]string{"ECOREGISTRY_LOG_FORMAT": "json", "ECOREGISTRY_SLOW_REQUEST": "0"}
		cfg, err := ParseConfig(nil, func(k string) string { return env[k] }, io.Discard)
		if err != nil || cfg.LogFormat != "json" || cfg.SlowRequest != 0 {
			t.Fatalf("%+v %v", cfg, err)
		}
	})
	for _, args := range [][]string{{"--log-format", "xml"}, {"--slow-request", "-1s"}, {"--slow-request", "soon"}} {
		t.Run("refused: "+args[0]+" "+args[1], func(t *testing.T) {
			if _, err := ParseConfig(args, none, io.Discard); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestTheRequestLogNamesTheAuthenticatedPrincipal(t *testing.T) {
	pki := newTestPKI(t)
	core, logs := observer.New(zap.InfoLevel)
	m := startTLSServer(t, pki, officePolicy, zap.New(core))
	conn := dialTLS(t, m.Addr(), pki.ca, clientCert(t, pki.ca, "hubei-office", "li.wei", mtls.For(time.Hour)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = pb.NewAccountServiceClient(conn).GetAccount(ctx, &pb.GetAccountRequest{AccountId: "NOBODY"})
	lines := logs.FilterMessage("request").All()
	if len(lines) != 1 {
		t.Fatalf("%d request lines", len(lines))
	}
	f := lines[0].ContextMap()
	if p, _ := f["principal"].(string); p == "" || f["actor"] != p || !strings.Contains(p, "li.wei") {
		t.Fatalf("log fields %v: want the certificate's principal as principal and actor", f)
	}
}

// A server on a secure EventStoreDB cluster, whose connection string holds
// a password, logs where its events are without the password, from the
// start to the stop, at every level.
func TestTheLogsNeverShowTheEventStorePassword(t *testing.T) {
	srv := esdbfake.StartWith(t, esdbfake.Options{TLS: true, Users: []esdbfake.User{{Name: "ecoregistry", Password: "s3cret-pw", Admin: true}}})
	core, logs := observer.New(zap.DebugLevel)
	m := NewMain(Config{Store: StoreESDB, ESDBURL: srv.URLAs("ecoregistry", "s3cret-pw"), Data: t.TempDir(), Listen: "127.0.0.1:0", LogLevel: "debug", ShutdownTimeout: 5 * time.Second})
	m.Logger = zap.New(core)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	serving := logs.FilterMessage("ecoregistryd serving").All()
	if len(serving) != 1 || !strings.HasPrefix(serving[0].ContextMap()["esdb_url"].(string), "esdb://***@127.0.0.1:") {
		t.Fatalf("the serving line: %v", serving)
	}
	for _, e := range logs.All() {
		if line := fmt.Sprint(e.Message, e.ContextMap()); strings.Contains(line, "s3cret") {
			t.Fatalf("a log line shows the password: %s", line)
		}
	}
}
