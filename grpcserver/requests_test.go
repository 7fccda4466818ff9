package grpcserver

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// This file makes requests for every unary method of the registry's
// services from their descriptors alone: a plausible request per choice of
// its oneofs, and from each, one request per field with that field made bad.
// The tests of field paths, timestamps and echoes send them all.

// apiMethod is one unary method of the API.
type apiMethod struct {
	name   string // the full method, "/ecoregistry.v1.TransferService/TransferUnits"
	input  protoreflect.MessageType
	output protoreflect.MessageType
}

// unaryMethods lists the unary methods of the ecoregistry.v1 services srv
// serves.
func unaryMethods(t *testing.T, srv *grpc.Server) []apiMethod {
	t.Helper()
	var out []apiMethod
	for svc := range srv.GetServiceInfo() {
		if !strings.HasPrefix(svc, "ecoregistry.v1.") {
			continue
		}
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
		if err != nil {
			t.Fatal(err)
		}
		methods := d.(protoreflect.ServiceDescriptor).Methods()
		for i := 0; i < methods.Len(); i++ {
			md := methods.Get(i)
			if md.IsStreamingClient() || md.IsStreamingServer() {
				continue
			}
			in, err1 := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
			out2, err2 := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			out = append(out, apiMethod{name: "/" + svc + "/" + string(md.Name()), input: in, output: out2})
		}
	}
	return out
}

// requestFiller fills a request with plausible values, chosen by the
// fields' names: accounts that exist, the right the test registered, valid
// division and credit codes, and so on.
type requestFiller struct {
	right      string
	creditCode string
	accounts   int // account fields filled so far in this request
}

func (f *requestFiller) stringValue(name string) string {
	switch {
	case strings.HasSuffix(name, "account_id"):
		f.accounts++
		return []string{"SELLER", "BUYER"}[(f.accounts-1)%2]
	case name == "right_id" || name == "key":
		return f.right
	case name == "jurisdiction" || name == "region" || name == "location" || name == "allocating_province":
		return "420000"
	case name == "credit_code":
		return f.creditCode
	case name == "currency":
		return "CNY"
	case name == "compliance_period":
		return "2025"
	case name == "exchange_id" || name == "exchange":
		return "HBEX"
	case strings.HasSuffix(name, "_day"):
		return "2026-01-01"
	case strings.HasSuffix(name, "_period"):
		return "2026"
	case name == "page_token":
		return ""
	}
	return "X-1"
}

func intValue(name string) int64 {
	switch name {
	case "vintage":
		return 2025
	case "page_size":
		return 10
	}
	return 1
}

func timeValue(name string) time.Time {
	now := time.Now().UTC()
	switch name {
	case "valid_from", "monitoring_start", "from_time":
		return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	case "valid_until":
		return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	case "monitoring_end":
		return time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	case "verification_date", "matched_at", "to_time":
		return now.Add(-time.Second)
	}
	return now.Add(24 * time.Hour)
}

// fill sets every field of m, choosing for each oneof the member choices
// names (the first member when it names none).
func (f *requestFiller) fill(m protoreflect.Message, choices map[protoreflect.FullName]protoreflect.Name) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.IsList() || fd.IsMap() {
			continue
		}
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() {
			want, ok := choices[o.FullName()]
			if (ok && fd.Name() != want) || (!ok && o.Fields().Get(0) != fd) {
				continue
			}
		}
		switch fd.Kind() {
		case protoreflect.StringKind:
			m.Set(fd, protoreflect.ValueOfString(f.stringValue(string(fd.Name()))))
		case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
			m.Set(fd, protoreflect.ValueOfInt32(int32(intValue(string(fd.Name())))))
		case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
			m.Set(fd, protoreflect.ValueOfInt64(intValue(string(fd.Name()))))
		case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
			m.Set(fd, protoreflect.ValueOfUint32(1))
		case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
			m.Set(fd, protoreflect.ValueOfUint64(1))
		case protoreflect.EnumKind:
			m.Set(fd, protoreflect.ValueOfEnum(1))
		case protoreflect.MessageKind:
			if fd.Message().FullName() == timestampName {
				m.Set(fd, protoreflect.ValueOfMessage(timestamppb.New(timeValue(string(fd.Name()))).ProtoReflect()))
				continue
			}
			f.fill(m.Mutable(fd).Message(), choices)
		}
	}
	// A right's attributes belong to its type: the members of the oneof
	// "attributes" are listed in the order of the right types.
	if o := m.Descriptor().Oneofs().ByName("attributes"); o != nil {
		if set := m.WhichOneof(o); set != nil {
			m.Set(m.Descriptor().Fields().ByName("type"), protoreflect.ValueOfEnum(protoreflect.EnumNumber(set.Index()-o.Fields().Get(0).Index()+1)))
		}
	}
}

// timestampName is the full name of google.protobuf.Timestamp.
var timestampName = (&timestamppb.Timestamp{}).ProtoReflect().Descriptor().FullName()

// plausibleRequests returns, for a request type, one filled request per
// member of each of its oneofs (and of the oneofs of its fields).
func (f *requestFiller) plausibleRequests(mt protoreflect.MessageType) []proto.Message {
	var oneofs []protoreflect.OneofDescriptor
	var collect func(md protoreflect.MessageDescriptor, depth int)
	collect = func(md protoreflect.MessageDescriptor, depth int) {
		for i := 0; i < md.Oneofs().Len(); i++ {
			if o := md.Oneofs().Get(i); !o.IsSynthetic() {
				oneofs = append(oneofs, o)
			}
		}
		for i := 0; i < md.Fields().Len() && depth < 3; i++ {
			if sub := md.Fields().Get(i).Message(); sub != nil && sub.FullName() != timestampName {
				collect(sub, depth+1)
			}
		}
	}
	collect(mt.Descriptor(), 0)
	var out []proto.Message
	add := func(choices map[protoreflect.FullName]protoreflect.Name) {
		m := mt.New()
		f.accounts = 0
		f.fill(m, choices)
		out = append(out, m.Interface())
	}
	add(nil)
	for _, o := range oneofs {
		for i := 1; i < o.Fields().Len(); i++ {
			add(map[protoreflect.FullName]protoreflect.Name{o.FullName(): o.Fields().Get(i).Name()})
		}
	}
	return out
}

// mutation is a request with one field made bad, and that field's path.
type mutation struct {
	path string
	req  proto.Message
}

// mutations returns, for each field set in req (nested fields included),
// copies of req with that field made bad in each of the ways bad gives.
func mutations(req proto.Message, bad func(fd protoreflect.FieldDescriptor) []protoreflect.Value) []mutation {
	var out []mutation
	var walk func(path []int, m protoreflect.Message, prefix string)
	walk = func(path []int, m protoreflect.Message, prefix string) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			name := prefix + string(fd.Name())
			p := append(append([]int(nil), path...), fd.Index())
			for _, b := range bad(fd) {
				c := proto.Clone(req)
				target := c.ProtoReflect()
				for _, i := range p[:len(p)-1] {
					target = target.Mutable(target.Descriptor().Fields().Get(i)).Message()
				}
				if b.IsValid() {
					target.Set(fd, b)
				} else {
					target.Clear(fd)
				}
				out = append(out, mutation{path: name, req: c})
			}
			if fd.Message() != nil && fd.Message().FullName() != timestampName && !fd.IsList() && !fd.IsMap() {
				walk(p, v.Message(), name+".")
			}
			return true
		})
	}
	walk(nil, req.ProtoReflect(), "")
	return out
}

// badValues makes a field bad: empty, out of range, unknown, unprintable,
// or (for a timestamp) not a valid Timestamp.
func badValues(fd protoreflect.FieldDescriptor) []protoreflect.Value {
	clear := protoreflect.Value{}
	switch fd.Kind() {
	case protoreflect.StringKind:
		return []protoreflect.Value{clear, protoreflect.ValueOfString("bad\x01value")}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return []protoreflect.Value{protoreflect.ValueOfInt32(-1)}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return []protoreflect.Value{clear, protoreflect.ValueOfInt64(-1)}
	case protoreflect.EnumKind:
		return []protoreflect.Value{clear, protoreflect.ValueOfEnum(99)}
	case protoreflect.MessageKind:
		if fd.Message().FullName() == timestampName {
			return []protoreflect.Value{
				protoreflect.ValueOfMessage((&timestamppb.Timestamp{Seconds: 1, Nanos: -1}).ProtoReflect()),
				protoreflect.ValueOfMessage((&timestamppb.Timestamp{Seconds: 253402300800}).ProtoReflect()),
			}
		}
		return []protoreflect.Value{clear}
	}
	return nil
}

// refusal is what a call's refusal said: its status and the fields it named.
type refusal struct {
	st     *status.Status
	fields []string
}

// refusalOf reads the fields a status names in its BadRequest and
// ErrorInfo details.
func refusalOf(err error) refusal {
	st, _ := status.FromError(err)
	r := refusal{st: st}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				r.fields = append(r.fields, v.GetField())
			}
		case *errdetails.ErrorInfo:
			if f, ok := d.GetMetadata()["field"]; ok {
				r.fields = append(r.fields, f)
			}
		}
	}
	return r
}

// call invokes method with req and returns the response, or the error.
func call(ctx context.Context, conn *grpc.ClientConn, m apiMethod, req proto.Message) (proto.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp := m.output.New().Interface()
	if err := conn.Invoke(ctx, m.name, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// resolves reports whether path names a field of md, nested fields
// separated by dots; the last part may name a oneof.
func resolves(md protoreflect.MessageDescriptor, path string) bool {
	parts := strings.Split(path, ".")
	for i, part := range parts {
		fd := md.Fields().ByName(protoreflect.Name(part))
		if fd == nil {
			return i == len(parts)-1 && md.Oneofs().ByName(protoreflect.Name(part)) != nil
		}
		if i < len(parts)-1 {
			if md = fd.Message(); md == nil {
				return false
			}
		}
	}
	return true
}

func describe(req proto.Message) string {
	s := fmt.Sprint(req)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
