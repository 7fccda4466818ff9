package registry

import (
	"context"

	"github.com/ecoregistry/ecoregistry/domain"
)

// knownAccounts gives a decision on a right the accounts it involves, in
// the one way every command does: the accounts the command names are read
// before the decision (load), outside the right's lock, and any other that
// the decision asks about (the pledgor of the pledge a command names, the
// holder of a reservation) is read from the account cache when it asks
// (lookup). A few views are kept inline, so that a decision costs no map.
// An account that does not exist is left out, for the decision to refuse;
// the first read that failed is kept (err), and the caller reports it
// instead of the refusal the missing account caused.
type knownAccounts struct {
	s     *Service
	ctx   context.Context
	known []knownAccount
	array [2]knownAccount
	err   error
}

// knownAccount is what is known of one account: its view, or that it does
// not exist.
type knownAccount struct {
	id     string
	view   domain.AccountView
	exists bool
}

// init makes k empty, reading from s with ctx.
func (k *knownAccounts) init(s *Service, ctx context.Context) {
	*k = knownAccounts{s: s, ctx: ctx}
	k.known = k.array[:0]
}

// load reads the named accounts, and returns the first read that failed.
func (k *knownAccounts) load(ids ...string) error {
	for _, id := range ids {
		k.lookup(id)
	}
	return k.err
}

// lookup is the decision's domain.AccountLookup.
func (k *knownAccounts) lookup(id string) (domain.AccountView, bool) {
	if !domain.ValidID(id) {
		return domain.AccountView{}, false
	}
	for i := range k.known {
		if k.known[i].id == id {
			return k.known[i].view, k.known[i].exists
		}
	}
	a := knownAccount{id: id}
	err := k.s.accounts.cached(k.ctx, domain.AccountStream(id), func(acc *domain.Account, exists bool) {
		if exists && acc.Opened() {
			a.view, a.exists = acc.View(), true
		}
	})
	if err != nil {
		// Not remembered: the next decision reads it again.
		if k.err == nil {
			k.err = err
		}
		return domain.AccountView{}, false
	}
	k.known = append(k.known, a)
	return a.view, a.exists
}

// accountViews reads the named accounts for a decision.
func (s *Service) accountViews(ctx context.Context, ids ...string) (domain.AccountLookup, error) {
	var k knownAccounts
	k.init(s, ctx)
	if err := k.load(ids...); err != nil {
		return nil, err
	}
	return k.lookup, nil
}
