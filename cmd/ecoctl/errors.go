package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// rejection is what ecoctl shows of a failed call: the gRPC status and the
// registry's details. Its JSON form is what --json prints.
type rejection struct {
	// Code is the canonical gRPC code name, e.g. "FAILED_PRECONDITION".
	Code    string `json:"code"`
	Message string `json:"message"`
	// Check is the google.rpc.ErrorInfo reason: the registry's check code,
	// e.g. "E5001"; empty when the status carries no ErrorInfo.
	Check    string            `json:"check"`
	Domain   string            `json:"domain,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// Violations are the google.rpc.BadRequest field violations.
	Violations []violation `json:"violations"`
	// Original is, for a refusal of an id re-used with other fields, the
	// response the command first recorded under the id got, as protojson.
	Original json.RawMessage `json:"original,omitempty"`
}

type violation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

func rejectionOf(err error) rejection {
	// FromError turns a non-status error (which grpc-go does not return from
	// a call, but a future caller might) into Unknown with its text.
	st, _ := status.FromError(err)
	name, ok := code.Code_name[int32(st.Code())]
	if !ok {
		name = st.Code().String()
	}
	r := rejection{Code: name, Message: st.Message(), Violations: []violation{}}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			r.Check, r.Domain, r.Metadata = d.GetReason(), d.GetDomain(), d.GetMetadata()
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				r.Violations = append(r.Violations, violation{Field: v.GetField(), Description: v.GetDescription()})
			}
		case proto.Message:
			// Any other detail the registry sends is the original of a
			// re-used id.
			if b, err := protojson.Marshal(d); err == nil {
				r.Original = b
			}
		}
	}
	return r
}

// writeErrorText prints a failed call for a person:
//
//	error: FAILED_PRECONDITION: <message>
//	check: E5001 (domain ecoregistry)
//	  name: INSUFFICIENT_AVAILABLE_UNITS
//	violations:
//	  quantity: E1010 INVALID_QUANTITY: ...
func writeErrorText(w io.Writer, err error) {
	r := rejectionOf(err)
	fmt.Fprintf(w, "error: %s: %s\n", r.Code, r.Message)
	if r.Check != "" {
		line := "check: " + r.Check
		if r.Domain != "" {
			line += " (domain " + r.Domain + ")"
		}
		fmt.Fprintln(w, line)
		for _, k := range slices.Sorted(maps.Keys(r.Metadata)) {
			fmt.Fprintf(w, "  %s: %s\n", k, r.Metadata[k])
		}
	}
	if len(r.Original) > 0 {
		var indented bytes.Buffer
		if json.Indent(&indented, r.Original, "  ", "  ") == nil {
			fmt.Fprintf(w, "original (recorded under this id):\n  %s\n", indented.String())
		}
	}
	if len(r.Violations) > 0 {
		fmt.Fprintln(w, "violations:")
		for _, v := range r.Violations {
			field := v.Field
			if field == "" {
				field = "(request)"
			}
			fmt.Fprintf(w, "  %s: %s\n", field, strings.TrimSpace(v.Description))
		}
	}
}

// writeErrorJSON prints a failed call as one JSON object, for scripts.
func writeErrorJSON(w io.Writer, err error) {
	b, _ := json.Marshal(rejectionOf(err)) // strings and maps of strings always encode
	fmt.Fprintf(w, "%s\n", b)
}
