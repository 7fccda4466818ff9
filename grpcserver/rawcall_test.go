package grpcserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"

	"golang.org/x/net/http2"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// rawCall makes a unary gRPC call over plain HTTP/2 with headers as given,
// byte for byte. The Go gRPC client refuses to send a metadata value that is
// not printable ASCII, but other clients send whatever bytes they are
// given, and the server must judge them itself. It returns the call's
// status and the response headers.
func rawCall(t *testing.T, addr, method string, req proto.Message, headers map[string]string) (*status.Status, http.Header) {
	t.Helper()
	body, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 5, 5+len(body))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(body)))
	frame = append(frame, body...)
	hreq, err := http.NewRequest(http.MethodPost, "http://"+addr+method, bytes.NewReader(frame))
	if err != nil {
		t.Fatal(err)
	}
	hreq.Header.Set("content-type", "application/grpc")
	hreq.Header.Set("te", "trailers")
	for k, v := range headers {
		hreq.Header[k] = []string{v}
	}
	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(hreq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	trailer := resp.Trailer
	if len(trailer) == 0 { // a trailers-only response carries its status in the headers
		trailer = resp.Header
	}
	code, err := strconv.Atoi(trailer.Get("grpc-status"))
	if err != nil {
		t.Fatalf("no grpc-status in %v", trailer)
	}
	if bin := trailer.Get("grpc-status-details-bin"); bin != "" {
		raw, err := base64.RawStdEncoding.DecodeString(bin)
		if err != nil {
			t.Fatal(err)
		}
		var sp spb.Status
		if err := proto.Unmarshal(raw, &sp); err != nil {
			t.Fatal(err)
		}
		return status.FromProto(&sp), resp.Header
	}
	return status.New(codes.Code(code), trailer.Get("grpc-message")), resp.Header
}
