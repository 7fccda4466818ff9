package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// fields writes aligned "Key:  value" lines.
type fields struct{ tw *tabwriter.Writer }

func newFields(w io.Writer) *fields {
	return &fields{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
}

func (f *fields) add(key string, value any) {
	fmt.Fprintf(f.tw, "%s:\t%v\n", key, value)
}

// addIf adds a line only for a non-empty value, so that attributes a
// registration did not carry do not show as blank lines.
func (f *fields) addIf(key, value string) {
	if value != "" {
		f.add(key, value)
	}
}

func (f *fields) commit(c *ecov1.Commit) {
	if c == nil {
		return
	}
	f.add("Stream", c.GetStream())
	f.add("Stream revision", c.GetStreamRevision())
	f.add("Position", fmt.Sprintf("commit %d, prepare %d", c.GetPosition().GetCommit(), c.GetPosition().GetPrepare()))
	f.addIf("Correlation id", c.GetCorrelationId())
}

func (f *fields) flush() error { return f.tw.Flush() }

func writeAccount(w io.Writer, a *ecov1.Account, c *ecov1.Commit) error {
	f := newFields(w)
	f.add("Account", a.GetAccountId())
	f.add("Holder", a.GetHolder().GetName())
	f.add("Holder kind", holderKinds.nameOf(a.GetHolder().GetKind()))
	f.addIf("Credit code", a.GetHolder().GetCreditCode())
	f.add("Jurisdiction", a.GetJurisdiction())
	f.add("Type", accountTypes.nameOf(a.GetType()))
	f.add("Status", accountStatuses.nameOf(a.GetStatus()))
	f.addIf("Status reason", a.GetStatusReason())
	f.addIf("Frozen by orders", strings.Join(a.GetFreezeOrders(), ", "))
	f.add("Opened at", formatTime(a.GetOpenedAt()))
	f.add("Revision", a.GetRevision())
	f.commit(c)
	return f.flush()
}

// rangeText names a serial range by its readable serial, which already
// encodes start and end, or by START-END when the server sent none.
func rangeText(r *ecov1.SerialRange) string {
	if r.GetSerial() != "" {
		return r.GetSerial()
	}
	return fmt.Sprintf("%d-%d", r.GetStart(), r.GetEnd())
}

func writeRight(w io.Writer, r *ecov1.Right, c *ecov1.Commit) error {
	unit := units.nameOf(r.GetUnit())
	f := newFields(w)
	f.add("Right", r.GetRightId())
	f.add("Type", rightTypes.nameOf(r.GetType()))
	f.add("Jurisdiction", r.GetJurisdiction())
	f.add("Vintage", r.GetVintage())
	f.add("Quantity", fmt.Sprintf("%d %s", r.GetQuantity(), unit))
	f.add("Serials", rangeText(r.GetSerial()))
	f.add("Issued to", r.GetHolderAccountId())
	if r.GetValidFrom() != nil || r.GetValidUntil() != nil {
		f.add("Valid from", formatTime(r.GetValidFrom()))
		f.add("Valid until", formatTime(r.GetValidUntil())+" (exclusive)")
	}
	f.add("Registered at", formatTime(r.GetRegisteredAt()))
	f.add("Retired", fmt.Sprintf("%d %s", r.GetRetiredQuantity(), unit))
	if r.GetBufferQuantity() != 0 || r.GetCarbonSink() != nil {
		f.add("Buffer pool", fmt.Sprintf("%d %s", r.GetBufferQuantity(), unit))
	}
	f.add("Revision", r.GetRevision())
	if a := r.GetCarbonAllowance(); a != nil {
		f.add("Allocating province", a.GetAllocatingProvince())
		f.add("Scheme", carbonSchemes.nameOf(a.GetScheme()))
		f.add("Allocation", allocationMethods.nameOf(a.GetAllocationMethod()))
		f.addIf("Compliance period", a.GetCompliancePeriod())
	}
	if a := r.GetWaterRight(); a != nil {
		f.add("Class", waterClasses.nameOf(a.GetClass()))
		f.addIf("Intake permit", a.GetIntakePermitNumber())
		f.addIf("Basin", a.GetBasin())
		f.add("Source", waterSources.nameOf(a.GetSource()))
		f.add("Use", waterUses.nameOf(a.GetUse()))
		f.add("Annual volume", fmt.Sprintf("%d m³", a.GetAnnualVolumeM3()))
	}
	if a := r.GetPollutantRight(); a != nil {
		f.add("Pollutant", pollutants.nameOf(a.GetPollutant()))
		f.addIf("Discharge permit", a.GetDischargePermitNumber())
		f.addIf("Region", a.GetRegion())
		f.addIf("Basin or airshed", a.GetBasinOrAirshed())
		f.add("Origin", pollutantOrigins.nameOf(a.GetOrigin()))
	}
	if a := r.GetCarbonSink(); a != nil {
		f.add("Project", a.GetProjectId())
		f.addIf("Methodology", a.GetMethodology())
		f.add("Monitoring", formatTime(a.GetMonitoringStart())+" to "+formatTime(a.GetMonitoringEnd()))
		f.addIf("Location", a.GetLocation())
		f.add("Area", fmt.Sprintf("%s ha (%d m²)", formatDecimalExact(a.GetAreaSquareMetres(), 4), a.GetAreaSquareMetres()))
		f.addIf("Verified by", a.GetVerificationBody())
		f.add("Verification date", formatTime(a.GetVerificationDate()))
		f.add("Kind", sinkKinds.nameOf(a.GetKind()))
		f.add("Buffer share", formatDecimalExact(int64(a.GetBufferBasisPoints()), 2)+"%")
	}
	f.commit(c)
	if err := f.flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tAVAILABLE\tRETIRED\tSERIALS")
	if len(r.GetHoldings()) == 0 {
		fmt.Fprintln(tw, "(none)\t\t\t")
	}
	for _, h := range r.GetHoldings() {
		// One line per serial block: the first carries the account and its
		// totals, the rest only the block, so that blocks stay greppable.
		var blocks []string
		for _, s := range h.GetAvailableRanges() {
			blocks = append(blocks, rangeText(s))
		}
		for _, s := range h.GetRetiredRanges() {
			blocks = append(blocks, "retired "+rangeText(s))
		}
		if len(blocks) == 0 {
			blocks = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", h.GetAccountId(), h.GetAvailable(), h.GetRetired(), blocks[0])
		for _, b := range blocks[1:] {
			fmt.Fprintf(tw, "\t\t\t%s\n", b)
		}
	}
	return tw.Flush()
}

func writeHolding(w io.Writer, req *ecov1.GetHoldingRequest, resp *ecov1.GetHoldingResponse) error {
	h := resp.GetHolding()
	f := newFields(w)
	// The request's ids are shown because an empty holding may come back
	// without them.
	f.add("Account", req.GetAccountId())
	f.add("Right", req.GetRightId())
	f.add("Available", h.GetAvailable())
	f.add("Pledged", h.GetPledged())
	f.add("Frozen", h.GetFrozen())
	f.add("Reserved", h.GetReserved())
	f.add("Retired", h.GetRetired())
	f.add("Revision", resp.GetRevision())
	if err := f.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tSTART\tEND\tQUANTITY\tSERIAL")
	for _, r := range h.GetAvailableRanges() {
		writeRangeRow(tw, "available\t", r)
	}
	for _, r := range h.GetPledgedRanges() {
		writeRangeRow(tw, "pledged\t", r)
	}
	for _, r := range h.GetFrozenRanges() {
		writeRangeRow(tw, "frozen\t", r)
	}
	for _, r := range h.GetReservedRanges() {
		writeRangeRow(tw, "reserved\t", r)
	}
	for _, r := range h.GetRetiredRanges() {
		writeRangeRow(tw, "retired\t", r)
	}
	return tw.Flush()
}

func writeRangeRow(tw io.Writer, prefix string, r *ecov1.SerialRange) {
	fmt.Fprintf(tw, "%s%d\t%d\t%d\t%s\n", prefix, r.GetStart(), r.GetEnd(), rangeQuantity(r), r.GetSerial())
}

// writeMoved prints the serial blocks a transfer or retirement moved.
func writeMoved(w io.Writer, ranges []*ecov1.SerialRange) error {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tEND\tQUANTITY\tSERIAL")
	for _, r := range ranges {
		writeRangeRow(tw, "", r)
	}
	return tw.Flush()
}

func writeTransfer(w io.Writer, req *ecov1.TransferUnitsRequest, resp *ecov1.TransferUnitsResponse) error {
	f := newFields(w)
	f.add("Transfer", resp.GetTransferId())
	f.add("Right", req.GetRightId())
	f.add("From", req.GetFromAccountId())
	f.add("To", req.GetToAccountId())
	f.add("Quantity", resp.GetQuantity())
	if p := req.GetPrice(); p != nil {
		f.add("Price per unit", formatPrice(p))
	}
	f.addIf("Reference", req.GetReference())
	f.addIf("Replay", replayed(resp.GetReplay()))
	f.commit(resp.GetCommit())
	if err := f.flush(); err != nil {
		return err
	}
	return writeMoved(w, resp.GetRanges())
}

func writeRetirement(w io.Writer, req *ecov1.RetireUnitsRequest, resp *ecov1.RetireUnitsResponse) error {
	f := newFields(w)
	f.add("Retirement", resp.GetRetirementId())
	f.add("Right", req.GetRightId())
	f.add("Holder", req.GetHolderAccountId())
	f.add("Quantity", resp.GetQuantity())
	f.add("Purpose", retirementPurposes.nameOf(req.GetPurpose()))
	f.addIf("Compliance period", req.GetCompliancePeriod())
	f.addIf("Beneficiary", req.GetBeneficiary())
	f.addIf("Replay", replayed(resp.GetReplay()))
	f.commit(resp.GetCommit())
	if err := f.flush(); err != nil {
		return err
	}
	return writeMoved(w, resp.GetRanges())
}

// formatPrice shows a price in major units with its currency, e.g.
// "58.25 CNY (5825 minor units)".
func formatPrice(p *ecov1.Price) string {
	exp, ok := currencyExponents[p.GetCurrency()]
	if !ok {
		return strconv.FormatInt(p.GetAmountMinor(), 10) + " minor units of " + p.GetCurrency()
	}
	return fmt.Sprintf("%s %s (%d minor units)", formatDecimalExact(p.GetAmountMinor(), exp), p.GetCurrency(), p.GetAmountMinor())
}
