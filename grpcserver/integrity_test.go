package grpcserver

import (
	"errors"
	"testing"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ecoregistry/ecoregistry/integrity"
	"github.com/ecoregistry/ecoregistry/integrity/verify"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

func TestEveryKindOfBreakHasItsEnumValue(t *testing.T) {
	for k := verify.ChainBroken; k <= verify.TreeMismatch; k++ {
		got := pb.IntegrityBreakKind(k).String()
		want := "INTEGRITY_BREAK_KIND_" + upperSnake(k.String())
		if got != want {
			t.Errorf("kind %q goes out as %s, want %s", k, got, want)
		}
	}
}

// upperSnake names a kind as the enum does; the two names that differ in
// wording are mapped by hand.
func upperSnake(s string) string {
	switch s {
	case "event differs from the tree":
		return "LEAF_MISMATCH"
	}
	out := []byte{}
	for _, c := range []byte(s) {
		switch {
		case c == ' ':
			out = append(out, '_')
		case c >= 'a' && c <= 'z':
			out = append(out, c-'a'+'A')
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func TestAWriteRefusedAfterABreakSaysWhere(t *testing.T) {
	h := &integrity.Halt{When: "the check at start", Total: 1,
		Breaks: []verify.Break{{Kind: verify.EventMissing, Stream: "right-R", Revision: 3, Detail: "removed"}}}
	err := toStatus(t.Context(), zap.NewNop(), "TransferUnits", errors.Join(errors.New("registry: append to right-R"), h))
	st, _ := status.FromError(err)
	if st.Code() != codes.FailedPrecondition || st.Message() != h.Error() {
		t.Fatalf("status %s %q", st.Code(), st.Message())
	}
}
