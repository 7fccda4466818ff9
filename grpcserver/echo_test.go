package grpcserver

import (
	"strings"
	"testing"

	"go.uber.org/zap"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxAnswer bounds what any answer to a request with a huge value may
// weigh: a refusal's message, its details, or a trade's outcome.
const maxAnswer = 16 << 10

// No answer echoes a huge request value whole: every string field of every
// method's request, in turn, is sent as 1 MiB (a projection name among
// them), and the answer, refusal or not, stays small.
func TestAnswersDoNotEchoHugeValues(t *testing.T) {
	ts := startTestServer(t, zap.NewNop())
	setUpRight(t, ts, "CEA-1")
	f := &requestFiller{right: "CEA-1", creditCode: openAccountRequest("X").GetHolder().GetCreditCode()}
	huge := strings.Repeat("界", 1<<20/3)
	hugeString := func(fd protoreflect.FieldDescriptor) []protoreflect.Value {
		if fd.Kind() == protoreflect.StringKind {
			return []protoreflect.Value{protoreflect.ValueOfString(huge)}
		}
		return nil
	}
	ctx := asActor("office", "echo")
	sent := 0
	for _, m := range unaryMethods(t, ts.srv) {
		for _, req := range f.plausibleRequests(m.input) {
			for _, c := range mutations(req, hugeString) {
				sent++
				resp, err := call(ctx, ts.conn, m, c.req)
				size := 0
				if err != nil {
					st, _ := status.FromError(err)
					size = proto.Size(st.Proto())
				} else {
					size = proto.Size(resp)
				}
				if size > maxAnswer {
					t.Errorf("%s with a 1 MiB %s answers %d bytes (%v)", m.name, c.path, size, status.Code(err))
				}
			}
		}
	}
	t.Logf("%d requests with a 1 MiB string field", sent)
}
