package grpcserver

import (
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"github.com/ecoregistry/ecoregistry/registry"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The API's enums and package domain's share their numbers (both start
// with an unspecified zero and list their values in the same order; the
// conversion tests pin it), so they convert by number. Unknown numbers pass
// through and are refused by the domain's validation with a field path.

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func tm(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

func positionToProto(p eventstore.Position) *pb.Position {
	return &pb.Position{Commit: p.Commit, Prepare: p.Prepare}
}

func commitToProto(c registry.Commit) *pb.Commit {
	return &pb.Commit{Stream: c.Stream, StreamRevision: c.Revision, Position: positionToProto(c.Position), CorrelationId: c.CorrelationID}
}

func openAccountFromProto(r *pb.OpenAccountRequest) domain.OpenAccount {
	return domain.OpenAccount{
		AccountID: r.GetAccountId(),
		Holder: domain.Holder{
			Name:       r.GetHolder().GetName(),
			Kind:       domain.HolderKind(r.GetHolder().GetKind()),
			CreditCode: r.GetHolder().GetCreditCode(),
		},
		Jurisdiction: r.GetJurisdiction(),
		Type:         domain.AccountType(r.GetType()),
	}
}

func accountToProto(a domain.Account, rev uint64, reason string) *pb.Account {
	h := a.Holder()
	return &pb.Account{
		AccountId:    a.ID(),
		Holder:       &pb.Holder{Name: h.Name, Kind: pb.HolderKind(h.Kind), CreditCode: h.CreditCode},
		Jurisdiction: a.Jurisdiction(),
		Type:         pb.AccountType(a.Type()),
		Status:       pb.AccountStatus(a.Status()),
		StatusReason: reason,
		OpenedAt:     ts(a.OpenedAt()),
		Revision:     rev,
		FreezeOrders: a.FreezeOrders(),
	}
}

func registerRightFromProto(r *pb.RegisterRightRequest) domain.RegisterRight {
	cmd := domain.RegisterRight{
		RightID:         r.GetRightId(),
		Type:            domain.RightType(r.GetType()),
		Jurisdiction:    r.GetJurisdiction(),
		Vintage:         int(r.GetVintage()),
		Unit:            domain.RightType(r.GetType()).Unit(),
		Quantity:        r.GetQuantity(),
		HolderAccountID: r.GetHolderAccountId(),
		ValidFrom:       tm(r.GetValidFrom()),
		ValidUntil:      tm(r.GetValidUntil()),
	}
	switch a := r.GetAttributes().(type) {
	case *pb.RegisterRightRequest_CarbonAllowance:
		cmd.Attributes = carbonAllowanceFromProto(a.CarbonAllowance)
	case *pb.RegisterRightRequest_WaterRight:
		cmd.Attributes = waterRightFromProto(a.WaterRight)
	case *pb.RegisterRightRequest_PollutantRight:
		cmd.Attributes = pollutantRightFromProto(a.PollutantRight)
	case *pb.RegisterRightRequest_CarbonSink:
		cmd.Attributes = carbonSinkFromProto(a.CarbonSink)
	}
	return cmd
}

func carbonAllowanceFromProto(x *pb.CarbonAllowanceAttributes) domain.CarbonAllowance {
	return domain.CarbonAllowance{
		AllocatingProvince: x.GetAllocatingProvince(),
		Scheme:             domain.CEAScheme(x.GetScheme()),
		AllocationMethod:   domain.AllocationMethod(x.GetAllocationMethod()),
		CompliancePeriod:   x.GetCompliancePeriod(),
	}
}

func waterRightFromProto(x *pb.WaterRightAttributes) domain.WaterRight {
	return domain.WaterRight{
		Class:              domain.WaterRightClass(x.GetClass()),
		IntakePermitNumber: x.GetIntakePermitNumber(),
		Basin:              x.GetBasin(),
		Source:             domain.WaterSource(x.GetSource()),
		Use:                domain.WaterUse(x.GetUse()),
		AnnualVolume:       x.GetAnnualVolumeM3(),
	}
}

func pollutantRightFromProto(x *pb.PollutantRightAttributes) domain.PollutantRight {
	return domain.PollutantRight{
		Pollutant:             domain.Pollutant(x.GetPollutant()),
		DischargePermitNumber: x.GetDischargePermitNumber(),
		Region:                x.GetRegion(),
		BasinOrAirshed:        x.GetBasinOrAirshed(),
		Origin:                domain.PollutantRightOrigin(x.GetOrigin()),
	}
}

func carbonSinkFromProto(x *pb.CarbonSinkAttributes) domain.CarbonSink {
	return domain.CarbonSink{
		ProjectID:              x.GetProjectId(),
		Methodology:            x.GetMethodology(),
		MonitoringStart:        tm(x.GetMonitoringStart()),
		MonitoringEnd:          tm(x.GetMonitoringEnd()),
		Location:               x.GetLocation(),
		AreaSquareMetres:       x.GetAreaSquareMetres(),
		VerificationBody:       x.GetVerificationBody(),
		VerificationReportDate: tm(x.GetVerificationDate()),
		Kind:                   domain.SinkKind(x.GetKind()),
		BufferBasisPoints:      x.GetBufferBasisPoints(),
	}
}

func prefixedRanges(prefix string, blocks []domain.Block) []*pb.SerialRange {
	out := make([]*pb.SerialRange, len(blocks))
	for i, b := range blocks {
		out[i] = &pb.SerialRange{Start: b.Start, End: b.End, Serial: domain.FormatSerialWithPrefix(prefix, b)}
	}
	return out
}

func holdingToProto(rightID, serialPrefix string, h domain.HoldingView) *pb.Holding {
	return &pb.Holding{
		AccountId:       h.AccountID,
		RightId:         rightID,
		Available:       h.Available,
		Retired:         h.Retired,
		AvailableRanges: prefixedRanges(serialPrefix, h.AvailableBlocks),
		RetiredRanges:   prefixedRanges(serialPrefix, h.RetiredBlocks),
		Pledged:         h.Pledged,
		Frozen:          h.Frozen,
		Reserved:        h.Reserved,
		PledgedRanges:   prefixedRanges(serialPrefix, h.PledgedBlocks),
		FrozenRanges:    prefixedRanges(serialPrefix, h.FrozenBlocks),
		ReservedRanges:  prefixedRanges(serialPrefix, h.ReservedBlocks),
	}
}

func rightToProto(r *domain.Right, rev uint64) *pb.Right {
	serial := r.Serial()
	out := &pb.Right{
		RightId:         r.ID(),
		Type:            pb.RightType(r.Type()),
		Jurisdiction:    r.Jurisdiction(),
		Vintage:         int32(r.Vintage()),
		Unit:            pb.Unit(r.Unit()),
		Quantity:        r.Quantity(),
		Serial:          &pb.SerialRange{Start: serial.Start, End: serial.End, Serial: domain.FormatSerialWithPrefix(r.SerialPrefix(), serial)},
		HolderAccountId: r.IssuedTo(),
		ValidFrom:       ts(r.ValidFrom()),
		ValidUntil:      ts(r.ValidUntil()),
		RegisteredAt:    ts(r.RegisteredAt()),
		Revision:        rev,
		ExpiredAt:       ts(r.ExpiredAt()),
	}
	t := r.Totals()
	out.CancelledQuantity, out.ExpiredQuantity = t.Cancelled, t.Expired
	if b := r.Buffer(); b.Valid() {
		out.BufferQuantity = b.Size()
	}
	for _, h := range r.Holdings() {
		out.RetiredQuantity += h.Retired
		out.Holdings = append(out.Holdings, holdingToProto(r.ID(), r.SerialPrefix(), h))
	}
	switch a := r.Attributes().(type) {
	case domain.CarbonAllowance:
		out.Attributes = &pb.Right_CarbonAllowance{CarbonAllowance: &pb.CarbonAllowanceAttributes{
			AllocatingProvince: a.AllocatingProvince,
			Scheme:             pb.CarbonScheme(a.Scheme),
			AllocationMethod:   pb.AllocationMethod(a.AllocationMethod),
			CompliancePeriod:   a.CompliancePeriod,
		}}
	case domain.WaterRight:
		out.Attributes = &pb.Right_WaterRight{WaterRight: &pb.WaterRightAttributes{
			Class:              pb.WaterRightClass(a.Class),
			IntakePermitNumber: a.IntakePermitNumber,
			Basin:              a.Basin,
			Source:             pb.WaterSource(a.Source),
			Use:                pb.WaterUse(a.Use),
			AnnualVolumeM3:     a.AnnualVolume,
		}}
	case domain.PollutantRight:
		out.Attributes = &pb.Right_PollutantRight{PollutantRight: &pb.PollutantRightAttributes{
			Pollutant:             pb.Pollutant(a.Pollutant),
			DischargePermitNumber: a.DischargePermitNumber,
			Region:                a.Region,
			BasinOrAirshed:        a.BasinOrAirshed,
			Origin:                pb.PollutantOrigin(a.Origin),
		}}
	case domain.CarbonSink:
		out.Attributes = &pb.Right_CarbonSink{CarbonSink: &pb.CarbonSinkAttributes{
			ProjectId:         a.ProjectID,
			Methodology:       a.Methodology,
			MonitoringStart:   ts(a.MonitoringStart),
			MonitoringEnd:     ts(a.MonitoringEnd),
			Location:          a.Location,
			AreaSquareMetres:  a.AreaSquareMetres,
			VerificationBody:  a.VerificationBody,
			VerificationDate:  ts(a.VerificationReportDate),
			Kind:              pb.SinkKind(a.Kind),
			BufferBasisPoints: a.BufferBasisPoints,
		}}
	}
	return out
}

func rangeFromProto(r *pb.SerialRange) *domain.Block {
	if r == nil {
		return nil
	}
	return &domain.Block{Start: r.GetStart(), End: r.GetEnd()}
}

func transferFromProto(r *pb.TransferUnitsRequest) domain.TransferUnits {
	cmd := domain.TransferUnits{
		RightID:    r.GetRightId(),
		TransferID: r.GetTransferId(),
		From:       r.GetFromAccountId(),
		To:         r.GetToAccountId(),
		Reference:  r.GetReference(),
		Reason:     r.GetReason(),
	}
	switch a := r.GetAmount().(type) {
	case *pb.TransferUnitsRequest_Quantity:
		cmd.Quantity = a.Quantity
	case *pb.TransferUnitsRequest_Range:
		cmd.Range = rangeFromProto(a.Range)
	}
	if p := r.GetPrice(); p != nil {
		cmd.Price = &domain.Price{Amount: p.GetAmountMinor(), Currency: p.GetCurrency()}
	}
	return cmd
}

func retireFromProto(r *pb.RetireUnitsRequest) domain.RetireUnits {
	cmd := domain.RetireUnits{
		RightID:          r.GetRightId(),
		RetirementID:     r.GetRetirementId(),
		Holder:           r.GetHolderAccountId(),
		Purpose:          domain.RetirementPurpose(r.GetPurpose()),
		Beneficiary:      r.GetBeneficiary(),
		CompliancePeriod: r.GetCompliancePeriod(),
		Reason:           r.GetReason(),
	}
	switch a := r.GetAmount().(type) {
	case *pb.RetireUnitsRequest_Quantity:
		cmd.Quantity = a.Quantity
	case *pb.RetireUnitsRequest_Range:
		cmd.Range = rangeFromProto(a.Range)
	}
	return cmd
}
