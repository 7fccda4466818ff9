package projections

import (
	"bytes"
	"context"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Page is one page of a query's answer.
type Page[T any] struct {
	// Items are the page's items, in the query's order.
	Items []T
	// NextPageToken continues the query after this page; empty on the last.
	NextPageToken string
	// Position is the position of the last event the answer reflects.
	Position eventstore.Position
}

// PageRequest is what every query says about paging and freshness.
type PageRequest struct {
	// MinPosition, when not nil, makes the query wait until the projection
	// has applied that position.
	MinPosition *eventstore.Position
	// PageSize is the most items to return; 0 means domain.DefaultPageSize.
	PageSize int32
	// PageToken continues an earlier query; empty for the first page.
	PageToken string
}

// Query opens a view for one page of a query: it checks the page size and
// the token against scope (the query and its filters), waits for the
// minimum position, and returns the view, the cursor to continue after (nil
// for the first page) and the page size. The caller closes the view.
func (r *Runner) Query(ctx context.Context, scope string, req PageRequest) (*View, []byte, int, error) {
	size, err := domain.PageSize("page_size", req.PageSize)
	if err != nil {
		return nil, nil, 0, err
	}
	after, err := domain.DecodePageToken("page_token", req.PageToken, scope)
	if err != nil {
		return nil, nil, 0, err
	}
	v, err := r.View(ctx, req.MinPosition)
	if err != nil {
		return nil, nil, 0, err
	}
	return v, after, size, nil
}

// ScanPage reads up to limit items from the keys of v in [lower, upper)
// that come after the key after (when not nil), in key order. decode turns
// a key and value into an item, or says to leave it out. next is the key of
// the last item returned when another item follows, to continue from; nil
// when the page is the last.
func ScanPage[T any](v *View, lower, upper, after []byte, limit int, decode func(key, value []byte) (T, bool, error)) (items []T, next []byte, err error) {
	if after != nil {
		// The smallest key after `after` is `after` followed by a zero byte.
		if start := append(bytes.Clone(after), 0); bytes.Compare(start, lower) > 0 {
			lower = start
		}
	}
	var last []byte
	// Pages are usually full: sizing for up to 64 items saves the copies
	// of a growing slice, which are most of what a query allocates.
	items = make([]T, 0, min(limit, 64))
	err = v.Scan(lower, upper, func(key, value []byte) (bool, error) {
		item, ok, err := decode(key, value)
		if err != nil || !ok {
			return err == nil, err
		}
		if len(items) == limit {
			next = last
			return false, nil
		}
		items = append(items, item)
		last = append(last[:0], key...)
		return true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return items, next, nil
}

// Token returns the page token that continues scope after next, or "" when
// next is nil.
func Token(scope string, next []byte) string {
	if next == nil {
		return ""
	}
	return domain.EncodePageToken(scope, next)
}

// DivisionPrefix returns the prefix shared by the GB/T 2260 codes of the
// divisions within code: the first two digits of a province ("420000"), the
// first four of a prefecture ("420100"), or the whole code of a county.
func DivisionPrefix(code string) string {
	switch {
	case len(code) == 6 && code[2:] == "0000":
		return code[:2]
	case len(code) == 6 && code[4:] == "00":
		return code[:4]
	}
	return code
}
