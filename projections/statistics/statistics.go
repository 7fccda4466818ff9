// Package statistics is the regulators' statistics projection
// (生态保护补偿统计): the quantities issued, transferred, retired, pledged,
// frozen, cancelled and expired, and the number of issuances, transfers and
// retirements, by right type, jurisdiction and period.
//
// A right's jurisdiction is the six-digit GB/T 2260 code it was registered
// under. Each event counts at four levels: the whole country (code
// "000000"), its province (the first two digits and "0000"), its prefecture
// (the first four and "00") and the registered division itself; a right
// registered at a province or prefecture code counts once at each level all
// the same. Periods are calendar months ("2026-11") and years ("2026") of
// the event's time in China Standard Time (UTC+8), so that a statistic
// agrees with the calendar of the offices that publish it.
//
// What counts as what follows from how each event moves units
// (domain.Movements): units issued by a registration are issued; units
// that reach another account's available units (a transfer, a settled
// exchange trade, a settled reservation, an enforced pledge) are
// transferred, and the event counts as a transfer; units that become
// retired are retired, and the event counts as a retirement; units that
// become pledged, frozen, cancelled or expired are pledged, frozen,
// cancelled or expired. Figures are flows of their period: a later
// correction (TransactionReversed) is a fact of its own period and changes
// no figure, and units that go back to their holder's available units (the
// release of a pledge or a freeze, a void or expired reservation) or into a
// reservation, and a refused trade, count nowhere.
//
// # Keys
//
//	'i' RIGHT                                              the right's type and jurisdiction
//	's' LEVEL CODE(6) TYPE GRANULARITY('M' or 'Y') PERIOD  one row of figures
//
// # Adding event types
//
// Nothing: a new event type that moves units counts by the rules above.
// A new figure, or another rule, changes flowOf and bumps SchemaVersion.
package statistics

import (
	"fmt"
	"slices"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/internal/enc"
)

// Name is the projection's name.
const Name = "statistics"

// SchemaVersion is the version of the projection's layout and of the set
// of event types it handles. Version 2 counts the lifecycle and
// settlement events.
const SchemaVersion = 2

// ChinaTime is the zone of periods: China Standard Time, UTC+8.
var ChinaTime = time.FixedZone("CST", 8*60*60)

// Level is the administrative level figures are summed at.
type Level byte

// The levels.
const (
	// National sums the whole country; its code is "000000".
	National Level = 1
	// Province sums a province, autonomous region or municipality ("420000").
	Province Level = 2
	// Prefecture sums a prefecture-level division ("420100").
	Prefecture Level = 3
	// Division is the six-digit code the right was registered under.
	Division Level = 4
)

// NationalCode is the code of the National level.
const NationalCode = "000000"

// Valid reports whether l is one of the levels.
func (l Level) Valid() bool { return l >= National && l <= Division }

// String returns the level's lower-case name.
func (l Level) String() string {
	switch l {
	case National:
		return "national"
	case Province:
		return "province"
	case Prefecture:
		return "prefecture"
	case Division:
		return "division"
	}
	return fmt.Sprintf("level(%d)", byte(l))
}

// CodeAt returns the code of the division at level l that contains the
// division code.
func CodeAt(l Level, code string) string {
	switch {
	case l == National:
		return NationalCode
	case len(code) != 6:
		return code
	case l == Province:
		return code[:2] + "0000"
	case l == Prefecture:
		return code[:4] + "00"
	}
	return code
}

// Figure is one of the quantities the statistics keep.
type Figure int

// The figures.
const (
	Issued Figure = iota
	Transferred
	Retired
	Pledged
	Frozen
	Cancelled
	Expired
	Issuances
	Transfers
	Retirements
	numFigures
)

var figureNames = [numFigures]string{"issued", "transferred", "retired", "pledged", "frozen", "cancelled", "expired", "issuances", "transfers", "retirements"}

// String returns the figure's lower-case name.
func (f Figure) String() string {
	if f >= 0 && f < numFigures {
		return figureNames[f]
	}
	return fmt.Sprintf("figure(%d)", int(f))
}

// Figures returns every figure, in order.
func Figures() []Figure {
	out := make([]Figure, numFigures)
	for i := range out {
		out[i] = Figure(i)
	}
	return out
}

// Row is the figures of one right type in one division and period.
type Row struct {
	// Level is the administrative level of Jurisdiction.
	Level Level
	// Jurisdiction is the code of the division at Level.
	Jurisdiction string
	// RightType is the type of the rights counted.
	RightType domain.RightType
	// Period is the month or year.
	Period domain.Period
	// Values are the figures: quantities in the type's unit for Issued to
	// Expired, numbers of events for Issuances to Retirements.
	Values [numFigures]int64
}

// Value returns figure f.
func (r *Row) Value(f Figure) int64 { return r.Values[f] }

// Projection is the statistics projection.
type Projection struct{}

// New returns the statistics projection.
func New() Projection { return Projection{} }

// Name returns "statistics".
func (Projection) Name() string { return Name }

// SchemaVersion returns SchemaVersion.
func (Projection) SchemaVersion() uint32 { return SchemaVersion }

// Decodes returns the event types whose payloads the projection reads:
// those that move units.
func (Projection) Decodes() []string { return domain.UnitEventTypes() }

// NewBuilder returns a builder over the committed state.
func (Projection) NewBuilder(state projections.Keyspace) projections.Builder {
	return &builder{state: state, rights: map[string]*rightInfo{}, rows: map[rowID]*row{}}
}

const cacheLimit = 200_000

type rightInfo struct {
	typ          domain.RightType
	jurisdiction string
	// codes are the right's divisions at each level, National first.
	codes [4]string
	// rows are the rows of month's events, at each level for the month
	// and its year, while the builder's cache of rows is the one of
	// generation gen: most of a right's events in a row fall in one month.
	rows  [8]*row
	month domain.Period
	gen   uint64
}

func newRightInfo(typ domain.RightType, jurisdiction string) *rightInfo {
	info := &rightInfo{typ: typ, jurisdiction: jurisdiction}
	for l := National; l <= Division; l++ {
		info.codes[l-National] = CodeAt(l, jurisdiction)
	}
	return info
}

// rowID names one row.
type rowID struct {
	level  Level
	code   string
	typ    domain.RightType
	period domain.Period
}

type row struct {
	id     rowID
	values [numFigures]int64
	dirty  bool
}

type builder struct {
	state     projections.Keyspace
	rights    map[string]*rightInfo
	newRights []string
	rows      map[rowID]*row
	rowsGen   uint64
	dirty     []*row
	key       []byte
	val       []byte
}

// Apply applies one event; see projections.Builder.
func (b *builder) Apply(ev *eventstore.RecordedEvent, e domain.Event) (bool, error) {
	if e == nil {
		// Not one of Decodes: an event that moves no unit counts nowhere.
		return slices.Contains(domain.EventTypes(), ev.Type), nil
	}
	if reg, ok := e.(domain.RightRegistered); ok {
		b.rights[reg.RightID] = newRightInfo(reg.Type, reg.Jurisdiction)
		b.newRights = append(b.newRights, reg.RightID)
	}
	var buf [2]domain.Movement
	moves, err := domain.AppendMovements(buf[:0], e)
	if err != nil {
		return true, err
	}
	var amounts [numFigures]int64
	var counts [numFigures]bool
	for _, m := range moves {
		if f, ok := flowOf(m); ok {
			amounts[f] += m.Quantity
			counts[f] = true
		}
	}
	var pairs [4][2]int64
	figures := pairs[:0]
	for f, events := range [...]Figure{Issued: Issuances, Transferred: Transfers, Retired: Retirements, Pledged: -1, Frozen: -1, Cancelled: -1, Expired: -1} {
		if !counts[f] {
			continue
		}
		figures = append(figures, [2]int64{int64(f), amounts[f]})
		if events >= 0 {
			figures = append(figures, [2]int64{int64(events), 1})
		}
	}
	if len(figures) == 0 {
		return true, nil
	}
	info, err := b.right(moves[0].Right)
	if err != nil {
		return true, err
	}
	return true, b.add(info, e.OccurredAt(), figures)
}

// flowOf returns the figure a movement of units counts in, and false when
// it counts in none (see the package documentation).
func flowOf(m domain.Movement) (Figure, bool) {
	switch {
	case m.Reversal:
		return 0, false
	case m.From.State == domain.StateUnissued:
		return Issued, true
	}
	switch m.To.State {
	case domain.StateRetired:
		return Retired, true
	case domain.StatePledged:
		return Pledged, true
	case domain.StateFrozen:
		return Frozen, true
	case domain.StateCancelled:
		return Cancelled, true
	case domain.StateExpired:
		return Expired, true
	case domain.StateAvailable:
		return Transferred, m.From.State.Held() && m.From.Account != m.To.Account
	}
	return 0, false
}

func (b *builder) right(id string) (*rightInfo, error) {
	if info, ok := b.rights[id]; ok {
		return info, nil
	}
	v, found, err := b.state.Get(append([]byte{'i'}, id...))
	if err != nil {
		return nil, err
	}
	if !found || len(v) < 1 {
		return nil, fmt.Errorf("%w: right %s is not registered", domain.ErrEventDoesNotApply, id)
	}
	info := newRightInfo(domain.RightType(v[0]), string(v[1:]))
	b.rights[id] = info
	return info, nil
}

// add adds the (figure, amount) pairs to the rows of the right's type at
// every level, for the month and the year of at.
func (b *builder) add(info *rightInfo, at time.Time, amounts [][2]int64) error {
	y, m, _ := at.In(ChinaTime).Date()
	month := domain.Period{Year: y, Month: int(m)}
	if info.month != month || info.gen != b.rowsGen || info.rows[0] == nil {
		periods := [2]domain.Period{month, {Year: y}}
		for l := National; l <= Division; l++ {
			for i, p := range periods {
				r, err := b.row(rowID{level: l, code: info.codes[l-National], typ: info.typ, period: p})
				if err != nil {
					return err
				}
				info.rows[2*int(l-National)+i] = r
			}
		}
		info.month, info.gen = month, b.rowsGen
	}
	for _, r := range info.rows {
		b.markRow(r)
		for _, a := range amounts {
			r.values[a[0]] += a[1]
		}
	}
	return nil
}

// markRow records that r changed since the last flush.
func (b *builder) markRow(r *row) {
	if !r.dirty {
		r.dirty = true
		b.dirty = append(b.dirty, r)
	}
}

func (b *builder) row(id rowID) (*row, error) {
	r, ok := b.rows[id]
	if !ok {
		r = &row{id: id}
		b.key = rowKey(b.key[:0], id)
		v, found, err := b.state.Get(b.key)
		if err != nil {
			return nil, err
		}
		if found {
			if err := decodeValues(v, &r.values); err != nil {
				return nil, err
			}
		}
		b.rows[id] = r
	}
	return r, nil
}

// Flush writes the new rights and the changed rows.
func (b *builder) Flush(w *projections.Writer) error {
	for _, id := range b.newRights {
		info := b.rights[id]
		if err := w.Set(append([]byte{'i'}, id...), append([]byte{byte(info.typ)}, info.jurisdiction...)); err != nil {
			return err
		}
	}
	b.newRights = b.newRights[:0]
	for _, r := range b.dirty {
		b.val = b.val[:0]
		for _, v := range r.values {
			b.val = enc.Varint(b.val, v)
		}
		b.key = rowKey(b.key[:0], r.id)
		if err := w.Set(b.key, b.val); err != nil {
			return err
		}
		r.dirty = false
	}
	clear(b.dirty)
	b.dirty = b.dirty[:0]
	if len(b.rows) > cacheLimit {
		clear(b.rows)
		// The rights' rows of the cleared cache are not used again.
		b.rowsGen++
	}
	if len(b.rights) > cacheLimit {
		clear(b.rights)
	}
	return nil
}

func decodeValues(v []byte, out *[numFigures]int64) error {
	d := enc.NewReader(v)
	for i := range out {
		out[i] = d.Varint()
	}
	return d.Done()
}

// granularity is the byte that tells months from years in keys.
func granularity(p domain.Period) byte {
	if p.IsYear() {
		return 'Y'
	}
	return 'M'
}

func rowKey(b []byte, id rowID) []byte {
	b = append(b, 's', byte(id.level))
	b = append(b, id.code...)
	b = append(b, byte(id.typ), granularity(id.period))
	return append(b, id.period.String()...)
}
