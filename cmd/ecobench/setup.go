package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Quantities of the setup.
const (
	// issued is the quantity of each right.
	issued = 1_000_000_000_000
	// holdersPerRight is how many sellers hold units of each right.
	holdersPerRight = 5
)

// world is what the setup made: the run's id prefix, the holders of each
// right and the buyers, and how many loads it has had.
type world struct {
	run     string
	rights  []string
	holders [][]string
	buyers  []string
	// loads counts the load phases run on the world; each phase's trade
	// ids carry its number, so that a second phase does not resubmit the
	// first one's trades.
	loads int
}

// newWorld names the accounts and rights of a run whose ids start with
// run: accounts <run>-A00000 on, the first tenth (at least five) sellers;
// rights <run>-R0000 on, right r held by sellers r to r+4 (modulo the
// number of sellers). The baseline is loaded with these names without
// opening or registering anything.
func newWorld(run string, cfg config) (w *world, sellers []string, ids []string) {
	w = &world{run: run}
	nSellers := max(holdersPerRight, cfg.accounts/10)
	ids = make([]string, cfg.accounts)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-A%05d", w.run, i)
		if i < nSellers {
			sellers = append(sellers, ids[i])
		} else {
			w.buyers = append(w.buyers, ids[i])
		}
	}
	w.rights = make([]string, cfg.rights)
	w.holders = make([][]string, cfg.rights)
	for r := range w.rights {
		w.rights[r] = fmt.Sprintf("%s-R%04d", w.run, r)
		for k := range holdersPerRight {
			w.holders[r] = append(w.holders[r], sellers[(r+k)%len(sellers)])
		}
	}
	return w, sellers, ids
}

// newRunID is a prefix unique to a run, so that runs against one server
// do not collide.
func newRunID() string { return "B" + strconv.FormatInt(time.Now().UnixNano(), 36) }

// setUp opens the accounts and registers the rights of the world named
// after run, holdersPerRight holders each, with a few calls in flight at
// once.
func setUp(ctx context.Context, conn *grpc.ClientConn, run string, cfg config) (*world, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, "x-ecoregistry-actor", cfg.actor)
	w, _, ids := newWorld(run, cfg)
	accounts := pb.NewAccountServiceClient(conn)
	err := parallel(ctx, len(ids), func(ctx context.Context, i int) error {
		first17 := fmt.Sprintf("91420100MA4K%05d", i%100000)
		c, _ := domain.CreditCodeCheckCharacter(first17)
		_, err := accounts.OpenAccount(ctx, &pb.OpenAccountRequest{AccountId: ids[i], Jurisdiction: "420100", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
			Holder: &pb.Holder{Name: "Bench holder " + strconv.Itoa(i), Kind: pb.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: first17 + string(c)}})
		if err != nil {
			return fmt.Errorf("open account %s: %w", ids[i], err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rights := pb.NewRightServiceClient(conn)
	transfers := pb.NewTransferServiceClient(conn)
	y := time.Now().UTC().Year()
	err = parallel(ctx, cfg.rights, func(ctx context.Context, r int) error {
		_, err := rights.RegisterRight(ctx, &pb.RegisterRightRequest{RightId: w.rights[r], Type: pb.RightType_RIGHT_TYPE_CARBON_ALLOWANCE,
			Jurisdiction: "420000", Vintage: int32(y - 1), Quantity: issued, HolderAccountId: w.holders[r][0],
			Attributes: &pb.RegisterRightRequest_CarbonAllowance{CarbonAllowance: &pb.CarbonAllowanceAttributes{
				AllocatingProvince: "420000", Scheme: pb.CarbonScheme_CARBON_SCHEME_NATIONAL, AllocationMethod: pb.AllocationMethod_ALLOCATION_METHOD_FREE,
				CompliancePeriod: fmt.Sprintf("%d-%d", y-1, y)}}})
		if err != nil {
			return fmt.Errorf("register right %s: %w", w.rights[r], err)
		}
		for k, to := range w.holders[r][1:] {
			_, err := transfers.TransferUnits(ctx, &pb.TransferUnitsRequest{RightId: w.rights[r], TransferId: fmt.Sprintf("setup-%d", k),
				FromAccountId: w.holders[r][0], ToAccountId: to, Amount: &pb.TransferUnitsRequest_Quantity{Quantity: issued / holdersPerRight}})
			if err != nil {
				return fmt.Errorf("spread right %s: %w", w.rights[r], err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// parallel runs f for 0..n-1 with up to 32 calls at once and returns the
// first error.
func parallel(ctx context.Context, n int, f func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	sem := make(chan struct{}, 32)
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
