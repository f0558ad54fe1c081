package bootstrap

import (
	"fmt"
	"io"
	"sync"
	"time"

	logging "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/core/crypto"
	cryptopb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/vmdt/vmdt/dht/namerec"
)

var log = logging.Logger("vmdt/bootstrap")

// NotaryConfig configures a Notary. Zero values mean the defaults.
type NotaryConfig struct {
	// Dir is where claims are persisted; "" keeps them in memory.
	Dir string
	// MaxHold caps the hold a claim gets; default namerec.ClaimTTL
	// (7 days). It must be the same on every authority of a network.
	MaxHold time.Duration
	// MaxClaims caps the names held at once; default 1<<20. When full,
	// lapsed holds are dropped; if none lapsed, new names are refused.
	MaxClaims int
	// StreamTimeout bounds one request's whole exchange; default 10 s.
	StreamTimeout time.Duration
	// MaxConcurrent caps requests served at once; default 64. Streams
	// beyond it are reset.
	MaxConcurrent int
	// Now is the notary's clock; default time.Now. Tests only.
	Now func() time.Time
}

func (c *NotaryConfig) setDefaults() {
	if c.MaxHold <= 0 {
		c.MaxHold = namerec.ClaimTTL
	}
	if c.MaxClaims <= 0 {
		c.MaxClaims = 1 << 20
	}
	if c.StreamTimeout <= 0 {
		c.StreamTimeout = 10 * time.Second
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 64
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Notary countersigns username claims on namerec.NotaryProtocol.
type Notary struct {
	h    host.Host
	cfg  NotaryConfig
	priv crypto.PrivKey
	sem  chan struct{}

	mu     sync.Mutex // guards the fields below
	table  *claimTable
	store  *claimLog // nil when in memory
	closed bool
	wg     sync.WaitGroup // running handlers; Add under mu
}

// NewNotary serves name-claim countersigning on h, persisting claims under
// dir ("" keeps them in memory).
func NewNotary(h host.Host, dir string) (*Notary, error) {
	return NewNotaryWithConfig(h, NotaryConfig{Dir: dir})
}

// NewNotaryWithConfig is NewNotary with every setting.
func NewNotaryWithConfig(h host.Host, cfg NotaryConfig) (*Notary, error) {
	cfg.setDefaults()
	priv := h.Peerstore().PrivKey(h.ID())
	if priv == nil {
		return nil, fmt.Errorf("bootstrap: host %s has no private key in its peerstore", h.ID())
	}
	if priv.Type() != cryptopb.KeyType_Ed25519 {
		return nil, fmt.Errorf("bootstrap: notary key is %s: %w", priv.Type(), namerec.ErrUnsupportedKey)
	}
	n := &Notary{
		h:     h,
		cfg:   cfg,
		priv:  priv,
		sem:   make(chan struct{}, cfg.MaxConcurrent),
		table: newClaimTable(cfg.MaxClaims),
	}
	if cfg.Dir != "" {
		st, err := openClaimLog(cfg.Dir, n.table)
		if err != nil {
			return nil, fmt.Errorf("bootstrap: open claims: %w", err)
		}
		n.store = st
	}
	h.SetStreamHandler(namerec.NotaryProtocol, n.handle)
	return n, nil
}

// Close stops serving, waits for requests in progress and closes the
// claim log. It is idempotent.
func (n *Notary) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	n.mu.Unlock()
	n.h.RemoveStreamHandler(namerec.NotaryProtocol)
	n.wg.Wait()
	if n.store != nil {
		return n.store.close()
	}
	return nil
}

func (n *Notary) handle(s network.Stream) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		_ = s.Reset()
		return
	}
	n.wg.Add(1)
	n.mu.Unlock()
	defer n.wg.Done()

	select {
	case n.sem <- struct{}{}:
	default:
		_ = s.Reset()
		return
	}
	err := n.serve(s)
	// Free the slot before the client can see the end of the stream, so
	// that a client's next request finds it free.
	<-n.sem
	if err != nil {
		_ = s.Reset()
		return
	}
	_ = s.Close()
}

// serve reads one request from s before the deadline and writes the
// answer.
func (n *Notary) serve(s network.Stream) error {
	_ = s.SetDeadline(time.Now().Add(n.cfg.StreamTimeout))
	b, err := io.ReadAll(io.LimitReader(s, namerec.MaxRequestSize+1))
	if err != nil {
		return err
	}
	_, err = s.Write(n.Answer(b))
	return err
}

// Answer decides one encoded request and returns the encoded response,
// exactly as the stream handler would. A bootstrap node's own DHT uses it
// (dht.Config.LocalNotary) because a host cannot open a stream to itself.
func (n *Notary) Answer(req []byte) []byte {
	out, err := namerec.AppendResponse(nil, n.answer(req))
	if err != nil {
		log.Errorw("encode notary response", "error", err)
		out, _ = namerec.AppendResponse(nil, &namerec.Response{Status: namerec.StatusUnavailable, Reason: "internal error"})
	}
	return out
}

// answer decides one encoded request.
func (n *Notary) answer(b []byte) *namerec.Response {
	if len(b) > namerec.MaxRequestSize {
		return refuse(fmt.Sprintf("request over %d bytes", namerec.MaxRequestSize))
	}
	q, err := namerec.ParseRequest(b)
	if err != nil {
		return refuse(err.Error())
	}
	if err := q.VerifySig(n.h.ID()); err != nil {
		return refuse(err.Error())
	}
	return n.claim(q.Name, q.PubKey, q.Duration)
}

// claim decides a claim of name for the marshaled owner key ownerKey with a
// hold of d (capped at MaxHold), persists the outcome and countersigns it.
// The caller must have checked the owner's signature.
func (n *Notary) claim(name string, ownerKey []byte, d time.Duration) *namerec.Response {
	if d > n.cfg.MaxHold {
		d = n.cfg.MaxHold
	}
	now := n.cfg.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return &namerec.Response{Status: namerec.StatusUnavailable, Reason: "notary closing"}
	}
	dec := n.table.claim(name, string(ownerKey), d, now)
	switch dec.status {
	case namerec.StatusHeld:
		return &namerec.Response{Status: namerec.StatusHeld, HeldUntil: dec.until}
	case namerec.StatusUnavailable:
		return &namerec.Response{Status: namerec.StatusUnavailable, Reason: "notary holds too many names"}
	}
	if n.store != nil {
		if err := n.store.append(logEntry{name: name, h: hold{key: string(ownerKey), until: dec.until}}); err != nil {
			n.table.undo(name, dec)
			log.Errorw("persist claim", "name", name, "error", err)
			return &namerec.Response{Status: namerec.StatusUnavailable, Reason: "cannot persist the claim"}
		}
		if n.store.needsCompaction(len(n.table.holds)) {
			if err := n.store.compact(n.table, now); err != nil {
				log.Errorw("compact claim log", "error", err)
			}
		}
	}
	c, err := namerec.Countersign(n.priv, name, ownerKey, dec.until)
	if err != nil {
		// The hold stays: it is durable and harmless without a signature.
		log.Errorw("countersign", "name", name, "error", err)
		return &namerec.Response{Status: namerec.StatusUnavailable, Reason: "cannot sign"}
	}
	return &namerec.Response{Status: dec.status, Counter: c}
}

func refuse(reason string) *namerec.Response {
	b := []byte(reason)
	if len(b) > namerec.MaxReasonLen {
		b = b[:namerec.MaxReasonLen]
	}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return &namerec.Response{Status: namerec.StatusRefused, Reason: string(b)}
}
