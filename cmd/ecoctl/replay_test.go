package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// A transfer sent again shows its first outcome as a replay; its id with
// other fields is refused, exits 1 and shows the original, in text and in
// JSON.
func TestTransferSentAgain(t *testing.T) {
	svc, addr := startRegistryServer(t)
	openTwoAndRegister(t, svc)
	transfer := []string{"transfer", "--right", "HB2025A", "--id", "T-1", "--from", "HB001", "--to", "HB002", "--quantity", "300"}
	code, first, errOut := ecoctl(t, addr, transfer...)
	if code != exitOK || strings.Contains(first, "Replay") {
		t.Fatalf("exit %d\n%s%s", code, first, errOut)
	}
	code, again, errOut := ecoctl(t, addr, transfer...)
	if code != exitOK || !strings.Contains(again, "Replay:") || !strings.Contains(again, "000000001-000000300") {
		t.Fatalf("the transfer sent again: exit %d\n%s%s", code, again, errOut)
	}
	other := append([]string(nil), transfer...)
	other[len(other)-1] = "301"
	code, out, errOut := ecoctl(t, addr, other...)
	if code != exitRejected || !strings.Contains(out+errOut, "E3004") || !strings.Contains(out+errOut, "original (recorded under this id)") ||
		!strings.Contains(out+errOut, `"quantity": "300"`) {
		t.Fatalf("the id with other fields: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = ecoctl(t, addr, append([]string{"--json"}, other...)...)
	var refusal struct {
		Check    string `json:"check"`
		Original struct {
			TransferID string `json:"transferId"`
			Quantity   string `json:"quantity"`
		} `json:"original"`
	}
	if err := json.Unmarshal([]byte(out+errOut), &refusal); code != exitRejected || err != nil || refusal.Check != "E3004" ||
		refusal.Original.TransferID != "T-1" || refusal.Original.Quantity != "300" {
		t.Fatalf("the id with other fields, as JSON: exit %d, %v\n%s%s", code, err, out, errOut)
	}
}
