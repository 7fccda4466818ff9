package grpcserver

import (
	"fmt"
	"sync"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// timestampChecks names, for each google.protobuf.Timestamp field a request
// can carry, the check that refuses it when it is not a valid Timestamp
// (nanos outside 0..999999999, or a time outside the years 1 to 9999).
// Such a value would be recorded as it came and then break every JSON
// answer that shows it. The domain's own, tighter, bounds (a trade matched
// after 2000, a timeout within 366 days, ...) are checked after this. The
// server tests fail when a request has a Timestamp field missing here.
var timestampChecks = map[protoreflect.FullName]domain.Check{
	"ecoregistry.v1.RegisterRightRequest.valid_from":        domain.CheckInvalidValidityPeriod,
	"ecoregistry.v1.RegisterRightRequest.valid_until":       domain.CheckInvalidValidityPeriod,
	"ecoregistry.v1.CarbonSinkAttributes.monitoring_start":  domain.CheckInvalidMonitoringPeriod,
	"ecoregistry.v1.CarbonSinkAttributes.monitoring_end":    domain.CheckInvalidMonitoringPeriod,
	"ecoregistry.v1.CarbonSinkAttributes.verification_date": domain.CheckInvalidVerificationDate,
	"ecoregistry.v1.PledgeUnitsRequest.maturity":            domain.CheckInvalidMaturity,
	"ecoregistry.v1.ReserveUnitsRequest.timeout":            domain.CheckInvalidTimeout,
	"ecoregistry.v1.MatchedTrade.matched_at":                domain.CheckInvalidMatchedAt,
	"ecoregistry.v1.ListTradesRequest.from_time":            domain.CheckInvalidQueryRange,
	"ecoregistry.v1.ListTradesRequest.to_time":              domain.CheckInvalidQueryRange,
}

// timestampFullName is the full name of google.protobuf.Timestamp.
var timestampFullName = (&timestamppb.Timestamp{}).ProtoReflect().Descriptor().FullName()

// timestampPath is the way from a request to one of its Timestamp fields.
type timestampPath []protoreflect.FieldDescriptor

// timestampPaths caches, per request message, the paths to its Timestamp
// fields, so that a request costs a lookup per Timestamp it can carry.
var timestampPaths sync.Map // protoreflect.FullName -> []timestampPath

// pathsToTimestamps returns the paths to md's Timestamp fields, through
// singular message fields.
func pathsToTimestamps(md protoreflect.MessageDescriptor) []timestampPath {
	if v, ok := timestampPaths.Load(md.FullName()); ok {
		return v.([]timestampPath)
	}
	var out []timestampPath
	var walk func(md protoreflect.MessageDescriptor, prefix timestampPath)
	walk = func(md protoreflect.MessageDescriptor, prefix timestampPath) {
		fields := md.Fields()
		for i := 0; i < fields.Len(); i++ {
			fd := fields.Get(i)
			if fd.Message() == nil || fd.IsList() || fd.IsMap() || len(prefix) > 4 {
				continue
			}
			path := append(append(timestampPath(nil), prefix...), fd)
			if fd.Message().FullName() == timestampFullName {
				out = append(out, path)
			} else {
				walk(fd.Message(), path)
			}
		}
	}
	walk(md, nil)
	timestampPaths.Store(md.FullName(), out)
	return out
}

// checkTimestamps refuses a request any of whose Timestamps is not valid,
// with a violation per such field that names its path in the request.
func checkTimestamps(req proto.Message) error {
	m := req.ProtoReflect()
	var violations []domain.Rejection
	for _, path := range pathsToTimestamps(m.Descriptor()) {
		if r := checkTimestampAt(m, path); r != nil {
			violations = append(violations, *r)
		}
	}
	if len(violations) == 0 {
		return nil
	}
	return &domain.ValidationError{Violations: violations}
}

// checkTimestampAt checks the Timestamp at path in m, when it is set.
func checkTimestampAt(m protoreflect.Message, path timestampPath) *domain.Rejection {
	name := ""
	for i, fd := range path {
		if !m.Has(fd) {
			return nil
		}
		if i > 0 {
			name += "."
		}
		name += string(fd.Name())
		m = m.Get(fd).Message()
	}
	ts, ok := m.Interface().(*timestamppb.Timestamp)
	if !ok {
		return nil
	}
	if err := ts.CheckValid(); err != nil {
		last := path[len(path)-1]
		check, ok := timestampChecks[last.FullName()]
		if !ok { // a field the table misses, which the tests catch
			check = domain.CheckInvalidQueryRange
		}
		return &domain.Rejection{Check: check, Field: name,
			Detail: fmt.Sprintf("%s (seconds %d, nanos %d) is not a valid timestamp: it must lie in the years 1 to 9999 with nanos in 0..999999999", name, ts.GetSeconds(), ts.GetNanos())}
	}
	return nil
}

// isTradeRequest reports whether req carries a trade, whose timestamps the
// settlement handlers check, so that a bad one refuses the trade as its
// outcome rather than the call.
func isTradeRequest(req proto.Message) bool {
	_, ok := req.(*pb.SubmitTradeRequest)
	return ok
}

// tradeTimestampRefusal returns the outcome of a trade refused for a
// Timestamp that is not valid, or nil when its Timestamps are valid.
func tradeTimestampRefusal(t *pb.MatchedTrade) *pb.TradeOutcome {
	err := checkTimestamps(t)
	if err == nil {
		return nil
	}
	v := domain.ViolationsOf(err)[0]
	return refusedTrade(t, v.Check, v.Field, v.Detail)
}
