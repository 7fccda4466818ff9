package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Class is the broad kind of a rejection. Each class maps to one gRPC status
// code of the same name.
type Class int32

// The classes of rejection.
const (
	// ClassUnspecified is the invalid zero value.
	ClassUnspecified Class = iota
	// ClassInvalidArgument means the command itself is malformed, whatever the state.
	ClassInvalidArgument
	// ClassNotFound means the command names an account or right that does not exist.
	ClassNotFound
	// ClassAlreadyExists means the command would create something that exists already.
	ClassAlreadyExists
	// ClassFailedPrecondition means the state does not allow the command now.
	ClassFailedPrecondition
	// ClassPermissionDenied means the caller may not make this call, or not on this data.
	ClassPermissionDenied
	// ClassUnauthenticated means the caller could not be identified.
	ClassUnauthenticated
	// ClassResourceExhausted means the caller has used up a limit for now.
	ClassResourceExhausted
)

var classNames = []string{"UNSPECIFIED", "INVALID_ARGUMENT", "NOT_FOUND", "ALREADY_EXISTS", "FAILED_PRECONDITION",
	"PERMISSION_DENIED", "UNAUTHENTICATED", "RESOURCE_EXHAUSTED"}

// String returns the class in the spelling of the gRPC status code, e.g. "NOT_FOUND".
func (c Class) String() string { return enumString(classNames, int32(c)) }

// Check is one numbered automated check of the registry, in the manner of the
// UN ITL. A Check is comparable and is itself an error, so
// errors.Is(err, CheckX) tells whether err is a rejection by check X.
type Check struct {
	// Code is the stable machine-readable code: a letter and four digits
	// ("E5001"). It is used as the google.rpc.ErrorInfo reason.
	Code string
	// Name is the UPPER_SNAKE name of the check, e.g. "INSUFFICIENT_AVAILABLE_UNITS".
	Name string
	// Class says which gRPC status code the rejection maps to.
	Class Class
	// Summary is a one-sentence description of what the check refuses.
	Summary string
}

// Error returns the code, name and summary of the check.
func (c Check) Error() string { return "domain: " + c.Code + " " + c.Name + ": " + c.Summary }

// The checks. Ranges: E1xxx malformed input, E2xxx not found, E3xxx already
// exists, E4xxx account checks, E5xxx unit and holding checks, E6xxx right
// validity, E7xxx the states of pledges, reservations, freezes and
// corrections, E8xxx identity and access. Codes are never reused or renumbered once published.
var (
	// CheckInvalidAccountID refuses a malformed account id.
	CheckInvalidAccountID = Check{"E1001", "INVALID_ACCOUNT_ID", ClassInvalidArgument,
		"An account id must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit."}
	// CheckInvalidRightID refuses a malformed right id.
	CheckInvalidRightID = Check{"E1002", "INVALID_RIGHT_ID", ClassInvalidArgument,
		"A right id must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit."}
	// CheckRequiredFieldMissing refuses a command that leaves a required field empty.
	CheckRequiredFieldMissing = Check{"E1003", "REQUIRED_FIELD_MISSING", ClassInvalidArgument,
		"A required field is empty."}
	// CheckInvalidEnumValue refuses an unspecified or unknown enumeration value.
	CheckInvalidEnumValue = Check{"E1004", "INVALID_ENUM_VALUE", ClassInvalidArgument,
		"An enumerated field is unspecified or has an unknown value."}
	// CheckInvalidText refuses text that is too long, is not UTF-8, or holds control or disallowed characters.
	CheckInvalidText = Check{"E1005", "INVALID_TEXT", ClassInvalidArgument,
		"A text field is too long, is not valid UTF-8, or contains control or disallowed characters."}
	// CheckInvalidCreditCode refuses a unified social credit code of the wrong shape.
	CheckInvalidCreditCode = Check{"E1006", "INVALID_CREDIT_CODE", ClassInvalidArgument,
		"A unified social credit code (GB 32100) must be 18 upper-case characters with a valid authority, type and division code."}
	// CheckCreditCodeCheckDigit refuses a credit code whose last character is not its check character.
	CheckCreditCodeCheckDigit = Check{"E1007", "CREDIT_CODE_CHECK_DIGIT_MISMATCH", ClassInvalidArgument,
		"The last character of the unified social credit code is not the GB 32100 check character of the first 17."}
	// CheckInvalidDivisionCode refuses an administrative division code that is not a GB/T 2260 code.
	CheckInvalidDivisionCode = Check{"E1008", "INVALID_DIVISION_CODE", ClassInvalidArgument,
		"An administrative division code must be six digits of GB/T 2260 with a known province prefix."}
	// CheckHolderKindNotAllowed refuses an account type that the holder's kind may not own.
	CheckHolderKindNotAllowed = Check{"E1009", "HOLDER_KIND_NOT_ALLOWED_FOR_ACCOUNT_TYPE", ClassInvalidArgument,
		"Registry accounts belong to government holders and exchange accounts to enterprises."}
	// CheckInvalidQuantity refuses a quantity that is not positive or exceeds MaxQuantity.
	CheckInvalidQuantity = Check{"E1010", "INVALID_QUANTITY", ClassInvalidArgument,
		"A quantity must be a whole number of units between 1 and 10^15."}
	// CheckInvalidVintage refuses a vintage outside 2005..2100 or outside the right's periods.
	CheckInvalidVintage = Check{"E1011", "INVALID_VINTAGE", ClassInvalidArgument,
		"The vintage must be a year between 2005 and 2100 that lies within the right's validity or monitoring period."}
	// CheckInvalidValidityPeriod refuses a validity period that is missing where required, inverted or too long.
	CheckInvalidValidityPeriod = Check{"E1012", "INVALID_VALIDITY_PERIOD", ClassInvalidArgument,
		"The validity period must start before it ends and be present and bounded where the right type requires it."}
	// CheckAttributesTypeMismatch refuses attributes of a different right type than the one registered.
	CheckAttributesTypeMismatch = Check{"E1013", "ATTRIBUTES_TYPE_MISMATCH", ClassInvalidArgument,
		"The attribute set does not belong to the right type being registered."}
	// CheckUnitTypeMismatch refuses a unit that is not the unit of the right type.
	CheckUnitTypeMismatch = Check{"E1014", "UNIT_TYPE_MISMATCH", ClassInvalidArgument,
		"The unit is not the unit of the right type (tCO2e, m3 or kg)."}
	// CheckInvalidCompliancePeriod refuses a malformed compliance period.
	CheckInvalidCompliancePeriod = Check{"E1015", "INVALID_COMPLIANCE_PERIOD", ClassInvalidArgument,
		"A compliance period must be a year or two years \"YYYY-YYYY\" between 2005 and 2100, at most ten years long, covering the vintage."}
	// CheckInvalidMonitoringPeriod refuses a monitoring period that is missing or inverted.
	CheckInvalidMonitoringPeriod = Check{"E1016", "INVALID_MONITORING_PERIOD", ClassInvalidArgument,
		"The monitoring period must have a start before its end."}
	// CheckInvalidArea refuses an area that is not positive or implausibly large.
	CheckInvalidArea = Check{"E1017", "INVALID_AREA", ClassInvalidArgument,
		"An area must be a positive whole number of square metres, at most 10^13."}
	// CheckInvalidBufferShare refuses a buffer share outside 0..10000 basis points.
	CheckInvalidBufferShare = Check{"E1018", "INVALID_BUFFER_SHARE", ClassInvalidArgument,
		"The buffer share must be between 0 and 10000 basis points."}
	// CheckInvalidAnnualVolume refuses an annual volume that is not positive or exceeds MaxQuantity.
	CheckInvalidAnnualVolume = Check{"E1019", "INVALID_ANNUAL_VOLUME", ClassInvalidArgument,
		"The annual volume must be a whole number of cubic metres between 1 and 10^15."}
	// CheckInvalidSerialRange refuses a serial block with Start < 1 or End < Start.
	CheckInvalidSerialRange = Check{"E1020", "INVALID_SERIAL_RANGE", ClassInvalidArgument,
		"A serial range must satisfy 1 <= start <= end."}
	// CheckInvalidTransferID refuses a malformed transfer id.
	CheckInvalidTransferID = Check{"E1021", "INVALID_TRANSFER_ID", ClassInvalidArgument,
		"A transfer id must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit."}
	// CheckInvalidRetirementID refuses a malformed retirement id.
	CheckInvalidRetirementID = Check{"E1022", "INVALID_RETIREMENT_ID", ClassInvalidArgument,
		"A retirement id must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit."}
	// CheckInvalidPrice refuses a negative price, a bad currency code, or a total that overflows.
	CheckInvalidPrice = Check{"E1023", "INVALID_PRICE", ClassInvalidArgument,
		"A price must be a non-negative amount in minor units with an ISO 4217 currency code, and price times quantity must fit in 64 bits."}
	// CheckInvalidSerialNumber refuses a serial number string that cannot be parsed.
	CheckInvalidSerialNumber = Check{"E1024", "INVALID_SERIAL_NUMBER", ClassInvalidArgument,
		"A serial number must read TYPE-JURISDICTION-VINTAGE-RIGHTID-START-END."}
	// CheckInvalidVerificationDate refuses a verification report dated before the monitoring ended or in the future.
	CheckInvalidVerificationDate = Check{"E1025", "INVALID_VERIFICATION_DATE", ClassInvalidArgument,
		"The verification report date must lie between the end of the monitoring period and the time of registration."}

	// CheckActorRequired refuses a command that does not say who makes it.
	CheckActorRequired = Check{"E1026", "ACTOR_REQUIRED", ClassInvalidArgument,
		"A command must name its actor (request metadata x-ecoregistry-actor): every event records who made it."}
	// CheckInvalidOperationID refuses a malformed id of a pledge, reservation, settlement, cancellation or correction.
	CheckInvalidOperationID = Check{"E1027", "INVALID_OPERATION_ID", ClassInvalidArgument,
		"A pledge, reservation, settlement, cancellation or correction id must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit."}
	// CheckInvalidTimeout refuses a reservation timeout that is missing, not after the decision time, or too far ahead.
	CheckInvalidTimeout = Check{"E1028", "INVALID_TIMEOUT", ClassInvalidArgument,
		"A reservation's timeout must lie after the time of the reservation and at most 366 days ahead."}
	// CheckInvalidMaturity refuses a pledge maturity that is not after the time of the pledge.
	CheckInvalidMaturity = Check{"E1029", "INVALID_MATURITY", ClassInvalidArgument,
		"A pledge's maturity, when given, must lie after the time of the pledge."}
	// CheckInvalidPageToken refuses a page token that a query did not make, or made with other filters.
	CheckInvalidPageToken = Check{"E1030", "INVALID_PAGE_TOKEN", ClassInvalidArgument,
		"A page token must be one returned by the same query with the same filters."}
	// CheckInvalidPageSize refuses a negative page size.
	CheckInvalidPageSize = Check{"E1031", "INVALID_PAGE_SIZE", ClassInvalidArgument,
		"A page size must not be negative; 0 asks for the default."}
	// CheckInvalidQueryRange refuses a malformed period, date or time range of a query, or one whose start comes after its end.
	CheckInvalidQueryRange = Check{"E1032", "INVALID_QUERY_RANGE", ClassInvalidArgument,
		"A query's period, date or time range must be well formed, and its start must not come after its end."}
	// CheckInvalidExchangeID refuses a malformed exchange id of a trade.
	CheckInvalidExchangeID = Check{"E1033", "INVALID_EXCHANGE_ID", ClassInvalidArgument,
		"An exchange id must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit."}
	// CheckInvalidTradeID refuses a malformed trade id.
	CheckInvalidTradeID = Check{"E1034", "INVALID_TRADE_ID", ClassInvalidArgument,
		"A trade id must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit."}
	// CheckInvalidMatchedAt refuses a trade whose matching time is missing, before 2000 or ahead of the registry's clock.
	CheckInvalidMatchedAt = Check{"E1035", "INVALID_MATCHED_AT", ClassInvalidArgument,
		"A trade's matching time must be given, lie after 2000-01-01 and be at most 5 minutes ahead of the registry's clock."}

	// CheckAccountNotFound refuses a command naming an account that was never opened.
	CheckAccountNotFound = Check{"E2001", "ACCOUNT_NOT_FOUND", ClassNotFound,
		"The account does not exist."}
	// CheckRightNotFound refuses a command naming a right that was never registered.
	CheckRightNotFound = Check{"E2002", "RIGHT_NOT_FOUND", ClassNotFound,
		"The right does not exist."}
	// CheckPledgeNotFound refuses a command naming a pledge that was never recorded on the right.
	CheckPledgeNotFound = Check{"E2003", "PLEDGE_NOT_FOUND", ClassNotFound,
		"No pledge with this id was recorded on the right."}
	// CheckReservationNotFound refuses a command naming a reservation that was never recorded on the right.
	CheckReservationNotFound = Check{"E2004", "RESERVATION_NOT_FOUND", ClassNotFound,
		"No reservation with this id was recorded on the right."}
	// CheckFreezeOrderNotFound refuses lifting a freeze order that was never recorded.
	CheckFreezeOrderNotFound = Check{"E2005", "FREEZE_ORDER_NOT_FOUND", ClassNotFound,
		"No freeze under this order number was recorded on the right or account."}
	// CheckTransactionNotFound refuses a correction naming a transaction that was never recorded on the right.
	CheckTransactionNotFound = Check{"E2006", "TRANSACTION_NOT_FOUND", ClassNotFound,
		"No transaction of this kind and id was recorded on the right."}

	// CheckAccountAlreadyExists refuses opening an account under an id already taken.
	CheckAccountAlreadyExists = Check{"E3001", "ACCOUNT_ALREADY_EXISTS", ClassAlreadyExists,
		"An account with this id exists already."}
	// CheckRightAlreadyExists refuses registering a right under an id already taken.
	CheckRightAlreadyExists = Check{"E3002", "RIGHT_ALREADY_EXISTS", ClassAlreadyExists,
		"A right with this id exists already."}
	// CheckDuplicateTransferID names a retry of a transfer: its id was recorded on the right with
	// the same fields. A retry is not refused: the decision answers it with a *RecordedBefore, and
	// the registry with the recorded outcome, marked as a replay.
	CheckDuplicateTransferID = Check{"E3003", "DUPLICATE_TRANSFER_ID", ClassAlreadyExists,
		"Names a retry of a transfer recorded on this right with the same id and fields; never a refusal: the registry answers with the recorded outcome, marked as a replay."}
	// CheckTransferIDReused refuses a transfer whose id was already recorded on the right with different fields.
	CheckTransferIDReused = Check{"E3004", "TRANSFER_ID_REUSED", ClassAlreadyExists,
		"A different transfer was already recorded on this right under this id; the refusal carries the original's outcome."}
	// CheckDuplicateRetirementID names a retry of a retirement, answered as CheckDuplicateTransferID's is.
	CheckDuplicateRetirementID = Check{"E3005", "DUPLICATE_RETIREMENT_ID", ClassAlreadyExists,
		"Names a retry of a retirement recorded on this right with the same id and fields; never a refusal: the registry answers with the recorded outcome, marked as a replay."}
	// CheckRetirementIDReused refuses a retirement whose id was already recorded on the right with different fields.
	CheckRetirementIDReused = Check{"E3006", "RETIREMENT_ID_REUSED", ClassAlreadyExists,
		"A different retirement was already recorded on this right under this id; the refusal carries the original's outcome."}
	// CheckDuplicateOperationID names a retry of a pledge, freeze order, reservation, settlement,
	// cancellation or correction, answered as CheckDuplicateTransferID's is.
	CheckDuplicateOperationID = Check{"E3007", "DUPLICATE_OPERATION_ID", ClassAlreadyExists,
		"Names a retry of an operation recorded with the same id and fields; never a refusal: the registry answers with the recorded outcome, marked as a replay."}
	// CheckOperationIDReused refuses a lifecycle command whose id was already recorded with different fields.
	CheckOperationIDReused = Check{"E3008", "OPERATION_ID_REUSED", ClassAlreadyExists,
		"A different operation of this kind was already recorded under this id; the refusal carries the original's outcome."}
	// CheckTradeIDReused refuses a trade whose exchange and trade id were submitted before with different fields;
	// the outcome shows the trade first submitted under them.
	CheckTradeIDReused = Check{"E3009", "TRADE_ID_REUSED", ClassAlreadyExists,
		"A different trade was already submitted under this exchange and trade id."}

	// CheckAccountNotOpen refuses a command on an account whose status is not a known operating status.
	CheckAccountNotOpen = Check{"E4001", "ACCOUNT_NOT_OPEN", ClassFailedPrecondition,
		"The account is not open."}
	// CheckAccountRestricted refuses sending from, or registering into, a restricted account.
	CheckAccountRestricted = Check{"E4002", "ACCOUNT_RESTRICTED", ClassFailedPrecondition,
		"The account is restricted: it may receive and retire units but not send them or receive a registration."}
	// CheckAccountSuspended refuses any transaction of a suspended account.
	CheckAccountSuspended = Check{"E4003", "ACCOUNT_SUSPENDED", ClassFailedPrecondition,
		"The account is suspended."}
	// CheckAccountClosed refuses any transaction or status change of a closed account.
	CheckAccountClosed = Check{"E4004", "ACCOUNT_CLOSED", ClassFailedPrecondition,
		"The account is closed; closing is final."}
	// CheckSameAccount refuses a transfer from an account to itself.
	CheckSameAccount = Check{"E4005", "SAME_ACCOUNT", ClassFailedPrecondition,
		"The transferring and acquiring accounts are the same."}
	// CheckAccountStatusUnchanged refuses a status change to the status the account has.
	CheckAccountStatusUnchanged = Check{"E4006", "ACCOUNT_STATUS_UNCHANGED", ClassFailedPrecondition,
		"The account already has the requested status."}
	// CheckAccountFrozen refuses sending, retiring, pledging or reserving units of an account frozen by an authority order.
	CheckAccountFrozen = Check{"E4007", "ACCOUNT_FROZEN", ClassFailedPrecondition,
		"The account is frozen by an authority order: its units may not be sent, retired, pledged or reserved."}
	// CheckAccountHoldsUnits refuses closing an account that still holds units it could act on, or that others hold claims on.
	CheckAccountHoldsUnits = Check{"E4008", "ACCOUNT_HOLDS_UNITS", ClassFailedPrecondition,
		"The account still holds available, pledged, frozen or reserved units; they must be transferred, retired, released or settled before it is closed."}

	// CheckInsufficientAvailableUnits refuses moving more units than the holder has available.
	CheckInsufficientAvailableUnits = Check{"E5001", "INSUFFICIENT_AVAILABLE_UNITS", ClassFailedPrecondition,
		"The holding does not have that many available units."}
	// CheckSerialRangeNotHeld refuses a serial range that is not wholly among the holder's available units.
	CheckSerialRangeNotHeld = Check{"E5002", "SERIAL_RANGE_NOT_HELD", ClassFailedPrecondition,
		"The serial range is not wholly among the holder's available units."}
	// CheckUnitsAlreadyRetired refuses a serial range that includes retired units.
	CheckUnitsAlreadyRetired = Check{"E5003", "UNITS_ALREADY_RETIRED", ClassFailedPrecondition,
		"The serial range includes units that are retired."}
	// CheckQuantityOrRange refuses a command that gives both or neither of a quantity and a serial range.
	CheckQuantityOrRange = Check{"E5004", "QUANTITY_XOR_RANGE_REQUIRED", ClassInvalidArgument,
		"Exactly one of a quantity and a serial range must be given."}
	// CheckSerialRangeOutsideIssuance refuses a serial range beyond the right's quantity.
	CheckSerialRangeOutsideIssuance = Check{"E5005", "SERIAL_RANGE_OUTSIDE_ISSUANCE", ClassInvalidArgument,
		"The serial range lies beyond the serials issued for this right."}
	// CheckBufferUnitsNotTransferable refuses a serial range that includes buffer-pool units.
	CheckBufferUnitsNotTransferable = Check{"E5006", "BUFFER_UNITS_NOT_TRANSFERABLE", ClassFailedPrecondition,
		"The serial range includes units of the non-tradable buffer pool."}
	// CheckUnitsPledged refuses a serial range that includes pledged units.
	CheckUnitsPledged = Check{"E5007", "UNITS_PLEDGED", ClassFailedPrecondition,
		"The serial range includes units pledged as collateral."}
	// CheckUnitsFrozen refuses a serial range that includes frozen units.
	CheckUnitsFrozen = Check{"E5008", "UNITS_FROZEN", ClassFailedPrecondition,
		"The serial range includes units frozen by an authority order."}
	// CheckUnitsReserved refuses a serial range that includes units reserved for an exchange order.
	CheckUnitsReserved = Check{"E5009", "UNITS_RESERVED", ClassFailedPrecondition,
		"The serial range includes units reserved for an exchange order."}
	// CheckUnitsCancelled refuses a serial range that includes cancelled units.
	CheckUnitsCancelled = Check{"E5010", "UNITS_CANCELLED", ClassFailedPrecondition,
		"The serial range includes units cancelled by an authority."}

	// CheckRightExpired refuses transactions on a right at or after its ValidUntil.
	CheckRightExpired = Check{"E6001", "RIGHT_EXPIRED", ClassFailedPrecondition,
		"The right's validity period has ended."}
	// CheckRightNotYetValid refuses transactions on a right before its ValidFrom.
	CheckRightNotYetValid = Check{"E6002", "RIGHT_NOT_YET_VALID", ClassFailedPrecondition,
		"The right's validity period has not begun."}
	// CheckVintageNotEligible refuses surrendering allowances for a compliance period that ends before their vintage.
	CheckVintageNotEligible = Check{"E6003", "VINTAGE_NOT_ELIGIBLE_FOR_COMPLIANCE_PERIOD", ClassFailedPrecondition,
		"Allowances cannot be surrendered for a compliance period that ends before their vintage (no borrowing)."}

	// CheckPledgeNotActive refuses releasing or enforcing a pledge that was already released or enforced.
	CheckPledgeNotActive = Check{"E7001", "PLEDGE_NOT_ACTIVE", ClassFailedPrecondition,
		"The pledge was already released or enforced."}
	// CheckReservationNotOpen refuses settling or voiding a reservation that was fully settled, voided or expired.
	CheckReservationNotOpen = Check{"E7002", "RESERVATION_NOT_OPEN", ClassFailedPrecondition,
		"The reservation was already fully settled, voided or expired."}
	// CheckReservationTimedOut refuses settling or voiding a reservation at or after its timeout.
	CheckReservationTimedOut = Check{"E7003", "RESERVATION_TIMED_OUT", ClassFailedPrecondition,
		"The reservation's timeout has passed; only its expiry can be recorded."}
	// CheckSettlementExceedsReservation refuses settling more units than remain reserved.
	CheckSettlementExceedsReservation = Check{"E7004", "SETTLEMENT_EXCEEDS_RESERVATION", ClassFailedPrecondition,
		"The settlement asks for more units than remain reserved."}
	// CheckFreezeOrderLifted refuses lifting a freeze order that was already lifted.
	CheckFreezeOrderLifted = Check{"E7005", "FREEZE_ORDER_LIFTED", ClassFailedPrecondition,
		"The freeze under this order number was already lifted."}
	// CheckTransactionAlreadyReversed refuses reversing a transaction twice.
	CheckTransactionAlreadyReversed = Check{"E7006", "TRANSACTION_ALREADY_REVERSED", ClassFailedPrecondition,
		"The transaction was already reversed."}
	// CheckReversalBlocked refuses a reversal whose units have since moved on; the detail names the blocking serial blocks.
	CheckReversalBlocked = Check{"E7007", "REVERSAL_BLOCKED", ClassFailedPrecondition,
		"Units of the transaction have since moved on (transferred, pledged, frozen, reserved, retired or cancelled), so it cannot be reversed."}
	// CheckTransactionNotReversible refuses reversing a kind of transaction that cannot be reversed this way.
	CheckTransactionNotReversible = Check{"E7008", "TRANSACTION_NOT_REVERSIBLE", ClassFailedPrecondition,
		"This transaction cannot be reversed: buffer-pool cancellations are not refilled."}
	// CheckReservationMismatch refuses a trade that names a reservation of another seller or another exchange.
	CheckReservationMismatch = Check{"E7009", "RESERVATION_MISMATCH", ClassFailedPrecondition,
		"The reservation a trade names was made for another seller or another exchange."}

	// CheckRoleNotAllowed refuses a call that none of the caller's roles may make.
	CheckRoleNotAllowed = Check{"E8001", "ROLE_NOT_ALLOWED", ClassPermissionDenied,
		"None of the caller's roles in the access policy may call this RPC."}
	// CheckOutsideScope refuses a call whose data lies outside the caller's scope: a jurisdiction, right type,
	// account, pledge, reservation or exchange that its role binding does not cover.
	CheckOutsideScope = Check{"E8002", "OUTSIDE_SCOPE", ClassPermissionDenied,
		"The call concerns a jurisdiction, right type, account, pledge, reservation or exchange outside the caller's scope."}
	// CheckUnauthenticated refuses a call without a valid client certificate naming a principal.
	CheckUnauthenticated = Check{"E8003", "UNAUTHENTICATED", ClassUnauthenticated,
		"The call carries no valid client certificate: none was presented, it has expired or is not yet valid, the registry's client CA did not issue it, or it names no principal."}
	// CheckTooManyCallsInFlight refuses a call of a principal that already has as many calls in flight as it may.
	CheckTooManyCallsInFlight = Check{"E8004", "TOO_MANY_CALLS_IN_FLIGHT", ClassResourceExhausted,
		"The caller already has as many calls in flight as the registry allows one principal; retry when one has finished."}
)

var allChecks = []Check{
	CheckInvalidAccountID, CheckInvalidRightID, CheckRequiredFieldMissing, CheckInvalidEnumValue,
	CheckInvalidText, CheckInvalidCreditCode, CheckCreditCodeCheckDigit, CheckInvalidDivisionCode,
	CheckHolderKindNotAllowed, CheckInvalidQuantity, CheckInvalidVintage, CheckInvalidValidityPeriod,
	CheckAttributesTypeMismatch, CheckUnitTypeMismatch, CheckInvalidCompliancePeriod,
	CheckInvalidMonitoringPeriod, CheckInvalidArea, CheckInvalidBufferShare, CheckInvalidAnnualVolume,
	CheckInvalidSerialRange, CheckInvalidTransferID, CheckInvalidRetirementID, CheckInvalidPrice,
	CheckInvalidSerialNumber, CheckInvalidVerificationDate, CheckActorRequired,
	CheckInvalidOperationID, CheckInvalidTimeout, CheckInvalidMaturity,
	CheckInvalidPageToken, CheckInvalidPageSize, CheckInvalidQueryRange,
	CheckInvalidExchangeID, CheckInvalidTradeID, CheckInvalidMatchedAt,
	CheckAccountNotFound, CheckRightNotFound,
	CheckPledgeNotFound, CheckReservationNotFound, CheckFreezeOrderNotFound, CheckTransactionNotFound,
	CheckAccountAlreadyExists, CheckRightAlreadyExists, CheckDuplicateTransferID, CheckTransferIDReused,
	CheckDuplicateRetirementID, CheckRetirementIDReused, CheckDuplicateOperationID, CheckOperationIDReused,
	CheckTradeIDReused,
	CheckAccountNotOpen, CheckAccountRestricted, CheckAccountSuspended, CheckAccountClosed,
	CheckSameAccount, CheckAccountStatusUnchanged, CheckAccountFrozen, CheckAccountHoldsUnits,
	CheckInsufficientAvailableUnits, CheckSerialRangeNotHeld, CheckUnitsAlreadyRetired,
	CheckQuantityOrRange, CheckSerialRangeOutsideIssuance, CheckBufferUnitsNotTransferable,
	CheckUnitsPledged, CheckUnitsFrozen, CheckUnitsReserved, CheckUnitsCancelled,
	CheckRightExpired, CheckRightNotYetValid, CheckVintageNotEligible,
	CheckPledgeNotActive, CheckReservationNotOpen, CheckReservationTimedOut, CheckSettlementExceedsReservation,
	CheckFreezeOrderLifted, CheckTransactionAlreadyReversed, CheckReversalBlocked, CheckTransactionNotReversible,
	CheckReservationMismatch,
	CheckRoleNotAllowed, CheckOutsideScope, CheckUnauthenticated, CheckTooManyCallsInFlight,
}

// AllChecks returns every check, sorted by code. The result is a fresh slice
// the caller may keep.
func AllChecks() []Check {
	out := slices.Clone(allChecks)
	slices.SortFunc(out, func(a, b Check) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// CheckByCode returns the check with the given code, if there is one.
func CheckByCode(code string) (Check, bool) {
	for _, c := range allChecks {
		if c.Code == code {
			return c, true
		}
	}
	return Check{}, false
}

// ChecksMarkdown returns the check table as a Markdown table, one row per
// check in code order, for the README.
func ChecksMarkdown() string {
	var b strings.Builder
	b.WriteString("| code | name | class | summary |\n|---|---|---|---|\n")
	for _, c := range AllChecks() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Code, c.Name, c.Class, strings.ReplaceAll(c.Summary, "|", `\|`))
	}
	return b.String()
}

// Rejection is the error that refuses a command: which check failed, on
// which field, and what exactly was wrong.
type Rejection struct {
	// Check is the check that failed.
	Check Check
	// Field is the path of the offending command field in snake_case, e.g.
	// "holder.credit_code"; it is empty when no single field is at fault.
	Field string
	// Detail says what exactly is wrong, with the values involved.
	Detail string
}

// Error returns the check's code and name, the field and the detail.
func (r *Rejection) Error() string {
	var b strings.Builder
	b.WriteString("domain: ")
	b.WriteString(r.Check.Code)
	b.WriteByte(' ')
	b.WriteString(r.Check.Name)
	if r.Field != "" {
		b.WriteString(" (")
		b.WriteString(r.Field)
		b.WriteByte(')')
	}
	b.WriteString(": ")
	if r.Detail != "" {
		b.WriteString(r.Detail)
	} else {
		b.WriteString(r.Check.Summary)
	}
	return b.String()
}

// Unwrap returns the check, so that errors.Is(err, CheckX) matches a
// rejection by check X however deeply it is wrapped.
func (r *Rejection) Unwrap() error { return r.Check }

// reject builds a rejection with a formatted detail.
func reject(c Check, field, format string, args ...any) *Rejection {
	return &Rejection{Check: c, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// RejectionOf returns the rejection in err's chain. For a *ValidationError it
// returns the first violation; for a bare Check it returns a rejection
// without field or detail. It returns false when err is not a rejection.
func RejectionOf(err error) (*Rejection, bool) {
	var r *Rejection
	if errors.As(err, &r) {
		return r, true
	}
	var c Check
	if errors.As(err, &c) {
		return &Rejection{Check: c}, true
	}
	return nil, false
}

// ValidationError refuses a malformed command and lists every field that is
// wrong (the first violation per field). All its violations are of class
// ClassInvalidArgument; the gRPC layer maps them to google.rpc.BadRequest
// field violations.
type ValidationError struct {
	// Violations lists one rejection per offending field, in the order the
	// fields were checked. It is never empty.
	Violations []Rejection
}

// Error returns the first violation and how many more there are.
func (e *ValidationError) Error() string {
	if len(e.Violations) == 0 {
		return "domain: invalid command"
	}
	msg := e.Violations[0].Error()
	if n := len(e.Violations) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more violation%s)", n, plural(n))
	}
	return msg
}

// Unwrap returns the violations, so that errors.Is and errors.As see each of them.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Violations))
	for i := range e.Violations {
		errs[i] = &e.Violations[i]
	}
	return errs
}

// ViolationsOf returns the field violations of a *ValidationError in err's
// chain, or the single rejection of any other rejection, or nil.
func ViolationsOf(err error) []Rejection {
	var v *ValidationError
	if errors.As(err, &v) {
		return v.Violations
	}
	if r, ok := RejectionOf(err); ok {
		return []Rejection{*r}
	}
	return nil
}

// violations collects the field violations of one command, keeping the
// first violation per field.
type violations struct {
	list []Rejection
}

// add records a violation unless the field already has one: the first problem
// found with a field is the most basic one, and later checks of the same
// field usually follow from it.
func (v *violations) add(c Check, field, format string, args ...any) {
	for i := range v.list {
		if v.list[i].Field == field {
			return
		}
	}
	v.list = append(v.list, Rejection{Check: c, Field: field, Detail: fmt.Sprintf(format, args...)})
}

// err returns the collected violations as a *ValidationError, or nil.
func (v *violations) err() error {
	if len(v.list) == 0 {
		return nil
	}
	return &ValidationError{Violations: v.list}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
