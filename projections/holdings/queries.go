package holdings

import (
	"context"
	"fmt"
	"strings"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/projections"
)

// Queries answers queries from the holdings projection's active state.
type Queries struct{ r *projections.Runner }

// NewQueries returns the queries of the projection run by r.
func NewQueries(r *projections.Runner) *Queries { return &Queries{r: r} }

// AccountHoldingsQuery asks for what one account holds.
type AccountHoldingsQuery struct {
	// AccountID is the account.
	AccountID string
	// RightType, when specified, keeps only rights of that type.
	RightType domain.RightType
	projections.PageRequest
}

// AccountHoldings returns the account's holdings, in right id order. An
// account that holds nothing, or does not exist, has no holdings.
func (q *Queries) AccountHoldings(ctx context.Context, query AccountHoldingsQuery) (projections.Page[Holding], error) {
	if err := projections.CheckID(domain.CheckInvalidAccountID, "account_id", query.AccountID); err != nil {
		return projections.Page[Holding]{}, err
	}
	if err := projections.CheckRightType("right_type", query.RightType); err != nil {
		return projections.Page[Holding]{}, err
	}
	scope := fmt.Sprintf("holdings/account/%s/%d", query.AccountID, query.RightType)
	v, after, size, err := q.r.Query(ctx, scope, query.PageRequest)
	if err != nil {
		return projections.Page[Holding]{}, err
	}
	defer v.Close()
	prefix := accountHoldingKey(query.AccountID, "")
	items, next, err := projections.ScanPage(v, prefix, projections.PrefixEnd(prefix), after, size, func(key, value []byte) (Holding, bool, error) {
		h, err := decodeAccountHolding(string(key[len(prefix):]), query.AccountID, value)
		if err != nil || (query.RightType != domain.RightTypeUnspecified && h.Right.Type != query.RightType) {
			return Holding{}, false, err
		}
		return h, true, nil
	})
	if err != nil {
		return projections.Page[Holding]{}, err
	}
	return projections.Page[Holding]{Items: items, NextPageToken: projections.Token(scope, next), Position: v.Position}, nil
}

// RightHoldersQuery asks for the holders of one right.
type RightHoldersQuery struct {
	// RightID is the right.
	RightID string
	projections.PageRequest
}

// RightHolders is a right and one page of its holders.
type RightHolders struct {
	// Right is the right, with its totals by state.
	Right RightInfo
	projections.Page[Holding]
}

// RightHolders returns the right and its holders, in account id order. A
// right the projection has not seen is refused by domain.CheckRightNotFound.
func (q *Queries) RightHolders(ctx context.Context, query RightHoldersQuery) (RightHolders, error) {
	if err := projections.CheckID(domain.CheckInvalidRightID, "right_id", query.RightID); err != nil {
		return RightHolders{}, err
	}
	scope := "holdings/right/" + query.RightID
	v, after, size, err := q.r.Query(ctx, scope, query.PageRequest)
	if err != nil {
		return RightHolders{}, err
	}
	defer v.Close()
	info, ok, err := readRight(v, query.RightID)
	if err != nil {
		return RightHolders{}, err
	}
	if !ok {
		return RightHolders{}, notFound(query.RightID, v.Position)
	}
	prefix := holdingDataKey(query.RightID, "")
	items, next, err := projections.ScanPage(v, prefix, projections.PrefixEnd(prefix), after, size, func(key, _ []byte) (Holding, bool, error) {
		account := string(key[len(prefix):])
		value, ok, err := v.Get(accountHoldingKey(account, query.RightID))
		if err == nil && !ok {
			err = fmt.Errorf("holdings: the holding of %s in %s is indexed but missing", account, query.RightID)
		}
		if err != nil {
			return Holding{}, false, err
		}
		h, err := decodeAccountHolding(query.RightID, account, value)
		return h, err == nil, err
	})
	if err != nil {
		return RightHolders{}, err
	}
	return RightHolders{Right: info, Page: projections.Page[Holding]{Items: items, NextPageToken: projections.Token(scope, next), Position: v.Position}}, nil
}

// TotalsQuery asks for unit totals per right type and jurisdiction.
type TotalsQuery struct {
	// RightType, when specified, keeps only rights of that type.
	RightType domain.RightType
	// Jurisdiction, when not empty, keeps only rights registered within
	// that division: a province code ("420000") covers the province and
	// every division in it, a prefecture code ("420100") the prefecture and
	// its counties, any other code that division alone.
	Jurisdiction string
	projections.PageRequest
}

// Totals returns the totals, ordered by right type, then jurisdiction.
func (q *Queries) Totals(ctx context.Context, query TotalsQuery) (projections.Page[Totals], error) {
	if err := projections.CheckRightType("right_type", query.RightType); err != nil {
		return projections.Page[Totals]{}, err
	}
	if err := projections.CheckJurisdiction("jurisdiction", query.Jurisdiction); err != nil {
		return projections.Page[Totals]{}, err
	}
	scope := fmt.Sprintf("holdings/totals/%d/%s", query.RightType, query.Jurisdiction)
	v, after, size, err := q.r.Query(ctx, scope, query.PageRequest)
	if err != nil {
		return projections.Page[Totals]{}, err
	}
	defer v.Close()
	prefix := []byte{'t'}
	if query.RightType != domain.RightTypeUnspecified {
		prefix = append(prefix, byte(query.RightType))
	}
	within := projections.DivisionPrefix(query.Jurisdiction)
	items, next, err := projections.ScanPage(v, prefix, projections.PrefixEnd(prefix), after, size, func(key, value []byte) (Totals, bool, error) {
		t := Totals{Type: domain.RightType(key[1]), Jurisdiction: string(key[2:])}
		if !strings.HasPrefix(t.Jurisdiction, within) {
			return Totals{}, false, nil
		}
		return t, true, decodeTotals(value, &t)
	})
	if err != nil {
		return projections.Page[Totals]{}, err
	}
	return projections.Page[Totals]{Items: items, NextPageToken: projections.Token(scope, next), Position: v.Position}, nil
}

func readRight(v *projections.View, id string) (RightInfo, bool, error) {
	b, ok, err := v.Get(rightKey(id))
	if err != nil || !ok {
		return RightInfo{}, false, err
	}
	info, err := decodeRight(id, b)
	return info, err == nil, err
}

func notFound(rightID string, at eventstore.Position) error {
	return &domain.Rejection{Check: domain.CheckRightNotFound, Field: "right_id",
		Detail: fmt.Sprintf("no right %q in the holdings projection at position %s (pass min_position to wait for a recent registration)", rightID, at)}
}

// HeldRights returns a function that lists what an account holds of each
// right, in the states that keep it from being closed (see
// domain.CheckClosable), once the read model has applied every event the
// log had when it was called: the registry's registry.HeldRights. The wait
// is bounded by the context's deadline, or the manager's MaxWait.
func HeldRights(log eventstore.Store, q *Queries) func(ctx context.Context, accountID string) ([]domain.AccountHolding, error) {
	return func(ctx context.Context, accountID string) ([]domain.AccountHolding, error) {
		head, err := projections.Head(ctx, log)
		if err != nil {
			return nil, err
		}
		var out []domain.AccountHolding
		query := AccountHoldingsQuery{AccountID: accountID, PageRequest: projections.PageRequest{MinPosition: &head, PageSize: domain.MaxPageSize}}
		for {
			pg, err := q.AccountHoldings(ctx, query)
			if err != nil {
				return nil, err
			}
			for _, h := range pg.Items {
				out = append(out, domain.AccountHolding{RightID: h.Right.RightID, Available: h.Count(Available), Pledged: h.Count(Pledged),
					Frozen: h.Count(Frozen), Reserved: h.Count(Reserved)})
			}
			if pg.NextPageToken == "" {
				return out, nil
			}
			query.PageToken = pg.NextPageToken
		}
	}
}
