package grpcserver

import (
	"strings"
	"unicode/utf8"

	"github.com/ecoregistry/ecoregistry/domain"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// fieldRenames maps the last part of a name the layers below give a field
// to the request's own name for it, where the two differ by more than the
// "_account_id" that requestFieldPath tries by itself.
var fieldRenames = map[string]string{
	"amount":                   "amount_minor",
	"annual_volume":            "annual_volume_m3",
	"verification_report_date": "verification_date",
}

// messageFieldRenames are the renames that hold in one request message only.
var messageFieldRenames = map[protoreflect.FullName]map[string]string{
	"ecoregistry.v1.ChangeAccountStatusRequest": {"to": "status"},
}

// requestFieldPath turns the field path of a refusal, as package domain or
// a read model names it ("from", "price.amount"), into the path of that
// field in the request message md ("from_account_id",
// "price.amount_minor"), so that a client can map it to its form. A path
// that already resolves, or that names a request header, is returned as it
// is. The name of a oneof stands for whichever of its members the request
// should have set. A path it cannot resolve is returned unchanged too; the
// server tests check that every refusal resolves.
func requestFieldPath(md protoreflect.MessageDescriptor, path string) string {
	if md == nil || path == "" || strings.Contains(path, "-") {
		return path
	}
	parts := strings.Split(path, ".")
	for i, part := range parts {
		fd := resolveField(md, part)
		if fd == nil {
			if i == len(parts)-1 && md.Oneofs().ByName(protoreflect.Name(part)) != nil {
				break
			}
			return path
		}
		parts[i] = string(fd.Name())
		if i < len(parts)-1 {
			if md = fd.Message(); md == nil {
				return path
			}
		}
	}
	return strings.Join(parts, ".")
}

func resolveField(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	fields := md.Fields()
	for _, candidate := range []string{name, name + "_account_id", fieldRenames[name], messageFieldRenames[md.FullName()][name]} {
		if candidate == "" {
			continue
		}
		if fd := fields.ByName(protoreflect.Name(candidate)); fd != nil {
			return fd
		}
	}
	return nil
}

// inRequestTerms returns violations with their fields as paths of the
// request req (see requestFieldPath); a detail that begins with the old
// name ("from is required") begins with the new one. Without a request it
// returns violations as they are.
func inRequestTerms(req proto.Message, violations []domain.Rejection) []domain.Rejection {
	if req == nil {
		return violations
	}
	md := req.ProtoReflect().Descriptor()
	out := make([]domain.Rejection, len(violations))
	for i, v := range violations {
		path := requestFieldPath(md, v.Field)
		if path != v.Field && strings.HasPrefix(v.Detail, v.Field+" ") {
			v.Detail = path + v.Detail[len(v.Field):]
		}
		v.Field = path
		out[i] = v
	}
	return out
}

// renameField rewrites the "(field)" of a refusal's message after its field
// was renamed.
func renameField(msg, from, to string) string {
	if from == to || from == "" {
		return msg
	}
	return strings.Replace(msg, "("+from+")", "("+to+")", 1)
}

// maxEcho bounds the bytes of any text a refusal sends back (a message, a
// field violation's description), so that a huge request value does not come
// back whole.
const maxEcho = 1024

// clip shortens s to at most maxEcho bytes, cut at a character boundary and
// marked with "...", and replaces any byte sequence that is not UTF-8 (which
// a protobuf string cannot carry) with U+FFFD.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxEcho {
		return s
	}
	i := maxEcho - len("...")
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}
