// Package domain holds the pure rules of ecoregistry: the types of the four
// environmental rights (carbon emission allowances, water-use rights,
// pollutant-discharge rights and carbon-sink rights), the accounts that hold
// them, the commands that change them, the events that record each change,
// and the numbered checks that refuse a command.
//
// The package imports the standard library only and does no I/O. It has two
// aggregates, each rebuilt from its own event stream:
//
//   - Account (stream "account-<AccountID>"): who holds units, and whether the
//     account may send, receive or retire them.
//   - Right (stream "right-<RightID>"): one registered quantity of one right
//     type with its attributes, its serial block and every holding of it.
//     Transfers and retirements of a right are events of the right's own
//     stream, so one append at an expected revision decides each of them.
//
// State changes only through Apply, one event at a time. Commands are decided
// by pure functions (DecideOpenAccount, DecideChangeAccountStatus,
// DecideRegisterRight, DecideTransfer, DecideRetire, DecideSettleTrade and
// those of the lifecycle below) that take the current
// state, the command, the facts they need about other aggregates and the
// current time, and return either the events to append or an error. They never
// modify the state they are given, so callers may decide speculatively on
// cached state.
//
// # How units move
//
// Movements(e) says, for every event, which units it moves from which
// place to which (Movement, Place, UnitState): a place is a state of one
// account's holding (available, pledged, frozen, reserved, retired) or one
// of the right's own (the buffer pool, cancelled, expired). Right.Apply
// moves units only as it says, and keeps beside it each event's own
// bookkeeping; the read models apply the same movements, so an event's
// effect on units is written once. A holding's units by state are a Units.
// VerifyEveryApply makes every Apply check CheckInvariants afterwards, as
// the tests do.
//
// Each capability (registration, transfer, retirement, pledge, freeze,
// reservation, cancellation, expiry, correction, trade, account) is one
// file with its command, events, decision and effect; every decision on a
// right opens with the same step (the time, the command's fields, the right
// it names, an id seen before).
//
// # Rejections
//
// Every refusal carries a Check from one table (see AllChecks): a stable code
// such as "E5001", an UPPER_SNAKE name, a Class that maps to a gRPC status code
// and a summary. Rejections are *Rejection values; invalid commands return a
// *ValidationError that lists every field violation. Both match their checks
// with errors.Is, for example errors.Is(err, CheckInsufficientAvailableUnits).
//
// # Serial numbers and identifiers
//
// Units are numbered 1..Quantity within their right. A serial block is written
//
//	<TYPE>-<JURISDICTION>-<VINTAGE>-<RIGHT ID>-<START>-<END>
//	CEA-420000-2025-HB2025A-000000001-000010000
//
// where TYPE is CEA, WUR (water-use right), PDR (pollutant-discharge right)
// or CSR (carbon-sink right), and START and END are zero-padded to at least
// nine digits. Account and right ids are 1 to 64 characters from
// [A-Za-z0-9._-] starting with a letter or digit. A right id may contain '-':
// ParseSerial reads the three fixed fields from the left and the two numbers
// from the right, so whatever lies between them is the right id.
//
// # Buffer pool
//
// A carbon-sink registration sets aside BufferBasisPoints/10000 of its
// quantity (rounded down) in a non-tradable buffer pool that belongs to the
// right rather than to any account. The buffer receives the highest serials of
// the issuance and the holder the rest; the RightRegistered event records the
// buffer block explicitly. Buffer units can be neither transferred nor retired
// (check E5006); a later issue cancels them to cover reversals.
//
// # Lifecycle
//
// Beyond issuance, transfer and retirement, a right's stream records pledges
// (UnitsPledged, PledgeReleased, PledgeEnforced), freezes of a holding by an
// authority order (UnitsFrozen, UnitsUnfrozen), two-phase reservations for
// exchanges (UnitsReserved, then ReservationSettled for all or part — the
// rest stays reserved — ReservationVoided, or ReservationExpired at the
// timeout), cancellations by an authority (UnitsCancelled, from a holder,
// from units it froze, or from the buffer pool), the expiry of a
// time-bounded right (RightExpired: every unit not retired or cancelled
// becomes expired) and corrections (TransactionReversed, a compensating
// event). Each unit is in exactly one state: available, pledged, frozen or
// reserved (by a holder), retired (by a holder), cancelled, expired, or in
// the buffer pool; CheckInvariants checks that these cover the issuance.
//
// A freeze of a whole account is an event of the account's stream
// (AccountFrozen, AccountUnfrozen), since an account holds units of many
// rights, each its own stream; decisions on rights see it through
// AccountView.FreezeOrder.
//
// Expiries are decided by DecideExpireReservation and DecideExpireRight,
// which yield an event only when it is due and not yet recorded, so that
// deciding again (after a restart, on another node, after a clock jump)
// records nothing twice. Once RightExpired is recorded the right refuses
// every transaction whatever the clock says.
//
// # Exchange settlement
//
// Exchanges match orders themselves and submit the matched trades
// (DecideSettleTrade): units of one right move from the seller to the
// buyer at the trade's price, from the seller's available units or from a
// reservation it made for the exchange. A trade is identified across the
// registry by its exchange id and trade id (TradeKeyOf), and its content by
// a fingerprint of a documented canonical encoding (SettleTrade.Fingerprint).
// Every well-formed trade on an existing right ends recorded in the right's
// stream, as TradeSettled or, with the check that stopped it, TradeRefused;
// the right remembers each trade's fingerprint and outcome, so that a
// retry with the same content records nothing and gets the first outcome
// back, whatever changed since, and the same ids with other content are
// refused with CheckTradeIDReused. Malformed trades and trades on rights
// that do not exist are refused without a record, and a retry is decided
// afresh.
//
// # Account statuses
//
// An Open account may do everything. A Restricted account may receive,
// retire, be a pledgee and get encumbered units back, but not send, pledge,
// reserve or receive a new registration. A Suspended account is subject only
// to authority actions: freezes, unfreezes, cancellations, corrections and a
// pledge release by the registration office. A Closed account may do nothing
// ever again. An account-wide freeze order stops an account's units from
// being sent, retired, pledged, reserved or taken by enforcement, whatever
// its status; it may still receive.
package domain
