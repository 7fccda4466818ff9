package esdbstore_test

import (
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
	"github.com/ecoregistry/ecoregistry/eventstore/storetest"
)

// secureCluster is a 3-node fake cluster serving TLS with a CA made for the
// test, with an admin and a user outside $admins.
func secureCluster(t *testing.T) *esdbfake.Server {
	return esdbfake.StartWith(t, esdbfake.Options{Nodes: 3, TLS: true, Users: []esdbfake.User{
		{Name: "ecoregistry", Password: "s3cret-pw", Admin: true},
		{Name: "writer", Password: "w-pw"},
	}})
}

// TestContractOverTLSWithCredentials runs the contract suite on a secure
// cluster, connecting as the README's runbook says: credentials and
// tlsCAFile in the connection string.
func TestContractOverTLSWithCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("the single-node run covers the contract in -short mode")
	}
	storetest.Run(t, func(t *testing.T) (eventstore.Store, func() eventstore.Store) {
		url := secureCluster(t).URLAs("ecoregistry", "s3cret-pw")
		return open(t, url), func() eventstore.Store { return open(t, url) }
	})
}

func TestCredentials(t *testing.T) {
	srv := secureCluster(t)
	refused := func(t *testing.T, url string, want ...string) {
		t.Helper()
		s, err := esdbstore.Open(t.Context(), url, esdbstore.Options{})
		if err == nil {
			s.Close()
			t.Fatal("Open connected")
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("Open gives %q, which does not say %q", err, w)
			}
		}
		if strings.Contains(err.Error(), "pw") {
			t.Fatalf("Open's error %q shows the password", err)
		}
	}
	t.Run("a user who may not read $all is refused at connect, with the ACL to grant", func(t *testing.T) {
		refused(t, srv.URLAs("writer", "w-pw"), "$all", "$admins")
	})
	t.Run("a wrong password is refused at connect, without showing it", func(t *testing.T) {
		refused(t, srv.URLAs("ecoregistry", "wrong-pw"), "credentials")
	})
	t.Run("no credentials on a secure cluster is refused at connect", func(t *testing.T) {
		refused(t, srv.URL(), "$all", "credentials")
	})
	t.Run("a cluster whose CA is not trusted is refused at connect", func(t *testing.T) {
		noCA := strings.Split(srv.URLAs("ecoregistry", "s3cret-pw"), "&tlsCAFile=")[0] + "&maxDiscoverAttempts=1"
		refused(t, noCA, "connect to")
	})
}

func TestConnectionStrings(t *testing.T) {
	for _, scheme := range []string{"kurrentdb", "kurrentdb+discover", "kurrent"} {
		t.Run(scheme+":// is refused with the schemes this client takes", func(t *testing.T) {
			err := esdbstore.CheckURL(scheme + "://admin:changeit@node1:2113?tls=true")
			if err == nil || !strings.Contains(err.Error(), "the "+scheme+":// scheme is for the KurrentDB clients") ||
				!strings.Contains(err.Error(), "esdb+discover://") || strings.Contains(err.Error(), "changeit") {
				t.Fatalf("CheckURL gives %v", err)
			}
		})
	}
	for url, want := range map[string]string{
		"esdb://admin:changeit@node1:2113?tls=true":                        "esdb://***@node1:2113?tls=true",
		"esdb://admin:ch/an@ge%40it@node1:2113,node2:2113?tls=true":        "esdb://***@node1:2113,node2:2113?tls=true",
		"esdb+discover://ecoregistry:s3cret@cluster.example:2113?tls=true": "esdb+discover://***@cluster.example:2113?tls=true",
		"esdb://node1:2113?tls=true&tlsCAFile=/etc/ca@2.pem":               "esdb://node1:2113?tls=true&tlsCAFile=/etc/ca@2.pem",
	} {
		t.Run("Redact("+url+") hides the credentials", func(t *testing.T) {
			if got := esdbstore.Redact(url); got != want {
				t.Fatalf("Redact gives %s, want %s", got, want)
			}
		})
	}
	t.Run("a connection string the parser quotes in its error is refused without its password", func(t *testing.T) {
		err := esdbstore.CheckURL("esdb://admin:s3cret@node1:21x3?tls=true")
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("CheckURL gives %v", err)
		}
	})
	t.Run("credentials without TLS are not sent by the client, and Open says so", func(t *testing.T) {
		core, logs := observer.New(zap.WarnLevel)
		url := strings.Replace(esdbfake.Start(t).URL(), "esdb://", "esdb://user:pw@", 1)
		s, err := esdbstore.Open(t.Context(), url, esdbstore.Options{Logger: zap.New(core)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if logs.FilterMessageSnippet("tls=false").Len() != 1 {
			t.Fatalf("Open logged %v, want one warning about credentials without TLS", logs.All())
		}
	})
}
