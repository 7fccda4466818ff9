package eventcodec

import (
	"errors"
	"fmt"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	eventsv1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/events/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ErrUnknownEventType reports a stored event whose type this version of the
// registry does not know.
var ErrUnknownEventType = errors.New("eventcodec: unknown event type")

// Encode serializes a domain event as its stored type name and payload. It
// refuses, with an error wrapping ErrUnencodable, an event it could not read
// back: one with a string that is not valid UTF-8 or a time outside the
// years 1 to 9999.
func Encode(e domain.Event) (eventType string, data []byte, err error) {
	if data, ok := encodeSettlement(e); ok {
		if err := checkSettlement(e); err != nil {
			return "", nil, err
		}
		return e.EventType(), data, nil
	}
	m, err := toProto(e)
	if err != nil {
		return "", nil, err
	}
	data, err = marshalChecked(m)
	if err != nil {
		return "", nil, fmt.Errorf("eventcodec: marshal %s: %w", e.EventType(), err)
	}
	return e.EventType(), data, nil
}

// accountMessage returns an empty stored message for an account event or
// a registration, transfer or retirement, or nil for other types.
func accountMessage(eventType string) proto.Message {
	switch eventType {
	case domain.EventTypeAccountOpened:
		return &eventsv1.AccountOpened{}
	case domain.EventTypeAccountStatusChanged:
		return &eventsv1.AccountStatusChanged{}
	case domain.EventTypeRightRegistered:
		return &eventsv1.RightRegistered{}
	case domain.EventTypeUnitsTransferred:
		return eventsv1.UnitsTransferredFromVTPool()
	case domain.EventTypeUnitsRetired:
		return eventsv1.UnitsRetiredFromVTPool()
	}
	return nil
}

func timestampOf(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func timeOf(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

func blocksToProto(bs []domain.Block) []*eventsv1.SerialBlock {
	out := make([]*eventsv1.SerialBlock, len(bs))
	for i, b := range bs {
		out[i] = &eventsv1.SerialBlock{Start: b.Start, End: b.End}
	}
	return out
}

func blocksFromProto(bs []*eventsv1.SerialBlock) []domain.Block {
	out := make([]domain.Block, len(bs))
	for i, b := range bs {
		out[i] = domain.Block{Start: b.GetStart(), End: b.GetEnd()}
	}
	return out
}

func blockToProto(b domain.Block) *eventsv1.SerialBlock {
	if b == (domain.Block{}) {
		return nil
	}
	return &eventsv1.SerialBlock{Start: b.Start, End: b.End}
}

func blockFromProto(b *eventsv1.SerialBlock) domain.Block {
	return domain.Block{Start: b.GetStart(), End: b.GetEnd()}
}

// The enums of package domain and of the stored schema share their numbers
// (both start with an unspecified zero and list the values in the same
// order), which the round-trip tests pin down; so they convert by number.

func toProto(e domain.Event) (proto.Message, error) {
	switch e := e.(type) {
	case domain.AccountOpened:
		return &eventsv1.AccountOpened{
			AccountId: e.AccountID,
			Holder: &eventsv1.Holder{
				Name:       e.Holder.Name,
				Kind:       eventsv1.HolderKind(e.Holder.Kind),
				CreditCode: e.Holder.CreditCode,
			},
			Jurisdiction: e.Jurisdiction,
			Type:         eventsv1.AccountType(e.Type),
			OpenedAt:     timestampOf(e.OpenedAt),
		}, nil
	case domain.AccountStatusChanged:
		return &eventsv1.AccountStatusChanged{
			AccountId: e.AccountID,
			From:      eventsv1.AccountStatus(e.From),
			To:        eventsv1.AccountStatus(e.To),
			Reason:    e.Reason,
			ChangedAt: timestampOf(e.ChangedAt),
		}, nil
	case domain.RightRegistered:
		m := &eventsv1.RightRegistered{
			RightId:         e.RightID,
			Type:            eventsv1.RightType(e.Type),
			Jurisdiction:    e.Jurisdiction,
			Vintage:         int32(e.Vintage),
			Unit:            eventsv1.Unit(e.Unit),
			Quantity:        e.Quantity,
			SerialPrefix:    e.SerialPrefix,
			Serial:          blockToProto(e.Serial),
			HolderAccountId: e.HolderAccountID,
			ValidFrom:       timestampOf(e.ValidFrom),
			ValidUntil:      timestampOf(e.ValidUntil),
			RegisteredAt:    timestampOf(e.RegisteredAt),
			Buffer:          blockToProto(e.Buffer),
		}
		switch a := e.Attributes.(type) {
		case domain.CarbonAllowance:
			m.Attributes = &eventsv1.RightRegistered_CarbonAllowance{CarbonAllowance: &eventsv1.CarbonAllowanceAttributes{
				AllocatingProvince: a.AllocatingProvince,
				Scheme:             eventsv1.CarbonScheme(a.Scheme),
				AllocationMethod:   eventsv1.AllocationMethod(a.AllocationMethod),
				CompliancePeriod:   a.CompliancePeriod,
			}}
		case domain.WaterRight:
			m.Attributes = &eventsv1.RightRegistered_WaterRight{WaterRight: &eventsv1.WaterRightAttributes{
				Class:              eventsv1.WaterRightClass(a.Class),
				IntakePermitNumber: a.IntakePermitNumber,
				Basin:              a.Basin,
				Source:             eventsv1.WaterSource(a.Source),
				Use:                eventsv1.WaterUse(a.Use),
				AnnualVolumeM3:     a.AnnualVolume,
			}}
		case domain.PollutantRight:
			m.Attributes = &eventsv1.RightRegistered_PollutantRight{PollutantRight: &eventsv1.PollutantRightAttributes{
				Pollutant:             eventsv1.Pollutant(a.Pollutant),
				DischargePermitNumber: a.DischargePermitNumber,
				Region:                a.Region,
				BasinOrAirshed:        a.BasinOrAirshed,
				Origin:                eventsv1.PollutantOrigin(a.Origin),
			}}
		case domain.CarbonSink:
			m.Attributes = &eventsv1.RightRegistered_CarbonSink{CarbonSink: &eventsv1.CarbonSinkAttributes{
				ProjectId:         a.ProjectID,
				Methodology:       a.Methodology,
				MonitoringStart:   timestampOf(a.MonitoringStart),
				MonitoringEnd:     timestampOf(a.MonitoringEnd),
				Location:          a.Location,
				AreaSquareMetres:  a.AreaSquareMetres,
				VerificationBody:  a.VerificationBody,
				VerificationDate:  timestampOf(a.VerificationReportDate),
				Kind:              eventsv1.SinkKind(a.Kind),
				BufferBasisPoints: a.BufferBasisPoints,
			}}
		default:
			return nil, fmt.Errorf("eventcodec: right %s has attributes of unknown kind %T", e.RightID, e.Attributes)
		}
		return m, nil
	case domain.UnitsTransferred:
		m := &eventsv1.UnitsTransferred{
			RightId:       e.RightID,
			TransferId:    e.TransferID,
			FromAccountId: e.From,
			ToAccountId:   e.To,
			Blocks:        blocksToProto(e.Blocks),
			Quantity:      e.Quantity,
			Reference:     e.Reference,
			Reason:        e.Reason,
			TransferredAt: timestampOf(e.TransferredAt),
		}
		if e.TradePrice != nil {
			m.Price = &eventsv1.Price{AmountMinor: e.TradePrice.Amount, Currency: e.TradePrice.Currency}
		}
		return m, nil
	case domain.UnitsRetired:
		return &eventsv1.UnitsRetired{
			RightId:          e.RightID,
			RetirementId:     e.RetirementID,
			HolderAccountId:  e.Holder,
			Blocks:           blocksToProto(e.Blocks),
			Quantity:         e.Quantity,
			Purpose:          eventsv1.RetirementPurpose(e.Purpose),
			Beneficiary:      e.Beneficiary,
			CompliancePeriod: e.CompliancePeriod,
			Reason:           e.Reason,
			RetiredAt:        timestampOf(e.RetiredAt),
		}, nil
	}
	if m, ok := lifecycleToProto(e); ok {
		return m, nil
	}
	if m, ok := settlementToProto(e); ok {
		return m, nil
	}
	return nil, fmt.Errorf("eventcodec: cannot encode event of type %T", e)
}

func fromProto(m proto.Message) (domain.Event, error) {
	switch m := m.(type) {
	case *eventsv1.AccountOpened:
		return domain.AccountOpened{
			AccountID: m.GetAccountId(),
			Holder: domain.Holder{
				Name:       m.GetHolder().GetName(),
				Kind:       domain.HolderKind(m.GetHolder().GetKind()),
				CreditCode: m.GetHolder().GetCreditCode(),
			},
			Jurisdiction: m.GetJurisdiction(),
			Type:         domain.AccountType(m.GetType()),
			OpenedAt:     timeOf(m.GetOpenedAt()),
		}, nil
	case *eventsv1.AccountStatusChanged:
		return domain.AccountStatusChanged{
			AccountID: m.GetAccountId(),
			From:      domain.AccountStatus(m.GetFrom()),
			To:        domain.AccountStatus(m.GetTo()),
			Reason:    m.GetReason(),
			ChangedAt: timeOf(m.GetChangedAt()),
		}, nil
	case *eventsv1.RightRegistered:
		e := domain.RightRegistered{
			RightID:         m.GetRightId(),
			Type:            domain.RightType(m.GetType()),
			Jurisdiction:    m.GetJurisdiction(),
			Vintage:         int(m.GetVintage()),
			Unit:            domain.Unit(m.GetUnit()),
			Quantity:        m.GetQuantity(),
			SerialPrefix:    m.GetSerialPrefix(),
			Serial:          blockFromProto(m.GetSerial()),
			Buffer:          blockFromProto(m.GetBuffer()),
			HolderAccountID: m.GetHolderAccountId(),
			ValidFrom:       timeOf(m.GetValidFrom()),
			ValidUntil:      timeOf(m.GetValidUntil()),
			RegisteredAt:    timeOf(m.GetRegisteredAt()),
		}
		switch a := m.GetAttributes().(type) {
		case *eventsv1.RightRegistered_CarbonAllowance:
			x := a.CarbonAllowance
			e.Attributes = domain.CarbonAllowance{
				AllocatingProvince: x.GetAllocatingProvince(),
				Scheme:             domain.CEAScheme(x.GetScheme()),
				AllocationMethod:   domain.AllocationMethod(x.GetAllocationMethod()),
				CompliancePeriod:   x.GetCompliancePeriod(),
			}
		case *eventsv1.RightRegistered_WaterRight:
			x := a.WaterRight
			e.Attributes = domain.WaterRight{
				Class:              domain.WaterRightClass(x.GetClass()),
				IntakePermitNumber: x.GetIntakePermitNumber(),
				Basin:              x.GetBasin(),
				Source:             domain.WaterSource(x.GetSource()),
				Use:                domain.WaterUse(x.GetUse()),
				AnnualVolume:       x.GetAnnualVolumeM3(),
			}
		case *eventsv1.RightRegistered_PollutantRight:
			x := a.PollutantRight
			e.Attributes = domain.PollutantRight{
				Pollutant:             domain.Pollutant(x.GetPollutant()),
				DischargePermitNumber: x.GetDischargePermitNumber(),
				Region:                x.GetRegion(),
				BasinOrAirshed:        x.GetBasinOrAirshed(),
				Origin:                domain.PollutantRightOrigin(x.GetOrigin()),
			}
		case *eventsv1.RightRegistered_CarbonSink:
			x := a.CarbonSink
			e.Attributes = domain.CarbonSink{
				ProjectID:              x.GetProjectId(),
				Methodology:            x.GetMethodology(),
				MonitoringStart:        timeOf(x.GetMonitoringStart()),
				MonitoringEnd:          timeOf(x.GetMonitoringEnd()),
				Location:               x.GetLocation(),
				AreaSquareMetres:       x.GetAreaSquareMetres(),
				VerificationBody:       x.GetVerificationBody(),
				VerificationReportDate: timeOf(x.GetVerificationDate()),
				Kind:                   domain.SinkKind(x.GetKind()),
				BufferBasisPoints:      x.GetBufferBasisPoints(),
			}
		default:
			return nil, fmt.Errorf("eventcodec: RightRegistered %s has no attributes", m.GetRightId())
		}
		return e, nil
	case *eventsv1.UnitsTransferred:
		e := domain.UnitsTransferred{
			RightID:       m.GetRightId(),
			TransferID:    m.GetTransferId(),
			From:          m.GetFromAccountId(),
			To:            m.GetToAccountId(),
			Blocks:        blocksFromProto(m.GetBlocks()),
			Quantity:      m.GetQuantity(),
			Reference:     m.GetReference(),
			Reason:        m.GetReason(),
			TransferredAt: timeOf(m.GetTransferredAt()),
		}
		if p := m.GetPrice(); p != nil {
			e.TradePrice = &domain.Price{Amount: p.GetAmountMinor(), Currency: p.GetCurrency()}
		}
		return e, nil
	case *eventsv1.UnitsRetired:
		return domain.UnitsRetired{
			RightID:          m.GetRightId(),
			RetirementID:     m.GetRetirementId(),
			Holder:           m.GetHolderAccountId(),
			Blocks:           blocksFromProto(m.GetBlocks()),
			Quantity:         m.GetQuantity(),
			Purpose:          domain.RetirementPurpose(m.GetPurpose()),
			Beneficiary:      m.GetBeneficiary(),
			CompliancePeriod: m.GetCompliancePeriod(),
			Reason:           m.GetReason(),
			RetiredAt:        timeOf(m.GetRetiredAt()),
		}, nil
	}
	if e, ok := lifecycleFromProto(m); ok {
		return e, nil
	}
	if e, ok := settlementFromProto(m); ok {
		return e, nil
	}
	return nil, fmt.Errorf("eventcodec: cannot decode %T", m)
}
