package grpcserver

import (
	"context"

	"github.com/ecoregistry/ecoregistry/access"
	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/registry"
)

// RegistryFacts answers the access checks' questions about recorded state
// from the registry's streams, as its consistent reads do.
func RegistryFacts(svc *registry.Service) access.Facts { return registryFacts{svc} }

type registryFacts struct{ svc *registry.Service }

func (f registryFacts) Account(ctx context.Context, id string) (access.AccountFacts, error) {
	a, _, err := f.svc.Account(ctx, id)
	if _, refused := domain.RejectionOf(err); refused {
		return access.AccountFacts{}, access.ErrUnknown
	}
	if err != nil {
		return access.AccountFacts{}, err
	}
	return access.AccountFacts{Jurisdiction: a.Jurisdiction(), CreditCode: a.Holder().CreditCode}, nil
}

func (f registryFacts) Right(ctx context.Context, id string) (access.RightFacts, error) {
	var out access.RightFacts
	return out, f.read(ctx, id, func(r *domain.Right) bool {
		out = access.RightFacts{Type: r.Type(), Jurisdiction: r.Jurisdiction()}
		return true
	})
}

func (f registryFacts) Pledge(ctx context.Context, rightID, pledgeID string) (access.PledgeFacts, error) {
	var out access.PledgeFacts
	return out, f.read(ctx, rightID, func(r *domain.Right) bool {
		p, ok := r.Pledge(pledgeID)
		out = access.PledgeFacts{Pledgor: p.Pledgor, Pledgee: p.Pledgee}
		return ok
	})
}

func (f registryFacts) Reservation(ctx context.Context, rightID, reservationID string) (access.ReservationFacts, error) {
	var out access.ReservationFacts
	return out, f.read(ctx, rightID, func(r *domain.Right) bool {
		for _, v := range r.Reservations() {
			if v.ReservationID == reservationID {
				out = access.ReservationFacts{Holder: v.Holder, Exchange: v.Exchange}
				return true
			}
		}
		return false
	})
}

// read runs look on a right's state; it returns access.ErrUnknown when the
// right, or what look seeks in it, is not recorded.
func (f registryFacts) read(ctx context.Context, rightID string, look func(*domain.Right) bool) error {
	seen := false
	found, err := f.svc.ReadRight(ctx, rightID, func(r *domain.Right) { seen = look(r) })
	if err != nil {
		return err
	}
	if !found || !seen {
		return access.ErrUnknown
	}
	return nil
}
