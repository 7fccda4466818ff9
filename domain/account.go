package domain

import (
	"fmt"
	"maps"
	"strings"
	"time"
)

// Holder is the owner of an account.
type Holder struct {
	// Name is the holder's legal name.
	Name string
	// Kind is the holder's legal kind.
	Kind HolderKind
	// CreditCode is the 18-character unified social credit code (GB 32100).
	// It is required for enterprises, cooperatives and governments and
	// optional for individuals.
	CreditCode string
}

// Account is the state of one account, rebuilt from its event stream by
// Apply. The zero Account is an account that has not been opened.
type Account struct {
	id              string
	holder          Holder
	jurisdiction    string
	typ             AccountType
	status          AccountStatus
	openedAt        time.Time
	statusChangedAt time.Time
	statusReason    string
	version         int64
	// orders are the account-wide freeze orders ever recorded, by number.
	orders map[string]accountOrder
}

// accountOrder is an account-wide freeze order and whether it is in effect.
type accountOrder struct {
	authority string
	reason    string
	frozenAt  time.Time
	active    bool
	// revision is the account stream's revision of the AccountFrozen event.
	revision int64
}

// ID returns the account's id.
func (a *Account) ID() string { return a.id }

// Holder returns the account's holder.
func (a *Account) Holder() Holder { return a.holder }

// Jurisdiction returns the GB/T 2260 code of the account's division.
func (a *Account) Jurisdiction() string { return a.jurisdiction }

// Type returns the account's type.
func (a *Account) Type() AccountType { return a.typ }

// Status returns the account's status; AccountStatusUnspecified before it is opened.
func (a *Account) Status() AccountStatus { return a.status }

// Opened reports whether the account has been opened.
func (a *Account) Opened() bool { return a.status != AccountStatusUnspecified }

// OpenedAt returns when the account was opened.
func (a *Account) OpenedAt() time.Time { return a.openedAt }

// StatusChangedAt returns when the status last changed (the opening time if never).
func (a *Account) StatusChangedAt() time.Time { return a.statusChangedAt }

// StatusReason returns the reason given for the last status change; empty
// when the status never changed since opening.
func (a *Account) StatusReason() string { return a.statusReason }

// Version returns how many events have been applied to the account.
func (a *Account) Version() int64 { return a.version }

// View returns the facts about the account that decisions on rights need.
func (a *Account) View() AccountView {
	v := AccountView{ID: a.id, Type: a.typ, Status: a.status, Jurisdiction: a.jurisdiction}
	if orders := a.FreezeOrders(); len(orders) > 0 {
		v.FreezeOrder = orders[0]
	}
	return v
}

// Apply changes the account by one event of its stream. It returns an error
// wrapping ErrEventDoesNotApply, and leaves the account unchanged, when the
// event cannot follow the current state.
func (a *Account) Apply(e Event) error {
	switch e := e.(type) {
	case AccountOpened:
		if a.Opened() {
			return fmt.Errorf("%w: account %s opened twice", ErrEventDoesNotApply, a.id)
		}
		a.id = e.AccountID
		a.holder = e.Holder
		a.jurisdiction = e.Jurisdiction
		a.typ = e.Type
		a.status = AccountStatusOpen
		a.openedAt = e.OpenedAt
		a.statusChangedAt = e.OpenedAt
	case AccountStatusChanged:
		if !a.Opened() || e.AccountID != a.id {
			return fmt.Errorf("%w: status change of account %q applied to account %q", ErrEventDoesNotApply, e.AccountID, a.id)
		}
		a.status = e.To
		a.statusChangedAt = e.ChangedAt
		a.statusReason = e.Reason
	case AccountFrozen:
		if !a.Opened() || e.AccountID != a.id || e.OrderNumber == "" {
			return fmt.Errorf("%w: freeze of account %q applied to account %q", ErrEventDoesNotApply, e.AccountID, a.id)
		}
		if o, ok := a.orders[e.OrderNumber]; ok && o.active {
			return fmt.Errorf("%w: order %s froze account %s twice", ErrEventDoesNotApply, e.OrderNumber, a.id)
		}
		// Copy on write: a View or a speculative decision may share the map.
		orders := maps.Clone(a.orders)
		if orders == nil {
			orders = make(map[string]accountOrder)
		}
		orders[e.OrderNumber] = accountOrder{authority: e.Authority, reason: e.Reason, frozenAt: e.FrozenAt, active: true, revision: a.version}
		a.orders = orders
	case AccountUnfrozen:
		o, ok := a.orders[e.OrderNumber]
		if !a.Opened() || e.AccountID != a.id || !ok || !o.active {
			return fmt.Errorf("%w: account %q has no freeze order %q in effect", ErrEventDoesNotApply, e.AccountID, e.OrderNumber)
		}
		orders := maps.Clone(a.orders)
		o.active = false
		orders[e.OrderNumber] = o
		a.orders = orders
	default:
		return fmt.Errorf("%w: %T is not an account event", ErrEventDoesNotApply, e)
	}
	a.version++
	return nil
}

// RebuildAccount returns the account that results from applying events, in
// order, to an unopened account.
func RebuildAccount(events []Event) (Account, error) {
	var a Account
	for _, e := range events {
		if err := a.Apply(e); err != nil {
			return Account{}, err
		}
	}
	return a, nil
}

// AccountView is what a decision about a right needs to know of an account.
type AccountView struct {
	// ID is the account's id.
	ID string
	// Type is the account's type.
	Type AccountType
	// Status is the account's current status.
	Status AccountStatus
	// Jurisdiction is the account's division code.
	Jurisdiction string
	// FreezeOrder is the number of an account-wide freeze order in effect
	// (the first by number when there are several), empty when there is none.
	// While there is one, the account's units of every right may not be
	// sent, retired, pledged or reserved.
	FreezeOrder string
}

// AccountLookup returns the view of an account and true, or false when no
// such account has been opened. A nil AccountLookup knows no account.
type AccountLookup func(id string) (AccountView, bool)

// AccountsFromMap returns an AccountLookup that reads the map.
func AccountsFromMap(m map[string]AccountView) AccountLookup {
	return func(id string) (AccountView, bool) {
		v, ok := m[id]
		return v, ok
	}
}

// OpenAccount is the command to open an account.
type OpenAccount struct {
	// AccountID is the id of the new account.
	AccountID string
	// Holder is who will own the account.
	Holder Holder
	// Jurisdiction is the GB/T 2260 code of the account's division.
	Jurisdiction string
	// Type is the account's role.
	Type AccountType
}

// ChangeAccountStatus is the command to change an account's status.
type ChangeAccountStatus struct {
	// AccountID is the account's id.
	AccountID string
	// To is the new status.
	To AccountStatus
	// Reason says why; it is required.
	Reason string
}

// AccountOpened records that an account was opened. The account's status is
// then AccountStatusOpen.
type AccountOpened struct {
	// AccountID is the account's id.
	AccountID string
	// Holder is who owns the account.
	Holder Holder
	// Jurisdiction is the GB/T 2260 code of the division the account belongs to.
	Jurisdiction string
	// Type is the account's role.
	Type AccountType
	// OpenedAt is when the account was opened.
	OpenedAt time.Time
}

// EventType returns EventTypeAccountOpened.
func (AccountOpened) EventType() string { return EventTypeAccountOpened }

// StreamID returns the account's stream.
func (e AccountOpened) StreamID() string { return AccountStream(e.AccountID) }

// OccurredAt returns OpenedAt.
func (e AccountOpened) OccurredAt() time.Time { return e.OpenedAt }

func (AccountOpened) isEvent() {}

// AccountStatusChanged records that an account's status changed.
type AccountStatusChanged struct {
	// AccountID is the account's id.
	AccountID string
	// From is the status before the change.
	From AccountStatus
	// To is the status after the change.
	To AccountStatus
	// Reason says why, e.g. the order that required it.
	Reason string
	// ChangedAt is when the status changed.
	ChangedAt time.Time
}

// EventType returns EventTypeAccountStatusChanged.
func (AccountStatusChanged) EventType() string { return EventTypeAccountStatusChanged }

// StreamID returns the account's stream.
func (e AccountStatusChanged) StreamID() string { return AccountStream(e.AccountID) }

// OccurredAt returns ChangedAt.
func (e AccountStatusChanged) OccurredAt() time.Time { return e.ChangedAt }

func (AccountStatusChanged) isEvent() {}

// DecideOpenAccount decides whether account a, which must not exist yet, may
// be opened as cmd says. It returns one AccountOpened event, a
// *ValidationError listing every malformed field, or a *Rejection with
// CheckAccountAlreadyExists.
func DecideOpenAccount(a Account, cmd OpenAccount, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidAccountID, "account_id", cmd.AccountID)
	checkHolder(&v, "holder", cmd.Holder)
	checkDivisionCode(&v, "jurisdiction", cmd.Jurisdiction)
	if !cmd.Type.Valid() {
		v.add(CheckInvalidEnumValue, "type", "account type %s is not a valid type", cmd.Type)
	} else if cmd.Holder.Kind.Valid() && !holderKindAllowed(cmd.Type, cmd.Holder.Kind) {
		v.add(CheckHolderKindNotAllowed, "type", "a %s holder cannot own a %s account", cmd.Holder.Kind, cmd.Type)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if a.Opened() {
		return nil, reject(CheckAccountAlreadyExists, "account_id", "account %s was opened at %s", a.id, a.openedAt.Format(time.RFC3339))
	}
	return []Event{AccountOpened{
		AccountID:    cmd.AccountID,
		Holder:       cmd.Holder,
		Jurisdiction: cmd.Jurisdiction,
		Type:         cmd.Type,
		OpenedAt:     utc(now),
	}}, nil
}

// holderKindAllowed says which holders may own which account types: an
// authority's registry account belongs to a government body and an
// exchange's clearing account to the exchange, an enterprise.
func holderKindAllowed(t AccountType, k HolderKind) bool {
	switch t {
	case AccountTypeRegistry:
		return k == HolderKindGovernment
	case AccountTypeExchange:
		return k == HolderKindEnterprise
	}
	return true
}

func checkHolder(v *violations, field string, h Holder) {
	checkText(v, field+".name", h.Name, true, MaxNameLength)
	if !h.Kind.Valid() {
		v.add(CheckInvalidEnumValue, field+".kind", "holder kind %s is not a valid kind", h.Kind)
	}
	ccField := field + ".credit_code"
	if h.CreditCode == "" {
		// Individuals are identified otherwise; every organisation has a credit code.
		if h.Kind.Valid() && h.Kind != HolderKindIndividual {
			v.add(CheckRequiredFieldMissing, ccField, "a %s holder needs a unified social credit code", h.Kind)
		}
		return
	}
	if r := validateCreditCode(h.CreditCode); r != nil {
		v.add(r.Check, ccField, "%s", r.Detail)
	}
}

// open runs the opening of the decisions of an authority on an existing
// account: the time must be given, every malformed field is reported at
// once, and the account must exist and not be closed.
func (a *Account) open(now time.Time, accountID string, check func(v *violations)) error {
	if now.IsZero() {
		return errZeroTime
	}
	var v violations
	check(&v)
	if err := v.err(); err != nil {
		return err
	}
	switch {
	case !a.Opened():
		return reject(CheckAccountNotFound, "account_id", "account %s does not exist", accountID)
	case a.status == AccountStatusClosed:
		return reject(CheckAccountClosed, "account_id", "account %s is closed", a.id)
	}
	return nil
}

// DecideChangeAccountStatus decides whether account a may change to the status
// cmd asks for. It returns one AccountStatusChanged event, a *ValidationError,
// or a *Rejection with CheckAccountNotFound, CheckAccountClosed (closing is
// final) or CheckAccountStatusUnchanged.
func DecideChangeAccountStatus(a Account, cmd ChangeAccountStatus, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidAccountID, "account_id", cmd.AccountID)
	if !cmd.To.Valid() {
		v.add(CheckInvalidEnumValue, "to", "account status %s is not a valid status", cmd.To)
	}
	checkText(&v, "reason", cmd.Reason, true, MaxReasonLength)
	if err := v.err(); err != nil {
		return nil, err
	}
	switch {
	case !a.Opened():
		return nil, reject(CheckAccountNotFound, "account_id", "account %s does not exist", cmd.AccountID)
	case a.status == AccountStatusClosed:
		return nil, reject(CheckAccountClosed, "account_id", "account %s is closed and cannot become %s", a.id, cmd.To)
	case a.status == cmd.To:
		return nil, reject(CheckAccountStatusUnchanged, "to", "account %s is %s already", a.id, a.status)
	}
	return []Event{AccountStatusChanged{
		AccountID: a.id,
		From:      a.status,
		To:        cmd.To,
		Reason:    cmd.Reason,
		ChangedAt: utc(now),
	}}, nil
}

// AccountHolding is what an account holds of one right, in the states that
// keep it from being closed.
type AccountHolding struct {
	RightID                              string
	Available, Pledged, Frozen, Reserved int64
}

// CheckClosable refuses, with CheckAccountHoldsUnits, to close an account
// that still holds available, pledged, frozen or reserved units of any
// right, naming the rights (at most five). Retired units stay with a
// holding for ever and do not count. held is what the account holds across
// rights, which the account's own stream does not know.
func CheckClosable(accountID string, held []AccountHolding) error {
	var names []string
	for _, h := range held {
		if h.Available+h.Pledged+h.Frozen+h.Reserved == 0 {
			continue
		}
		if len(names) == 5 {
			names = append(names, "...")
			break
		}
		names = append(names, fmt.Sprintf("%s (available %d, pledged %d, frozen %d, reserved %d)", h.RightID, h.Available, h.Pledged, h.Frozen, h.Reserved))
	}
	if len(names) == 0 {
		return nil
	}
	return reject(CheckAccountHoldsUnits, "account_id", "account %s still holds units of %s; transfer, retire, release or settle them before closing it",
		accountID, strings.Join(names, ", "))
}
