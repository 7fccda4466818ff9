package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTradeSubmit(t *testing.T) {
	svc, addr := startRegistryServer(t)
	openTwoAndRegister(t, svc)
	// The registry's clock in this test stands in November 2026.
	trade := []string{"trade", "submit", "--exchange", "HBEX", "--id", "X-1", "--right", "HB2025A", "--seller", "HB001", "--buyer", "HB002",
		"--quantity", "400", "--price", "58.25", "--matched-at", "2026-11-05T00:30:00Z"}

	t.Run("a trade settles and prints the moved serial blocks", func(t *testing.T) {
		code, out, errOut := ecoctl(t, addr, trade...)
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		for _, want := range []string{"Outcome", "settled", "Quantity", "400", "58.25 CNY (5825 minor units)", "right-HB2025A", "000000001-000000400"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "Replay") {
			t.Errorf("a first submission is no replay:\n%s", out)
		}
	})

	t.Run("the same trade again is a replay that settles nothing new", func(t *testing.T) {
		code, out, errOut := ecoctl(t, addr, trade...)
		if code != exitOK || !strings.Contains(out, "Replay") || !strings.Contains(out, "000000001-000000400") {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		code, out, _ = ecoctl(t, addr, "--json", "holding", "show", "--right", "HB2025A", "--account", "HB002")
		var h struct {
			Holding struct {
				Available string `json:"available"`
			} `json:"holding"`
		}
		if err := json.Unmarshal([]byte(out), &h); code != exitOK || err != nil || h.Holding.Available != "400" {
			t.Fatalf("the buyer holds %q after the replay (exit %d, %v):\n%s", h.Holding.Available, code, err, out)
		}
	})

	t.Run("the same id with other content is refused, exits 1 and shows the original", func(t *testing.T) {
		other := append([]string(nil), trade...)
		other[len(other)-5] = "401" // the quantity
		code, out, errOut := ecoctl(t, addr, other...)
		if code != exitRejected || !strings.Contains(out+errOut, "E3009") || !strings.Contains(out+errOut, "400 units") {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
	})

	t.Run("a trade the seller cannot cover is refused with its check code", func(t *testing.T) {
		code, out, errOut := ecoctl(t, addr, "--json", "trade", "submit", "--exchange", "HBEX", "--id", "X-2", "--right", "HB2025A", "--seller", "HB002",
			"--buyer", "HB001", "--quantity", "401", "--price", "58", "--matched-at", "2026-11-05T00:30:00Z")
		var got struct {
			Outcome struct {
				Refused struct {
					CheckCode string `json:"checkCode"`
				} `json:"refused"`
			} `json:"outcome"`
		}
		if err := json.Unmarshal([]byte(out), &got); code != exitRejected || err != nil || got.Outcome.Refused.CheckCode != "E5001" {
			t.Fatalf("exit %d (%v)\n%s%s", code, err, out, errOut)
		}
	})

	t.Run("a trade without a price is a usage error and sends nothing", func(t *testing.T) {
		code, _, errOut := ecoctl(t, addr, "trade", "submit", "--exchange", "HBEX", "--id", "X-3", "--right", "HB2025A", "--seller", "HB001",
			"--buyer", "HB002", "--quantity", "1")
		if code != exitUsage || !strings.Contains(errOut, "--price") {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
	})
}
