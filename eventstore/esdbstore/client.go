package esdbstore

import (
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// client is one esdb.Client and the calls using it. The v4 client must not
// be closed while a call is starting on it (its Close races with the call
// and panics), so a client that is replaced or belongs to a closed store is
// closed by the last call that releases it.
type client struct {
	c       *esdb.Client
	users   int
	retired bool
}

// clients owns the store's current client and retires replaced ones.
type clients struct {
	config *esdb.Configuration

	mu     sync.Mutex
	cur    *client
	closed bool
}

func newClients(config *esdb.Configuration) (*clients, error) {
	c, err := esdb.NewClient(config)
	if err != nil {
		return nil, err
	}
	return &clients{config: config, cur: &client{c: c}}, nil
}

// acquire returns the current client for one call, or ErrClosed after
// close. The caller must release it.
func (cs *clients) acquire() (*client, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed {
		return nil, eventstore.ErrClosed
	}
	cs.cur.users++
	return cs.cur, nil
}

// release ends a call on c.
func (cs *clients) release(c *client) {
	cs.mu.Lock()
	c.users--
	done := c.retired && c.users == 0
	cs.mu.Unlock()
	if done {
		c.c.Close()
	}
}

// renew replaces old, if it is still current, with a new client, which
// starts discovery afresh: the v4 client gives up for good when discovery
// fails, and keeps a connection whose node went away when it does not see
// the failure as Unavailable. It reports whether old was replaced now.
func (cs *clients) renew(old *client) bool {
	cs.mu.Lock()
	if cs.closed || cs.cur != old {
		cs.mu.Unlock()
		return false
	}
	c, err := esdb.NewClient(cs.config)
	if err != nil {
		cs.mu.Unlock()
		return false
	}
	cs.cur = &client{c: c}
	done := cs.retire(old)
	cs.mu.Unlock()
	if done {
		old.c.Close()
	}
	return true
}

// retire marks c for closing and reports whether no call uses it, so that
// the caller closes it now (outside the lock).
func (cs *clients) retire(c *client) bool {
	c.retired = true
	return c.users == 0
}

// close stops handing out clients and closes the current one once no call
// uses it. It reports false when already closed.
func (cs *clients) close() bool {
	cs.mu.Lock()
	if cs.closed {
		cs.mu.Unlock()
		return false
	}
	cs.closed = true
	cur := cs.cur
	done := cs.retire(cur)
	cs.mu.Unlock()
	if done {
		cur.c.Close()
	}
	return true
}

// isClosed reports whether close was called.
func (cs *clients) isClosed() bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.closed
}
